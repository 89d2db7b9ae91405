"""The count as one SQL query (engine.warehouse), run on real engines: DuckDB and a local Spark.

Every check compares with the Polars engine (``count_file``) or the official table, over the
calibrated sample and over the golden cases, all cases of one kind in one file.
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import sqlglot
from typer.testing import CliRunner

from engine.cli import app
from engine.count import OnInvalid, count_file
from engine.reference import compare, load_reference
from engine.rules import select_ruleset
from engine.warehouse import DIALECTS, VIEW, as_table, query, run_queries
from tests.conftest import ROOT, SAMPLE
from tests.factory import write_parquet
from tests.test_golden import CASES, _as_csv, _record

runner = CliRunner()
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: Golden cases whose input the SQL does not accept, with the reason; every reason is a phrase
#: of the README's "In your warehouse" section (checked below).
NOT_IN_SQL = {
    "no date-format detection": [
        "open_dienstverlening: CSV: a Dutch date dd-mm-jjjj, the day before it begins",
        "open_dienstverlening: CSV: a Dutch date dd-mm-jjjj, the day it begins (so not read as 3 January)",
        "open_dienstverlening: CSV: d-m-jjjj without leading zeros, the day before it begins",
        "open_dienstverlening: CSV: d-m-jjjj without leading zeros, the day it begins",
        "open_dienstverlening: CSV: dd/mm/jjjj, the day it begins (31 is a day, so not mm/dd)",
        "open_dienstverlening: CSV: dd/mm/jjjj, the day before it begins",
        "open_dienstverlening: CSV: jjjjmmdd, the day it begins",
        "open_dienstverlening: CSV: jjjjmmdd, the day before it begins",
        "open_dienstverlening: CSV: Excel serial 45717 is 2025-03-01, the day it begins",
        "open_dienstverlening: CSV: Excel serial 45717 is 2025-03-01, the day before it begins",
        "open_dienstverlening: CSV: dd-mm-jjjj with a time part",
        "open_dienstverlening: CSV: einde 31-12-9999 is no end: open",
    ],
    "LOWER instead of casefold": ["ingeschreven: case-folded as Python's casefold: the long s of ingeſchreven"],
}


def _section() -> str:
    start = README.index("## In your warehouse")
    return README[start : README.index("\n## ", start + 1)]


def test_every_skipped_golden_case_has_a_documented_reason() -> None:
    names = {c.id for c in CASES}
    for reason, cases in NOT_IN_SQL.items():
        assert reason in _section(), f"README 'In your warehouse' does not explain: {reason}"
        assert set(cases) <= names, sorted(set(cases) - names)


def _skipped() -> set[str]:
    return {name for cases in NOT_IN_SQL.values() for name in cases}


# --- the calibrated sample --------------------------------------------------------------------------


def _duckdb_sample_view() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW clients AS SELECT * FROM read_parquet('{SAMPLE}')")
    return con


def test_sql_command_on_duckdb_gives_the_official_table() -> None:
    result = runner.invoke(app, ["sql", "--dialect", "duckdb", "--tabel", "clients"])
    assert result.exit_code == 0, result.output
    table = as_table(_duckdb_sample_view().sql(result.stdout.strip().rstrip(";")).pl())
    _, official = load_reference("2025q2")
    assert compare(table, official) == []
    assert table.equals(count_file(SAMPLE).table)


def test_controles_query_gives_the_reconciliation() -> None:
    result = runner.invoke(app, ["sql", "--tabel", "clients", "--controles", "--peildatum", "2025-06-30"])
    assert result.exit_code == 0, result.output
    rows = _duckdb_sample_view().sql(result.stdout.strip().rstrip(";")).pl()
    rec = count_file(SAMPLE, peildatum=date(2025, 6, 30)).reconciliation
    got = {(u, r): n for u, r, n in rows.iter_rows()}
    assert sum(got.values()) == rec.gelezen
    assert got.get(("geteld", None), 0) == rec.geteld
    assert {r: n for (u, r), n in got.items() if u == "uitgesloten"} == {k: v for k, v in rec.uitgesloten.items() if v}


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "duckdb"])
def test_other_dialects_parse_back(dialect: str) -> None:
    ruleset = select_ruleset("teldefinitie-inclusief-beschut")
    for shape in ("tabel", "controles"):
        text = query("warehouse.clients", ruleset, date(2025, 6, 30), dialect, shape)
        parsed = sqlglot.parse_one(text, read=dialect)
        assert parsed.find(sqlglot.exp.Table) is not None
        assert "banenafspraak OR beschut_wsw" in text.replace("\n", " ") or dialect == "tsql"


def test_bad_options_are_refused() -> None:
    assert runner.invoke(app, ["sql", "--tabel", "x; DROP TABLE y"]).exit_code == 2
    assert runner.invoke(app, ["sql", "--tabel", "x", "--dialect", "oracle"]).exit_code == 2
    out = runner.invoke(app, ["count", str(SAMPLE), "--engine", "duckdb", "--on-invalid", "quarantine"])
    assert out.exit_code == 2


def test_count_engine_duckdb_on_the_sample() -> None:
    result = runner.invoke(app, ["count", str(SAMPLE), "--engine", "duckdb", "--reference", "2025q2"])
    assert result.exit_code == 0, result.output
    assert "238.717 records gelezen = 190.973 geteld + 47.744 uitgesloten + 0 afgewezen" in result.output
    assert "alle 1.895 cellen gelijk" in result.output


# --- the golden cases, grouped into one file per (rules, peildatum, csv) --------------------------


def _groups() -> dict[tuple[str, date | None, bool], list[dict[str, Any]]]:
    groups: dict[tuple[str, date | None, bool], list[dict[str, Any]]] = defaultdict(list)
    for param in CASES:
        if param.id in _skipped():
            continue
        case = param.values[0]
        groups[(case.get("rules", "teldefinitie"), case.get("peildatum"), bool(case.get("csv")))].append(
            {**case, "id": param.id}
        )
    return groups


GROUPS = _groups()


def _write(key: tuple[str, date | None, bool], cases: list[dict[str, Any]], directory: Path) -> Path:
    records = []
    for i, case in enumerate(cases):
        record = _record(case)
        if "client_id" not in case.get("set", {}) and "client_id" not in case.get("null", []):
            record["client_id"] = f"golden-{i:03d}"
        records.append(record)
    if key[2]:
        frames = [pl.read_csv(_as_csv(r, directory / f"r{i}.csv"), infer_schema=False) for i, r in enumerate(records)]
        path = directory / "cases.csv"
        pl.concat(frames, how="vertical").write_csv(path)
        return path
    return write_parquet(records, directory / "cases.parquet")


def _polars(path: Path, key: tuple[str, date | None, bool], directory: Path):
    return count_file(path, key[0], key[1], OnInvalid.QUARANTINE, directory / "q.parquet")


def _ids(cases: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    out: dict[str | None, dict[str, Any]] = {}
    for i, case in enumerate(cases):
        set_id = case.get("set", {}).get("client_id")
        cid = None if "client_id" in case.get("null", []) else set_id if set_id is not None else f"golden-{i:03d}"
        out[cid] = case
    return out


@pytest.mark.parametrize("key", list(GROUPS), ids=lambda k: f"{k[0]}-{k[1]}-{'csv' if k[2] else 'parquet'}")
def test_golden_cases_on_duckdb(key: tuple[str, date | None, bool], tmp_path: Path) -> None:
    cases = GROUPS[key]
    path = _write(key, cases, tmp_path)
    ruleset = select_ruleset(key[0], key[1])
    shapes = ("tabel", "controles", "records")
    got = run_queries("duckdb", [path], {s: query(VIEW, ruleset, key[1], "duckdb", s) for s in shapes})
    engine = _polars(path, key, tmp_path)
    assert as_table(got["tabel"]).equals(engine.table)
    controles = {r: n for _, r, n in got["controles"].iter_rows()}
    rec = engine.reconciliation
    assert controles.get(None, 0) == rec.geteld
    uitgesloten = {k: v for k, v in rec.uitgesloten.items() if v}
    assert {r: n for r, n in controles.items() if r in rec.uitgesloten} == uitgesloten
    assert {r: n for r, n in controles.items() if r is not None and r not in rec.uitgesloten} == rec.afgewezen
    # Each case, one by one, ends where its golden file says.
    by_id = _ids(cases)
    for cid, uitkomst, reden, gemeente, klantsoort, profiel in got["records"].iter_rows():
        case = by_id[cid]
        expect = case["expect"]
        assert (reden if expect != "geteld" else uitkomst) == expect, (case["id"], uitkomst, reden)
        found = {"gemeente": gemeente, "klantsoort": klantsoort, "profiel": profiel}
        for k in ("gemeente", "klantsoort", "profiel"):
            if k in case:
                assert found[k] == case[k], (case["id"], k, found)


# --- Spark --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every Spark test (startup takes seconds)."""
    missing = [m for m in ("pyspark",) if not _importable(m)] + ([] if shutil.which("java") else ["java"])
    if missing:
        message = f"{', '.join(missing)} not installed: pip install -e '.[dev]' and Java 17"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from engine.warehouse import spark_session

    session = spark_session()
    yield session
    session.stop()


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_count_engine_spark_on_the_sample_matches_the_reference(spark: Any) -> None:
    result = runner.invoke(app, ["count", str(SAMPLE), "--engine", "spark", "--reference", "2025q2"])
    assert result.exit_code == 0, result.output
    assert "238.717 records gelezen = 190.973 geteld + 47.744 uitgesloten + 0 afgewezen" in result.output
    assert "alle 1.895 cellen gelijk" in result.output


def test_count_engine_spark_on_the_golden_cases(spark: Any, tmp_path: Path) -> None:
    """All golden groups in one Spark job each: the same table and reconciliation as Polars."""
    from engine.warehouse import count_with

    for n, (key, cases) in enumerate(GROUPS.items()):
        directory = tmp_path / str(n)
        directory.mkdir()
        path = _write(key, cases, directory)
        engine = _polars(path, key, directory)
        peer = count_with("spark", path, key[0], key[1], fail_on_invalid=False)
        assert peer.table.equals(engine.table), key
        assert peer.reconciliation == engine.reconciliation, key


def test_rejected_rows_stop_count_engine_duckdb_like_polars(tmp_path: Path) -> None:
    from tests.factory import client

    path = write_parquet(
        [client("a"), client("b", gemeente="Atlantis"), client("b2", indicering="xyz")], tmp_path / "x.parquet"
    )
    polars = runner.invoke(app, ["count", str(path)])
    duck = runner.invoke(app, ["count", str(path), "--engine", "duckdb"])
    assert polars.exit_code == duck.exit_code == 2
    assert "gemeente_onbekend" in duck.output and "Atlantis" in duck.output and "klantsoort_onbepaald" in duck.output
    assert duck.output == polars.output


def test_the_query_takes_every_rule_from_the_rule_set_and_restates_none() -> None:
    source = (ROOT / "engine" / "warehouse.py").read_text(encoding="utf-8")
    for name in ("teldefinitie", "teldefinitie-inclusief-beschut"):
        ruleset = select_ruleset(name)
        for literal in ruleset.literals() | set(ruleset.klantsoort.uwv) | set(ruleset.klantsoort.gemeente):
            assert f"'{literal}'" not in source, literal
        text = " ".join(query("clients", ruleset, None, "duckdb").split())
        for regel in ruleset.regel:
            parsed = sqlglot.parse_one(regel.sql, read="duckdb").sql("duckdb")
            assert parsed in text, regel.id
