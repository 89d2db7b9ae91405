"""`transparantie vergelijk`: the change between two quarters' tables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.cli._common import DEFAULT_RULES_OPTION, Rules, guarded, refuse_unsafe_outputs, say, write_stdout
from engine.errors import UsageError
from engine.output import write_text


class VergelijkFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


def vergelijk(
    vorige: Annotated[
        str,
        typer.Argument(help="Het eerdere kwartaal: '2025q2', een count-uitvoer of cliëntrecords.", metavar="VORIGE"),
    ],
    nieuw: Annotated[str, typer.Argument(help="Het latere kwartaal, in dezelfde vormen.", metavar="NIEUW")],
    amr: Annotated[int | None, typer.Option(help="Alleen deze arbeidsmarktregio (1-35).")] = None,
    rules: Rules = DEFAULT_RULES_OPTION,
    format: Annotated[VergelijkFormat, typer.Option("--format", help="Uitvoerformaat.")] = VergelijkFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Schrijf hierheen in plaats van naar stdout (nodig voor xlsx).")
    ] = None,
) -> None:
    """Vergelijk twee tabellen: per cel de verandering (nieuw − vorige), per rij de
    transparantiegraad en de verandering in procentpunten.

    Een tabel is een meegeleverde referentie (2025q2), een uitvoer van
    `transparantie count --format csv|parquet`, of een bestand met
    cliëntrecords (dat eerst geteld wordt, met --rules).

    csv/json/xlsx: per rij niveau, amr, arbeidsmarktregio, gemeente, dan per
    kolom <kolom>, <kolom>_vorige, <kolom>_verschil, en graad, graad_vorige,
    graad_verschil_pp.

    Voorbeeld: transparantie vergelijk 2025q2 sample_data/clients-2025q2.parquet --amr 22
    """
    from engine.publiceer.compare import render_vergelijking, write_vergelijking_excel
    from engine.publiceer.compare import vergelijk as compare

    with guarded():
        if format is VergelijkFormat.XLSX and output is None:
            raise UsageError("--format xlsx heeft --output PAD nodig")
        sides = [Path(side) for side in (vorige, nieuw) if Path(side).exists()]
        refuse_unsafe_outputs(sides, [("--output", output)])
        result = compare(vorige, nieuw, amr=amr, rules=rules)
        if format is VergelijkFormat.TABLE:
            text = render_vergelijking(result)
        elif format is VergelijkFormat.CSV:
            text = result.tabel.write_csv()
        elif format is VergelijkFormat.JSON:
            text = result.tabel.write_json() + "\n"
        else:
            assert output is not None
            write_vergelijking_excel(result, output)
            say(f"Vergelijking geschreven naar {output}.")
            return
        if output is None:
            write_stdout(text)
        else:
            write_text(output, text if text.endswith("\n") else text + "\n", option="--output")
            say(f"Vergelijking geschreven naar {output}.")
