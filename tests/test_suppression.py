"""Disclosure control: no suppressed cell can be recomputed from the published figures.

The attack reads the *published workbook* (not the engine's arrays), rebuilds every additive
relation from the table's structure itself (row totals, Totaal AMR = its gemeenten, Nederland =
the regions + onbekend), and solves any relation with exactly one unknown, again and again, until
nothing more can be solved. A second attack uses exact linear algebra on the whole system.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.layout import FIGURES
from engine.publiceer.suppression import Relation, linear_audit, primary, protect, relations, suppress, values_of
from tests.conftest import SAMPLE

VALUES = (*FIGURES, "totaal")
MARK = "•"
Cell = tuple[str, int]  # (row key, column index)


def published_grid(workbook: Path) -> tuple[dict[Cell, int | None], list[tuple[Cell, list[Cell]]]]:
    """Every published figure (None where suppressed) and every additive relation (total, parts)."""
    book = openpyxl.load_workbook(workbook)
    grid: dict[Cell, int | None] = {}
    relations_: list[tuple[Cell, list[Cell]]] = []

    def read(ws, first_value_col: int, stop: str) -> list[tuple[str, list[int | None]]]:
        rows = []
        for r in range(5, ws.max_row + 1):
            name = ws.cell(row=r, column=1).value
            if name is None:
                break
            cells = [ws.cell(row=r, column=first_value_col + j).value for j in range(5)]
            rows.append((str(name), [None if c == MARK else int(c) for c in cells]))
            if name == stop:
                break
        return rows

    region_keys = []
    for sheet in book.sheetnames[2:]:
        rows = read(book[sheet], 2, "Totaal AMR")
        members = []
        for name, cells in rows:
            key = f"{sheet}/{name}"
            for j, v in enumerate(cells):
                grid[(key, j)] = v
            if name != "Totaal AMR":
                members.append(key)
        total = f"{sheet}/Totaal AMR"
        region_keys.append(total)
        for j in range(5):
            relations_.append(((total, j), [(m, j) for m in members]))
    national = read(book["Nederland"], 3, "Nederland")
    by_name = dict(national)
    # The Nederland sheet repeats each Totaal AMR: it must publish exactly what the region sheet does.
    for sheet in book.sheetnames[2:]:
        assert by_name[sheet] == [grid[(f"{sheet}/Totaal AMR", j)] for j in range(5)], sheet
    for j, v in enumerate(by_name["Gemeente onbekend"]):
        grid[("onbekend", j)] = v
    for j, v in enumerate(by_name["Nederland"]):
        grid[("nederland", j)] = v
    for j in range(5):
        relations_.append(((("nederland", j)), [(k, j) for k in region_keys] + [("onbekend", j)]))
    for key in {k for k, _ in grid}:
        relations_.append(((key, 4), [(key, j) for j in range(4)]))
    return grid, relations_


def solve_by_differencing(grid: dict[Cell, int | None], rels: list[tuple[Cell, list[Cell]]]) -> dict[Cell, int]:
    """Repeatedly solve any relation with exactly one unknown; what became known."""
    known = {k: v for k, v in grid.items() if v is not None}
    solved: dict[Cell, int] = {}
    progress = True
    while progress:
        progress = False
        for total, parts in rels:
            unknown = [c for c in (total, *parts) if c not in known]
            if len(unknown) != 1:
                continue
            cell = unknown[0]
            if cell == total:
                value = sum(known[p] for p in parts)
            else:
                value = known[total] - sum(known[p] for p in parts if p != cell)
            known[cell] = solved[cell] = value
            progress = True
    return solved


def determined_by_linear_algebra(grid: dict[Cell, int | None], rels: list[tuple[Cell, list[Cell]]]) -> list[Cell]:
    """Suppressed cells whose unit vector lies in the row space of the relations (exact, by rank)."""
    unknown = sorted(k for k, v in grid.items() if v is None)
    index = {c: i for i, c in enumerate(unknown)}
    rows = []
    for total, parts in rels:
        row = np.zeros(len(unknown))
        for cell, sign in ((total, 1), *((p, -1) for p in parts)):
            if cell in index:
                row[index[cell]] += sign
        if row.any():
            rows.append(row)
    matrix = np.array(rows)
    # The cell is determined iff every solution of matrix @ x = 0 is zero there: its row of a
    # null-space basis vanishes (one SVD instead of a rank per cell).
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-8).sum())
    null_space = vt[rank:]
    return [cell for cell, i in index.items() if np.abs(null_space[:, i]).max(initial=0.0) < 1e-8]


def test_no_suppressed_cell_can_be_recomputed_from_the_published_workbook(publicatie_drempel: Path) -> None:
    grid, rels = published_grid(publicatie_drempel / "publicatie.xlsx")
    hidden = [c for c, v in grid.items() if v is None]
    assert len(hidden) > 50  # the sample has many small cells at drempel 5
    assert solve_by_differencing(grid, rels) == {}
    assert determined_by_linear_algebra(grid, rels) == []


def test_the_attack_works_on_a_table_without_secondary_suppression(publicatie_drempel: Path) -> None:
    """Sanity check of the attack itself: primary suppression alone is undone by differencing."""
    grid, rels = published_grid(publicatie_drempel / "publicatie.xlsx")
    table = count_file(SAMPLE).table
    only_primary = primary(values_of(table), 5)
    # Rebuild the grid with only the primary cells hidden, from the true values.
    truth = _truth(table)
    weak = {k: (None if only_primary[truth[k][1]] else truth[k][0]) for k in grid}
    solved = solve_by_differencing(weak, rels)
    assert solved and all(truth[c][0] == v for c, v in solved.items())


def _truth(table: pl.DataFrame) -> dict[Cell, tuple[int, tuple[int, int]]]:
    """(row key, column) -> (true value, engine position), with the workbook's row keys."""
    out: dict[Cell, tuple[int, tuple[int, int]]] = {}
    values = values_of(table)
    for i, row in enumerate(table.iter_rows(named=True)):
        if row["niveau"] == "gemeente":
            key = f"{row['amr']} {row['arbeidsmarktregio']}"[:31] + f"/{row['gemeente']}"
        elif row["niveau"] == "arbeidsmarktregio":
            key = f"{row['amr']} {row['arbeidsmarktregio']}"[:31] + "/Totaal AMR"
        else:
            key = row["niveau"]
        for j in range(5):
            out[(key, j)] = (int(values[i, j]), (i, j))
    return out


def test_published_figures_are_true_and_primary_cells_hidden(publicatie_drempel: Path) -> None:
    grid, _ = published_grid(publicatie_drempel / "publicatie.xlsx")
    truth = _truth(count_file(SAMPLE).table)
    assert set(grid) == set(truth)
    for cell, published in grid.items():
        value = truth[cell][0]
        if 0 < value < 5:
            assert published is None, cell
        if published is not None:
            assert published == value, cell
    assert grid[("nederland", 4)] == 190973


def test_graad_hidden_where_a_cell_is_and_marks_explained(publicatie_drempel: Path) -> None:
    book = openpyxl.load_workbook(publicatie_drempel / "publicatie.xlsx")
    for ws in book.worksheets[2:]:
        for r in range(5, ws.max_row + 1):
            cells = [ws.cell(row=r, column=c).value for c in range(2, 8)]
            if ws.cell(row=r, column=1).value is None:
                break
            if MARK in cells[:5]:
                assert cells[5] == MARK
    page = (publicatie_drempel / "regio-01-groningen.html").read_text(encoding="utf-8")
    assert MARK in page and "niet gepubliceerd" in page and "een 0 wordt wel getoond" in page


@pytest.mark.parametrize("drempel", [3, 5, 10, 20])
def test_engine_suppression_is_closed_under_single_relations_and_linear_algebra(drempel: int) -> None:
    table = count_file(SAMPLE).table
    values = values_of(table)
    rels = relations(table)
    hidden = protect(values, drempel, rels)
    assert (hidden | ~primary(values, drempel)).all()  # every primary cell hidden
    for rel in rels:
        assert sum(bool(hidden[c]) for c in rel.cells) != 1, rel.naam
    assert linear_audit(hidden, rels) == []
    assert not (hidden & (values == 0) & primary(values, drempel)).any()


def test_linear_audit_finds_what_single_relations_miss() -> None:
    """x + y = a and x + y + z = b: no relation has a single unknown, yet z = b - a."""
    hidden = np.zeros((3, 5), dtype=bool)
    hidden[0, 0] = hidden[0, 1] = hidden[1, 0] = True
    demo = [
        Relation((2, 0), ((0, 0), (0, 1)), "a"),
        Relation((2, 1), ((0, 0), (0, 1), (1, 0)), "b"),
    ]
    assert linear_audit(hidden, demo) == [(1, 0)]
    grid: dict[Cell, int | None] = {("x", 0): None, ("y", 0): None, ("z", 0): None, ("a", 0): 5, ("b", 0): 7}
    rels = [(("a", 0), [("x", 0), ("y", 0)]), (("b", 0), [("x", 0), ("y", 0), ("z", 0)])]
    assert solve_by_differencing(grid, rels) == {}
    assert determined_by_linear_algebra(grid, rels) == [("z", 0)]


def test_zero_is_published_and_drempel_must_be_at_least_two(tmp_path: Path) -> None:
    table = count_file(SAMPLE).table
    s = suppress(table, 5)
    values = values_of(table)
    assert not (s.primair & (values == 0)).any()
    result = CliRunner().invoke(app, ["publiceer", str(SAMPLE), "--uit", str(tmp_path), "--drempel", "0"])
    assert result.exit_code == 2


def test_interval_audit_by_linear_programming(publicatie_drempel: Path) -> None:
    """With non-negative counts, no suppressed cell is pinned to one value: for each, minimise and
    maximise it subject to every published relation (the LP relaxation of an attacker's knowledge)."""
    optimize = pytest.importorskip("scipy.optimize", reason="scipy (a dev dependency) runs the LP audit")
    grid, rels = published_grid(publicatie_drempel / "publicatie.xlsx")
    unknown = sorted(k for k, v in grid.items() if v is None)
    index = {c: i for i, c in enumerate(unknown)}
    equations, rhs = [], []
    for total, parts in rels:
        row = np.zeros(len(unknown))
        constant = 0.0
        for cell, sign in ((total, 1.0), *((p, -1.0) for p in parts)):
            if cell in index:
                row[index[cell]] += sign
            else:
                constant += sign * float(grid[cell])  # type: ignore[arg-type]
        if row.any():
            equations.append(row)
            rhs.append(-constant)
    a_eq, b_eq = np.array(equations), np.array(rhs)
    truth = _truth(count_file(SAMPLE).table)
    narrow = []
    for cell, i in index.items():
        bounds = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(unknown))
            objective[i] = sign
            result = optimize.linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            assert result.status == 0, result.message
            bounds.append(sign * result.fun)
        low, high = bounds
        assert low - 1e-6 <= truth[cell][0] <= high + 1e-6
        if high - low < 1 - 1e-6:
            narrow.append((cell, low, high))
    assert narrow == []
