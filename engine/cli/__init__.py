"""The ``transparantie`` command line: one module per command, each a thin wrapper."""

from __future__ import annotations

import typer

from engine.cli import (
    count,
    explain,
    funnel,
    generate,
    inspect,
    prepare,
    profiel,
    publiceer,
    rules,
    sql,
    vergelijk,
    werklijst,
)
from engine.cli._dutch import DutchCommand, DutchGroup, use_dutch_texts
from engine.output import exit_cleanly_on_sigterm

# Help and usage errors in Dutch (engine/cli/_dutch.py says how and why this way).
use_dutch_texts()
app = typer.Typer(
    name="transparantie",
    cls=DutchGroup,
    help="Maak de tabel 'Transparantie van klantprofielen' van UWV uit cliëntrecords zoals Sonar ze kent. "
    "Begin met `transparantie inspect BESTAND` op een nieuwe export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("inspect", cls=DutchCommand)(inspect.inspect)
app.command("count", cls=DutchCommand)(count.count)
app.command("rules", cls=DutchCommand)(rules.rules)
app.command("sql", cls=DutchCommand)(sql.sql)
app.command("generate", cls=DutchCommand)(generate.generate)
app.command("prepare", cls=DutchCommand)(prepare.prepare)
app.command("funnel", cls=DutchCommand)(funnel.funnel)
app.command("explain", cls=DutchCommand)(explain.explain)
app.command("profiel", cls=DutchCommand)(profiel.profiel)
app.command("publiceer", cls=DutchCommand)(publiceer.publiceer)
app.command("vergelijk", cls=DutchCommand)(vergelijk.vergelijk)
app.command("werklijst", cls=DutchCommand)(werklijst.werklijst)


def main() -> None:
    # SIGTERM ends the run like Ctrl-C: every temporary is removed, no output half-written.
    exit_cleanly_on_sigterm()
    app(prog_name="transparantie")
