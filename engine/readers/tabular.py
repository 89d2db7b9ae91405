"""Excel, SAS, SPSS and Stata files: read whole by their maintained readers.

Excel through Polars' ``read_excel`` on fastexcel (calamine), every cell as text, so a
column is decided by the same rules as a CSV column (a date cell reads as
``2024-03-31 00:00:00``, whose time part is dropped). SAS (``.sas7bdat``, ``.xpt``), SPSS
(``.sav``, ``.zsav``) and Stata (``.dta``) through pyreadstat, value labels applied where
the format has them; their dates arrive as dates, their numbers as floats (``engine.values``
reads 1.0/0.0 as booleans and 363.0 as the code 363).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from engine.errors import FileError


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
    try:
        frame = pl.read_excel(path, sheet_name=chosen, engine="calamine", infer_schema_length=0)
    except Exception as exc:
        raise FileError(f"kan blad '{chosen}' van {name} niet lezen: {_first_line(exc)}") from None
    return frame, chosen


def read_statistical(path: Path, name: str, kind: str) -> pl.DataFrame:
    try:
        import pyreadstat
    except ImportError:  # pragma: no cover - a core dependency
        raise FileError("SAS/SPSS/Stata lezen vraagt het pakket pyreadstat (pip install pyreadstat)") from None
    suffix = path.suffix.lower()
    try:
        if kind == "spss":
            frame, _ = pyreadstat.read_sav(str(path), output_format="polars", apply_value_formats=True)
        elif kind == "stata":
            frame, _ = pyreadstat.read_dta(str(path), output_format="polars", apply_value_formats=True)
        elif suffix == ".sas7bdat":
            frame, _ = pyreadstat.read_sas7bdat(str(path), output_format="polars")
        else:
            frame, _ = pyreadstat.read_xport(str(path), output_format="polars")
    except Exception as exc:
        raise FileError(f"kan {name} niet lezen als {kind.upper()}-bestand: {_first_line(exc)}") from None
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
