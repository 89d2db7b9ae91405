"""Opening an input file lazily: Parquet or CSV, with a clear error for anything else."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.errors import FileError

PARQUET_MAGIC = b"PAR1"
#: Parquet key-value metadata that marks a file written by `transparantie prepare`.
PREPARED_KEY = "transparantie.prepared"


@dataclass(frozen=True)
class Source:
    """A lazily scanned input file and its schema (read from the footer/header only)."""

    path: Path
    format: str  # "parquet" | "csv" | "frame" | "prepared"
    frame: pl.LazyFrame
    schema: pl.Schema
    prepared: dict[str, str] | None = None  # provenance of a prepared file, else None


def frame_source(frame: pl.LazyFrame | pl.DataFrame, name: str = "<frame>") -> Source:
    """An in-memory frame as a source: for tests and for callers that already hold the data."""
    lazy = frame.lazy()
    return Source(path=Path(name), format="frame", frame=lazy, schema=lazy.collect_schema())


def open_source(path: Path | str) -> Source:
    path = Path(path)
    if not path.exists():
        raise FileError(f"input file not found: {path}")
    if path.is_dir():
        raise FileError(f"input is a directory, not a file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise FileError(f"input file is empty (0 bytes): {path}")
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(PARQUET_MAGIC):
        source = _scan(path, "parquet", pl.scan_parquet(path))
        meta = pl.read_parquet_metadata(path)
        if PREPARED_KEY in meta:
            return Source(path, "prepared", source.frame, source.schema, json.loads(meta[PREPARED_KEY]))
        return source
    if path.suffix.lower() == ".parquet":
        raise FileError(f"{path} has a .parquet name but is not a Parquet file (no PAR1 header)")
    if not _looks_like_text(head):
        raise FileError(f"{path} is neither Parquet nor CSV (it looks binary)")
    # CSV: every column is read as text; the contract types it (engine.contract).
    return _scan(path, "csv", pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy"))


def _scan(path: Path, fmt: str, frame: pl.LazyFrame) -> Source:
    try:
        schema = frame.collect_schema()
    except Exception as exc:  # polars raises ComputeError, OSError, ... for a broken file
        raise FileError(f"cannot read {path} as {fmt}: {_first_line(exc)}") from None
    if fmt == "csv" and len(schema) <= 1 and "client_id" not in schema:
        raise FileError(f"{path} is not a CSV file with a header row of the input contract's columns")
    return Source(path=path, format=fmt, frame=frame, schema=schema)


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 4096-byte boundary is still text.
        return exc.start >= len(head) - 3
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
