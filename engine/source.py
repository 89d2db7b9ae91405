"""The input as the engine sees it: one lazy frame in the contract's column names.

:func:`open_source` takes one path, several, a glob, a directory of parts or ``-``;
``engine.readers`` decides how each file is read. A frame already in memory becomes a
source through :func:`frame_source`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from engine.readers import ReadOptions, ReadPlan

#: Parquet key-value metadata that marks a file written by `transparantie prepare`.
PREPARED_KEY = "transparantie.prepared"


@dataclass(frozen=True)
class Source:
    """A lazily read input and its schema (read from the footer/header only)."""

    path: Path  # as the user named it (the first input, when there are several)
    format: str  # "parquet" | "csv" | "excel" | "spss" | "stata" | "sas" | "frame" | "prepared"
    frame: pl.LazyFrame
    schema: pl.Schema
    prepared: dict[str, str] | None = None  # provenance of a prepared file, else None
    plan: ReadPlan | None = None  # how it is read: for inspect
    datumformaten: dict[str, str] = field(default_factory=dict)  # text date column -> format name
    keep: tuple[Any, ...] = field(default=(), repr=False)  # temporary copies live as long as the source


def frame_source(frame: pl.LazyFrame | pl.DataFrame, name: str = "<frame>") -> Source:
    """An in-memory frame as a source: for tests and for callers that already hold the data."""
    lazy = frame.lazy()
    return Source(path=Path(name), format="frame", frame=lazy, schema=lazy.collect_schema())


def open_source(inputs: str | Path | Sequence[str | Path], options: ReadOptions | None = None) -> Source:
    from engine.readers import open_input

    return open_input(inputs, options)


def size_of(source: Source) -> tuple[int | None, int | None]:
    """How many records (known without reading them: a Parquet footer) and how many bytes the
    input has, as far as known: for the progress bar (engine.progress)."""
    parts = source.plan.parts if source.plan is not None else []
    sizes = [p.path.stat().st_size for p in parts if p.path.is_file()]
    rows = None
    if source.format == "parquet":
        rows = int(source.frame.select(pl.len()).collect().item())
    return rows, (sum(sizes) if sizes else None)
