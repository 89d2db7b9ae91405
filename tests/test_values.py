"""Every entry of engine/reference/invoerwaarden.toml, tested on its own, and the README's copy of it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from engine import values
from engine.errors import SchemaError

TABLE = values.input_values()
README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _one(expr: pl.Expr, value: object, dtype: pl.DataType | None = None) -> object:
    return pl.DataFrame({"v": [value]}, schema={"v": dtype or pl.String()}).select(expr).item()


def _readme_list(name: str) -> list[str]:
    match = re.search(rf"<!-- values:{name} -->(.*?)<!-- /values -->", README)
    assert match, name
    return re.findall(r"`([^`]*)`", match.group(1))


def test_readme_lists_the_table() -> None:
    assert _readme_list("null") == list(TABLE.null_woorden)
    assert _readme_list("datum") == [f.naam for f in TABLE.datumformaat]
    assert _readme_list("geen_einde") == [d.isoformat() for d in TABLE.geen_einde.datums]
    assert _readme_list("waar") == list(TABLE.boolean.waar)
    assert _readme_list("onwaar") == list(TABLE.boolean.onwaar)


@pytest.mark.parametrize("word", TABLE.null_woorden)
def test_each_null_word_is_no_value_in_any_case_and_padding(word: str) -> None:
    for written in (word, word.lower(), word.upper(), f"  {word}\t", f"\u200b{word}"):
        assert _one(values.is_blank(pl.col("v")), written) is True, written
        assert _one(values.cleaned(pl.col("v")), written) is None
        assert _one(values.registered_text_list(pl.col("v")), f"['{written}']") is False


def test_a_null_word_inside_a_word_is_a_value() -> None:
    for written in ("NULLA", "nava", "-5", "(leeg) niet"):
        assert _one(values.is_blank(pl.col("v")), written) is False, written


@pytest.mark.parametrize("invisible", ["\u200b", "\u2060", "\ufeff", "\u00ad", " \t\u200b "])
def test_invisible_only_is_blank(invisible: str) -> None:
    assert _one(values.is_blank(pl.col("v")), invisible) is True


@pytest.mark.parametrize("fmt", TABLE.datumformaat, ids=lambda f: f.naam)
def test_each_date_format_reads_its_example_as_31_march_2024(fmt: values.DateFormat) -> None:
    example = fmt.voorbeeld.split(",")[0].split(" (")[0].strip()
    assert _one(values.parse_date(pl.col("v"), fmt), example) == date(2024, 3, 31)
    assert _one(values.parse_date(pl.col("v"), fmt), example + " 00:00:00") == date(2024, 3, 31)
    assert _one(values.parse_date(pl.col("v"), fmt), "ongeldig") is None


@pytest.mark.parametrize("day", TABLE.geen_einde.datums, ids=str)
def test_each_no_end_date_is_null_in_einde_only(day: date) -> None:
    assert _one(values.no_end("indicering_einde", pl.col("v")), day, pl.Date()) is None
    assert _one(values.no_end("indicering_begin", pl.col("v")), day, pl.Date()) == day


def test_range_bounds() -> None:
    inside = [date(1900, 1, 1), date(2100, 12, 31)]
    outside = [date(1899, 12, 31), date(2101, 1, 1)]
    for day in inside:
        assert _one(values.out_of_range(pl.col("v")), day, pl.Date()) is False
    for day in outside:
        assert _one(values.out_of_range(pl.col("v")), day, pl.Date()) is True


@pytest.mark.parametrize("word", TABLE.boolean.waar)
def test_each_true_word(word: str) -> None:
    for written in (word, word.upper(), f" {word} "):
        assert _one(values.as_bool(pl.col("v"), pl.String()), written) is True


@pytest.mark.parametrize("word", TABLE.boolean.onwaar)
def test_each_false_word(word: str) -> None:
    for written in (word, word.upper(), f" {word} "):
        assert _one(values.as_bool(pl.col("v"), pl.String()), written) is False


def test_numeric_booleans_and_whole_floats_as_text() -> None:
    assert _one(values.as_bool(pl.col("v"), pl.Float64()), 1.0, pl.Float64()) is True
    assert _one(values.as_bool(pl.col("v"), pl.Float64()), 0.0, pl.Float64()) is False
    assert _one(values.as_bool(pl.col("v"), pl.Float64()), 0.5, pl.Float64()) is None
    assert _one(values.as_text(pl.col("v"), pl.Float64()), 363.0, pl.Float64()) == "363"
    assert _one(values.as_text(pl.col("v"), pl.Float64()), 3.5, pl.Float64()) == "3.5"


@pytest.mark.parametrize(
    ("text", "registered"),
    [
        ("dieren;groen", True),
        (" ; ;", False),
        ('["dieren", "groen"]', True),
        ("[]", False),
        ('[""]', False),
        ("['', '  ']", False),
        ("[null]", False),
        ("[None, 'x']", True),
        ("['auto''s']", True),
        ("NULL", False),
        ("x", True),
    ],
)
def test_list_text_forms(text: str, registered: bool) -> None:
    assert _one(values.registered_text_list(pl.col("v")), text) is registered


def test_date_format_choice_per_column() -> None:
    choose = values.choose_date_format
    assert choose("d", pl.Series(["31-03-2024", "1-4-2024"]), "f").format == "dd-mm-jjjj"
    assert choose("d", pl.Series(["31/03/2024", "01/04/2024"]), "f").format == "dd/mm/jjjj"
    assert choose("d", pl.Series(["03/31/2024", "04/01/2024"]), "f").format == "mm/dd/jjjj"
    assert choose("d", pl.Series(["2024-03-31 00:00:00", "NULL", None]), "f").format == "jjjj-mm-dd"
    # the same day and month: both readings give the same date, so it is not ambiguous
    assert choose("d", pl.Series(["01/01/2024", "02/02/2024"]), "f").format in ("dd/mm/jjjj", "mm/dd/jjjj")
    with pytest.raises(SchemaError, match="meer dan één formaat"):
        choose("d", pl.Series(["03/04/2024"]), "f")
    with pytest.raises(SchemaError, match="mengt datumformaten"):
        choose("d", pl.Series(["2024-03-31", "31-03-2024"]), "f")
    assert choose("d", pl.Series(["2024-03-31", "onzin"]), "f").format == "jjjj-mm-dd"


def test_unknown_date_format_names_the_known_ones() -> None:
    with pytest.raises(SchemaError, match="bekend zijn: jjjj-mm-dd"):
        TABLE.date_format("dd-mmm-jj")


def test_excel_date_cells_beside_text_dates_are_one_reading() -> None:
    """Excel's date cells read as ISO midnight moments; beside them, dates typed as text in one
    other format are no mix. Plain ISO dates beside another format still are."""
    choice = values.choose_date_format("d", pl.Series(["2024-03-31 00:00:00", "31-03-2024", "1-4-2024"]), "f")
    assert choice.format == "jjjj-mm-dd+dd-mm-jjjj"
    both = TABLE.date_formats(choice.format)
    parsed = pl.DataFrame({"v": ["2024-03-31 00:00:00", "01-04-2024"]}).select(values.parse_date(pl.col("v"), both))
    assert parsed.to_series().to_list() == [date(2024, 3, 31), date(2024, 4, 1)]
    with pytest.raises(SchemaError, match="mengt datumformaten"):
        values.choose_date_format("d", pl.Series(["2024-03-31", "31-03-2024"]), "f")
