"""The rule funnel: where the records read drop out, rule by rule, in the publication's order.

Built from the same plan as ``count`` (:func:`engine.pipeline.counting_plan`): a row leaves the
funnel at the contract (``afgewezen``) or at the first rule it fails (its ``reden``), so the
funnel's last line is exactly count's number of counted clients, per group too. Every rule,
label and signaal comes from the rule set; nothing is restated here.

Steps (one row each in :attr:`FunnelResult.steps`, per group, in this order):

* ``gelezen``   every record read;
* ``afgewezen`` rows that break the input contract, then one ``reden`` row per check that fired;
* ``regel``     per counting rule: ``aantal`` excluded at this rule, ``over`` remaining after it;
* ``signaal``   after the rule named in its ``na_regel``: how many of those remaining hold the
  signaal (in the target group, but not counted); it changes no count;
* ``geteld``    the counted clients (= count's figures).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from engine import values
from engine.contract import ALL_CHECKS, AS_READ_PREFIX, RAW_PREFIX, per_distinct
from engine.errors import RowProblem, UsageError
from engine.grouping import grouped_outcomes
from engine.indeling import ROUTES, Indeling
from engine.layout import Niveau, publication_order
from engine.outcome import OnInvalid, Reconciliation, collect_checked
from engine.pipeline import AFGEWEZEN, GETELD, RULE_PREFIX, SIGNAAL_PREFIX, UITGESLOTEN, Plan, counting_plan
from engine.privacy import BSN_COLUMN, MIN_AANTAL, shown
from engine.readers import ReadOptions
from engine.report import heading, json_header, nl_int, rule_number
from engine.rules import DEFAULT_RULES, RuleSet, Signaal, select_ruleset
from engine.source import open_source

GELEZEN, AFGEWEZEN_STAP, REDEN, REGEL, SIGNAAL, GETELD_STAP = (
    "gelezen",
    "afgewezen",
    "reden",
    "regel",
    "signaal",
    "geteld",
)
#: Per group: whether its rows hold a signaal and are still in the funnel at its rule.
SCOPE_PREFIX = "binnen__"
#: The columns of the steps table (CSV, JSON ``stappen``). ``niveau`` is gemeente,
#: arbeidsmarktregio, onbekend (no gemeente) or nederland; ``stap`` numbers the lines of one
#: group; ``id`` is the rule id, signaal id or contract reden; ``aantal`` the line's own number
#: (records read / rejected / excluded at this rule / holding the signaal / counted) and
#: ``over`` the records still in the funnel after the line (null on the side lines reden and signaal).
STEP_SCHEMA: dict[str, pl.DataType] = {
    "niveau": pl.String(),
    "amr": pl.Int32(),
    "arbeidsmarktregio": pl.String(),
    "gemeente": pl.String(),
    "stap": pl.Int32(),
    "soort": pl.String(),
    "id": pl.String(),
    "label": pl.String(),
    "aantal": pl.Int64(),
    "over": pl.Int64(),
}
VALUE_SCHEMA: dict[str, pl.DataType] = {"waarde": pl.String(), "aantal": pl.Int64(), "geteld": pl.Int64()}
#: ``waarde`` of that line (``waarden``: how many distinct values it stands for).
OVERIG = "overig"
INDICERING_SCHEMA: dict[str, pl.DataType] = {
    "waarde": pl.String(),
    "klantsoort": pl.String(),
    "aantal": pl.Int64(),
    "geteld": pl.Int64(),
}


@dataclass(frozen=True)
class FunnelResult:
    steps: pl.DataFrame  # STEP_SCHEMA
    status: pl.DataFrame  # VALUE_SCHEMA: every normalised status seen, with how many rows and how many counted
    indicering: pl.DataFrame  # INDICERING_SCHEMA: the same for indicering, with the klantsoort it maps to
    reconciliation: Reconciliation  # the whole file, exactly as count's
    problems: list[RowProblem]
    ruleset: RuleSet
    peildatum: date | None
    niveau: Niveau
    amr: int | None
    #: Per column (status, indicering): how many rare values its last row ``overig`` stands for (0: none).
    overig: dict[str, int] = field(default_factory=dict)
    min_aantal: int = MIN_AANTAL
    #: How each row's gemeente was found (naam, alias, code, voormalig; None: not found or blank), and
    #: how many indicering_einde values were a "no end" date such as 9999-12-31. Raw files only:
    #: a prepared file keeps neither (both None).
    gemeente_via: dict[str, int] | None = None
    geen_einde: int | None = None

    @property
    def table(self) -> pl.DataFrame:
        """The report's main table (:attr:`steps`), as every result of the Python API has one."""
        return self.steps

    def title(self) -> str:
        return heading("Trechter van de teldefinitie", self.ruleset, self.peildatum)


@dataclass(frozen=True)
class _Group:
    niveau: str
    amr: int | None
    arbeidsmarktregio: str | None
    gemeente: str | None
    rows: pl.DataFrame  # the per-gemeente outcome rows that make up this group


def funnel_file(
    path: Path | str | Sequence[Path | str],
    rules: str = DEFAULT_RULES,
    peildatum: date | None = None,
    niveau: Niveau = Niveau.NEDERLAND,
    amr: int | None = None,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
    min_aantal: int = MIN_AANTAL,
) -> FunnelResult:
    """The funnel of one input file: the entry point for the CLI and tests."""
    ruleset = select_ruleset(rules, peildatum)
    plan = counting_plan(open_source(path, lezen), ruleset, peildatum)
    return run_funnel(plan, niveau, amr, on_invalid, quarantine, allow_bsn, min_aantal)


def signaal_scope(signaal: Signaal, ruleset: RuleSet) -> pl.Expr:
    """True for a row that is in the funnel after rule ``na_regel`` and holds the signaal."""
    order = [r.id for r in ruleset.regel]
    passed = order[: order.index(signaal.na_regel) + 1]
    return (
        (pl.col("uitkomst") != AFGEWEZEN)
        & pl.all_horizontal(pl.col(RULE_PREFIX + rid) for rid in passed)
        & pl.col(SIGNAAL_PREFIX + signaal.id)
    )


def funnel_query(plan: Plan) -> pl.LazyFrame:
    """The one aggregation the funnel runs: rows per gemeente × uitkomst × reden × status ×
    indicering × klantsoort, with per signaal the rows in its scope (:func:`signaal_scope`).

    On a prepared file the records are grouped on their packed key first, as count does; on a
    raw file only the columns these need are read (not the profile's).
    """
    ruleset = plan.ruleset
    keep = {c: pl.col(c) for c in ("gemeente", "status", "indicering", "klantsoort")}
    keep |= {SCOPE_PREFIX + s.id: signaal_scope(s, ruleset) for s in ruleset.signaal}
    keep |= _reading_keys(plan)
    n = pl.col("n")
    return (
        grouped_outcomes(plan, keep)
        .group_by("gemeente", "uitkomst", "reden", "status", "indicering", "klantsoort", *_reading_keys(plan))
        .agg(
            n.sum(),
            pl.col(BSN_COLUMN).sum(),
            *(n.filter(pl.col(SCOPE_PREFIX + s.id)).sum().alias(SIGNAAL_PREFIX + s.id) for s in ruleset.signaal),
        )
    )


def _reading_keys(plan: Plan) -> dict[str, pl.Expr]:
    """How the raw file was read, per record: the route its gemeente took, and whether its
    einde was a "no end" date. A prepared file does not keep the raw values: nothing."""
    if plan.source.prepared is not None:
        return {}
    gemeente = values.as_text(pl.col(RAW_PREFIX + "gemeente"), plan.source.schema["gemeente"])
    return {
        # Per distinct name of a batch, as the gemeente itself is matched (engine.contract).
        VIA: per_distinct(gemeente, plan.indeling.route, pl.Enum(ROUTES)),
        GEEN_EINDE: values.is_sentinel("indicering_einde", pl.col(AS_READ_PREFIX + "indicering_einde")),
    }


VIA, GEEN_EINDE = "gemeente_via", "geen_einde"


def run_funnel(
    plan: Plan,
    niveau: Niveau = Niveau.NEDERLAND,
    amr: int | None = None,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    allow_bsn: bool = False,
    min_aantal: int = MIN_AANTAL,
) -> FunnelResult:
    """Execute the plan once (one ``collect_all``) and lay out the funnel per group.

    Everything is aggregated lazily per gemeente × uitkomst × reden (with the signaal counts);
    the groups of ``niveau`` are sums of those few aggregated rows. Status and indicering
    values seen in fewer than ``min_aantal`` records are shown together as one line
    ``overig`` (free text typed for one client is not shown).
    """
    ruleset = plan.ruleset
    if amr is not None and amr not in plan.indeling.regions()["amr"].to_list():
        raise UsageError(f"--amr {amr}: er is geen arbeidsmarktregio {amr}; de regio's zijn genummerd 1-35")
    # One aggregation over the file; the three views below are sums of its few rows.
    signalen = [SIGNAAL_PREFIX + s.id for s in ruleset.signaal]
    checked = collect_checked(plan, funnel_query(plan), on_invalid, quarantine, allow_bsn)
    grouped = checked.result.drop(BSN_COLUMN).with_columns(plan.indeling.amr_of(pl.col("gemeente")).alias("amr"))
    geteld = pl.when(pl.col("uitkomst") == GETELD).then(pl.col("n")).otherwise(0).sum().alias("geteld")
    per_gemeente = grouped.group_by("gemeente", "uitkomst", "reden").agg(pl.col("n").sum(), pl.col(signalen).sum())
    status = grouped.group_by("amr", "status").agg(pl.col("n").sum().alias("aantal"), geteld)
    indicering = grouped.group_by("amr", "indicering", "klantsoort").agg(pl.col("n").sum().alias("aantal"), geteld)

    per_gemeente = per_gemeente.with_columns(pl.col("gemeente").cast(pl.String), pl.col("uitkomst").cast(pl.String))
    per_gemeente = per_gemeente.with_columns(plan.indeling.amr_of(pl.col("gemeente")).alias("amr"))
    steps = [_steps(group, ruleset) for group in _groups(per_gemeente, plan.indeling, niveau, amr)]
    reading = grouped if amr is None else grouped.filter(pl.col("amr") == amr)
    gemeente_via = geen_einde = None
    if VIA in grouped.columns:
        routes = reading.group_by(VIA).agg(pl.col("n").sum())
        gemeente_via = {str(r): int(n) for r, n in routes.iter_rows() if r is not None}
        geen_einde = int(reading.filter(pl.col(GEEN_EINDE))["n"].sum())
    status_values, status_overig = _values(status, "status", amr, VALUE_SCHEMA, min_aantal)
    indicering_values, indicering_overig = _values(indicering, "indicering", amr, INDICERING_SCHEMA, min_aantal)
    return FunnelResult(
        steps=pl.concat([pl.DataFrame(rows, schema=STEP_SCHEMA, orient="row") for rows in steps]),
        status=status_values,
        indicering=indicering_values,
        reconciliation=checked.reconciliation,
        problems=checked.problems,
        ruleset=ruleset,
        peildatum=plan.peildatum,
        niveau=niveau,
        amr=amr,
        overig={"status": status_overig, "indicering": indicering_overig},
        min_aantal=min_aantal,
        gemeente_via=gemeente_via,
        geen_einde=geen_einde,
    )


def _values(
    frame: pl.DataFrame, column: str, amr: int | None, schema: dict[str, pl.DataType], min_aantal: int = 1
) -> tuple[pl.DataFrame, int]:
    """Rows and counted rows per value of ``column`` (in ``schema``), the most frequent first.

    Values with fewer than ``min_aantal`` rows are summed into one last row, ``waarde``
    :data:`OVERIG` (klantsoort null); the second result is how many values it stands for (0:
    no such row).
    """
    if amr is not None:
        frame = frame.filter(pl.col("amr") == amr)
    keys = [column, "klantsoort"] if "klantsoort" in frame.columns else [column]
    values = (
        frame.group_by(keys)
        .agg(pl.col("aantal").sum(), pl.col("geteld").sum())
        .rename({column: "waarde"})
        .with_columns(pl.col("waarde").cast(pl.String))
        .sort(["aantal", "waarde"], descending=[True, False], nulls_last=True)
        .select(schema.keys())
        .cast(pl.Schema(schema))
    )
    rare = values.filter(pl.col("aantal") < min_aantal)
    if rare.is_empty():
        return values, 0
    overig = {"waarde": OVERIG, "aantal": rare["aantal"].sum(), "geteld": rare["geteld"].sum()}
    kept = values.filter(pl.col("aantal") >= min_aantal)
    return pl.concat([kept, pl.DataFrame([overig], schema=values.schema)]), rare.height


def _groups(per_gemeente: pl.DataFrame, indeling: Indeling, niveau: Niveau, amr: int | None) -> list[_Group]:
    """The groups to show, in publication order; a gemeente or region only when it has records
    (the region asked with ``--amr`` always)."""
    if amr is not None:
        niveaus: tuple[str, ...] = (
            ("gemeente", "arbeidsmarktregio") if niveau is Niveau.GEMEENTE else ("arbeidsmarktregio",)
        )
    else:
        niveaus = {
            Niveau.NEDERLAND: ("nederland",),
            Niveau.ARBEIDSMARKTREGIO: ("arbeidsmarktregio", "onbekend", "nederland"),
            Niveau.GEMEENTE: ("gemeente", "onbekend", "nederland"),
        }[niveau]
    rows = {
        "gemeente": lambda w: per_gemeente.filter(pl.col("gemeente") == w["gemeente"]),
        "arbeidsmarktregio": lambda w: per_gemeente.filter(pl.col("amr") == w["amr"]),
        "onbekend": lambda w: per_gemeente.filter(pl.col("gemeente").is_null()),
        "nederland": lambda w: per_gemeente,
    }
    present = {
        "gemeente": set(per_gemeente["gemeente"].drop_nulls().to_list()),
        "arbeidsmarktregio": set(per_gemeente["amr"].drop_nulls().to_list()),
    }
    groups = []
    for where in publication_order(indeling, niveaus, amr).iter_rows(named=True):
        kind = where["niveau"]
        group = _Group(kind, where["amr"], where["arbeidsmarktregio"], where["gemeente"], rows[kind](where))
        shown = {
            "gemeente": where["gemeente"] in present["gemeente"],
            "arbeidsmarktregio": amr is not None or where["amr"] in present["arbeidsmarktregio"],
            "onbekend": group.rows.height > 0,
            "nederland": True,
        }[kind]
        if shown:
            groups.append(group)
    return groups


def _steps(group: _Group, ruleset: RuleSet) -> list[dict[str, Any]]:
    """The funnel lines of one group, from its aggregated outcome rows."""
    by = {(u, r): n for u, r, n in group.rows.group_by("uitkomst", "reden").agg(pl.col("n").sum()).iter_rows()}
    signalen = {s.id: int(group.rows[SIGNAAL_PREFIX + s.id].sum()) for s in ruleset.signaal}
    where = {
        "niveau": group.niveau,
        "amr": group.amr,
        "arbeidsmarktregio": group.arbeidsmarktregio,
        "gemeente": group.gemeente,
    }
    lines: list[dict[str, Any]] = []

    def line(soort: str, id_: str | None, label: str, aantal: int, over: int | None) -> None:
        row = {"stap": len(lines) + 1, "soort": soort, "id": id_, "label": label, "aantal": aantal, "over": over}
        lines.append({**where, **row})

    read = sum(by.values())
    rejected = {c.reden: by.get((AFGEWEZEN, c.reden), 0) for c in ALL_CHECKS}
    remaining = read - sum(rejected.values())
    line(GELEZEN, None, "records gelezen", read, read)
    line(AFGEWEZEN_STAP, None, "afgewezen: breekt het invoercontract", sum(rejected.values()), remaining)
    for check in ALL_CHECKS:
        if rejected[check.reden]:
            line(REDEN, check.reden, check.description, rejected[check.reden], None)
    for regel in ruleset.regel:
        excluded = by.get((UITGESLOTEN, regel.id), 0)
        remaining -= excluded
        line(REGEL, regel.id, regel.label, excluded, remaining)
        for signaal in ruleset.signaal:
            if signaal.na_regel == regel.id:
                line(SIGNAAL, signaal.id, signaal.label, signalen[signaal.id], None)
    counted = by.get((GETELD, None), 0)
    if counted != remaining:  # every non-counted, non-rejected row has a rule as reden
        raise AssertionError(f"funnel does not close: {remaining} remaining, {counted} counted")
    line(GETELD_STAP, None, "geteld", counted, counted)
    return lines


# --- rendering ---------------------------------------------------------------------------------

NUMBER_WIDTH = 12


def _n(value: int | None) -> str:
    return f"{'' if value is None else nl_int(value):>{NUMBER_WIDTH}}"


def _group_name(row: dict[str, Any]) -> str:
    niveau = row["niveau"]
    if niveau == "gemeente":
        return f"{row['gemeente']} (AMR {row['amr']} {row['arbeidsmarktregio']})"
    if niveau == "arbeidsmarktregio":
        return f"AMR {row['amr']} {row['arbeidsmarktregio']}"
    return "Gemeente onbekend" if niveau == "onbekend" else "Nederland"


def _step_text(row: dict[str, Any], ruleset: RuleSet, labels: bool = True) -> str:
    """One step; without ``labels`` (many groups) only its id, the labels stand once above."""
    soort = row["soort"]
    label = f": {row['label']}" if labels else ""
    if soort == REGEL:
        return f"voorwaarde {rule_number(ruleset, row['id'])} {row['id']}{label}"
    if soort == SIGNAAL:
        return f"  signaal {row['id']} (in de doelgroep, niet geteld){label}"
    if soort == REDEN:
        return f"  waarvan {row['id']}{label}"
    return str(row["label"])


def _legend(steps: pl.DataFrame, ruleset: RuleSet) -> list[str]:
    """Every step's label once, for a funnel of many groups."""
    seen = steps.filter(pl.col("soort").is_in([REGEL, SIGNAAL, REDEN])).unique("id", maintain_order=True)
    return ["", "Stappen:", *(f"  {_step_text(row, ruleset).strip()}" for row in seen.iter_rows(named=True))]


#: Up to this many groups every step carries its label; beyond, the labels stand once above.
LABELLED_GROUPS = 3


def render_funnel(result: FunnelResult) -> str:
    """Plain text: one block per group, then the status and indicering values and the balance."""
    lines = [
        result.title(),
        "aantal: records die bij de stap afvallen (bij een signaal: records waarvoor het signaal geldt); "
        "over: records die verder gaan",
    ]
    groups = result.steps.select("niveau", "amr", "gemeente").unique().height
    labels = groups <= LABELLED_GROUPS
    if not labels:
        lines += _legend(result.steps, result.ruleset)
    current = None
    for row in result.steps.iter_rows(named=True):
        key = (row["niveau"], row["amr"], row["gemeente"])
        if key != current:
            current = key
            lines += ["", _group_name(row), f"{'aantal':>{NUMBER_WIDTH}}{'over':>{NUMBER_WIDTH}}  stap"]
        lines.append(f"{_n(row['aantal'])}{_n(row['over'])}  {_step_text(row, result.ruleset, labels)}")
    where = f" in AMR {result.amr}" if result.amr is not None else ""
    lines += ["", f"Waarden van status{where} (na normalisatie)"]
    lines.append(f"{'aantal':>{NUMBER_WIDTH}}{'geteld':>{NUMBER_WIDTH}}  waarde")
    status = list(result.status.iter_rows(named=True))
    lines += [
        f"{_n(r['aantal'])}{_n(r['geteld'])}  {_value_text(result, 'status', i == len(status) - 1, r['waarde'])}"
        for i, r in enumerate(status)
    ]
    lines += ["", f"Waarden van indicering{where} (na normalisatie), met de klantsoort volgens de regels"]
    lines.append(f"{'aantal':>{NUMBER_WIDTH}}{'geteld':>{NUMBER_WIDTH}}  {'klantsoort':<12}waarde")
    indicering = list(result.indicering.iter_rows(named=True))
    lines += [
        f"{_n(r['aantal'])}{_n(r['geteld'])}  {r['klantsoort'] or 'geen':<12}"
        f"{_value_text(result, 'indicering', i == len(indicering) - 1, r['waarde'])}"
        for i, r in enumerate(indicering)
    ]
    if result.gemeente_via is not None:
        via = result.gemeente_via
        lines += ["", f"Gemeente gevonden{where} via"]
        lines += [f"{_n(via.get(route, 0))}  {route}" for route in ROUTES]
        lines += ["", f"{_n(result.geen_einde or 0)}  indicering_einde als 'geen einde'-datum (zoals 9999-12-31): open"]
    lines += ["", result.reconciliation.line()]
    return "\n".join(lines)


def _shown(value: str | None) -> str:
    return "(leeg)" if value is None else shown(value)


def _value_text(result: FunnelResult, column: str, last: bool, value: str | None) -> str:
    n = result.overig.get(column, 0)
    if last and n:
        return f"{OVERIG} ({n} waarden met elk minder dan {result.min_aantal} records)"
    return _shown(value)


def funnel_json(result: FunnelResult) -> str:
    """JSON with stable keys: regels, geldig_vanaf, peildatum, niveau, amr, stappen (STEP_SCHEMA rows),
    status and indicering (value rows), reconciliatie (gelezen, geteld, uitgesloten per rule,
    afgewezen per reden; the whole file)."""
    document = {
        **json_header(result.ruleset, result.peildatum),
        "niveau": result.niveau.value,
        "amr": result.amr,
        "stappen": result.steps.to_dicts(),
        "status": result.status.to_dicts(),
        "indicering": result.indicering.to_dicts(),
        "overig": {"min_aantal": result.min_aantal, **result.overig},
        "gemeente_via": result.gemeente_via,
        "geen_einde": result.geen_einde,
        "reconciliatie": result.reconciliation.as_dict(),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
