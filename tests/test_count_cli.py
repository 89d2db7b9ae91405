"""End-to-end: hand-built files through `transparantie count`, in-process, with exact output."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.indeling import default_indeling
from engine.layout import COLUMNS, FIGURES
from engine.pipeline import classify
from engine.rules import select_ruleset
from engine.source import open_source
from tests.factory import client, frame, write_parquet

runner = CliRunner()
CELLS = [(k, p) for k in ("gemeente", "uwv") for p in (True, False)]


def _cell_client(client_id: str, gemeente: str | None, klantsoort: str, profiel: bool) -> dict:
    overrides: dict = {"gemeente": gemeente, "indicering": "bijstand" if klantsoort == "gemeente" else "WIA"}
    if not profiel:
        overrides["beroepssectoren"] = [" "]
    return client(client_id, **overrides)


def test_one_client_per_cell_lands_in_that_cell(tmp_path: Path) -> None:
    """Every gemeente × klantsoort × profiel gets a different number of clients; each lands exactly there."""
    gemeenten = default_indeling().gemeenten
    records, expected = [], {}
    for gi, gemeente in enumerate(gemeenten):
        for ci, (klantsoort, profiel) in enumerate(CELLS):
            n = (gi + ci) % 3  # 0, 1 or 2 clients, varying per cell
            expected[(gemeente, f"{klantsoort}_profiel_{'ja' if profiel else 'nee'}")] = n
            records += [_cell_client(f"{gi}-{ci}-{j}", gemeente, klantsoort, profiel) for j in range(n)]
    records.append(_cell_client("onbekend-1", None, "uwv", False))
    result = count_file(write_parquet(records, tmp_path / "cells.parquet"))
    table = result.table
    rows = table.filter(pl.col("niveau") == "gemeente")
    assert rows.height == 342
    got = {(r["gemeente"], f): r[f] for r in rows.iter_rows(named=True) for f in FIGURES}
    assert got == expected
    onbekend = table.filter(pl.col("niveau") == "onbekend").row(0, named=True)
    assert [onbekend[f] for f in FIGURES] == [0, 0, 0, 1]
    nederland = table.filter(pl.col("niveau") == "nederland").row(0, named=True)
    assert nederland["totaal"] == len(records) == result.reconciliation.geteld


def test_layout_order_and_totals(tmp_path: Path) -> None:
    result = count_file(write_parquet([client("a"), client("b", gemeente="Zwolle")], tmp_path / "x.parquet"))
    table = result.table
    assert tuple(table.columns) == COLUMNS
    assert table.height == 342 + 35 + 2
    assert table["niveau"].to_list()[-2:] == ["onbekend", "nederland"]
    # each region: its gemeenten in indeling order, then its total
    indeling = default_indeling().frame
    expected_order = []
    for amr in range(1, 36):
        expected_order += [("gemeente", g) for g in indeling.filter(pl.col("amr") == amr)["gemeente"]]
        expected_order.append(("arbeidsmarktregio", None))
    assert list(zip(table["niveau"][:-2], table["gemeente"][:-2], strict=True)) == expected_order
    totals = table.filter(pl.col("niveau") == "arbeidsmarktregio")
    assert totals.filter(pl.col("amr") == 5)["uwv_profiel_ja"].item() == 1  # Zwolle
    assert totals.filter(pl.col("amr") == 1)["uwv_profiel_ja"].item() == 1  # Assen


def test_table_format_exact_region_block(tmp_path: Path) -> None:
    records = [client(f"a{i}") for i in range(1092)] + [client("z", gemeente="Pekela", indicering="NUG")]
    path = write_parquet(records, tmp_path / "x.parquet")
    result = runner.invoke(app, ["count", str(path), "--amr", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Transparantie van klantprofielen — regels: teldefinitie (geldig vanaf 2025-01-01); "
        "open dienstverlening op het moment van de extractie"
    )
    assert lines[2:5] == [
        "                                   Gemeentecliënten in Sonar     UWV-cliënten in Sonar",
        "Gemeente                                Profiel Geen profiel      Profiel Geen profiel       Totaal",
        "",
    ]
    assert lines[5] == "1 Groningen"
    assert (
        lines[6]
        == "  Aa en Hunze                                 0            0            0            0            0"
    )  # noqa: E501
    assert (
        lines[7]
        == "  Assen                                       0            0        1.092            0        1.092"
    )  # noqa: E501
    assert (
        "  Pekela                                      1            0            0            0            1" in lines
    )  # noqa: E501
    assert (
        lines[-3]
        == "  Totaal AMR                                  1            0        1.092            0        1.093"
    )  # noqa: E501
    assert (
        lines[-1]
        == "1.093 records gelezen = 1.093 geteld + 0 uitgesloten + 0 afgewezen (heel bestand; AMR 1: 1.093 geteld)"
    )


def test_table_format_ends_with_onbekend_nederland_and_reconciliation(tmp_path: Path) -> None:
    records = [client("a"), client("b", gemeente=None), client("c", status="weg")]
    result = runner.invoke(app, ["count", str(write_parquet(records, tmp_path / "x.parquet"))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-4] == "Gemeente onbekend" + " " * 17 + "".join(f"{n:>13}" for n in (0, 0, 1, 0, 1))
    assert lines[-3] == "Nederland" + " " * 25 + "".join(f"{n:>13}" for n in (0, 0, 2, 0, 2))
    assert lines[-1] == "3 records gelezen = 2 geteld + 1 uitgesloten + 0 afgewezen"


def test_csv_to_stdout_is_pure_csv(tmp_path: Path) -> None:
    path = write_parquet([client("a"), client("b", gemeente="Den Haag")], tmp_path / "x.parquet")
    result = runner.invoke(app, ["count", str(path), "--format", "csv"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1] == "gemeente,1,Groningen,Aa en Hunze,0,0,0,0,0"
    assert "gemeente,20,Haaglanden,'s-Gravenhage,0,0,1,0,1" in lines
    assert lines[-2:] == ["onbekend,,,,0,0,0,0,0", "nederland,,,,0,0,2,0,2"]
    assert len(lines) == 1 + 379
    assert "records gelezen" in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_output_formats_round_trip(fmt: str, tmp_path: Path) -> None:
    path = write_parquet([client("a"), client("b", gemeente="Zwolle", indicering="bbz")], tmp_path / "x.parquet")
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["count", str(path), "--format", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    expected = count_file(path).table
    if fmt == "csv":
        back = pl.read_csv(out, schema=expected.schema)
    elif fmt == "parquet":
        back = pl.read_parquet(out)
    else:
        back = pl.DataFrame(json.loads(out.read_text()), schema=expected.schema)
    assert back.columns == list(COLUMNS)
    assert back.equals(expected)


def test_peildatum_changes_what_is_open(tmp_path: Path) -> None:
    from datetime import date

    records = [
        client("open", indicering_begin=date(2025, 1, 1)),
        client("ended-after", indicering_begin=date(2025, 1, 1), indicering_einde=date(2025, 7, 1)),
        client("starts-after", indicering_begin=date(2025, 7, 1)),
    ]
    path = write_parquet(records, tmp_path / "x.parquet")

    def counted_ids(peildatum: date | None) -> set[str]:
        plan = classify(open_source(path), select_ruleset("teldefinitie", peildatum), peildatum)
        return set(plan.frame.filter(pl.col("uitkomst") == "geteld").select("client_id").collect()["client_id"])

    assert counted_ids(None) == {"open", "starts-after"}
    assert counted_ids(date(2025, 6, 30)) == {"open", "ended-after"}
    result = runner.invoke(app, ["count", str(path), "--peildatum", "2025-06-30", "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "nederland,,,,0,0,2,0,2"


def test_rules_option_counts_beschut(tmp_path: Path) -> None:
    records = [client("a"), client("b", banenafspraak=False, beschut_wsw=True)]
    path = write_parquet(records, tmp_path / "x.parquet")
    assert count_file(path).reconciliation.geteld == 1
    assert count_file(path, rules="teldefinitie-inclusief-beschut").reconciliation.geteld == 2


def test_csv_input_counts_like_parquet(tmp_path: Path) -> None:
    records = [client("a"), client("b", gemeente="Sudwest-Fryslan", indicering=" NUG", affiniteiten=None)]
    parquet = write_parquet(records, tmp_path / "x.parquet")
    csv = tmp_path / "x.csv"
    frame(records).with_columns(
        pl.col(c).list.join(";")
        for c in ("opleiding", "vaardigheden", "competenties", "affiniteiten", "beroepssectoren")
    ).write_csv(csv)
    assert count_file(csv).table.equals(count_file(parquet).table)


def test_reference_match_and_mismatch(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    reference = count_file(path).table
    ok_file = tmp_path / "ref.csv"
    reference.write_csv(ok_file)
    ok = runner.invoke(app, ["count", str(path), "--reference", str(ok_file)])
    assert ok.exit_code == 0, ok.output
    assert "Komt overeen met de officiële cijfers" in ok.stdout
    assert "alle 1.895 cellen gelijk" in ok.stdout

    off = reference.with_columns(
        pl.when(pl.col("gemeente") == "Assen")
        .then(pl.lit(7))
        .otherwise(pl.col("uwv_profiel_ja"))
        .alias("uwv_profiel_ja")
    )
    off_file = tmp_path / "off.csv"
    off.write_csv(off_file)
    bad = runner.invoke(app, ["count", str(path), "--reference", str(off_file), "--format", "csv"])
    assert bad.exit_code == 1
    assert "Wijkt af van de officiële cijfers" in bad.stderr
    assert "  Assen (AMR 1): uwv_profiel_ja officieel 7, berekend 1" in bad.stderr


def test_builtin_reference_reports_the_first_differing_cells_and_how_many_more(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    result = runner.invoke(app, ["count", str(path), "--reference", "2025q2", "--amr", "1"])
    assert result.exit_code == 1
    assert "Wijkt af van de officiële cijfers (2025q2): 75 van 75 cellen verschillen." in result.stdout
    assert "  Assen (AMR 1): uwv_profiel_ja officieel 577, berekend 1" in result.stdout
    shown = [line for line in result.stdout.splitlines() if " officieel " in line]
    assert len(shown) == 20
    assert "  … en nog 55 cellen; elke cel met zijn verschil: transparantie vergelijk 2025q2 BESTAND" in result.stdout


def test_excel_output(tmp_path: Path) -> None:
    import zipfile

    path = write_parquet([client("a"), client("b", gemeente="Zwolle")], tmp_path / "x.parquet")
    out = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["count", str(path), "--format", "xlsx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert all(f"<t>{c}</t>" in strings for c in COLUMNS)
    assert "<t>Zwolle</t>" in strings and "<t>nederland</t>" in strings
    assert sheet.count("<row ") == 1 + 379


def test_binary_formats_need_an_output_path(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    for fmt in ("parquet", "xlsx"):
        result = runner.invoke(app, ["count", str(path), "--format", fmt])
        assert result.exit_code == 2
        assert f"--format {fmt} heeft --output PAD nodig" in result.stderr
