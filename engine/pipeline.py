"""The one lazy plan: raw records -> normalised record -> rule verdicts -> outcome per row.

Every row ends in exactly one ``uitkomst``:

* ``afgewezen``  — breaks the input contract; ``reden`` names the check;
* ``uitgesloten`` — fails a counting rule; ``reden`` names the first rule it fails;
* ``geteld``     — counted, in the cell (gemeente, klantsoort, profiel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from engine.contract import KLANTSOORT_CHECK, RAW_PREFIX, normalise
from engine.indeling import Indeling, default_indeling
from engine.prepared import prepared_record
from engine.rules import RuleSet
from engine.source import Source

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

    def quarantine(self) -> pl.LazyFrame:
        """The rejected rows as they were read (as prepared, for a prepared file), with
        ``reden`` and ``waarde``."""
        raw = [c for c in self.frame.collect_schema().names() if c.startswith(RAW_PREFIX)]
        return self.frame.filter(pl.col("uitkomst") == AFGEWEZEN).select(
            *(pl.col(c).alias(c.removeprefix(RAW_PREFIX)) for c in raw),
            "reden",
            "waarde",
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


def with_rules(source: Source, ruleset: RuleSet, peildatum: date | None, indeling: Indeling) -> pl.LazyFrame:
    """The normalised record with every rule, signaal and onderdeel flag, klantsoort and profiel."""
    if source.prepared is not None:
        record = prepared_record(source, ruleset, peildatum, indeling)
    else:
        record = normalise(
            source.frame, source.schema, indeling, peildatum, source.datumformaten, ruleset.folded_values()
        )
    return record.with_columns(
        *(expr.alias(RULE_PREFIX + rid) for rid, expr in ruleset.condition_exprs(peildatum).items()),
        *(expr.alias(SIGNAAL_PREFIX + sid) for sid, expr in ruleset.signaal_exprs().items()),
        *(expr.alias(ONDERDEEL_PREFIX + oid) for oid, expr in ruleset.onderdeel_exprs().items()),
        ruleset.klantsoort_expr().alias("klantsoort"),
        ruleset.profiel_expr().alias("profiel"),
    )


def classify(
    source: Source,
    ruleset: RuleSet,
    peildatum: date | None = None,
    indeling: Indeling | None = None,
) -> Plan:
    """Every record with its flags and its outcome (uitkomst, reden, waarde)."""
    indeling = indeling or default_indeling()
    flagged = with_rules(source, ruleset, peildatum, indeling)
    raw_indicering = pl.col(RAW_PREFIX + "indicering").cast(pl.String)
    frame = flagged.with_columns(**outcome(ruleset, peildatum, raw_indicering))
    return Plan(frame=frame, ruleset=ruleset, peildatum=peildatum, indeling=indeling, source=source, flagged=flagged)
