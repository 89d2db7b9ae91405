"""The published table's shape: every gemeente, Totaal AMR per region, onbekend, Nederland."""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from engine.indeling import Indeling

FIGURES = ("gemeente_profiel_ja", "gemeente_profiel_nee", "uwv_profiel_ja", "uwv_profiel_nee")
COLUMNS = ("niveau", "amr", "arbeidsmarktregio", "gemeente", *FIGURES, "totaal")
NIVEAUS = ("gemeente", "arbeidsmarktregio", "onbekend", "nederland")
SCHEMA: dict[str, pl.DataType] = {
    "niveau": pl.String(),
    "amr": pl.Int32(),
    "arbeidsmarktregio": pl.String(),
    "gemeente": pl.String(),
    **{f: pl.Int64() for f in FIGURES},
    "totaal": pl.Int64(),
}


def nl_int(n: int) -> str:
    """An integer with Dutch thousands separators: 1092 -> '1.092'."""
    return f"{n:,}".replace(",", ".")


def figure_column(klantsoort: str, profiel: bool) -> str:
    return f"{klantsoort}_profiel_{'ja' if profiel else 'nee'}"


def publication_table(cells: pl.DataFrame, indeling: Indeling) -> pl.DataFrame:
    """Lay counted cells (gemeente, klantsoort, profiel, n) out as the publication does.

    Gemeenten without clients appear with zeros; a null gemeente goes to ``onbekend``.
    """
    wide = (
        cells.with_columns(
            pl.col("gemeente").cast(pl.String),
            pl.concat_str(
                pl.col("klantsoort"),
                pl.lit("_profiel_"),
                pl.when(pl.col("profiel")).then(pl.lit("ja")).otherwise(pl.lit("nee")),
            ).alias("kolom"),
        )
        .group_by("gemeente", "kolom")
        .agg(pl.col("n").sum())
    )
    per_cell = {(g, k): int(n) for g, k, n in wide.iter_rows()}

    def figures(gemeente: str | None) -> dict[str, int]:
        return {f: per_cell.get((gemeente, f), 0) for f in FIGURES}

    rows: list[dict[str, object]] = []
    for (amr, region), members in indeling.frame.group_by("amr", "arbeidsmarktregio", maintain_order=True):
        region_rows = [
            {"niveau": "gemeente", "amr": amr, "arbeidsmarktregio": region, "gemeente": g, **figures(g)}
            for g in members["gemeente"]
        ]
        total = {f: sum(int(r[f]) for r in region_rows) for f in FIGURES}  # type: ignore[call-overload]
        rows += region_rows
        rows.append(
            {
                "niveau": "arbeidsmarktregio",
                "amr": amr,
                "arbeidsmarktregio": region,
                "gemeente": None,
                **total,
            }
        )
    rows.append({"niveau": "onbekend", "amr": None, "arbeidsmarktregio": None, "gemeente": None, **figures(None)})
    table = pl.DataFrame(rows, schema={k: v for k, v in SCHEMA.items() if k != "totaal"})
    nederland = table.filter(pl.col("niveau").is_in(["arbeidsmarktregio", "onbekend"])).select(
        pl.lit("nederland").alias("niveau"),
        pl.lit(None, dtype=pl.Int32).alias("amr"),
        pl.lit(None, dtype=pl.String).alias("arbeidsmarktregio"),
        pl.lit(None, dtype=pl.String).alias("gemeente"),
        *(pl.col(f).sum() for f in FIGURES),
    )
    return pl.concat([table, nederland]).with_columns(pl.sum_horizontal(FIGURES).alias("totaal")).select(COLUMNS)


class Niveau(StrEnum):
    """The grouping of an explanatory report."""

    NEDERLAND = "nederland"
    AMR = "amr"
    GEMEENTE = "gemeente"
