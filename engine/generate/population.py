"""How many rows of each kind a generated file holds, and how they are spread over chunks.

A *role* is what one row is: a counted cell (gemeente slot × figure) or a reason for not
being counted. The population is a count per role. Chunks draw their share of every role
from what is left without replacement (a multivariate hypergeometric draw), which is the
same as cutting one seeded random permutation of all rows into chunks, without ever
holding more than one chunk's rows in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.errors import UsageError
from engine.generate.mix import REASON_KEYS, allocate
from engine.indeling import Indeling, name_key
from engine.layout import FIGURES
from engine.reference import load_reference

#: Gemeente slots: the indeling's gemeenten in order, then one for "gemeente onbekend" (null).
#: Figures, in engine.layout.FIGURES order: gemeente ja, gemeente nee, uwv ja, uwv nee.
N_FIGURES = len(FIGURES)
#: Non-counted rows per counted row when --rows is not given (20% of the file is not counted).
DEFAULT_FILLER_RATIO = 0.25
#: Rows of an uncalibrated file when --rows is not given.
DEFAULT_UNCALIBRATED_ROWS = 1_000_000
#: Uncalibrated files: this share of the rows is counted.
UNCALIBRATED_COUNTED_SHARE = 0.8
#: Client ids are a bijection of the row number on 36 bits (engine.generate.ids).
MAX_ROWS = 2**36


@dataclass(frozen=True)
class Population:
    cells: np.ndarray  # int64 (n_gemeenten + 1, 4): counted rows per gemeente slot and figure
    filler: dict[str, int]  # non-counted rows per reason key

    @property
    def counted(self) -> int:
        return int(self.cells.sum())

    @property
    def rows(self) -> int:
        return self.counted + sum(self.filler.values())

    @property
    def n_cells(self) -> int:
        return int(self.cells.size)

    def role_counts(self) -> np.ndarray:
        """Rows per role: every cell (row-major: slot * 4 + figure), then every reason."""
        return np.concatenate([self.cells.ravel(), np.array([self.filler[k] for k in REASON_KEYS])]).astype(np.int64)

    def gemeente_weights(self) -> np.ndarray:
        """Share of each gemeente slot among the counted rows, for placing non-counted rows."""
        per_slot = self.cells.sum(axis=1).astype(np.float64)
        return per_slot / per_slot.sum() if per_slot.sum() > 0 else np.full(per_slot.size, 1 / per_slot.size)

    def uwv_share(self) -> float:
        uwv = float(self.cells[:, 2:].sum())
        return uwv / self.counted if self.counted else 0.6


def reference_cells(spec: str, indeling: Indeling) -> tuple[str, np.ndarray]:
    """The counted cells of a reference table (engine.reference.load_reference): one row per
    gemeente slot, the onbekend line last. The table must add up, or no file can reproduce it."""
    name, table = load_reference(spec)
    cells = np.zeros((len(indeling.gemeenten) + 1, N_FIGURES), dtype=np.int64)
    slot_of = {g: i for i, g in enumerate(indeling.gemeenten)}
    amr_of = dict(zip(indeling.frame["gemeente"], indeling.frame["amr"], strict=True))
    seen: set[str] = set()
    figures = table.select(FIGURES)
    if figures.null_count().sum_horizontal().item() or (figures.min().min_horizontal().item() or 0) < 0:
        raise UsageError(f"referentie {name}: elk cijfer moet een getal van 0 of meer zijn")
    bad_totals = table.filter(pl.sum_horizontal(FIGURES) != pl.col("totaal"))
    if bad_totals.height:
        raise UsageError(
            f"referentie {name}: {bad_totals.height} rij(en) waarvan het totaal niet de som van de cijfers is"
        )
    for row in table.filter(pl.col("niveau") == "gemeente").iter_rows(named=True):
        gemeente = indeling.keys.get(name_key(row["gemeente"] or ""))
        if gemeente is None:
            raise UsageError(f"referentie {name}: gemeente {row['gemeente']!r} staat niet in de indeling")
        if gemeente in seen:
            raise UsageError(f"referentie {name}: gemeente {gemeente!r} komt twee keer voor")
        if row["amr"] != amr_of[gemeente]:
            raise UsageError(
                f"referentie {name}: {gemeente!r} staat onder AMR {row['amr']}, de indeling zegt AMR {amr_of[gemeente]}"
            )
        seen.add(gemeente)
        cells[slot_of[gemeente]] = [row[f] for f in FIGURES]
    for row in table.filter(pl.col("niveau") == "onbekend").iter_rows(named=True):
        cells[-1] = [row[f] for f in FIGURES]
    _check_totals(name, table, cells, indeling)
    return name, cells


def _check_totals(name: str, table: pl.DataFrame, cells: np.ndarray, indeling: Indeling) -> None:
    amr = indeling.frame["amr"].to_numpy()
    for row in table.filter(pl.col("niveau") == "arbeidsmarktregio").iter_rows(named=True):
        expected = cells[:-1][amr == row["amr"]].sum(axis=0)
        if [row[f] for f in FIGURES] != expected.tolist():
            raise UsageError(f"referentie {name}: Totaal AMR {row['amr']} is niet de som van zijn gemeenten")
    for row in table.filter(pl.col("niveau") == "nederland").iter_rows(named=True):
        if [row[f] for f in FIGURES] != cells.sum(axis=0).tolist():
            raise UsageError(f"referentie {name}: Nederland is niet de som van de gemeenten en onbekend")


def plan_population(
    *,
    rows: int | None,
    calibrated_cells: np.ndarray | None,
    weights_cells: np.ndarray,
    scale: int,
    mix: dict[str, float],
    rng: np.random.Generator,
) -> Population:
    """Counts per role. Calibrated: exactly the reference cells × scale, plus filler up to
    ``rows``. Uncalibrated: ``rows`` × 80% counted, drawn over the cells of ``weights_cells``."""
    if rows is not None and rows < 1:
        raise UsageError(f"--rows moet minstens 1 zijn, niet {rows}")
    if calibrated_cells is not None:
        cells = calibrated_cells.astype(np.int64) * scale
        counted = int(cells.sum())
        if rows is None:
            rows = counted + int(np.ceil(counted * DEFAULT_FILLER_RATIO))
        elif rows < counted:
            raise UsageError(
                f"--rows {rows} is kleiner dan de {counted} meegetelde rijen die de kalibratie nodig heeft "
                f"(referentie × schaal {scale}); geef --rows {counted} of meer, of laat --rows weg"
            )
    else:
        rows = DEFAULT_UNCALIBRATED_ROWS if rows is None else rows
        counted = int(round(rows * UNCALIBRATED_COUNTED_SHARE))
        p = weights_cells.ravel().astype(np.float64)
        cells = rng.multinomial(counted, p / p.sum()).reshape(weights_cells.shape).astype(np.int64)
    if rows > MAX_ROWS:
        raise UsageError(f"--rows {rows} is meer dan de generator aankan ({MAX_ROWS})")
    return Population(cells=cells, filler=allocate(rows - counted, mix))


def chunk_roles(population: Population, chunk_rows: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Per chunk: how many rows of each role it holds (they add up to the chunk's size)."""
    left = population.role_counts()
    remaining = int(left.sum())
    while remaining > 0:
        size = min(chunk_rows, remaining)
        # The last chunk takes what is left; others draw without replacement.
        take = left.copy() if size == remaining else rng.multivariate_hypergeometric(left, size, method="marginals")
        left -= take
        remaining -= size
        yield take
