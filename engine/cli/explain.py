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
    client_id: Annotated[list[str], typer.Option("--client-id", help="The client to explain; repeat for more.")],
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    format: Annotated[ExplainFormat, typer.Option("--format", help="Output format.")] = ExplainFormat.TEXT,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
) -> None:
    """Explain clients: every rule's verdict, the profile, the resulting cell.

    Per client: each rule with its label and source, holds or not; the
    signalen; the contract verdict; the klantsoort and the indicering it
    came from; the profile components as read and whether registered; each
    profiel onderdeel; and the cell of the table, or the first rule that
    excluded the client. Only the requested ids are read (the filter is
    pushed into the scan), so this is fast on any file. An id that does not
    occur is named on stderr, exit 2.

    json: an object with regels, geldig_vanaf, peildatum, clients (one
    object per record, the fields shown in text) and missing.

    Example: transparantie explain sample_data/clients-2025q2.parquet --client-id K00000000001
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
            say(f"error: {result.missing_message()}")
            raise typer.Exit(EXIT_INPUT_ERROR)
