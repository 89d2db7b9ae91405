"""`transparantie rules`: list the rule sets and print one as the engine reads it."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli._common import guarded, write_stdout
from engine.rules import available, select_ruleset


def rules(
    name: Annotated[
        str | None, typer.Argument(help="Naam of bestand van de regels; weglaten toont ze allemaal.", metavar="NAAM")
    ] = None,
) -> None:
    """Toon de regelsets, of één met van elke voorwaarde het label, de bron en de SQL.

    Voorbeeld: transparantie rules teldefinitie
    """
    # Imported here: `transparantie count` should not pay for the other commands' modules.
    from engine.ruletext import describe

    with guarded():
        if name is None:
            lines = [f"{r.naam:<34} geldig vanaf {r.geldig_vanaf}  {r.titel}" for r in available()]
            write_stdout("\n".join(lines))
        else:
            write_stdout(describe(select_ruleset(name)))
