"""The one lazy plan: raw records -> normalised record -> rule verdicts -> outcome per row.

Every row ends in exactly one ``uitkomst``:

* ``afgewezen``  — breaks the input contract; ``reden`` names the check;
* ``uitgesloten`` — fails a counting rule; ``reden`` names the first rule it fails;
* ``geteld``     — counted, in the cell (gemeente, klantsoort, profiel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from engine.contract import (
    CLIENT_ID,
    KLANTSOORT_CHECK,
    ONLY_DUPLICATE,
    PROFILE_COLUMNS,
    RAW_PREFIX,
    duplicate_ids,
    normalise,
    record_columns,
)
from engine.indeling import Indeling, default_indeling
from engine.prepared import prepared_record
from engine.rules import RuleSet
from engine.source import Source

GETELD, UITGESLOTEN, AFGEWEZEN = "geteld", "uitgesloten", "afgewezen"
UITKOMSTEN = (GETELD, UITGESLOTEN, AFGEWEZEN)
RULE_PREFIX = "regel__"
SIGNAAL_PREFIX = "signaal__"
ONDERDEEL_PREFIX = "onderdeel__"
#: Rules-first plans (see with_rules): True for a duplicate that breaks no other check and
#: holds every rule. The counted candidates hold those too; this is how a command knows it
#: must take them out again (engine.outcome.exact_profiles).
DUBBEL_TELT = "_dubbel_telt"


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
        with ``n``; on a rules-first plan, duplicates that hold every rule are still among them
        (see engine.outcome.exact_profiles)."""
        counted = self.candidates
        if counted is None:
            counted = self.frame.filter(pl.col("uitkomst") == GETELD)
        return counted.group_by(*(e.alias(k) for k, e in keys.items())).agg(pl.len().alias("n"))

    def duplicate_profiles(self, keys: Mapping[str, pl.Expr]) -> pl.LazyFrame:
        """:meth:`profiles` of the candidates whose client_id occurs more than once in the file."""
        assert self.candidates is not None
        ids = duplicate_ids(self.source.frame, self.source.schema)
        return (
            self.candidates.join(ids, on=CLIENT_ID, how="semi")
            .group_by(*(e.alias(k) for k, e in keys.items()))
            .agg(pl.len().alias("n"))
        )


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


def dubbel_telt(ruleset: RuleSet, peildatum: date | None) -> pl.Expr:
    """:data:`DUBBEL_TELT` from the record's (or a group's) flags."""
    flags = [pl.col(RULE_PREFIX + rid) for rid in ruleset.condition_sql(peildatum)]
    return pl.col(ONLY_DUPLICATE) & pl.all_horizontal(flags) & pl.col("klantsoort").is_not_null()


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
    Python call per batch).
    """
    test = pl.all_horizontal(*ruleset.condition_exprs(peildatum).values(), ruleset.klantsoort_expr().is_not_null())
    columns = record_columns(source.schema, indeling, peildatum, source.datumformaten, ruleset.folded_values()).for_(
        set(test.meta.root_names())
    )
    inputs = sorted(columns.inputs())

    def holds(batch: pl.Series) -> pl.Series:
        frame = batch.struct.unnest().lazy()
        # In memory: a streaming collect here would wait for the very threads that run this.
        return columns.apply(frame).select(test.fill_null(False)).collect(engine="in-memory").to_series()

    return pl.struct(*inputs).map_batches(holds, return_dtype=pl.Boolean, is_elementwise=True)


def counted_candidates(source: Source, ruleset: RuleSet, peildatum: date | None, indeling: Indeling) -> pl.LazyFrame:
    """The rows of a raw file that hold every rule, have a klantsoort and break no contract
    check but perhaps client_id_dubbel, with their profile: the counted rows, plus those
    duplicates (which only the whole file can tell; see :func:`with_rules`)."""
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
        duplicates=False,
    )
    return _with_profile(_flagged(record, ruleset, peildatum).filter(counted_expr(ruleset, peildatum)), ruleset)


def with_rules(
    source: Source, ruleset: RuleSet, peildatum: date | None, indeling: Indeling, rules_first: bool = False
) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    """The normalised record with every rule and signaal flag and klantsoort, and (when the
    profile is there) every onderdeel flag and profiel; and the counted candidates, or None.

    ``rules_first`` (a raw file): the rules are decided on the cheap columns for every row,
    and the profile columns (list components, taaksoortvragen) are read and normalised only for
    the rows that hold them, in a second query (:func:`counted_candidates`) of the same
    collection. Normalising those 25 columns on every row was most of a raw count's work and
    most of its memory, and no command shows the profile of a row that is not counted (explain,
    which shows it for any record, asks for the record whole). A profile column that a rule,
    signaal or the klantsoort reads is still computed on every row.

    The candidates cannot know duplicates (that takes the whole file); the record marks
    ``_alleen_dubbel``, the duplicates that break no other check, so the caller can tell
    when some of those hold every rule and take them out (engine.outcome).
    """
    if source.prepared is not None:
        record = prepared_record(source, ruleset, peildatum, indeling)
        return _with_profile(_flagged(record, ruleset, peildatum), ruleset), None
    deferred = tuple(c for c in PROFILE_COLUMNS if c not in _read_by_rules(ruleset)) if rules_first else ()
    record = normalise(
        source.frame,
        source.schema,
        indeling,
        peildatum,
        source.datumformaten,
        ruleset.folded_values(),
        deferred,
    )
    flagged = _flagged(record, ruleset, peildatum)
    if not deferred:
        return _with_profile(flagged, ruleset), None
    return flagged, counted_candidates(source, ruleset, peildatum, indeling)


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
    flagged, candidates = with_rules(source, ruleset, peildatum, indeling, rules_first)
    raw_indicering = pl.col(RAW_PREFIX + "indicering").cast(pl.String)
    frame = flagged.with_columns(**outcome(ruleset, peildatum, raw_indicering))
    if candidates is not None:
        frame = frame.with_columns(dubbel_telt(ruleset, peildatum).alias(DUBBEL_TELT))
    return Plan(
        frame=frame,
        ruleset=ruleset,
        peildatum=peildatum,
        indeling=indeling,
        source=source,
        flagged=flagged,
        candidates=candidates,
    )
