"""DuckDB runs the very same rule text (engine.sql) and must produce the engine's table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from engine.count import count_file
from engine.indeling import default_indeling
from engine.layout import publication_table
from engine.rules import select_ruleset
from engine.sql import cells_sql, normalised_from_parquet
from tests.factory import client, write_parquet

RECORDS = [
    client("a"),
    client("b", gemeente="Den Haag", indicering=" BIJSTAND", affiniteiten=["  "]),
    client("c", gemeente="Sudwest-Fryslan", indicering="nug", taaksoort_01=None, taaksoort_17="nee"),
    client("d", status="Uitgeschreven"),
    client("e", indicering_einde=date(2025, 7, 1)),
    client("f", banenafspraak=False, beschut_wsw=True),
    client("g", gemeente=None, beroepssectoren=[None]),
    client("h", doelgroepregister=None),
    client("i", indicering_begin=date(2025, 7, 1)),
]


def duckdb_table(path: Path, rules: str, peildatum: date | None) -> pl.DataFrame:
    ruleset = select_ruleset(rules, peildatum)
    sql = cells_sql(normalised_from_parquet(str(path), default_indeling(), peildatum), ruleset, peildatum)
    cells = duckdb.sql(sql).pl().with_columns(pl.col("n").cast(pl.UInt32))
    return publication_table(cells, default_indeling())


@pytest.mark.parametrize("rules", ["teldefinitie", "teldefinitie-inclusief-beschut"])
@pytest.mark.parametrize("peildatum", [None, date(2025, 6, 30)])
def test_duckdb_counts_like_the_engine(rules: str, peildatum: date | None, tmp_path: Path) -> None:
    path = write_parquet(RECORDS, tmp_path / "x.parquet")
    engine = count_file(path, rules=rules, peildatum=peildatum).table
    peer = duckdb_table(path, rules, peildatum)
    assert peer.equals(engine)
    assert engine.filter(pl.col("niveau") == "nederland")["totaal"].item() >= 4
