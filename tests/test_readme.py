"""The README is part of the product: its commands, outputs and rule text match the real CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.contract import ALL_CHECKS, REQUIRED_COLUMNS
from engine.rules import select_ruleset
from engine.ruletext import describe

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def block(marker: str) -> str:
    """The fenced block right after ``<!-- marker -->``."""
    match = re.search(rf"<!-- {re.escape(marker)} -->\n```\w*\n(.*?)```", README, re.S)
    assert match, f"README has no block after <!-- {marker} -->"
    return match.group(1).rstrip("\n")


def test_exactly_two_setup_commands() -> None:
    assert len(re.findall(r"<!-- quickstart:(main|test) -->", README)) == 2
    for marker in ("quickstart:main", "quickstart:test"):
        assert len(block(marker).splitlines()) == 1
        assert block(marker).startswith("python3 -m venv .venv && .venv/bin/pip install")


#: The one step of .ci/run before the README's test command: the system tools of the browser and PDF tests,
#: and Java for the Spark tests.
SYSTEM_TOOLS = (
    "command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v pdftoppm >/dev/null"
    " && command -v java >/dev/null"
    " || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver poppler-utils"
    " openjdk-17-jre-headless)"
)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == [SYSTEM_TOOLS, block("quickstart:test")]
    # CI deselects nothing: the tests marked slow run there too.
    pytest_args = block("quickstart:test").split("&&")[-1].split("pytest", 1)[1]
    assert "-m" not in shlex.split(pytest_args) and "slow" not in pytest_args


def _main_args() -> list[str]:
    command = block("quickstart:main").split("&&")[-1].strip()
    words = shlex.split(command)
    assert words[0] == ".venv/bin/transparantie"
    return words[1:]


def test_main_command_prints_what_the_readme_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, _main_args())
    assert result.exit_code == 0, result.output
    shown = block("quickstart:output").splitlines()
    assert result.stdout.splitlines()[-len(shown) :] == shown


def test_rules_section_is_generated_from_the_rule_file() -> None:
    match = re.search(r"<!-- rules:teldefinitie -->\n(.*?)\n<!-- /rules:teldefinitie -->", README, re.S)
    assert match
    assert match.group(1) == describe(select_ruleset("teldefinitie"), level=3)
    cli = runner.invoke(app, ["rules", "teldefinitie"])
    assert cli.exit_code == 0
    assert cli.stdout.rstrip("\n") == describe(select_ruleset("teldefinitie"))


def test_every_command_is_documented_with_an_example() -> None:
    names = [c.name for c in app.registered_commands]
    assert "count" in names
    for name in names:
        assert f"`transparantie {name}" in README, f"README does not document `transparantie {name}`"
        help_text = runner.invoke(app, [name, "--help"]).stdout
        flat = " ".join(help_text.split())
        # The publication's commands speak Dutch: their example is a "Voorbeeld".
        assert f"Example: transparantie {name}" in flat or f"Voorbeeld: transparantie {name}" in flat, (
            f"{name} --help has no example"
        )


def test_contract_columns_and_checks_are_documented() -> None:
    for column in REQUIRED_COLUMNS:
        if column.startswith("taaksoort_"):
            continue
        assert f"`{column}`" in README, column
    assert "`taaksoort_01` … `taaksoort_20`" in README
    for check in ALL_CHECKS:
        assert f"`{check.reden}`" in README, check.reden


def test_the_python_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python API block, executed as it stands (paths relative to the repository)."""
    code = block("python-api").replace('"sample_data/', f'"{ROOT}/sample_data/')
    monkeypatch.chdir(tmp_path)  # the quarantine file lands here
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "q.parquet").is_file()
