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
from engine.output import exit_cleanly_on_sigterm

app = typer.Typer(
    name="transparantie",
    help="Maak de tabel 'Transparantie van klantprofielen' van UWV uit cliëntrecords zoals Sonar ze kent. "
    "Begin met `transparantie inspect BESTAND` op een nieuwe export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("inspect")(inspect.inspect)
app.command("count")(count.count)
app.command("rules")(rules.rules)
app.command("sql")(sql.sql)
app.command("generate")(generate.generate)
app.command("prepare")(prepare.prepare)
app.command("funnel")(funnel.funnel)
app.command("explain")(explain.explain)
app.command("profiel")(profiel.profiel)
app.command("publiceer")(publiceer.publiceer)
app.command("vergelijk")(vergelijk.vergelijk)
app.command("werklijst")(werklijst.werklijst)


def main() -> None:
    # SIGTERM ends the run like Ctrl-C: every temporary is removed, no output half-written.
    exit_cleanly_on_sigterm()
    app()
