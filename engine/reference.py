"""Official tables to check a result against: built in (``2025q2``) or a file of the same shape."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.errors import UsageError
from engine.layout import COLUMNS, FIGURES, NIVEAUS, SCHEMA
from engine.paths import REFERENCE_DIR

BUILTIN = {"2025q2": REFERENCE_DIR / "officieel-2025q2.csv"}
KEY = ("niveau", "amr", "gemeente")
VALUE_COLUMNS = (*FIGURES, "totaal")


@dataclass(frozen=True)
class Difference:
    niveau: str
    amr: int | None
    arbeidsmarktregio: str | None
    gemeente: str | None
    kolom: str
    officieel: int | None
    berekend: int | None

    def where(self) -> str:
        if self.niveau == "gemeente":
            return f"{self.gemeente} (AMR {self.amr})"
        if self.niveau == "arbeidsmarktregio":
            return f"Totaal AMR {self.amr} {self.arbeidsmarktregio}"
        return self.niveau.capitalize()


def load_reference(spec: str) -> tuple[str, pl.DataFrame]:
    """Name and table of a built-in reference, or of a CSV/Parquet file in the output shape."""
    path = BUILTIN.get(spec, Path(spec))
    name = spec if spec in BUILTIN else str(path)
    if not path.exists():
        raise UsageError(
            f"onbekende referentie {spec!r}: geen ingebouwde ({', '.join(BUILTIN)}) en geen bestaand bestand"
        )
    try:
        raw = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)
    except Exception as exc:
        raise UsageError(f"kan referentie {path} niet lezen: {str(exc).splitlines()[0]}") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise UsageError(f"referentie {path} mist kolom(men) {', '.join(missing)}; verwacht: {', '.join(COLUMNS)}")
    try:
        table = raw.select(
            pl.col(c).cast(SCHEMA[c], strict=True) if c != "niveau" else pl.col(c).cast(pl.String) for c in COLUMNS
        ).with_columns(pl.col(c).replace("", None) for c in ("arbeidsmarktregio", "gemeente"))
    except Exception as exc:
        raise UsageError(f"referentie {path} heeft een cijfer dat geen getal is: {str(exc).splitlines()[0]}") from None
    bad = sorted(set(table["niveau"].unique().to_list()) - set(NIVEAUS), key=str)
    if bad:
        raise UsageError(f"referentie {path} heeft onbekende niveau-waarde(n) {bad}; verwacht: {', '.join(NIVEAUS)}")
    return name, table


def compare(result: pl.DataFrame, reference: pl.DataFrame) -> list[Difference]:
    """Every cell where the two tables differ, in the result's row order; rows missing on
    either side show up with None on that side."""
    joined = result.with_row_index("_order").join(
        reference, on=list(KEY), how="full", suffix="_ref", coalesce=True, nulls_equal=True
    )
    differences: list[Difference] = []
    for row in joined.sort("_order", nulls_last=True).iter_rows(named=True):
        for column in VALUE_COLUMNS:
            mine, theirs = row[column], row[f"{column}_ref"]
            if mine != theirs:
                differences.append(
                    Difference(
                        niveau=row["niveau"],
                        amr=row["amr"],
                        arbeidsmarktregio=row["arbeidsmarktregio"] or row["arbeidsmarktregio_ref"],
                        gemeente=row["gemeente"],
                        kolom=column,
                        officieel=theirs,
                        berekend=mine,
                    )
                )
    return differences
