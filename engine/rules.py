"""Rule sets: loading, validating and choosing the counting rules kept as data in ``rules/``.

A rule set is a TOML file (see ``rules/teldefinitie-2025.toml``). Every condition is a
boolean SQL expression over the normalised record (engine.contract.VOCABULARY). This
module is the only place that turns those declarations into something executable:
Polars expressions for the engine (:meth:`RuleSet.condition_exprs`) and plain SQL text
for any other SQL engine (:meth:`RuleSet.condition_sql`). Nothing else restates a rule.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from engine.contract import VOCABULARY
from engine.errors import RuleFileError
from engine.paths import rules_dir

DEFAULT_RULES = "teldefinitie"
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Regel(_Strict):
    """One counting condition, with the publication's wording and its source."""

    id: Ident
    label: Text
    bron: Text
    sql: Text
    sql_peildatum: Text | None = None

    def text(self, peildatum: date | None) -> str:
        return self.sql_peildatum if (peildatum is not None and self.sql_peildatum) else self.sql


class Signaal(_Strict):
    """A group the funnel reports on its own line; it changes no count."""

    id: Ident
    label: Text
    bron: Text
    na_regel: Ident
    sql: Text


class Klantsoort(_Strict):
    label: Text
    bron: Text
    uwv: list[Text] = Field(min_length=1)
    gemeente: list[Text] = Field(min_length=1)

    @model_validator(mode="after")
    def _disjoint(self) -> Klantsoort:
        both = set(self.uwv) & set(self.gemeente)
        if both:
            raise ValueError(f"indicering staat zowel bij uwv als bij gemeente: {sorted(both)}")
        lowered = [v for v in (*self.uwv, *self.gemeente) if v != v.strip().lower()]
        if lowered:
            raise ValueError(f"klantsoortwaarden in kleine letters, zonder spaties eromheen: {lowered}")
        return self

    def sql(self) -> str:
        """Klantsoort as SQL: 'uwv', 'gemeente' or NULL."""
        return (
            f"CASE WHEN indicering IN ({_sql_list(self.uwv)}) THEN 'uwv' "
            f"WHEN indicering IN ({_sql_list(self.gemeente)}) THEN 'gemeente' END"
        )


class Onderdeel(_Strict):
    id: Ident
    label: Text
    sql: Text


class Profiel(_Strict):
    label: Text
    bron: Text
    onderdeel: list[Onderdeel] = Field(min_length=1)

    def sql(self) -> str:
        """Profiel 'ja' as SQL: every onderdeel holds."""
        return " AND ".join(f"COALESCE(({o.sql}), FALSE)" for o in self.onderdeel)


class RuleSet(_Strict):
    naam: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$")]
    titel: Text
    geldig_vanaf: date
    bron: Text
    regel: list[Regel] = Field(min_length=1)
    signaal: list[Signaal] = []
    klantsoort: Klantsoort
    profiel: Profiel
    #: Every inschrijvingsstatus Sonar knows; `count` warns about any other value in an export.
    statussen: list[Text] = []
    path: Path | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        ids = [r.id for r in self.regel]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"regel-id('s) komen meer dan eens voor: {dupes}")
        for s in self.signaal:
            if s.na_regel not in ids:
                raise ValueError(f"signaal {s.id!r}: na_regel {s.na_regel!r} is geen regel van deze regelset")
        return self

    # -- compiled forms ------------------------------------------------------------------------

    def literals(self) -> set[str]:
        """The string literals of the conditions ('ingeschreven'): values the rules name."""
        texts = [r.sql for r in self.regel] + [r.sql_peildatum or "" for r in self.regel]
        return {m.replace("''", "'") for t in texts for m in re.findall(r"'((?:[^']|'')*)'", t)}

    def folded_values(self) -> tuple[str, ...]:
        """Status and indicering values in the form the rules compare them, as this rule set
        names them: its klantsoort mappings and the string literals of its conditions. Only
        plain lower-case ASCII is taken, so Python's and Polars' case folding cannot differ on
        it (engine.contract.normalise skips folding for these)."""
        names = {*self.klantsoort.uwv, *self.klantsoort.gemeente}
        texts = [r.sql for r in self.regel] + [r.sql_peildatum or "" for r in self.regel]
        texts += [s.sql for s in self.signaal] + [o.sql for o in self.profiel.onderdeel]
        names |= {m.replace("''", "'") for t in texts for m in re.findall(r"'((?:[^']|'')*)'", t)}
        return tuple(sorted(v for v in names if v.isascii() and v == v.strip().lower() and v))

    def condition_sql(self, peildatum: date | None) -> dict[str, str]:
        """Each rule as SQL text that is TRUE exactly when the condition holds (NULL fails)."""
        return {r.id: f"COALESCE(({r.text(peildatum)}), FALSE)" for r in self.regel}

    def condition_exprs(self, peildatum: date | None) -> dict[str, pl.Expr]:
        return {rid: pl.sql_expr(text) for rid, text in self.condition_sql(peildatum).items()}

    def signaal_exprs(self) -> dict[str, pl.Expr]:
        return {s.id: pl.sql_expr(f"COALESCE(({s.sql}), FALSE)") for s in self.signaal}

    def klantsoort_expr(self) -> pl.Expr:
        return pl.sql_expr(self.klantsoort.sql())

    def onderdeel_exprs(self) -> dict[str, pl.Expr]:
        return {o.id: pl.sql_expr(f"COALESCE(({o.sql}), FALSE)") for o in self.profiel.onderdeel}

    def profiel_expr(self) -> pl.Expr:
        return pl.sql_expr(self.profiel.sql())

    def columns(self) -> dict[str, set[str]]:
        """Which normalised-record columns each declaration reads, by a readable name."""
        texts = {f"regel {r.id!r}": [r.sql, r.sql_peildatum or "TRUE"] for r in self.regel}
        texts |= {f"signaal {s.id!r}": [s.sql] for s in self.signaal}
        texts |= {f"profiel onderdeel {o.id!r}": [o.sql] for o in self.profiel.onderdeel}
        texts["klantsoort"] = [self.klantsoort.sql()]
        return {name: {c for t in ts for c in pl.sql_expr(t).meta.root_names()} for name, ts in texts.items()}

    def regel_by_id(self, rid: str) -> Regel:
        for r in self.regel:
            if r.id == rid:
                return r
        raise KeyError(rid)


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _validate_sql(ruleset: RuleSet, where: str) -> None:
    """Compile every SQL text against the normalised vocabulary; each must be boolean."""
    empty = pl.DataFrame(schema=VOCABULARY)
    texts: list[tuple[str, str, bool]] = []
    for r in ruleset.regel:
        texts.append((f"regel {r.id!r}", r.sql, True))
        if r.sql_peildatum:
            texts.append((f"regel {r.id!r} (sql_peildatum)", r.sql_peildatum, True))
    texts += [(f"signaal {s.id!r}", s.sql, True) for s in ruleset.signaal]
    texts += [(f"profiel onderdeel {o.id!r}", o.sql, True) for o in ruleset.profiel.onderdeel]
    texts.append(("klantsoort", ruleset.klantsoort.sql(), False))
    for label, text, boolean in texts:
        try:
            expr = pl.sql_expr(text)
            unknown = sorted(set(expr.meta.root_names()) - set(VOCABULARY))
            if unknown:
                raise RuleFileError(
                    f"{where}: {label} leest onbekende kolom(men) {unknown}; "
                    f"het genormaliseerde record heeft: {', '.join(VOCABULARY)}"
                )
            dtype = empty.select(expr).schema.dtypes()[0]
        except RuleFileError:
            raise
        except Exception as exc:  # polars raises several types for bad SQL
            raise RuleFileError(f"{where}: {label} is geen geldige SQL: {text!r}\n  (Polars: {exc})") from None
        if boolean and dtype != pl.Boolean:
            raise RuleFileError(
                f"{where}: {label} moet waar of onwaar opleveren (een voorwaarde), niet {dtype}: {text!r}"
            )


#: What a rule file's field needs, in Dutch, by pydantic's error type (``err['type']``).
_FIELD_PROBLEMS = {
    "missing": "ontbreekt",
    "extra_forbidden": "is geen veld van een regelbestand",
    "string_pattern_mismatch": "moet beginnen met een kleine letter, gevolgd door kleine letters, cijfers en _",
    "string_too_short": "mag niet leeg zijn",
    "too_short": "mag niet leeg zijn",
    "string_type": "moet tekst zijn",
    "list_type": "moet een lijst zijn",
    "dict_type": "moet een tabel zijn",
    "model_type": "moet een tabel zijn",
    "model_attributes_type": "moet een tabel zijn",
    "date_type": "moet een datum zijn (JJJJ-MM-DD)",
    "date_parsing": "moet een datum zijn (JJJJ-MM-DD)",
    "date_from_datetime_parsing": "moet een datum zijn (JJJJ-MM-DD)",
    "date_from_datetime_inexact": "moet een datum zijn (JJJJ-MM-DD), zonder tijd",
}


def _problem(err: Any) -> str:
    """One validation error of a rule file: the field (``regel[2].id``: the second [[regel]]),
    what is wrong in Dutch, and the value given."""
    where = ""
    for part in err["loc"]:
        where += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    kind = err["type"]
    if kind == "value_error":  # our own validators: their message is Dutch already
        what = str(err.get("ctx", {}).get("error", err["msg"]))
    else:
        what = _FIELD_PROBLEMS.get(kind, err["msg"])
    given = err.get("input")
    shown = "" if kind in ("missing", "value_error") or isinstance(given, dict) else f" (gegeven: {given!r})"
    return f"{where or 'regelset'}: {what}{shown}"


#: tomllib's most common messages in Dutch; others keep their text.
_TOML_MESSAGES = {
    "Invalid value": "ongeldige waarde",
    "Invalid statement": "ongeldige regel",
    "Expected '=' after a key in a key/value pair": "'=' verwacht na een sleutel",
    "Unclosed array": "lijst zonder ']'",
    "Unterminated string": "tekst zonder afsluitend aanhalingsteken",
    "Illegal character": "ongeldig teken",
    "Cannot overwrite a value": "een waarde staat er twee keer",
}


def _toml_problem(exc: Exception) -> str:
    """tomllib's message in Dutch where known, with its place: 'ongeldige waarde (regel 3, kolom 5)'."""
    text = str(exc)
    for english, dutch in _TOML_MESSAGES.items():
        if text.startswith(english):
            text = dutch + text[len(english) :]
            break
    return re.sub(r"\(at line (\d+), column (\d+)\)", r"(regel \1, kolom \2)", text).replace(
        "(at end of document)", "(aan het eind van het bestand)"
    )


def load_ruleset(path: Path) -> RuleSet:
    """Read and validate one rule file; any problem is a RuleFileError naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleFileError(f"regelbestand niet gevonden: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleFileError(f"{path}: geen geldig TOML-bestand: {_toml_problem(exc)}") from None
    try:
        ruleset = RuleSet.model_validate({**data, "path": path})
    except ValidationError as exc:
        problems = "\n".join(f"  {_problem(err)}" for err in exc.errors())
        raise RuleFileError(f"{path}: ongeldig regelbestand\n{problems}") from None
    _validate_sql(ruleset, str(path))
    return ruleset


def available(directory: Path | None = None) -> list[RuleSet]:
    directory = directory or rules_dir()
    return [load_ruleset(p) for p in sorted(directory.glob("*.toml"))]


def select_ruleset(spec: str = DEFAULT_RULES, peildatum: date | None = None, directory: Path | None = None) -> RuleSet:
    """A rule file path, or the version of rule set ``spec`` in force at ``peildatum``
    (today when no peildatum is given)."""
    candidate = Path(spec)
    if candidate.suffix == ".toml" or candidate.exists():
        return load_ruleset(candidate)
    on = peildatum or date.today()
    sets = [r for r in available(directory) if r.naam == spec]
    if not sets:
        names = sorted({r.naam for r in available(directory)})
        raise RuleFileError(f"geen regels met de naam {spec!r}; beschikbaar: {', '.join(names)}")
    in_force = [r for r in sets if r.geldig_vanaf <= on]
    if not in_force:
        first = min(r.geldig_vanaf for r in sets)
        raise RuleFileError(f"regels {spec!r} gelden nog niet op {on}: de eerste versie begint {first}")
    return max(in_force, key=lambda r: r.geldig_vanaf)
