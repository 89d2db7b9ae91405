"""Help and usage errors are Dutch, and show no type hints that say nothing (engine/cli/_dutch.py)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()
COMMANDS = [c.name for c in app.registered_commands]

#: Typer's and Click's English, and type hints that add nothing, none of which a help may show.
ENGLISH = [
    "Usage",
    "Options",
    "Arguments",
    "Commands",
    "Show this message",
    "[default",
    "[required",
    "(dynamic)",
    "env var",
    "Error",
    "Try '",
    "for help",
    "<bool>",
    "<path>",
    "<str>",
    "<int",
    "<float>",
    "<list",
    "<datetime>",
    "%Y",
    "PATH",
    "TEXT",
    "INTEGER",
    "BOOLEAN",
    "FILENAME",
    "COMMAND",
    "[ARGS]",
    "[OPTIONS]",
]


def english(text: str) -> list[str]:
    """The words of ENGLISH in ``text`` (whole words: COMMANDO is not COMMAND)."""
    return [w for w in ENGLISH if re.search(rf"(?<!\w){re.escape(w)}(?!\w)" if w[-1].isalnum() else re.escape(w), text)]


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_dutch_without_empty_type_hints(command: str | None) -> None:
    text = _help(command) if command else _help()
    found = english(text)
    assert not found, f"{command or 'transparantie'} --help shows {found}"
    assert re.search(r"\{[A-Z]+\}", text) is None, "an argument in braces"
    assert "Gebruik: transparantie" in text and "Toon deze hulp en stop." in text
    assert "Opties" in text
    if command is None:
        assert "Commando's" in text and "COMMANDO [ARGUMENTEN]..." in text


def test_help_keeps_the_hints_that_say_something() -> None:
    text = " ".join(_help("funnel").split())
    assert "--niveau nederland|arbeidsmarktregio|gemeente" in text
    assert "--peildatum JJJJ-MM-DD" in text
    assert "[standaard: nederland]" in text and "[verplicht]" in text
    assert "Argumenten" in text and "BESTAND" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["count", "--xyz"], "Onbekende optie: --xyz"),
        (
            ["count", "x.parquet", "--formaat", "csv"],
            "Onbekende optie: --formaat (bedoelt u --datumformaat, --format?)",
        ),
        (["count"], "Ontbrekend argument 'BESTAND'."),
        (["explain", "x.parquet"], "Ontbrekende optie '--client-id'."),
        (["count", "x.parquet", "--amr", "abc"], "Ongeldige waarde voor '--amr': 'abc' is geen geheel getal."),
        (["funnel", "x.parquet", "--min-aantal", "0"], "Ongeldige waarde voor '--min-aantal': moet minstens 1"),
        (
            ["funnel", "x.parquet", "--niveau", "provincie"],
            "Ongeldige waarde voor '--niveau': 'provincie' is geen keuze",
        ),
        (["count", "x.parquet", "--peildatum", "30-06-2025"], "is geen datum in de vorm JJJJ-MM-DD"),
        (["count", "x.parquet", "--amr"], "Optie '--amr' heeft een waarde nodig."),
        (["count", "x.parquet", "--strikt=ja"], "Optie '--strikt' neemt geen waarde."),
        (["rules", "a", "b"], "Onverwacht(e) extra argument(en): b."),
        (["cuont"], "Onbekend commando 'cuont'. Bedoelt u 'count'?"),
        (["--xyz"], "Onbekende optie: --xyz"),
    ],
)
def test_usage_errors_are_dutch_with_exit_code_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    shown = " ".join(result.stderr.replace("│", " ").split())
    assert message in shown, shown
    assert "Gebruik: transparantie" in shown and "--help' voor uitleg." in shown
    assert "Fout" in shown
    assert not english(shown), shown
    assert "Traceback" not in result.output


def test_a_usage_error_from_the_installed_command_is_dutch_without_traceback() -> None:
    """The real entry point (engine.cli:main), in a process of its own."""
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "count", "--onbekend"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Onbekende optie: --onbekend" in result.stderr
    assert "Zie 'transparantie count --help' voor uitleg." in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and "Usage" not in result.stderr


def test_niveau_is_arbeidsmarktregio_and_the_former_amr_still_works() -> None:
    """One term: the level's value is that of the tables' niveau column; ``amr`` (the region's
    number elsewhere) is still read as the level, on the CLI and in the API."""
    from pathlib import Path

    from engine.layout import Niveau

    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "clients-2025q2.parquet")
    outputs = []
    for value in ("arbeidsmarktregio", "amr", " AMR"):
        result = runner.invoke(app, ["funnel", sample, "--niveau", value, "--amr", "1", "--format", "json"])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert '"niveau": "arbeidsmarktregio"' in outputs[0]
    assert Niveau("amr") is Niveau.ARBEIDSMARKTREGIO
    assert not hasattr(Niveau, "AMR")
    assert [n.value for n in Niveau] == ["nederland", "arbeidsmarktregio", "gemeente"]
