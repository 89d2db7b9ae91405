"""The profile gap: among counted clients, who has a profile and what the others miss.

Read from the same plan as ``count``: the counted clients (``uitkomst`` geteld), their
``profiel`` verdict and one ``onderdeel__<id>`` verdict per profiel onderdeel of the rule
set. A client without profile ("nee") is either

* ``leeg``: nothing registered at all, none of the contract's list components
  (engine.contract.LIST_COLUMNS) and no taaksoortvraag; or
* ``onvolledig``: something registered, but one or more onderdelen of the rule set fail.
  ``zonder_<onderdeel>`` counts the onvolledig clients missing that onderdeel (a client can
  miss several, so these overlap); the combinations table splits them without overlap.

So, per gemeente, region and Nederland: ``ja + nee = geteld``, ``leeg + onvolledig = nee``
(= count's two "Geen profiel" columns together) and ``transparantiegraad = ja / geteld``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from engine.contract import LIST_COLUMNS
from engine.errors import RowProblem
from engine.grouping import grouped_outcomes, outcome_groups
from engine.indeling import Indeling
from engine.layout import MISSING_PREFIX, Niveau, laid_out, publication_order
from engine.outcome import OnInvalid, Reconciliation, collect_checked, exact_profiles
from engine.pipeline import GETELD, ONDERDEEL_PREFIX, Plan, counting_plan
from engine.privacy import BSN_COLUMN
from engine.readers import ReadOptions
from engine.report import heading, json_header, nl_int, nl_pct
from engine.rules import DEFAULT_RULES, RuleSet, select_ruleset
from engine.source import open_source

#: The columns that say where a row of the overview belongs (as in count's table).
WHERE: dict[str, pl.DataType] = {
    "niveau": pl.String(),
    "amr": pl.Int32(),
    "arbeidsmarktregio": pl.String(),
    "gemeente": pl.String(),
}
COMBINATION_SEPARATOR = "+"


def leeg_expr() -> pl.Expr:
    """Nothing registered: no list component of the contract and no taaksoortvraag."""
    return ~pl.any_horizontal(*(pl.col(c) for c in LIST_COLUMNS), pl.col("taaksoorten") > 0)


def figures(ruleset: RuleSet) -> list[str]:
    """The count columns of the overview, in order (they depend on the rule set's onderdelen)."""
    return ["geteld", "ja", "nee", "leeg", "onvolledig", *(MISSING_PREFIX + o.id for o in ruleset.profiel.onderdeel)]


def overview_columns(ruleset: RuleSet) -> list[str]:
    """The overview's columns (CSV, JSON ``overzicht``): where, ``rang`` (regions only, by
    transparantiegraad), the counts, and ``transparantiegraad`` (ja / geteld, null when no one
    is counted)."""
    return [*WHERE, "rang", *figures(ruleset)[:3], "transparantiegraad", *figures(ruleset)[3:]]


@dataclass(frozen=True)
class ProfielResult:
    overzicht: pl.DataFrame  # overview_columns(ruleset)
    combinaties: pl.DataFrame  # WHERE + ontbreekt (onderdeel ids joined by '+'), aantal; onvolledig only
    reconciliation: Reconciliation
    problems: list[RowProblem]
    ruleset: RuleSet
    peildatum: date | None
    niveau: Niveau

    @property
    def table(self) -> pl.DataFrame:
        """The report's main table (:attr:`overzicht`), as every result of the Python API has one."""
        return self.overzicht

    def title(self) -> str:
        return heading("Transparantie van klantprofielen: het profiel", self.ruleset, self.peildatum)

    def nederland(self) -> dict[str, Any]:
        return self.overzicht.filter(pl.col("niveau") == "nederland").row(0, named=True)


def profiel_file(
    path: Path | str | Sequence[Path | str],
    rules: str = DEFAULT_RULES,
    peildatum: date | None = None,
    niveau: Niveau = Niveau.ARBEIDSMARKTREGIO,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
) -> ProfielResult:
    """The profile gap of one input file: the entry point for the CLI and tests."""
    ruleset = select_ruleset(rules, peildatum)
    plan = counting_plan(open_source(path, lezen), ruleset, peildatum)
    return run_profiel(plan, niveau, on_invalid, quarantine, allow_bsn)


def run_profiel(
    plan: Plan,
    niveau: Niveau = Niveau.ARBEIDSMARKTREGIO,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    allow_bsn: bool = False,
) -> ProfielResult:
    """One aggregation over the file: records per outcome × gemeente × profiel × leeg × onderdeel
    verdicts; the counted ones make the profile figures, all of them the reconciliation."""
    ruleset = plan.ruleset
    onderdelen = [ONDERDEEL_PREFIX + o.id for o in ruleset.profiel.onderdeel]
    shown = {"gemeente": pl.col("gemeente"), "profiel": pl.col("profiel"), "leeg": leeg_expr()}
    shown |= {o: pl.col(o) for o in onderdelen}
    if plan.candidates is not None:
        # Rules-first: the records give the reconciliation (grouped as count groups them: on
        # the rule flags, outcome decided per group), the counted candidates the profile.
        query = outcome_groups(plan)
        checked = collect_checked(plan, query, on_invalid, quarantine, allow_bsn, [plan.profiles(shown)])
        cells = exact_profiles(plan, checked.also[0], shown, checked.result)
    else:
        # On a prepared file the records are grouped on their packed key first (as count does).
        query = (
            grouped_outcomes(plan, shown)
            .group_by("uitkomst", "reden", *shown)
            .agg(pl.col("n").sum(), pl.col(BSN_COLUMN).sum())
        )
        checked = collect_checked(plan, query, on_invalid, quarantine, allow_bsn)
        cells = checked.result.filter(pl.col("uitkomst") == GETELD).drop("uitkomst", "reden", BSN_COLUMN)
    cells = cells.with_columns(pl.col("gemeente").cast(pl.String))
    cells = cells.with_columns(plan.indeling.amr_of(pl.col("gemeente")).alias("amr"))
    contributions = _contributions(cells, ruleset)
    overzicht, combinaties = _layout(contributions, plan.indeling, ruleset, niveau)
    return ProfielResult(
        overzicht=overzicht,
        combinaties=combinaties,
        reconciliation=checked.reconciliation,
        problems=checked.problems,
        ruleset=ruleset,
        peildatum=plan.peildatum,
        niveau=niveau,
    )


def _contributions(cells: pl.DataFrame, ruleset: RuleSet) -> pl.DataFrame:
    """What each aggregated row adds to every figure, plus its combination of missing onderdelen."""
    n = pl.col("n")
    nee = ~pl.col("profiel")
    onvolledig = nee & ~pl.col("leeg")

    def where(condition: pl.Expr) -> pl.Expr:
        return pl.when(condition).then(n).otherwise(0)

    missing = [(o.id, ~pl.col(ONDERDEEL_PREFIX + o.id)) for o in ruleset.profiel.onderdeel]
    return cells.select(
        "gemeente",
        "amr",
        n.alias("geteld"),
        where(pl.col("profiel")).alias("ja"),
        where(nee).alias("nee"),
        where(nee & pl.col("leeg")).alias("leeg"),
        where(onvolledig).alias("onvolledig"),
        *(where(onvolledig & miss).alias(MISSING_PREFIX + oid) for oid, miss in missing),
        pl.when(onvolledig)
        .then(
            pl.concat_list(pl.when(miss).then(pl.lit(oid)) for oid, miss in missing)
            .list.drop_nulls()
            .list.join(COMBINATION_SEPARATOR)
        )
        .alias("ontbreekt"),
    )


#: The niveaus each grouping shows (gemeenten first, then the regions ranked: see :func:`_layout`).
_NIVEAUS = {
    Niveau.NEDERLAND: ("nederland",),
    Niveau.ARBEIDSMARKTREGIO: ("arbeidsmarktregio", "onbekend", "nederland"),
    Niveau.GEMEENTE: ("gemeente", "arbeidsmarktregio", "onbekend", "nederland"),
}


def _layout(
    contributions: pl.DataFrame, indeling: Indeling, ruleset: RuleSet, niveau: Niveau
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The overview in publication order (every gemeente, then every region), except that the
    regions are ranked by transparantiegraad; and the combinations of missing onderdelen."""
    counts = figures(ruleset)
    order = publication_order(indeling, _NIVEAUS[niveau], interleaved=False)
    laid = laid_out(order, contributions, [pl.col(f).sum() for f in counts]).with_columns(
        pl.col(f).fill_null(0).cast(pl.Int64) for f in counts
    )
    laid = laid.with_columns(pl.lit(None, dtype=pl.Int32).alias("rang"))
    regions = laid.filter(pl.col("niveau") == "arbeidsmarktregio")
    parts = [
        laid.filter(pl.col("niveau") == "gemeente"),
        _ranked(regions.drop("rang")).select(laid.columns),
        laid.filter(pl.col("niveau").is_in(["onbekend", "nederland"])),
    ]
    columns = overview_columns(ruleset)
    overzicht = pl.concat([p.with_columns(_graad()).select(columns) for p in parts]).with_columns(
        pl.col("amr").cast(pl.Int32), pl.col("rang").cast(pl.Int32)
    )
    return overzicht, _combinations(contributions, indeling, niveau)


def _graad() -> pl.Expr:
    return (
        pl.when(pl.col("geteld") > 0).then(pl.col("ja") / pl.col("geteld")).otherwise(None).alias("transparantiegraad")
    )


def _ranked(regions: pl.DataFrame) -> pl.DataFrame:
    """Regions by transparantiegraad, highest first (ties: region number); none counted: last, unranked."""
    ordered = regions.with_columns(_graad()).sort(
        ["transparantiegraad", "amr"], descending=[True, False], nulls_last=True
    )
    rank = pl.when(pl.col("geteld") > 0).then(pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
    return ordered.with_columns(rank.alias("rang")).drop("transparantiegraad")


def _combinations(contributions: pl.DataFrame, indeling: Indeling, niveau: Niveau) -> pl.DataFrame:
    """Onvolledig clients per combination of missing onderdelen, per group of the niveau, the
    largest combination first within each group."""
    order = publication_order(indeling, _NIVEAUS[niveau], interleaved=False)
    combinations = laid_out(
        order,
        contributions.filter(pl.col("ontbreekt").is_not_null()),
        [pl.col("onvolledig").sum().alias("aantal")],
        by=["ontbreekt"],
        within=["aantal", "ontbreekt"],
        descending=[True, False],
    )
    schema = {**WHERE, "ontbreekt": pl.String(), "aantal": pl.Int64()}
    return combinations.select(pl.col(c).cast(t) for c, t in schema.items())


# --- rendering ---------------------------------------------------------------------------------

NAME_WIDTH = 36


def _header(ruleset: RuleSet) -> list[tuple[str, str]]:
    """(column, header) of the figures shown in the text tables."""
    missing = [(MISSING_PREFIX + o.id, f"zonder {o.id}") for o in ruleset.profiel.onderdeel]
    return [
        ("geteld", "geteld"),
        ("ja", "ja"),
        ("nee", "nee"),
        ("transparantiegraad", "graad"),
        ("leeg", "leeg"),
        ("onvolledig", "onvolledig"),
        *missing,
    ]


def _row_text(label: str, row: dict[str, Any], header: list[tuple[str, str]]) -> str:
    cells = []
    for column, title in header:
        width = max(len(title), 8) + 2
        value = row[column]
        text = nl_pct(value) if column == "transparantiegraad" else nl_int(int(value))
        cells.append(f"{text:>{width}}")
    return f"{label:<{NAME_WIDTH}}" + "".join(cells)


def _header_text(first: str, header: list[tuple[str, str]]) -> str:
    return f"{first:<{NAME_WIDTH}}" + "".join(f"{title:>{max(len(title), 8) + 2}}" for _, title in header)


def render_profiel(result: ProfielResult) -> str:
    """Plain text: Nederland with the gap, the regions ranked, the gemeenten (with --niveau gemeente)."""
    ruleset = result.ruleset
    header = _header(ruleset)
    nl = result.nederland()
    lines = [
        result.title(),
        ruleset.profiel.label,
        "",
        f"Nederland: {nl_int(nl['geteld'])} geteld; {nl_int(nl['ja'])} met profiel (ja), "
        f"{nl_int(nl['nee'])} zonder (nee); transparantiegraad {nl_pct(nl['transparantiegraad'])}",
        "",
        "Zonder profiel (nee), naar wat ontbreekt",
        f"{nl_int(nl['leeg']):>12}  leeg: niets geregistreerd (geen {', '.join(LIST_COLUMNS)}, geen taaksoortvraag)",
        f"{nl_int(nl['onvolledig']):>12}  onvolledig, waarvan zonder (een cliënt kan meer missen):",
    ]
    lines += [f"{nl_int(nl[MISSING_PREFIX + o.id]):>12}    {o.id} (niet: {o.label})" for o in ruleset.profiel.onderdeel]
    lines.append(f"{'':>12}  onvolledig, naar combinatie van wat ontbreekt:")
    combinations = result.combinaties.filter(pl.col("niveau") == "nederland")
    lines += [
        f"{nl_int(n):>12}    {missing.replace(COMBINATION_SEPARATOR, ' + ')}"
        for missing, n in combinations.select("ontbreekt", "aantal").iter_rows()
    ]
    regions = result.overzicht.filter(pl.col("niveau") == "arbeidsmarktregio")
    if regions.height:
        lines += ["", "Arbeidsmarktregio's naar transparantiegraad", _header_text("rang  arbeidsmarktregio", header)]
        for row in regions.iter_rows(named=True):
            rank = "" if row["rang"] is None else str(row["rang"])
            lines.append(_row_text(f"{rank:>4}  {row['amr']} {row['arbeidsmarktregio']}", row, header))
        for row in result.overzicht.filter(pl.col("niveau") == "onbekend").iter_rows(named=True):
            lines.append(_row_text("      Gemeente onbekend", row, header))
    gemeenten = result.overzicht.filter(pl.col("niveau") == "gemeente")
    if gemeenten.height:
        lines += ["", "Gemeenten", _header_text("Gemeente", header)]
        current = None
        for row in gemeenten.iter_rows(named=True):
            if row["amr"] != current:
                current = row["amr"]
                lines += ["", f"{row['amr']} {row['arbeidsmarktregio']}"]
            lines.append(_row_text("  " + row["gemeente"], row, header))
    lines += ["", _header_text("", header), _row_text("Nederland", nl, header), "", result.reconciliation.line()]
    return "\n".join(lines)


def profiel_json(result: ProfielResult) -> str:
    """JSON with stable keys: regels, geldig_vanaf, peildatum, niveau, overzicht (rows of
    overview_columns), combinaties (rows: niveau, amr, arbeidsmarktregio, gemeente, ontbreekt, aantal),
    reconciliatie (gelezen, geteld, uitgesloten per rule, afgewezen per reden)."""
    document = {
        **json_header(result.ruleset, result.peildatum),
        "niveau": result.niveau.value,
        "overzicht": result.overzicht.to_dicts(),
        "combinaties": result.combinaties.to_dicts(),
        "reconciliatie": result.reconciliation.as_dict(),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
