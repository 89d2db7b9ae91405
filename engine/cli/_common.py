"""What every command shares: option types, error handling and the console."""

from __future__ import annotations

import glob
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console

from engine.errors import EXIT_INPUT_ERROR, EXIT_INTERNAL, InternalError, TransparantieError, capped
from engine.layout import Niveau
from engine.outcome import OnInvalid
from engine.output import blame, check_outputs
from engine.progress import Voortgang, kies
from engine.readers import ReadOptions
from engine.rules import DEFAULT_RULES

err = Console(stderr=True, soft_wrap=True, highlight=False)

InputFile = Annotated[
    Path,
    typer.Argument(
        help="Cliëntrecords: Parquet, CSV (ook .gz/.zip), Excel, SPSS, Stata of SAS; een map met delen, een "
        "patroon ('delen/*.csv') of - voor standaardinvoer.",
        show_default=False,
        metavar="BESTAND",
    ),
]
InputFiles = Annotated[
    list[Path],
    typer.Argument(
        help="Cliëntrecords: Parquet, CSV (ook .gz/.zip), Excel (.xlsx/.xls), SPSS (.sav), Stata (.dta) of SAS "
        "(.sas7bdat/.xpt); meerdere bestanden, een map met delen of een patroon worden één invoer; - leest "
        "standaardinvoer. Parquet en CSV worden gestroomd, de andere formaten in hun geheel gelezen.",
        show_default=False,
        metavar="BESTAND",
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
        help="Tel de indiceringen die op deze datum (JJJJ-MM-DD) open zijn in plaats van nu; kiest ook de "
        "versie van de regels.",
    ),
]
Rules = Annotated[
    str, typer.Option(help="Naam van de regels (zie `transparantie rules`) of pad naar een regelbestand.")
]
DEFAULT_RULES_OPTION = DEFAULT_RULES
OnInvalidOption = Annotated[OnInvalid, typer.Option(help="Wat te doen met rijen die het invoercontract breken.")]
QuarantineOption = Annotated[
    Path | None, typer.Option(help="Parquet-bestand voor de afgewezen rijen (met --on-invalid quarantine).")
]
AllowBsnOption = Annotated[
    bool,
    typer.Option(
        "--sta-bsn-toe",
        help="Sla de BSN-controle (elfproef op client_id) over. Alleen binnen de beveiligde omgeving van UWV, "
        "op gegevens die die omgeving nooit verlaten.",
    ),
]


def parse_niveau(text: str) -> Niveau:
    """``--niveau``: nederland, arbeidsmarktregio or gemeente (any case); the former value ``amr``
    still means arbeidsmarktregio."""
    try:
        return Niveau(text)
    except ValueError:
        choices = ", ".join(n.value for n in Niveau)
        raise ValueError(f"{text!r} is geen keuze; kies uit {choices}") from None


def niveau_option(help: str) -> Any:
    """The ``--niveau`` option of funnel and profiel (Typer checks it with :func:`parse_niveau`)."""
    return typer.Option(help=help, parser=parse_niveau, metavar="|".join(n.value for n in Niveau))


Stil = Annotated[bool, typer.Option("--stil", help="Geen voortgangsbalk, ook niet in een terminal.")]


def voortgang_opties(stil: bool) -> Voortgang:
    """The progress settings of this run (engine.progress.Voortgang): stored for the engine's
    long work, which reads them with ``engine.progress.gekozen()`` and opens its bar with
    ``with gekozen().balk("Tellen", totaal, groot=is_groot(rijen=..., bytes=...)) as tik:``;
    also returned, for an engine function that takes them as a keyword."""
    return kies(Voortgang(stil=stil))


#: Longest line of an error message; values in it are capped shorter (engine.errors.shown).
MAX_LINE = 1000


def as_date(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def say(text: str) -> None:
    """A message for the user on stderr, so stdout stays clean for data."""
    err.print(text, markup=False)


@contextmanager
def guarded(input_path: Path | None = None) -> Iterator[None]:
    """Turn user errors into a message on stderr and a non-zero exit, never a traceback.

    An OSError or Polars error about an output being written (engine.output.blame: its
    message names the temporary, or the disk is full) names that output; any other is
    about reading the input. A Polars panic (``PanicException``, a BaseException: a file
    whose footer disagrees with its body, say) is reported the same way.
    """
    try:
        yield
    except InternalError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(EXIT_INTERNAL) from None
    except TransparantieError as exc:
        # Each line capped: a message must never echo a huge value whole.
        text = "\n".join(capped(line, MAX_LINE) for line in str(exc).splitlines())
        err.print(f"{exc.label}: {text}", markup=False)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        blamed = blame(exc)
        if blamed is not None:
            err.print(f"{blamed.label}: {blamed}", markup=False)
            raise typer.Exit(EXIT_INPUT_ERROR) from None
        # Raised while streaming a file whose footer looked fine but whose body is broken.
        where = f" {input_path}" if input_path else ""
        err.print(f"fout: kan{where} niet lezen: {_first_line(exc)}", markup=False)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    except pl.exceptions.PanicException as exc:
        blamed = blame(exc)
        if blamed is not None:
            err.print(f"{blamed.label}: {blamed}", markup=False)
        else:
            where = f" {input_path}" if input_path else ""
            err.print(f"fout: kan{where} niet lezen: {_first_line(exc)}", markup=False)
        raise typer.Exit(EXIT_INPUT_ERROR) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return capped(text.splitlines()[0], 200) if text else type(exc).__name__


def refuse_unsafe_outputs(inputs: list[Path], outputs: list[tuple[str, Path | None]]) -> None:
    """Before any work: no output may be an input or another output, and every output's
    directory must exist and be writable (engine.output.check_outputs); exit 2 otherwise.
    A glob among the inputs counts as the files it matches; stdin (-) as none."""
    expanded: list[Path] = []
    for item in inputs:
        text = str(item)
        if text == "-":
            # Standard input redirected from a file (`< in.csv`) is that file.
            expanded.append(Path("/dev/stdin"))
            continue
        if not item.exists() and any(ch in text for ch in "*?["):
            expanded += [Path(m) for m in sorted(glob.glob(text, recursive=True))]
        else:
            expanded.append(item)
    check_outputs(expanded, outputs)


def refuse_inputs_in(directory: Path, inputs: list[Path]) -> None:
    """``publiceer --uit DIR`` writes fixed names into DIR: none of them may be an input."""
    from engine.publiceer.build import output_names

    outputs: list[tuple[str, Path | None]] = (
        [("--uit", directory / name) for name in output_names()] if directory.is_dir() else []
    )
    refuse_unsafe_outputs(inputs, outputs)


def write_stdout(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
