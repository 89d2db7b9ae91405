"""`transparantie werklijst`: the counted clients without a complete profile, private to the owner."""

from __future__ import annotations

import stat
from pathlib import Path

import openpyxl
import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.pipeline import classify
from engine.publiceer.werklijst import NOTICE, NOTICE_KEY, werklijst_columns, werklijst_file
from engine.rules import select_ruleset
from engine.source import open_source
from tests.conftest import SAMPLE
from tests.factory import client, write_parquet

runner = CliRunner()


def test_region_22_lists_exactly_its_geen_profiel_clients(tmp_path: Path) -> None:
    output = tmp_path / "werklijst.csv"
    result = runner.invoke(app, ["werklijst", str(SAMPLE), "--amr", "22", "--output", str(output)])
    assert result.exit_code == 0, result.output
    rows = pl.read_csv(output)
    total = count_file(SAMPLE).region(22).filter(pl.col("niveau") == "arbeidsmarktregio").row(0, named=True)
    assert rows.height == total["gemeente_profiel_nee"] + total["uwv_profiel_nee"]
    per_soort = rows.group_by("klantsoort").len().sort("klantsoort")
    assert per_soort.rows() == [("gemeente", total["gemeente_profiel_nee"]), ("uwv", total["uwv_profiel_nee"])]
    assert rows.columns == werklijst_columns(select_ruleset("teldefinitie"))
    assert rows["client_id"].is_unique().all()
    # Every listed client misses at least one onderdeel.
    missing = [c for c in rows.columns if c.startswith("zonder_")]
    assert rows.select(pl.any_horizontal(missing)).to_series().all()
    assert "cliëntniveau" in result.output


def test_per_gemeente_counts_and_sort_order(tmp_path: Path) -> None:
    output = tmp_path / "w.parquet"
    result = runner.invoke(
        app, ["werklijst", str(SAMPLE), "--gemeente", "den haag", "--format", "parquet", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    rows = pl.read_parquet(output)
    table = count_file(SAMPLE).table.filter(pl.col("gemeente") == "'s-Gravenhage").row(0, named=True)
    assert rows.height == table["gemeente_profiel_nee"] + table["uwv_profiel_nee"]
    assert rows["gemeente"].unique().to_list() == ["'s-Gravenhage"]
    assert rows.equals(rows.sort("gemeente", "klantsoort", "client_id"))
    assert pq.read_schema(output).metadata[NOTICE_KEY.encode()].decode() == NOTICE


def test_missing_onderdelen_match_the_engine_per_client(tmp_path: Path) -> None:
    records = [
        client("a"),  # profiel ja: not listed
        client("b", affiniteiten=None),
        client("c", beroepssectoren=[" "], affiniteiten=[]),
        client("d", gemeente="Zwolle", affiniteiten=None),  # other region
        client("e", **{f"taaksoort_{i:02d}": None for i in range(1, 21)}, indicering="bijstand"),
        client("f", status="uitgeschreven", affiniteiten=None),  # not counted
    ]
    path = write_parquet(records, tmp_path / "in.parquet")
    lijst = werklijst_file(path, gemeente="Assen").rijen
    assert lijst["client_id"].to_list() == ["e", "b", "c"]  # gemeente, then klantsoort (gemeente < uwv), then id
    by_id = {r["client_id"]: r for r in lijst.iter_rows(named=True)}
    assert by_id["b"]["zonder_affiniteiten"] and not by_id["b"]["zonder_beroepssectoren"]
    assert by_id["c"]["zonder_affiniteiten"] and by_id["c"]["zonder_beroepssectoren"]
    assert by_id["e"]["zonder_taaksoortvraag"] and by_id["e"]["klantsoort"] == "gemeente"
    plan = classify(open_source(path), select_ruleset("teldefinitie"))
    assert plan.frame.filter(pl.col("client_id") == "f").select("uitkomst").collect().item() == "uitgesloten"


def test_xlsx_one_sheet_per_gemeente_with_notice_and_mode_0600(tmp_path: Path) -> None:
    output = tmp_path / "w.xlsx"
    result = runner.invoke(app, ["werklijst", str(SAMPLE), "--amr", "1", "--format", "xlsx", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    book = openpyxl.load_workbook(output)
    regio = count_file(SAMPLE).region(1)
    gemeenten = regio.filter(
        (pl.col("niveau") == "gemeente") & ((pl.col("gemeente_profiel_nee") + pl.col("uwv_profiel_nee")) > 0)
    )
    assert book.sheetnames == gemeenten["gemeente"].to_list()
    for name, row in zip(book.sheetnames, gemeenten.iter_rows(named=True), strict=True):
        ws = book[name]
        assert ws["A1"].value == NOTICE
        assert ws["A2"].value == "client_id"
        assert ws.max_row - 2 == row["gemeente_profiel_nee"] + row["uwv_profiel_nee"]
    assert not list(tmp_path.glob(".*part"))  # no temporary file left behind


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_format_is_private(tmp_path: Path, fmt: str) -> None:
    output = tmp_path / f"w.{fmt}"
    output.write_text("old")
    output.chmod(0o644)
    result = runner.invoke(app, ["werklijst", str(SAMPLE), "--amr", "35", "--format", fmt, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_scope_is_required_and_checked(tmp_path: Path) -> None:
    out = str(tmp_path / "w.csv")
    for args in ([], ["--amr", "1", "--gemeente", "Assen"], ["--amr", "36"], ["--gemeente", "Bergen"]):
        result = runner.invoke(app, ["werklijst", str(SAMPLE), "--output", out, *args])
        assert result.exit_code == 2, (args, result.output)
    result = runner.invoke(app, ["werklijst", str(SAMPLE), "--output", out, "--gemeente", "Bergen"])
    assert "Bergen (NH.)" in result.output
    assert not Path(out).exists()


def test_invalid_rows_fail_as_count_does(tmp_path: Path) -> None:
    path = write_parquet([client("a", affiniteiten=None), client("a")], tmp_path / "in.parquet")
    result = runner.invoke(app, ["werklijst", str(path), "--gemeente", "Assen", "--output", str(tmp_path / "w.csv")])
    assert result.exit_code == 2 and "client_id_dubbel" in result.output
    quarantine = tmp_path / "q.parquet"
    result = runner.invoke(
        app,
        [
            "werklijst",
            str(path),
            "--gemeente",
            "Assen",
            "--output",
            str(tmp_path / "w.csv"),
            "--on-invalid",
            "quarantine",
            "--quarantine",
            str(quarantine),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pl.read_csv(tmp_path / "w.csv").height == 0 and pl.read_parquet(quarantine).height == 2


def test_a_prepared_file_gives_the_same_list(tmp_path: Path) -> None:
    records = [client("a"), client("b", affiniteiten=None), client("c", indicering="bijstand", beroepssectoren=[])]
    raw = write_parquet(records, tmp_path / "raw.parquet")
    prepared = tmp_path / "prepared.parquet"
    assert runner.invoke(app, ["prepare", str(raw), str(prepared)]).exit_code == 0
    assert werklijst_file(prepared, amr=1).rijen.equals(werklijst_file(raw, amr=1).rijen)
    assert werklijst_file(raw, amr=1).rijen["client_id"].to_list() == ["c", "b"]


def test_a_werklijst_of_bsns_is_refused(tmp_path: Path) -> None:
    """The worklist writes client_ids: a file of BSNs stops before a list of them is written."""
    from typer.testing import CliRunner

    from engine.cli import app

    bsns = ["111222333", "123456782", "192837461", "100000009", "999999990"]  # pass the elfproef
    records = pl.read_parquet(Path(__file__).resolve().parents[1] / "sample_data" / "clients-2025q2.parquet").head(5)
    source = tmp_path / "bsn.parquet"
    records.with_columns(pl.Series("client_id", bsns)).write_parquet(source)
    out = tmp_path / "w.csv"
    result = CliRunner().invoke(app, ["werklijst", str(source), "--amr", "1", "--output", str(out)])
    assert result.exit_code == 2 and "elfproef" in result.stderr
    assert not out.exists()
