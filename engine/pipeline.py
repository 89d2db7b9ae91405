"""The one lazy plan: raw records -> normalised record -> rule verdicts -> outcome per row.

Every row ends in exactly one ``uitkomst``:

* ``afgewezen``  — breaks the input contract; ``reden`` names the check;
* ``uitgesloten`` — fails a counting rule; ``reden`` names the first rule it fails;
* ``geteld``     — counted, in the cell (gemeente, klantsoort, profiel).

The commands that count read a raw file rules-first (:func:`with_rules`): one small collection
over client_id (:func:`prepass`: duplicates, BSN check), then one collection of two queries, every
record on the columns the rules read and the counted candidates with their profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from engine import progress
from engine.contract import (
    BLANK_ID_CHECK,
    CLIENT_ID,
    HASH,
    KLANTSOORT_CHECK,
    PROFILE_COLUMNS,
    RAW_PREFIX,
    RecordColumns,
    candidate_hashes,
    id_texts,
    ids_of_candidates,
    normalise,
    record_columns,
)
from engine.indeling import Indeling, default_indeling
from engine.prepared import prepared_record
from engine.privacy import BSN_COLUMN, bsn_count
from engine.rules import RuleSet
from engine.source import Source, size_of

GETELD, UITGESLOTEN, AFGEWEZEN = "geteld", "uitgesloten", "afgewezen"
UITKOMSTEN = (GETELD, UITGESLOTEN, AFGEWEZEN)
RULE_PREFIX = "regel__"
SIGNAAL_PREFIX = "signaal__"
ONDERDEEL_PREFIX = "onderdeel__"


@dataclass(frozen=True)
class Plan:
    """The classified records, still lazy, and what produced them."""

    frame: pl.LazyFrame
    ruleset: RuleSet
    peildatum: date | None
    indeling: Indeling
    source: Source
    flagged: pl.LazyFrame  # the same records before their outcome was decided (see outcome())
    #: Rules-first (a raw file): the rows that may be counted, with their profile; the records
    #: above then have none (engine.pipeline.with_rules). None: the records have the profile.
    candidates: pl.LazyFrame | None = None
    #: Rules-first: the duplicates and the BSN check, found before (engine.pipeline.prepass).
    prepass: Prepass | None = None

    def quarantine(self) -> pl.LazyFrame:
        """The rejected rows as they were read (as prepared, for a prepared file), with
        ``reden`` and ``waarde``."""
        raw = [c for c in self.frame.collect_schema().names() if c.startswith(RAW_PREFIX)]
        return self.frame.filter(pl.col("uitkomst") == AFGEWEZEN).select(
            *(pl.col(c).alias(c.removeprefix(RAW_PREFIX)) for c in raw),
            "reden",
            "waarde",
        )

    def profiles(self, keys: Mapping[str, pl.Expr]) -> pl.LazyFrame:
        """The counted rows per ``keys`` (name: expression, which may read the profile columns),
        with ``n``."""
        counted = self.candidates
        if counted is None:
            counted = self.frame.filter(pl.col("uitkomst") == GETELD)
        return counted.group_by(*(e.alias(k) for k, e in keys.items())).agg(pl.len().alias("n"))


def first_failing(flags: dict[str, pl.Expr]) -> pl.Expr:
    """The id of the first flag (in declaration order) that is False, or null if all hold."""
    result: pl.Expr = pl.lit(None, dtype=pl.String)
    for name, holds in reversed(list(flags.items())):
        result = pl.when(~holds).then(pl.lit(name)).otherwise(result)
    return result


def outcome(
    ruleset: RuleSet, peildatum: date | None, waarde_van_indicering: pl.Expr | None = None
) -> dict[str, pl.Expr]:
    """``uitkomst``, ``reden`` and ``waarde`` from the contract verdict (``afgewezen``), the rule
    flags (``regel__<id>``) and ``klantsoort``; ``waarde`` (the offending value, with the raw
    indicering for a counted row without klantsoort) only when ``waarde_van_indicering`` is given.

    The same expressions serve a frame of single records (classify) and a frame of groups
    that share those columns (count aggregates first, then classifies the groups).
    """
    failed_rule = first_failing({rid: pl.col(RULE_PREFIX + rid) for rid in ruleset.condition_sql(peildatum)})
    contract_ok = pl.col("afgewezen").is_null()
    no_klantsoort = contract_ok & failed_rule.is_null() & pl.col("klantsoort").is_null()
    decided = {
        "uitkomst": pl.when(~contract_ok | no_klantsoort)
        .then(pl.lit(AFGEWEZEN))
        .when(failed_rule.is_not_null())
        .then(pl.lit(UITGESLOTEN))
        .otherwise(pl.lit(GETELD))
        .cast(pl.Enum(UITKOMSTEN)),
        "reden": pl.when(~contract_ok)
        .then(pl.col("afgewezen"))
        .when(no_klantsoort)
        .then(pl.lit(KLANTSOORT_CHECK.reden))
        .otherwise(failed_rule),
    }
    if waarde_van_indicering is not None:
        decided["waarde"] = pl.when(no_klantsoort).then(waarde_van_indicering).otherwise("waarde")
    return decided


def counted_expr(ruleset: RuleSet, peildatum: date | None) -> pl.Expr:
    """True where a row is counted: it keeps the contract, holds every rule and has a klantsoort
    (the same verdict as :func:`outcome`'s ``geteld``)."""
    flags = [pl.col(RULE_PREFIX + rid) for rid in ruleset.condition_sql(peildatum)]
    return pl.col("afgewezen").is_null() & pl.all_horizontal(flags) & pl.col("klantsoort").is_not_null()


def _flagged(record: pl.LazyFrame, ruleset: RuleSet, peildatum: date | None) -> pl.LazyFrame:
    return record.with_columns(
        *(expr.alias(RULE_PREFIX + rid) for rid, expr in ruleset.condition_exprs(peildatum).items()),
        *(expr.alias(SIGNAAL_PREFIX + sid) for sid, expr in ruleset.signaal_exprs().items()),
        ruleset.klantsoort_expr().alias("klantsoort"),
    )


def _with_profile(flagged: pl.LazyFrame, ruleset: RuleSet) -> pl.LazyFrame:
    return flagged.with_columns(
        *(expr.alias(ONDERDEEL_PREFIX + oid) for oid, expr in ruleset.onderdeel_exprs().items()),
        ruleset.profiel_expr().alias("profiel"),
    )


def _read_by_rules(ruleset: RuleSet) -> set[str]:
    """The normalised columns the rules, signalen and klantsoort read (not the profile)."""
    return {c for name, cols in ruleset.columns().items() if not name.startswith("profiel") for c in cols}


def rules_mask(source: Source, ruleset: RuleSet, peildatum: date | None, indeling: Indeling) -> pl.Expr:
    """True where a raw row holds every counting rule and has a klantsoort, over the raw columns
    those read only, so that the filter reaches the file reader: a Parquet reader then decodes
    the other columns (the profile's) only for the rows that pass.

    The rules are written over the normalised record, and Polars pushes no filter through the
    expressions that make it; so the few columns the rules read are normalised here, by the
    very expressions of engine.contract, per streamed batch (vectorised; the filter is one
    Python call per batch). The conditions are decided one after the other, those on typed
    columns first, each on the rows that held the ones before: text is folded only for rows
    still in the running (10M generated rows: the mask 1.44 -> 0.6 CPU-s).
    """
    columns = record_columns(source.schema, indeling, peildatum, source.datumformaten, ruleset.folded_values())
    conditions = [*ruleset.condition_exprs(peildatum).values(), ruleset.klantsoort_expr().is_not_null()]

    def text_inputs(condition: pl.Expr) -> int:
        needed = columns.for_(set(condition.meta.root_names())).inputs()
        return sum(source.schema[c] == pl.String for c in needed)

    # Stable: among conditions of equal cost, the rule set's order.
    stages: list[tuple[RecordColumns, pl.Expr]] = []
    made: set[str] = set()
    for condition in sorted(conditions, key=text_inputs):
        needed = columns.for_(set(condition.meta.root_names()))
        stages.append((needed.without(made), condition.fill_null(False)))
        made |= needed.names()
    inputs = sorted(columns.for_(made).inputs())

    def holds(batch: pl.Series) -> pl.Series:
        frame = batch.struct.unnest().with_row_index(ROW)
        # A column normalised in place replaces its raw value; no later stage needs that value,
        # as a first-stage column reads only its own raw column (tests/test_rules_first.py).
        for normalised, condition in stages:
            # Eager, in this thread: a streaming collect here would wait for the very threads
            # that run this.
            frame = normalised.apply_eager(frame).filter(condition)
            if frame.is_empty():
                break
        return pl.zeros(len(batch), dtype=pl.Boolean, eager=True).scatter(frame.get_column(ROW), True)

    return pl.struct(*inputs).map_batches(holds, return_dtype=pl.Boolean, is_elementwise=True)


#: The row number within a batch, while :func:`rules_mask` narrows it down.
ROW = "__rij"


@dataclass(frozen=True)
class Prepass:
    """What a rules-first count learns from client_id alone, in one collection before the rest:
    the ids that occur more than once, the BSN-like ids, the records read, and whether any id
    may be blank."""

    duplicates: pl.Series
    bsn: int
    read: int
    #: False when no client_id is blank: the check client_id_leeg then need not be evaluated,
    #: and a query that reads client_id for nothing else does not read it.
    blank_ids: bool = True

    def ruled_out(self) -> frozenset[str]:
        """The contract checks that no record breaks, as found here (engine.contract.normalise)."""
        return frozenset() if self.blank_ids else frozenset({BLANK_ID_CHECK})


#: Up to this many records (known from a Parquet footer), the prepass hashes ids to 64 bits: a
#: file without duplicates then has no candidate to read back (engine.contract._id_hash). The
#: sort holds 8 bytes a row: its peak (10M rows: 0.32 GiB) stays under the count's own.
WIDE_HASH_MAX_ROWS = 25_000_000


def prepass(source: Source) -> Prepass:
    """Read client_id for the duplicate check, the blank-id check and the BSN check
    (engine.privacy), one small collection. Found first, the duplicates are a literal in both
    queries of the count, so the counted candidates are exact, and the BSN check costs no
    aggregation in them; with no blank id, the record query does not read client_id at all.

    The duplicate check's first step (engine.contract.candidate_hashes) runs in that
    collection; its second step reads client_id again, only when the first found a candidate
    (with 64-bit hashes: only when some id occurs twice or is blank). 10M rows: 1.25 -> 0.7 s.
    """
    rows, size = size_of(source)
    wide = rows is not None and rows <= WIDE_HASH_MAX_ROWS
    # One frame for the queries below, so that they share its read of client_id; the progress
    # bar counts the records as they pass.
    ids = id_texts(progress.tel(source.frame), source.schema)
    if source.format == "csv":
        # One query for the count and the pattern on every id, as before the queries shared
        # their read (then every query parsed the CSV file whole).
        checks = [ids.select(pl.len().alias("n"), bsn_count(CLIENT_ID))]
    else:
        # Only a nine-byte id can be a BSN: filtered first, the pattern runs on those alone
        # (10M rows: 0.62 -> 0.20 s; a filter inside the aggregation cost more).
        nine = ids.filter(pl.col(CLIENT_ID).str.len_bytes() == 9)
        checks = [ids.select(pl.len().alias("n")), nine.select(bsn_count(CLIENT_ID))]
    with progress.bezig("Controleren", rows, size):
        queries = [candidate_hashes(ids, wide, blank_as_zero=True), *checks]
        candidates, counts, *rest = pl.collect_all(queries, engine="streaming")
        found = rest[-1] if rest else counts
        duplicates = pl.Series(CLIENT_ID, [], dtype=pl.String)
        if not candidates.is_empty():
            again = id_texts(source.frame, source.schema)
            second = ids_of_candidates(again, candidates.lazy(), wide, blank_as_zero=True)
            duplicates = second.collect(engine="streaming").get_column(CLIENT_ID)
    return Prepass(
        duplicates=duplicates,
        bsn=int(found[BSN_COLUMN].item()),
        read=int(counts["n"].item()),
        blank_ids=bool((candidates.get_column(HASH) == 0).any()),
    )


def counted_candidates(
    source: Source, ruleset: RuleSet, peildatum: date | None, indeling: Indeling, before: Prepass
) -> pl.LazyFrame:
    """The counted rows of a raw file, with their profile: the rows that hold every rule, have
    a klantsoort and break no contract check (the duplicates and blank ids: see :func:`prepass`)."""
    mask = rules_mask(source, ruleset, peildatum, indeling)
    if source.format == "csv":
        # Our CSV reader is a Python IO source: Polars would have to pickle the mask to hand it
        # over, and the reader decodes every column of a batch anyway. Filtered on a column of
        # its own, the mask stays out of the reader.
        read = source.frame.with_columns(mask.alias("__telt")).filter(pl.col("__telt")).drop("__telt")
    else:
        read = source.frame.filter(mask)
    record = normalise(
        read,
        source.schema,
        indeling,
        peildatum,
        source.datumformaten,
        ruleset.folded_values(),
        duplicates=before.duplicates,
        shows_progress=False,
        ruled_out=before.ruled_out(),
    )
    return _with_profile(_flagged(record, ruleset, peildatum).filter(counted_expr(ruleset, peildatum)), ruleset)


def with_rules(
    source: Source, ruleset: RuleSet, peildatum: date | None, indeling: Indeling, rules_first: bool = False
) -> tuple[pl.LazyFrame, pl.LazyFrame | None, Prepass | None]:
    """The normalised record with every rule and signaal flag and klantsoort, and (when the
    profile is there) every onderdeel flag and profiel; the counted candidates, or None; and
    the prepass, or None.

    ``rules_first`` (a raw file): the rules are decided on the cheap columns for every row,
    and the profile columns (list components, taaksoortvragen) are read and normalised only for
    the rows that hold them, in a second query (:func:`counted_candidates`) of the same
    collection. Normalising those 25 columns on every row was most of a raw count's work and
    most of its memory, and no command that counts shows the profile of a row that is not
    counted (explain and werklijst, which show it per record, ask for whole records). A profile
    column that a rule, signaal or the klantsoort reads is still computed on every row. The
    duplicates and the BSN check come first, from client_id alone (:func:`prepass`).
    """
    if source.prepared is not None:
        record = prepared_record(source, ruleset, peildatum, indeling)
        return _with_profile(_flagged(record, ruleset, peildatum), ruleset), None, None
    deferred = tuple(c for c in PROFILE_COLUMNS if c not in _read_by_rules(ruleset)) if rules_first else ()
    if not deferred:
        record = normalise(
            source.frame, source.schema, indeling, peildatum, source.datumformaten, ruleset.folded_values()
        )
        return _with_profile(_flagged(record, ruleset, peildatum), ruleset), None, None
    before = prepass(source)
    record = normalise(
        source.frame,
        source.schema,
        indeling,
        peildatum,
        source.datumformaten,
        ruleset.folded_values(),
        deferred,
        before.duplicates,
        ruled_out=before.ruled_out(),
    )
    candidates = counted_candidates(source, ruleset, peildatum, indeling, before)
    return _flagged(record, ruleset, peildatum), candidates, before


def classify(
    source: Source,
    ruleset: RuleSet,
    peildatum: date | None = None,
    indeling: Indeling | None = None,
    rules_first: bool = False,
) -> Plan:
    """Every record with its flags and its outcome (uitkomst, reden, waarde), and its profile;
    ``rules_first``: the profile of the counted rows only, in :attr:`Plan.candidates` (see
    :func:`with_rules`), for the commands that count."""
    indeling = indeling or default_indeling()
    flagged, candidates, before = with_rules(source, ruleset, peildatum, indeling, rules_first)
    raw_indicering = pl.col(RAW_PREFIX + "indicering").cast(pl.String)
    frame = flagged.with_columns(**outcome(ruleset, peildatum, raw_indicering))
    return Plan(
        frame=frame,
        ruleset=ruleset,
        peildatum=peildatum,
        indeling=indeling,
        source=source,
        flagged=flagged,
        candidates=candidates,
        prepass=before,
    )


def counting_plan(source: Source, ruleset: RuleSet, peildatum: date | None = None) -> Plan:
    """The plan of the commands that count (count, funnel, profiel): rules-first on a raw file
    (:func:`with_rules`); explain, werklijst and prepare take whole records (:func:`classify`)."""
    return classify(source, ruleset, peildatum, rules_first=True)
