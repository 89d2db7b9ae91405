"""`transparantie vergelijk`: the change per cell and per transparantiegraad between two tables."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.publiceer.compare import comparison_columns, nl_pp, nl_signed
from tests.conftest import SAMPLE

runner = CliRunner()


def test_sample_against_2025q2_has_no_changes() -> None:
    result = runner.invoke(app, ["vergelijk", "2025q2", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("Geen verschillen.")
    assert "Nederland" in result.stdout and "190.973 (0)" in result.stdout and "53,0% (0,0 pp)" in result.stdout


def test_count_outputs_compare_and_formats(tmp_path: Path) -> None:
    table = count_file(SAMPLE).table
    earlier = tmp_path / "q1.csv"
    table.with_columns(
        pl.when(pl.col("gemeente") == "Assen")
        .then(pl.col("uwv_profiel_ja") - 10)
        .otherwise(pl.col("uwv_profiel_ja"))
        .alias("uwv_profiel_ja"),
        pl.when(pl.col("gemeente") == "Assen").then(pl.col("totaal") - 10).otherwise(pl.col("totaal")).alias("totaal"),
    ).write_csv(earlier)
    later = tmp_path / "q2.parquet"
    table.write_parquet(later)
    result = runner.invoke(app, ["vergelijk", str(earlier), str(later), "--amr", "1"])
    assert result.exit_code == 0, result.output
    assert "577 (+10)" in result.stdout and "1 van 15 rijen gewijzigd." in result.stdout
    csv = runner.invoke(app, ["vergelijk", str(earlier), str(later), "--format", "csv"])
    frame = pl.read_csv(csv.stdout.encode())
    assert frame.columns == comparison_columns()
    assen = frame.filter(pl.col("gemeente") == "Assen").row(0, named=True)
    assert assen["uwv_profiel_ja_verschil"] == 10 and assen["totaal_verschil"] == 10
    assert round(assen["graad_verschil_pp"], 2) == round(100 * (667 / 1175 - 657 / 1165), 2)
    out = tmp_path / "v.json"
    assert (
        runner.invoke(app, ["vergelijk", str(earlier), str(later), "--format", "json", "--output", str(out)]).exit_code
        == 0
    )
    assert len(json.loads(out.read_text())) == table.height
    xlsx = tmp_path / "v.xlsx"
    assert (
        runner.invoke(app, ["vergelijk", str(earlier), str(later), "--format", "xlsx", "--output", str(xlsx)]).exit_code
        == 0
    )
    ws = openpyxl.load_workbook(xlsx)["Vergelijking"]
    assert [c.value for c in ws[1]] == comparison_columns()
    assert ws.freeze_panes == "A2"


def test_microdata_on_either_side_is_counted() -> None:
    result = runner.invoke(app, ["vergelijk", str(SAMPLE), "2025q2", "--amr", "35", "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(result.stdout.encode())
    assert frame.height == 17 and (frame["totaal_verschil"] == 0).all()


def test_errors_are_dutch(tmp_path: Path) -> None:
    result = runner.invoke(app, ["vergelijk", "2019q1", str(SAMPLE)])
    assert result.exit_code == 2 and "referentie" in result.output
    result = runner.invoke(app, ["vergelijk", "2025q2", "2025q2", "--format", "xlsx"])
    assert result.exit_code == 2 and "--output" in result.output


def test_signed_dutch_formats() -> None:
    assert [nl_signed(n) for n in (0, 3, -1092, None)] == ["0", "+3", "−1.092", "n.v.t."]
    assert [nl_pp(p) for p in (0.0, 0.04, 1.26, -12.34, None)] == ["0,0 pp", "0,0 pp", "+1,3 pp", "−12,3 pp", "n.v.t."]
