"""Disclosure control for the published table: primary and secondary cell suppression.

The table is a three-level hierarchy: every gemeente row, a Totaal AMR row per region, the
``onbekend`` line and Nederland, each with four figures and their ``totaal``. The published
margins give these additive relations (each: one total = the sum of its parts):

* per row (gemeente, Totaal AMR, onbekend, Nederland): ``totaal`` = the four figures;
* per region and column (the four figures and ``totaal``): Totaal AMR = its gemeenten;
* per column: Nederland = the 35 Totaal AMR rows + the onbekend line.

**Primary suppression**: every cell with ``0 < value < drempel``. A zero is published: it
says that nobody is in the cell and describes no person (it can still be suppressed as a
secondary cell).

**Secondary suppression**: as long as some relation holds exactly one suppressed cell (which
the relation would give away as total minus the others), the smallest other cell of that
relation is suppressed too (the smallest non-zero cell first, so that the protecting cell is
itself not a known zero; ties broken by position), until no relation has exactly one.

**What it guarantees**: no suppressed cell can be recomputed by differencing a single
relation, nor by repeating that (solving one relation, then using the solved cell in the
next). :func:`linear_audit` checks the stronger property that no suppressed cell is fixed by
*any* linear combination of the relations (exact linear algebra over the published figures);
:func:`protect` adds suppressions until that audit is clean too. It is not an interval (LP)
audit with a protection level as in τ-Argus' hypercube or modular methods: with the bounds
``value >= 0`` an attacker may still narrow a suppressed cell to an interval (never to a single
value on the sample: tests/test_suppression.py checks that by linear programming), which can be
small when the protecting cells are small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.layout import FIGURES

VALUE_COLUMNS = (*FIGURES, "totaal")
Cell = tuple[int, int]  # (row in the table, index in VALUE_COLUMNS)


@dataclass(frozen=True)
class Relation:
    """One published additive relation: ``total`` = sum of ``parts``."""

    total: Cell
    parts: tuple[Cell, ...]
    naam: str

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (self.total, *self.parts)


def relations(table: pl.DataFrame) -> list[Relation]:
    """Every additive relation of a table in the output columns (count's ``table``)."""
    niveau = table["niveau"].to_list()
    amr = table["amr"].to_list()
    rels: list[Relation] = []
    n_cols = len(VALUE_COLUMNS)
    for r in range(table.height):
        rels.append(Relation((r, n_cols - 1), tuple((r, c) for c in range(n_cols - 1)), f"rij {r}"))
    region_rows = [r for r in range(table.height) if niveau[r] == "arbeidsmarktregio"]
    for rr in region_rows:
        members = [r for r in range(table.height) if niveau[r] == "gemeente" and amr[r] == amr[rr]]
        for c in range(n_cols):
            rels.append(Relation((rr, c), tuple((r, c) for r in members), f"regio {amr[rr]} kolom {c}"))
    national = [r for r in range(table.height) if niveau[r] == "nederland"]
    unknown = [r for r in range(table.height) if niveau[r] == "onbekend"]
    for nl in national:
        for c in range(n_cols):
            rels.append(Relation((nl, c), tuple((r, c) for r in (*region_rows, *unknown)), f"nederland kolom {c}"))
    return rels


def values_of(table: pl.DataFrame) -> np.ndarray:
    return table.select(VALUE_COLUMNS).to_numpy().astype(np.int64)


def primary(values: np.ndarray, drempel: int) -> np.ndarray:
    """Cells below the threshold, zero excluded."""
    return (values > 0) & (values < drempel)


def secondary(values: np.ndarray, suppressed: np.ndarray, rels: list[Relation]) -> np.ndarray:
    """Suppress more cells until no relation holds exactly one suppressed cell."""
    out = suppressed.copy()
    changed = True
    while changed:
        changed = False
        for rel in rels:
            hidden = [cell for cell in rel.cells if out[cell]]
            if len(hidden) != 1:
                continue
            candidates = [cell for cell in rel.cells if not out[cell]]
            if not candidates:
                continue
            choice = min(candidates, key=lambda cell: (values[cell] == 0, values[cell], cell))
            out[choice] = True
            changed = True
    return out


def linear_audit(suppressed: np.ndarray, rels: list[Relation]) -> list[Cell]:
    """The suppressed cells that some linear combination of the relations determines exactly.

    The unknowns are the suppressed cells; each relation is one linear equation in them (the
    published cells move to the right-hand side). A cell is determined iff its unit vector lies
    in the row space of that system, i.e. iff every solution of the homogeneous system is zero
    there: the cell's row of the null-space basis vanishes.
    """
    unknown = [tuple(int(i) for i in cell) for cell in np.argwhere(suppressed)]
    if not unknown:
        return []
    index = {cell: i for i, cell in enumerate(unknown)}
    rows = []
    for rel in rels:
        coefficients = np.zeros(len(unknown))
        touched = False
        for cell, sign in ((rel.total, 1.0), *((p, -1.0) for p in rel.parts)):
            if cell in index:
                coefficients[index[cell]] += sign
                touched = True
        if touched:
            rows.append(coefficients)
    matrix = np.array(rows) if rows else np.zeros((0, len(unknown)))
    if matrix.shape[0] == 0:
        return []
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > 1e-9 * max(1.0, float(singular.max(initial=0.0)))).sum())
    null_space = vt[rank:].T  # columns span the solutions of matrix @ x = 0
    if null_space.shape[1] == 0:
        return list(unknown)  # type: ignore[arg-type]
    free = np.linalg.norm(null_space, axis=1) > 1e-9
    return [cell for cell, f in zip(unknown, free, strict=True) if not f]  # type: ignore[misc]


def protect(values: np.ndarray, drempel: int, rels: list[Relation]) -> np.ndarray:
    """Primary suppression, secondary suppression, and more secondary suppression while the
    linear audit finds a suppressed cell that the relations still determine."""
    suppressed = secondary(values, primary(values, drempel), rels)
    for _ in range(values.size):
        exposed = linear_audit(suppressed, rels)
        if not exposed:
            return suppressed
        # Hide the smallest published cell of a relation through the first exposed cell.
        cell = exposed[0]
        candidates = [c for rel in rels if cell in rel.cells for c in rel.cells if not suppressed[c]]
        if not candidates:  # pragma: no cover - every cell lies in a relation with published cells
            break
        suppressed[min(candidates, key=lambda c: (values[c] == 0, values[c], c))] = True
        suppressed = secondary(values, suppressed, rels)
    return suppressed


@dataclass(frozen=True)
class Suppression:
    """Which cells of the table are suppressed, and why."""

    drempel: int
    primair: np.ndarray  # bool, table.height x 5 (VALUE_COLUMNS)
    onderdrukt: np.ndarray  # bool, primary and secondary

    @property
    def n_primair(self) -> int:
        return int(self.primair.sum())

    @property
    def n_secundair(self) -> int:
        return int(self.onderdrukt.sum() - self.primair.sum())


def suppress(table: pl.DataFrame, drempel: int) -> Suppression:
    values = values_of(table)
    hidden = protect(values, drempel, relations(table))
    return Suppression(drempel=drempel, primair=primary(values, drempel), onderdrukt=hidden)
