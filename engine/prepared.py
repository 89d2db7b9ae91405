"""Prepared files as the engine reads them: checked against this engine, decoded to records.

A prepared file (engine.prepare) carries its provenance and packed layout (engine.packed) in
its metadata. Before a command reads one, :func:`check_prepared` makes sure it was made by
this contract and format, with this indeling, and holds every column the rules read.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from engine.contract import CONTRACT_VERSION, RAW_PREFIX, VOCABULARY
from engine.errors import RuleFileError, UsageError
from engine.indeling import Indeling
from engine.packed import DERIVED_COLUMNS, FORMAT_VERSION, NULL_BITS, PREPARE_AGAIN, Layout, read_layout
from engine.rules import RuleSet
from engine.source import Source


def check_prepared(source: Source, ruleset: RuleSet, indeling: Indeling) -> Layout:
    """The packed layout of a prepared file, after checking it was made by this contract and
    format, with this indeling, and holds every column the rules read."""
    assert source.prepared is not None
    for what, key, ours in (("contract", "contract", CONTRACT_VERSION), ("formaat", "format", FORMAT_VERSION)):
        theirs = source.prepared.get(f"{key}_version")
        if theirs != ours:
            raise UsageError(
                f"{source.path} is voorbereid onder {what} {theirs}, deze versie van transparantie gebruikt "
                f"{ours}; {PREPARE_AGAIN}"
            )
    layout = read_layout(source.path)
    layout.check_gemeenten(indeling, source.path)
    available = layout.names() | set(source.schema.names()) | set(DERIVED_COLUMNS)
    for declaration, columns in ruleset.columns().items():
        missing = sorted(columns - available)
        if missing:
            raise RuleFileError(
                f"{declaration} van regelset {ruleset.naam!r} leest kolom(men) {missing}, die het voorbereide "
                f"bestand {source.path} niet heeft; bereid het opnieuw voor of tel het oorspronkelijke bestand"
            )
    return layout


def prepared_record(source: Source, ruleset: RuleSet, peildatum: date | None, indeling: Indeling) -> pl.LazyFrame:
    """The normalised record, one row per prepared row, decoded from ``sleutel``.

    count, funnel and profiel group on ``sleutel`` first (engine.grouping) and come
    here only when a decision reads a column outside it; explain always does. Projection
    pushdown decodes only the fields a query reads.
    """
    layout = check_prepared(source, ruleset, indeling)
    packed = [f.name for f in layout.fields if f.name not in NULL_BITS.values()]
    peil = pl.lit(peildatum, dtype=pl.Date).alias("peildatum")
    record = source.frame.with_columns(*layout.decode(packed, indeling), peil)
    record = record.with_columns(indeling.amr_of(pl.col("gemeente")).alias("amr"))
    return record.with_columns(
        *(pl.col(c).alias(RAW_PREFIX + c) for c in record.collect_schema().names() if c in VOCABULARY),
    )
