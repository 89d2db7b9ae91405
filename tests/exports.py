"""The same client records as the exports analysts really have (tests/test_exports.py).

Every writer here uses a maintained library (Polars, xlsxwriter, pyreadstat, gzip, zipfile);
each variant holds exactly the records of :func:`base`, so each must count to the same table.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import polars as pl

from engine.contract import BOOL_COLUMNS, DATE_COLUMNS, LIST_COLUMNS, TAAKSOORT_COLUMNS

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "clients-2025q2.parquet"
ROWS = 4000


def base() -> pl.DataFrame:
    """4.000 calibrated records: null dates, null flags, null, empty and blank lists."""
    return pl.read_parquet(SAMPLE).head(ROWS)


def as_text(
    frame: pl.DataFrame,
    *,
    date_format: str = "%Y-%m-%d",
    true: str = "true",
    false: str = "false",
    null: str | None = None,
    lists: str = "puntkomma",
) -> pl.DataFrame:
    """Every column as text, the way an export writes it."""

    def text_list(column: str) -> pl.Expr:
        items = pl.col(column)
        if lists == "json":
            joined = pl.concat_str(
                pl.lit("["), items.list.eval(pl.format('"{}"', pl.element())).list.join(", "), pl.lit("]")
            )
        elif lists == "python":
            joined = pl.concat_str(
                pl.lit("["), items.list.eval(pl.format("'{}'", pl.element())).list.join(", "), pl.lit("]")
            )
        else:
            joined = items.list.join(";")
        return joined

    columns = [
        *(pl.col(c).dt.strftime(date_format).alias(c) for c in DATE_COLUMNS),
        *(pl.when(pl.col(c)).then(pl.lit(true)).when(~pl.col(c)).then(pl.lit(false)).alias(c) for c in BOOL_COLUMNS),
        *(text_list(c).alias(c) for c in LIST_COLUMNS),
    ]
    out = frame.with_columns(columns)
    if null is not None:
        out = out.with_columns(pl.all().fill_null(null))
    return out


def dutch_excel_csv(frame: pl.DataFrame, path: Path) -> Path:
    """Dutch Excel's "CSV": ';', Windows-1252, CRLF, dd-mm-jjjj, WAAR/ONWAAR, headers in capitals,
    one with a trailing space, a blank line in the middle and two at the end."""
    text = as_text(frame, date_format="%d-%m-%Y", true="WAAR", false="ONWAAR")
    renamed = {c: c.upper() for c in text.columns}
    renamed["gemeente"] = "Gemeente "
    renamed["indicering_begin"] = "Indicering Begin"
    body = text.rename(renamed).write_csv(separator=";", line_terminator="\r\n")
    lines = body.split("\r\n")
    lines.insert(len(lines) // 2, "")
    path.write_bytes(("\r\n".join(lines) + "\r\n\r\n").encode("cp1252"))
    return path


def warehouse_dump(frame: pl.DataFrame, path: Path) -> Path:
    """A SQL Server dump: NULL for no value, open einde as 9999-12-31 00:00:00, datetime text,
    JSON lists, booleans 1/0, gemeente as CBS code where there is one."""
    codes = pl.read_csv(Path(__file__).resolve().parents[1] / "engine" / "reference" / "gemeentecodes-2025.csv")
    with_code = (
        frame.join(codes.select("gemeente", "code"), on="gemeente", how="left")
        .with_columns(pl.coalesce("code", "gemeente").alias("gemeente"))
        .drop("code")
    )
    open_rows = with_code.with_columns(
        pl.when(pl.col("indicering_einde").is_null() & pl.col("indicering_begin").is_not_null())
        .then(pl.date(9999, 12, 31))
        .otherwise(pl.col("indicering_einde"))
        .alias("indicering_einde")
    )
    text = as_text(open_rows, date_format="%Y-%m-%d 00:00:00", true="1", false="0", null="NULL", lists="json")
    text.write_csv(path)
    return path


def python_lists_csv(frame: pl.DataFrame, path: Path) -> Path:
    """A script's export: Python list text, TAB-separated, UTF-8 with BOM, jjjjmmdd dates."""
    text = as_text(frame, date_format="%Y%m%d", lists="python")
    path.write_bytes(b"\xef\xbb\xbf" + text.write_csv(separator="\t").encode("utf-8"))
    return path


def plain_csv(frame: pl.DataFrame, path: Path) -> Path:
    as_text(frame).write_csv(path)
    return path


def gzip_csv(frame: pl.DataFrame, path: Path) -> Path:
    path.write_bytes(gzip.compress(as_text(frame).write_csv().encode("utf-8")))
    return path


def zip_csv(frame: pl.DataFrame, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/clients.csv", as_text(frame).write_csv())
    return path


def xlsx(frame: pl.DataFrame, path: Path) -> Path:
    """Excel: dates as date cells, booleans as TRUE/FALSE cells, lists as ';'-text."""
    frame.with_columns(pl.col(c).list.join(";") for c in LIST_COLUMNS).write_excel(path, worksheet="Clienten")
    return path


def parquet_parts(frame: pl.DataFrame, path: Path) -> Path:
    """A directory of hive-partitioned Parquet parts, as Spark or a warehouse writes it."""
    frame.with_columns((pl.int_range(pl.len()) % 3).alias("deel")).write_parquet(path, partition_by="deel")
    return path


def _statistical(frame: pl.DataFrame):  # noqa: ANN202 - a pandas frame
    """SPSS/Stata/SAS have no lists and no booleans: lists as ';'-text, flags as 1.0/0.0."""
    out = frame.with_columns(
        *(pl.col(c).list.join(";").fill_null("") for c in LIST_COLUMNS),
        *(pl.col(c).cast(pl.Float64) for c in BOOL_COLUMNS),
        *(pl.col(c).fill_null("") for c in ("gemeente", "status", "indicering", *TAAKSOORT_COLUMNS)),
        *(pl.col(c).cast(pl.Datetime("us")) for c in DATE_COLUMNS),
    )
    return out.to_pandas()


def spss(frame: pl.DataFrame, path: Path) -> Path:
    import pyreadstat

    pyreadstat.write_sav(_statistical(frame), str(path))
    return path


def stata(frame: pl.DataFrame, path: Path) -> Path:
    import pyreadstat

    pyreadstat.write_dta(_statistical(frame), str(path))
    return path


def sas_transport(frame: pl.DataFrame, path: Path) -> Path:
    import pyreadstat

    pyreadstat.write_xport(_statistical(frame), str(path), file_format_version=8, table_name="CLIENTS")
    return path
