"""The packed row of a prepared file: every low-cardinality fact of a record in one integer.

A prepared file (engine.prepare) keeps per row only what varies a lot (``client_id``, the two
indicering dates, the offending ``waarde`` and the original record number) as columns of
their own. Everything else in the normalised record takes a handful of values per column:
gemeente (342 + unknown), the contract verdict, status, indicering, the three flags, the
five registered components and the number of taaksoortvragen. Those facts are packed as bit
fields into one ``UInt64``, ``sleutel``; the rows are sorted by it.

Why (measured, README "Performance"): a count is a group-by. Grouping 100M rows on one
integer is far cheaper than decoding ten Parquet columns and grouping on their combination;
a sorted ``sleutel`` is long runs, which Parquet stores and decodes nearly for free; and the
rules then run once per group instead of once per row.

Every field is a code into its list of values, ``0`` meaning null: ``value = values[code - 1]``.
The layout (offset, width and values of each field) is data, stored in the file's key-value
metadata under :data:`LAYOUT_KEY`, so a file decodes without guessing. Status and indicering
take their values from the data (whatever the input spelled, once normalised); gemeente
takes the indeling's; the contract verdict the checks' names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.contract import (
    ALL_CHECKS,
    BOOL_COLUMNS,
    CLIENT_ID,
    DATE_COLUMNS,
    LIST_COLUMNS,
    TAAKSOORT_COLUMNS,
    VOCABULARY,
)
from engine.errors import UsageError, nl_number
from engine.indeling import Indeling

#: How every refusal of a prepared file ends.
PREPARE_AGAIN = (
    "voer `transparantie prepare` opnieuw uit op het oorspronkelijke bestand (zie transparantie prepare --help)"
)

SLEUTEL = "sleutel"
#: On one row of each distinct ``sleutel``: how many rows carry that ``sleutel``; 0 on the others.
#: A count that needs nothing outside ``sleutel`` reads only those rows (engine.grouping).
AANTAL = "aantal"
#: The original record number (1 = first row of the input), for explain.
RECORD = "record"
LAYOUT_KEY = "transparantie.layout"
#: Bumped whenever the packed row changes meaning; prepared files carry it.
FORMAT_VERSION = "2"
BITS = 64

#: A rule that tests a date column only for null can run on these bits instead of the
#: dates: ``indicering_begin IS NULL`` is exactly ``indicering_begin__null``.
NULL_BITS = {c: c + "__null" for c in DATE_COLUMNS}
#: The normalised-record columns that travel inside ``sleutel``, in bit order.
PACKED_COLUMNS = (
    "gemeente",
    "afgewezen",
    "status",
    "indicering",
    *BOOL_COLUMNS,
    *LIST_COLUMNS,
    "taaksoorten",
    *NULL_BITS.values(),
)
#: The normalised-record columns a prepared file keeps as columns of their own.
ROW_COLUMNS = (CLIENT_ID, *DATE_COLUMNS)
#: Derived when decoding, never stored.
DERIVED_COLUMNS = ("amr", "peildatum")


def field_dtype(name: str, indeling: Indeling) -> pl.DataType:
    """The type of a packed field's values, as in the normalised record."""
    if name in NULL_BITS.values():
        return pl.Boolean()
    if name == "gemeente":
        return indeling.gemeente_dtype
    if name == "afgewezen":
        return pl.String()
    return VOCABULARY[name]


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    width: int
    values: tuple[Any, ...]

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.offset

    def code(self, key: pl.Expr) -> pl.Expr:
        """The field's code (0 = null) out of a packed key."""
        return (key // pl.lit(1 << self.offset, dtype=pl.UInt64)) % pl.lit(1 << self.width, dtype=pl.UInt64)

    def decode(self, key: pl.Expr, dtype: pl.DataType) -> pl.Expr:
        """The field's value, typed as in the normalised record: one gather per row."""
        lookup = pl.Series([None, *self.values], dtype=dtype)
        return pl.lit(lookup).gather(self.code(key)).alias(self.name)

    def sql(self, key: str) -> str:
        """The same decoding in DuckDB SQL (lists are 1-based, so code 0 picks the NULL)."""
        values = ", ".join(["NULL", *(_sql_literal(v) for v in self.values)])
        return f"([{values}])[((({key} >> {self.offset}) & {(1 << self.width) - 1}) + 1)::BIGINT]"


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Layout:
    fields: tuple[Field, ...]

    @property
    def bits(self) -> int:
        """How many low bits of ``sleutel`` the fields take (the ones above are spare)."""
        return max((f.offset + f.width for f in self.fields), default=0)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def mask(self, names: Iterable[str]) -> int:
        result = 0
        for name in names:
            result |= self.field(name).mask
        return result

    def to_json(self) -> str:
        return json.dumps(
            [{"naam": f.name, "offset": f.offset, "bits": f.width, "waarden": list(f.values)} for f in self.fields],
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Layout:
        return cls(tuple(Field(d["naam"], d["offset"], d["bits"], tuple(d["waarden"])) for d in json.loads(text)))

    @classmethod
    def build(cls, indeling: Indeling, statuses: Sequence[str], indiceringen: Sequence[str]) -> Layout:
        """The layout for a file whose status and indicering take these (non-null) values."""
        values: dict[str, tuple[Any, ...]] = {
            "gemeente": tuple(indeling.gemeenten),
            "afgewezen": tuple(c.reden for c in ALL_CHECKS),
            "status": tuple(sorted(statuses)),
            "indicering": tuple(sorted(indiceringen)),
            **{c: (False, True) for c in (*BOOL_COLUMNS, *LIST_COLUMNS)},
            "taaksoorten": tuple(range(len(TAAKSOORT_COLUMNS) + 1)),
            **{bit: (False, True) for bit in NULL_BITS.values()},
        }
        fields, offset = [], 0
        for name in PACKED_COLUMNS:
            width = len(values[name]).bit_length()  # codes 0..len, 0 = null
            fields.append(Field(name, offset, width, values[name]))
            offset += width
        layout = cls(tuple(fields))
        if layout.bits > BITS:
            raise UsageError(
                f"kan dit bestand niet voorbereiden: {nl_number(len(statuses))} verschillende statuswaarden en "
                f"{nl_number(len(indiceringen))} verschillende indiceringwaarden vragen {layout.bits} bits in de "
                f"verpakte rij, meer dan {BITS}; tel het oorspronkelijke bestand"
            )
        return layout

    # -- encoding (prepare) and decoding (count, explain, ...) ----------------------------------

    def encode(self) -> pl.Expr:
        """``sleutel`` from the columns of a normalised record."""
        parts = []
        for f in self.fields:
            column = pl.col(f.name)
            if f.name in NULL_BITS.values():
                column = pl.col(f.name.removesuffix("__null")).is_null()
            if f.name == "gemeente":  # already the indeling's Enum: its codes are ours minus one
                code = column.to_physical().cast(pl.UInt64) + 1
            elif f.name in ("afgewezen", "status", "indicering"):
                code = column.cast(pl.String).cast(pl.Enum(list(f.values))).to_physical().cast(pl.UInt64) + 1
            else:  # booleans (False, True) and taaksoorten (0..20): the value plus one
                code = column.cast(pl.UInt64) + 1
            parts.append(code.fill_null(0) * pl.lit(1 << f.offset, dtype=pl.UInt64))
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total.alias(SLEUTEL)

    def aantal(self) -> pl.Expr:
        """:data:`AANTAL` of a frame sorted by ``sleutel``: on the first row of each run of equal
        ``sleutel`` the run's length, 0 on the others. From where the runs start, so without
        hashing (a window over ``sleutel`` took a hash table of every distinct key); in memory,
        over the whole frame (engine.prepare sorts one key range at a time)."""
        key = pl.col(SLEUTEL)
        first = key.ne_missing(key.shift(1))
        position = pl.int_range(pl.len(), dtype=pl.get_index_type())
        # At each row, where the next run starts (the frame's length after the last run).
        following = pl.when(first).then(position).shift(-1).backward_fill().fill_null(pl.len())
        return pl.when(first).then(following - position).otherwise(0).cast(pl.UInt32).alias(AANTAL)

    def decode(self, names: Iterable[str], indeling: Indeling, key: pl.Expr | None = None) -> list[pl.Expr]:
        key = pl.col(SLEUTEL) if key is None else key
        return [self.field(n).decode(key, field_dtype(n, indeling)) for n in names]

    def check_gemeenten(self, indeling: Indeling, path: object) -> None:
        if self.field("gemeente").values != tuple(indeling.gemeenten):
            raise UsageError(f"{path} is voorbereid met een andere indeling van gemeenten; {PREPARE_AGAIN}")


def read_layout(path: object) -> Layout:
    meta = pl.read_parquet_metadata(path)  # type: ignore[arg-type]
    if LAYOUT_KEY not in meta:
        raise UsageError(f"{path} mist de opbouw van de verpakte rij (metagegeven {LAYOUT_KEY!r}); {PREPARE_AGAIN}")
    try:
        layout = Layout.from_json(meta[LAYOUT_KEY])
        layout.field("gemeente"), layout.field("afgewezen")
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path}: de opbouw van de verpakte rij in de metagegevens is beschadigd "
            f"({type(exc).__name__}: {exc}); {PREPARE_AGAIN}"
        ) from None
    return layout


def on_null_bits(sql: str) -> str:
    """The rule text with every ``<date> IS [NOT] NULL`` read from the packed null bits:
    exact, and it spares decoding the dates when that was all the rule asked of them.

    The text is split into SQL tokens (sqlglot's tokenizer), so a string literal is one token
    and is never rewritten; only the tokens of a null test are replaced, and the rest of the
    text stays as written.
    """
    from sqlglot.tokens import Tokenizer, TokenType  # only here: importing sqlglot costs every command 0.07 s

    tokens = Tokenizer().tokenize(sql)
    pieces: list[str] = []
    done = 0  # characters of ``sql`` already copied or replaced
    i = 0
    while i < len(tokens):
        column = tokens[i]
        negated = i + 2 < len(tokens) and tokens[i + 2].token_type is TokenType.NOT
        end = i + (4 if negated else 3)
        test = [t.token_type for t in tokens[i + 1 : end]]
        if (
            column.token_type in (TokenType.VAR, TokenType.IDENTIFIER)
            and column.text in NULL_BITS
            and test == [TokenType.IS, *([TokenType.NOT] if negated else []), TokenType.NULL]
            and (i == 0 or tokens[i - 1].token_type is not TokenType.DOT)
        ):
            bit = NULL_BITS[column.text]
            pieces += [sql[done : column.start], f"(NOT {bit})" if negated else f"({bit})"]
            done = tokens[end - 1].end + 1
            i = end
            continue
        i += 1
    return "".join(pieces) + sql[done:]
