"""The parsed UWV publication (engine.publication) and the reference CSVs it ships."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from itertools import pairwise

import polars as pl
import pytest

from engine import publication
from engine.publication import (
    DROPPED_FIGURES,
    INDELING_CSV,
    NAME_REPAIRS,
    NAME_WRAPS,
    NUMBER_REPAIRS,
    OFFICIEEL_CSV,
    PARTS,
    PUBLICATION_TXT,
    REGION_NAME_REPAIRS,
    TABLE_LABELS,
    parse_publication,
    parse_publication_with_repairs,
)

FIGURES = [*PARTS, "totaal"]

REGION_NAMES = [
    "Groningen", "Friesland", "Noord-Holland Noord", "Drenthe", "Regio Zwolle",
    "Flevoland", "Zaanstreek-Waterland", "Zuid-Kennemerland en IJmond", "Twente",
    "Groot Amsterdam", "Veluwe Stedendriehoek", "Gooi en Vechtstreek",
    "Holland Rijnland", "Midden-Utrecht", "Amersfoort", "Food Valley", "Achterhoek",
    "Zuid-Holland Centraal", "Midden-Holland", "Haaglanden", "Midden-Gelderland",
    "Rijnmond", "Rivierenland", "Gorinchem", "Rijk van Nijmegen", "Drechtsteden",
    "Noordoost-Brabant", "West-Brabant", "Zeeland", "Midden-Brabant", "Noord-Limburg",
    "Helmond-De Peel", "Zuidoost-Brabant", "Midden-Limburg", "Zuid-Limburg",
]  # fmt: skip

CANONICAL_NAMES = [
    "'s-Gravenhage", "'s-Hertogenbosch", "Súdwest-Fryslân", "Noardeast-Fryslân",
    "Nuenen, Gerwen en Nederwetten", "Bergen (NH.)", "Bergen (L.)", "IJsselstein",
    "Capelle aan den IJssel", "Krimpen aan den IJssel", "Hendrik-Ido-Ambacht",
    "Oude IJsselstreek", "Leidschendam-Voorburg", "Hardinxveld-Giessendam",
]  # fmt: skip

# Adjacent gemeenten that the publication itself prints out of alphabetical order.
KNOWN_ORDER_EXCEPTIONS = {
    (11, "Ermelo", "Epe"),
    (25, "Beuningen", "Berg en Dal"),
}

OCR_LEFTOVERS = [
    r"\|",  # "|Jsselstein"
    r"\bl[A-Zdl]",  # "lJsselstreek", "lssel", "ldo"
    r"^s ",  # "s Gravenhage"
    r"\bIj",  # "Ijmond"
    r"\d",
]


@cache
def shipped_text() -> str:
    return PUBLICATION_TXT.read_text(encoding="utf-8")


@cache
def parsed() -> tuple[pl.DataFrame, pl.DataFrame, publication.AppliedRepairs]:
    return parse_publication_with_repairs(shipped_text())


@pytest.fixture(scope="module")
def indeling() -> pl.DataFrame:
    return pl.read_csv(INDELING_CSV)


@pytest.fixture(scope="module")
def officieel() -> pl.DataFrame:
    return pl.read_csv(OFFICIEEL_CSV)


# -- the committed CSVs are the parser's output ------------------------------


def test_committed_indeling_csv_is_reproduced_by_parser() -> None:
    assert parsed()[0].write_csv() == INDELING_CSV.read_text(encoding="utf-8")


def test_committed_officieel_csv_is_reproduced_by_parser() -> None:
    assert parsed()[1].write_csv() == OFFICIEEL_CSV.read_text(encoding="utf-8")


def test_parse_publication_returns_the_same_frames() -> None:
    indeling, officieel = parse_publication(shipped_text())
    assert indeling.equals(parsed()[0])
    assert officieel.equals(parsed()[1])


def test_officieel_columns_and_empty_cells() -> None:
    lines = OFFICIEEL_CSV.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "niveau,amr,arbeidsmarktregio,gemeente,gemeente_profiel_ja,"
        "gemeente_profiel_nee,uwv_profiel_ja,uwv_profiel_nee,totaal"
    )
    assert lines[-2] == "onbekend,,,,1,0,8,9,18"
    assert lines[-1] == "nederland,,,,11994,63207,89136,26636,190973"
    assert "arbeidsmarktregio,1,Groningen,,392,3377,5460,1373,10602" in lines


# -- shape --------------------------------------------------------------------


def test_indeling_shape(indeling: pl.DataFrame) -> None:
    assert indeling.columns == ["amr", "arbeidsmarktregio", "gemeente"]
    assert indeling.height == 342
    assert indeling["gemeente"].n_unique() == 342
    assert indeling["amr"].unique().sort().to_list() == list(range(1, 36))
    # regions appear in publication order, each in one contiguous block
    assert indeling["amr"].rle().struct.field("value").to_list() == list(range(1, 36))


def test_region_names(indeling: pl.DataFrame) -> None:
    regions = indeling.select("amr", "arbeidsmarktregio").unique(maintain_order=True)
    assert regions["amr"].to_list() == list(range(1, 36))
    assert regions["arbeidsmarktregio"].to_list() == REGION_NAMES


def test_officieel_row_order(officieel: pl.DataFrame, indeling: pl.DataFrame) -> None:
    expected: list[tuple[str, int | None]] = []
    for amr, n in indeling.group_by("amr", maintain_order=True).len().iter_rows():
        expected += [("gemeente", amr)] * n + [("arbeidsmarktregio", amr)]
    expected += [("onbekend", None), ("nederland", None)]
    assert list(zip(officieel["niveau"], officieel["amr"], strict=True)) == expected


def test_officieel_gemeenten_match_indeling(officieel: pl.DataFrame, indeling: pl.DataFrame) -> None:
    gemeenten = officieel.filter(pl.col("niveau") == "gemeente").select(indeling.columns)
    assert gemeenten.equals(indeling)
    totals = officieel.filter(pl.col("niveau") == "arbeidsmarktregio")
    assert totals["gemeente"].null_count() == totals.height
    assert totals["arbeidsmarktregio"].to_list() == REGION_NAMES
    other = officieel.filter(pl.col("niveau").is_in(["onbekend", "nederland"]))
    assert other.select("amr", "arbeidsmarktregio", "gemeente").null_count().row(0) == (2, 2, 2)


# -- sums ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("niveau", "n_rows"),
    [("gemeente", 342), ("arbeidsmarktregio", 35), ("onbekend", 1), ("nederland", 1)],
)
def test_every_row_adds_up(officieel: pl.DataFrame, niveau: str, n_rows: int) -> None:
    rows = officieel.filter(pl.col("niveau") == niveau)
    assert rows.height == n_rows
    bad = rows.filter(pl.sum_horizontal(PARTS) != pl.col("totaal"))
    assert bad.is_empty(), bad
    assert rows.select(pl.min_horizontal(FIGURES).min()).item() >= 0


def test_gemeenten_add_up_to_their_region(officieel: pl.DataFrame) -> None:
    sums = (
        officieel.filter(pl.col("niveau") == "gemeente").group_by("amr", maintain_order=True).agg(pl.col(FIGURES).sum())
    )
    totals = officieel.filter(pl.col("niveau") == "arbeidsmarktregio").select("amr", *FIGURES)
    assert sums.height == totals.height == 35
    assert sums.equals(totals)


def test_onbekend_is_nederland_minus_regions(officieel: pl.DataFrame) -> None:
    def figures(niveau: str) -> pl.DataFrame:
        return officieel.filter(pl.col("niveau") == niveau).select(FIGURES)

    regions = figures("arbeidsmarktregio").sum()
    remainder = [n - r for n, r in zip(figures("nederland").row(0), regions.row(0), strict=True)]
    assert remainder == [1, 0, 8, 9, 18]
    assert list(figures("onbekend").row(0)) == remainder


# -- names --------------------------------------------------------------------


@pytest.mark.parametrize("name", CANONICAL_NAMES)
def test_canonical_gemeente_name_present(indeling: pl.DataFrame, name: str) -> None:
    assert name in indeling["gemeente"].to_list()


@pytest.mark.parametrize("pattern", OCR_LEFTOVERS)
def test_no_ocr_leftovers_in_names(indeling: pl.DataFrame, pattern: str) -> None:
    names = set(indeling["gemeente"]) | set(indeling["arbeidsmarktregio"])
    assert [n for n in names if re.search(pattern, n)] == []


def _sort_key(name: str) -> str:
    name = name.removeprefix("'s-")
    stripped = unicodedata.normalize("NFKD", name)
    return "".join(c for c in stripped if not unicodedata.combining(c)).casefold()


def test_gemeenten_alphabetical_within_region(indeling: pl.DataFrame) -> None:
    out_of_order = set()
    for (amr,), block in indeling.group_by(["amr"], maintain_order=True):
        names = block["gemeente"].to_list()
        for a, b in pairwise(names):
            if _sort_key(a) >= _sort_key(b):
                out_of_order.add((amr, a, b))
    assert out_of_order == KNOWN_ORDER_EXCEPTIONS


def test_sort_key_ignores_prefix_case_and_diacritics() -> None:
    assert _sort_key("'s-Gravenhage") == "gravenhage"
    assert _sort_key("Súdwest-Fryslân") == "sudwest-fryslan"
    assert _sort_key("Delft") < _sort_key("'s-Gravenhage") < _sort_key("Midden-Delfland")


# -- repairs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "table"),
    [
        ("region_names", REGION_NAME_REPAIRS),
        ("table_labels", TABLE_LABELS),
        ("name_wraps", NAME_WRAPS),
        ("names", NAME_REPAIRS),
        ("numbers", NUMBER_REPAIRS),
        ("dropped_figures", DROPPED_FIGURES),
    ],
)
def test_every_repair_is_used(attribute: str, table: dict[object, object]) -> None:
    assert table, "an empty repair table should be deleted"
    assert getattr(parsed()[2], attribute) == set(table)


def test_dropped_figure_is_derived() -> None:
    officieel = parsed()[1]
    row = officieel.filter(pl.col("gemeente") == "Voorne aan Zee").select(FIGURES)
    assert row.row(0) == (6, 191, 346, 64, 607)


# -- failures -----------------------------------------------------------------


def _replace_once(old: str, new: str) -> str:
    text = shipped_text()
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "named_line", "reason"),
    [
        pytest.param(
            "Assen 90 348 577 160 1175", "Assen 91 348 577 160 1175",
            "Assen 91 348 577 160 1175", "add up to", id="row-does-not-add-up",
        ),
        pytest.param(
            "Oldambt 8 245 311 126 690", "Oldambt 245 311 690",
            "Oldambt 245 311 690", "expected 5 figures, found 3", id="three-figures",
        ),
        pytest.param(
            "Oldambt 8 245 311 126 690", "Oldambt 245 311 126 690",
            "Oldambt 245 311 126 690", "expected 5 figures, found 4", id="four-figures",
        ),
        pytest.param(
            "Pekela 2 82 114 35 233", "Pekela 2 82 114 35 2,33",
            "Pekela 2 82 114 35 2,33", "malformed figure", id="bad-figure",
        ),
        pytest.param(
            "Veendam 5 194 307 94 600", "Veendam vijf",
            "Veendam vijf", "not a data row", id="not-a-row",
        ),
        pytest.param(
            "Oldambt 8 245 311 126 690", "Oldambt 9 244 311 126 690",
            "Totaal AMR 392 3.377 5.460 1.373 10.602", "gemeente rows of region 1",
            id="columns-do-not-add-up",
        ),
        pytest.param(
            "2 Friesland Achtkarspelen", "3 Friesland Achtkarspelen",
            "3 Friesland Achtkarspelen 9 130 224 50 413", "expected region number 2",
            id="wrong-region-number",
        ),
        pytest.param(
            "Leidschendam- 8 337 287 47 679", "Leidschen- 8 337 287 47 679",
            "Leidschen- 8 337 287 47 679", "NAME_WRAPS", id="unknown-wrap",
        ),
        pytest.param(
            "Totaal AMR 57 1.298 1411 303 3.069", "",
            "Niet alle mensen uit het doelgroepregister zijn ingeschreven in Sonar. En de "
            "mensen uit het doelgroepregister die wel geregistreerd zijn",
            "not a data row", id="missing-total",
        ),
        pytest.param(
            "tweede kwartaal 2025 Friesland\n\nTransparantie op de arbeidsmarkt\n",
            "tweede kwartaal 2025 Friesland\n\nTransparantie op de arbeidsmarkt\n"
            "Nederland 1 2 3 4 10\n",
            "Nederland 1 2 3 4 10", "data row outside a region table",
            id="data-row-in-prose",
        ),
        pytest.param(
            "tweede kwartaal 2025 Friesland\n", "tweede kwartaal 2025 Friesland\n1 2 3 4 10\n",
            "1 2 3 4 10", "data row outside a region table", id="data-row-in-header",
        ),
    ],
)  # fmt: skip
def test_malformed_line_raises_naming_it(old: str, new: str, named_line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as excinfo:
        parse_publication(_replace_once(old, new))
    assert repr(named_line) in str(excinfo.value)


@pytest.mark.parametrize(
    ("table", "named_line"),
    [
        ("DROPPED_FIGURES", "Voorne aan Zee 191 346 64 607"),
        ("NUMBER_REPAIRS", "Assen 90 348 577 160 1175"),
        ("NAME_WRAPS", "Leidschendam- 8 337 287 47 679"),
        ("TABLE_LABELS", "7 Zaanstreek- Edam-Volendam 25 73 107 41 246"),
        ("REGION_NAME_REPAIRS", "3 Noord-Holland Noord Alkmaar 106 558 869 187 1.720"),
    ],
)
def test_without_its_repair_the_line_fails(monkeypatch: pytest.MonkeyPatch, table: str, named_line: str) -> None:
    monkeypatch.setattr(publication, table, {})
    with pytest.raises(ValueError) as excinfo:
        parse_publication(shipped_text())
    assert repr(named_line) in str(excinfo.value)
