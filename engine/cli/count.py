"""`transparantie count`: the published table from a file of client records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli._common import (
    DEFAULT_RULES_OPTION,
    AllowBsnOption,
    InputFile,
    OnInvalidOption,
    Peildatum,
    QuarantineOption,
    Rules,
    as_date,
    guarded,
    refuse_unsafe_outputs,
    say,
    write_stdout,
)
from engine.count import OnInvalid, count_file
from engine.errors import UsageError
from engine.formats import Format, render_differences, render_table, write_table
from engine.layout import nl_int
from engine.output import write_text
from engine.reference import compare, load_reference


def count(
    file: InputFile,
    peildatum: Peildatum = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout (required for parquet).")] = None,
    amr: Annotated[int | None, typer.Option(help="Only this arbeidsmarktregio (1-35).")] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="Compare with an official table: '2025q2' or a file in the output shape."),
    ] = None,
    on_invalid: OnInvalidOption = OnInvalid.FAIL,
    quarantine: QuarantineOption = None,
    sta_bsn_toe: AllowBsnOption = False,
) -> None:
    """Count client records into the published Transparantie table.

    Example: transparantie count sample_data/clients-2025q2.parquet --reference 2025q2
    """
    with guarded(file):
        if format in (Format.PARQUET, Format.XLSX) and output is None:
            raise UsageError(f"--format {format.value} needs --output PATH")
        refuse_unsafe_outputs([file], [("--output", output), ("--quarantine", quarantine)])
        ref = load_reference(reference) if reference else None
        result = count_file(
            file,
            rules=rules,
            peildatum=as_date(peildatum),
            on_invalid=on_invalid,
            quarantine=quarantine,
            allow_bsn=sta_bsn_toe,
        )
        table = result.region(amr) if amr is not None else result.table
        # The printed table carries its notes; data formats keep stdout clean and note on stderr.
        notes: list[str] = [result.reconciliation.line()]
        if result.reconciliation.n_rejected:
            notes.append(f"{nl_int(result.reconciliation.n_rejected)} afgewezen rijen staan in {quarantine}")
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
        if differences:
            raise typer.Exit(1)
