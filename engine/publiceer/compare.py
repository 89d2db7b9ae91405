"""Comparing two tables in the output shape: an earlier quarter (``vorige``) and a later one.

A table is a count output (CSV/Parquet in the output columns, as ``transparantie count
--format csv|parquet`` writes it), a shipped reference (``2025q2``), or a file of client
records, which is counted first. The comparison keeps the later table's row order; rows that
exist in only one of the two (a gemeente merged away, say) follow at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.errors import UsageError
from engine.layout import COLUMNS, nl_int
from engine.output import atomic_path
from engine.reference import BUILTIN, KEY, VALUE_COLUMNS, load_reference
from engine.report import nl_pct

JA = ("gemeente_profiel_ja", "uwv_profiel_ja")
VORIGE_SUFFIX = "_vorige"
VERSCHIL_SUFFIX = "_verschil"


def graad_expr(prefix: str = "", suffix: str = "") -> pl.Expr:
    """Transparantiegraad of a row: clients with profiel ja / counted clients; null when none."""
    ja = pl.sum_horizontal(pl.col(f"{prefix}{c}{suffix}") for c in JA)
    totaal = pl.col(f"{prefix}totaal{suffix}")
    return pl.when(totaal > 0).then(ja / totaal).otherwise(None)


def is_table(path: Path) -> bool:
    """Whether a file holds a table in the output columns (rather than client records)."""
    try:
        with path.open("rb") as handle:
            parquet = handle.read(4) == b"PAR1"
        if parquet:
            names = list(pl.read_parquet_schema(path))
        else:
            names = pl.read_csv(path, n_rows=0, infer_schema=False).columns
    except Exception:
        return False
    return "niveau" in names and "totaal" in names


def load_table(spec: str | Path, rules: str | None = None) -> tuple[str, pl.DataFrame]:
    """Name and table of ``spec``: a shipped reference, a count output, or client records (counted)."""
    text = str(spec)
    if text in BUILTIN:
        return load_reference(text)
    path = Path(text)
    if not path.exists():
        raise UsageError(f"{text!r} is geen meegeleverde referentie ({', '.join(BUILTIN)}) en geen bestaand bestand")
    if is_table(path):
        try:
            return load_reference(text)
        except UsageError as exc:
            raise UsageError(
                f"{text}: geen bruikbare tabel in de uitvoerkolommen van `transparantie count` ({exc})"
            ) from None
    from engine.count import count_file
    from engine.rules import DEFAULT_RULES

    return text, count_file(path, rules=rules or DEFAULT_RULES).table


def compare_tables(nieuw: pl.DataFrame, vorige: pl.DataFrame) -> pl.DataFrame:
    """Per row of ``nieuw``: every value, the earlier value (``<kolom>_vorige``) and the change
    (``<kolom>_verschil`` = nieuw - vorige), and the transparantiegraad with its change in
    percentage points (``graad_verschil_pp``). A row missing on one side has nulls there."""
    left = nieuw.select(COLUMNS).with_row_index("_volgorde")
    right = vorige.select(COLUMNS).rename({c: c + VORIGE_SUFFIX for c in (*VALUE_COLUMNS, "arbeidsmarktregio")})
    joined = left.join(right, on=list(KEY), how="full", coalesce=True, nulls_equal=True)
    joined = joined.with_columns(
        pl.coalesce("arbeidsmarktregio", "arbeidsmarktregio" + VORIGE_SUFFIX).alias("arbeidsmarktregio"),
        *((pl.col(c) - pl.col(c + VORIGE_SUFFIX)).alias(c + VERSCHIL_SUFFIX) for c in VALUE_COLUMNS),
        graad_expr().alias("graad"),
        graad_expr(suffix=VORIGE_SUFFIX).alias("graad" + VORIGE_SUFFIX),
    ).with_columns(((pl.col("graad") - pl.col("graad" + VORIGE_SUFFIX)) * 100).alias("graad_verschil_pp"))
    ordered = joined.sort("_volgorde", nulls_last=True, maintain_order=True)
    return ordered.select(list(comparison_columns()))


def comparison_columns() -> list[str]:
    """The columns of a comparison (CSV, JSON, Excel)."""
    where = ["niveau", "amr", "arbeidsmarktregio", "gemeente"]
    values = [c + s for c in VALUE_COLUMNS for s in ("", VORIGE_SUFFIX, VERSCHIL_SUFFIX)]
    return [*where, *values, "graad", "graad" + VORIGE_SUFFIX, "graad_verschil_pp"]


@dataclass(frozen=True)
class Vergelijking:
    """A comparison of two tables, with their names."""

    vorige: str
    nieuw: str
    tabel: pl.DataFrame  # comparison_columns()

    def n_gewijzigd(self) -> int:
        changed = pl.any_horizontal(
            (pl.col(c + VERSCHIL_SUFFIX) != 0) | pl.col(c + VERSCHIL_SUFFIX).is_null() for c in VALUE_COLUMNS
        )
        return self.tabel.filter(changed).height


def vergelijk(vorige: str | Path, nieuw: str | Path, amr: int | None = None, rules: str | None = None) -> Vergelijking:
    """Compare two tables (see :func:`load_table`); ``amr`` keeps one region's rows."""
    name_a, a = load_table(vorige, rules)
    name_b, b = load_table(nieuw, rules)
    table = compare_tables(b, a)
    if amr is not None:
        table = table.filter(pl.col("amr") == amr)
        if table.is_empty():
            raise UsageError(f"--amr {amr}: er is geen arbeidsmarktregio {amr}; de regio's zijn genummerd 1-35")
    return Vergelijking(vorige=name_a, nieuw=name_b, tabel=table)


# --- rendering ---------------------------------------------------------------------------------


def nl_signed(n: int | None) -> str:
    """A change with its sign, Dutch format: +1.092, −3, 0; '(ontbreekt)' when a side is missing."""
    if n is None:
        return "n.v.t."
    if n == 0:
        return "0"
    return ("+" if n > 0 else "−") + nl_int(abs(n))


def nl_pp(pp: float | None) -> str:
    """A change of a percentage in percentage points: +0,3 pp; −1,2 pp; 0,0 pp."""
    if pp is None:
        return "n.v.t."
    rounded = round(pp, 1)
    if rounded == 0:
        return "0,0 pp"
    sign = "+" if rounded > 0 else "−"
    return f"{sign}{abs(rounded):.1f} pp".replace(".", ",")


HEADERS = ("Gem. profiel", "Gem. geen", "UWV profiel", "UWV geen", "Totaal")
NAME_WIDTH = 34
CELL_WIDTH = 18


def _label(row: dict[str, object]) -> str:
    niveau = row["niveau"]
    if niveau == "gemeente":
        return f"  {row['gemeente']}"
    if niveau == "arbeidsmarktregio":
        return f"{row['amr']} {row['arbeidsmarktregio']} (Totaal AMR)"
    if niveau == "onbekend":
        return "Gemeente onbekend"
    return "Nederland"


def render_vergelijking(v: Vergelijking) -> str:
    """The comparison as a Dutch text table: per cell 'nieuw (verschil)', and the transparantiegraad."""
    header = f"{'':<{NAME_WIDTH}}" + "".join(f"{h:>{CELL_WIDTH}}" for h in (*HEADERS, "Graad"))
    lines = [
        f"Vergelijking: {v.nieuw} ten opzichte van {v.vorige}",
        "Per cel: de nieuwe waarde en tussen haakjes de verandering (nieuw − vorige);"
        " de transparantiegraad in procentpunten (pp).",
        "",
        header,
    ]
    for row in v.tabel.iter_rows(named=True):
        cells = []
        for c in VALUE_COLUMNS:
            value = row[c]
            shown = "ontbreekt" if value is None else nl_int(value)
            cells.append(f"{shown} ({nl_signed(row[c + VERSCHIL_SUFFIX])})")
        graad = f"{nl_pct(row['graad'])} ({nl_pp(row['graad_verschil_pp'])})"
        lines.append(f"{_label(row):<{NAME_WIDTH}}" + "".join(f"{s:>{CELL_WIDTH}}" for s in (*cells, graad)))
    n = v.n_gewijzigd()
    lines += ["", f"{nl_int(n)} van {nl_int(v.tabel.height)} rijen gewijzigd." if n else "Geen verschillen."]
    return "\n".join(lines)


def write_vergelijking_excel(v: Vergelijking, output: Path) -> None:
    """One sheet, the comparison columns; header frozen, changes with a sign. Atomic (engine.output)."""
    with atomic_path(output, option="--output") as temporary:
        _write_excel(v, temporary)


def _write_excel(v: Vergelijking, output: Path) -> None:
    v.tabel.write_excel(
        output,
        worksheet="Vergelijking",
        dtype_formats={pl.Int64: "#,##0"},
        column_formats={
            **{c + VERSCHIL_SUFFIX: "+#,##0;-#,##0;0" for c in VALUE_COLUMNS},
            "graad": "0.0%",
            "graad" + VORIGE_SUFFIX: "0.0%",
            "graad_verschil_pp": "+0.0;-0.0;0.0",
        },
        freeze_panes="A2",
        autofit=True,
    )
