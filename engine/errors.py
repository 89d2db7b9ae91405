"""The errors a user can cause, each carrying what they need to fix it.

The CLI prints these to stderr without a traceback and exits non-zero; anything
else escaping the engine is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

EXIT_INPUT_ERROR = 2
#: `count --strikt`: the table was computed but a warning makes it suspect.
EXIT_WARNING = 3
#: The engine caught itself disagreeing (a bug, not the input's): no table was made.
EXIT_INTERNAL = 70
#: Longest value echoed in a message (longer ones are cut, with '…'), and how many at most.
MAX_SHOWN_CHARS = 60
MAX_SHOWN_VALUES = 5


def capped(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value (an id, say) for a message, cut to ``limit`` characters with '…'."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``repr`` of a value for a message, cut to ``limit`` characters with '…'."""
    return capped(repr(value), limit)


def nl_number(n: int) -> str:
    """12345 -> '12.345' (Dutch thousands), here so that errors need no report module."""
    return f"{n:,}".replace(",", ".")


class InternalError(RuntimeError):
    """The engine's own cross-checks disagree: a bug, never the input's fault. The CLI prints the
    message (Dutch) and exits with :data:`EXIT_INTERNAL`; no table or file is written."""


class TransparantieError(Exception):
    """Base class: a problem the user can fix (bad input, bad rule file, bad option)."""

    #: The word the CLI puts before the message.
    label = "fout"


@dataclass
class RowProblem:
    """One kind of invalid row: which column, what was wrong, how often, and examples."""

    reden: str
    column: str
    description: str
    n_rows: int
    values: Sequence[str] = field(default_factory=list)
    example_ids: Sequence[str] = field(default_factory=list)
    hint: str = ""

    def render(self) -> str:
        values = ", ".join(shown(v) for v in self.values[:MAX_SHOWN_VALUES]) if self.values else "(geen)"
        ids = ", ".join(capped(i) for i in self.example_ids[:MAX_SHOWN_VALUES]) if self.example_ids else "(geen)"
        text = (
            f"kolom '{self.column}': {self.description} [{self.reden}]\n"
            f"  rijen: {nl_number(self.n_rows)}\n"
            f"  foute waarden: {values}\n"
            f"  voorbeeld client_id: {ids}"
        )
        return text + (f"\n  {self.hint}" if self.hint else "")


class FileError(TransparantieError):
    """The input file cannot be read as client records at all."""


class SchemaError(TransparantieError):
    """The input file lacks a required column or has one of an unusable type."""


class InvalidRowsError(TransparantieError):
    """Some rows break the input contract and ``--on-invalid fail`` is in force."""

    def __init__(self, problems: Sequence[RowProblem], n_read: int) -> None:
        self.problems = list(problems)
        self.n_read = n_read
        n_bad = sum(p.n_rows for p in self.problems)
        blocks = "\n".join(p.render() for p in self.problems)
        super().__init__(
            f"{nl_number(n_bad)} van {nl_number(n_read)} rijen breken het invoercontract; er is niets geteld.\n"
            f"{blocks}\n"
            "Verbeter de export, of gebruik --on-invalid quarantine --quarantine PAD om de geldige rijen "
            "te tellen en de ongeldige apart te zetten (zie transparantie count --help)."
        )


class RuleFileError(TransparantieError):
    """A rule file is missing, unreadable or inconsistent."""


class UsageError(TransparantieError):
    """An option value that makes no sense (unknown region, bad reference file, ...)."""
