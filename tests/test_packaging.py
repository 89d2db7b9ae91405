"""An installed wheel finds its rules and reference data without the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import sys
import engine
from engine.cli import main
assert engine.__file__.startswith(sys.argv[1]), engine.__file__
sys.argv = ["transparantie", "count", sys.argv[2], "--reference", "2025q2", "--amr", "20"]
main()
"""


def test_wheel_carries_rules_and_reference_data(tmp_path: Path) -> None:
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(wheels),
        str(ROOT),
    ]
    subprocess.run(build, check=True, capture_output=True)
    wheel = next(wheels.glob("transparantie-*.whl"))
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    assert (site / "engine" / "_rules" / "teldefinitie-2025.toml").is_file()
    assert (site / "engine" / "reference" / "officieel-2025q2.csv").is_file()
    for template in ("base.html", "_tabel.html", "index.html", "regio.html", "publicatie.typ"):
        assert (site / "engine" / "publiceer" / "templates" / template).is_file(), template

    sample = ROOT / "sample_data" / "clients-2025q2.parquet"
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(site), str(sample)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "Komt overeen met de officiële cijfers (2025q2)" in run.stdout
    assert "'s-Gravenhage" in run.stdout
