"""Fixtures shared across test modules: one publication built once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "clients-2025q2.parquet"


def require_tool(name: str, why: str) -> str:
    """The path of a system tool; without it the test skips locally but fails under CI=true,
    so CI can never pass by silently skipping."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({why}); `.ci/run` installs it with apt-get"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def publicatie(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`transparantie publiceer` on the sample, compared with the shipped 2025q2 reference."""
    from engine.cli import app

    uit = tmp_path_factory.mktemp("publicatie")
    result = CliRunner().invoke(app, ["publiceer", str(SAMPLE), "--uit", str(uit), "--vorige", "2025q2"])
    assert result.exit_code == 0, result.output
    return uit


@pytest.fixture(scope="session")
def publicatie_drempel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`transparantie publiceer --drempel 5` on the sample."""
    from engine.cli import app

    uit = tmp_path_factory.mktemp("publicatie-drempel")
    result = CliRunner().invoke(app, ["publiceer", str(SAMPLE), "--uit", str(uit), "--drempel", "5"])
    assert result.exit_code == 0, result.output
    return uit
