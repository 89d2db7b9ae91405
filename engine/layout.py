"""The published table's shape: every gemeente, Totaal AMR per region, onbekend, Nederland.

:func:`publication_order` is the one place that order is decided; every report lays its rows
out with it (:func:`laid_out`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import polars as pl

from engine.indeling import Indeling
from engine.report import nl_int

__all__ = [
    "COLUMNS",
    "FIGURES",
    "MISSING_PREFIX",
    "NIVEAUS",
    "SCHEMA",
    "Niveau",
    "laid_out",
    "nl_int",
    "publication_order",
]

FIGURES = ("gemeente_profiel_ja", "gemeente_profiel_nee", "uwv_profiel_ja", "uwv_profiel_nee")
COLUMNS = ("niveau", "amr", "arbeidsmarktregio", "gemeente", *FIGURES, "totaal")
NIVEAUS = ("gemeente", "arbeidsmarktregio", "onbekend", "nederland")
#: The column of the clients without a profiel onderdeel (profiel's overview, the werklijst).
MISSING_PREFIX = "zonder_"
#: The columns that say where a row of a report belongs.
WHERE = ("niveau", "amr", "arbeidsmarktregio", "gemeente")
#: (klantsoort, profiel) of each of FIGURES.
_FIGURE_CELLS = (("gemeente", True), ("gemeente", False), ("uwv", True), ("uwv", False))
SCHEMA: dict[str, pl.DataType] = {
    "niveau": pl.String(),
    "amr": pl.Int32(),
    "arbeidsmarktregio": pl.String(),
    "gemeente": pl.String(),
    **{f: pl.Int64() for f in FIGURES},
    "totaal": pl.Int64(),
}


def figure_column(klantsoort: str, profiel: bool) -> str:
    return f"{klantsoort}_profiel_{'ja' if profiel else 'nee'}"


def publication_order(
    indeling: Indeling, niveaus: Sequence[str] = NIVEAUS, amr: int | None = None, interleaved: bool = True
) -> pl.DataFrame:
    """The rows of a report (``niveau``, ``amr``, ``arbeidsmarktregio``, ``gemeente``) in the
    publication's order: per region its gemeenten, then its Totaal AMR; then onbekend (no
    gemeente); then Nederland. Only the ``niveaus`` asked, and with ``amr`` only that region's
    gemeenten and total. ``interleaved=False``: every gemeente first, then every region.
    """
    members = indeling.frame.select("amr", "arbeidsmarktregio", "gemeente")
    if amr is not None:
        members = members.filter(pl.col("amr") == amr)
    gemeenten: list[tuple[str, int | None, str | None, str | None]] = []
    regions: list[tuple[str, int | None, str | None, str | None]] = []
    blocks: list[tuple[str, int | None, str | None, str | None]] = []
    for (number, region), rows in members.group_by("amr", "arbeidsmarktregio", maintain_order=True):
        own = [("gemeente", number, region, g) for g in rows["gemeente"]] if "gemeente" in niveaus else []
        total = [("arbeidsmarktregio", number, region, None)] if "arbeidsmarktregio" in niveaus else []
        gemeenten += own
        regions += total
        blocks += [*own, *total]
    rows_ = blocks if interleaved else [*gemeenten, *regions]
    rows_ += [(n, None, None, None) for n in ("onbekend", "nederland") if n in niveaus]
    return pl.DataFrame(rows_, schema={k: SCHEMA[k] for k in WHERE}, orient="row")


def laid_out(
    order: pl.DataFrame,
    frame: pl.DataFrame,
    aggregations: Sequence[pl.Expr],
    by: Sequence[str] = (),
    within: Sequence[str] = (),
    descending: Sequence[bool] = (),
) -> pl.DataFrame:
    """``aggregations`` for every row of ``order`` (:func:`publication_order`) over the rows of
    ``frame`` (with ``gemeente`` and ``amr``) it covers: a gemeente its own rows, a region the
    rows of its gemeenten, onbekend the rows without gemeente, Nederland every row.

    Without ``by`` each row of ``order`` appears once (null where a gemeente or region has no
    rows, which a caller fills). With ``by`` there is a row per value of ``by`` that occurs,
    sorted within each row of ``order`` by ``within`` (``descending`` per column).
    """
    frame = frame.with_columns(pl.col("gemeente").cast(pl.String), pl.col("amr").cast(pl.Int32))
    keys = list(by)

    def aggregated(rows: pl.DataFrame, on: list[str]) -> pl.DataFrame:
        if on or keys:
            return rows.group_by(*on, *keys).agg(aggregations)
        return rows.select(aggregations)

    parts = {
        "gemeente": (["gemeente"], frame.filter(pl.col("gemeente").is_not_null())),
        "arbeidsmarktregio": (["amr"], frame.filter(pl.col("amr").is_not_null())),
        "onbekend": ([], frame.filter(pl.col("gemeente").is_null())),
        "nederland": ([], frame),
    }
    indexed = order.with_row_index("_volgorde")
    pieces = []
    for niveau, (on, rows) in parts.items():
        wanted = indexed.filter(pl.col("niveau") == niveau)
        if wanted.is_empty():
            continue
        values = aggregated(rows, on)
        if on:
            pieces.append(wanted.join(values, on=on, how="inner" if keys else "left"))
        else:
            pieces.append(wanted.join(values, how="cross"))
    columns = [*indexed.columns, *(c for c in pieces[0].columns if c not in indexed.columns)] if pieces else []
    result = pl.concat([p.select(columns) for p in pieces]) if pieces else indexed
    return result.sort(["_volgorde", *within], descending=[False, *descending], maintain_order=True).drop("_volgorde")


def publication_table(cells: pl.DataFrame, indeling: Indeling) -> pl.DataFrame:
    """Lay counted cells (gemeente, klantsoort, profiel, n) out as the publication does.

    Gemeenten without clients appear with zeros; a null gemeente goes to ``onbekend``.
    """
    per_figure = cells.select(
        pl.col("gemeente"),
        indeling.amr_of(pl.col("gemeente")).alias("amr"),
        *(
            pl.when((pl.col("klantsoort") == k) & (pl.col("profiel") == p)).then(pl.col("n")).otherwise(0).alias(f)
            for f, (k, p) in zip(FIGURES, _FIGURE_CELLS, strict=True)
        ),
    )
    table = laid_out(publication_order(indeling), per_figure, [pl.col(f).sum() for f in FIGURES])
    return (
        table.with_columns(pl.col(f).fill_null(0) for f in FIGURES)
        .with_columns(pl.sum_horizontal(FIGURES).alias("totaal"))
        .select(COLUMNS)
        .cast(pl.Schema(SCHEMA))
    )


class Niveau(StrEnum):
    """The grouping of an explanatory report (``--niveau``). Its values are those of the tables'
    ``niveau`` column: ``arbeidsmarktregio`` is the level, ``amr`` the region's number."""

    NEDERLAND = "nederland"
    ARBEIDSMARKTREGIO = "arbeidsmarktregio"
    GEMEENTE = "gemeente"

    @classmethod
    def _missing_(cls, value: object) -> Niveau | None:
        """Any case and surrounding blanks; the former value ``amr`` still means the regions."""
        if not isinstance(value, str):
            return None
        text = value.strip().casefold()
        return cls.ARBEIDSMARKTREGIO if text == "amr" else next((n for n in cls if n.value == text), None)
