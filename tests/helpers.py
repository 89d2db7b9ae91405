"""Small helpers the tests share."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
from polars.io.plugins import register_io_source

from engine.count import CountResult


def counted_cells(result: CountResult) -> dict[tuple[str | None, str, bool], int]:
    """Counted rows per (gemeente, klantsoort, profiel)."""
    return {(g, k, p): int(n) for g, k, p, n in result.cells.iter_rows()}


class ScanRecorder:
    """A stand-in scan (a Polars IO plugin over a frame in memory) that records what the engine
    asks of it: the columns (projection pushdown) and the predicate (predicate pushdown) of
    every read, and how many rows it handed over. It asserts on what Polars does, not on the
    text of ``explain()``, which changes between Polars versions."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], pl.Expr | None, int]] = []

    def scan(self, data: pl.DataFrame) -> pl.LazyFrame:
        def io_source(
            with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
        ) -> Iterator[pl.DataFrame]:
            frame = data.filter(predicate) if predicate is not None else data
            frame = frame.select(with_columns) if with_columns is not None else frame
            frame = frame.head(n_rows) if n_rows is not None else frame
            self.calls.append((list(with_columns or data.columns), predicate, frame.height))
            yield frame

        return register_io_source(io_source, schema=data.schema)

    def columns(self) -> set[str]:
        """Every column read, by any scan."""
        return {c for columns, _, _ in self.calls for c in columns}
