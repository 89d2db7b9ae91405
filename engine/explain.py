"""Explain single clients: every rule's verdict, the profile found, and where the client ends up.

The explanation is read from the same plan as ``count`` (:func:`engine.pipeline.classify`),
so it can never disagree with the table: the verdicts are the plan's ``regel__``,
``signaal__`` and ``onderdeel__`` columns, the cell is its gemeente × klantsoort × profiel.

Fast on a big file: the ``client_id`` filter is applied to the *raw scan*, before the
contract, so Polars pushes it into the Parquet reader and only the matching rows are ever
decoded. That is exact for every contract check, the duplicate check included: it compares
a row with the other rows of the same ``client_id``, and the filter keeps every occurrence
of a requested id (all other checks look at one row only). The record number in the file
comes from a second, equally filtered scan with a row index, in the same ``collect_all``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from engine.contract import (
    CLIENT_ID,
    CSV_LIST_SEPARATOR,
    LIST_COLUMNS,
    RAW_PREFIX,
    TAAKSOORT_COLUMNS,
    VOCABULARY,
    as_text_value,
    check_by_reden,
    client_id_text,
    registered_taaksoort,
)
from engine.errors import MAX_SHOWN_VALUES, TransparantieError, capped
from engine.indeling import Indeling
from engine.layout import figure_column
from engine.packed import RECORD
from engine.pipeline import (
    AFGEWEZEN,
    GETELD,
    ONDERDEEL_PREFIX,
    RULE_PREFIX,
    SIGNAAL_PREFIX,
    UITGESLOTEN,
    Plan,
    classify,
)
from engine.readers import ReadOptions
from engine.report import heading, json_header, rule_number
from engine.rules import DEFAULT_RULES, RuleSet, select_ruleset
from engine.source import Source, open_source

#: Columns of the normalised record shown as the client's record (the profile components and
#: the taaksoort count are shown as the profile).
RECORD_COLUMNS = tuple(c for c in VOCABULARY if c not in (CLIENT_ID, *LIST_COLUMNS, "taaksoorten"))
POSITION = "record_nr"
_RAW_LIST = "lijst__"
_TAAK_VALUE = "taakwaarde__"
_TAAK_REGISTERED = "taakgeregistreerd__"


class UnknownClientError(TransparantieError):
    """None of the requested client ids occurs in the file."""


@dataclass(frozen=True)
class Verdict:
    """One declaration of the rule set (regel, signaal or profiel onderdeel) and whether it holds."""

    id: str
    label: str
    bron: str | None
    geldt: bool


@dataclass(frozen=True)
class Field:
    """One column of the normalised record, and the raw value it came from (as text)."""

    naam: str
    waarde: Any
    ruw: str | None  # None when the column is not read from the file (amr, peildatum) or was null


@dataclass(frozen=True)
class Component:
    """One list component of the profile: registered or not, and the values as read."""

    naam: str
    geregistreerd: bool
    waarden: list[str | None] | None  # None: null in the file, or not available (prepared file)


@dataclass(frozen=True)
class Taaksoortvraag:
    naam: str
    waarde: str
    geregistreerd: bool


@dataclass(frozen=True)
class Cel:
    """The cell of the published table a counted client is in."""

    gemeente: str | None  # None: the 'Gemeente onbekend' line
    amr: int | None
    arbeidsmarktregio: str | None
    klantsoort: str
    profiel: bool
    kolom: str  # the figure column of engine.layout.FIGURES


@dataclass(frozen=True)
class ClientExplanation:
    client_id: str
    record_nr: int  # position of the record in the file, 1 = the first record
    voorkomens: int  # how often the client_id occurs in the file
    uitkomst: str  # geteld | uitgesloten | afgewezen
    reden: str | None  # the first failing rule (uitgesloten) or contract check (afgewezen)
    reden_omschrijving: str | None
    waarde: str | None  # the offending value of a rejected row
    regels: list[Verdict]
    signalen: list[Verdict]
    record: list[Field]
    klantsoort: str | None
    indicering: str | None
    indicering_ruw: str | None
    componenten: list[Component]
    taaksoortvragen: list[Taaksoortvraag] | None  # those with a value; None: not available (prepared file)
    taaksoorten: int
    onderdelen: list[Verdict]
    profiel: bool
    cel: Cel | None


@dataclass(frozen=True)
class ExplainResult:
    clients: list[ClientExplanation]  # in the order asked, each occurrence in file order
    missing: list[str]  # requested ids that do not occur in the file
    ruleset: RuleSet
    peildatum: date | None
    source: Path

    def title(self) -> str:
        return heading("Uitleg per cliënt", self.ruleset, self.peildatum)

    def missing_message(self) -> str:
        shown_ids = ", ".join(capped(m) for m in self.missing[:MAX_SHOWN_VALUES])
        return f"client_id niet gevonden in {self.source}: {shown_ids}"


def explain_file(
    path: Path | str | Sequence[Path | str],
    client_ids: Sequence[str],
    rules: str = DEFAULT_RULES,
    peildatum: date | None = None,
    lezen: ReadOptions | None = None,
) -> ExplainResult:
    """Explain the given clients of one input file: the entry point for the CLI and tests."""
    ruleset = select_ruleset(rules, peildatum)
    return explain_clients(open_source(path, lezen), client_ids, ruleset, peildatum)


def _id_text(schema: pl.Schema) -> pl.Expr:
    # the contract's client_id (engine.contract.normalise), so a padded id is found as well
    return client_id_text(schema[CLIENT_ID])


def client_queries(
    source: Source,
    client_ids: Sequence[str],
    ruleset: RuleSet,
    peildatum: date | None = None,
    indeling: Indeling | None = None,
) -> tuple[Plan, pl.LazyFrame, pl.LazyFrame]:
    """The plan restricted to ``client_ids`` (filtered at the scan), the columns explain reads
    from it, and the record numbers of the same rows."""
    wanted = _id_text(source.schema).is_in(list(client_ids))
    narrowed = dataclasses.replace(source, frame=source.frame.filter(wanted))
    plan = classify(narrowed, ruleset, peildatum, indeling)
    schema = plan.frame.collect_schema()
    raw_available = source.prepared is None
    columns: list[pl.Expr] = [
        pl.col(CLIENT_ID),
        pl.col("uitkomst").cast(pl.String),
        *(pl.col(c) for c in ("reden", "waarde", "klantsoort", "profiel", "taaksoorten")),
        *(pl.col(c) for c in RECORD_COLUMNS),
        *(
            as_text_value(c, schema[RAW_PREFIX + c]).alias(RAW_PREFIX + c)
            for c in RECORD_COLUMNS
            if RAW_PREFIX + c in schema
        ),
        *(pl.col(c) for c in LIST_COLUMNS),
        *(pl.col(c) for c in schema.names() if c.startswith((RULE_PREFIX, SIGNAAL_PREFIX, ONDERDEEL_PREFIX))),
    ]
    if raw_available:
        columns += [_raw_list(c, source.schema[c]).alias(_RAW_LIST + c) for c in LIST_COLUMNS]
        for c in TAAKSOORT_COLUMNS:
            columns.append(pl.col(RAW_PREFIX + c).cast(pl.String).alias(_TAAK_VALUE + c))
            columns.append(registered_taaksoort(RAW_PREFIX + c, source.schema[c]).alias(_TAAK_REGISTERED + c))
    rows = plan.frame.select(columns)
    positions = _numbered(source).filter(wanted).select(POSITION, _id_text(source.schema))
    return plan, rows, positions


def _numbered(source: Source) -> pl.LazyFrame:
    """The source's rows with their record number (1 = first), keeping the filter pushdown.

    Polars fuses a row index into a Parquet scan (so a later filter is still pushed into the
    reader) only on a scan whose schema was not yet resolved; ``open_source`` resolves it.
    So a Parquet source gets a fresh scan of the same file, with the row index in the scan.
    """
    if source.format == "prepared":  # sorted by sleutel: the input's record number is kept
        return pl.scan_parquet(source.path).with_columns(pl.col(RECORD).alias(POSITION))
    if source.format == "parquet" and source.plan is not None and len(source.plan.parts) == 1:
        return pl.scan_parquet(source.plan.parts[0].path, row_index_name=POSITION, row_index_offset=1).select(
            POSITION,
            pl.col(source.plan.columns.source[CLIENT_ID] if source.plan.columns else CLIENT_ID).alias(CLIENT_ID),
        )
    return source.frame.with_row_index(POSITION, offset=1)


def _raw_list(column: str, dtype: pl.DataType) -> pl.Expr:
    raw = pl.col(RAW_PREFIX + column)
    if isinstance(dtype, pl.List):
        return raw.cast(pl.List(pl.String))
    if dtype == pl.String:
        return raw.str.split(CSV_LIST_SEPARATOR)
    return pl.lit(None, dtype=pl.List(pl.String))


def explain_clients(
    source: Source,
    client_ids: Sequence[str],
    ruleset: RuleSet,
    peildatum: date | None = None,
    indeling: Indeling | None = None,
) -> ExplainResult:
    """One ``collect_all`` over the filtered scan; raises :class:`UnknownClientError` when none
    of the ids occurs (the ids that do not occur are listed in ``missing`` otherwise)."""
    asked = list(dict.fromkeys(client_ids))
    plan, rows_query, positions_query = client_queries(source, asked, ruleset, peildatum, indeling)
    rows, positions = pl.collect_all([rows_query, positions_query])
    found = set(rows[CLIENT_ID].to_list())
    missing = [i for i in asked if i not in found]
    if not found:
        raise UnknownClientError(f"client_id niet gevonden in {source.path}: {', '.join(missing)}")
    numbers: dict[str, list[int]] = {}
    for client_id, number in positions.select(CLIENT_ID, POSITION).iter_rows():
        numbers.setdefault(client_id, []).append(int(number))
    per_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows.iter_rows(named=True):
        per_id.setdefault(row[CLIENT_ID], []).append(row)
    regions = dict(plan.indeling.regions().iter_rows())
    clients = [
        _explanation(row, numbers[client_id][i], len(numbers[client_id]), plan, regions, source.prepared is None)
        for client_id in asked
        for i, row in enumerate(per_id.get(client_id, []))
    ]
    return ExplainResult(clients=clients, missing=missing, ruleset=ruleset, peildatum=peildatum, source=source.path)


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _explanation(
    row: dict[str, Any],
    record_nr: int,
    voorkomens: int,
    plan: Plan,
    regions: dict[int, str],
    raw_available: bool,
) -> ClientExplanation:
    ruleset = plan.ruleset
    uitkomst, reden = row["uitkomst"], row["reden"]
    omschrijving = None
    if uitkomst == UITGESLOTEN:
        omschrijving = ruleset.regel_by_id(reden).label
    elif uitkomst == AFGEWEZEN:
        omschrijving = check_by_reden(reden).description
    cel = None
    if uitkomst == GETELD:
        amr = row["amr"]
        cel = Cel(
            gemeente=row["gemeente"],
            amr=amr,
            arbeidsmarktregio=regions.get(amr) if amr is not None else None,
            klantsoort=row["klantsoort"],
            profiel=bool(row["profiel"]),
            kolom=figure_column(row["klantsoort"], bool(row["profiel"])),
        )
    taaksoortvragen = None
    if raw_available:
        taaksoortvragen = [
            Taaksoortvraag(c, row[_TAAK_VALUE + c], bool(row[_TAAK_REGISTERED + c]))
            for c in TAAKSOORT_COLUMNS
            if row[_TAAK_VALUE + c] is not None
        ]
    return ClientExplanation(
        client_id=row[CLIENT_ID],
        record_nr=record_nr,
        voorkomens=voorkomens,
        uitkomst=uitkomst,
        reden=reden,
        reden_omschrijving=omschrijving,
        waarde=row["waarde"] if uitkomst == AFGEWEZEN else None,
        regels=[Verdict(r.id, r.label, r.bron, bool(row[RULE_PREFIX + r.id])) for r in ruleset.regel],
        signalen=[Verdict(s.id, s.label, s.bron, bool(row[SIGNAAL_PREFIX + s.id])) for s in ruleset.signaal],
        record=[Field(c, row[c], row.get(RAW_PREFIX + c)) for c in RECORD_COLUMNS],
        klantsoort=row["klantsoort"],
        indicering=row["indicering"],
        indicering_ruw=row.get(RAW_PREFIX + "indicering"),
        componenten=[Component(c, bool(row[c]), row.get(_RAW_LIST + c)) for c in LIST_COLUMNS],
        taaksoortvragen=taaksoortvragen,
        taaksoorten=int(row["taaksoorten"]),
        onderdelen=[
            Verdict(o.id, o.label, None, bool(row[ONDERDEEL_PREFIX + o.id])) for o in ruleset.profiel.onderdeel
        ],
        profiel=bool(row["profiel"]),
        cel=cel,
    )


# --- rendering ---------------------------------------------------------------------------------


def _yes(holds: bool) -> str:
    return "ja " if holds else "nee"


def _shown(value: Any) -> str:
    if value is None:
        return "(leeg)"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def outcome_line(client: ClientExplanation, ruleset: RuleSet) -> str:
    """Where the client ends up, in one line."""
    if client.cel is not None:
        cel = client.cel
        where = (
            f"{cel.gemeente} (AMR {cel.amr} {cel.arbeidsmarktregio})"
            if cel.gemeente is not None
            else "gemeente onbekend"
        )
        return (
            f"geteld in {where}, klantsoort {cel.klantsoort}, profiel {'ja' if cel.profiel else 'nee'} "
            f"[kolom {cel.kolom}]"
        )
    if client.uitkomst == UITGESLOTEN and client.reden is not None:
        number = rule_number(ruleset, client.reden)
        return f"uitgesloten door voorwaarde {number} {client.reden}: {client.reden_omschrijving}"
    return f"afgewezen [{client.reden}]: {client.reden_omschrijving}; waarde {_shown(client.waarde)}"


def render_text(result: ExplainResult) -> str:
    """Plain text: one block per client (per occurrence of a duplicated id)."""
    lines = [result.title()]
    total = len(TAAKSOORT_COLUMNS)
    for c in result.clients:
        times = f"; client_id komt {c.voorkomens} keer voor" if c.voorkomens > 1 else ""
        lines += ["", f"client_id {c.client_id} (record {c.record_nr} van het bestand{times})"]
        lines.append(f"  uitkomst: {outcome_line(c, result.ruleset)}")
        lines.append("  voorwaarden:")
        for i, v in enumerate(c.regels, 1):
            lines.append(f"    {_yes(v.geldt)}  {i} {v.id}: {v.label} [bron: {v.bron}]")
        if c.signalen:
            lines.append("  signalen (tellen niet mee):")
            lines += [f"    {_yes(v.geldt)}  {v.id}: {v.label} [bron: {v.bron}]" for v in c.signalen]
        lines.append("  invoercontrole: " + (f"afgewezen [{c.reden}]" if c.uitkomst == AFGEWEZEN else "in orde"))
        indicering = _shown(c.indicering) + (
            f" (in het bestand: {c.indicering_ruw!r})"
            if c.indicering_ruw is not None and c.indicering_ruw != c.indicering
            else ""
        )
        lines.append(f"  klantsoort: {c.klantsoort or 'geen'}, uit indicering {indicering}")
        lines.append("  record (genormaliseerd):")
        for f in c.record:
            differs = f.ruw is not None and f.ruw != _plain(f.waarde)
            lines.append(f"    {f.naam:<18} {_shown(f.waarde)}" + (f" (in het bestand: {f.ruw!r})" if differs else ""))
        lines.append(f"  profiel: {'ja' if c.profiel else 'nee'}")
        lines += [f"    {_yes(v.geldt)}  {v.id}: {v.label}" for v in c.onderdelen]
        lines.append("  geregistreerde onderdelen:")
        for comp in c.componenten:
            if c.taaksoortvragen is None:  # a prepared file keeps only the registered flags
                values = "(waarden niet beschikbaar in een voorbereid bestand)"
            elif comp.waarden is None:
                values = "(leeg)"
            else:
                values = ", ".join(_shown(v) for v in comp.waarden) or "[]"
            lines.append(f"    {comp.naam:<18} {_yes(comp.geregistreerd)}  {values}")
        lines.append(f"    {'taaksoortvragen':<18} {c.taaksoorten} van {total} geregistreerd")
        if c.taaksoortvragen is None:
            lines.append("      (antwoorden niet beschikbaar in een voorbereid bestand)")
        else:
            lines += [
                f"      {t.naam} {_shown(t.waarde)}{'' if t.geregistreerd else ' (niet geregistreerd: leeg)'}"
                for t in c.taaksoortvragen
            ]
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def render_json(result: ExplainResult) -> str:
    """JSON: {regels, geldig_vanaf, peildatum, clienten: [the fields of ClientExplanation],
    niet_gevonden: the ids asked for that the file does not hold}."""
    document = {
        **json_header(result.ruleset, result.peildatum),
        "clienten": [_jsonable(dataclasses.asdict(c)) for c in result.clients],
        "niet_gevonden": result.missing,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
