"""`transparantie generate`: synthetic client records, calibrated to an official table on request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.cli._common import guarded, say


def generate(
    out: Annotated[Path, typer.Argument(help="Output file: Parquet, or CSV when the name ends in .csv.")],
    rows: Annotated[
        int | None,
        typer.Option(help="Total rows. Default: calibrated count + 25% not counted; uncalibrated 1,000,000."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = 0,
    calibrate: Annotated[
        str | None,
        typer.Option(help="Reproduce this table exactly: '2025q2' or a reference file in the output shape."),
    ] = None,
    scale: Annotated[int, typer.Option(help="With --calibrate: multiply every cell by K.")] = 1,
    messy: Annotated[bool, typer.Option("--messy", help="Spell values like a real export (counts unchanged).")] = False,
    mix: Annotated[
        str | None,
        typer.Option(help="Shares of the non-counted reasons, e.g. 'uitgeschreven=0.3,ended=0.2,no_vink=0.5'."),
    ] = None,
) -> None:
    """Write synthetic Sonar client records.

    Example: transparantie generate sample_data/clients-2025q2.parquet --calibrate 2025q2 --seed 2025
    """
    # Imported here: numpy and pyarrow are needed only to generate, and would slow every command's start.
    from engine.generate import generate as generate_file
    from engine.generate.progress import terminal_progress

    with guarded(), terminal_progress() as progress:
        summary = generate_file(
            out, rows=rows, seed=seed, calibrate=calibrate, scale=scale, messy=messy, mix=mix, progress=progress
        )
    say(summary.line())
