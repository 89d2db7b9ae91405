"""Excel, SAS, SPSS and Stata files: read whole by their maintained readers.

Excel through Polars' ``read_excel`` on fastexcel (calamine), every cell as text, so a
column is decided by the same rules as a CSV column (a date cell reads as
``2024-03-31 00:00:00``, whose time part is dropped). SAS (``.sas7bdat``, ``.xpt``), SPSS
(``.sav``, ``.zsav``) and Stata (``.dta``) through pyreadstat, value labels applied where
the format has them; their dates arrive as dates, their numbers as floats (``engine.values``
reads 1.0/0.0 as booleans and 363.0 as the code 363).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import polars as pl

from engine.errors import FileError
from engine.values import as_text


def read_excel(path: Path, name: str, sheet: str | None) -> tuple[pl.DataFrame, str]:
    try:
        import fastexcel
    except ImportError:  # pragma: no cover - a core dependency
        raise FileError("Excel lezen vraagt het pakket fastexcel (pip install fastexcel)") from None
    try:
        workbook = fastexcel.read_excel(path)
    except Exception as exc:
        raise FileError(f"kan {name} niet lezen als Excel: {_first_line(exc)}") from None
    sheets = workbook.sheet_names
    if not sheets:
        raise FileError(f"{name}: de werkmap heeft geen bladen")
    chosen = sheet if sheet is not None else sheets[0]
    if chosen not in sheets:
        raise FileError(f"{name}: geen blad '{chosen}'; de bladen zijn: {', '.join(sheets)}")
    empty = f"{name}: blad '{chosen}' is leeg; de bladen zijn: {', '.join(sheets)} (kies er een met --blad)"
    try:
        frame = pl.read_excel(path, sheet_name=chosen, engine="calamine", infer_schema_length=0)
    except Exception as exc:
        if "empty" in str(exc).lower():
            raise FileError(empty) from None
        raise FileError(f"kan blad '{chosen}' van {name} niet lezen: {_first_line(exc)}") from None
    if frame.width == 0:
        raise FileError(empty)
    return frame, chosen


def read_statistical(path: Path, name: str, kind: str) -> pl.DataFrame:
    try:
        import pyreadstat
    except ImportError:  # pragma: no cover - a core dependency
        raise FileError("SAS/SPSS/Stata lezen vraagt het pakket pyreadstat (pip install pyreadstat)") from None
    readers: dict[str, Any] = {
        "spss": pyreadstat.read_sav,
        "stata": pyreadstat.read_dta,
        "sas": pyreadstat.read_sas7bdat if path.suffix.lower() == ".sas7bdat" else pyreadstat.read_xport,
    }
    read = readers[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyreadstat warns about labels it cannot apply; we apply them
            frame, meta = read(str(path), output_format="polars")
    except Exception as exc:
        raise FileError(f"kan {name} niet lezen als {kind.upper()}-bestand: {_first_line(exc)}") from None
    return with_value_labels(frame, getattr(meta, "variable_value_labels", None) or {})


def with_value_labels(frame: pl.DataFrame, labels: dict[str, dict[object, str]]) -> pl.DataFrame:
    """Each labelled column as text, its codes replaced by their labels (a yes/no column with
    labels Ja/Nee reads as Ja/Nee; a code without a label stays the code, as text)."""
    columns = []
    for column, mapping in labels.items():
        if column not in frame.columns or not mapping:
            continue
        codes = pl.Series(list(mapping))
        keys = pl.select(as_text(pl.lit(codes), codes.dtype)).to_series()  # 1.0 -> "1", as the column reads
        text = as_text(pl.col(column), frame.schema[column])
        columns.append(text.replace(keys, pl.Series(list(mapping.values()), dtype=pl.String)).alias(column))
    return frame.with_columns(columns) if columns else frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
