"""The Python API: every command as a function that takes data and returns a result.

Each function accepts a path, several paths (the parts of one export), a Polars DataFrame
or LazyFrame, a pandas DataFrame or a pyarrow Table, and returns the same result object the
CLI renders. Bad input raises a subclass of :class:`engine.errors.TransparantieError` that
carries the CLI's message. Re-exported by the ``transparantie`` package::

    import transparantie
    result = transparantie.count("clients.parquet")
    result.table, result.reconciliation, result.problems, result.warnings
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from engine.count import CountResult, run_count
from engine.errors import UsageError
from engine.explain import ExplainResult, explain_clients
from engine.funnel import FunnelResult, run_funnel
from engine.generate import GenerateSummary
from engine.generate import generate as _generate
from engine.inspect import InspectReport, inspect_file, inspect_source
from engine.layout import Niveau
from engine.outcome import OnInvalid
from engine.pipeline import counting_plan
from engine.prepare import PrepareResult, prepare_source
from engine.privacy import MIN_AANTAL
from engine.profiel import ProfielResult, run_profiel
from engine.readers import ReadOptions
from engine.rules import DEFAULT_RULES, select_ruleset
from engine.source import Source, frame_source, open_source

#: What the functions accept as input.
Input = str | Path | Sequence[str | Path] | pl.DataFrame | pl.LazyFrame | Any

__all__ = [
    "CountResult",
    "ExplainResult",
    "FunnelResult",
    "GenerateSummary",
    "InspectReport",
    "Input",
    "Niveau",
    "OnInvalid",
    "PrepareResult",
    "ProfielResult",
    "ReadOptions",
    "count",
    "explain",
    "funnel",
    "generate",
    "inspect",
    "prepare",
    "source_of",
]


def source_of(data: Input, lezen: ReadOptions | None = None) -> Source:
    """The engine's view of ``data``: files are read as the CLI reads them (engine.readers);
    a frame or table in memory must already have the contract's column names."""
    if isinstance(data, pl.DataFrame | pl.LazyFrame):
        return frame_source(data)
    module = type(data).__module__.split(".")[0]
    if module == "pyarrow" and type(data).__name__ in ("Table", "RecordBatch"):
        return frame_source(pl.DataFrame(pl.from_arrow(data)))
    if module == "pandas" and type(data).__name__ == "DataFrame":
        return frame_source(pl.from_pandas(data))
    if isinstance(data, str | Path) or (
        isinstance(data, Sequence) and data and all(isinstance(p, str | Path) for p in data)
    ):
        return open_source(data, lezen)
    raise UsageError(
        f"invoer van het type {type(data).__name__} wordt niet ondersteund: geef een pad, een lijst paden, "
        "een Polars DataFrame of LazyFrame, een pandas DataFrame of een pyarrow Table"
    )


def _peildatum(peildatum: date | str | None) -> date | None:
    if peildatum is None or isinstance(peildatum, date):
        return peildatum
    try:
        return date.fromisoformat(peildatum)
    except ValueError:
        raise UsageError(f"peildatum {peildatum!r} is geen datum als JJJJ-MM-DD") from None


def _choice(kind: type[Any], value: Any, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(v.value) for v in kind)
        raise UsageError(f"{what} {value!r} bestaat niet; kies uit {allowed}") from None


def _quarantine(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path)


def count(
    source: Input,
    *,
    peildatum: date | str | None = None,
    rules: str = DEFAULT_RULES,
    on_invalid: OnInvalid | str = OnInvalid.FAIL,
    quarantine: str | Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
) -> CountResult:
    """The publication table: ``.table`` (Polars), ``.reconciliation``, ``.problems``, ``.warnings``."""
    day = _peildatum(peildatum)
    ruleset = select_ruleset(rules, day)
    plan = counting_plan(source_of(source, lezen), ruleset, day)
    policy = _choice(OnInvalid, on_invalid, "on_invalid")
    return run_count(plan, policy, _quarantine(quarantine), allow_bsn)


def funnel(
    source: Input,
    *,
    niveau: Niveau | str = Niveau.NEDERLAND,
    amr: int | None = None,
    peildatum: date | str | None = None,
    rules: str = DEFAULT_RULES,
    on_invalid: OnInvalid | str = OnInvalid.FAIL,
    quarantine: str | Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
    min_aantal: int = MIN_AANTAL,
) -> FunnelResult:
    """Where the records drop out, rule by rule: ``.table`` (the steps), ``.status``,
    ``.indicering``, ``.reconciliation``, ``.problems``."""
    day = _peildatum(peildatum)
    plan = counting_plan(source_of(source, lezen), select_ruleset(rules, day), day)
    return run_funnel(
        plan,
        _choice(Niveau, niveau, "niveau"),
        amr,
        _choice(OnInvalid, on_invalid, "on_invalid"),
        _quarantine(quarantine),
        allow_bsn,
        min_aantal,
    )


def profiel(
    source: Input,
    *,
    niveau: Niveau | str = Niveau.ARBEIDSMARKTREGIO,
    peildatum: date | str | None = None,
    rules: str = DEFAULT_RULES,
    on_invalid: OnInvalid | str = OnInvalid.FAIL,
    quarantine: str | Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
) -> ProfielResult:
    """The profile gap: ``.table`` (the overview), ``.combinaties``, ``.reconciliation``, ``.problems``."""
    day = _peildatum(peildatum)
    plan = counting_plan(source_of(source, lezen), select_ruleset(rules, day), day)
    return run_profiel(
        plan,
        _choice(Niveau, niveau, "niveau"),
        _choice(OnInvalid, on_invalid, "on_invalid"),
        _quarantine(quarantine),
        allow_bsn,
    )


def explain(
    source: Input,
    client_ids: str | Sequence[str],
    *,
    peildatum: date | str | None = None,
    rules: str = DEFAULT_RULES,
    lezen: ReadOptions | None = None,
) -> ExplainResult:
    """Every rule's verdict for the given clients: ``.clients``, ``.missing``."""
    day = _peildatum(peildatum)
    ids = [client_ids] if isinstance(client_ids, str) else list(client_ids)
    return explain_clients(source_of(source, lezen), ids, select_ruleset(rules, day), day)


def prepare(
    source: Input,
    out: str | Path,
    *,
    on_invalid: OnInvalid | str = OnInvalid.FAIL,
    quarantine: str | Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
) -> PrepareResult:
    """Validate and pack the input into a prepared file at ``out``."""
    policy = _choice(OnInvalid, on_invalid, "on_invalid")
    return prepare_source(source_of(source, lezen), Path(out), policy, _quarantine(quarantine), allow_bsn)


def inspect(source: Input, *, lezen: ReadOptions | None = None) -> InspectReport:
    """How the input is read: columns, types, value formats, and what would be rejected."""
    if isinstance(source, str | Path) or (isinstance(source, Sequence) and not isinstance(source, pl.DataFrame)):
        return inspect_file(source, lezen)  # refuses a prepared file, as the CLI does
    return inspect_source(source_of(source, lezen))


def generate(out: str | Path, **options: Any) -> GenerateSummary:
    """Write synthetic client records to ``out`` (see engine.generate.generate for the options)."""
    return _generate(out, **options)
