"""`transparantie werklijst`: the counted clients without a complete profile, to complete them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.cli._common import (
    DEFAULT_RULES_OPTION,
    AllowBsnOption,
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
    refuse_unsafe_outputs,
    say,
)
from engine.outcome import OnInvalid


class WerklijstFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"


def werklijst(
    file: InputFile,
    output: Annotated[Path, typer.Option(help="Het bestand voor de werklijst (verplicht; wordt 0600 aangemaakt).")],
    amr: Annotated[int | None, typer.Option(help="De cliënten van deze arbeidsmarktregio (1-35).")] = None,
    gemeente: Annotated[str | None, typer.Option(help="De cliënten van deze gemeente.")] = None,
    format: Annotated[WerklijstFormat, typer.Option("--format", help="Uitvoerformaat.")] = WerklijstFormat.CSV,
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    on_invalid: OnInvalidOption = OnInvalid.FAIL,
    quarantine: QuarantineOption = None,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
    sta_bsn_toe: AllowBsnOption = False,
) -> None:
    """Werklijst: de meegetelde cliënten zonder volledig profiel (profiel nee) van één
    regio (--amr) of gemeente (--gemeente), om hun profiel aan te vullen.

    Per cliënt: client_id, gemeente, klantsoort en per onderdeel van het
    profiel (uit de regels) of het ontbreekt: zonder_<onderdeel> (true =
    ontbreekt). Gesorteerd op gemeente (volgorde van de publicatie),
    klantsoort en client_id. xlsx: een blad per gemeente.

    Het bestand bevat gegevens op cliëntniveau: het wordt alleen voor de
    eigenaar leesbaar aangemaakt (0600); xlsx heeft een waarschuwingsregel
    boven de tabel, parquet een waarschuwing in de metadata.

    Voorbeeld: transparantie werklijst sample_data/clients-2025q2.parquet --amr 22 --output werklijst-22.csv
    """
    from engine.publiceer.werklijst import NOTICE, werklijst_file, write_werklijst

    with guarded(file):
        refuse_unsafe_outputs([file], [("--output", output), ("--quarantine", quarantine)])
        result = werklijst_file(
            file,
            amr=amr,
            gemeente=gemeente,
            rules=rules,
            peildatum=as_date(peildatum),
            on_invalid=on_invalid,
            quarantine=quarantine,
            lezen=read_options(scheidingsteken, encoding, blad, kolommen, datumformaat),
            allow_bsn=sta_bsn_toe,
        )
        write_werklijst(result, format.value, output)
        say(f"{result.samenvatting()} Geschreven naar {output} (alleen leesbaar voor de eigenaar).")
        say(NOTICE)
