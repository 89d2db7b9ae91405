"""Measuring one thing at a time, each in a fresh process.

Two halves:

- :func:`run_process` runs a command as a child process and returns its wall time, its
  CPU time (user + sys) and its peak resident memory, all from the kernel's own accounting
  (``os.wait4`` in a small launcher gives the rusage of exactly that child, so maxima never
  accumulate across measurements). A psutil watchdog polls the child's RSS and kills it
  past a limit.
- The *worker* (``python benchmarks/measure.py MEASURE FILE ...``) is that child for the
  in-process measures: it imports everything first, then times only the call itself
  (engine ``count_file``, DuckDB on the rules-only SQL from ``engine.sql``, the bare Polars
  scan, the pandas baseline, the generator), and writes the resulting table to Parquet so the
  runner can compare the tables.

The whole-process measures (``transparantie count|funnel|profiel``, the DuckDB same-work peer
``benchmarks/duckdb_peer.py`` and the rules-first floor ``benchmarks/floor.py``) need no worker:
:func:`run_process` runs them as they are, and :func:`script_command` builds the command of the
two scripts. Only the runner (benchmarks/run.py) and the smoke test use this module.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024

#: The in-process measures a worker can run on a file.
WORKER_MEASURES = ("engine", "duckdb_rules", "scan", "pandas")


# --- the parent side: one child process, measured ----------------------------------------------


@dataclass
class ProcessStats:
    """What one child process cost. ``peak_rss_mib`` is the kernel's high-water mark (ru_maxrss)."""

    command: list[str]
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    returncode: int
    sampled_peak_rss_mib: float = 0.0  # the highest RSS the watchdog saw (a cross-check)
    killed_over_mib: float | None = None  # the RSS at which the watchdog killed it
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.killed_over_mib is None


#: A minimal launcher between the runner and the measured process. On Linux a child's
#: ru_maxrss starts at its parent's peak RSS (vfork + exec carries the high-water mark over),
#: so spawning from the runner (hundreds of MiB after importing Polars and DuckDB) would
#: put a floor under every measurement. This launcher runs without site-packages (about
#: 10 MiB), spawns the command, and reports that one child's rusage from ``os.wait4``.
LAUNCHER = """
import os, sys, time
out, err, result = sys.argv[1:4]
command = sys.argv[4:]
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [(os.POSIX_SPAWN_OPEN, 1, out, flags, 0o644), (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o644)]
started = time.perf_counter()
pid = os.posix_spawn(command[0], command, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(result, "w") as f:
    f.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_process(
    command: Sequence[str | Path],
    *,
    stdout: Path | None = None,
    rss_limit_mib: float | None = None,
    poll_s: float = 0.02,
    cwd: Path | None = None,
) -> ProcessStats:
    """Run ``command`` (its first element an absolute path) to completion; measure wall, CPU
    and peak RSS of that process alone, via :data:`LAUNCHER`. A watchdog polls the RSS every
    ``poll_s`` seconds and kills the process past ``rss_limit_mib``."""
    import psutil

    argv = [str(c) for c in command]
    sampled: list[float] = [0.0]
    killed: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-proc-") as tmp:
        err, result = Path(tmp) / "stderr", Path(tmp) / "result"
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-I", "-c", LAUNCHER, str(stdout or os.devnull), str(err), str(result), *argv],
            cwd=cwd,
        )
        done = threading.Event()

        def watch() -> None:
            try:
                parent = psutil.Process(launcher.pid)
                while not done.wait(poll_s):
                    for child in parent.children():
                        rss = child.memory_info().rss / MIB
                        sampled[0] = max(sampled[0], rss)
                        if rss_limit_mib is not None and rss > rss_limit_mib:
                            killed.append(rss)
                            child.kill()  # psutil refuses if the pid was reused meanwhile
                            return
            except psutil.Error:
                return  # the process is gone

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        launcher_code = launcher.wait()
        done.set()
        watcher.join()
        tail = err.read_bytes()[-4000:].decode("utf-8", "replace") if err.exists() else ""
        if launcher_code != 0 or not result.exists():
            raise RuntimeError(f"the measuring launcher failed (exit {launcher_code}) for {argv}: {tail}")
        wall, cpu, maxrss_kib, code = result.read_text().split()
    return ProcessStats(
        command=argv,
        wall_s=float(wall),
        cpu_s=float(cpu),
        peak_rss_mib=int(maxrss_kib) / 1024,  # Linux reports KiB
        returncode=int(code),
        sampled_peak_rss_mib=sampled[0],
        killed_over_mib=killed[0] if killed else None,
        stderr_tail=tail,
    )


def worker_command(measure: str, path: Path, table: Path, result: Path, columns: Sequence[str] = ()) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), measure, str(path), "--table", str(table)]
    command += ["--result", str(result)]
    if columns:
        command += ["--columns", ",".join(columns)]
    return command


def script_command(script: str, *args: str | Path) -> list[str]:
    """``python benchmarks/<script> ARGS...``: a whole-process measure beside this module."""
    return [sys.executable, str(Path(__file__).resolve().parent / script), *(str(a) for a in args)]


def generate_command(out: Path, rows: int, seed: int, scale: int | None, result: Path) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "generate", str(out), "--rows", str(rows)]
    command += ["--seed", str(seed), "--result", str(result)]
    if scale is not None:
        command += ["--scale", str(scale)]
    return command


# --- which columns the engine reads ------------------------------------------------------------


def columns_the_engine_reads(path: Path, sample_rows: int = 1000) -> list[str] | None:
    """The columns ``count_file`` projects from ``path``, after Polars' projection pushdown.

    The engine's own plan is run on a stand-in scan (a Polars IO plugin over the first
    ``sample_rows`` rows of the file) that records which columns it is asked for. Returns
    None when that cannot be determined (then the caller falls back to every column).
    """
    import polars as pl
    from polars.io.plugins import register_io_source

    import engine.count as count_module

    real_open = count_module.open_source
    asked: list[list[str]] = []

    def stand_in(p: Path | str, lezen=None):  # type: ignore[no-untyped-def]
        source = real_open(p, lezen)

        def io_source(with_columns, predicate, n_rows, batch_size) -> Iterator[pl.DataFrame]:  # type: ignore[no-untyped-def]
            columns = list(with_columns) if with_columns is not None else source.schema.names()
            asked.append(columns)
            frame = pl.read_parquet(source.path, columns=columns, n_rows=sample_rows)
            yield frame.filter(predicate) if predicate is not None else frame

        return dataclasses.replace(source, frame=register_io_source(io_source, schema=source.schema))

    count_module.open_source = stand_in  # type: ignore[assignment]
    try:
        count_module.count_file(path)
    except Exception:
        return None
    finally:
        count_module.open_source = real_open
    if not asked:
        return None
    seen = {c for columns in asked for c in columns}
    return [c for c in pl.read_parquet_schema(path) if c in seen]


# --- the in-process measures (run inside the worker) ---------------------------------------------


def engine_table(path: Path):  # type: ignore[no-untyped-def]
    """The engine's entry point, exactly as the CLI calls it (default rules, no peildatum)."""
    from engine.count import count_file

    return count_file(path).table


def duckdb_rules_table(path: Path):  # type: ignore[no-untyped-def]
    """DuckDB on the SQL that engine.sql builds from the rule declarations (never hand-written).

    On a raw file this is the rules only, no contract: typed columns are taken as they are,
    no null words, no client_id, date or duplicate check (engine.sql's own docstring says so).
    On a prepared file the contract was applied by ``prepare``, so it is the same work as
    counting that file."""
    import duckdb
    import polars as pl

    from engine.indeling import default_indeling
    from engine.layout import publication_table
    from engine.rules import DEFAULT_RULES, select_ruleset
    from engine.source import open_source
    from engine.sql import cells_sql, normalised_from_parquet, normalised_from_prepared

    ruleset = select_ruleset(DEFAULT_RULES, None)
    indeling = default_indeling()
    prepared = open_source(path).prepared is not None
    if prepared:
        record = normalised_from_prepared(str(path), None)
    else:
        record = normalised_from_parquet(str(path), indeling, None)
    with duckdb.connect() as con:
        cells = con.sql(cells_sql(record, ruleset, None)).pl()
    return publication_table(cells.with_columns(pl.col("n").cast(pl.UInt32)), indeling)


def scan_expressions(schema, columns: Sequence[str]):  # type: ignore[no-untyped-def]
    """One cheap reduction per column that still needs every value decoded."""
    import polars as pl

    exprs = []
    for name in columns:
        dtype = schema[name]
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            expr = col.list.len().sum()
        elif dtype == pl.String:
            expr = col.str.len_bytes().sum()
        elif isinstance(dtype, pl.Enum | pl.Categorical):
            expr = col.to_physical().sum()
        elif dtype in (pl.Date, pl.Boolean):
            expr = col.cast(pl.Int64).sum()
        else:
            expr = col.sum()
        exprs.append(expr.alias(name))
    return exprs


def scan_table(path: Path, columns: Sequence[str]):  # type: ignore[no-untyped-def]
    """A bare Polars scan that decodes the columns the engine reads, and nothing else."""
    import polars as pl

    scan = pl.scan_parquet(path)
    schema = scan.collect_schema()
    return scan.select(scan_expressions(schema, columns or schema.names())).collect()


def pandas_table(path: Path):  # type: ignore[no-untyped-def]
    """The baseline an analyst would write in plain pandas: read, mask, string ops, groupby.

    Deliberately hand-written (the rules are typed in, not read from rules/): it is the
    thing the engine is compared with, and the runner checks its table equals the engine's.
    It does no input validation (generated files have no invalid rows).
    """
    import pandas as pd
    import polars as pl

    from engine.indeling import default_indeling
    from engine.layout import publication_table

    taak = [f"taaksoort_{i:02d}" for i in range(1, 21)]
    cols = ["gemeente", "status", "indicering", "indicering_begin", "indicering_einde"]
    cols += ["doelgroepregister", "banenafspraak", "affiniteiten", "beroepssectoren", *taak]
    df = pd.read_parquet(path, columns=cols)

    status = df["status"].str.strip().str.lower()
    mask = (
        (status == "ingeschreven")
        & df["indicering_begin"].notna()
        & df["indicering_einde"].isna()
        & df["doelgroepregister"].eq(True)
        & df["banenafspraak"].eq(True)
    )
    df = df[mask]

    indicering = df["indicering"].str.strip().str.lower()
    klantsoort = pd.Series(None, index=df.index, dtype=object)
    klantsoort[indicering.isin(["ww", "wia", "wao", "waz", "wajong", "zw", "tw", "iow"])] = "uwv"
    klantsoort[indicering.isin(["bijstand", "nug", "ioaw", "ioaz", "bbz"])] = "gemeente"

    def registered(column: pd.Series) -> pd.Series:
        values = column.explode()
        return (values.str.strip().str.len() > 0).groupby(level=0).any().reindex(column.index, fill_value=False)

    taaksoorten = sum((df[c].str.strip().str.len() > 0).astype(int) for c in taak)
    profiel = registered(df["affiniteiten"]) & registered(df["beroepssectoren"]) & (taaksoorten >= 1)

    indeling = default_indeling()
    key = (
        df["gemeente"]
        .str.normalize("NFKD")
        .str.encode("ascii", "ignore")
        .str.decode("ascii")
        .str.lower()
        .str.replace(r"[^a-z0-9]", "", regex=True)
    )
    gemeente = key.map(indeling.keys)

    cells = (
        pd.DataFrame({"gemeente": gemeente, "klantsoort": klantsoort, "profiel": profiel.astype(bool)})
        .groupby(["gemeente", "klantsoort", "profiel"], dropna=False)
        .size()
        .reset_index(name="n")
    )
    cells["gemeente"] = cells["gemeente"].astype(object).where(cells["gemeente"].notna(), None)
    return publication_table(pl.from_pandas(cells), indeling)


def _self_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_worker(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One in-process measurement (used by benchmarks/run.py).")
    parser.add_argument("measure", choices=[*WORKER_MEASURES, "generate"])
    parser.add_argument("path", type=Path)
    parser.add_argument("--table", type=Path, help="write the resulting table here (Parquet)")
    parser.add_argument("--result", type=Path, required=True, help="write the timing here (JSON)")
    parser.add_argument("--columns", default="", help="scan: the columns to decode, comma-separated")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=int, help="generate: calibrate on 2025q2 × this scale")
    args = parser.parse_args(argv)

    # Import everything the call needs before the clock starts.
    import polars  # noqa: F401

    import engine.count  # noqa: F401
    import engine.indeling
    import engine.layout  # noqa: F401

    if args.measure == "duckdb_rules":
        import duckdb  # noqa: F401
    if args.measure == "pandas":
        import pandas  # noqa: F401
    if args.measure == "generate":
        from engine.generate import generate

    engine.indeling.default_indeling()  # cached; loaded by every measure that needs it
    rss_before = _self_peak_mib()
    extra: dict[str, object] = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if args.measure == "generate":
        calibrate = "2025q2" if args.scale is not None else None
        summary = generate(args.path, rows=args.rows, seed=args.seed, calibrate=calibrate, scale=args.scale or 1)
        seconds = time.perf_counter() - t0
        table = None
        extra = {"rows": summary.rows, "counted": summary.counted, "bytes": summary.bytes}
    else:
        columns = [c for c in args.columns.split(",") if c]
        if args.measure == "engine":
            table = engine_table(args.path)
        elif args.measure == "duckdb_rules":
            table = duckdb_rules_table(args.path)
        elif args.measure == "scan":
            table = scan_table(args.path, columns)
        else:
            table = pandas_table(args.path)
        seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    if table is not None and args.table is not None:
        table.write_parquet(args.table)
    args.result.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu,
                "rss_after_imports_mib": rss_before,
                "peak_rss_mib": _self_peak_mib(),
                **extra,
            }
        )
    )
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(run_worker())
