"""`transparantie profiel`: the transparantiegraad and what the clients without profile miss."""

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


class ProfielFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def profiel(
    file: InputFiles,
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    niveau: Annotated[
        Niveau, niveau_option("Fijnste niveau: Nederland, ook de regio's gerangschikt, ook elke gemeente.")
    ] = Niveau.ARBEIDSMARKTREGIO,
    format: Annotated[ProfielFormat, typer.Option("--format", help="Uitvoerformaat.")] = ProfielFormat.TABLE,
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
    """Onder de meegetelde cliënten: wie een profiel heeft, en wat de anderen missen.

    Per gemeente, regio (gerangschikt) en Nederland: geteld, ja, nee en de
    transparantiegraad (ja / geteld). De cliënten met 'nee' zijn 'leeg' (niets
    geregistreerd) of 'onvolledig' (iets geregistreerd, maar een of meer
    profielonderdelen van de regels ontbreken: zonder_<onderdeel>; een cliënt
    kan er meer missen, de combinaties splitsen dat uit).

    csv: één rij per gemeente, regio, onbekend en Nederland; kolommen niveau,
    amr, arbeidsmarktregio, gemeente, rang, geteld, ja, nee,
    transparantiegraad, leeg, onvolledig, zonder_<onderdeel>.

    json: regels, geldig_vanaf, peildatum, niveau, overzicht (de csv-rijen),
    combinaties en reconciliatie.

    Voorbeeld: transparantie profiel sample_data/clients-2025q2.parquet --niveau arbeidsmarktregio
    """
    # Imported here: `transparantie count` should not pay for the other commands' modules.
    from engine.profiel import profiel_file, profiel_json, render_profiel

    voortgang_opties(stil)  # read by the engine's long work (engine.progress.gekozen)
    with guarded(file[0]):
        refuse_unsafe_outputs(file, [("--quarantine", quarantine)])
        result = profiel_file(
            file,
            rules=rules,
            peildatum=as_date(peildatum),
            niveau=niveau,
            on_invalid=on_invalid,
            quarantine=quarantine,
            lezen=read_options(scheidingsteken, encoding, blad, kolommen, datumformaat),
            allow_bsn=sta_bsn_toe,
        )
        if format is ProfielFormat.TABLE:
            write_stdout(render_profiel(result))
        elif format is ProfielFormat.CSV:
            write_stdout(result.overzicht.write_csv())
            say(result.reconciliation.line())
        else:
            write_stdout(profiel_json(result))
            say(result.reconciliation.line())
