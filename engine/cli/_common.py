"""What every command shares: option types, error handling and the console."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console

from engine.count import OnInvalid
from engine.errors import EXIT_INPUT_ERROR, TransparantieError
from engine.readers import ReadOptions
from engine.rules import DEFAULT_RULES

err = Console(stderr=True, soft_wrap=True, highlight=False)

InputFile = Annotated[
    Path,
    typer.Argument(
        help="Cliëntrecords: Parquet, CSV (ook .gz/.zip), Excel, SPSS, Stata of SAS; een map met delen, een "
        "patroon ('delen/*.csv') of - voor standaardinvoer.",
        show_default=False,
    ),
]
InputFiles = Annotated[
    list[Path],
    typer.Argument(
        help="Cliëntrecords: Parquet, CSV (ook .gz/.zip), Excel (.xlsx/.xls), SPSS (.sav), Stata (.dta) of SAS "
        "(.sas7bdat/.xpt); meerdere bestanden, een map met delen of een patroon worden één invoer; - leest "
        "standaardinvoer. Parquet en CSV worden gestroomd, de andere formaten in hun geheel gelezen.",
        show_default=False,
    ),
]
_READ = "Invoer lezen"
Scheidingsteken = Annotated[
    str | None,
    typer.Option(help="CSV: het scheidingsteken (, ; | of tab); standaard herkend.", rich_help_panel=_READ),
]
Encoding = Annotated[
    str | None,
    typer.Option(help="CSV: de codering (utf-8 of cp1252); standaard herkend.", rich_help_panel=_READ),
]
Blad = Annotated[str | None, typer.Option(help="Excel: het werkblad; standaard het eerste.", rich_help_panel=_READ)]
Kolommen = Annotated[
    Path | None,
    typer.Option(
        help='TOML-bestand met afwijkende kolomnamen: \\[kolommen] "Naam in export" = "client_id".',
        rich_help_panel=_READ,
    ),
]
Datumformaat = Annotated[
    list[str] | None,
    typer.Option(
        help="Datumformaat van tekstdatums, voor alle datumkolommen (dd-mm-jjjj) of per kolom "
        "(indicering_begin=dd-mm-jjjj); standaard per kolom herkend. Herhaalbaar.",
        rich_help_panel=_READ,
    ),
]


def read_options(
    scheidingsteken: str | None,
    encoding: str | None,
    blad: str | None,
    kolommen: Path | None,
    datumformaat: list[str] | None,
) -> ReadOptions:
    return ReadOptions(scheidingsteken, encoding, blad, kolommen, tuple(datumformaat or ()))


Peildatum = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="Count indiceringen open on this date (YYYY-MM-DD) instead of open now; also picks the rule version.",
    ),
]
Rules = Annotated[str, typer.Option(help="Rule set name (see `transparantie rules`) or path to a rule file.")]
DEFAULT_RULES_OPTION = DEFAULT_RULES
OnInvalidOption = Annotated[OnInvalid, typer.Option(help="What to do with rows that break the contract.")]
QuarantineOption = Annotated[
    Path | None, typer.Option(help="Parquet file for rejected rows (with --on-invalid quarantine).")
]


def as_date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def say(text: str) -> None:
    """A message for the user on stderr, so stdout stays clean for data."""
    err.print(text, markup=False)


@contextmanager
def guarded(input_path: Path | None = None) -> Iterator[None]:
    """Turn user errors into a message on stderr and a non-zero exit, never a traceback."""
    try:
        yield
    except TransparantieError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        # Raised while streaming a file whose footer looked fine but whose body is broken.
        where = f" {input_path}" if input_path else ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(f"error: cannot read{where}: {first}", markup=False)
        raise typer.Exit(EXIT_INPUT_ERROR) from None


def write_stdout(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
