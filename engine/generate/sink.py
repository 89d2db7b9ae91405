"""Streaming chunks to a file: Parquet (the default) or CSV (when the name ends in ``.csv``).

A chunk is encoded by the thread that built it (CSV) and appended as soon as the chunks before
it are, so memory does not grow with the file (engine.generate.run keeps at most a few chunks).
The file is written under a temporary name and moved onto its own only when complete
(:func:`atomic_output`).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import BinaryIO, Protocol, TypeAlias

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from engine.contract import CSV_LIST_SEPARATOR, LIST_COLUMNS, TAAKSOORT_COLUMNS
from engine.output import atomic_path

# Parquet, written by pyarrow's ParquetWriter with fixed options, so that the same tables give
# the same bytes (only pyarrow's version, in the footer's created_by, and its encoder change them):
# * one row group per chunk (524,288 rows): large enough for efficient column reads and small
#   metadata even at 100M rows (~190 row groups), small enough that readers scan row groups in
#   parallel and keep their memory bounded;
# * dictionary encoding for every column but client_id: the generator's columns are Arrow
#   dictionary arrays, which pyarrow writes as dictionary pages as they are (no hashing);
# * client_id (all distinct, all 12 bytes) as DELTA_LENGTH_BYTE_ARRAY: a dictionary cannot pay,
#   and it is a little smaller and faster to write than PLAIN;
# * zstd level 1 (measured on 5M rows: 83 MB against 113 MB for snappy and 119 MB for lz4, for
#   5% more write time and no slower scans);
# * min / max / null-count statistics only on the scalar columns a filter could prune on;
# * no stored Arrow schema (store_schema=False): readers see plain string columns, not
#   dictionary or categorical types, exactly the contract's types;
# * write_batch_size 64Ki rows: ~8% less CPU than the default 1,024 (measured on 2M rows).
STATISTICS = ("gemeente", "status", "indicering", "indicering_begin", "indicering_einde")
COMPRESSION_LEVEL = 1
WRITE_BATCH_ROWS = 1 << 16
PLAIN_COLUMNS = ("client_id",)


def parquet_options(schema: pa.Schema) -> dict[str, object]:
    """pyarrow.parquet.ParquetWriter's options for a file of ``schema``. Options take leaf
    paths: a list column's values are ``NAME.list.element``."""
    leaves = [f"{f.name}.list.element" if pa.types.is_list(f.type) else f.name for f in schema]
    return {
        "compression": "zstd",
        "compression_level": COMPRESSION_LEVEL,
        "use_dictionary": [leaf for leaf in leaves if leaf not in PLAIN_COLUMNS],
        "column_encoding": {name: "DELTA_LENGTH_BYTE_ARRAY" for name in PLAIN_COLUMNS if name in schema.names},
        "write_statistics": [name for name in STATISTICS if name in schema.names],
        "store_schema": False,
        "write_batch_size": WRITE_BATCH_ROWS,
    }


def atomic_output(out: Path) -> contextlib.AbstractContextManager[Path]:
    """A temporary path beside ``out``, moved onto it when complete: the project's one atomic
    writer (engine.output.atomic_path), so a failed or killed run leaves ``out`` as it was."""
    return atomic_path(out, option="UITVOER")


class Sink(Protocol):
    """Chunks are encoded (in any thread, in any order) and then appended in order."""

    def encode(self, table: pa.Table) -> Encoded: ...

    def append(self, encoded: Encoded) -> None: ...

    def close(self) -> None: ...


Encoded: TypeAlias = "pa.Table | bytes"


class ParquetSink:
    """pyarrow encodes a row group while appending it (without the GIL, so the other threads
    go on building chunks); there is nothing to encode beforehand."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(str(path), schema, **parquet_options(schema))  # type: ignore[arg-type]

    def encode(self, table: pa.Table) -> Encoded:
        return table

    def append(self, encoded: Encoded) -> None:
        assert isinstance(encoded, pa.Table)
        self._writer.write_table(encoded, row_group_size=max(1, encoded.num_rows))

    def close(self) -> None:
        self._writer.close()


class CsvSink:
    """CSV as the contract reads it: a list is one ``;``-separated string, dates ISO,
    booleans ``true``/``false``, null an empty field. The header is written first, so a file
    without rows still has the contract's columns."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._handle: BinaryIO = path.open("wb")
        self._handle.write(_csv(schema.empty_table(), header=True))

    def encode(self, table: pa.Table) -> Encoded:
        return _csv(table, header=False)

    def append(self, encoded: Encoded) -> None:
        assert isinstance(encoded, bytes)
        self._handle.write(encoded)

    def close(self) -> None:
        self._handle.close()


def _csv(table: pa.Table, *, header: bool) -> bytes:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(
        *(pl.col(c).cast(pl.List(pl.String)).list.join(CSV_LIST_SEPARATOR) for c in LIST_COLUMNS),
        *(pl.col(c).cast(pl.String) for c in TAAKSOORT_COLUMNS),
    )
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=header)
    return buffer.getvalue()


def output_format(out: Path) -> str:
    """CSV when the name ends in ``.csv``, else Parquet."""
    return "csv" if out.suffix.lower() == ".csv" else "parquet"


def open_sink(path: Path, fmt: str, schema: pa.Schema) -> Sink:
    return CsvSink(path, schema) if fmt == "csv" else ParquetSink(path, schema)
