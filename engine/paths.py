"""Where the shipped data lives, in an editable install and in a wheel alike."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REFERENCE_DIR = PACKAGE_DIR / "reference"


def rules_dir() -> Path:
    """The directory holding the shipped rule sets.

    A wheel carries ``rules/`` as ``engine/_rules`` (pyproject's force-include);
    an editable install or a source checkout reads the top-level ``rules/``.
    """
    packaged = PACKAGE_DIR / "_rules"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "rules"
