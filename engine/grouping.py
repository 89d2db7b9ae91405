"""Grouping strategies: how the records of a plan become the few groups a command aggregates.

A command asks for ``uitkomst``, ``reden`` and some columns per group (``keep``, expressions
over the classified record, see engine.pipeline.with_rules), with ``n``, the rows in each
group. How the records get there is a :class:`Strategy`:

* ``per_record``: every record is classified and grouped (any file; the only way when a kept
  column or a decision reads a column outside the packed key of a prepared file);
* ``per_group``: a raw file: per record only the first contract check broken and the rules
  failed, as small integers, are grouped with what ``keep`` reads; the outcome, the klantsoort
  and what ``keep`` derives from them are decided per group;
* ``packed_aantal``: a prepared file whose rules read nothing outside ``sleutel``: only the rows
  with ``aantal > 0`` (one per distinct ``sleutel``) are read and their ``aantal`` summed;
* ``packed_bits``: per row, the rules that read a column outside ``sleutel`` (the indicering
  dates at a peildatum, say) become spare bits of the key, grouped on that one integer;
* ``packed_per_row``: the same verdicts as group keys of their own (when no bits are spare).

:func:`choose` picks the cheapest that applies; a caller (a test) may name one. Whatever the
strategy, the decisions per group are the very expressions engine.pipeline uses per record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import polars as pl

from engine.contract import AFGEWEZEN_NR, RAW_PREFIX, record_columns, reden_of
from engine.indeling import Indeling
from engine.packed import AANTAL, BITS, DERIVED_COLUMNS, SLEUTEL, Layout, field_dtype, on_null_bits
from engine.pipeline import ONDERDEEL_PREFIX, RULE_PREFIX, SIGNAAL_PREFIX, Plan, outcome
from engine.prepared import check_prepared
from engine.privacy import BSN_COLUMN, bsn_count
from engine.rules import RuleSet

#: Columns of the classified record that follow from the decisions, not from a field.
DECIDED = ("uitkomst", "reden", "klantsoort", "profiel")


class Strategy(StrEnum):
    PER_RECORD = "per_record"
    PER_GROUP = "per_group"
    PACKED_AANTAL = "packed_aantal"
    PACKED_BITS = "packed_bits"
    PACKED_PER_ROW = "packed_per_row"


def _reads(sql: str) -> set[str]:
    return set(pl.sql_expr(sql).meta.root_names())


@dataclass(frozen=True)
class _Packed:
    """What the packed strategies need to know about a plan and ``keep``."""

    layout: Layout
    per_row: dict[str, str]  # rule id -> SQL that reads a column outside sleutel
    per_group: dict[str, str]  # rule id -> SQL decided per group
    group_fields: list[str]
    row_fields: list[str]
    kept_fields: list[str]

    @property
    def fits(self) -> bool:
        """Whether the per-row verdicts fit in the spare bits of the key."""
        return self.layout.bits + len(self.per_row) <= BITS


def _packed(plan: Plan, keep: Mapping[str, pl.Expr]) -> _Packed | None:
    """None when the packed strategies cannot serve: not a prepared file, or a kept column,
    klantsoort or profiel reads a column outside ``sleutel`` (a date, ``client_id``)."""
    if plan.source.prepared is None:
        return None
    ruleset = plan.ruleset
    layout = check_prepared(plan.source, ruleset, plan.indeling)
    per_group_columns = layout.names() | set(DERIVED_COLUMNS)
    kept_reads = _kept_reads(ruleset, keep)
    decided_reads = _reads(ruleset.klantsoort.sql()) | _reads(ruleset.profiel.sql())
    if (kept_reads | decided_reads) - per_group_columns:
        return None

    def on_bits_if_possible(sql: str) -> str:
        rewritten = on_null_bits(sql)
        return rewritten if not _reads(rewritten) - per_group_columns else sql

    conditions = {rid: on_bits_if_possible(sql) for rid, sql in ruleset.condition_sql(plan.peildatum).items()}
    per_row = {rid: sql for rid, sql in conditions.items() if _reads(sql) - per_group_columns}
    per_group = {rid: sql for rid, sql in conditions.items() if rid not in per_row}

    def fields(reads: set[str]) -> list[str]:
        wanted = reads | ({"gemeente"} if "amr" in reads else set())
        return [f.name for f in layout.fields if f.name in wanted]

    group_reads = {"gemeente", "afgewezen", *_reads(ruleset.klantsoort.sql()), *_reads(ruleset.profiel.sql())}
    group_reads |= {c for o in ruleset.profiel.onderdeel for c in _reads(o.sql)}
    group_reads |= {c for sql in per_group.values() for c in _reads(sql)}
    return _Packed(
        layout=layout,
        per_row=per_row,
        per_group=per_group,
        group_fields=fields(group_reads | kept_reads),
        row_fields=fields({c for sql in per_row.values() for c in _reads(sql)}),
        kept_fields=fields(kept_reads),
    )


def choose(plan: Plan, keep: Mapping[str, pl.Expr]) -> Strategy:
    """The cheapest strategy that can group ``plan`` keeping ``keep``."""
    return _cheapest(plan, _packed(plan, keep), keep)


def _cheapest(plan: Plan, packed: _Packed | None, keep: Mapping[str, pl.Expr]) -> Strategy:
    if packed is None:
        return Strategy.PER_GROUP if _per_group(plan, keep) is not None else Strategy.PER_RECORD
    if not packed.per_row:
        return Strategy.PACKED_AANTAL
    return Strategy.PACKED_BITS if packed.fits else Strategy.PACKED_PER_ROW


def grouped_outcomes(plan: Plan, keep: Mapping[str, pl.Expr], strategy: Strategy | None = None) -> pl.LazyFrame:
    """``uitkomst``, ``reden`` and every ``keep`` column, with ``n``, the rows that share them,
    and ``bsn_achtig``, the BSN-like client_ids among them (0 for a prepared file: it was
    checked when it was prepared, and for a rules-first plan: its prepass counted them).
    Groups need not be distinct: a caller sums ``n`` (and ``bsn_achtig``) over the columns it
    shows.

    ``strategy``: None chooses (:func:`choose`); a named one that cannot serve the plan is a
    ValueError.
    """
    packed = _packed(plan, keep)
    strategy = strategy or _cheapest(plan, packed, keep)
    if strategy is Strategy.PER_GROUP:
        per_group = _per_group(plan, keep)
        if per_group is None:
            raise ValueError("per_group groups only a raw file, on keep columns that do not shadow what they read")
        return per_group
    if strategy is not Strategy.PER_RECORD:
        return _packed_groups(plan, keep, packed, strategy).with_columns(pl.lit(0, dtype=pl.Int64).alias(BSN_COLUMN))
    columns = [e.alias(name) for name, e in keep.items()]
    return (
        plan.frame.group_by("uitkomst", "reden", *columns)
        .agg(pl.len().alias("n"), *bsn_aggregation(plan))
        .with_columns(bsn_or_zero(plan))
    )


#: What :func:`outcome_groups` keeps besides ``uitkomst`` and ``reden``: count's cell and status.
OUTCOME_KEYS = ("gemeente", "klantsoort", "profiel", "status")


def outcome_groups(plan: Plan, strategy: Strategy | None = None) -> pl.LazyFrame:
    """``uitkomst``, ``reden``, gemeente, klantsoort, profiel (not rules-first: the profile then
    comes from the counted candidates) and status, with ``n`` and ``bsn_achtig``
    (:func:`grouped_outcomes`): what ``count`` and a rules-first ``profiel`` aggregate."""
    keep = {k: pl.col(k) for k in OUTCOME_KEYS if k != "profiel" or plan.candidates is None}
    return grouped_outcomes(plan, keep, strategy)


#: :data:`Strategy.PER_GROUP`'s keys: the position of the first contract check a record breaks
#: (engine.contract.AFGEWEZEN_NR) and the rules it fails, one bit each (rule i: bit i).
NIET_VOLDAAN = "niet_voldaan"


def _per_group(plan: Plan, keep: Mapping[str, pl.Expr]) -> pl.LazyFrame | None:
    """:data:`Strategy.PER_GROUP`, or None when it cannot serve (a prepared file, more than 64
    rules, a ``keep`` name that shadows a column another expression reads).

    Per record, the contract verdict and the rule flags become two small integers, grouped
    with gemeente, status and what ``keep`` reads; per group the reden text, every rule flag,
    the klantsoort, ``uitkomst``/``reden`` and the ``keep`` expressions that read those are
    decided, by the very expressions of engine.pipeline. What the klantsoort reads (indicering)
    is grouped on its raw value and normalised per group, by the expressions of
    engine.contract: folding indicering on every record cost more than the rest of the
    grouping. It is a key only on the records that keep the contract and hold every rule (null
    elsewhere: nothing else depends on it) unless ``keep`` shows it.

    10M generated rows, count's record query: 2.25 -> 1.3 s (with the prepass's blank-id check,
    which spares reading client_id).
    """
    flags = [RULE_PREFIX + rid for rid in plan.ruleset.condition_sql(plan.peildatum)]
    if plan.source.prepared is not None or len(flags) > 64:
        return None
    source, ruleset = plan.source, plan.ruleset

    def reads(e: pl.Expr) -> set[str]:
        return set(e.meta.root_names())

    klantsoort = ruleset.klantsoort_expr()
    by_klantsoort = reads(klantsoort) - {"peildatum"}
    columns = record_columns(
        source.schema, plan.indeling, plan.peildatum, source.datumformaten, ruleset.folded_values()
    ).for_(by_klantsoort)
    # Normalised per group: columns of one stage, each from its own raw column.
    regrouped = by_klantsoort if not columns.second and columns.inputs() == by_klantsoort else set()
    decided = {"uitkomst", "reden", "klantsoort", "afgewezen", *flags}
    later = {k: e for k, e in keep.items() if reads(e) & (decided | regrouped)}
    rows: dict[str, pl.Expr] = {AFGEWEZEN_NR: pl.col(AFGEWEZEN_NR), NIET_VOLDAAN: pl.col(NIET_VOLDAAN)}
    wanted = [(k, e.alias(k)) for k, e in keep.items() if k not in later]
    if {k for k, _ in wanted} & (decided | regrouped):
        return None  # a key under the name of what is decided per group
    needed = {r for e in [*later.values(), klantsoort] for r in reads(e)} - decided - regrouped - {"peildatum"}
    wanted += [(r, pl.col(r)) for r in sorted(needed)]
    shown = any(reads(e) & regrouped for e in keep.values())
    decides = (pl.col(AFGEWEZEN_NR).is_null() & (pl.col(NIET_VOLDAAN) == 0)) if not shown else pl.lit(True)
    wanted += [(c, pl.when(decides).then(pl.col(RAW_PREFIX + c)).alias(c)) for c in sorted(regrouped)]
    for name, e in wanted:
        if name in rows and not rows[name].meta.eq(e):
            return None
        rows[name] = e
    dtype = next(
        t for t, bits in ((pl.UInt8, 8), (pl.UInt16, 16), (pl.UInt32, 32), (pl.UInt64, 64)) if len(flags) <= bits
    )
    failed = (
        pl.sum_horizontal((~pl.col(flag)).cast(dtype) * pl.lit(1 << i, dtype=dtype) for i, flag in enumerate(flags))
        if flags
        else pl.lit(0, dtype=dtype)
    )
    grouped = (
        plan.flagged.with_columns(failed.cast(dtype).alias(NIET_VOLDAAN))
        .group_by(*rows.values())
        .agg(pl.len().alias("n"), *bsn_aggregation(plan))
        .with_columns(
            reden_of(pl.col(AFGEWEZEN_NR)).alias("afgewezen"),
            *(((pl.col(NIET_VOLDAAN) & pl.lit(1 << i, dtype=dtype)) == 0).alias(flag) for i, flag in enumerate(flags)),
        )
    )
    if regrouped:
        grouped = columns.apply(grouped)
    outcome_ = outcome(ruleset, plan.peildatum)
    return (
        grouped.with_columns(klantsoort.alias("klantsoort"))
        .with_columns(uitkomst=outcome_["uitkomst"], reden=outcome_["reden"])
        .with_columns(*(e.alias(k) for k, e in later.items()), bsn_or_zero(plan))
        .select("uitkomst", "reden", *keep, "n", BSN_COLUMN)
    )


def bsn_aggregation(plan: Plan) -> list[pl.Expr]:
    """The BSN count (engine.privacy) for an aggregation over the records of a raw file; none
    for a prepared file (checked when it was prepared) or when the plan's prepass counted them."""
    return [] if _bsn_known(plan) else [bsn_count("client_id")]


def bsn_or_zero(plan: Plan) -> pl.Expr:
    return pl.lit(0, dtype=pl.Int64).alias(BSN_COLUMN) if _bsn_known(plan) else pl.col(BSN_COLUMN)


def _bsn_known(plan: Plan) -> bool:
    return plan.source.prepared is not None or plan.prepass is not None


def _canonical(
    layout: Layout,
    indeling: Indeling,
    fields: list[str],
    decisions: list[str],
    peildatum: date | None,
    whole: Sequence[str] = (),
) -> pl.Expr:
    """``sleutel`` with only ``fields`` kept, and each field that the decisions read on its
    own reduced to one canonical code per class of values they cannot tell apart.

    Status, say, is read only by ``status = 'ingeschreven'``: every other status decides
    alike, so all of them group as the first one. The classes come from evaluating each
    decision on the field's few values (no record is read); a field read together with
    another field in one decision is kept whole, and so are gemeente, the verdict and the
    fields in ``whole`` (those a caller shows as they are). Fewer distinct keys make the
    group-by and the per-group decisions cheaper.
    """
    reads = [(_reads(sql) - {"peildatum"}, sql) for sql in decisions]
    key = pl.col(SLEUTEL) & pl.lit(layout.mask(fields), dtype=pl.UInt64)
    for name in fields:
        texts = [sql for columns, sql in reads if name in columns]
        shared = any(columns != {name} for columns, _ in reads if name in columns)
        if name in ("gemeente", "afgewezen", *whole) or shared:
            continue
        field = layout.field(name)
        values = pl.DataFrame({name: pl.Series([None, *field.values], dtype=field_dtype(name, indeling))})
        verdicts = values.with_columns(pl.lit(peildatum, dtype=pl.Date).alias("peildatum")).select(
            pl.sql_expr(t).alias(f"d{i}") for i, t in enumerate(texts)
        )
        first: dict[tuple[object, ...], int] = {}
        canonical = [first.setdefault(row, code) for code, row in enumerate(verdicts.iter_rows())]
        if canonical == list(range(len(canonical))):
            continue  # every value decides differently: nothing to merge
        step = pl.lit(1 << field.offset, dtype=pl.UInt64)
        merged = pl.lit(pl.Series(canonical, dtype=pl.UInt64)).gather(field.code(pl.col(SLEUTEL))) * step
        key = key - field.code(pl.col(SLEUTEL)) * step + merged
    return key


def packed_groups(plan: Plan, keep: Mapping[str, pl.Expr], strategy: Strategy | None = None) -> pl.LazyFrame:
    """The outcome groups of a prepared file, grouped on the packed ``sleutel`` first.

    The fields of ``sleutel`` that nothing reads are masked out; after one group-by on that
    single integer (and, per strategy, the per-row verdicts) each group is decoded and the
    remaining rules, klantsoort, profiel and outcome are decided per group by the same
    expressions as per record. ``keep``: the columns per group besides ``uitkomst`` and
    ``reden``, decided per group like the outcome; the fields they read are kept whole.
    """
    packed = _packed(plan, keep)
    return _packed_groups(plan, keep, packed, strategy or _cheapest(plan, packed, keep))


def _packed_groups(plan: Plan, keep: Mapping[str, pl.Expr], packed: _Packed | None, strategy: Strategy) -> pl.LazyFrame:
    if packed is None or strategy in (Strategy.PER_RECORD, Strategy.PER_GROUP):
        raise ValueError(f"a packed strategy cannot group this plan ({strategy})")
    if strategy is Strategy.PACKED_AANTAL and packed.per_row:
        raise ValueError(f"rules {sorted(packed.per_row)} read outside sleutel: cannot sum aantal")
    if strategy is Strategy.PACKED_BITS and not packed.fits:
        raise ValueError("the per-row verdicts do not fit in the spare bits of sleutel")
    ruleset, peildatum, indeling, layout = plan.ruleset, plan.peildatum, plan.indeling, packed.layout

    def with_derived(frame: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
        frame = frame.with_columns(*layout.decode(names, indeling), pl.lit(peildatum, dtype=pl.Date).alias("peildatum"))
        return frame.with_columns(indeling.amr_of(pl.col("gemeente")).alias("amr")) if "gemeente" in names else frame

    masked = pl.col(SLEUTEL) & pl.lit(layout.mask(packed.group_fields), dtype=pl.UInt64)
    verdicts = {rid: pl.sql_expr(sql) for rid, sql in packed.per_row.items()}
    unpacked: list[pl.Expr] = []
    if strategy is Strategy.PACKED_AANTAL:  # one row per distinct sleutel carries the rows
        # Decisions per group read a field through these texts (profiel is the AND of its onderdelen).
        decisions = [*packed.per_group.values(), ruleset.klantsoort.sql(), *(o.sql for o in ruleset.profiel.onderdeel)]
        # Merging codes costs a few operations per row read: it pays on these few rows
        # (100M prepared rows: 1.3 -> 0.7 CPU-s), not on every row (5.0 -> 6.5 CPU-s).
        canonical = _canonical(layout, indeling, packed.group_fields, decisions, peildatum, packed.kept_fields)
        n = pl.col(AANTAL).sum().cast(pl.get_index_type()).alias("n")
        grouped = plan.source.frame.filter(pl.col(AANTAL) > 0).group_by(canonical.alias(SLEUTEL)).agg(n)
    elif strategy is Strategy.PACKED_BITS:  # the verdicts ride along as spare bits of the key
        rows = with_derived(plan.source.frame, packed.row_fields)
        bit = {rid: layout.bits + i for i, rid in enumerate(verdicts)}
        key = masked
        for rid, holds in verdicts.items():
            key = key + holds.cast(pl.UInt64) * pl.lit(1 << bit[rid], dtype=pl.UInt64)
        grouped = rows.group_by(key.alias(SLEUTEL)).agg(pl.len().alias("n"))
        unpacked = [
            ((pl.col(SLEUTEL) // pl.lit(1 << bit[rid], dtype=pl.UInt64)) % 2 == 1).alias(RULE_PREFIX + rid)
            for rid in verdicts
        ]
    else:
        rows = with_derived(plan.source.frame, packed.row_fields)
        flags = [holds.alias(RULE_PREFIX + rid) for rid, holds in verdicts.items()]
        grouped = rows.group_by(masked.alias(SLEUTEL), *flags).agg(pl.len().alias("n"))
    decided = outcome(ruleset, peildatum)
    return (
        with_derived(grouped, packed.group_fields)
        .with_columns(*unpacked, *(pl.sql_expr(sql).alias(RULE_PREFIX + rid) for rid, sql in packed.per_group.items()))
        .with_columns(ruleset.klantsoort_expr().alias("klantsoort"), ruleset.profiel_expr().alias("profiel"))
        .with_columns(uitkomst=decided["uitkomst"], reden=decided["reden"])
        .with_columns(_derived_flags(ruleset, keep))
        .with_columns(e.alias(name) for name, e in keep.items())
        .select("uitkomst", "reden", *keep, "n")
    )


def _derived_flags(ruleset: RuleSet, keep: Mapping[str, pl.Expr]) -> list[pl.Expr]:
    """The signaal and onderdeel flags that ``keep`` reads (engine.pipeline.with_rules)."""
    read = {c for e in keep.values() for c in e.meta.root_names()}
    flags = {SIGNAAL_PREFIX + k: e for k, e in ruleset.signaal_exprs().items()}
    flags |= {ONDERDEEL_PREFIX + k: e for k, e in ruleset.onderdeel_exprs().items()}
    return [e.alias(name) for name, e in flags.items() if name in read]


def _kept_reads(ruleset: RuleSet, keep: Mapping[str, pl.Expr]) -> set[str]:
    """The columns of the normalised record that the ``keep`` expressions read, through the
    signaal and onderdeel flags too; rule flags and decided columns are there per group."""
    texts = {SIGNAAL_PREFIX + s.id: s.sql for s in ruleset.signaal}
    texts |= {ONDERDEEL_PREFIX + o.id: o.sql for o in ruleset.profiel.onderdeel}
    reads: set[str] = set()
    for name in {c for e in keep.values() for c in e.meta.root_names()}:
        if name in texts:
            reads |= _reads(texts[name])
        elif not name.startswith(RULE_PREFIX) and name not in DECIDED:
            reads.add(name)
    return reads - {"peildatum"}
