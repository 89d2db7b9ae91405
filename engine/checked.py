"""What the explanatory commands (funnel, profiel) share with ``count``: the same contract regime.

An explanation of the figures must start from the very rows ``count`` counts. So every
explanatory query runs in one ``collect_all`` together with count's own rejection details
(:func:`engine.count.rejection_details`) and, when quarantining, count's quarantine sink: with
``--on-invalid fail`` an invalid row raises the same :class:`~engine.errors.InvalidRowsError`
as ``count``; with ``quarantine`` the rejected rows are written exactly as ``count`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from engine.count import OnInvalid, Reconciliation, problems_from, rejection_details
from engine.count import reconcile as _count_reconcile  # the very same reconciliation as count's
from engine.errors import InvalidRowsError, RowProblem, UsageError
from engine.pipeline import AFGEWEZEN, Plan
from engine.rules import RuleSet


@dataclass(frozen=True)
class Checked:
    """The results of the caller's queries, in order, and the contract problems found."""

    results: list[pl.DataFrame]
    problems: list[RowProblem]


def collect_checked(
    plan: Plan,
    queries: list[pl.LazyFrame],
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
) -> Checked:
    """Run ``queries`` in one ``collect_all`` with count's rejection details (and quarantine sink).

    Raises :class:`InvalidRowsError` (fail mode, any invalid row) exactly as ``count`` does.
    """
    if on_invalid is OnInvalid.QUARANTINE and quarantine is None:
        raise UsageError("--on-invalid quarantine needs --quarantine PATH for the rejected rows")
    extra = [
        plan.frame.select(pl.len().alias("n")),
        rejection_details(plan.frame.filter(pl.col("uitkomst") == AFGEWEZEN)),
    ]
    if on_invalid is OnInvalid.QUARANTINE:
        assert quarantine is not None
        extra.append(plan.quarantine().sink_parquet(quarantine, lazy=True))
    collected = pl.collect_all([*queries, *extra])
    results = list(collected[: len(queries)])
    read_frame, details = collected[len(queries) : len(queries) + 2]
    problems = problems_from(details, plan.indeling)
    if problems and on_invalid is OnInvalid.FAIL:
        raise InvalidRowsError(problems, int(read_frame["n"].item()))
    return Checked(results=results, problems=problems)


def outcomes_query(plan: Plan, *keys: str) -> pl.LazyFrame:
    """Rows per ``keys`` × uitkomst × reden: the input of :func:`reconcile`."""
    return plan.frame.group_by(*keys, "uitkomst", "reden").agg(pl.len().alias("n"))


def reconcile(outcomes: pl.DataFrame, ruleset: RuleSet) -> Reconciliation:
    """count's reconciliation (read = counted + excluded per rule + rejected per reden)."""
    return _count_reconcile(outcomes, ruleset)


def moment(peildatum: date | None) -> str:
    """Which indiceringen are open: at a peildatum, or at the moment of the extraction."""
    return f"peildatum {peildatum}" if peildatum else "open dienstverlening op het moment van de extractie"


def heading(what: str, ruleset: RuleSet, peildatum: date | None) -> str:
    """The first line of every explanatory report: what, which rules, which moment."""
    return f"{what} — regels: {ruleset.naam} (geldig vanaf {ruleset.geldig_vanaf}); {moment(peildatum)}"


def nl_pct(share: float | None, decimals: int = 1) -> str:
    """A share as a Dutch percentage: 0.8123 -> '81,2%'; no share (nothing counted) -> '-'."""
    if share is None:
        return "-"
    return f"{100 * share:.{decimals}f}%".replace(".", ",")
