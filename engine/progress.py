"""A progress bar on stderr for long work, and nothing at all otherwise.

``voortgang`` shows a rich bar only when all three hold:

* stderr is a terminal (never in piped or redirected output, whatever ``FORCE_COLOR`` says);
* the work is large: more than :data:`GROOT_RIJEN` records or an input of more than
  :data:`GROOT_BYTES` bytes (:func:`is_groot`);
* the user did not pass ``--stil``.

Otherwise it yields a callable that does nothing, and starts no thread and no display.

The yielded ``tik(n)`` adds ``n`` records done. It is thread-safe (a lock around the running
total), so Polars' or a thread pool's workers may call it; it only records the total, and
rich's own refresh thread draws the bar a few times a second. Typical use::

    with voortgang("Tellen", totaal, stil=stil, groot=is_groot(rijen=totaal, bytes=grootte)) as tik:
        for batch in batches:
            ...
            tik(batch.height)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import polars as pl
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

#: More records than this is large work: 5.000.000.
GROOT_RIJEN = 5_000_000
#: An input of more bytes than this is large work: 200 MB.
GROOT_BYTES = 200_000_000
#: Redraws per second (rich's refresh thread).
VERVERSEN_PER_SECONDE = 4

Tik = Callable[[int], None]
"""``tik(n)``: ``n`` more records done. Safe to call from any thread."""


def is_groot(*, rijen: int | None = None, bytes: int | None = None) -> bool:
    """Whether work of ``rijen`` records, or over an input of ``bytes`` bytes, earns a bar."""
    return (rijen or 0) > GROOT_RIJEN or (bytes or 0) > GROOT_BYTES


def terminal() -> Console | None:
    """The console on stderr when stderr is a terminal, else None. Tests replace this function
    to force a terminal (a ``Console(file=..., force_terminal=True)``)."""
    if not sys.stderr.isatty():
        return None
    return Console(stderr=True)


def _niets(n: int) -> None:
    """``tik`` when no bar is shown: nothing to do."""


@dataclass(frozen=True)
class Voortgang:
    """How a run shows progress, as the CLI passes it to the engine: ``--stil`` and, for tests,
    the console to draw on (None: :func:`terminal`)."""

    stil: bool = False
    console: Console | None = None

    def balk(self, label: str, totaal: int | None, *, groot: bool) -> AbstractContextManager[Tik]:
        """``with opties.balk("Tellen", totaal, groot=...) as tik:``, as :func:`voortgang`."""
        return voortgang(label, totaal, stil=self.stil, groot=groot, console=self.console)


#: The settings the CLI chose for this run (engine.cli._common.voortgang_opties); the engine's
#: long work reads them with :func:`gekozen`. Outside the CLI: the defaults (a bar on a terminal).
_GEKOZEN: ContextVar[Voortgang | None] = ContextVar("voortgang", default=None)


def kies(opties: Voortgang) -> Voortgang:
    """Make ``opties`` the settings of this run (the CLI calls this once, before the work)."""
    _GEKOZEN.set(opties)
    return opties


def gekozen() -> Voortgang:
    """The settings of this run: what the CLI chose with :func:`kies`, else the defaults."""
    return _GEKOZEN.get() or Voortgang()


@contextmanager
def voortgang(
    label: str, totaal: int | None, *, stil: bool, groot: bool, console: Console | None = None
) -> Iterator[Tik]:
    """A bar labelled ``label`` (Dutch: "Tellen", "Voorbereiden", "Genereren") for ``totaal``
    records (None: unknown, the bar pulses), on stderr; see the module's docstring for when."""
    if stil or not groot:
        yield _niets
        return
    console = console if console is not None else terminal()
    if console is None:
        yield _niets
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _Records(),
        TimeElapsedColumn(),
        TextColumn("nog"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        auto_refresh=True,
        refresh_per_second=VERVERSEN_PER_SECONDE,
    )
    tik = _Teller(bar, bar.add_task(label, total=totaal))
    with bar:
        yield tik


class _Teller:
    """``tik`` when a bar is shown: adds to the running total under a lock, so any thread may
    call it; rich's refresh thread draws the bar from the task's total."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar, self._task = bar, task
        self._lock = threading.Lock()
        self.gedaan = 0

    def __call__(self, n: int) -> None:
        with self._lock:
            self.gedaan += n
            # Under the lock: two threads cannot set the total out of order.
            self._bar.update(self._task, completed=self.gedaan)


def _nl(n: float) -> str:
    return f"{int(n):,}".replace(",", ".")


class _Records(ProgressColumn):
    """``12.345.678 van 100.000.000 records`` (Dutch thousands); ``12.345.678 records`` when the
    total is unknown."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text(f"{_nl(task.completed)} records")
        return Text(f"{_nl(task.completed)} van {_nl(task.total)} records")


# --- progress of a Polars query ------------------------------------------------------------------

#: The ``tik`` of the bar that is running now (:func:`bezig`), else one that does nothing.
_actief: Tik = _niets


def tel(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` unchanged, telling the running bar (if any) how many records went by: one
    Python call per streamed batch, not per record, transparent to Polars' projection and filter
    pushdown. Put it where every record of the query passes once (engine.contract: the records
    being normalised)."""

    def door(batch: pl.DataFrame) -> pl.DataFrame:
        _actief(batch.height)
        return batch

    return frame.map_batches(
        door, predicate_pushdown=True, projection_pushdown=True, streamable=True, validate_output_schema=False
    )


@contextmanager
def bezig(label: str, rijen: int | None, grootte: int | None) -> Iterator[None]:
    """Show a bar labelled ``label`` while the block runs a query whose records pass :func:`tel`:
    ``rijen`` records in all (None: unknown), from an input of ``grootte`` bytes (None: unknown);
    only for large work on a terminal, as chosen for this run (:func:`gekozen`)."""
    global _actief
    with gekozen().balk(label, rijen, groot=is_groot(rijen=rijen, bytes=grootte)) as tik:
        vorige, _actief = _actief, tik
        try:
            yield
        finally:
            _actief = vorige
