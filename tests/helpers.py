"""Small helpers the tests share."""

from __future__ import annotations

from engine.count import CountResult


def counted_cells(result: CountResult) -> dict[tuple[str | None, str, bool], int]:
    """Counted rows per (gemeente, klantsoort, profiel)."""
    return {(g, k, p): int(n) for g, k, p, n in result.cells.iter_rows()}
