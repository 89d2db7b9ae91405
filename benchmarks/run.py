"""The benchmark runner (issues 4 and 12): what a count costs, whole process, against its peers.

    python benchmarks/run.py --rows 1e6,1e7,1e8 [--repeats 3] [--data-dir /tmp/bench-data]
                             [--out benchmarks/results] [--rss-limit-gib 20] [--fresh] [--smoke]

Per size it generates a calibrated file with the project's generator (or reuses a cached
one), prepares it with ``transparantie prepare``, then measures round-robin, ``--repeats``
rounds, every measure in its own fresh process (see benchmarks/measure.py). Medians, min and
max go to ``--out`` as ``results-<timestamp>.json``, ``latest.json`` and ``latest.md``; the
files are rewritten after each size, so an interrupted run keeps what it finished.

On the raw file, as whole processes (interpreter start and imports included): ``transparantie
count``, ``funnel`` and ``profiel``; the DuckDB same-work peer (the query ``transparantie sql
--dialect duckdb`` prints, on DuckDB over ``read_parquet``: benchmarks/duckdb_peer.py); the
rules-first Polars floor (benchmarks/floor.py); DuckDB on engine.sql's rules only (no contract);
pandas (1M rows and below). On the prepared file: ``transparantie count``, and in-process the
engine, DuckDB (engine.sql) and a bare scan. Every table must equal the raw ``count``'s table,
and funnel's and profiel's figures must agree with it, or the run fails (exit 1). Targets are
reported as met or missed, never asserted. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

# Run as a script, this file's directory is on sys.path: measure.py sits beside it.
from measure import (
    ProcessStats,
    columns_the_engine_reads,
    generate_command,
    run_process,
    script_command,
    worker_command,
)

import engine
from engine.contract import CONTRACT_VERSION

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results"
DEFAULT_DATA = ROOT / "benchmarks" / "data"
#: The calibrated scale is about one counted 2025q2 table (190,973 rows) per this many rows; the
#: rest is filler that no rule counts. At 10M rows that is scale 5, about 10% counted: the
#: issue 12 file (`generate OUT --calibrate 2025q2 --rows 10000000 --seed 3 --scale 5`) and
#: the 10-13% of a realistic extract that pass the rules.
ROWS_PER_SCALE = 2_000_000
DEFAULT_SEED = 3
#: When the generation is cached, throughput is measured on a separate file of at most this many rows
#: (the size the generator's target is set at).
GENERATOR_PROBE_ROWS = 10_000_000
#: The generator's target: rows per second, at this many rows and more (below, set-up weighs).
GENERATOR_TARGET_RATE = 1.5e6
GENERATOR_TARGET_ROWS = 10_000_000
#: The ratio targets of issue 12 are set at this size; they are judged here and above.
RATIO_TARGET_ROWS = 10_000_000
#: Peak RSS targets of a raw `transparantie count`, MiB, judged at exactly these sizes.
COUNT_RSS_TARGETS = {10_000_000: 800.0, 100_000_000: 1536.0}
#: Peak RSS target of `transparantie prepare`, MiB, at 100M rows and more.
PREPARE_RSS_TARGET = 3072.0
#: The pandas baseline runs at this size and below only.
PANDAS_MAX_ROWS = 1_000_000
SMOKE_ROWS = 20_000

#: Measures per file: (file kind, measure). Whole processes (interpreter start and imports
#: included): count, funnel, profiel (`transparantie <command>`), raw duckdb (the same-work
#: peer) and floor (the rules-first floor). The others are in-process calls timed inside a
#: fresh worker process (benchmarks/measure.py), which also reports its whole-process figures.
MEASURES = (
    ("raw", "count"),
    ("raw", "funnel"),
    ("raw", "profiel"),
    ("raw", "duckdb"),
    ("raw", "floor"),
    ("raw", "duckdb_rules"),
    ("raw", "pandas"),
    ("prepared", "count"),
    ("prepared", "engine"),
    ("prepared", "duckdb"),
    ("prepared", "scan"),
)
CLI_MEASURES = ("count", "funnel", "profiel")
#: The worker measure behind each in-process measure name.
WORKER = {
    "duckdb_rules": "duckdb_rules",
    "duckdb": "duckdb_rules",
    "engine": "engine",
    "scan": "scan",
    "pandas": "pandas",
}
#: The measure whose table every other table must equal.
REFERENCE = "raw/count"

TARGETS = {
    "count_vs_peer": "raw `count` ≤ 0.9× the DuckDB same-work peer (whole process, median wall; judged at ≥ 10M rows)",
    "count_vs_floor": "raw `count` ≤ 1.15× the rules-first floor (whole process, median wall; judged at ≥ 10M rows)",
    "funnel_vs_count": "raw `funnel` ≤ 1.3× raw `count` (whole process, median wall; judged at ≥ 10M rows)",
    "profiel_vs_count": "raw `profiel` ≤ 1.3× raw `count` (whole process, median wall; judged at ≥ 10M rows)",
    "count_rss": "raw `count` peak RSS ≤ 800 MiB at 10M rows and ≤ 1.5 GiB at 100M rows",
    "prepare_rss": "`prepare` peak RSS ≤ 3 GiB at 100M rows (only when the prepared file is made: --fresh)",
    "prepared_100m_time": "prepared 100M: `transparantie count` < 2 s (whole process, median wall)",
    "prepared_100m_rss": "prepared 100M: `transparantie count` peak RSS ≤ 400 MiB",
    "generator_rate": "generator ≥ 1.5M rows/s at 10M rows (and more)",
    "generator_flat": "generator peak RSS flat in N (largest ≤ 1.5× smallest size)",
}


class BenchmarkFailure(Exception):
    """A table differs from the engine's, or a measure that must succeed did not."""


# --- sizes and files ---------------------------------------------------------------------------


def parse_rows(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if part:
            sizes.append(int(float(part)))
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--rows needs positive sizes, got {text!r}")
    return sizes


def counted_at_scale_one() -> int:
    from engine.generate.population import reference_cells
    from engine.indeling import default_indeling

    return int(reference_cells("2025q2", default_indeling())[1].sum())


def scale_for(rows: int, counted_per_scale: int) -> int | None:
    """The calibration scale for ``rows``: about one table per :data:`ROWS_PER_SCALE` rows, the
    counted part fitting in the rows. None when even scale 1 does not fit (then the file is uncalibrated)."""
    scale = max(1, rows // ROWS_PER_SCALE)
    while scale > 1 and scale * counted_per_scale > rows:
        scale -= 1
    return scale if scale * counted_per_scale <= rows else None


def source_digest(*globs: str) -> str:
    h = hashlib.sha256()
    for pattern in globs:
        for path in sorted((ROOT / "engine").glob(pattern)):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:8]


def data_names(rows: int, seed: int, scale: int | None) -> tuple[str, str]:
    """Cache names: rows, seed, calibration, engine version and a digest of the code that wrote them."""
    cal = f"cal2025q2x{scale}" if scale else "uncal"
    gen = f"e{engine.__version__}-g{source_digest('generate/*.py')}"
    raw = f"clients-r{rows}-s{seed}-{cal}-{gen}"
    prep = f"{raw}-c{CONTRACT_VERSION}-p{source_digest('contract.py', 'prepare.py', 'packed.py', 'indeling.py')}"
    return raw + ".parquet", prep + ".prepared.parquet"


def cli() -> Path:
    local = Path(sys.executable).parent / "transparantie"
    found = local if local.exists() else shutil.which("transparantie")
    if not found:
        raise SystemExit("benchmarks/run.py: the `transparantie` command is not installed (pip install -e .)")
    return Path(found)


# --- one measurement ---------------------------------------------------------------------------


def stats_record(stats: ProcessStats) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ok": stats.ok,
        "process_wall_s": stats.wall_s,
        "process_cpu_s": stats.cpu_s,
        "peak_rss_mib": stats.peak_rss_mib,
        "sampled_peak_rss_mib": stats.sampled_peak_rss_mib,
    }
    if stats.killed_over_mib is not None:
        record["error"] = f"killed: RSS passed the limit ({stats.killed_over_mib:,.0f} MiB)"
    elif stats.returncode != 0:
        record["error"] = f"exit {stats.returncode}: {stats.stderr_tail.strip()[-1500:]}"
    return record


def measure_once(
    kind: str,
    measure: str,
    path: Path,
    columns: list[str],
    scratch: Path,
    rss_limit_mib: float | None,
    peer_sql: Path | None = None,
) -> tuple[dict[str, Any], Any]:
    """Run one measure once in a fresh process; return its record and what it produced: the
    publication table (a DataFrame), or the parsed JSON output of funnel and profiel.

    ``wall_s``/``cpu_s`` are the whole process's for count, funnel, profiel, the peer and the
    floor, and the timed call's for a worker; ``process_wall_s``/``process_cpu_s`` are always the
    whole process's."""
    tag = f"{kind}-{measure}"
    table_path, result_path, json_path = scratch / f"{tag}.parquet", scratch / f"{tag}.json", scratch / f"{tag}.out"
    stdout = None
    command: list[str | Path]
    if measure == "count":
        command = [cli(), "count", path, "--format", "parquet", "--output", table_path]
    elif measure in ("funnel", "profiel"):
        command, stdout = [cli(), measure, path, "--format", "json"], json_path
    elif (kind, measure) == ("raw", "duckdb"):
        from engine.warehouse import VIEW

        assert peer_sql is not None, "the peer needs the query text"
        command = [*script_command("duckdb_peer.py", path, peer_sql, VIEW, table_path)]
    elif measure == "floor":
        command = [*script_command("floor.py", path, "--table", table_path)]
    else:
        worker = WORKER[measure]
        command = [*worker_command(worker, path, table_path, result_path, columns if worker == "scan" else ())]
    stats = run_process(command, stdout=stdout, rss_limit_mib=rss_limit_mib, cwd=scratch)
    record = stats_record(stats)
    record.update(wall_s=stats.wall_s, cpu_s=stats.cpu_s)
    produced: Any = None
    if stats.ok:
        if stdout is not None:
            try:
                produced = json.loads(json_path.read_text())
            except ValueError as exc:
                record.update(ok=False, error=f"no JSON on stdout: {exc}")
        elif not table_path.exists():
            record.update(ok=False, error="no table written")
        else:
            produced = pl.read_parquet(table_path)
            if (kind, measure) == ("raw", "duckdb"):
                from engine.warehouse import as_table

                produced = as_table(produced)  # DuckDB's SUMs arrive as DOUBLE; the output's types
            if result_path.exists():
                inner = json.loads(result_path.read_text())
                record.update(
                    wall_s=inner["seconds"], cpu_s=inner["cpu_s"], rss_after_imports_mib=inner["rss_after_imports_mib"]
                )
    for p in (table_path, result_path, json_path):
        p.unlink(missing_ok=True)
    return record, produced


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, min and max of every numeric field over the successful runs."""
    good = [r for r in runs if r.get("ok")]
    summary: dict[str, Any] = {"runs": runs, "n_ok": len(good)}
    if not good:
        summary["error"] = next((r.get("error") for r in runs if r.get("error")), "no successful run")
        return summary
    for stat, fn in (("median", statistics.median), ("min", min), ("max", max)):
        summary[stat] = {
            k: fn(r[k] for r in good) for k in good[0] if isinstance(good[0][k], float) and all(k in r for r in good)
        }
    return summary


def check_equal(name: str, table: pl.DataFrame, reference: pl.DataFrame | None, checks: dict[str, Any]) -> None:
    if reference is None:
        checks.setdefault(name, None)  # nothing to compare with (the raw count failed)
        return
    same = table.equals(reference)
    if checks.get(name) is not False:
        checks[name] = same
    if not same:
        diff = table.join(reference, on=["niveau", "amr", "gemeente"], how="full", suffix="_engine", nulls_equal=True)
        raise BenchmarkFailure(
            f"{name}: the table differs from the engine's ({table.height} vs {reference.height} rows)\n{diff.head(10)}"
        )


def check_agrees(name: str, measure: str, output: dict[str, Any], reference: pl.DataFrame | None, checks: dict) -> None:
    """funnel's and profiel's JSON against the raw count's table: the clients counted (and for
    profiel those with and without a profile) in the Nederland row."""
    if reference is None:
        checks.setdefault(name, None)
        return
    nl = reference.filter(pl.col("niveau") == "nederland").row(0, named=True)
    want: dict[str, int] = {"geteld": nl["totaal"]}
    if measure == "funnel":
        got = {"geteld": output["reconciliatie"]["geteld"]}
    else:
        want |= {"ja": nl["gemeente_profiel_ja"] + nl["uwv_profiel_ja"]}
        want |= {"nee": nl["gemeente_profiel_nee"] + nl["uwv_profiel_nee"]}
        row: dict[str, Any] = next((r for r in output["overzicht"] if r["niveau"] == "nederland"), {})
        got = {k: row.get(k) for k in want}
    if checks.get(name) is not False:
        checks[name] = got == want
    if got != want:
        raise BenchmarkFailure(f"{name}: {measure} shows {got}, the count's table {want}")


def alter(table: pl.DataFrame) -> pl.DataFrame:
    """One more client in the Nederland row: what ``--alter-table`` does to prove the checks bite."""
    return table.with_columns(
        pl.when(pl.col("niveau") == "nederland").then(pl.col("totaal") + 1).otherwise(pl.col("totaal")).alias("totaal")
    )


# --- one size ----------------------------------------------------------------------------------


def ensure_files(
    rows: int,
    seed: int,
    data_dir: Path,
    counted_per_scale: int,
    rss_limit_mib: float | None,
    log,
    fresh: bool = False,
) -> dict[str, Any]:
    scale = scale_for(rows, counted_per_scale)
    raw_name, prep_name = data_names(rows, seed, scale)
    raw, prep = data_dir / raw_name, data_dir / prep_name
    info: dict[str, Any] = {
        "rows": rows,
        "seed": seed,
        "calibrated": scale is not None,
        "scale": scale,
        "counted_planned": (scale or 0) * counted_per_scale if scale else None,
    }
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        scratch = Path(tmp)
        result = scratch / "generate.json"
        if raw.exists() and not fresh:
            probe_rows = min(rows, GENERATOR_PROBE_ROWS)
            log(f"  cached {raw.name}; generator throughput on a separate {probe_rows:,} rows")
            target = scratch / "probe.parquet"
            stats = run_process(
                generate_command(target, probe_rows, seed, scale_for(probe_rows, counted_per_scale), result),
                rss_limit_mib=rss_limit_mib,
            )
            cached = True
        else:
            log(f"  generating {raw.name}")
            target = raw
            stats = run_process(generate_command(raw, rows, seed, scale, result), rss_limit_mib=rss_limit_mib)
            cached = False
        gen = stats_record(stats) | {"cached_file": cached}
        if not stats.ok:
            raise BenchmarkFailure(f"generate failed: {gen.get('error')}")
        inner = json.loads(result.read_text())
        gen.update(
            rows=inner["rows"],
            seconds=inner["seconds"],
            rows_per_s=inner["rows"] / inner["seconds"],
            counted=inner["counted"],
        )
        info["generate"] = gen

    if prep.exists() and not fresh:
        log(f"  cached {prep.name}")
        info["prepare"] = {"cached_file": True}
    else:
        log(f"  preparing {prep.name}")
        stats = run_process([cli(), "prepare", raw, prep], rss_limit_mib=rss_limit_mib)
        info["prepare"] = stats_record(stats) | {"cached_file": False, "rows_per_s": rows / stats.wall_s}
        if not stats.ok:  # recorded; the raw file is still measured
            log(f"  prepare failed: {info['prepare'].get('error')}")
    info["files"] = {
        "raw": {"path": str(raw), "bytes": raw.stat().st_size},
        "prepared": {"path": str(prep), "bytes": prep.stat().st_size} if prep.exists() else None,
    }
    return info


def peer_query(scratch: Path) -> tuple[Path, dict[str, Any]]:
    """The query the DuckDB peer runs: exactly what `transparantie sql --dialect duckdb` prints."""
    from engine.warehouse import VIEW

    command = [str(cli()), "sql", "--dialect", "duckdb", "--tabel", VIEW]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    path = scratch / "peer.sql"
    path.write_text(done.stdout)
    digest = hashlib.sha256(done.stdout.encode()).hexdigest()[:12]
    return path, {"command": "transparantie " + " ".join(command[1:]), "sha256": digest, "chars": len(done.stdout)}


def run_size(
    rows: int, args: argparse.Namespace, counted_per_scale: int, rss_limit_mib: float | None, log
) -> dict[str, Any]:
    log(f"== {rows:,} rows")
    load_before = os.getloadavg()
    commit = git_commit()  # the engine may change between sizes of a long run
    info = ensure_files(rows, args.seed, args.data_dir, counted_per_scale, rss_limit_mib, log, args.fresh)
    paths = {kind: Path(f["path"]) for kind, f in info["files"].items() if f is not None}
    columns: dict[str, list[str]] = {kind: [] for kind in paths}
    if "prepared" in paths:  # the bare scan of the prepared file decodes what the engine reads
        found = columns_the_engine_reads(paths["prepared"])
        columns["prepared"] = found or list(pl.read_parquet_schema(paths["prepared"]))
        info["scan_columns"] = columns["prepared"]
        info["scan_columns_source"] = "engine plan" if found else "every column (fallback)"
    info["git"] = commit

    measures = [(k, m) for k, m in MEASURES if k in paths and (m != "pandas" or rows <= PANDAS_MAX_ROWS)]
    runs: dict[str, list[dict[str, Any]]] = {f"{k}/{m}": [] for k, m in measures}
    checks: dict[str, Any] = {}
    reference: pl.DataFrame | None = None
    pending: list[tuple[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
        peer_sql, info["peer_query"] = peer_query(Path(tmp))
        for round_ in range(args.repeats):
            # Round-robin, starting one further each round, so no measure always follows the same one.
            order = measures[round_ % len(measures) :] + measures[: round_ % len(measures)]
            for kind, measure in order:
                name = f"{kind}/{measure}"
                record, produced = measure_once(
                    kind, measure, paths[kind], columns[kind], Path(tmp), rss_limit_mib, peer_sql
                )
                record["round"] = round_
                runs[name].append(record)
                shown = f"{record['wall_s']:.3f} s" if record.get("ok") else record.get("error", "failed")
                log(f"  round {round_ + 1}/{args.repeats} {name:<21} {shown}")
                if produced is None or measure == "scan":
                    continue
                if name == args.alter_table and isinstance(produced, pl.DataFrame):
                    produced = alter(produced)
                if name == REFERENCE and reference is None:
                    reference = produced  # the first raw count's table; every other table must equal it
                else:
                    pending.append((name, produced))
                # Compare as soon as the raw count's table is there.
                while pending and reference is not None:
                    compare(*pending.pop(), reference, checks)
    for other, _ in pending:
        checks[check_name(other)] = None
    info["checks"] = checks
    info["measures"] = {name: summarise(r) for name, r in runs.items()}
    info["derived"] = derived(info)
    info["load"] = {"before": list(load_before), "after": list(os.getloadavg())}
    return info


def check_name(name: str) -> str:
    kind, measure = name.split("/")
    return f"{kind}_{measure}_{'agrees_with' if measure in ('funnel', 'profiel') else 'equals'}_engine"


def compare(name: str, produced: Any, reference: pl.DataFrame, checks: dict[str, Any]) -> None:
    if isinstance(produced, pl.DataFrame):
        check_equal(check_name(name), produced, reference, checks)
    else:
        check_agrees(check_name(name), name.split("/")[1], produced, reference, checks)


# --- derived figures and targets ---------------------------------------------------------------


def med(info: dict[str, Any], name: str, field: str = "wall_s") -> float | None:
    return info["measures"].get(name, {}).get("median", {}).get(field)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def derived(info: dict[str, Any]) -> dict[str, Any]:
    """Ratios of medians. Raw: whole processes. Prepared: ``count`` whole, the rest in-process."""
    count, prep_engine = med(info, "raw/count"), med(info, "prepared/engine")
    return {
        "count_over_peer_raw": ratio(count, med(info, "raw/duckdb")),
        "count_over_floor_raw": ratio(count, med(info, "raw/floor")),
        "funnel_over_count_raw": ratio(med(info, "raw/funnel"), count),
        "profiel_over_count_raw": ratio(med(info, "raw/profiel"), count),
        "floor_over_peer_raw": ratio(med(info, "raw/floor"), med(info, "raw/duckdb")),
        "count_over_rules_peer_raw": ratio(count, med(info, "raw/duckdb_rules")),
        "pandas_over_count_raw": ratio(med(info, "raw/pandas", "process_wall_s"), count),
        "raw_rows_per_s": ratio(float(info["rows"]), count),
        "duckdb_over_engine_prepared": ratio(med(info, "prepared/duckdb"), prep_engine),
        "engine_over_scan_prepared": ratio(prep_engine, med(info, "prepared/scan")),
        "prepared_over_raw_count": ratio(med(info, "prepared/count"), count),
        "prepared_rows_per_s": ratio(float(info["rows"]), prep_engine),
    }


def verdict(value: float | None, ok: bool | None, shown: str) -> dict[str, Any]:
    return {"value": value, "met": ok, "shown": shown}


#: Ratio targets: (derived figure, at most this).
RATIO_TARGETS = {
    "count_vs_peer": ("count_over_peer_raw", 0.9),
    "count_vs_floor": ("count_over_floor_raw", 1.15),
    "funnel_vs_count": ("funnel_over_count_raw", 1.3),
    "profiel_vs_count": ("profiel_over_count_raw", 1.3),
}


def targets(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Each target per size: its value, met (True/False) or None where it is not judged."""
    out: dict[str, Any] = {}
    for key, (figure, limit) in RATIO_TARGETS.items():
        per = {}
        for s in sizes:
            v = s["derived"].get(figure)
            judged = v is not None and s["rows"] >= RATIO_TARGET_ROWS
            per[s["rows"]] = verdict(v, (v <= limit) if judged else None, "n/a" if v is None else f"{v:.2f}×")
        out[key] = per
    out["count_rss"] = {}
    for s in sizes:
        rss, most = med(s, "raw/count", "peak_rss_mib"), COUNT_RSS_TARGETS.get(s["rows"])
        met = None if rss is None or most is None else rss <= most
        out["count_rss"][s["rows"]] = verdict(rss, met, "n/a" if rss is None else f"{rss:,.0f} MiB")
    out["prepare_rss"] = {}
    for s in sizes:
        rss = s.get("prepare", {}).get("peak_rss_mib")
        if rss is not None:
            met = rss <= PREPARE_RSS_TARGET if s["rows"] >= 100_000_000 else None
            out["prepare_rss"][s["rows"]] = verdict(rss, met, f"{rss:,.0f} MiB")
    big = [s for s in sizes if s["rows"] >= 100_000_000]
    if big:
        s = big[-1]
        wall, rss = med(s, "prepared/count"), med(s, "prepared/count", "peak_rss_mib")
        out["prepared_100m_time"] = {
            s["rows"]: verdict(wall, None if wall is None else wall < 2.0, "n/a" if wall is None else f"{wall:.2f} s")
        }
        out["prepared_100m_rss"] = {
            s["rows"]: verdict(rss, None if rss is None else rss <= 400, "n/a" if rss is None else f"{rss:.0f} MiB")
        }
    else:
        out["prepared_100m_time"] = out["prepared_100m_rss"] = {}
    out["generator_rate"] = {
        s["rows"]: verdict(
            s["generate"]["rows_per_s"],
            s["generate"]["rows_per_s"] >= GENERATOR_TARGET_RATE
            if s["generate"]["rows"] >= GENERATOR_TARGET_ROWS
            else None,
            f"{s['generate']['rows_per_s'] / 1e6:.2f} M rows/s ({s['generate']['rows']:,} rows)",
        )
        for s in sizes
    }
    gens = sorted((s["generate"]["rows"], s["generate"]["peak_rss_mib"]) for s in sizes)
    if len({r for r, _ in gens}) >= 2:
        growth = gens[-1][1] / gens[0][1]
        out["generator_flat"] = {
            "all": verdict(growth, growth <= 1.5, f"{gens[0][1]:.0f} → {gens[-1][1]:.0f} MiB ({growth:.2f}×)")
        }
    else:
        out["generator_flat"] = {}
    return out


# --- machine and report ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import duckdb
    import psutil

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    versions = {
        "python": platform.python_version(),
        "polars": pl.__version__,
        "duckdb": duckdb.__version__,
        "engine": engine.__version__,
        "contract": CONTRACT_VERSION,
    }
    for module in ("pandas", "pyarrow", "numpy"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "versions": versions,
        "git": git_commit(),
    }


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "engine"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" + uncommitted changes in engine/" if dirty.stdout.strip() else "")


def fmt_s(v: float | None) -> str:
    return "–" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def fmt_x(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}×"


def fmt_mib(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"


def fmt_rows(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size and n % (size // 10 or 1) == 0:
            return f"{n / size:g}{unit}"
    return f"{n:,}"


RAW_COLUMNS = (
    ("raw/count", "count"),
    ("raw/funnel", "funnel"),
    ("raw/profiel", "profiel"),
    ("raw/duckdb", "DuckDB peer"),
    ("raw/floor", "floor"),
    ("raw/duckdb_rules", "DuckDB rules only†"),
    ("raw/pandas", "pandas†"),
)
PREPARED_COLUMNS = (
    ("prepared/count", "count"),
    ("prepared/engine", "engine (call)"),
    ("prepared/duckdb", "DuckDB (call)"),
    ("prepared/scan", "scan (call)"),
)


def fmt_load(load: dict[str, list[float]] | None) -> str:
    if not load:
        return "–"
    return " → ".join("/".join(f"{x:.1f}" for x in load[k]) for k in ("before", "after"))


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = m["versions"]
    sizes = results["sizes"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {results['started']} ({'complete' if results['complete'] else 'INCOMPLETE'}"
        f"{'' if results['ok'] else ', FAILED: ' + results.get('failure', '')}), "
        f"`{' '.join(results['command'])}`, {results['repeats']} round(s), median shown; warm page cache.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; {m['os']}.",
        f"Python {v['python']}, polars {v['polars']}, duckdb {v['duckdb']}, pandas {v['pandas']}, "
        f"pyarrow {v['pyarrow']}; engine {v['engine']} (contract {v['contract']}), commit {m['git']}.",
        "Load average (1/5/15 min) before → after each size: "
        + "; ".join(f"{fmt_rows(s['rows'])} {fmt_load(s.get('load'))}" for s in sizes)
        + ". On a quiet 2-core machine the 1-minute figure stays near 1 (the measured process itself).",
        "",
        "## Raw file, whole process: wall time, median (s)",
        "",
        "Every figure is one whole process, interpreter start and imports included. `count`, `funnel`,"
        " `profiel` = `transparantie <command> FILE` (count writes Parquet, funnel and profiel JSON);"
        " `DuckDB peer` = the query `transparantie sql --dialect duckdb` prints, on DuckDB over"
        " `read_parquet(FILE)` (benchmarks/duckdb_peer.py): the same contract work and rules;"
        " `floor` = the rules-first Polars floor (benchmarks/floor.py)."
        " † not the same work: `DuckDB rules only` is engine.sql's rules on typed columns with no input"
        f" contract; `pandas` the analyst baseline (≤ {fmt_rows(PANDAS_MAX_ROWS)} rows only); both in a"
        " worker that imports the engine.",
        "",
        "| rows | raw MB | counted | " + " | ".join(label for _, label in RAW_COLUMNS) + " |",
        "|---:|---:|---:|" + "---:|" * len(RAW_COLUMNS),
    ]
    for s in sizes:
        counted = s.get("counted_planned") or s["generate"].get("counted")
        share = "–" if not counted else f"{counted / s['rows']:.0%}"
        lines.append(
            f"| {fmt_rows(s['rows'])} | {fmt_mb(s['files']['raw']['bytes'])} | {share} | "
            + " | ".join(fmt_s(med(s, n, "process_wall_s")) for n, _ in RAW_COLUMNS)
            + " |"
        )
    lines += [
        "",
        "## Ratios, raw file (whole process, medians)",
        "",
        "Targets (issue 12) at 10M rows; below that the ratios are shown, not judged.",
        "",
        "| rows | count / DuckDB peer (≤ 0.9) | count / floor (≤ 1.15) | funnel / count (≤ 1.3)"
        " | profiel / count (≤ 1.3) | floor / DuckDB peer | count / DuckDB rules only | count rows/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        d = s["derived"]
        lines.append(
            f"| {fmt_rows(s['rows'])} | {fmt_x(d['count_over_peer_raw'])} | {fmt_x(d['count_over_floor_raw'])}"
            f" | {fmt_x(d['funnel_over_count_raw'])} | {fmt_x(d['profiel_over_count_raw'])}"
            f" | {fmt_x(d['floor_over_peer_raw'])} | {fmt_x(d['count_over_rules_peer_raw'])}"
            f" | {fmt_rate(d['raw_rows_per_s'])} |"
        )
    lines += [
        "",
        "## Prepared file: wall time, median (s)",
        "",
        "`count` = `transparantie count PREPARED` as a whole process; the others are in-process calls in a"
        " worker that imported everything first: `engine` = `count_file()`, `DuckDB` = the SQL from"
        " `engine.sql` on the prepared file, `scan` = a bare Polars scan decoding the columns the engine reads.",
        "",
        "| rows | prep MB | "
        + " | ".join(label for _, label in PREPARED_COLUMNS)
        + " | DuckDB / engine | engine / scan | prepared / raw count | engine rows/s |",
        "|---:|---:|" + "---:|" * (len(PREPARED_COLUMNS) + 4),
    ]
    for s in sizes:
        d = s["derived"]
        lines.append(
            f"| {fmt_rows(s['rows'])} | {fmt_mb((s['files']['prepared'] or {}).get('bytes'))} | "
            + " | ".join(fmt_s(med(s, n)) for n, _ in PREPARED_COLUMNS)
            + f" | {fmt_x(d['duckdb_over_engine_prepared'])} | {fmt_x(d['engine_over_scan_prepared'])}"
            f" | {fmt_x(d['prepared_over_raw_count'])} | {fmt_rate(d['prepared_rows_per_s'])} |"
        )
    rss_columns = [*RAW_COLUMNS, *((n, f"prep {label}") for n, label in PREPARED_COLUMNS[:3])]
    lines += [
        "",
        "## Peak RSS (MiB) against N",
        "",
        "Kernel high-water mark of each whole process (`ru_maxrss`), imports included; for in-process measures"
        " that is the worker (its RSS after imports is in the JSON).",
        "",
        "| rows | " + " | ".join(label for _, label in rss_columns) + " | generate | prepare |",
        "|---:|" + "---:|" * (len(rss_columns) + 2),
    ]
    for s in sizes:
        gen, prep = s["generate"], s.get("prepare", {})
        lines.append(
            f"| {fmt_rows(s['rows'])} | "
            + " | ".join(fmt_mib(med(s, n, "peak_rss_mib")) for n, _ in rss_columns)
            + f" | {fmt_mib(gen.get('peak_rss_mib'))} ({fmt_rows(gen['rows'])})"
            f" | {fmt_mib(prep.get('peak_rss_mib')) if not prep.get('cached_file') else 'cached'} |"
        )
    cpu_columns = [*RAW_COLUMNS, *((n, f"prep {label}") for n, label in PREPARED_COLUMNS)]
    lines += [
        "",
        "## CPU time, median (s, user + sys of the whole process)",
        "",
        "On 2 cores a fully parallel process shows CPU ≈ 2 × wall.",
        "",
        "| rows | " + " | ".join(label for _, label in cpu_columns) + " |",
        "|---:|" + "---:|" * len(cpu_columns),
    ]
    for s in sizes:
        lines.append(
            f"| {fmt_rows(s['rows'])} | " + " | ".join(fmt_s(med(s, n, "process_cpu_s")) for n, _ in cpu_columns) + " |"
        )
    lines += [
        "",
        "## Generator and prepare",
        "",
        "| rows | generated rows | cached file | seconds | M rows/s | peak RSS MiB | prepare s"
        " | prepare peak RSS MiB |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        g, p = s["generate"], s.get("prepare", {})
        lines.append(
            f"| {fmt_rows(s['rows'])} | {g['rows']:,} | {'yes' if g['cached_file'] else 'no'} | {fmt_s(g['seconds'])}"
            f" | {g['rows_per_s'] / 1e6:.2f} | {fmt_mib(g['peak_rss_mib'])}"
            f" | {fmt_s(p.get('process_wall_s'))} | {fmt_mib(p.get('peak_rss_mib'))}"
            f"{' (FAILED: ' + p.get('error', '')[:80] + ')' if p.get('ok') is False else ''} |"
        )
    lines += ["", "## Targets (reported, not asserted)", ""]
    for key, label in TARGETS.items():
        per = results["targets"].get(key, {})
        if not per:
            lines.append(f"- {label}: not measured in this run")
            continue
        parts = []
        for size, t in per.items():
            state = {True: "met", False: "MISSED", None: "not judged"}[t["met"]]
            where = "" if size == "all" else f"{fmt_rows(int(size))}: "
            parts.append(f"{where}{t['shown']} {state}")
        lines.append(f"- {label}: " + "; ".join(parts))
    commits = {s.get("git") for s in sizes}
    if len(commits) > 1:
        lines += ["", "Engine commit per size (it changed during the run):"]
        lines += [f"- {fmt_rows(s['rows'])}: {s.get('git')}" for s in sizes]
    lines += [
        "",
        "## Checks",
        "",
        "Every table must equal the table of the raw `transparantie count` (`_equals_engine`); funnel's"
        " geteld and profiel's geteld/ja/nee in the Nederland row must agree with it (`_agrees_with_engine`).",
        "A difference fails the run (exit 1).",
        "",
    ]
    for s in sizes:
        shown = ", ".join(f"{k} {'ok' if c else ('n/a' if c is None else 'FAILED')}" for k, c in s["checks"].items())
        lines.append(f"- {fmt_rows(s['rows'])}: {shown}")
    lines += ["", "## Spread: median (min – max) whole-process wall s, runs ok", ""]
    lines += ["| rows | measure | median | min | max | ok |", "|---:|---|---:|---:|---:|---:|"]
    for s in sizes:
        for name, summary in s["measures"].items():
            if "median" not in summary:
                lines.append(f"| {fmt_rows(s['rows'])} | {name} | failed: {summary.get('error', '')[:120]} | | | 0 |")
                continue
            lines.append(
                f"| {fmt_rows(s['rows'])} | {name} | {fmt_s(summary['median']['process_wall_s'])}"
                f" | {fmt_s(summary['min']['process_wall_s'])} | {fmt_s(summary['max']['process_wall_s'])}"
                f" | {summary['n_ok']}/{len(summary['runs'])} |"
            )
    lines += ["", "## The peer's query and the scan's columns", ""]
    for s in sizes[:1]:
        q = s.get("peer_query")
        if q:
            lines.append(f"- DuckDB peer: `{q['command']}`, {q['chars']:,} characters, sha256 {q['sha256']}.")
        if s.get("scan_columns"):
            cols = s["scan_columns"]
            lines.append(
                f"- prepared scan ({s['scan_columns_source']}, {len(cols)} columns): {', '.join(cols)}; "
                "integers `.sum()`, dates cast to Int64 `.sum()`, strings `str.len_bytes().sum()`."
            )
    return "\n".join(lines) + "\n"


def fmt_mb(n: int | None) -> str:
    if n is None:
        return "–"
    return f"{n / 1e6:.1f}" if n < 10e6 else f"{n / 1e6:,.0f}"


def fmt_rate(v: float | None) -> str:
    return "–" if v is None else f"{v / 1e6:.1f} M"


def write_results(results: dict[str, Any], out: Path, stamp: str) -> None:
    results["targets"] = targets(results["sizes"])
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=1, default=str)
    (out / f"results-{stamp}.json").write_text(text)
    (out / "latest.json").write_text(text)
    (out / "latest.md").write_text(markdown(results))


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=parse_rows, default=None, help="sizes, e.g. 1e6,1e7,1e8")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every measure (median reported)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"generator seed (default {DEFAULT_SEED})")
    parser.add_argument("--data-dir", type=Path, default=None, help=f"cached data files (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=None, help=f"results directory (default {DEFAULT_OUT})")
    parser.add_argument("--rss-limit-gib", type=float, default=20.0, help="kill a measured process past this RSS")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="generate and prepare again even when cached, to measure both at full size",
    )
    parser.add_argument("--smoke", action="store_true", help=f"tiny run: {SMOKE_ROWS:,} rows, 1 round, temp data")
    # For the smoke test only: one more client in this measure's table (e.g. raw/duckdb) before it
    # is compared, to prove that a differing table fails the run.
    parser.add_argument("--alter-table", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    temp_data = None
    if args.smoke:
        args.rows = args.rows or [SMOKE_ROWS]
        args.repeats = 1
        if args.data_dir is None:
            temp_data = tempfile.TemporaryDirectory(prefix="bench-smoke-")
            args.data_dir = Path(temp_data.name)
    args.rows = args.rows or [1_000_000]
    args.data_dir = (args.data_dir or DEFAULT_DATA).resolve()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    out = (args.out or DEFAULT_OUT).resolve()
    rss_limit = args.rss_limit_gib * 1024 if args.rss_limit_gib > 0 else None

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    now = dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {
        "started": now.isoformat(timespec="seconds"),
        "command": ["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])],
        "args": {k: (str(val) if isinstance(val, Path) else val) for k, val in vars(args).items()},
        "repeats": args.repeats,
        "machine": machine(),
        "complete": False,
        "ok": True,
        "sizes": [],
    }
    counted_per_scale = counted_at_scale_one()
    code = 0
    try:
        for rows in args.rows:
            results["sizes"].append(run_size(rows, args, counted_per_scale, rss_limit, log))
            write_results(results, out, stamp)
        results["complete"] = True
    except BenchmarkFailure as failure:
        results["ok"] = False
        results["failure"] = str(failure).splitlines()[0]
        log(f"BENCHMARK FAILED: {failure}")
        code = 1
    finally:
        write_results(results, out, stamp)
        if temp_data is not None:
            temp_data.cleanup()
    log(f"results: {out / 'latest.md'}")
    if code == 0:
        print((out / "latest.md").read_text())
    return code


if __name__ == "__main__":
    sys.exit(main())
