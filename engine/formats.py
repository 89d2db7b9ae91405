"""Output formats of the publication table: the printed layout, CSV, Parquet and JSON."""

from __future__ import annotations

import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import IO

import polars as pl

from engine.errors import UsageError
from engine.layout import FIGURES, nl_int
from engine.output import write_bytes, write_text
from engine.reference import Difference


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"
    XLSX = "xlsx"


NAME_WIDTH = 34
FIGURE_WIDTH = 13
HEADERS = (
    ("Gemeentecliënten in Sonar", ("Profiel", "Geen profiel")),
    ("UWV-cliënten in Sonar", ("Profiel", "Geen profiel")),
)


def _figures_line(label: str, row: dict[str, object]) -> str:
    cells = "".join(f"{nl_int(int(row[f])):>{FIGURE_WIDTH}}" for f in (*FIGURES, "totaal"))  # type: ignore[call-overload]
    return f"{label:<{NAME_WIDTH}}{cells}"


def _header() -> list[str]:
    group = "".join(f"{title:>{2 * FIGURE_WIDTH}}" for title, _ in HEADERS)
    sub = "".join(f"{s:>{FIGURE_WIDTH}}" for _, subs in HEADERS for s in subs) + f"{'Totaal':>{FIGURE_WIDTH}}"
    return [" " * NAME_WIDTH + group, f"{'Gemeente':<{NAME_WIDTH}}" + sub]


def render_table(table: pl.DataFrame, title: str) -> str:
    """The publication's layout as plain text: a block per region, then onbekend and Nederland."""
    lines = [title, "", *_header()]
    region = None
    for row in table.iter_rows(named=True):
        niveau = row["niveau"]
        if niveau == "gemeente":
            if row["amr"] != region:
                region = row["amr"]
                lines += ["", f"{row['amr']} {row['arbeidsmarktregio']}"]
            lines.append(_figures_line("  " + row["gemeente"], row))
        elif niveau == "arbeidsmarktregio":
            lines.append(_figures_line("  Totaal AMR", row))
        elif niveau == "onbekend":
            lines += ["", _figures_line("Gemeente onbekend", row)]
        else:
            lines.append(_figures_line("Nederland", row))
    return "\n".join(lines)


#: A --reference mismatch shows this many differing cells, then a count of the rest.
SHOWN_DIFFERENCES = 20


def render_differences(name: str, differences: list[Difference], n_cells: int) -> str:
    if not differences:
        return f"Komt overeen met de officiële cijfers ({name}): alle {nl_int(n_cells)} cellen gelijk."
    lines = [
        f"Wijkt af van de officiële cijfers ({name}): {len(differences)} van {nl_int(n_cells)} cellen verschillen."
    ]
    lines += [
        f"  {d.where()}: {d.kolom} officieel {_opt(d.officieel)}, berekend {_opt(d.berekend)}"
        for d in differences[:SHOWN_DIFFERENCES]
    ]
    if len(differences) > SHOWN_DIFFERENCES:
        rest = len(differences) - SHOWN_DIFFERENCES
        hint = f"elke cel met zijn verschil: transparantie vergelijk {name} BESTAND"
        lines.append(f"  … en nog {nl_int(rest)} cellen; {hint}")
    return "\n".join(lines)


def _opt(n: int | None) -> str:
    return "(ontbreekt)" if n is None else nl_int(n)


def write_table(table: pl.DataFrame, fmt: str, output: Path | None) -> None:
    """CSV, Parquet, JSON or Excel with exactly the output columns. CSV/JSON go to stdout without --output.

    A file is written atomically (engine.output): complete, or not at all.
    """
    if fmt in ("parquet", "xlsx"):
        if output is None:
            raise UsageError(f"--format {fmt} heeft --output PAD nodig")
        buffer = io.BytesIO()
        if fmt == "parquet":
            table.write_parquet(buffer)
        else:
            write_excel(table, buffer)
        write_bytes(output, buffer.getvalue(), option="--output")
    elif fmt == "csv":
        text = table.write_csv()
        _emit(text, output)
    elif fmt == "json":
        _emit(table.write_json() + "\n", output)
    else:
        raise ValueError(fmt)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(output, text, option="--output")


def write_excel(table: pl.DataFrame, output: Path | IO[bytes]) -> None:
    """One sheet in the output columns, Dutch number format, header frozen, totals in bold."""
    bold = {"bold": True}
    table.write_excel(
        output,
        worksheet="Transparantie",
        table_style="Table Style Light 1",
        dtype_formats={pl.Int64: "#,##0"},
        conditional_formats={
            "niveau": [
                {"type": "cell", "criteria": "!=", "value": '"gemeente"', "format": bold},
            ]
        },
        freeze_panes="A2",
        autofit=True,
    )
