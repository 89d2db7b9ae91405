"""`transparantie sql`: the whole count as one SQL query, to run where the data lives."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli._common import DEFAULT_RULES_OPTION, Peildatum, Rules, as_date, guarded, write_stdout


def sql(
    tabel: Annotated[
        str,
        typer.Option(help="De tabel (of view) met de cliëntrecords, kolommen genoemd zoals in het invoercontract."),
    ],
    dialect: Annotated[
        str,
        typer.Option(help="SQL-dialect: duckdb, spark, postgres, tsql, snowflake, trino of bigquery."),
    ] = "duckdb",
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    controles: Annotated[
        bool,
        typer.Option(
            "--controles",
            help="Geef in plaats van de tabel de query die per uitkomst en reden telt "
            "(geteld, uitgesloten per voorwaarde, afgewezen per contractcontrole).",
        ),
    ] = False,
) -> None:
    """Geef één SQL-query die de gepubliceerde tabel berekent uit een tabel met ruwe cliëntrecords.

    De normalisatie van het invoercontract, de gemeenten, de voorwaarden, de
    klantsoort en het profiel zitten in de query, gemaakt uit de regels; wat de
    SQL niet controleert staat in de README ('In your warehouse').

    Voorbeeld: transparantie sql --dialect spark --tabel clients
    """
    from engine.rules import select_ruleset
    from engine.warehouse import query

    with guarded():
        day = as_date(peildatum)
        ruleset = select_ruleset(rules, day)
        write_stdout(query(tabel, ruleset, day, dialect, "controles" if controles else "tabel") + ";")
