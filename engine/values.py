"""How the values of an export are read: null words, dates, booleans, lists and blanks.

The formats are data, in ``engine/reference/invoerwaarden.toml`` (one table, listed in the
README's "Your export"). This module turns that table into Polars expressions and makes the
one decision that needs the data itself: which date format a text column is written in. That
is decided per column, from the column's values (:func:`choose_date_format`), never per row.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache

import polars as pl
from pydantic import BaseModel, ConfigDict

from engine.errors import SchemaError
from engine.paths import REFERENCE_DIR

VALUES_FILE = REFERENCE_DIR / "invoerwaarden.toml"

#: Excel's day zero: serial 1 is 1900-01-01 in Excel's (leap-year-bug) calendar, so from
#: 1900-03-01 on, serial n is this date plus n days.
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_SERIAL = "excel-serieel"
ISO = "jjjj-mm-dd"
#: Joins ISO and one other format in a column that holds both (Excel: date cells read as ISO,
#: beside dates typed as text). ISO cannot be mistaken for any other format.
MIXED_WITH_ISO = "+"
#: How a date cell of Excel reads when the sheet is read as text.
EXCEL_CELL = r"^\s*\d{4}-\d{2}-\d{2} 00:00:00\s*$"
#: Dates are Dutch dates: a moment stored with a time zone is read in this one.
LOCAL_TIME_ZONE = "Europe/Amsterdam"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateFormat(_Strict):
    naam: str
    patroon: str
    strptime: str
    voorbeeld: str


class Tijddeel(_Strict):
    patroon: str


class GeenEinde(_Strict):
    kolommen: tuple[str, ...]
    datums: tuple[date, ...]
    bron: str


class Bereik(_Strict):
    van: date
    tot_en_met: date


class Booleans(_Strict):
    waar: tuple[str, ...]
    onwaar: tuple[str, ...]


class ListForm(_Strict):
    naam: str
    voorbeeld: str


class Lists(_Strict):
    scheidingstekens: tuple[str, ...]
    vormen: tuple[ListForm, ...]


class InputValues(_Strict):
    """The table of accepted value formats (engine/reference/invoerwaarden.toml)."""

    null_woorden: tuple[str, ...]
    datumformaat: tuple[DateFormat, ...]
    tijddeel: Tijddeel
    geen_einde: GeenEinde
    bereik: Bereik
    boolean: Booleans
    lijst: Lists

    def date_formats(self, naam: str) -> tuple[DateFormat, ...]:
        """A format by name; ``jjjj-mm-dd+dd-mm-jjjj`` is ISO beside one other format (see
        :func:`choose_date_format`)."""
        return tuple(self.date_format(part) for part in naam.split(MIXED_WITH_ISO))

    def date_format(self, naam: str) -> DateFormat:
        for fmt in self.datumformaat:
            if fmt.naam == naam:
                return fmt
        known = ", ".join(f.naam for f in self.datumformaat)
        raise SchemaError(f"onbekend datumformaat '{naam}'; bekend zijn: {known}")


@cache
def input_values() -> InputValues:
    with VALUES_FILE.open("rb") as handle:
        return InputValues.model_validate(tomllib.load(handle))


# --- blanks and null words ------------------------------------------------------------------------

#: Characters that show nothing: whitespace and Unicode format characters (zero-width space
#: U+200B, word joiner U+2060, BOM U+FEFF, soft hyphen U+00AD, ...).
INVISIBLE = r"\s\p{Cf}"


def _null_word_regex() -> str:
    words = "|".join(re.escape(w) for w in input_values().null_woorden)
    return rf"^[{INVISIBLE}]*(?i:{words})[{INVISIBLE}]*$"


def _blank_regex() -> str:
    # One anchored regex for "invisible only, or a null word": half the cost of two tests.
    words = "|".join(re.escape(w) for w in input_values().null_woorden)
    return rf"^[{INVISIBLE}]*(?:(?i:{words})[{INVISIBLE}]*)?$"


def visible(text: pl.Expr) -> pl.Expr:
    """True where the text shows at least one character (null stays null)."""
    return text.str.contains(rf"[^{INVISIBLE}]")


def is_null_word(text: pl.Expr) -> pl.Expr:
    return text.str.contains(_null_word_regex())


def is_blank(text: pl.Expr) -> pl.Expr:
    """Null, empty, only invisible characters, or a null word: no value."""
    return text.str.contains(_blank_regex()).fill_null(True)


def cleaned(text: pl.Expr) -> pl.Expr:
    """Invisible characters removed at both ends; null where the text is blank or a null word."""
    stripped = text.str.strip_chars().str.replace_all(rf"^[{INVISIBLE}]+|[{INVISIBLE}]+$", "")
    return pl.when(~is_blank(text)).then(stripped)


def as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Any column as text. A whole float (SPSS and Stata store codes as 363.0) reads as 363."""
    if dtype == pl.String:
        return column
    if dtype.is_float():
        whole = column.is_finite() & (column == column.floor()) & (column.abs() < 2**53)
        return pl.when(whole).then(column.cast(pl.Int64).cast(pl.String)).otherwise(column.cast(pl.String))
    return column.cast(pl.String)


# --- booleans -------------------------------------------------------------------------------------


def as_bool(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """True, false, or null: null for no value and for a value that is no boolean (the contract
    tells the two apart by the raw value)."""
    if dtype == pl.Boolean:
        return column
    if dtype == pl.Null:
        return column.cast(pl.Boolean)
    if dtype.is_numeric():
        return pl.when(column == 1).then(True).when(column == 0).then(False)
    words = input_values().boolean
    folded = column.str.strip_chars().str.to_lowercase()
    return pl.when(folded.is_in(words.waar)).then(True).when(folded.is_in(words.onwaar)).then(False)


# --- lists ----------------------------------------------------------------------------------------


def _item_pattern() -> str:
    separators = "".join(re.escape(s) for s in input_values().lijst.scheidingstekens)
    return rf"[^{separators}\[\]{{}}\"'{INVISIBLE}][^{separators}\[\]{{}}\"']*"


def registered_text_list(text: pl.Expr) -> pl.Expr:
    """A list stored as text (``a;b``, JSON or Python list text) is registered when one of its
    items is neither blank nor a null word. ``[]``, ``['']``, ``[null]``, ``NULL`` are not."""
    items = text.str.extract_all(_item_pattern())
    real = items.list.eval(~is_blank(pl.element()))
    return real.list.any().fill_null(False)


def registered_items(items: pl.Expr) -> pl.Expr:
    """A list column is registered when one item is neither null, blank nor a null word."""
    return items.list.eval(~is_blank(pl.element())).list.any().fill_null(False)


# --- dates ----------------------------------------------------------------------------------------


def without_time(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().str.replace(input_values().tijddeel.patroon, "")


def parse_date(text: pl.Expr, fmt: DateFormat | tuple[DateFormat, ...]) -> pl.Expr:
    """Text (time part dropped) in format ``fmt`` as a date; null where it does not fit. Several
    formats (ISO beside one other): the first that reads the value."""
    if isinstance(fmt, tuple):
        return pl.coalesce(parse_date(text, one) for one in fmt) if len(fmt) > 1 else parse_date(text, fmt[0])
    bare = without_time(text)
    fits = bare.str.contains(fmt.patroon)
    if fmt.naam == EXCEL_SERIAL:
        days = bare.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
        return pl.when(fits).then(pl.lit(EXCEL_EPOCH) + pl.duration(days=days))
    return pl.when(fits).then(bare.str.to_date(fmt.strptime, strict=False))


def no_end(column: str, dates: pl.Expr) -> pl.Expr:
    """A "no end" sentinel date read as null, in the columns that take one."""
    sentinels = input_values().geen_einde
    if column not in sentinels.kolommen:
        return dates
    return pl.when(dates.is_in(list(sentinels.datums))).then(pl.lit(None, dtype=pl.Date)).otherwise(dates)


def is_sentinel(column: str, dates: pl.Expr) -> pl.Expr:
    sentinels = input_values().geen_einde
    if column not in sentinels.kolommen:
        return pl.lit(False)
    return dates.is_in(list(sentinels.datums)).fill_null(False)


def out_of_range(dates: pl.Expr) -> pl.Expr:
    bereik = input_values().bereik
    return ((dates < bereik.van) | (dates > bereik.tot_en_met)).fill_null(False)


@dataclass(frozen=True)
class DateChoice:
    """The format of one text date column, and how it was decided."""

    column: str
    format: str
    how: str  # "gegeven" | "gevonden" | "geen waarden"
    n_values: int  # distinct values it was decided on


def choose_date_format(column: str, values: pl.Series, source: str, numbers: bool = False) -> DateChoice:
    """The one format that reads every distinct value of a text date column.

    ``values`` are the column's distinct raw values (or a sample's). Blank values and null
    words do not count. When no format reads them all but each value fits some format, the
    column mixes formats: an error. When several formats read them all and give different
    dates for some value (``03-04-2024``), the column is ambiguous: an error. Values that no
    format reads are left to the contract check ``<kolom>_geen_datum``, which names them.
    """
    table = input_values()
    frame = pl.DataFrame({"v": values.cast(pl.String)}).filter(~is_blank(pl.col("v")))
    if frame.is_empty():
        return DateChoice(column, table.datumformaat[0].naam, "geen waarden", 0)
    if numbers:
        # A column of numbers is a date only as jjjjmmdd: days since 1970 (Arrow), since 1960
        # (SAS) or since 1899 (Excel) all look alike, so they are never guessed.
        fmt = table.date_format("jjjjmmdd")
        unread = frame.filter(parse_date(pl.col("v"), fmt).is_null())
        if unread.height:
            raise SchemaError(
                f"{source}: kolom '{column}' bevat getallen die geen datum jjjjmmdd zijn (bijvoorbeeld "
                f"{unread['v'][0]}). Dagen sinds een begindatum worden niet geraden: zet de kolom om naar "
                f"een datum, of geef het formaat op, bijvoorbeeld --datumformaat {column}=excel-serieel."
            )
        return DateChoice(column, fmt.naam, "gevonden", frame.height)
    parsed = frame.select(*(parse_date(pl.col("v"), f).alias(f.naam) for f in table.datumformaat))
    fits = {f.naam: parsed[f.naam].null_count() == 0 for f in table.datumformaat}
    complete = [name for name, ok in fits.items() if ok]
    if len(complete) == 1:
        return DateChoice(column, complete[0], "gevonden", frame.height)
    if len(complete) > 1:
        first = parsed[complete[0]]
        differing = [n for n in complete[1:] if not parsed[n].equals(first)]
        if not differing:
            return DateChoice(column, complete[0], "gevonden", frame.height)
        rivals = [complete[0], *differing]
        example = frame.filter(parsed[complete[0]] != parsed[differing[0]])["v"][0]
        raise SchemaError(
            f"{source}: kolom '{column}': de datums passen in meer dan één formaat ({', '.join(rivals)}), "
            f"bijvoorbeeld '{example}'. Geef het formaat op met --datumformaat {column}={rivals[0]} "
            f"(of een van: {', '.join(rivals[1:])})."
        )
    readable = parsed.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
    # Excel's date cells (read as 2024-03-31 00:00:00, a midnight ISO moment) beside dates typed
    # as text in exactly one other format: one reading per value, so not a mix. Plain ISO dates
    # beside another format are a mix (an error), as any two formats are.
    cells = frame["v"].str.contains(EXCEL_CELL)
    rest = frame.filter(~cells)
    if readable.all() and cells.any() and rest.height:
        others = [
            name
            for name in fits
            if rest.select(parse_date(pl.col("v"), table.date_format(name)).is_null().sum()).item() == 0
        ]
        if len(others) == 1 and others[0] != ISO:
            return DateChoice(
                column, ISO + MIXED_WITH_ISO + others[0], "gevonden (Excel-datumcellen en tekst)", frame.height
            )
    if readable.all():
        used = {
            name: frame.filter(
                parsed[name].is_not_null() & pl.all_horizontal(parsed[o].is_null() for o in fits if o != name)
            )["v"]
            .head(1)
            .to_list()
            for name in fits
        }
        shown = "; ".join(f"{n} ('{v[0]}')" for n, v in used.items() if v)
        raise SchemaError(
            f"{source}: kolom '{column}' mengt datumformaten: {shown}. Een kolom heeft één formaat; "
            f"zet de export om, of kies er een met --datumformaat {column}=FORMAAT (ISO naast één ander "
            f"formaat: --datumformaat {column}=jjjj-mm-dd+FORMAAT)."
        )
    # Some values fit no format at all: take the format that reads the most; the contract
    # rejects the rest as <kolom>_geen_datum, with their values.
    best = max(table.datumformaat, key=lambda f: parsed[f.naam].is_not_null().sum())
    return DateChoice(column, best.naam, "gevonden", frame.height)


def as_date(
    column: str,
    raw: pl.Expr,
    dtype: pl.DataType,
    fmt: DateFormat | tuple[DateFormat, ...] | None,
    keep_sentinels: bool = False,
) -> pl.Expr:
    """A date column as dates, "no end" sentinels as null (unless ``keep_sentinels``). Text is
    read in the column's one format; a value that does not fit it becomes null (the contract
    check then names it)."""
    if dtype == pl.Date:
        dates = raw
    elif isinstance(dtype, pl.Datetime):
        # A moment with a time zone (often UTC) is a date in the Netherlands: 2024-03-30T23:00Z
        # is 31 March in Amsterdam.
        local = raw.dt.convert_time_zone(LOCAL_TIME_ZONE) if dtype.time_zone else raw
        dates = local.dt.date()
    elif dtype == pl.Null:
        dates = raw.cast(pl.Date)
    else:
        text = as_text(raw, dtype)
        chosen = fmt or input_values().datumformaat[0]
        dates = parse_date(text, chosen)
    return dates if keep_sentinels else no_end(column, dates)
