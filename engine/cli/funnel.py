"""`transparantie funnel`: where the records drop out, rule by rule."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from engine.cli._common import (
    DEFAULT_RULES_OPTION,
    AllowBsnOption,
    Blad,
    Datumformaat,
    Encoding,
    InputFiles,
    Kolommen,
    OnInvalidOption,
    Peildatum,
    QuarantineOption,
    Rules,
    Scheidingsteken,
    Stil,
    as_date,
    guarded,
    niveau_option,
    read_options,
    refuse_unsafe_outputs,
    say,
    voortgang_opties,
    write_stdout,
)
from engine.layout import Niveau
from engine.outcome import OnInvalid
from engine.privacy import MIN_AANTAL


class FunnelFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def funnel(
    file: InputFiles,
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    niveau: Annotated[Niveau, niveau_option("Eén trechter voor Nederland, per regio of per gemeente.")] = (
        Niveau.NEDERLAND
    ),
    amr: Annotated[int | None, typer.Option(help="Alleen deze arbeidsmarktregio (1-35).")] = None,
    format: Annotated[FunnelFormat, typer.Option("--format", help="Uitvoerformaat.")] = FunnelFormat.TABLE,
    on_invalid: OnInvalidOption = OnInvalid.FAIL,
    quarantine: QuarantineOption = None,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
    sta_bsn_toe: AllowBsnOption = False,
    min_aantal: Annotated[
        int,
        typer.Option(
            "--min-aantal",
            min=1,
            help="Status- en indiceringwaarden met minder records dan dit staan samen op één regel 'overig'.",
        ),
    ] = MIN_AANTAL,
    stil: Stil = False,
) -> None:
    """Loop de voorwaarden door in de volgorde van de publicatie; toon waar records afvallen.

    Per groep: gelezen records; afgewezen (invoercontract, per reden); per
    voorwaarde de records die daar afvallen ('aantal') en die overblijven
    ('over'); een signaalregel na zijn voorwaarde; en de meegetelde
    cliënten, gelijk aan `count`. Daarna de status- en indiceringwaarden na
    normalisatie, met de klantsoort van elk, zodat een verkeerd gespelde
    export opvalt (waarden in minder dan --min-aantal records samen op één
    regel 'overig'); en hoe de gemeenten gevonden zijn (naam, alias, CBS-code,
    voormalige gemeente) en hoeveel einddatums 'geen einde' waren.

    csv: de stappen; kolommen niveau, amr, arbeidsmarktregio, gemeente, stap,
    soort (gelezen, afgewezen, reden, regel, signaal, geteld), id, label,
    aantal, over.

    json: regels, geldig_vanaf, peildatum, niveau, amr, stappen (de csv-rijen),
    status, indicering, overig, gemeente_via, geen_einde en reconciliatie.

    Voorbeeld: transparantie funnel sample_data/clients-2025q2.parquet --niveau arbeidsmarktregio --amr 1
    """
    # Imported here: `transparantie count` should not pay for the other commands' modules.
    from engine.funnel import funnel_file, funnel_json, render_funnel

    voortgang_opties(stil)  # read by the engine's long work (engine.progress.gekozen)
    with guarded(file[0]):
        refuse_unsafe_outputs(file, [("--quarantine", quarantine)])
        result = funnel_file(
            file,
            rules=rules,
            peildatum=as_date(peildatum),
            niveau=niveau,
            amr=amr,
            on_invalid=on_invalid,
            quarantine=quarantine,
            lezen=read_options(scheidingsteken, encoding, blad, kolommen, datumformaat),
            allow_bsn=sta_bsn_toe,
            min_aantal=min_aantal,
        )
        if format is FunnelFormat.TABLE:
            write_stdout(render_funnel(result))
        elif format is FunnelFormat.CSV:
            write_stdout(result.steps.write_csv())
            say(result.reconciliation.line())
        else:
            write_stdout(funnel_json(result))
            say(result.reconciliation.line())
