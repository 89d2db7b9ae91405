"""What the explanatory commands (funnel, profiel) share with ``count``: the same contract regime.

An explanation of the figures must start from the very rows ``count`` counts. Each command
runs ONE aggregation over the classified records (grouped by at least ``uitkomst`` and
``reden``), so the input is read once. When that aggregation shows rejected rows, the
details for the message come from count's own machinery (:func:`engine.count.rejected_details`),
a second pass taken only on that error path: with ``--on-invalid fail`` the same
:class:`~engine.errors.InvalidRowsError` as ``count``; with ``quarantine`` the rejected rows
are written exactly as ``count`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from engine.count import OnInvalid, Reconciliation, bsn_found, problems_from, rejected_details
from engine.count import reconcile as _count_reconcile  # the very same reconciliation as count's
from engine.errors import InvalidRowsError, RowProblem, UsageError
from engine.output import maybe_atomic_path
from engine.pipeline import AFGEWEZEN, Plan
from engine.privacy import check_bsn
from engine.rules import RuleSet


@dataclass(frozen=True)
class Checked:
    """The result of the caller's aggregation and the contract problems found."""

    result: pl.DataFrame
    problems: list[RowProblem]


def collect_checked(
    plan: Plan,
    query: pl.LazyFrame,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    allow_bsn: bool = False,
) -> Checked:
    """Run ``query`` (an aggregation with ``uitkomst``, ``reden`` and ``n`` over every record,
    and ``bsn_achtig`` when it comes from :func:`engine.count.grouped_outcomes`) and, when
    quarantining, count's quarantine sink, in one ``collect_all``.

    Raises :class:`InvalidRowsError` (fail mode, any invalid row) exactly as ``count`` does,
    and stops on BSN-like client_ids as ``count`` does. The quarantine file is written
    atomically, only when all of this succeeded.
    """
    if on_invalid is OnInvalid.QUARANTINE and quarantine is None:
        raise UsageError("--on-invalid quarantine needs --quarantine PATH for the rejected rows")
    target = quarantine if on_invalid is OnInvalid.QUARANTINE else None
    with maybe_atomic_path(target, private=True, option="--quarantine") as temp:
        queries = [query]
        if temp is not None:
            queries.append(plan.quarantine().sink_parquet(temp, lazy=True))
        result = pl.collect_all(queries)[0]
        check_bsn(bsn_found(result), int(result["n"].sum()), allow_bsn)
        problems: list[RowProblem] = []
        if result.filter(pl.col("uitkomst") == AFGEWEZEN)["n"].sum() > 0:
            problems = problems_from(rejected_details(plan), plan.indeling)
            if on_invalid is OnInvalid.FAIL:
                raise InvalidRowsError(problems, int(result["n"].sum()))
    return Checked(result=result, problems=problems)


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


def json_header(ruleset: RuleSet, peildatum: date | None) -> dict[str, object]:
    """The fields every explanatory JSON report starts with: which rules, which moment."""
    return {
        "regels": ruleset.naam,
        "geldig_vanaf": ruleset.geldig_vanaf.isoformat(),
        "peildatum": peildatum.isoformat() if peildatum else None,
    }
