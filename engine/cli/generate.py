"""`transparantie generate`: synthetic client records, calibrated to an official table on request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli._common import Stil, guarded, say


def generate(
    out: Annotated[
        Path, typer.Argument(help="Uitvoerbestand: Parquet, of CSV als de naam op .csv eindigt.", metavar="UITVOER")
    ],
    rows: Annotated[
        int | None,
        typer.Option(
            help="Aantal rijen. Standaard: gekalibreerd aantal + 25% niet meegeteld; ongekalibreerd 1.000.000."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Startwaarde van het toeval; dezelfde waarde geeft hetzelfde bestand.")] = 0,
    calibrate: Annotated[
        str | None,
        typer.Option(help="Reproduceer deze tabel exact: '2025q2' of een referentiebestand in de vorm van de uitvoer."),
    ] = None,
    scale: Annotated[int, typer.Option(help="Met --calibrate: vermenigvuldig elke cel met K.")] = 1,
    messy: Annotated[
        bool, typer.Option("--messy", help="Spel waarden als in een echte export (aantallen gelijk).")
    ] = False,
    mix: Annotated[
        str | None,
        typer.Option(
            help="Aandelen van de niet-meegetelde rijen per voorwaarde die ze niet halen. Sleutels: "
            "ingeschreven, open_dienstverlening.einde, open_dienstverlening.geen_begin, doelgroepregister, "
            "banenafspraak en beschut_zonder_vink (haalt banenafspraak niet; het signaal in de trechter); "
            "bijvoorbeeld 'ingeschreven=0.3,open_dienstverlening.einde=0.2,banenafspraak=0.5'."
        ),
    ] = None,
    stil: Stil = False,
) -> None:
    """Schrijf synthetische cliëntrecords zoals Sonar ze kent.

    Voorbeeld: transparantie generate sample_data/clients-2025q2.parquet --calibrate 2025q2 --seed 2025
    """
    # Imported here: numpy and pyarrow are needed only to generate, and would slow every command's start.
    from engine.generate import generate as generate_file

    with guarded():
        summary = generate_file(
            out, rows=rows, seed=seed, calibrate=calibrate, scale=scale, messy=messy, mix=mix, stil=stil
        )
    say(summary.line())
