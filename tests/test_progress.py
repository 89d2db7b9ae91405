"""engine.progress: a bar on stderr only for large work on a terminal, never in piped output, and
``--stil`` on every long command."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import engine.progress
from engine.cli import app
from engine.progress import GROOT_BYTES, GROOT_RIJEN, Voortgang, is_groot, voortgang

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "clients-2025q2.parquet"


def forced_terminal() -> tuple[Console, io.StringIO]:
    """A console that believes it is a terminal, writing into a buffer we can read."""
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=100), buffer


def test_large_is_more_than_five_million_records_or_200_mb() -> None:
    assert not is_groot()
    assert not is_groot(rijen=GROOT_RIJEN) and is_groot(rijen=GROOT_RIJEN + 1)
    assert not is_groot(bytes=GROOT_BYTES) and is_groot(bytes=GROOT_BYTES + 1)
    assert is_groot(rijen=10, bytes=GROOT_BYTES + 1)


def test_no_bar_and_no_cost_when_quiet_small_or_not_a_terminal() -> None:
    console, buffer = forced_terminal()
    for stil, groot in ((True, True), (False, False), (True, False)):
        with voortgang("Tellen", 10, stil=stil, groot=groot, console=console) as tik:
            tik(10)
        assert tik is engine.progress._niets, (stil, groot)
    assert buffer.getvalue() == ""
    # Without an injected console: stderr under pytest is not a terminal.
    with voortgang("Tellen", 10, stil=False, groot=True) as tik:
        assert tik is engine.progress._niets


def test_the_bar_is_dutch_with_dutch_numbers() -> None:
    console, buffer = forced_terminal()
    with voortgang("Tellen", 100_000_000, stil=False, groot=True, console=console) as tik:
        tik(12_345_678)
    shown = buffer.getvalue()
    assert "Tellen" in shown and "12.345.678 van 100.000.000 records" in shown and "nog" in shown
    console, buffer = forced_terminal()
    with Voortgang(console=console).balk("Voorbereiden", None, groot=True) as tik:
        tik(1_000)
    assert "Voorbereiden" in buffer.getvalue() and "1.000 records" in buffer.getvalue()


def test_tik_from_many_threads_adds_up() -> None:
    console, buffer = forced_terminal()
    per_thread, threads = 20_000, 8
    total = per_thread * threads
    with voortgang("Tellen", total, stil=False, groot=True, console=console) as tik:

        def work() -> None:
            for _ in range(per_thread):
                tik(1)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert isinstance(tik, engine.progress._Teller) and tik.gedaan == total
    assert "160.000 van 160.000 records" in buffer.getvalue()  # the last frame, drawn on closing


def test_generate_shows_the_bar_on_a_terminal_for_large_work_and_not_with_stil(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """generate at a 'large' size (the threshold lowered for the test) on a forced terminal."""
    monkeypatch.setattr(engine.progress, "GROOT_RIJEN", 10_000)
    for stil, shown in ((False, True), (True, False)):
        console, buffer = forced_terminal()
        monkeypatch.setattr(engine.progress, "terminal", lambda console=console: console)
        args = ["generate", str(tmp_path / "g.parquet"), "--rows", "20000", "--seed", "1"]
        result = runner.invoke(app, [*args, "--stil"] if stil else args)
        assert result.exit_code == 0, result.output
        assert ("Genereren" in buffer.getvalue()) is shown, buffer.getvalue()
        assert "Genereren" not in result.stderr  # the real stderr is not a terminal


def test_every_long_command_takes_stil_and_never_draws_into_a_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--stil is accepted by count, funnel, profiel, prepare and generate. Their stderr here is
    captured, no terminal: no bar appears even where the work counts as large."""
    monkeypatch.setattr(engine.progress, "GROOT_RIJEN", 100)
    commands = {
        "count": ["count", str(SAMPLE)],
        "funnel": ["funnel", str(SAMPLE)],
        "profiel": ["profiel", str(SAMPLE)],
        "prepare": ["prepare", str(SAMPLE), str(tmp_path / "p.parquet")],
        "generate": ["generate", str(tmp_path / "g.parquet"), "--rows", "1000"],
    }
    for name, args in commands.items():
        for extra in ([], ["--stil"]):
            result = runner.invoke(app, [*args, *extra])
            assert result.exit_code == 0, (name, extra, result.output)
            assert "\x1b[" not in result.stderr, name
            assert not any(label in result.stderr for label in ("Tellen", "Voorbereiden", "Genereren")), name
            (tmp_path / "p.parquet").unlink(missing_ok=True)
