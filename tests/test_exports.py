"""The exports analysts really have: each variant counts to the same table, or fails clearly.

tests/exports.py writes the same 4.000 calibrated records as Dutch Excel CSV, a warehouse
dump, Python-list text, gzip, zip, Excel, a directory of Parquet parts, SPSS, Stata and SAS
transport. Every one must give the table of the Parquet original with no option at all.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.inspect import inspect_file
from tests import exports

runner = CliRunner()
VARIANTS: dict[str, tuple[Callable[[pl.DataFrame, Path], Path], str]] = {
    "Dutch Excel CSV (; cp1252 CRLF dd-mm-jjjj WAAR/ONWAAR)": (exports.dutch_excel_csv, "nl.csv"),
    "warehouse dump (NULL, 9999-12-31, JSON lists, GM codes)": (exports.warehouse_dump, "dump.csv"),
    "Python list text, TAB, BOM, jjjjmmdd": (exports.python_lists_csv, "script.tsv"),
    "csv.gz": (exports.gzip_csv, "clients.csv.gz"),
    "zip with a CSV": (exports.zip_csv, "clients.zip"),
    "xlsx": (exports.xlsx, "clients.xlsx"),
    "Parquet directory, hive parts": (exports.parquet_parts, "parts"),
    "SPSS .sav": (exports.spss, "clients.sav"),
    "Stata .dta": (exports.stata, "clients.dta"),
    "SAS transport .xpt": (exports.sas_transport, "clients.xpt"),
}


@pytest.fixture(scope="module")
def records() -> pl.DataFrame:
    return exports.base()


@pytest.fixture(scope="module")
def expected(records: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    path = tmp_path_factory.mktemp("base") / "base.parquet"
    records.write_parquet(path)
    result = count_file(path)
    assert 0 < result.reconciliation.geteld < result.reconciliation.gelezen  # a table worth comparing
    return result.table


def run(*args: str | Path, input: bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_export_counts_to_the_same_table(
    variant: str, records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path
) -> None:
    write, name = VARIANTS[variant]
    path = write(records, tmp_path / name)
    result = count_file(path)
    assert result.reconciliation.sluitend and result.reconciliation.n_afgewezen == 0
    assert result.table.equals(expected)
    out = tmp_path / "table.csv"
    cli = run("count", path, "--format", "csv", "--output", out)
    assert cli.exit_code == 0, cli.stderr
    assert pl.read_csv(out).equals(expected)


def test_the_old_readings_would_have_differed(records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path) -> None:
    """The variants are not trivially equal: read naively (every value as given), the warehouse
    dump's '[]' and NULL lists would count as registered and its 9999-12-31 as an end."""
    dump = pl.read_csv(exports.warehouse_dump(records, tmp_path / "dump.csv"), infer_schema=False)
    naive_registered = (dump["affiniteiten"].str.len_bytes() > 0).sum()
    truly_registered = records["affiniteiten"].list.eval(pl.element().str.strip_chars() != "").list.any().sum()
    assert naive_registered > truly_registered
    assert (dump["indicering_einde"] == "9999-12-31 00:00:00").sum() > 1000


def test_several_paths_a_glob_and_stdin_are_one_input(
    records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path
) -> None:
    half = records.height // 2
    a = exports.plain_csv(records.head(half), tmp_path / "deel-1.csv")
    b = exports.plain_csv(records.tail(records.height - half), tmp_path / "deel-2.csv")
    assert count_file([a, b]).table.equals(expected)
    assert count_file(str(tmp_path / "deel-*.csv")).table.equals(expected)
    whole = exports.gzip_csv(records, tmp_path / "all.csv.gz")
    out = tmp_path / "stdin.csv"
    cli = run("count", "-", "--format", "csv", "--output", out, input=gzip.decompress(whole.read_bytes()))
    assert cli.exit_code == 0, cli.stderr
    assert pl.read_csv(out).equals(expected)


def test_stdin_from_a_pipe_in_a_real_process(records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path) -> None:
    """`zcat x.gz | transparantie count -`: no 'input file is empty'."""
    whole = exports.gzip_csv(records.head(500), tmp_path / "x.csv.gz")
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "count", "-", "--format", "csv"],
        input=gzip.decompress(whole.read_bytes()),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"500 records gelezen" in done.stderr


def test_duplicates_are_found_across_parts(records: pl.DataFrame, tmp_path: Path) -> None:
    a = exports.plain_csv(records.head(10), tmp_path / "a.csv")
    b = exports.plain_csv(records.head(1), tmp_path / "b.csv")
    result = run("count", a, b)
    assert result.exit_code == 2
    assert "client_id_dubbel" in result.stderr and records["client_id"][0] in result.stderr


# --- bad variants: exit 2, naming file, column, line or row, and value -----------------------------


def _clean_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def _with(records: pl.DataFrame, **columns: list[str | None]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return exports.as_text(records.head(n)).with_columns(pl.Series(k, v, dtype=pl.String) for k, v in columns.items())


def test_an_ambiguous_date_column_asks_for_a_format(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "ambigu.csv"
    _with(records, indicering_begin=["03/04/2024", "12/01/2023", "01/02/2022"]).write_csv(path)
    _clean_error(run("count", path), "ambigu.csv", "indicering_begin", "dd/mm/jjjj", "mm/dd/jjjj", "--datumformaat")
    ok = run("count", path, "--datumformaat", "indicering_begin=dd/mm/jjjj")
    assert ok.exit_code == 0, ok.stderr


def test_a_column_that_mixes_date_formats_is_an_error(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "gemengd.csv"
    _with(records, indicering_begin=["2024-03-31", "31-03-2024", "2023-01-05"]).write_csv(path)
    _clean_error(run("count", path), "gemengd.csv", "indicering_begin", "mengt datumformaten", "'31-03-2024'")


def test_a_date_outside_the_columns_format_is_rejected_with_its_value(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "datum.csv"
    _with(records, indicering_begin=["2024-03-31", "2024-13-45", "2023-01-05"]).write_csv(path)
    _clean_error(run("count", path), "indicering_begin_geen_datum", "'2024-13-45'", records["client_id"][1])


def test_a_row_cut_off_is_an_error_not_nulls(records: pl.DataFrame, tmp_path: Path) -> None:
    text = exports.as_text(records.head(5)).write_csv()
    cut = text[: text.rstrip("\n").rfind(",")]  # the last row loses its last field(s)
    path = tmp_path / "afgebroken.csv"
    path.write_text(cut)
    _clean_error(run("count", path), "afgebroken.csv", "1 rij(en)", "34 velden", "rij 6")


def test_a_row_with_an_extra_field_is_an_error_in_every_command(records: pl.DataFrame, tmp_path: Path) -> None:
    lines = exports.as_text(records.head(5)).write_csv().splitlines()
    lines[3] += ",extra"
    path = tmp_path / "verschoven.csv"
    path.write_text("\n".join(lines) + "\n")
    for command in (["count"], ["funnel"], ["profiel"], ["prepare", path, tmp_path / "p.parquet"]):
        args = [*command, path] if command[0] != "prepare" else command
        _clean_error(run(*args), "verschoven.csv", "35 velden", "rij 4")


def test_undecodable_bytes_name_the_line(records: pl.DataFrame, tmp_path: Path) -> None:
    text = exports.as_text(records.head(5)).write_csv().encode("utf-8")
    lines = text.split(b"\n")
    lines[3] = lines[3].replace(b",", b",\xe9\x81", 1)  # cp1252 e-acute and an undefined byte
    path = tmp_path / "kapot.csv"
    path.write_bytes(b"\n".join(lines))
    _clean_error(run("count", path), "kapot.csv", "regel 4", "0x81")


def test_invalid_utf8_late_in_a_big_file_names_the_line(records: pl.DataFrame, tmp_path: Path) -> None:
    """The sample of the first 256 KB is UTF-8; a bad byte after it is found while reading."""
    text = exports.as_text(records).write_csv().encode("utf-8")
    lines = text.split(b"\n")
    lines[-3] = lines[-3].replace(b",", b",\xff", 1)
    path = tmp_path / "laat.csv"
    path.write_bytes(b"\n".join(lines))
    assert len(text) > 300_000
    _clean_error(run("count", path), "laat.csv", f"regel {len(lines) - 2}", "0xff", "--encoding")


def test_blank_lines_are_skipped(records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path) -> None:
    path = exports.plain_csv(records, tmp_path / "leeg.csv")
    lines = path.read_text().splitlines()
    lines.insert(10, "")
    path.write_text("\n".join(lines) + "\n\n\n")
    assert count_file(path).table.equals(expected)


# --- columns -------------------------------------------------------------------------------------------


def test_a_mapping_file_names_odd_columns(records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    exports.as_text(records).rename({"client_id": "Klantnummer", "gemeente": "Woongemeente"}).write_csv(path)
    _clean_error(run("count", path), "ontbrekende kolom(men): client_id, gemeente", "Klantnummer")
    mapping = tmp_path / "kolommen.toml"
    mapping.write_text('[kolommen]\n"Klantnummer" = "client_id"\n"woongemeente" = "gemeente"\n')
    out = tmp_path / "t.csv"
    ok = run("count", path, "--kolommen", mapping, "--format", "csv", "--output", out)
    assert ok.exit_code == 0, ok.stderr
    assert pl.read_csv(out).equals(expected)
    mapping.write_text('[kolommen]\n"Klantnummer" = "klant"\n')
    _clean_error(run("count", path, "--kolommen", mapping), "'Klantnummer' wijst naar 'klant'")


def test_a_missing_column_suggests_the_nearest_header(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "typo.csv"
    exports.as_text(records.head(3)).rename({"beroepssectoren": "beroepsectoren"}).write_csv(path)
    _clean_error(run("count", path), "beroepssectoren: bedoelt u 'beroepsectoren'?")


# --- inspect -------------------------------------------------------------------------------------------


def test_inspect_reports_how_a_dutch_excel_csv_is_read(records: pl.DataFrame, tmp_path: Path) -> None:
    path = exports.dutch_excel_csv(records, tmp_path / "nl.csv")
    result = run("inspect", path)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "codering: cp1252" in out and "scheidingsteken: puntkomma" in out
    assert "indicering_begin: formaat dd-mm-jjjj (gevonden)" in out
    assert "gemeente           <- 'Gemeente '" in out
    assert f"rijen: {records.height:_}".replace("_", ".") in out
    assert "doelgroepregister: waar:" in out


def test_inspect_json_counts_sentinels_null_words_and_codes(records: pl.DataFrame, tmp_path: Path) -> None:
    path = exports.warehouse_dump(records, tmp_path / "dump.csv")
    report = json.loads(run("inspect", path, "--format", "json").stdout)
    open_count = records.filter(pl.col("indicering_einde").is_null() & pl.col("indicering_begin").is_not_null()).height
    assert report["datums"]["indicering_einde"]["geen_einde"] == open_count
    assert report["null_woorden"]["taaksoort_01"] == records["taaksoort_01"].null_count()
    assert report["gemeente_gevonden_via"]["code"] == records.height
    assert report["lijsten"]["affiniteiten"]["json"] == records["affiniteiten"].is_not_null().sum()
    direct = inspect_file(path)
    assert direct.rows == records.height


def test_inspect_names_unknown_gemeenten_with_suggestions(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    _with(records, gemeente=["Amsterdm", "Haaren", "Weesp"]).write_csv(path)
    out = run("inspect", path).stdout
    assert "'Amsterdm': 1 — bedoelt u 'Amsterdam'" in out
    assert "'Haaren': 1 — bedoelt u 'Oisterwijk' of 'Vught' of 'Boxtel' of 'Tilburg'?" in out
    assert "voormalig: 1" in out


# --- warnings --------------------------------------------------------------------------------------------


def test_an_unknown_status_everywhere_warns_and_strikt_fails(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "status.parquet"
    records.with_columns(pl.lit("Ingeschr.").alias("status")).write_parquet(path)
    result = run("count", path)
    assert result.exit_code == 0
    assert "waarschuwing: geen enkel record telt mee" in result.stderr
    assert "voorwaarde 1 (ingeschreven) sluit 4.000 van 4.000 records uit" in result.stderr
    assert "statuswaarden die de regels niet kennen: 'ingeschr.' (4.000)" in result.stderr
    strict = run("count", path, "--strikt")
    assert strict.exit_code == 3


def test_unknown_statuses_of_equal_count_warn_in_one_order() -> None:
    """Most frequent first; among equal counts by value, so the same file gives the same text."""
    from engine.count import warnings
    from engine.outcome import Reconciliation
    from engine.rules import select_ruleset

    ruleset = select_ruleset("teldefinitie")
    balance = Reconciliation(gelezen=12, geteld=2, uitgesloten={"ingeschreven": 10}, afgewezen={})
    for statuses in ({"zz": 3, "aa": 3, "mm": 4}, {"aa": 3, "mm": 4, "zz": 3}, {"mm": 4, "zz": 3, "aa": 3}):
        found = [w for w in warnings(balance, ruleset, {**statuses, "ingeschreven": 2}) if w.startswith("statusw")]
        assert found and found[0].startswith("statuswaarden die de regels niet kennen: 'mm' (4), 'aa' (3), 'zz' (3);")


def test_a_normal_file_gives_no_warning(tmp_path: Path) -> None:
    result = run("count", exports.SAMPLE, "--strikt")
    assert result.exit_code == 0, result.stderr
    assert "waarschuwing" not in result.stderr


def test_most_rows_rejected_warns(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "dubbel.parquet"
    pl.concat([records.head(100), records.head(100)]).write_parquet(path)
    result = run("count", path, "--on-invalid", "quarantine", "--quarantine", tmp_path / "q.parquet")
    assert "200 van 200 records zijn afgewezen (meer dan de helft)" in result.stderr


def test_funnel_counts_codes_former_names_and_no_end_dates(records: pl.DataFrame, tmp_path: Path) -> None:
    dump = exports.warehouse_dump(records, tmp_path / "dump.csv")
    report = json.loads(run("funnel", dump, "--format", "json").stdout)
    open_count = records.filter(pl.col("indicering_einde").is_null() & pl.col("indicering_begin").is_not_null()).height
    assert report["gemeente_via"] == {"code": records.height}
    assert report["geen_einde"] == open_count
    old = tmp_path / "oud.csv"
    _with(records, gemeente=["Weesp", "GM0457", "Amsterdam", "Den Haag"]).write_csv(old)
    text = run("funnel", old).stdout
    assert "           2  voormalig" in text and "           1  alias" in text and "           1  naam" in text


def test_excel_sep_line_and_leading_blank_lines(records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path) -> None:
    """Excel's "sep=;" first line names the delimiter; blank lines before the header are skipped."""
    body = exports.as_text(records).write_csv(separator=";")
    path = tmp_path / "sep.csv"
    path.write_text("\n\nsep=;\n" + body)
    assert count_file(path).table.equals(expected)
    assert "gegeven in de eerste regel (sep=)" in run("inspect", path).stdout


def test_mysql_null_is_no_value(records: pl.DataFrame, expected: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "mysql.tsv"
    exports.as_text(records, null="\\N").write_csv(path, separator="\t")
    assert count_file(path).table.equals(expected)


def test_padded_ids_are_one_client_and_duplicates(records: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "padded.csv"
    text = exports.as_text(records.head(3))
    text.with_columns(pl.Series("client_id", [text["client_id"][0], text["client_id"][0] + "   ", "x"])).write_csv(path)
    result = run("count", path)
    assert result.exit_code == 2 and "client_id_dubbel" in result.stderr
