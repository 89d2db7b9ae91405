"""`transparantie prepare`: validate and normalise once, for fast repeated counting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli._common import (
    AllowBsnOption,
    Blad,
    Datumformaat,
    Encoding,
    InputFile,
    Kolommen,
    OnInvalidOption,
    QuarantineOption,
    Scheidingsteken,
    Stil,
    guarded,
    read_options,
    refuse_unsafe_outputs,
    say,
    voortgang_opties,
)
from engine.layout import nl_int
from engine.outcome import OnInvalid


def prepare(
    file: InputFile,
    output: Annotated[Path, typer.Argument(help="Het voorbereide Parquet-bestand om te schrijven.", metavar="UITVOER")],
    on_invalid: OnInvalidOption = OnInvalid.FAIL,
    quarantine: QuarantineOption = None,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
    sta_bsn_toe: AllowBsnOption = False,
    stil: Stil = False,
) -> None:
    """Pas het invoercontract één keer toe en schrijf een compact bestand dat elke opdracht leest.

    Het voorbereide bestand bevat gegevens op cliëntniveau en wordt alleen voor
    de eigenaar leesbaar aangemaakt (0600). Tellen ervan is veel sneller dan
    tellen van de ruwe export.

    Voorbeeld: transparantie prepare sample_data/clients-2025q2.parquet /tmp/clients.prepared.parquet
    """
    # Imported here: `transparantie count` should not pay for the other commands' modules.
    from engine.prepare import prepare_file

    voortgang_opties(stil)  # read by the engine's long work (engine.progress.gekozen)
    with guarded(file):
        refuse_unsafe_outputs([file], [("UITVOER", output), ("--quarantine", quarantine)])
        result = prepare_file(
            file,
            output,
            on_invalid,
            quarantine,
            allow_bsn=sta_bsn_toe,
            lezen=read_options(scheidingsteken, encoding, blad, kolommen, datumformaat),
        )
        rejected = sum(result.rejected.values())
        say(
            f"{nl_int(result.read)} records gelezen, {nl_int(rejected)} afgewezen; "
            f"voorbereid bestand: {result.output} (contract {result.provenance['contract_version']})"
        )
