"""``generate``: plan the population, build it chunk by chunk, stream it to the file."""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import UsageError
from engine.generate import vocab
from engine.generate.ids import round_keys
from engine.generate.mix import REASONS, parse_mix
from engine.generate.population import Population, chunk_roles, plan_population, reference_cells
from engine.generate.records import Context, build_chunk
from engine.generate.sink import Encoded, Sink, atomic_output, open_sink, output_format
from engine.indeling import Indeling, default_indeling
from engine.layout import nl_int
from engine.progress import Tik, is_groot, voortgang

#: Rows per chunk = per Parquet row group (524,288). pyarrow's writer costs about the same per
#: row from 2**18 to 2**21 rows per row group (2**17: ~5% more). Part of the seed's meaning:
#: the same seed and chunk size give the same file.
CHUNK_ROWS = 1 << 19
#: Threads that build chunks (and encode CSV; pyarrow encodes Parquet as the calling thread
#: appends it); as many chunks are in memory at once, plus one.
WORKERS = max(1, min(4, os.cpu_count() or 1))
#: The uncalibrated population follows the geography and cell shares of this reference.
WEIGHTS_REFERENCE = "2025q2"

Progress = Callable[[int, int], None]
"""Called after each chunk with (rows written, rows in total)."""


@dataclass(frozen=True)
class GenerateSummary:
    """What was written. ``expected_excluded`` is the plan per counting rule: what counting the
    file should report as excluded (the tests check the engine's own figures, not this)."""

    path: Path
    format: str  # "parquet" | "csv"
    rows: int
    counted: int
    not_counted: dict[str, int]  # reason key -> rows
    seed: int
    calibrate: str | None
    scale: int
    messy: bool
    bytes: int
    seconds: float
    expected_excluded: dict[str, int] = field(default_factory=dict)  # rule id -> rows

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        how = f"gekalibreerd op {self.calibrate} × {self.scale}" if self.calibrate else "niet gekalibreerd"
        seconds = f"{self.seconds:.1f}".replace(".", ",")
        megabytes = f"{self.bytes / 1e6:.1f}".replace(".", ",")
        per_second = f"{rate / 1e6:.2f}".replace(".", ",")
        return (
            f"{self.path} geschreven ({self.format}, {megabytes} MB): {nl_int(self.rows)} rijen, "
            f"{nl_int(self.counted)} meegeteld + {nl_int(self.rows - self.counted)} niet meegeteld; "
            f"{how}, seed {self.seed}{', rommelig' if self.messy else ''}; "
            f"{seconds} s ({per_second} mln rijen/s)"
        )


def generate(
    out: Path | str,
    *,
    rows: int | None = None,
    seed: int = 0,
    calibrate: str | None = None,
    scale: int = 1,
    messy: bool = False,
    mix: str | dict[str, float] | None = None,
    progress: Progress | None = None,
    stil: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    indeling: Indeling | None = None,
) -> GenerateSummary:
    """Write synthetic Sonar-like client records to ``out`` (Parquet, or CSV for ``*.csv``).

    Calibrated (``calibrate`` = a built-in reference name or a reference table file):
    counting the file with the default rules and no peildatum gives exactly that table,
    every cell × ``scale``. ``rows`` defaults to the counted rows plus 25% non-counted.
    Uncalibrated: ``rows`` (default 1,000,000) of which 80% counted, spread like 2025q2.
    Non-counted rows fail the rule of their reason, split by ``mix`` (engine.generate.mix).

    More than 5.000.000 rows show a progress bar on stderr when it is a terminal, unless
    ``stil`` (engine.progress); ``progress`` is called after each chunk as well.
    """
    started = time.perf_counter()
    out = Path(out)
    if seed < 0:
        raise UsageError(f"--seed moet 0 of meer zijn, niet {seed}")
    if scale < 1:
        raise UsageError(f"--scale moet 1 of meer zijn, niet {scale}")
    if scale != 1 and calibrate is None:
        raise UsageError("--scale vermenigvuldigt de gekalibreerde tabel; gebruik het met --calibrate")
    if chunk_rows < 1:
        raise UsageError(f"chunk_rows moet 1 of meer zijn, niet {chunk_rows}")
    if not out.parent.is_dir():
        raise UsageError(f"de map voor de uitvoer bestaat niet: {out.parent}")
    if out.is_dir():
        raise UsageError(f"de uitvoer is een map: {out}")
    shares = parse_mix(mix)
    indeling = indeling or default_indeling()
    name = None
    if calibrate is not None:
        name, cells = reference_cells(calibrate, indeling)
        calibrated, weights = cells, cells
    else:
        calibrated, weights = None, reference_cells(WEIGHTS_REFERENCE, indeling)[1]
    plan_rng = np.random.default_rng([seed, 0])
    population = plan_population(
        rows=rows, calibrated_cells=calibrated, weights_cells=weights, scale=scale, mix=shares, rng=plan_rng
    )
    ctx = Context(
        population=population,
        messy=messy,
        gemeenten=vocab.gemeente_variants(indeling, messy),
        id_keys=round_keys(seed),
    )
    with voortgang("Genereren", population.rows, stil=stil, groot=is_groot(rijen=population.rows)) as tik:
        _write(out, population, ctx, seed, chunk_rows, plan_rng, progress, tik)
    excluded: dict[str, int] = {}
    for reason in REASONS:
        excluded[reason.rule] = excluded.get(reason.rule, 0) + population.filler[reason.key]
    return GenerateSummary(
        path=out,
        format=output_format(out),
        rows=population.rows,
        counted=population.counted,
        not_counted=dict(population.filler),
        seed=seed,
        calibrate=name,
        scale=scale,
        messy=messy,
        bytes=out.stat().st_size,
        seconds=time.perf_counter() - started,
        expected_excluded=excluded,
    )


def _write(
    out: Path,
    population: Population,
    ctx: Context,
    seed: int,
    chunk_rows: int,
    plan_rng: np.random.Generator,
    progress: Progress | None,
    tik: Tik,
) -> None:
    """Build chunks on :data:`WORKERS` threads (numpy and pyarrow release the GIL, so every
    core works) and append them in order to a temporary file that replaces
    ``out`` only when complete (engine.generate.sink.atomic_output). A chunk depends only on
    its roles, its first row number and its own random stream, and chunks are appended in
    their order, so the file is the same whichever thread builds what and when."""
    total = population.rows
    if progress:
        progress(0, total)
    with atomic_output(out) as temporary:
        sink = open_sink(temporary, output_format(out), ctx.schema())
        try:
            _append_chunks(sink, population, ctx, seed, chunk_rows, plan_rng, progress, tik)
        except BaseException:
            with contextlib.suppress(Exception):  # the chunks' error is the one to report
                sink.close()
            raise
        sink.close()
    if progress:
        progress(total, total)


def _append_chunks(
    sink: Sink,
    population: Population,
    ctx: Context,
    seed: int,
    chunk_rows: int,
    plan_rng: np.random.Generator,
    progress: Progress | None,
    tik: Tik,
) -> None:
    total = population.rows

    def make(take: np.ndarray, start: int, number: int) -> Encoded:
        return sink.encode(build_chunk(take, start, np.random.default_rng([seed, 1, number]), ctx))

    pending: deque[tuple[int, Future[Encoded]]] = deque()
    written = 0

    def append_next() -> None:
        nonlocal written
        rows, encoded = pending.popleft()
        sink.append(encoded.result())
        written += rows
        tik(rows)
        if progress and written < total:
            progress(written, total)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        try:
            start = 0
            for number, take in enumerate(chunk_roles(population, chunk_rows, plan_rng)):
                rows = int(take.sum())
                pending.append((rows, pool.submit(make, take, start, number)))
                start += rows
                while len(pending) > WORKERS:  # every worker busy, one chunk queued
                    append_next()
            while pending:
                append_next()
        except BaseException:
            for _, future in pending:
                future.cancel()
            raise
