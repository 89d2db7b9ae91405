"""``transparantie inspect``: how a file will be read, without counting it.

The first command an analyst runs on a new export. It shows what ``engine.readers`` decided
(format, encoding, delimiter, each contract column's source column, each text date column's
format) and what the values hold: null words and "no end" dates with their counts, the
boolean words, the status and indicering values, the list forms, and the gemeenten that
match through a code or a former name, or not at all (with suggestions). One collection
over the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine import values
from engine.contract import (
    BOOL_COLUMNS,
    DATE_COLUMNS,
    LIST_COLUMNS,
    REQUIRED_COLUMNS,
    folded,
)
from engine.indeling import Indeling, default_indeling
from engine.layout import nl_int
from engine.readers import ReadOptions
from engine.readers.csv import DELIMITERS
from engine.source import Source, open_source

TOP = 12
#: Values seen fewer times than this are shown together as "overig" (privacy: free text).
MIN_SHOWN = 10


@dataclass
class InspectReport:
    source: Source
    rows: int
    read: dict[str, Any]  # ReadPlan.as_dict()
    null_words: dict[str, int]  # column -> rows holding a null word
    invisible: dict[str, int]  # column -> rows holding only invisible characters
    dates: dict[str, dict[str, int]]  # column -> leeg / geen_einde / niet_leesbaar / buiten_bereik
    booleans: dict[str, list[tuple[str | None, int]]]
    statuses: list[tuple[str | None, int]]
    indiceringen: list[tuple[str | None, int]]
    lists: dict[str, dict[str, int]]  # column -> form -> rows
    gemeente_routes: dict[str, int]
    unknown_gemeenten: list[tuple[str, int, list[str]]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "invoer": self.read,
            "rijen": self.rows,
            "null_woorden": self.null_words,
            "onzichtbaar": self.invisible,
            "datums": self.dates,
            "booleans": {c: dict(_named(v)) for c, v in self.booleans.items()},
            "status": dict(_named(self.statuses)),
            "indicering": dict(_named(self.indiceringen)),
            "lijsten": self.lists,
            "gemeente_gevonden_via": self.gemeente_routes,
            "gemeente_onbekend": [{"waarde": v, "aantal": n, "suggesties": s} for v, n, s in self.unknown_gemeenten],
        }


def _named(pairs: list[tuple[str | None, int]]) -> list[tuple[str, int]]:
    return [("(leeg)" if v is None else v, n) for v, n in pairs]


def _text(column: str, schema: pl.Schema) -> pl.Expr:
    return values.as_text(pl.col(column), schema[column])


def _counts(frame: pl.LazyFrame, expr: pl.Expr) -> pl.LazyFrame:
    return frame.group_by(expr.alias("waarde")).agg(pl.len().alias("n")).sort("n", "waarde", descending=[True, False])


def _grouped(rows: pl.DataFrame, min_shown: int = MIN_SHOWN) -> list[tuple[str | None, int]]:
    """Values with their counts, most frequent first; rare ones together as 'overig'."""
    shown = [(v, int(n)) for v, n in rows.iter_rows() if n >= min_shown][:TOP]
    rest = int(rows["n"].sum()) - sum(n for _, n in shown)
    return shown + ([("overig", rest)] if rest else [])


def inspect_source(source: Source, indeling: Indeling | None = None) -> InspectReport:
    indeling = indeling or default_indeling()
    schema = source.schema
    frame = source.frame
    formats = source.datumformaten
    text_columns = [c for c in REQUIRED_COLUMNS if schema[c] == pl.String]
    tallies: list[pl.Expr] = [pl.len().alias("rijen")]
    for c in text_columns:
        tallies.append(values.is_null_word(pl.col(c)).sum().alias(f"null__{c}"))
        tallies.append((pl.col(c).is_not_null() & ~values.visible(pl.col(c))).sum().alias(f"onzichtbaar__{c}"))
    for c in DATE_COLUMNS:
        fmt = values.input_values().date_formats(formats[c]) if c in formats else None
        read = values.as_date(c, pl.col(c), schema[c], fmt, keep_sentinels=True)
        blank = values.is_blank(values.as_text(pl.col(c), schema[c]))
        tallies += [
            blank.sum().alias(f"leeg__{c}"),
            values.is_sentinel(c, read).sum().alias(f"geen_einde__{c}"),
            (~blank & read.is_null()).sum().alias(f"niet_leesbaar__{c}"),
            (values.out_of_range(read) & ~values.is_sentinel(c, read)).sum().alias(f"buiten_bereik__{c}"),
        ]
    for c in LIST_COLUMNS:
        if schema[c] == pl.String:
            text = pl.col(c).str.strip_chars()
            bracketed = text.str.starts_with("[") & text.str.ends_with("]")
            python = bracketed & text.str.contains("'") & ~text.str.contains('"')
            tallies += [
                (bracketed & ~python).sum().alias(f"json__{c}"),
                python.sum().alias(f"python__{c}"),
                (~bracketed & ~values.is_blank(text)).sum().alias(f"puntkomma__{c}"),
            ]
    gemeente = values.cleaned(_text("gemeente", schema))
    queries = [
        frame.select(tallies),
        *(_counts(frame, pl.col(c).cast(pl.String).str.strip_chars().str.to_lowercase()) for c in BOOL_COLUMNS),
        _counts(frame, folded("status", schema["status"])),
        _counts(frame, folded("indicering", schema["indicering"])),
        _counts(frame, indeling.route(gemeente).cast(pl.String)),
        frame.select(gemeente.alias("waarde"))
        .filter(pl.col("waarde").is_not_null() & indeling.match(pl.col("waarde")).is_null())
        .group_by("waarde")
        .agg(pl.len().alias("n"))
        .sort("n", "waarde", descending=[True, False])
        .head(TOP),
    ]
    tally, *bools, statuses, indiceringen, routes, unknown = pl.collect_all(queries, engine="streaming")
    t = tally.row(0, named=True)
    return InspectReport(
        source=source,
        rows=int(t["rijen"]),
        read=source.plan.as_dict() if source.plan else {"bestand": str(source.path)},
        null_words={c: int(t[f"null__{c}"]) for c in text_columns if t[f"null__{c}"]},
        invisible={c: int(t[f"onzichtbaar__{c}"]) for c in text_columns if t[f"onzichtbaar__{c}"]},
        dates={
            c: {k: int(t[f"{k}__{c}"]) for k in ("leeg", "geen_einde", "niet_leesbaar", "buiten_bereik")}
            for c in DATE_COLUMNS
        },
        booleans={c: _grouped(b, 1) for c, b in zip(BOOL_COLUMNS, bools, strict=True)},
        statuses=_grouped(statuses),
        indiceringen=_grouped(indiceringen),
        lists={
            c: {k: int(t[f"{k}__{c}"]) for k in ("puntkomma", "json", "python") if t[f"{k}__{c}"]}
            for c in LIST_COLUMNS
            if schema[c] == pl.String
        },
        gemeente_routes={("(leeg)" if r is None else r): int(n) for r, n in routes.iter_rows()},
        unknown_gemeenten=[(v, int(n), indeling.suggest(v)) for v, n in unknown.iter_rows()],
    )


def inspect_file(inputs: Path | str | Sequence[Path | str], lezen: ReadOptions | None = None) -> InspectReport:
    """How the input will be read, and what its values hold: the entry point for the CLI and tests."""
    source = open_source(inputs, lezen)
    if source.prepared is not None:
        from engine.errors import UsageError

        raise UsageError(f"{source.path} is al voorbereid (transparantie prepare); inspect leest ruwe exports")
    return inspect_source(source)


def render_inspect(report: InspectReport) -> str:
    r = report.read
    lines = [f"Invoer: {r['bestand']}", f"  formaat: {r['formaat']}"]
    if len(r.get("delen", [])) > 1:
        lines.append(f"  delen: {len(r['delen'])} ({', '.join(r['delen'][:3])}{', …' if len(r['delen']) > 3 else ''})")
    if r.get("compressie"):
        lines.append(f"  compressie: {', '.join(r['compressie'])}")
    if r.get("codering"):
        bom = ", met BOM" if r.get("bom") else ""
        lines.append(f"  codering: {r['codering']}{bom} ({r['codering_bepaald']})")
        sep = DELIMITERS.get(r["scheidingsteken"], repr(r["scheidingsteken"]))
        lines.append(f"  scheidingsteken: {sep} ({r['scheidingsteken_bepaald']})")
    if r.get("blad"):
        lines.append(f"  werkblad: {r['blad']}")
    lines.append(f"  rijen: {nl_int(report.rows)}")
    columns = r.get("kolommen", {})
    other = {c: i for c, i in columns.items() if i["bron"] != c}
    types = sorted({i["type"] for i in columns.values()})
    lines += [
        "",
        f"Kolommen: {len(columns) - len(other)} van {len(columns)} op hun eigen naam (typen: {', '.join(types)})",
    ]
    for column, info in other.items():
        how = "kolommen-bestand" if info["gevonden"] == "kolommen-bestand" else "naam, hoofdletters/spaties genegeerd"
        lines.append(f"  {column:<18} <- {info['bron']!r} ({info['type']}; {how})")
    lines += ["", "Datums"]
    for column in DATE_COLUMNS:
        d = report.dates[column]
        fmt = r.get("datumformaten", {}).get(column)
        how = f"formaat {fmt['formaat']} ({fmt['bepaald']})" if fmt else "als datum opgeslagen"
        extra = [
            f"{nl_int(n)} {label}"
            for label, n in (
                ("leeg", d["leeg"]),
                ("'geen einde' (zoals 9999-12-31, gelezen als leeg)", d["geen_einde"]),
                ("niet leesbaar", d["niet_leesbaar"]),
                ("buiten bereik", d["buiten_bereik"]),
            )
            if n
        ]
        lines.append(f"  {column}: {how}" + (f"; {', '.join(extra)}" if extra else ""))
    if report.null_words or report.invisible:
        lines += ["", "Lege waarden geschreven als tekst (gelezen als leeg)"]
        for column, n in report.null_words.items():
            lines.append(f"  {column}: {nl_int(n)} null-woorden (NULL, NA, (leeg), -, ...)")
        for column, n in report.invisible.items():
            lines.append(f"  {column}: {nl_int(n)} waarden van alleen onzichtbare tekens")
    if report.lists:
        lines += ["", "Lijsten als tekst (vorm: rijen)"]
        for column, forms in report.lists.items():
            if forms:
                lines.append(f"  {column}: " + ", ".join(f"{k} {nl_int(n)}" for k, n in forms.items()))
    lines += ["", "Ja/nee-kolommen (waarde: rijen)"]
    for column, pairs in report.booleans.items():
        lines.append(f"  {column}: " + ", ".join(f"{v}: {nl_int(n)}" for v, n in _named(pairs)))
    lines += ["", "Status (na trimmen en case-folding)"]
    lines += [f"  {v!r}: {nl_int(n)}" for v, n in _named(report.statuses)]
    lines += ["", "Indicering (na trimmen en case-folding)"]
    lines += [f"  {v!r}: {nl_int(n)}" for v, n in _named(report.indiceringen)]
    lines += ["", "Gemeente gevonden via"]
    lines += [f"  {k}: {nl_int(n)}" for k, n in sorted(report.gemeente_routes.items())]
    if report.unknown_gemeenten:
        lines += ["", "Onbekende gemeenten (worden afgewezen)"]
        for value, n, near in report.unknown_gemeenten:
            hint = f" — bedoelt u {' of '.join(repr(s) for s in near)}?" if near else ""
            lines.append(f"  {value[:60]!r}: {nl_int(n)}{hint}")
    return "\n".join(lines)


def inspect_json(report: InspectReport) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)


__all__ = ["InspectReport", "inspect_file", "inspect_json", "inspect_source", "render_inspect"]
