"""Golden cases, one file per rule in tests/golden/: a client, and where it must end up.

Each case starts from the counted client of tests/factory.py and changes a few fields:

    [[case]]
    name = "status in capitals and padded"
    set = { status = "  INGESCHREVEN " }
    null = ["indicering_einde"]       # fields set to null (TOML has no null)
    peildatum = 2025-06-30             # optional
    rules = "teldefinitie-inclusief-beschut"   # optional
    csv = true                         # optional: feed the case through CSV (all text)
    expect = "geteld"                  # geteld | a rule id (excluded) | a contract reden (rejected)
    klantsoort = "uwv"                 # optional, for counted clients
    profiel = true                     # optional, for counted clients
    gemeente = "'s-Gravenhage"         # optional, for counted clients
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from engine.contract import LIST_COLUMNS, TAAKSOORT_COLUMNS
from engine.count import count_file
from engine.outcome import OnInvalid
from engine.pipeline import classify
from engine.prepare import prepare_file
from engine.rules import select_ruleset
from engine.source import frame_source, open_source
from tests.factory import client, frame, write_parquet
from tests.helpers import counted_cells

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    pytest.param(case, id=f"{path.stem}: {case['name']}")
    for path in sorted(GOLDEN.glob("*.toml"))
    for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]
]


def _record(case: dict[str, Any]) -> dict[str, Any]:
    record = client("golden")
    record.update(case.get("set", {}))
    for name in case.get("null", []):
        record[name] = None
    return record


def _as_csv(record: dict[str, Any], path: Path) -> Path:
    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, list):
            return ";".join("" if v is None else v for v in value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    pl.DataFrame({k: [text(v)] for k, v in record.items()}, schema=dict.fromkeys(record, pl.String)).write_csv(path)
    return path


def _source(case: dict[str, Any], tmp_path: Path):
    record = _record(case)
    if case.get("csv"):
        return open_source(_as_csv(record, tmp_path / "case.csv"))
    return frame_source(frame([record]))


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: dict[str, Any], tmp_path: Path) -> None:
    peildatum: date | None = case.get("peildatum")
    ruleset = select_ruleset(case.get("rules", "teldefinitie"), peildatum)
    plan = classify(_source(case, tmp_path), ruleset, peildatum)
    row = plan.frame.select("uitkomst", "reden", "gemeente", "klantsoort", "profiel").collect().row(0, named=True)
    expect = case["expect"]
    if expect == "geteld":
        assert (row["uitkomst"], row["reden"]) == ("geteld", None)
    else:
        assert row["reden"] == expect, row
        assert row["uitkomst"] != "geteld"
    for key in ("klantsoort", "profiel", "gemeente"):
        if key in case:
            assert row[key] == case[key], (key, row)


@pytest.mark.parametrize("case", CASES)
def test_golden_case_after_prepare(case: dict[str, Any], tmp_path: Path) -> None:
    """The same case through ``prepare`` and a count of the prepared (packed, sorted) file."""
    record = _record(case)
    raw = _as_csv(record, tmp_path / "case.csv") if case.get("csv") else write_parquet([record], tmp_path / "c.parquet")
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q0.parquet")
    result = count_file(
        prepared, case.get("rules", "teldefinitie"), case.get("peildatum"), OnInvalid.QUARANTINE, tmp_path / "q.parquet"
    )
    rec, expect = result.reconciliation, case["expect"]
    assert rec.gelezen == 1 and rec.sluitend
    if expect == "geteld":
        [(gemeente, klantsoort, profiel)] = counted_cells(result)
        found = {"gemeente": gemeente, "klantsoort": klantsoort, "profiel": profiel}
        assert {k: found[k] for k in ("klantsoort", "profiel", "gemeente") if k in case} == {
            k: case[k] for k in ("klantsoort", "profiel", "gemeente") if k in case
        }
    else:
        assert rec.uitgesloten.get(expect, 0) + rec.afgewezen.get(expect, 0) == 1, rec


def test_every_rule_has_a_golden_file() -> None:
    ids = {r.id for name in ("teldefinitie", "teldefinitie-inclusief-beschut") for r in select_ruleset(name).regel}
    covered = {c.values[0]["expect"] for c in CASES}
    assert ids <= covered, f"rules without a golden case excluding on them: {sorted(ids - covered)}"


def test_golden_cases_cover_every_list_component() -> None:
    """From the parsed cases: every column a profiel onderdeel reads (the taaksoortvragen through
    ``taaksoorten``) is left blank by a case that expects profiel nee and filled by one that
    expects profiel ja; every other list component is blanked by a case that still expects ja."""
    cases = [c.values[0] for c in CASES]
    raw = {c: [c] for c in LIST_COLUMNS} | {"taaksoorten": list(TAAKSOORT_COLUMNS)}

    def profiles(column: str) -> set[bool]:
        """The profiel expected by the cases that set or blank (one of) ``column``'s raw columns."""
        return {
            case["profiel"]
            for case in cases
            if "profiel" in case and any(c in case.get("set", {}) or c in case.get("null", []) for c in raw[column])
        }

    ruleset = select_ruleset("teldefinitie")
    read = {c for o in ruleset.profiel.onderdeel for c in pl.sql_expr(o.sql).meta.root_names()}
    assert read <= set(raw), read
    for column in read:
        assert profiles(column) == {True, False}, column
    for column in set(LIST_COLUMNS) - read:
        assert True in profiles(column), column
