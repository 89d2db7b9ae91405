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
import transparantie
from engine.cli import main
assert engine.__file__.startswith(sys.argv[1]), engine.__file__
assert transparantie.__file__.startswith(sys.argv[1]), transparantie.__file__
assert transparantie.count is engine.api.count
assert transparantie.count(sys.argv[2]).reconciliation.geteld == 190973
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
    # `transparantie` is the one re-exporting module, not a second copy of the engine.
    assert sorted(p.name for p in (site / "transparantie").iterdir() if p.name != "__pycache__") == ["__init__.py"]
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


def test_the_editable_install_imports_transparantie_from_the_source_tree() -> None:
    """The same name in an editable install: the package in this tree, re-exporting engine's API."""
    import engine.api
    import transparantie

    assert Path(transparantie.__file__).resolve() == ROOT / "transparantie" / "__init__.py"
    for name in ("count", "funnel", "profiel", "explain", "prepare", "inspect", "generate"):
        assert getattr(transparantie, name) is getattr(engine.api, name), name
