"""The benchmark runner (issue 4): count speed and memory against DuckDB, a scan floor and pandas.

    python benchmarks/run.py --rows 1e6,1e7,1e8 [--repeats 3] [--data-dir /tmp/bench-data]
                             [--out benchmarks/results] [--rss-limit-gib 20] [--fresh] [--smoke]

Per size it generates a calibrated file with the project's generator (or reuses a cached
one), prepares it with ``transparantie prepare``, then measures round-robin, ``--repeats``
rounds, every measure in its own fresh process (see benchmarks/measure.py). Medians, min and
max go to ``--out`` as ``results-<timestamp>.json``, ``latest.json`` and ``latest.md``; the
files are rewritten after each size, so an interrupted run keeps what it finished.

DuckDB runs the SQL that engine.sql generates from the rule declarations; its table, the
pandas baseline's and the prepared file's must equal the engine's, or the run fails (exit 1).
Targets are reported as met or missed, never asserted. See benchmarks/README.md.
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
from measure import ProcessStats, columns_the_engine_reads, generate_command, run_process, worker_command

import engine
from engine.contract import CONTRACT_VERSION

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results"
DEFAULT_DATA = ROOT / "benchmarks" / "data"
#: The calibrated scale is about one counted 2025q2 table per this many rows; the rest is filler.
ROWS_PER_SCALE = 400_000
#: When the generation is cached, throughput is measured on a separate file of at most this many rows
#: (the size the generator's target is set at).
GENERATOR_PROBE_ROWS = 10_000_000
#: The generator's target: rows per second, at this many rows and more (below, set-up weighs).
GENERATOR_TARGET_RATE = 1.5e6
GENERATOR_TARGET_ROWS = 10_000_000
#: The pandas baseline runs at this size and below only.
PANDAS_MAX_ROWS = 1_000_000
SMOKE_ROWS = 20_000

#: Measures per file: (file kind, measure). "cli" is `transparantie count FILE --format csv` as
#: a whole process; the others are in-process calls timed inside a fresh worker process.
MEASURES = (
    ("raw", "cli"),
    ("raw", "engine"),
    ("raw", "duckdb"),
    ("raw", "floor"),
    ("raw", "pandas"),
    ("prepared", "cli"),
    ("prepared", "engine"),
    ("prepared", "duckdb"),
    ("prepared", "floor"),
)

TARGETS = {
    "raw_vs_duckdb": "raw file: engine ≥ 2.5× faster than DuckDB (in-process, median)",
    "raw_vs_floor": "raw file: engine ≤ 1.2× the floor (in-process, median)",
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
    """The calibration scale for ``rows``: about one table per 400k rows, the counted part
    fitting in the rows. None when even scale 1 does not fit (then the file is uncalibrated)."""
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
) -> tuple[dict[str, Any], pl.DataFrame | None]:
    """Run one measure once in a fresh process; return its record and (in-process) its table."""
    tag = f"{kind}-{measure}"
    if measure == "cli":
        out = scratch / f"{tag}.csv"
        stats = run_process(
            [cli(), "count", path, "--format", "csv"], stdout=out, rss_limit_mib=rss_limit_mib, cwd=scratch
        )
        record = stats_record(stats)
        record.update(wall_s=stats.wall_s, cpu_s=stats.cpu_s)
        if stats.ok and out.stat().st_size == 0:
            record.update(ok=False, error="empty CSV on stdout")
        out.unlink(missing_ok=True)
        return record, None
    table_path, result_path = scratch / f"{tag}.parquet", scratch / f"{tag}.json"
    command = worker_command(measure, path, table_path, result_path, columns if measure == "floor" else ())
    stats = run_process(command, rss_limit_mib=rss_limit_mib, cwd=scratch)
    record = stats_record(stats)
    table = None
    if stats.ok:
        inner = json.loads(result_path.read_text())
        record.update(
            wall_s=inner["seconds"], cpu_s=inner["cpu_s"], rss_after_imports_mib=inner["rss_after_imports_mib"]
        )
        table = pl.read_parquet(table_path)
    for p in (table_path, result_path):
        p.unlink(missing_ok=True)
    return record, table


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
        checks.setdefault(name, None)  # nothing to compare with (the engine failed)
        return
    same = table.equals(reference)
    if checks.get(name) is not False:
        checks[name] = same
    if not same:
        diff = table.join(reference, on=["niveau", "amr", "gemeente"], how="full", suffix="_engine", nulls_equal=True)
        raise BenchmarkFailure(
            f"{name}: the table differs from the engine's ({table.height} vs {reference.height} rows)\n{diff.head(10)}"
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


def run_size(
    rows: int, args: argparse.Namespace, counted_per_scale: int, rss_limit_mib: float | None, log
) -> dict[str, Any]:
    log(f"== {rows:,} rows")
    commit = git_commit()  # the engine may change between sizes of a long run
    info = ensure_files(rows, args.seed, args.data_dir, counted_per_scale, rss_limit_mib, log, args.fresh)
    paths = {kind: Path(f["path"]) for kind, f in info["files"].items() if f is not None}
    columns: dict[str, list[str]] = {}
    for kind, path in paths.items():
        found = columns_the_engine_reads(path)
        columns[kind] = found or list(pl.read_parquet_schema(path))
        info.setdefault("floor_columns_source", {})[kind] = "engine plan" if found else "every column (fallback)"
    info["floor_columns"] = columns
    info["git"] = commit

    measures = [(k, m) for k, m in MEASURES if k in paths and (m != "pandas" or rows <= PANDAS_MAX_ROWS)]
    runs: dict[str, list[dict[str, Any]]] = {f"{k}/{m}": [] for k, m in measures}
    checks: dict[str, Any] = {}
    reference: pl.DataFrame | None = None
    pending: list[tuple[str, pl.DataFrame]] = []
    with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
        for round_ in range(args.repeats):
            # Round-robin, starting one further each round, so no measure always follows the same one.
            order = measures[round_ % len(measures) :] + measures[: round_ % len(measures)]
            for kind, measure in order:
                name = f"{kind}/{measure}"
                record, table = measure_once(kind, measure, paths[kind], columns[kind], Path(tmp), rss_limit_mib)
                record["round"] = round_
                runs[name].append(record)
                shown = f"{record['wall_s']:.3f} s" if record.get("ok") else record.get("error", "failed")
                log(f"  round {round_ + 1}/{args.repeats} {name:<18} {shown}")
                if table is None or measure == "floor":
                    continue
                if measure == "engine" and reference is None:
                    reference = table  # the first engine table; every other table must equal it
                else:
                    pending.append((name, table))
                # Compare as soon as the engine's table is there.
                while pending and reference is not None:
                    other, other_table = pending.pop()
                    check_equal(f"{other.replace('/', '_')}_equals_engine", other_table, reference, checks)
    for other, _ in pending:
        checks[f"{other.replace('/', '_')}_equals_engine"] = None
    info["checks"] = checks
    info["measures"] = {name: summarise(r) for name, r in runs.items()}
    info["derived"] = derived(info)
    return info


# --- derived figures and targets ---------------------------------------------------------------


def med(info: dict[str, Any], name: str, field: str = "wall_s") -> float | None:
    return info["measures"].get(name, {}).get("median", {}).get(field)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def derived(info: dict[str, Any]) -> dict[str, Any]:
    raw_engine, prep_engine = med(info, "raw/engine"), med(info, "prepared/engine")
    return {
        "duckdb_over_engine_raw": ratio(med(info, "raw/duckdb"), raw_engine),
        "engine_over_floor_raw": ratio(raw_engine, med(info, "raw/floor")),
        "duckdb_over_engine_prepared": ratio(med(info, "prepared/duckdb"), prep_engine),
        "engine_over_floor_prepared": ratio(prep_engine, med(info, "prepared/floor")),
        "pandas_over_engine_raw": ratio(med(info, "raw/pandas"), raw_engine),
        # Proxy: counting the prepared file skips the contract (validation + normalisation).
        "validation_share": (1 - prep_engine / raw_engine) if raw_engine and prep_engine is not None else None,
        "raw_rows_per_s": ratio(float(info["rows"]), raw_engine),
        "prepared_rows_per_s": ratio(float(info["rows"]), prep_engine),
    }


def verdict(value: float | None, ok: bool | None, shown: str) -> dict[str, Any]:
    return {"value": value, "met": ok, "shown": shown}


def targets(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("raw_vs_duckdb", "raw_vs_floor"):
        per = {}
        for s in sizes:
            d = s["derived"]
            if key == "raw_vs_duckdb":
                v = d["duckdb_over_engine_raw"]
                per[s["rows"]] = verdict(v, None if v is None else v >= 2.5, "n/a" if v is None else f"{v:.2f}×")
            else:
                v = d["engine_over_floor_raw"]
                per[s["rows"]] = verdict(v, None if v is None else v <= 1.2, "n/a" if v is None else f"{v:.2f}×")
        out[key] = per
    big = [s for s in sizes if s["rows"] >= 100_000_000]
    if big:
        s = big[-1]
        wall, rss = med(s, "prepared/cli"), med(s, "prepared/cli", "peak_rss_mib")
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
        "",
        "## Wall time, median (s)",
        "",
        "`cli` = `transparantie count FILE --format csv` as a whole process (interpreter start and imports"
        " included); `engine` = `count_file()` in-process; `duckdb` = DuckDB on the SQL from `engine.sql`;"
        " `floor` = bare Polars scan decoding the columns the engine reads; `pandas` = analyst baseline"
        f" (≤ {fmt_rows(PANDAS_MAX_ROWS)} rows only).",
        "",
        "| rows | raw MB | prep MB | raw cli | raw engine | raw duckdb | raw floor | raw pandas"
        " | prep cli | prep engine | prep duckdb | prep floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        f = s["files"]
        cells = [fmt_s(med(s, f"{k}/{mm}")) for k, mm in MEASURES]
        lines.append(
            f"| {fmt_rows(s['rows'])} | {fmt_mb(f['raw']['bytes'])} | {fmt_mb((f['prepared'] or {}).get('bytes'))} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "## Ratios (medians, in-process)",
        "",
        "| rows | duckdb / engine, raw (target ≥ 2.5) | engine / floor, raw (target ≤ 1.2)"
        " | duckdb / engine, prep | engine / floor, prep | pandas / engine | validation share* |"
        " engine raw rows/s | engine prep rows/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        d = s["derived"]
        share = d["validation_share"]
        lines.append(
            f"| {fmt_rows(s['rows'])} | {fmt_x(d['duckdb_over_engine_raw'])} | {fmt_x(d['engine_over_floor_raw'])}"
            f" | {fmt_x(d['duckdb_over_engine_prepared'])} | {fmt_x(d['engine_over_floor_prepared'])}"
            f" | {fmt_x(d['pandas_over_engine_raw'])} | {'–' if share is None else f'{share:.0%}'}"
            f" | {fmt_rate(d['raw_rows_per_s'])} | {fmt_rate(d['prepared_rows_per_s'])} |"
        )
    lines += [
        "",
        "\\* Validation share, a proxy: 1 − (engine on the prepared file) / (engine on the raw file). The prepared"
        " file has the input contract (checks and normalisation) already applied, so the difference is what"
        " validating and normalising costs inside a count.",
        "",
        "## Peak RSS (MiB) against N",
        "",
        "Kernel high-water mark of each process (`ru_maxrss`); for in-process measures that is the worker"
        " process, imports included (the worker's RSS after imports is in the JSON).",
        "",
        "| rows | raw cli | prep cli | raw engine | prep engine | raw duckdb | prep duckdb | raw floor"
        " | raw pandas | generate | prepare |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        rss = [
            med(s, n, "peak_rss_mib")
            for n in (
                "raw/cli",
                "prepared/cli",
                "raw/engine",
                "prepared/engine",
                "raw/duckdb",
                "prepared/duckdb",
                "raw/floor",
                "raw/pandas",
            )
        ]
        gen, prep = s["generate"], s.get("prepare", {})
        lines.append(
            f"| {fmt_rows(s['rows'])} | "
            + " | ".join(fmt_mib(x) for x in rss)
            + f" | {fmt_mib(gen.get('peak_rss_mib'))} ({fmt_rows(gen['rows'])})"
            f" | {fmt_mib(prep.get('peak_rss_mib')) if not prep.get('cached_file') else 'cached'} |"
        )
    lines += [
        "",
        "## CPU time, median (s, user + sys)",
        "",
        "| rows | raw cli | raw engine | raw duckdb | raw floor | prep cli | prep engine | prep duckdb | prep floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        names = [f"{k}/{mm}" for k, mm in MEASURES if mm != "pandas"]
        lines.append(f"| {fmt_rows(s['rows'])} | " + " | ".join(fmt_s(med(s, n, "cpu_s")) for n in names) + " |")
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
            state = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
            where = "" if size == "all" else f"{fmt_rows(int(size))}: "
            parts.append(f"{where}{t['shown']} {state}")
        lines.append(f"- {label}: " + "; ".join(parts))
    commits = {s.get("git") for s in sizes}
    if len(commits) > 1:
        lines += ["", "Engine commit per size (it changed during the run):"]
        lines += [f"- {fmt_rows(s['rows'])}: {s.get('git')}" for s in sizes]
    lines += ["", "## Checks", ""]
    for s in sizes:
        shown = ", ".join(f"{k} {'ok' if c else ('n/a' if c is None else 'FAILED')}" for k, c in s["checks"].items())
        lines.append(f"- {fmt_rows(s['rows'])}: {shown}")
    lines += ["", "## Spread: median (min – max) wall s, runs ok", ""]
    lines += ["| rows | measure | median | min | max | ok |", "|---:|---|---:|---:|---:|---:|"]
    for s in sizes:
        for name, summary in s["measures"].items():
            if "median" not in summary:
                lines.append(f"| {fmt_rows(s['rows'])} | {name} | failed: {summary.get('error', '')[:120]} | | | 0 |")
                continue
            lines.append(
                f"| {fmt_rows(s['rows'])} | {name} | {fmt_s(summary['median']['wall_s'])}"
                f" | {fmt_s(summary['min']['wall_s'])} | {fmt_s(summary['max']['wall_s'])}"
                f" | {summary['n_ok']}/{len(summary['runs'])} |"
            )
    lines += ["", "## Floor columns", ""]
    for s in sizes[:1]:
        for kind, cols in s["floor_columns"].items():
            lines.append(
                f"- {kind} ({s['floor_columns_source'][kind]}, {len(cols)} columns): {', '.join(cols)}; "
                "strings `str.len_bytes().sum()`, lists `list.len().sum()`, dates/booleans cast to Int64 `.sum()`,"
                " enum `to_physical().sum()`, integers `.sum()`."
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
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, default=None, help=f"cached data files (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=None, help=f"results directory (default {DEFAULT_OUT})")
    parser.add_argument("--rss-limit-gib", type=float, default=20.0, help="kill a measured process past this RSS")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="generate and prepare again even when cached, to measure both at full size",
    )
    parser.add_argument("--smoke", action="store_true", help=f"tiny run: {SMOKE_ROWS:,} rows, 1 round, temp data")
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
