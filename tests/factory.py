"""Tiny hand-built client records for tests: one valid, counted client, and overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from engine.contract import LIST_COLUMNS, TAAKSOORT_COLUMNS

LIST_TYPE = pl.List(pl.String)
SCHEMA: dict[str, pl.DataType] = {
    "client_id": pl.String(),
    "gemeente": pl.String(),
    "status": pl.String(),
    "indicering": pl.String(),
    "indicering_begin": pl.Date(),
    "indicering_einde": pl.Date(),
    "doelgroepregister": pl.Boolean(),
    "banenafspraak": pl.Boolean(),
    "beschut_wsw": pl.Boolean(),
    **{c: LIST_TYPE for c in LIST_COLUMNS},
    **{c: pl.String() for c in TAAKSOORT_COLUMNS},
}


def client(client_id: str = "c1", **overrides: Any) -> dict[str, Any]:
    """A client that is counted: gemeente Assen, UWV (Wajong), profiel ja."""
    record: dict[str, Any] = {
        "client_id": client_id,
        "gemeente": "Assen",
        "status": "ingeschreven",
        "indicering": "Wajong",
        "indicering_begin": date(2024, 1, 1),
        "indicering_einde": None,
        "doelgroepregister": True,
        "banenafspraak": True,
        "beschut_wsw": False,
        "opleiding": ["mbo 2"],
        "vaardigheden": None,
        "competenties": None,
        "affiniteiten": ["dieren"],
        "beroepssectoren": ["groen"],
        **{c: None for c in TAAKSOORT_COLUMNS},
        "taaksoort_01": "ja",
    }
    record.update(overrides)
    return record


def frame(records: list[dict[str, Any]], schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    return pl.DataFrame(records, schema=schema or SCHEMA, orient="row") if records else pl.DataFrame(schema=SCHEMA)


def write_parquet(records: list[dict[str, Any]], path: Path, schema: dict[str, pl.DataType] | None = None) -> Path:
    frame(records, schema).write_parquet(path)
    return path
