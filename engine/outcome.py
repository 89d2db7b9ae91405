"""Outcomes and the on-invalid policy: how a command's one query over the classified records
is run, checked and reconciled.

Every command that reads client records (count, funnel, profiel, prepare) applies the same
regime: rows that break the input contract stop the run (``--on-invalid fail``) or are set
aside in a quarantine file (``quarantine``), written atomically through engine.output and only
when the whole run succeeded; BSN-like client_ids stop the run (engine.privacy). The details of
rejected rows (how many, example ids, offending values) come from here too, and so does the
reconciliation: every record read is counted, excluded by a named rule, or rejected with a reden.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import polars as pl

from engine import progress
from engine.contract import ALL_CHECKS, check_by_reden
from engine.errors import InternalError, InvalidRowsError, RowProblem, UsageError, shown
from engine.indeling import Indeling
from engine.output import maybe_atomic_path
from engine.pipeline import AFGEWEZEN, GETELD, UITGESLOTEN, Plan
from engine.privacy import BSN_COLUMN, check_bsn
from engine.report import nl_int
from engine.rules import RuleSet
from engine.source import size_of

#: How many example ids and offending values a message shows per reden.
EXAMPLES = 3
VALUES = 5


class OnInvalid(StrEnum):
    FAIL = "fail"
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Reconciliation:
    """Every record read is counted, excluded by a named rule, or rejected with a reason.

    The fields carry the domain's words, as the JSON outputs and the balance line do
    (``gelezen = geteld + uitgesloten + afgewezen``; see the README's glossary)."""

    gelezen: int
    geteld: int
    uitgesloten: dict[str, int]  # rule id -> rows, in rule order
    afgewezen: dict[str, int]  # reden -> rows

    @property
    def n_uitgesloten(self) -> int:
        return sum(self.uitgesloten.values())

    @property
    def n_afgewezen(self) -> int:
        return sum(self.afgewezen.values())

    @property
    def sluitend(self) -> bool:
        return self.gelezen == self.geteld + self.n_uitgesloten + self.n_afgewezen

    def as_dict(self) -> dict[str, object]:
        """The reconciliation as the JSON outputs carry it."""
        return {
            "gelezen": self.gelezen,
            "geteld": self.geteld,
            "uitgesloten": self.uitgesloten,
            "afgewezen": self.afgewezen,
        }

    def line(self) -> str:
        sign = "=" if self.sluitend else "≠"
        return (
            f"{nl_int(self.gelezen)} records gelezen {sign} {nl_int(self.geteld)} geteld"
            f" + {nl_int(self.n_uitgesloten)} uitgesloten + {nl_int(self.n_afgewezen)} afgewezen"
        )


def reconcile(outcomes: pl.DataFrame, ruleset: RuleSet) -> Reconciliation:
    """The reconciliation of an aggregation with ``uitkomst``, ``reden`` and ``n`` over every record."""
    per = outcomes.group_by("uitkomst", "reden").agg(pl.col("n").sum())
    by = {(u, r): int(n) for u, r, n in per.iter_rows()}
    return Reconciliation(
        gelezen=int(outcomes["n"].sum()),
        geteld=sum(n for (u, _), n in by.items() if u == GETELD),
        uitgesloten={r.id: by.get((UITGESLOTEN, r.id), 0) for r in ruleset.regel},
        afgewezen={r: n for (u, r), n in sorted(by.items(), key=lambda kv: str(kv[0][1])) if u == AFGEWEZEN},
    )


@dataclass(frozen=True)
class Checked:
    """The result of a command's aggregation, its reconciliation and the contract problems found."""

    result: pl.DataFrame
    reconciliation: Reconciliation
    problems: list[RowProblem]
    also: list[pl.DataFrame] = field(default_factory=list)  # the results of ``also``, in order


def quarantine_target(on_invalid: OnInvalid, quarantine: Path | None) -> Path | None:
    """Where the rejected rows go: ``quarantine`` under ``--on-invalid quarantine``, else nowhere."""
    if on_invalid is OnInvalid.QUARANTINE and quarantine is None:
        raise UsageError("--on-invalid quarantine heeft --quarantine PAD nodig voor de afgewezen rijen")
    return quarantine if on_invalid is OnInvalid.QUARANTINE else None


@contextmanager
def quarantine_path(target: Path | None) -> Iterator[Path | None]:
    """The temporary path to write the rejected rows to (None: no quarantine), renamed onto
    ``target`` only when the block succeeds (engine.output)."""
    with maybe_atomic_path(target, private=True, option="--quarantine") as temp:
        yield temp


def enforce(problems: Sequence[RowProblem], read: int, on_invalid: OnInvalid) -> None:
    """``--on-invalid fail``: any rejected row stops the run."""
    if problems and on_invalid is OnInvalid.FAIL:
        raise InvalidRowsError(problems, read)


def bsn_found(result: pl.DataFrame) -> int:
    """The BSN-like client_ids counted by an aggregation that carries ``bsn_achtig``."""
    return int(result[BSN_COLUMN].sum()) if BSN_COLUMN in result.columns else 0


def collect_checked(
    plan: Plan,
    query: pl.LazyFrame,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    allow_bsn: bool = False,
    also: Sequence[pl.LazyFrame] = (),
) -> Checked:
    """Run ``query`` (an aggregation with ``uitkomst``, ``reden`` and ``n`` over every record,
    and ``bsn_achtig`` when it counts BSN-like ids), the queries ``also`` (what the command
    shows, when that is not the aggregation itself) and, when quarantining, the quarantine
    sink, in one ``collect_all``.

    The details of rejected rows come from a second pass taken only when there are any: the
    price of an error message is paid on the error path, not by every run.
    """
    with quarantine_path(quarantine_target(on_invalid, quarantine)) as temp:
        queries = [query, *also]
        if temp is not None:
            queries.append(plan.quarantine().sink_parquet(temp, lazy=True))
        with progress.bezig("Tellen", *size_of(plan.source)):
            result, *others = pl.collect_all(queries)[: 1 + len(also)]
        reconciliation = reconcile(result, plan.ruleset)
        if plan.prepass is not None and plan.prepass.read != reconciliation.gelezen:
            raise InconsistentCount(
                f"interne fout: de voorcontrole las {plan.prepass.read} records, de telling "
                f"{reconciliation.gelezen}; er is geen tabel gemaakt. Meld dit met het bestand bij de "
                "beheerders van transparantie."
            )
        found = plan.prepass.bsn if plan.prepass is not None else bsn_found(result)
        check_bsn(found, reconciliation.gelezen, allow_bsn)
        problems = problems_from(rejected_details(plan), plan.indeling) if reconciliation.n_afgewezen else []
        enforce(problems, reconciliation.gelezen, on_invalid)
    return Checked(result=result, reconciliation=reconciliation, problems=problems, also=others)


# --- the counted rows, rules-first --------------------------------------------------------------


class InconsistentCount(InternalError):
    """The queries of a rules-first count disagree: a bug in the engine, never the input's."""


def exact_profiles(
    plan: Plan, found: pl.DataFrame, keys: Mapping[str, pl.Expr], outcomes: pl.DataFrame
) -> pl.DataFrame:
    """The counted rows per ``keys`` with ``n`` (:meth:`Plan.profiles`, run in the same
    collection as ``outcomes``, an aggregation with ``uitkomst`` and ``n`` over every record),
    checked against ``outcomes``.

    On a rules-first plan the two come from two queries; they must agree, per every key they
    share, on how many rows are counted. If they do not, the run stops (InconsistentCount)
    rather than publish either figure.
    """
    if plan.candidates is None:
        return found
    shared = [k for k in keys if k in outcomes.columns]
    counted = outcomes.filter(pl.col("uitkomst") == GETELD).group_by(shared).agg(pl.col("n").sum())
    mine = found.group_by(shared).agg(pl.col("n").sum())
    differ = counted.join(mine, on=shared, how="full", nulls_equal=True, coalesce=True).filter(
        pl.col("n").fill_null(0) != pl.col("n_right").fill_null(0)
    )
    if not differ.is_empty():
        raise InconsistentCount(
            "interne fout: de telling per record en de telling van de profielen verschillen "
            f"({differ.height} groepen); er is geen tabel gemaakt. "
            "Meld dit met het bestand bij de beheerders van transparantie."
        )
    return found


# --- rejected rows -------------------------------------------------------------------------------


def examples(column: str) -> pl.Expr:
    """Up to three distinct example values: the first, smallest and largest.

    Streaming reductions keep memory flat in the number of rows (``head(k)`` per group made
    the engine hold every value: measured +2 GB at 20M rows).
    """
    values = pl.col(column).drop_nulls()
    return pl.concat_list(values.first(), values.min(), values.max()).list.drop_nulls().list.unique(maintain_order=True)


def rejection_details(rejected: pl.LazyFrame) -> pl.LazyFrame:
    """Per reden of rejected rows (with ``reden``, ``client_id`` and ``waarde``): how many rows,
    a few example ids and a few distinct offending values, in one streaming aggregation."""
    return rejected.group_by("reden").agg(
        pl.len().alias("n"),
        examples("client_id").alias("voorbeelden"),
        examples("waarde").alias("waarden"),
    )


def rejected_details(plan: Plan) -> pl.DataFrame:
    """Per reden of the plan's rejected rows: how many, example ids and offending values
    (a second pass over the input, see :func:`collect_checked`)."""
    groups = (
        plan.frame.filter(pl.col("uitkomst") == AFGEWEZEN)
        .group_by("reden", "waarde")
        .agg(
            pl.len().alias("n"),
            pl.concat_list(pl.col("client_id").drop_nulls().first()).list.drop_nulls().alias("voorbeelden"),
        )
        .with_columns(pl.concat_list("waarde").list.drop_nulls().alias("waarden"))
        .collect()
    )
    return details_from(groups)


def details_from(groups: pl.DataFrame) -> pl.DataFrame:
    """Fold groups of rejected rows into one row per reden (small, in memory): the most
    frequent offending values first, then by value, so the message is deterministic."""
    return (
        groups.filter(pl.col("reden").is_not_null())
        .with_columns(
            pl.col("voorbeelden").list.first().alias("voorbeeld"), pl.col("waarden").list.first().alias("waarde")
        )
        .sort(["reden", "n", "waarde", "voorbeeld"], descending=[False, True, False, False], nulls_last=True)
        .group_by("reden", maintain_order=True)
        .agg(
            pl.col("n").sum(),
            pl.col("voorbeelden")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique(maintain_order=True)
            .head(EXAMPLES),
            pl.col("waarden")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique(maintain_order=True)
            .head(VALUES),
        )
    )


def problems_from(details: pl.DataFrame, indeling: Indeling) -> list[RowProblem]:
    """One :class:`RowProblem` per reden, in the order of the contract's checks."""
    problems = []
    for reden, n, examples_, values in details.select("reden", "n", "voorbeelden", "waarden").iter_rows():
        check = check_by_reden(reden)
        hint = ""
        if reden == "gemeente_onbekend":
            hints = [
                f"{shown(v)} -> bedoelt u {' of '.join(repr(s) for s in near)}?"
                for v in values
                if (near := indeling.suggest(v))
            ]
            hint = "; ".join(hints)
        problems.append(
            RowProblem(
                reden=reden,
                column=check.column,
                description=check.description,
                n_rows=int(n),
                values=list(values),
                example_ids=list(examples_),
                hint=hint,
            )
        )
    order = {check.reden: i for i, check in enumerate(ALL_CHECKS)}
    return sorted(problems, key=lambda p: order[p.reden])
