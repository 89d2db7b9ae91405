"""Dutch option types for the publication's commands (publiceer, vergelijk, werklijst).

The same options as engine.cli._common, with the help a Dutch analyst reads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from engine.outcome import OnInvalid

InvoerBestand = Annotated[Path, typer.Argument(help="Cliëntrecords: Parquet, of CSV met dezelfde kolommen.")]
Peildatum = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="Tel de indiceringen die op deze datum (JJJJ-MM-DD) open zijn in plaats van nu; kiest ook de "
        "versie van de regels.",
    ),
]
Regels = Annotated[
    str, typer.Option("--rules", help="Naam van de regels (zie `transparantie rules`) of pad naar een regelbestand.")
]
BijOngeldig = Annotated[
    OnInvalid, typer.Option("--on-invalid", help="Wat te doen met rijen die het invoercontract breken.")
]
Quarantaine = Annotated[
    Path | None,
    typer.Option("--quarantine", help="Parquet-bestand voor de afgewezen rijen (met --on-invalid quarantine)."),
]
