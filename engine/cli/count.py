"""`transparantie count`: the published table from a file of client records."""

from __future__ import annotations

from pathlib import Path
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
    read_options,
    refuse_unsafe_outputs,
    say,
    voortgang_opties,
    write_stdout,
)
from engine.count import count_file
from engine.errors import EXIT_WARNING, UsageError
from engine.formats import Format, render_differences, render_table, write_table
from engine.layout import nl_int
from engine.outcome import OnInvalid
from engine.output import write_text
from engine.reference import compare, load_reference


def count(
    file: InputFiles,
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    format: Annotated[Format, typer.Option("--format", help="Uitvoerformaat.")] = Format.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Schrijf hierheen in plaats van naar stdout (nodig voor parquet en xlsx).")
    ] = None,
    amr: Annotated[int | None, typer.Option(help="Alleen deze arbeidsmarktregio (1-35).")] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="Vergelijk met officiële cijfers: '2025q2' of een bestand in de vorm van de uitvoer."),
    ] = None,
    on_invalid: OnInvalidOption = OnInvalid.FAIL,
    strikt: Annotated[
        bool, typer.Option("--strikt", help="Een waarschuwing (verdachte tabel) stopt met exitcode 3.")
    ] = False,
    quarantine: QuarantineOption = None,
    scheidingsteken: Scheidingsteken = None,
    encoding: Encoding = None,
    blad: Blad = None,
    kolommen: Kolommen = None,
    datumformaat: Datumformaat = None,
    sta_bsn_toe: AllowBsnOption = False,
    engine: Annotated[
        str,
        typer.Option(help="Rekenmachine: polars (standaard), duckdb of spark (Parquet of CSV, zonder quarantaine)."),
    ] = "polars",
    spark_master: Annotated[
        str | None, typer.Option(help="Met --engine spark: de master-URL van een cluster; standaard local[*].")
    ] = None,
    stil: Stil = False,
) -> None:
    """Tel cliëntrecords tot de gepubliceerde tabel Transparantie van klantprofielen.

    Elke gemeente per arbeidsmarktregio, Totaal AMR, gemeente onbekend en
    Nederland, met de balans: gelezen = geteld + uitgesloten + afgewezen.
    Waarschuwt bij een verdachte tabel (helemaal nul, één voorwaarde die bijna
    alles uitsluit, meer dan de helft afgewezen, onbekende statuswaarden);
    met --strikt stopt een waarschuwing met exitcode 3.

    Voorbeeld: transparantie count sample_data/clients-2025q2.parquet --reference 2025q2
    """
    voortgang_opties(stil)  # read by the engine's long work (engine.progress.gekozen)
    with guarded(file[0]):
        if format in (Format.PARQUET, Format.XLSX) and output is None:
            raise UsageError(f"--format {format.value} heeft --output PAD nodig")
        refuse_unsafe_outputs(file, [("--output", output), ("--quarantine", quarantine)])
        ref = load_reference(reference) if reference else None
        if engine != "polars":
            from engine.warehouse import count_with, refuse_options

            refuse_options(engine, on_invalid, scheidingsteken, encoding, blad, kolommen, datumformaat)
            result = count_with(
                engine, file, rules, as_date(peildatum), allow_bsn=sta_bsn_toe, spark_master=spark_master
            )
        else:
            result = count_file(
                file,
                rules=rules,
                peildatum=as_date(peildatum),
                on_invalid=on_invalid,
                quarantine=quarantine,
                lezen=read_options(scheidingsteken, encoding, blad, kolommen, datumformaat),
                allow_bsn=sta_bsn_toe,
            )
        table = result.region(amr) if amr is not None else result.table
        # The printed table carries its notes; data formats keep stdout clean and note on stderr.
        notes: list[str] = [result.reconciliation.line()]
        if amr is not None:
            # The balance is the whole file's: the records of other regions were read too.
            totaal = int(table.filter(table["niveau"] == "arbeidsmarktregio")["totaal"].sum())
            notes[0] += f" (heel bestand; AMR {amr}: {nl_int(totaal)} geteld)"
        if result.reconciliation.n_afgewezen:
            notes.append(f"{nl_int(result.reconciliation.n_afgewezen)} afgewezen rijen staan in {quarantine}")
        differences = []
        if ref is not None:
            name, official = ref
            if amr is not None:
                official = official.filter(official["amr"] == amr)
            differences = compare(table, official)
            notes.append(render_differences(name, differences, table.height * 5))
        if format is Format.TABLE:
            text = "\n".join([render_table(table, result.title()), "", *notes])
            if output is None:
                write_stdout(text)
            else:
                write_text(output, text + "\n", option="--output")
        else:
            write_table(table, format.value, output)
            for note in notes:
                say(note)
        for warning in result.warnings:
            say(f"waarschuwing: {warning}")
        if differences:
            raise typer.Exit(1)
        if strikt and result.warnings:
            say("--strikt: gestopt vanwege de waarschuwing(en) hierboven")
            raise typer.Exit(EXIT_WARNING)
