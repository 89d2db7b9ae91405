"""The benchmark runner's smoke run: every measure runs once on a tiny file and the tables agree.

No timing is asserted: this only proves that the runner works end to end (generation,
prepare, every measure, the equality checks of the DuckDB same-work peer, the rules-first
floor and the other tables against the raw count's, the JSON and the report), and that a
peer whose table differs fails the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "benchmarks" / "run.py"
MEASURES = {
    "raw/count",
    "raw/funnel",
    "raw/profiel",
    "raw/duckdb",
    "raw/floor",
    "raw/duckdb_rules",
    "raw/pandas",
    "prepared/count",
    "prepared/engine",
    "prepared/duckdb",
    "prepared/scan",
}
EQUALITY_CHECKS = {
    "raw_duckdb_equals_engine",
    "raw_floor_equals_engine",
    "raw_duckdb_rules_equals_engine",
    "raw_pandas_equals_engine",
    "raw_funnel_agrees_with_engine",
    "raw_profiel_agrees_with_engine",
    "prepared_count_equals_engine",
    "prepared_engine_equals_engine",
    "prepared_duckdb_equals_engine",
}
DERIVED = (
    "count_over_peer_raw",
    "count_over_floor_raw",
    "funnel_over_count_raw",
    "profiel_over_count_raw",
    "duckdb_over_engine_prepared",
    "engine_over_scan_prepared",
)


def run_smoke(tmp: Path, data: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp / "results"
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--smoke", "--out", str(out), "--data-dir", str(data), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done, out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by both runs: the second reuses the generated and prepared files."""
    return tmp_path_factory.mktemp("bench-data")


@pytest.mark.slow
def test_smoke_run_measures_everything(tmp_path: Path, data_dir: Path) -> None:
    done, out = run_smoke(tmp_path, data_dir)
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((out / "latest.json").read_text())
    assert results["ok"] and results["complete"]
    assert list(out.glob("results-*.json"))
    [size] = results["sizes"]

    assert set(size["measures"]) == MEASURES
    for name, summary in size["measures"].items():
        assert summary["n_ok"] == len(summary["runs"]) == 1, (name, summary)
        for field in ("wall_s", "cpu_s", "peak_rss_mib", "process_wall_s", "process_cpu_s"):
            assert field in summary["median"], (name, field)
        assert summary["median"]["peak_rss_mib"] > 0, name

    # The peers' tables (and every other table) were compared with the raw count's, and were equal.
    assert size["checks"] == dict.fromkeys(EQUALITY_CHECKS, True)

    assert size["generate"]["ok"] and size["generate"]["rows"] == size["rows"]
    assert "peak_rss_mib" in size["generate"] and "rows_per_s" in size["generate"]
    assert size["prepare"]["ok"]
    assert size["scan_columns_source"] == "engine plan"
    assert size["peer_query"]["command"] == "transparantie sql --dialect duckdb --tabel transparantie_invoer"
    for key in DERIVED:
        assert size["derived"][key] is not None, key
    assert set(results["targets"]) >= {"count_vs_peer", "count_vs_floor", "funnel_vs_count", "profiel_vs_count"}

    report = (out / "latest.md").read_text()
    assert "## Targets" in report and "Machine:" in report
    assert "count / DuckDB peer" in report and "count / floor" in report
    assert "raw_duckdb_equals_engine ok" in report and "raw_floor_equals_engine ok" in report


@pytest.mark.slow
@pytest.mark.parametrize("measure", ["raw/duckdb", "raw/floor"])
def test_smoke_run_fails_when_a_peer_differs(tmp_path: Path, data_dir: Path, measure: str) -> None:
    done, out = run_smoke(tmp_path, data_dir, "--alter-table", measure)
    assert done.returncode == 1, done.stderr[-3000:]
    check = f"{measure.replace('/', '_')}_equals_engine"
    assert f"BENCHMARK FAILED: {check}: the table differs" in done.stderr
    results = json.loads((out / "latest.json").read_text())
    assert not results["ok"] and results["failure"].startswith(check)
