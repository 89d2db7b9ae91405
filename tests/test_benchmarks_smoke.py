"""The benchmark runner's smoke run: every measure runs once on a tiny file and the tables agree.

No timing is asserted: this only proves that the runner works end to end (generation,
prepare, every measure, the DuckDB and pandas equality checks, the JSON and the report).
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
    "raw/cli",
    "raw/engine",
    "raw/duckdb",
    "raw/floor",
    "raw/pandas",
    "prepared/cli",
    "prepared/engine",
    "prepared/duckdb",
    "prepared/floor",
}
EQUALITY_CHECKS = {
    "raw_duckdb_equals_engine",
    "prepared_duckdb_equals_engine",
    "raw_pandas_equals_engine",
    "prepared_engine_equals_engine",
}


@pytest.mark.slow
def test_smoke_run_measures_everything(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--smoke", "--out", str(out), "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((out / "latest.json").read_text())
    assert results["ok"] and results["complete"]
    assert list(out.glob("results-*.json"))
    [size] = results["sizes"]

    assert set(size["measures"]) == MEASURES
    for name, summary in size["measures"].items():
        assert summary["n_ok"] == len(summary["runs"]) == 1, (name, summary)
        for field in ("wall_s", "cpu_s", "peak_rss_mib"):
            assert field in summary["median"], (name, field)

    assert {k for k, ok in size["checks"].items() if ok is True} == EQUALITY_CHECKS

    assert size["generate"]["ok"] and size["generate"]["rows"] == size["rows"]
    assert "peak_rss_mib" in size["generate"] and "rows_per_s" in size["generate"]
    assert size["prepare"]["ok"]
    assert size["floor_columns_source"] == {"raw": "engine plan", "prepared": "engine plan"}
    assert "client_id" in size["floor_columns"]["raw"]
    derived = size["derived"]
    for key in ("duckdb_over_engine_raw", "engine_over_floor_raw", "engine_over_floor_prepared", "validation_share"):
        assert derived[key] is not None, key

    report = (out / "latest.md").read_text()
    assert "## Targets" in report and "Machine:" in report
    assert "| rows |" in report
