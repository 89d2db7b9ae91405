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
    as_date,
    guarded,
    read_options,
    refuse_unsafe_outputs,
    say,
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
    niveau: Annotated[Niveau, typer.Option(help="One funnel for Nederland, per region, or per gemeente.")] = (
        Niveau.NEDERLAND
    ),
    amr: Annotated[int | None, typer.Option(help="Only this arbeidsmarktregio (1-35).")] = None,
    format: Annotated[FunnelFormat, typer.Option("--format", help="Output format.")] = FunnelFormat.TABLE,
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
) -> None:
    """Run the counting rules in their published order; show where records drop out.

    Per group: records read; rejected (input contract, per reden); per rule
    the records excluded there ('aantal') and still in ('over'); a signaal
    line after its rule; and the counted clients, equal to `count`. Then the
    normalised status and indicering values seen, with the klantsoort each
    maps to, so a misspelt export shows; values seen in fewer than
    --min-aantal records are summed on one line 'overig'.

    csv: the steps; columns niveau, amr, arbeidsmarktregio, gemeente, stap,
    soort (gelezen, afgewezen, reden, regel, signaal, geteld), id, label,
    aantal, over.

    json: an object with regels, geldig_vanaf, peildatum, niveau, amr,
    stappen (the csv rows), status (waarde, aantal, geteld), indicering
    (waarde, klantsoort, aantal, geteld; the last row 'overig' when rare
    values were summed), overig (min_aantal, and per column how many values
    that row stands for) and reconciliatie (gelezen, geteld,
    uitgesloten per rule, afgewezen per reden).

    Example: transparantie funnel sample_data/clients-2025q2.parquet --niveau amr --amr 1
    """
    # Imported here: `transparantie count` should not pay for the other commands' modules.
    from engine.funnel import funnel_file, funnel_json, render_funnel

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
