"""`prepare`: validate and normalise once, then count many times.

A prepared file holds every input row once, normalised (engine.contract) and packed
(engine.packed): ``sleutel`` carries the low-cardinality facts of the record (gemeente,
contract verdict, status, indicering, the flags, each profile component reduced to
"registered yes/no", the number of taaksoortvragen, whether each date is null);
``client_id``, the two indicering dates, the offending ``waarde`` and the original
``record`` number stay columns of their own. Rows are sorted by ``sleutel``; ``aantal``
holds, on one row per distinct ``sleutel``, how many rows share it, so a count that reads
nothing else sums a few million rows instead of all of them; rows of equal ``sleutel`` keep
their record order, so a file prepared twice is the same file. Rows that break the contract
stay in the file, with their reden in ``sleutel``, so counting a prepared file reconciles
against the original number of records read. Its provenance (contract and format version,
engine version, hashes of the indeling and the rule files) and the packed layout are in
the Parquet key-value metadata.

Two passes. The first streams the input through the contract into a staging file, in small
morsels (:data:`MORSEL_ROWS`); its duplicate-``client_id`` check sorts a 32-bit hash of every
id (engine.contract). The second packs and sorts, and never holds much more than
:data:`RANGE_ROWS` rows: a larger file is cut into ranges of ``sleutel`` of about that many
rows each (placed on a sample of the records), one read of the staging file writes every row
into a scratch file of its range (uncompressed Arrow IPC beside UITVOER, about 50 bytes a
row), and the ranges are sorted in memory one after the other into the one output file. A
run of equal ``sleutel`` never straddles two ranges, so ``aantal`` is exact per range.
``prepare`` pays this once (README, Performance, has the time and peak memory at 100M rows);
counting a prepared file does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source

import engine
from engine import progress
from engine.contract import CONTRACT_VERSION, RAW_PREFIX, REQUIRED_COLUMNS, normalise
from engine.errors import UsageError
from engine.indeling import INDELING_FILES, default_indeling
from engine.outcome import OnInvalid, enforce, problems_from, quarantine_path, quarantine_target, rejection_details
from engine.output import atomic_path, scratch_path
from engine.packed import (
    AANTAL,
    BITS,
    FORMAT_VERSION,
    LAYOUT_KEY,
    NULL_BITS,
    PACKED_COLUMNS,
    RECORD,
    ROW_COLUMNS,
    SLEUTEL,
    Layout,
)
from engine.paths import rules_dir
from engine.privacy import BSN_COLUMN, bsn_count, check_bsn
from engine.readers import ReadOptions
from engine.rules import available
from engine.source import PREPARED_KEY, Source, open_source, size_of

#: The columns of a prepared file, in order.
PREPARED_COLUMNS = [*ROW_COLUMNS, SLEUTEL, AANTAL, "waarde", RECORD]
#: What the first pass writes: the normalised record, status and indicering as codes.
_STAGED_COLUMNS = [*ROW_COLUMNS, *(c for c in PACKED_COLUMNS if c not in NULL_BITS.values()), "waarde", RECORD]
#: Row groups of ~1M rows let both cores decode in parallel; the sorted ``sleutel`` gives
#: each row group a narrow min/max.
ROW_GROUP_SIZE = 1_000_000
#: Rows per morsel in the first pass (Polars' default is about 100,000; see prepare_source).
MORSEL_ROWS = 25_000
#: The sort holds about this many rows in memory at a time (one key range; see :func:`_cuts`).
RANGE_ROWS = 5_000_000
#: One record in this many places the boundaries of the key ranges.
SAMPLE_EVERY = 100
_RANGE = "_bereik"


@dataclass(frozen=True)
class PrepareResult:
    read: int
    rejected: dict[str, int]
    output: Path
    provenance: dict[str, str]


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def provenance(source: Source) -> dict[str, str]:
    return {
        "contract_version": CONTRACT_VERSION,
        "format_version": FORMAT_VERSION,
        "engine_version": engine.__version__,
        "indeling_sha256": _digest(list(INDELING_FILES)),
        "rules_sha256": _digest(list(rules_dir().glob("*.toml"))),
        "source": source.path.name,
    }


def prepare_file(
    input_path: Path | str,
    output: Path,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
) -> PrepareResult:
    """Prepare one input file (:func:`prepare_source`): the entry point for the CLI and tests."""
    return prepare_source(open_source(input_path, lezen), Path(output), on_invalid, quarantine, allow_bsn)


def prepare_source(
    source: Source,
    output: Path,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    allow_bsn: bool = False,
) -> PrepareResult:
    """Two passes: the input is read once and normalised into a staging file; the staging
    file is then packed, sorted and written. Counts, invalid rows, the BSN-like client_ids
    (engine.privacy) and the distinct status and indicering values are read back from the
    staging file's small columns. OUT, the quarantine and the staging file are written
    through engine.output: atomically, mode 0600 (they hold client-level data)."""
    if source.prepared is not None:
        raise UsageError(f"{source.path} is al een voorbereid bestand; geef het oorspronkelijke bestand")
    target = quarantine_target(on_invalid, quarantine)
    indeling = default_indeling()
    # A prepared file serves every rule set: any value one of them names needs no folding.
    names = tuple(sorted({v for ruleset in available() for v in ruleset.folded_values()}))
    record = normalise(source.frame, source.schema, indeling, None, source.datumformaten, names)
    meta = provenance(source)
    # Every file goes through a temporary of its own (engine.output): OUT and the quarantine
    # appear complete or not at all; the staging file is removed whatever happens.
    with (
        atomic_path(output, private=True, option="UITVOER") as staging,
        scratch_path(output, option="UITVOER") as staged,
        quarantine_path(target) as quarantined,
    ):
        queries = [
            record.select(_STAGED_COLUMNS[:-1])
            .with_row_index(RECORD, offset=1)
            .select(_STAGED_COLUMNS)
            .with_columns(pl.col("status", "indicering").cast(pl.Categorical))
            .sink_parquet(staged, row_group_size=ROW_GROUP_SIZE, lazy=True),
        ]
        if quarantined is not None:
            # A second sink: Polars runs it as a second read of the input.
            queries.append(
                record.filter(pl.col("afgewezen").is_not_null())
                .select(
                    *(pl.col(RAW_PREFIX + c).alias(c) for c in REQUIRED_COLUMNS),
                    pl.col("afgewezen").alias("reden"),
                    "waarde",
                )
                .sink_parquet(quarantined, lazy=True)
            )
        # Smaller morsels than Polars' default: the first pass holds every raw column of the
        # morsels in flight (25 of them profile strings and lists), so they set its memory.
        with progress.bezig("Voorbereiden", *size_of(source)), pl.Config(streaming_chunk_size=MORSEL_ROWS):
            pl.collect_all(queries)
        written = pl.scan_parquet(staged)
        counts, details, statuses, indiceringen = pl.collect_all(
            [
                written.group_by("afgewezen").agg(pl.len().alias("n"), bsn_count("client_id")),
                rejection_details(written.filter(pl.col("afgewezen").is_not_null()).rename({"afgewezen": "reden"})),
                written.select(pl.col("status").cast(pl.String).drop_nulls().unique()),
                written.select(pl.col("indicering").cast(pl.String).drop_nulls().unique()),
            ]
        )
        read = int(counts["n"].sum())
        check_bsn(int(counts[BSN_COLUMN].sum()), read, allow_bsn)
        rejected = {r: int(n) for r, n, _ in counts.iter_rows() if r is not None}
        enforce(problems_from(details, indeling) if rejected else [], read, on_invalid)
        layout = Layout.build(indeling, statuses.to_series().to_list(), indiceringen.to_series().to_list())
        # Sorting by sleutel turns it into long runs (cheap to store and decode) and puts
        # rows of a group together (a cache-friendly group-by); measured in README, Performance.
        packed = written.select(*ROW_COLUMNS, layout.encode(), "waarde", RECORD)
        schema = packed.collect_schema()
        cuts = _cuts(written, layout, read)
        with contextlib.ExitStack() as parts_of:
            if cuts:
                parts = [parts_of.enter_context(scratch_path(output, option="UITVOER")) for _ in range(len(cuts) + 1)]
                _partition(packed, cuts, parts)
                staged.unlink()  # every row is in a part now: give the disk back before the output is written
                ranges = [_Range(pl.scan_ipc(part), *bounds) for part, bounds in zip(parts, _bounds(cuts), strict=True)]
            else:
                ranges = [_Range(packed, None, None)]
            _sorted(ranges, layout, schema).sink_parquet(
                staging,
                row_group_size=ROW_GROUP_SIZE,
                metadata={PREPARED_KEY: json.dumps(meta), LAYOUT_KEY: layout.to_json()},
            )
    return PrepareResult(read=read, rejected=rejected, output=output, provenance=meta)


# --- the sort by sleutel, one key range at a time ------------------------------------------------


@dataclass(frozen=True)
class _Range:
    """The rows whose sleutel lies in ``[low, high)`` (None: unbounded), in record order."""

    rows: pl.LazyFrame
    low: int | None
    high: int | None

    @property
    def one_key(self) -> bool:
        return self.low is not None and self.high == self.low + 1


def _cuts(written: pl.LazyFrame, layout: Layout, read: int) -> list[int]:
    """Where the key ranges of the sort start (the first range starts at 0): none when every
    row fits in one range. Placed on a sample of the rows (every SAMPLE_EVERY-th record), so
    that each range holds about RANGE_ROWS rows. A sleutel that alone holds half a range's rows
    or more gets a range of its own, which is written without sorting (see :func:`_sorted`),
    so no range holds much more than RANGE_ROWS rows however the keys are spread."""
    count = -(-read // RANGE_ROWS)
    if count <= 1:
        return []
    sample = written.filter(pl.col(RECORD) % SAMPLE_EVERY == 0).select(layout.encode()).collect().to_series().sort()
    if sample.is_empty():
        return []
    step = sample.len() / count
    cuts = {int(sample[int(i * step)]) for i in range(1, count)}
    heavy = sample.value_counts().filter(pl.col("count") >= step / 2).get_column(SLEUTEL).to_list()
    cuts.update(int(k) for k in heavy)
    cuts.update(int(k) + 1 for k in heavy if int(k) + 1 < 1 << BITS)
    cuts.discard(0)  # the first range starts there anyway
    return sorted(cuts)


def _bounds(cuts: list[int]) -> list[tuple[int | None, int | None]]:
    return list(zip([None, *cuts], [*cuts, None], strict=True))


def _partition(packed: pl.LazyFrame, cuts: list[int], parts: list[Path]) -> None:
    """One read of the staging file writes every row into the part of its key range: Arrow IPC,
    uncompressed (written and read back at the speed of the disk cache). The range number is a
    sum of comparisons, row by row, so the read streams (``search_sorted`` against the cuts
    did not: its memory grew with the file)."""
    number = pl.sum_horizontal(*(pl.col(SLEUTEL) >= cut for cut in cuts)).alias(_RANGE)
    numbered = packed.with_columns(number)
    # One collection: Polars reads the staging file once and hands every batch to each sink.
    pl.collect_all(
        [
            numbered.filter(pl.col(_RANGE) == i).drop(_RANGE).sink_ipc(part, compression=None, lazy=True)
            for i, part in enumerate(parts)
        ]
    )


def _sorted(ranges: list[_Range], layout: Layout, schema: pl.Schema) -> pl.LazyFrame:
    """The prepared rows, sorted by sleutel, with :data:`AANTAL`: the ranges one after the other,
    each sorted in memory when the sink asks for it, so that only about one range is held at a
    time. (A concatenation of lazily sorted ranges would not do: Polars runs every sort of a
    plan at once, which holds every row, as the global sort did.)

    The sort is stable and every range is in record order, so rows of equal sleutel stay in
    record order: a file prepared twice is the same file. A range of one sleutel needs no sort
    and is handed on in slices of RANGE_ROWS rows, its count on the first row."""
    types = {**schema, AANTAL: pl.UInt32()}
    prepared = pl.Schema({c: types[c] for c in PREPARED_COLUMNS})

    def batches(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        for part in ranges:
            # In memory: a streaming collect inside a Python source would wait for the very
            # threads that run it (benchmarks/README.md, the rules-first log).
            if part.one_key:
                rows = part.rows.select(pl.len()).collect(engine="in-memory").item()
                for start in range(0, rows, RANGE_ROWS):
                    n = pl.when(pl.int_range(pl.len()) == 0).then(rows if start == 0 else 0).otherwise(0)
                    chunk = part.rows.slice(start, RANGE_ROWS).with_columns(n.cast(pl.UInt32).alias(AANTAL))
                    yield _shaped(chunk.select(PREPARED_COLUMNS).collect(engine="in-memory"), with_columns, predicate)
            else:
                chunk = part.rows.sort(SLEUTEL, maintain_order=True).with_columns(layout.aantal())
                yield _shaped(chunk.select(PREPARED_COLUMNS).collect(engine="in-memory"), with_columns, predicate)

    return register_io_source(batches, schema=prepared)


def _shaped(frame: pl.DataFrame, with_columns: list[str] | None, predicate: pl.Expr | None) -> pl.DataFrame:
    """What Polars asked of the source: only these columns, only the rows that pass."""
    if predicate is not None:
        frame = frame.filter(predicate)
    return frame.select(with_columns) if with_columns is not None else frame
