"""`transparantie inspect`: how an export will be read, before anything is counted."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from engine.cli._common import (
    Blad,
    Datumformaat,
    Encoding,
    InputFiles,
    Kolommen,
    Scheidingsteken,
    guarded,
    read_options,
    write_stdout,
)


class InspectFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def inspect(
    file: InputFiles,
    format: Annotated[InspectFormat, typer.Option("--format", help="Uitvoerformaat.")] = InspectFormat.TEXT,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
) -> None:
    """Toon hoe een export gelezen wordt, zonder te tellen.

    Formaat, codering, scheidingsteken; per kolom van het invoercontract de
    kolom in het bestand; per datumkolom het datumformaat; null-woorden en
    'geen einde'-datums met aantallen; de ja/nee-woorden; de status- en
    indiceringwaarden; lijstvormen; gemeenten gevonden via code of voormalige
    naam, en onbekende gemeenten met suggesties. Draai dit eerst op een
    nieuwe export.

    Voorbeeld: transparantie inspect sample_data/clients-messy-klein.csv
    """
    from engine.inspect import inspect_file, inspect_json, render_inspect

    with guarded(file[0]):
        report = inspect_file(file, read_options(scheidingsteken, encoding, blad, kolommen, datumformaat))
        write_stdout(render_inspect(report) if format is InspectFormat.TEXT else inspect_json(report))
