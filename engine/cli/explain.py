"""`transparantie explain`: why one client is, or is not, in the table."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from engine.cli._common import (
    DEFAULT_RULES_OPTION,
    Blad,
    Datumformaat,
    Encoding,
    InputFiles,
    Kolommen,
    Peildatum,
    Rules,
    Scheidingsteken,
    as_date,
    guarded,
    read_options,
    say,
    write_stdout,
)
from engine.errors import EXIT_INPUT_ERROR


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def explain(
    file: InputFiles,
    client_id: Annotated[list[str], typer.Option("--client-id", help="De cliënt om uit te leggen; herhaal voor meer.")],
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    format: Annotated[ExplainFormat, typer.Option("--format", help="Uitvoerformaat.")] = ExplainFormat.TEXT,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
) -> None:
    """Leg cliënten uit: het oordeel van elke voorwaarde, het profiel, de cel.

    Per cliënt: elke voorwaarde met label en bron, wel of niet voldaan; de
    signalen; het oordeel van het invoercontract; de klantsoort en de
    indicering waaruit die volgt; de profielonderdelen zoals gelezen en of ze
    geregistreerd zijn; en de cel van de tabel, of de eerste voorwaarde
    waarop de cliënt afviel. Alleen de gevraagde ids worden gelezen, dus dit
    is snel op elk bestand. Een id die niet voorkomt wordt op stderr genoemd,
    exitcode 2.

    json: regels, geldig_vanaf, peildatum, clients (één object per record)
    en missing.

    Voorbeeld: transparantie explain sample_data/clients-2025q2.parquet --client-id K55013434732
    """
    # Imported here: `transparantie count` should not pay for the other commands' modules.
    from engine.explain import explain_file, render_json, render_text

    with guarded(file[0]):
        result = explain_file(
            file,
            client_id,
            rules=rules,
            peildatum=as_date(peildatum),
            lezen=read_options(scheidingsteken, encoding, blad, kolommen, datumformaat),
        )
        write_stdout(render_text(result) if format is ExplainFormat.TEXT else render_json(result))
        if result.missing:
            say(f"fout: {result.missing_message()}")
            raise typer.Exit(EXIT_INPUT_ERROR)
