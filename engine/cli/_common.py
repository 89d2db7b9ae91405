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
from engine.rules import DEFAULT_RULES

err = Console(stderr=True, soft_wrap=True, highlight=False)

InputFile = Annotated[Path, typer.Argument(help="Client records: Parquet, or CSV with the same columns.")]
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
