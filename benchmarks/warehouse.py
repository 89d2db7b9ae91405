"""Spark local (and embedded DuckDB) against Polars, on the same generated raw file (issue 15).

    .venv/bin/python benchmarks/warehouse.py --rows 1e6 [--rows 1e7] [--repeats 2] [--data-dir /tmp/bench-data]

Per size it generates the file once with ``transparantie generate OUT --rows N --seed 3``, then
times, in this process, each engine's count of it (``engine.count.count_file`` for Polars,
``engine.warehouse.count_with`` for DuckDB and Spark) and checks that every engine gives the
Polars table and reconciliation. Spark's session start-up is timed on its own, once. The first
Spark count of a size is reported separately (the JVM compiles the query's code then). Numbers
are measured, not targeted; write them into benchmarks/README.md with ``uptime``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", action="append", default=None, help="size, e.g. 1e6 (repeatable)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--engines", default="polars,duckdb,spark")
    args = parser.parse_args()
    sizes = [int(float(r)) for r in (args.rows or ["1e6"])]
    engines = args.engines.split(",")
    args.data_dir.mkdir(parents=True, exist_ok=True)

    from engine.count import count_file
    from engine.warehouse import count_with, spark_session

    report: dict[str, object] = {"uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}
    if "spark" in engines:
        report["spark_session_s"], _ = _timed(spark_session)
    for rows in sizes:
        path = args.data_dir / f"warehouse-{rows}-seed3.parquet"
        if not path.exists():
            cli = [str(Path(sys.executable).parent / "transparantie"), "generate", str(path), "--rows", str(rows)]
            subprocess.run([*cli, "--seed", "3"], check=True)
        polars_s, expected = _timed(lambda p=path: count_file(p))
        times: dict[str, list[float]] = {"polars": [polars_s]}
        first: dict[str, float] = {}
        for engine in engines:
            runs = times.setdefault(engine, [])
            for i in range(args.repeats + (1 if engine == "spark" else 0)):
                if engine == "polars":
                    seconds, result = _timed(lambda p=path: count_file(p))
                else:
                    seconds, result = _timed(lambda e=engine, p=path: count_with(e, p))
                    assert result.table.equals(expected.table), f"{engine} differs from polars at {rows} rows"
                    assert result.reconciliation == expected.reconciliation, engine
                if engine == "spark" and i == 0:
                    first[engine] = seconds
                else:
                    runs.append(seconds)
        report[str(rows)] = {
            "best_s": {e: round(min(t), 2) for e, t in times.items() if t},
            "runs_s": {e: [round(x, 2) for x in t] for e, t in times.items()},
            "spark_first_run_s": round(first.get("spark", float("nan")), 2),
            "reconciliation": expected.reconciliation.line(),
        }
        print(json.dumps(report, indent=2), flush=True)
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
