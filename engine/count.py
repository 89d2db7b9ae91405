"""Counting: the publication table of one input, with every row read accounted for.

One ``collect_all`` executes the plan (engine.outcome): the cell counts and, when
quarantining, the quarantine file share a single scan of the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from engine.errors import RowProblem, UsageError
from engine.grouping import Strategy, outcome_groups
from engine.layout import publication_table
from engine.outcome import VALUES, OnInvalid, Reconciliation, collect_checked, exact_profiles
from engine.pipeline import GETELD, Plan, counting_plan
from engine.readers import ReadOptions
from engine.report import heading, nl_int
from engine.rules import DEFAULT_RULES, RuleSet, select_ruleset
from engine.source import open_source

CELL_KEYS = ("gemeente", "klantsoort", "profiel")


@dataclass
class CountResult:
    table: pl.DataFrame
    reconciliation: Reconciliation
    problems: list[RowProblem]
    ruleset: RuleSet
    peildatum: date | None
    cells: pl.DataFrame = field(repr=False)  # gemeente, klantsoort, profiel, n (counted rows)
    warnings: list[str] = field(default_factory=list)  # a suspect table (see warnings())

    def region(self, amr: int) -> pl.DataFrame:
        """Only one region's gemeenten and its Totaal AMR."""
        rows = self.table.filter(pl.col("amr") == amr)
        if rows.is_empty():
            raise UsageError(f"--amr {amr}: er is geen arbeidsmarktregio {amr}; de regio's zijn genummerd 1-35")
        return rows

    def title(self) -> str:
        return heading("Transparantie van klantprofielen", self.ruleset, self.peildatum)


def count_file(
    path: Path | str | Sequence[Path | str],
    rules: str = DEFAULT_RULES,
    peildatum: date | None = None,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
    strategy: Strategy | None = None,
) -> CountResult:
    """Count one input file: the engine's entry point for the CLI and for tests."""
    ruleset = select_ruleset(rules, peildatum)
    plan = counting_plan(open_source(path, lezen), ruleset, peildatum)
    return run_count(plan, on_invalid, quarantine, allow_bsn, strategy)


def run_count(
    plan: Plan,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    allow_bsn: bool = False,
    strategy: Strategy | None = None,
) -> CountResult:
    """Execute the plan and build the publication table with its reconciliation.

    One query over the file under the on-invalid policy (engine.outcome.collect_checked);
    BSN-like client_ids stop the run (engine.privacy) unless ``allow_bsn``.
    """
    cell = {k: pl.col(k) for k in CELL_KEYS}
    also = [plan.profiles(cell)] if plan.candidates is not None else []
    checked = collect_checked(plan, outcome_groups(plan, strategy), on_invalid, quarantine, allow_bsn, also)
    outcomes, reconciliation = checked.result, checked.reconciliation
    if plan.candidates is not None:
        cells = exact_profiles(plan, checked.also[0], cell, outcomes)
    else:
        cells = outcomes.filter(pl.col("uitkomst") == GETELD).group_by(*CELL_KEYS).agg(pl.col("n").sum())
    statuses = outcomes.group_by("status").agg(pl.col("n").sum())
    return CountResult(
        table=publication_table(cells, plan.indeling),
        reconciliation=reconciliation,
        problems=checked.problems,
        ruleset=plan.ruleset,
        peildatum=plan.peildatum,
        cells=cells,
        warnings=warnings(reconciliation, plan.ruleset, {s: int(n) for s, n in statuses.iter_rows()}),
    )


#: A rule that excludes more than this share of the records read gets a warning.
EXCLUDES_NEARLY_ALL = 0.95
#: More than this share of the records rejected gets a warning.
REJECTS_MOST = 0.5


def warnings(reconciliation: Reconciliation, ruleset: RuleSet, statuses: Mapping[str | None, int]) -> list[str]:
    """What makes a table suspect though nothing broke the contract: an all-zero table, one rule
    that excludes nearly everything, most rows rejected, status values the rule set does not know."""
    read = reconciliation.gelezen
    found: list[str] = []
    if not read:
        return ["het bestand bevat geen records: de tabel is leeg"]
    if reconciliation.geteld == 0:
        found.append(
            f"geen enkel record telt mee: de tabel is helemaal nul ({nl_int(read)} records gelezen). "
            "Controleer de export met transparantie inspect."
        )
    for number, regel in enumerate(ruleset.regel, 1):
        n = reconciliation.uitgesloten.get(regel.id, 0)
        if n > EXCLUDES_NEARLY_ALL * read:
            found.append(
                f"voorwaarde {number} ({regel.id}) sluit {nl_int(n)} van {nl_int(read)} records uit "
                f"(meer dan {EXCLUDES_NEARLY_ALL:.0%}); klopt de export?"
            )
    if reconciliation.n_afgewezen > REJECTS_MOST * read:
        found.append(
            f"{nl_int(reconciliation.n_afgewezen)} van {nl_int(read)} records zijn afgewezen (meer dan de helft)"
        )
    known = set(ruleset.statussen) | {v for v in ruleset.literals() if v}
    if ruleset.statussen:
        unknown = sorted(
            ((s, n) for s, n in statuses.items() if s is not None and s not in known), key=lambda x: (-x[1], x[0])
        )
        if unknown:
            shown = ", ".join(f"{_capped(s)!r} ({nl_int(n)})" for s, n in unknown[:VALUES])
            more = f" en {len(unknown) - VALUES} andere" if len(unknown) > VALUES else ""
            found.append(
                f"statuswaarden die de regels niet kennen: {shown}{more}; zij tellen niet mee "
                f"(bekend: {', '.join(sorted(ruleset.statussen))})"
            )
    return found


def _capped(value: str, width: int = 40) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"
