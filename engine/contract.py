"""The input contract: which columns a client record has, how each is typed and normalised.

Everything here is declared once and read by the pipeline, ``prepare``, the docs
and the tests. The output of :func:`normalise` is the *normalised record*: the
vocabulary the counting rules in ``rules/`` are written in.

Normalised record (one row per client)::

    client_id         str    as given
    gemeente          enum   canonical CBS name, null = unknown (see engine.indeling)
    amr               int    region number 1..35, null when gemeente is null
    status            str    trimmed, case-folded
    indicering        str    trimmed, case-folded
    indicering_begin  date
    indicering_einde  date
    doelgroepregister bool   null stays null: a rule on it then fails
    banenafspraak     bool
    beschut_wsw       bool
    opleiding ... beroepssectoren   bool   the component is *registered*
    taaksoorten       u8     how many of the 20 taaksoortvragen are registered
    peildatum         date   the reference date, null when counting "open now"

Each row also gets ``afgewezen`` (the first contract check it breaks, or null)
and ``waarde`` (the offending raw value, as text).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

import polars as pl

from engine import progress, values
from engine.errors import SchemaError
from engine.indeling import Indeling

CLIENT_ID = "client_id"
TEXT_COLUMNS = ("gemeente", "status", "indicering")
DATE_COLUMNS = ("indicering_begin", "indicering_einde")
BOOL_COLUMNS = ("doelgroepregister", "banenafspraak", "beschut_wsw")
LIST_COLUMNS = ("opleiding", "vaardigheden", "competenties", "affiniteiten", "beroepssectoren")
TAAKSOORT_COLUMNS = tuple(f"taaksoort_{i:02d}" for i in range(1, 21))
REQUIRED_COLUMNS = (
    CLIENT_ID,
    *TEXT_COLUMNS,
    *DATE_COLUMNS,
    *BOOL_COLUMNS,
    *LIST_COLUMNS,
    *TAAKSOORT_COLUMNS,
)

#: Normalised columns only the profile reads: on a raw file engine.pipeline computes them
#: rules-first, for the rows that pass the counting rules (see :func:`profile_exprs`).
PROFILE_COLUMNS = (*LIST_COLUMNS, "taaksoorten")

#: In CSV a list component is one string, its values separated by this character.
CSV_LIST_SEPARATOR = ";"

#: The words read as a boolean (engine/reference/invoerwaarden.toml).
TRUE_WORDS = values.input_values().boolean.waar
FALSE_WORDS = values.input_values().boolean.onwaar

#: Raw copies of the input are kept under this prefix, for the quarantine file
#: and for reporting offending values; projection pushdown drops them when unused.
RAW_PREFIX = "ruw__"

#: Set by normalise() on every occurrence of a client_id that occurs more than once.
DUPLICATE_FLAG = "_client_id_dubbel"
#: The check every occurrence of such a client_id fails.
DUPLICATE_CHECK = "client_id_dubbel"
#: The check a blank client_id fails (engine.pipeline.prepass tells whether any row can).
BLANK_ID_CHECK = "client_id_leeg"

#: Bumped whenever the normalised record or the checks change meaning; prepared files carry it.
CONTRACT_VERSION = "2025.2"

#: Columns of the normalised record that the counting rules may refer to.
VOCABULARY: dict[str, pl.DataType] = {
    CLIENT_ID: pl.String(),
    "gemeente": pl.String(),
    "amr": pl.Int32(),
    "status": pl.String(),
    "indicering": pl.String(),
    "indicering_begin": pl.Date(),
    "indicering_einde": pl.Date(),
    "doelgroepregister": pl.Boolean(),
    "banenafspraak": pl.Boolean(),
    "beschut_wsw": pl.Boolean(),
    **{c: pl.Boolean() for c in LIST_COLUMNS},
    "taaksoorten": pl.UInt8(),
    "peildatum": pl.Date(),
}


class Kind(Enum):
    TEXT = "text"
    DATE = "date"
    BOOL = "bool"
    LIST = "list"


def kind_of(column: str) -> Kind:
    if column in DATE_COLUMNS:
        return Kind.DATE
    if column in BOOL_COLUMNS:
        return Kind.BOOL
    if column in LIST_COLUMNS:
        return Kind.LIST
    return Kind.TEXT


def check_schema(schema: pl.Schema) -> None:
    """Fail early, before any row is read, on a missing or unusable column."""
    missing = [c for c in REQUIRED_COLUMNS if c not in schema]
    if missing:
        raise SchemaError(
            f"ontbrekende kolom(men): {', '.join(missing)}\n"
            f"  het bestand heeft: {', '.join(schema.names()) or '(geen kolommen)'}\n"
            "  zie transparantie inspect --help"
        )
    for column in REQUIRED_COLUMNS:
        dtype = schema[column]
        if not _usable(kind_of(column), dtype):
            raise SchemaError(
                f"kolom '{column}' heeft type {dtype}, dat geen {KIND_WORDS[kind_of(column)]} kan bevatten; "
                "zie transparantie inspect --help"
            )


KIND_WORDS = {Kind.TEXT: "tekst", Kind.DATE: "datum", Kind.BOOL: "ja/nee-waarde", Kind.LIST: "lijst"}


def _usable(kind: Kind, dtype: pl.DataType) -> bool:
    if dtype == pl.Null or dtype == pl.String:
        return True
    if kind is Kind.TEXT:
        return dtype.is_numeric() or dtype in (pl.Categorical, pl.Enum, pl.Boolean)
    if kind is Kind.DATE:
        return dtype in (pl.Date, pl.Datetime) or dtype.is_integer()
    if kind is Kind.BOOL:
        return dtype == pl.Boolean or dtype.is_numeric()
    return isinstance(dtype, pl.List) and (dtype.inner in (pl.String, pl.Categorical, pl.Null))


# --- normalising one column --------------------------------------------------------------------


def _text(column: str, dtype: pl.DataType) -> pl.Expr:
    return values.as_text(pl.col(column), dtype)


def client_id_text(dtype: pl.DataType) -> pl.Expr:
    """The client_id as text without surrounding whitespace: a fixed-width export pads ids,
    and ``K1`` and ``K1  `` are one client (so the duplicate check sees them as one)."""
    return _text(CLIENT_ID, dtype).str.strip_chars()


def per_distinct(
    values: pl.Expr, transform: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType, as_is: pl.Enum | None = None
) -> pl.Expr:
    """Apply ``transform`` to each distinct value of a batch instead of to every row.

    Gemeente takes a few hundred distinct values over millions of rows; normalising those
    once per streamed batch and mapping back is 4-5x faster than normalising every row
    (measured on 5M generated rows). Vectorised per batch: no Python loop over records.

    ``as_is``: an Enum whose categories ``transform`` maps to themselves. A value spelled
    exactly as one of them is cast (one look-up, no hashing of the batch's distinct values)
    and only the other values are transformed; a batch with none left is done right there.
    For gemeente, a raw count of 10M generated rows took 6.1 -> 5.7 s (medians of 6); on a
    messy file (60% canonical spellings) no slower.
    """

    def apply(batch: pl.Series) -> pl.Series:
        if as_is is not None:
            direct = batch.cast(as_is, strict=False).cast(dtype)
            rest = direct.is_null() & batch.is_not_null()
            if not rest.any():
                return direct
            distinct = batch.filter(rest).unique()
            mapped = pl.select(transform(pl.lit(distinct))).to_series()
            return direct.zip_with(~rest, batch.replace_strict(distinct, mapped, default=None, return_dtype=dtype))
        distinct = batch.unique()
        mapped = pl.select(transform(pl.lit(distinct))).to_series()
        return batch.replace_strict(distinct, mapped, return_dtype=dtype)

    return values.map_batches(apply, return_dtype=dtype, is_elementwise=True)


def _canonical_as_is(indeling: Indeling) -> pl.Enum | None:
    """The gemeente Enum when matching maps every canonical name to itself (it does, unless an
    indeling were built that breaks it: then no value is taken as it is)."""
    names = pl.Series(indeling.gemeenten, dtype=pl.String)
    matched = pl.select(indeling.match(pl.lit(names))).to_series().cast(pl.String)
    return indeling.gemeente_dtype if matched.equals(names, check_names=False) else None


def fold(text: pl.Expr) -> pl.Expr:
    """Trimmed (invisible characters too), Unicode-normalised (NFKC) and case-folded as Python's
    ``str.casefold`` does (``ß`` -> ``ss``, ``ſ`` -> ``s``); null for a blank value or a null word.
    Evaluated once per distinct value of a batch: status and indicering take few."""

    def casefold(batch: pl.Series) -> pl.Series:
        return pl.Series([None if v is None else v.casefold() for v in batch.to_list()], dtype=pl.String)

    normalised = values.cleaned(text).str.normalize("NFKC")
    return normalised.map_batches(casefold, return_dtype=pl.String, is_elementwise=True)


@functools.cache
def already_folded(candidates: tuple[str, ...]) -> tuple[str, ...]:
    """The candidates that :func:`fold` leaves exactly as they are (checked on the few
    candidates themselves, no record is read): only those may skip folding."""
    values = pl.Series(candidates, dtype=pl.String)
    folded_ = pl.select(fold(pl.lit(values))).to_series()
    return tuple(v for v, f in zip(candidates, folded_.to_list(), strict=True) if v == f)


def folded(column: str, dtype: pl.DataType, as_is: Sequence[str] = ()) -> pl.Expr:
    """Trimmed and case-folded (:func:`fold`), the form in which status and indicering are compared.

    ``as_is``: values the rules in use name (engine.rules.RuleSet.folded_values); a value
    among them that folding would not change is kept as it is (one cheap look-up); every other
    value is folded once per distinct value of its batch (:func:`per_distinct`).
    """
    text = _text(column, dtype)
    exact = already_folded(tuple(sorted(set(as_is))))
    if not exact:
        return per_distinct(text, fold, pl.String())
    is_exact = text.is_in(exact)
    rest = per_distinct(pl.when(is_exact).then(pl.lit(None, dtype=pl.String)).otherwise(text), fold, pl.String())
    return pl.when(is_exact).then(text).otherwise(rest)


def as_date(column: str, dtype: pl.DataType, fmt: str | None = None) -> pl.Expr:
    chosen = values.input_values().date_formats(fmt) if fmt else None
    return values.as_date(column, pl.col(column), dtype, chosen)


def as_bool(column: str, dtype: pl.DataType) -> pl.Expr:
    return values.as_bool(pl.col(column), dtype)


def registered_list(column: str, dtype: pl.DataType) -> pl.Expr:
    """A component is registered when it holds at least one value that is neither blank nor a
    null word: null, ``[]``, ``[""]``, ``["  "]``, ``[null]`` and ``NULL`` are not. As text
    (CSV, a warehouse dump) the list is ``;``-separated, JSON or Python list text."""
    if dtype == pl.Null:
        return pl.lit(False)
    raw = pl.col(column)
    if dtype == pl.String:
        return values.registered_text_list(raw)
    items = raw if dtype == pl.List(pl.String) else raw.cast(pl.List(pl.String))
    return values.registered_items(items)


def registered_taaksoort(column: str, dtype: pl.DataType) -> pl.Expr:
    """A taaksoortvraag is registered when it is neither null, blank nor a null word; any answer
    counts, 'nee' too."""
    return ~values.is_blank(_text(column, dtype))


def as_text_value(column: str, dtype: pl.DataType) -> pl.Expr:
    """The raw value as text, for reporting it back to the user."""
    raw = pl.col(RAW_PREFIX + column)
    if isinstance(dtype, pl.List):
        return raw.cast(pl.List(pl.String)).list.join(CSV_LIST_SEPARATOR)
    return raw.cast(pl.String)


# --- contract checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One way a row can break the contract. Evaluated in declaration order; a row is
    reported under the first check it breaks."""

    reden: str
    column: str
    description: str
    fails: Callable[[pl.Schema], pl.Expr]
    """Given the input schema: True where the row breaks this check (evaluated on the
    normalised columns plus the raw copies)."""
    shows: Callable[[pl.Schema], pl.Expr] | None = None
    """The offending value as text; by default the raw value of ``column``."""

    def waarde(self, schema: pl.Schema) -> pl.Expr:
        return self.shows(schema) if self.shows else as_text_value(self.column, schema[self.column])


def _raw(column: str) -> pl.Expr:
    return pl.col(RAW_PREFIX + column)


#: Per date column, the date as read *before* a "no end" sentinel became null: the checks
#: need it to tell a sentinel from a date that is out of range or not a date at all.
AS_READ_PREFIX = "gelezen__"


def _raw_blank(column: str, dtype: pl.DataType) -> pl.Expr:
    # Only text can be blank or a null word; a typed value is there or null.
    if dtype == pl.String:
        return values.is_blank(_raw(column))
    return _raw(column).is_null()


def _not_a_date(column: str) -> Callable[[pl.Schema], pl.Expr]:
    def fails(schema: pl.Schema) -> pl.Expr:
        return ~_raw_blank(column, schema[column]) & pl.col(AS_READ_PREFIX + column).is_null()

    return fails


def _out_of_range(column: str) -> Callable[[pl.Schema], pl.Expr]:
    def fails(schema: pl.Schema) -> pl.Expr:
        read = pl.col(AS_READ_PREFIX + column)
        return values.out_of_range(read) & ~values.is_sentinel(column, read)

    return fails


def _not_a_boolean(column: str) -> Callable[[pl.Schema], pl.Expr]:
    def fails(schema: pl.Schema) -> pl.Expr:
        return ~_raw_blank(column, schema[column]) & pl.col(column).is_null()

    return fails


def _bereik() -> str:
    bereik = values.input_values().bereik
    return f"{bereik.van.year}-{bereik.tot_en_met.year}"


CHECKS: tuple[Check, ...] = (
    Check(
        BLANK_ID_CHECK,
        CLIENT_ID,
        "client_id is leeg (null, blanco of een null-woord zoals NULL)",
        lambda s: values.is_blank(pl.col(CLIENT_ID)),
    ),
    Check(
        DUPLICATE_CHECK,
        CLIENT_ID,
        "client_id komt meer dan eens voor (elk voorkomen wordt afgewezen)",
        lambda s: pl.col(DUPLICATE_FLAG).fill_null(False),
    ),
    *(
        Check(
            f"{c}_geen_datum",
            c,
            "geen datum in het datumformaat van deze kolom (zie transparantie inspect)",
            _not_a_date(c),
        )
        for c in DATE_COLUMNS
    ),
    *(
        Check(
            f"{c}_buiten_bereik",
            c,
            f"datum buiten {_bereik()} (en geen 'geen einde'-datum zoals 9999-12-31)",
            _out_of_range(c),
        )
        for c in DATE_COLUMNS
    ),
    *(
        Check(
            f"{c}_geen_boolean",
            c,
            "geen ja/nee-waarde (verwacht ja/nee, j/n, true/false, waar/onwaar, y/n, 1/0)",
            _not_a_boolean(c),
        )
        for c in BOOL_COLUMNS
    ),
    Check(
        "einde_voor_begin",
        "indicering_einde",
        "indicering_einde ligt voor indicering_begin",
        lambda s: pl.col("indicering_einde") < pl.col("indicering_begin"),
        lambda s: pl.format(
            "begin {}, einde {}", pl.col("indicering_begin").cast(pl.String), pl.col("indicering_einde").cast(pl.String)
        ),
    ),
    Check(
        "gemeente_onbekend",
        "gemeente",
        "gemeente is geen gemeente van de indeling (naam, CBS-code of voormalige gemeente)",
        lambda s: ~_raw_blank("gemeente", s["gemeente"]) & pl.col("gemeente").is_null(),
    ),
)

#: Raised after the rules ran: a counted row must have a klantsoort.
KLANTSOORT_CHECK = Check(
    "klantsoort_onbepaald",
    "indicering",
    "indicering is leeg of hoort bij geen klantsoort, op een rij die aan alle voorwaarden voldoet",
    lambda s: pl.lit(False),
)

ALL_CHECKS: tuple[Check, ...] = (*CHECKS, KLANTSOORT_CHECK)


def check_by_reden(reden: str) -> Check:
    for check in ALL_CHECKS:
        if check.reden == reden:
            return check
    raise KeyError(reden)


# --- the normalised record ---------------------------------------------------------------------


#: Seed of the id hash; any fixed value will do (see :func:`_id_hash`).
ID_HASH_SEED = 20250601


def _id_hash(ids: pl.Expr, wide: bool = False) -> pl.Expr:
    """A hash of each id; it only narrows the duplicate check, so any fixed seed will do (and a
    collision costs nothing but a candidate: see :func:`_duplicate_ids`).

    32 bits unless ``wide``: the sort holds one hash per row, and at 100M rows 8 bytes a row was
    most of a count's memory. The price is candidates by collision (about n²/2³³: ~12.000 at 10M
    rows, ~1,2M at 100M), which the exact second step reads back and drops. With 64 bits a
    collision is next to impossible (n²/2⁶⁵: about 3 in a million files of 10M rows), so in a
    file without duplicates there is nothing to read back (engine.pipeline.prepass)."""
    hashed = ids.hash(ID_HASH_SEED)
    return hashed if wide else (hashed & 0xFFFFFFFF).cast(pl.UInt32)


#: The column of candidate hashes in :func:`candidate_hashes`.
HASH = "_hash"


def id_texts(raw: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """Only client_id, as :func:`client_id_text`: what the duplicate check reads. Queries of
    one collection built on the very same frame share its read (10M rows, the prepass's two
    queries: 1.15 -> 0.7 s)."""
    return raw.select(client_id_text(schema[CLIENT_ID]).alias(CLIENT_ID))


def _hashed(wide: bool, blank_as_zero: bool) -> pl.Expr:
    ids = pl.col(CLIENT_ID)
    hashed = _id_hash(ids, wide)
    if blank_as_zero:
        hashed = pl.when(values.is_blank(ids)).then(pl.lit(0, dtype=hashed_dtype(wide))).otherwise(hashed)
    return hashed


def hashed_dtype(wide: bool) -> pl.DataType:
    return pl.UInt64() if wide else pl.UInt32()


def candidate_hashes(ids: pl.LazyFrame, wide: bool = False, blank_as_zero: bool = False) -> pl.LazyFrame:
    """Step 1 of the duplicate check (:func:`_duplicate_ids`) over ``ids`` (:func:`id_texts`):
    every id is hashed and the hashes are sorted; a hash equal to its predecessor is a
    *candidate*. Equal ids have equal hashes, so every duplicated id's hash is one; a collision
    of two different ids adds one, no more.

    ``blank_as_zero``: a blank id (the check ``client_id_leeg``) hashes to 0, and 0 is a
    candidate whenever there is one, so that this same read tells whether any id is blank
    (an id whose hash is 0 makes it look so, which costs only the per-row check)."""
    hashed = pl.col(HASH)
    keep = hashed == hashed.shift(1)
    if blank_as_zero:
        keep = keep | (hashed == 0)
    return ids.select(_hashed(wide, blank_as_zero).sort().alias(HASH)).filter(keep).unique(HASH)


def ids_of_candidates(
    ids: pl.LazyFrame, candidates: pl.LazyFrame, wide: bool = False, blank_as_zero: bool = False
) -> pl.LazyFrame:
    """Step 2 of the duplicate check: a second read of ``ids`` (:func:`id_texts`) keeps only the
    rows whose hash is one of ``candidates`` (:func:`candidate_hashes`, with the same ``wide`` and
    ``blank_as_zero``) and counts them per id itself: an id is a duplicate when it occurs more
    than once, exactly."""
    return (
        ids.with_columns(_hashed(wide, blank_as_zero).alias(HASH))
        .join(candidates, on=HASH, how="inner", build_side="force_right")
        .group_by(CLIENT_ID)
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") > 1)
        .select(CLIENT_ID, pl.lit(True).alias(DUPLICATE_FLAG))
    )


def _duplicate_ids(raw: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """The client_ids that occur more than once, flagged for a join back onto the records.

    Exact, in two steps, so that no hash table of every id is ever built:

    1. every id is hashed to 32 bits and the hashes are sorted (4 bytes a row); a hash equal
       to its predecessor is a *candidate* (:func:`candidate_hashes`).
    2. a second read keeps only the rows whose hash is a candidate and counts them per id
       itself (:func:`ids_of_candidates`). With few duplicates these rows are a handful; in a
       file full of duplicates this step holds them all, as the old group-by on every id did.

    Null ids never match in the join. Measured alone on 30M generated rows (medians of 3):
    2.2 s, 2.9 CPU-s, 0.7 GB peak, against 9.1 s, 10.8 CPU-s, 2.5 GB for the group-by on
    the ids it replaces (that group-by was itself about 3x faster than ``is_duplicated()``).
    A count reads a raw file with engine.pipeline.prepass, which runs the two steps as two
    collections and the second only when the first found a candidate.
    """
    ids = id_texts(raw, schema)
    return ids_of_candidates(ids, candidate_hashes(ids))


def profile_exprs(schema: pl.Schema) -> dict[str, pl.Expr]:
    """The profile columns of the normalised record (:data:`PROFILE_COLUMNS`) from the raw
    list components and taaksoortvragen."""
    return {
        **{c: registered_list(c, schema[c]) for c in LIST_COLUMNS},
        "taaksoorten": pl.sum_horizontal(registered_taaksoort(c, schema[c]).cast(pl.UInt8) for c in TAAKSOORT_COLUMNS),
    }


def profile_inputs(names: Sequence[str]) -> tuple[str, ...]:
    """The raw columns the profile columns ``names`` are computed from."""
    return tuple(
        c
        for c in (*LIST_COLUMNS, *TAAKSOORT_COLUMNS)
        if c in names or ("taaksoorten" in names and c in TAAKSOORT_COLUMNS)
    )


@dataclass(frozen=True)
class RecordColumns:
    """The normalised record's columns as expressions over the raw columns, in two stages (the
    second reads the first): what :func:`normalise` adds, and what engine.pipeline evaluates
    on a few columns alone to decide the rules before the rest is read."""

    first: dict[str, pl.Expr]
    second: dict[str, pl.Expr]

    def for_(self, names: Collection[str]) -> RecordColumns:
        """Only what ``names`` need (a second-stage column brings the first-stage ones it reads)."""
        second = {c: e for c, e in self.second.items() if c in names}
        read = set(names) | {r for e in second.values() for r in e.meta.root_names()}
        return RecordColumns({c: e for c, e in self.first.items() if c in read}, second)

    def inputs(self) -> set[str]:
        """The raw columns these expressions read."""
        made = set(self.first)
        return {r for e in self.first.values() for r in e.meta.root_names()} | {
            r for e in self.second.values() for r in e.meta.root_names() if r not in made
        }

    def without(self, names: Collection[str]) -> RecordColumns:
        """All but ``names`` (columns made before)."""
        return RecordColumns(
            {c: e for c, e in self.first.items() if c not in names},
            {c: e for c, e in self.second.items() if c not in names},
        )

    def names(self) -> set[str]:
        return {*self.first, *self.second}

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.with_columns(**self.first).with_columns(**self.second)

    def apply_eager(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self.first:
            frame = frame.with_columns(**self.first)
        return frame.with_columns(**self.second) if self.second else frame


def record_columns(
    schema: pl.Schema,
    indeling: Indeling,
    peildatum: date | None,
    datumformaten: dict[str, str] | None = None,
    folded_values: Sequence[str] = (),
    deferred: Sequence[str] = (),
) -> RecordColumns:
    """The normalised record's columns (see :func:`normalise`), all but ``deferred``."""
    formats = datumformaten or {}
    profile = {c: e for c, e in profile_exprs(schema).items() if c not in deferred}
    # No cleaning needed: the match key drops invisible characters, and a null word matches no
    # gemeente (the check gemeente_onbekend tells it from a real unknown name by the raw value).
    gemeente_text = _text("gemeente", schema["gemeente"])
    chosen = {c: values.input_values().date_formats(formats[c]) if c in formats else None for c in DATE_COLUMNS}
    first = {
        CLIENT_ID: client_id_text(schema[CLIENT_ID]),
        "gemeente": per_distinct(gemeente_text, indeling.match, indeling.gemeente_dtype, _canonical_as_is(indeling)),
        "status": folded("status", schema["status"], folded_values),
        "indicering": folded("indicering", schema["indicering"], folded_values),
        **{
            AS_READ_PREFIX + c: values.as_date(c, pl.col(c), schema[c], chosen[c], keep_sentinels=True)
            for c in DATE_COLUMNS
        },
        **{c: as_bool(c, schema[c]) for c in BOOL_COLUMNS},
        **profile,
        "peildatum": pl.lit(peildatum, dtype=pl.Date),
    }
    second = {
        "amr": indeling.amr_of(pl.col("gemeente")),
        **{c: values.no_end(c, pl.col(AS_READ_PREFIX + c)) for c in DATE_COLUMNS},
    }
    return RecordColumns(first, second)


def normalise(
    raw: pl.LazyFrame,
    schema: pl.Schema,
    indeling: Indeling,
    peildatum: date | None,
    datumformaten: dict[str, str] | None = None,
    folded_values: Sequence[str] = (),
    deferred: Sequence[str] = (),
    duplicates: pl.Series | None = None,
    shows_progress: bool = True,
    ruled_out: Collection[str] = (),
) -> pl.LazyFrame:
    """Turn raw client records into the normalised record, plus ``afgewezen`` and ``waarde``.

    Stays lazy. Raw copies of every contract column are kept as ``ruw__<name>``.
    ``datumformaten``: the format of each date column held as text (engine.readers decides it).
    ``folded_values``: the status and indicering values the rules name, which need no folding
    when an export spells them so (engine.rules.RuleSet.folded_values; an optimisation only).
    ``deferred``: profile columns (:data:`PROFILE_COLUMNS`) left out, to be computed later for
    fewer rows (engine.pipeline); their raw inputs then exist only as ``ruw__<name>``, so
    nothing can read a raw list under its normalised name.
    ``duplicates``: the client_ids that occur more than once in the whole file, when they were
    found before (:func:`duplicate_ids`, engine.pipeline.prepass); None finds them in the same
    query (two more reads of client_id, joined back).
    ``shows_progress``: the records count on the progress bar (engine.progress); not for a
    second query over some of the same records.
    ``ruled_out``: the redenen of checks that no row of ``raw`` breaks, as found before
    (engine.pipeline.prepass: no blank client_id); they are not evaluated, so a query that
    needs nothing else from a column does not read it.
    """
    check_schema(schema)
    later = set(profile_inputs(deferred))
    # Every record of the file passes here once: what the progress bar counts.
    frame = (progress.tel(raw) if shows_progress else raw).select(
        *(pl.col(c) for c in REQUIRED_COLUMNS if c not in later),
        *(pl.col(c).alias(RAW_PREFIX + c) for c in REQUIRED_COLUMNS),
    )
    frame = record_columns(schema, indeling, peildatum, datumformaten, folded_values, deferred).apply(frame)
    if duplicates is None:
        # The duplicate ids are few: build the join's hash table on them, always. Left to choose,
        # the streaming join samples both inputs first, and so held every normalised record in
        # memory until the duplicate check was done (measured at 30M rows: peak 5.1 -> 2.6 GB).
        frame = frame.join(
            _duplicate_ids(raw, schema),
            on=CLIENT_ID,
            how="left",
            maintain_order="left",
            build_side="force_right",
        )
    elif duplicates.is_empty():
        frame = frame.with_columns(pl.lit(False).alias(DUPLICATE_FLAG))
    else:
        frame = frame.with_columns(pl.col(CLIENT_ID).is_in(duplicates.implode()).alias(DUPLICATE_FLAG))

    code: pl.Expr = pl.lit(None, dtype=pl.UInt8)
    for number, check in reversed(list(enumerate(CHECKS))):
        if check.reden not in ruled_out:
            code = pl.when(check.fails(schema).fill_null(False)).then(pl.lit(number, dtype=pl.UInt8)).otherwise(code)
    waarde: pl.Expr = pl.lit(None, dtype=pl.String)
    for number, check in reversed(list(enumerate(CHECKS))):
        if check.reden not in ruled_out:
            waarde = pl.when(pl.col(AFGEWEZEN_NR) == number).then(check.waarde(schema)).otherwise(waarde)
    frame = frame.with_columns(code.alias(AFGEWEZEN_NR))
    return frame.with_columns(reden_of(pl.col(AFGEWEZEN_NR)).alias("afgewezen"), waarde.alias("waarde"))


#: The position in :data:`CHECKS` of the first check a row breaks (UInt8; null: none), beside
#: its ``afgewezen`` (:func:`reden_of`): a small key to group on instead of the text.
AFGEWEZEN_NR = "afgewezen_nr"


def reden_of(code: pl.Expr) -> pl.Expr:
    """The reden of the check at position ``code`` in :data:`CHECKS` (null stays null).

    A chain of when/then, elementwise: ``replace_strict`` here made ``prepare``'s first pass
    hold about 1 GB more at 10M rows (2.0 -> 3.0 GB)."""
    reden: pl.Expr = pl.lit(None, dtype=pl.String)
    for number, check in reversed(list(enumerate(CHECKS))):
        reden = pl.when(code == number).then(pl.lit(check.reden)).otherwise(reden)
    return reden


def duplicate_ids(raw: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """The client_ids (trimmed) that occur more than once in ``raw``: a query that reads only
    client_id (twice), for :func:`normalise`'s ``duplicates``."""
    return _duplicate_ids(raw, schema).select(CLIENT_ID)
