"""`transparantie publiceer`: the quarterly publication (pages, PDF, workbook) from microdata."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli._common import (
    DEFAULT_RULES_OPTION,
    Blad,
    Datumformaat,
    Encoding,
    InputFile,
    Kolommen,
    OnInvalidOption,
    Peildatum,
    QuarantineOption,
    Rules,
    Scheidingsteken,
    as_date,
    guarded,
    read_options,
    refuse_inputs_in,
    refuse_unsafe_outputs,
    say,
)
from engine.outcome import OnInvalid


def publiceer(
    file: InputFile,
    uit: Annotated[Path, typer.Option("--uit", help="Map waarin de publicatie komt (wordt aangemaakt).")],
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    amr: Annotated[
        int | None, typer.Option(help="Alleen deze arbeidsmarktregio (1-35) een pagina, blad en PDF-hoofdstuk.")
    ] = None,
    vorige: Annotated[
        str | None,
        typer.Option(
            help="Vergelijk met een eerder kwartaal: '2025q2', een uitvoer van `count --format csv|parquet`, "
            "of een bestand met cliëntrecords."
        ),
    ] = None,
    drempel: Annotated[
        int | None,
        typer.Option(
            help="Onthullingsbeveiliging: cellen met 0 < aantal < DREMPEL weglaten (•), plus zoveel andere "
            "dat ze niet uit de totalen terug te rekenen zijn. Standaard uit."
        ),
    ] = None,
    on_invalid: OnInvalidOption = OnInvalid.FAIL,
    quarantine: QuarantineOption = None,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
) -> None:
    """Maak de kwartaalpublicatie 'Transparantie van klantprofielen' uit cliëntrecords.

    Schrijft in --uit: index.html (Nederland: toelichting, de 35 regio's,
    gemeente onbekend, Nederland en de transparantiegraad per regio,
    gerangschikt), een pagina per arbeidsmarktregio (tabel per gemeente,
    grafiek, positie van de regio), publicatie.pdf (de hele publicatie) en
    publicatie.xlsx (toelichting, Nederland en een blad per regio). De pagina's
    werken offline: geen scripts, lettertypen of bestanden van elders.

    Voorbeeld: transparantie publiceer sample_data/clients-2025q2.parquet --uit publicatie/ --vorige 2025q2
    """
    from engine.publiceer.build import publiceer as build

    with guarded(file):
        refuse_unsafe_outputs([file], [("--quarantine", quarantine)])
        refuse_inputs_in(uit, [file])
        result = build(
            file,
            uit,
            rules=rules,
            peildatum=as_date(peildatum),
            amr=amr,
            vorige=vorige,
            drempel=drempel,
            on_invalid=on_invalid,
            quarantine=quarantine,
            lezen=read_options(scheidingsteken, encoding, blad, kolommen, datumformaat),
        )
        say(result.samenvatting())
