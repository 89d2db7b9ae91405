"""One chunk of client records, built column by column with numpy and Arrow.

Given how many rows of each role (counted cell or non-counted reason) the chunk holds,
:func:`build_chunk` lays them out in a random order and fills every contract column
(engine.contract.REQUIRED_COLUMNS). Nothing loops over rows: string columns are Arrow
dictionary arrays (a small vocabulary plus an integer index per row), which Parquet
writes as dictionary pages directly and readers see as plain strings.

What decides the count is fixed by the role: counted rows are ``ingeschreven``, have an
open indicering, are in the register with the vink, carry an indicering of their cell's
klantsoort and a profile that is ``ja`` or ``nee`` as their cell says. A non-counted row
fails the rule of its reason and may fail later rules too, never an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import pyarrow as pa

from engine.contract import LIST_COLUMNS, REQUIRED_COLUMNS, TAAKSOORT_COLUMNS
from engine.generate import vocab
from engine.generate.ids import client_ids
from engine.generate.mix import REASON_KEYS
from engine.generate.population import N_FIGURES, Population

#: The reasons by index, named after their --mix keys (engine.generate.mix).
INGESCHREVEN, EINDE, GEEN_BEGIN, DOELGROEPREGISTER, BANENAFSPRAAK, BESCHUT_ZONDER_VINK = range(len(REASON_KEYS))
assert REASON_KEYS[BESCHUT_ZONDER_VINK] == "beschut_zonder_vink" and REASON_KEYS[INGESCHREVEN] == "ingeschreven"
COUNTED = -1

#: Profile shapes of "nee" clients: which of (affiniteiten, beroepssectoren, taaksoortvraag)
#: is registered. Every combination but all three occurs; the empty profile is the most common.
NEE_SHAPES = np.array(
    [(0, 0, 0), (1, 1, 0), (1, 0, 1), (0, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1)],
    dtype=bool,
)
NEE_SHAPE_WEIGHTS = (0.40, 0.20, 0.08, 0.08, 0.08, 0.08, 0.08)
#: How an unregistered list is written: null, [], [""], ["  "], [null].
REP_NULL, REP_EMPTY, REP_BLANK, REP_SPACES, REP_NULL_ITEM = range(5)
PROFILE_REP_WEIGHTS = (0.55, 0.15, 0.10, 0.10, 0.10)
OTHER_REP_WEIGHTS = (0.85, 0.15, 0.0, 0.0, 0.0)
#: Registered lists hold 1, 2 or 3 values.
LENGTH_WEIGHTS = (0.5, 0.35, 0.15)
#: A client with a registered taaksoortvraag has one, chosen uniformly, plus 0-4 more.
EXTRA_TAAKSOORT_WEIGHTS = (0.35, 0.30, 0.20, 0.10, 0.05)
#: Steps between a client's questions: coprime with 20, so the questions are distinct.
TAAKSOORT_STEPS = np.array([1, 3, 7, 9, 11, 13, 17, 19], dtype=np.int8)
#: Chance that a client without a registered taaksoortvraag has one filled with blanks.
BLANK_TAAKSOORT = 0.25
#: Chance that opleiding / vaardigheden / competenties are registered, by kind of profile.
OTHER_LISTS = {
    "opleiding": (0.90, 0.60, 0.10),
    "vaardigheden": (0.75, 0.40, 0.05),
    "competenties": (0.70, 0.40, 0.05),
}
#: Per profile (a nee shape, or 7 + shape for ja): which of the three parts are registered,
#: and the chance that each other list is (ja, nee with some part, nee with none).
PROFILE_PARTS = np.concatenate([NEE_SHAPES, np.ones_like(NEE_SHAPES)])
OTHER_LIST_CHANCE = {
    name: np.array([p[2]] + [p[1]] * (len(NEE_SHAPES) - 1) + [p[0]] * len(NEE_SHAPES), dtype=np.float32)
    for name, p in OTHER_LISTS.items()
}
#: Share of non-counted rows with a profile "ja" (their klantsoort follows the counted rows).
FILLER_PROFIEL_JA = 0.30

LIST_TYPE = pa.list_(pa.dictionary(pa.int8(), pa.string()))
TEXT_TYPE = pa.dictionary(pa.int8(), pa.string())
WIDE_TEXT_TYPE = pa.dictionary(pa.int16(), pa.string())

# --- drawing, fast ------------------------------------------------------------------------------
# A category is drawn by looking a random 16-bit number up in a 65,536-entry table: an order of
# magnitude faster than searchsorted on uniform floats, at a resolution (1/65,536) far below
# anything the counts depend on (they are fixed by the roles, not drawn).

RESOLUTION = 1 << 16


def lookup_table(weights: tuple[float, ...] | list[float] | np.ndarray) -> np.ndarray:
    """For each 16-bit number, the category it stands for, in proportion to ``weights``."""
    w = np.asarray(weights, dtype=np.float64)
    bounds = np.cumsum(w / w.sum()) * RESOLUTION
    table = np.searchsorted(bounds, np.arange(RESOLUTION) + 0.5, side="right")
    return np.minimum(table, w.size - 1).astype(np.int16 if w.size > 127 else np.int8)


def _u16(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, RESOLUTION, n, dtype=np.uint16)


def _draw(table: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Category per row, drawn with a :func:`lookup_table`."""
    return np.take(table, _u16(rng, n))


def _chance(rng: np.random.Generator, n: int, p: float | np.ndarray) -> np.ndarray:
    """True with probability ``p`` (a number, or one per row)."""
    if isinstance(p, np.ndarray):
        return rng.random(n, dtype=np.float32) < p
    return _u16(rng, n) < round(p * RESOLUTION)


def _coin(rng: np.random.Generator, n: int) -> np.ndarray:
    """0 or 1 per row, equally likely (int8)."""
    return rng.integers(0, 2, n, dtype=np.int8)


UWV_TABLE = lookup_table(list(vocab.UWV_INDICERINGEN.values()))
GEMEENTE_TABLE = lookup_table(list(vocab.GEMEENTE_INDICERINGEN.values()))
NEE_SHAPE_TABLE = lookup_table(NEE_SHAPE_WEIGHTS)
LENGTH_TABLE = lookup_table(LENGTH_WEIGHTS)
EXTRA_TAAKSOORT_TABLE = lookup_table(EXTRA_TAAKSOORT_WEIGHTS)
#: Most items a list holds.
MAX_ITEMS = len(LENGTH_WEIGHTS)
#: In :class:`ListChoices`: a null item, and no item (past the end of the list).
NULL_ITEM, ABSENT = -1, -2


@dataclass(frozen=True)
class ListChoices:
    """Every list a row of one list column can hold, as the rows of a table.

    First the registered lists: one per first item, stride and length 1-3, whose items are
    ``first``, ``first + stride``, ``first + 2 * stride`` modulo the vocabulary size (distinct,
    as the size is prime). Then the unregistered representations, in the order REP_NULL,
    REP_EMPTY, REP_BLANK, REP_SPACES, REP_NULL_ITEM: null, [], [""], ["  "], [null].
    Item codes index :attr:`dictionary`."""

    dictionary: pa.Array  # the vocabulary, then "" and "  "
    items: np.ndarray  # int8 (choices, MAX_ITEMS): item codes, NULL_ITEM, or ABSENT past the end
    length: np.ndarray  # int8 per choice: how many items
    sequences: int  # (first, stride) pairs; a registered choice is sequence * MAX_ITEMS + length - 1
    unregistered: int  # the first unregistered choice; + the representation number


@cache
def list_choices(column: str) -> ListChoices:
    words = vocab.LIST_VOCABULARIES[column]
    size = len(words)
    blank, spaces = size, size + 1
    lists: list[list[int]] = []
    for first in range(size):
        for stride in range(1, size):
            sequence = [(first + i * stride) % size for i in range(MAX_ITEMS)]
            lists.extend(sequence[:length] for length in range(1, MAX_ITEMS + 1))
    unregistered = len(lists)
    lists.extend([[], [], [blank], [spaces], [NULL_ITEM]])  # by representation, see REP_NULL
    items = np.array([items + [ABSENT] * (MAX_ITEMS - len(items)) for items in lists], dtype=np.int8)
    length = np.array([len(items) for items in lists], dtype=np.int8)
    return ListChoices(_dictionary([*words, *vocab.BLANK_VALUES]), items, length, size * (size - 1), unregistered)


@cache
def representation_table(weights: tuple[float, ...]) -> np.ndarray:
    """:func:`lookup_table` of how unregistered lists are written (null, [], [""], ["  "], [null])."""
    return lookup_table(weights)


@dataclass(frozen=True)
class Context:
    """Everything a chunk needs besides its roles and its random stream."""

    population: Population
    messy: bool
    gemeenten: vocab.Variants
    id_keys: np.ndarray

    @property
    def n_slots(self) -> int:
        return int(self.population.cells.shape[0])

    @property
    def n_cells(self) -> int:
        return self.population.n_cells

    @cached_property
    def role_reason(self) -> np.ndarray:
        """Per role: COUNTED for a cell, else the index of the reason (int8)."""
        reasons = np.arange(len(REASON_KEYS), dtype=np.int8)
        return np.concatenate([np.full(self.n_cells, COUNTED, dtype=np.int8), reasons])

    @cached_property
    def role_who(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per role: gemeente slot (int16), uwv and profiel ja; a cell is slot * 4 + figure.
        (A reason's values are placeholders: its rows draw their own.)"""
        roles = np.arange(self.n_cells + len(REASON_KEYS))
        figure = roles % N_FIGURES
        return (roles // N_FIGURES).astype(np.int16), figure >= 2, figure % 2 == 0

    @cached_property
    def gemeente_weights(self) -> np.ndarray:
        """Where non-counted rows live: like the counted ones."""
        return self.population.gemeente_weights()

    @cached_property
    def gemeente_dictionary(self) -> pa.Array:
        return pa.array([*self.gemeenten.words, *vocab.BLANK_VALUES], pa.string())

    def schema(self) -> pa.Schema:
        """The same Arrow schema for every chunk (Parquet needs one schema per file)."""
        text = TEXT_TYPE
        fields: dict[str, pa.DataType] = {
            "client_id": pa.string(),
            "gemeente": WIDE_TEXT_TYPE,
            "status": text,
            "indicering": text,
            "indicering_begin": WIDE_TEXT_TYPE if self.messy else pa.date32(),
            "indicering_einde": WIDE_TEXT_TYPE if self.messy else pa.date32(),
            "doelgroepregister": text if self.messy else pa.bool_(),
            "banenafspraak": text if self.messy else pa.bool_(),
            "beschut_wsw": text if self.messy else pa.bool_(),
            **{c: LIST_TYPE for c in LIST_COLUMNS},
            **{c: text for c in TAAKSOORT_COLUMNS},
        }
        assert tuple(fields) == REQUIRED_COLUMNS
        return pa.schema([pa.field(name, dtype) for name, dtype in fields.items()])


def build_chunk(take: np.ndarray, start: int, rng: np.random.Generator, ctx: Context) -> pa.Table:
    """Rows ``start .. start + take.sum() - 1``: ``take[r]`` rows of role r, shuffled."""
    roles = np.repeat(np.arange(take.size, dtype=np.int16), take)
    rng.shuffle(roles)
    n = roles.size
    reason = np.take(ctx.role_reason, roles)

    # Who: gemeente slot, klantsoort and profiel; fixed by the cell for counted rows.
    slot, uwv, profiel_ja = (np.take(table, roles) for table in ctx.role_who)
    filler = np.flatnonzero(roles >= ctx.n_cells)
    if filler.size:
        # As many of each slot as a multinomial draw gives, in random order: the same as drawing
        # each row's slot on its own, without a search per row.
        per_slot = rng.multinomial(filler.size, ctx.gemeente_weights)
        slot[filler] = rng.permutation(np.repeat(np.arange(ctx.n_slots, dtype=np.int16), per_slot))
        uwv[filler] = _chance(rng, filler.size, ctx.population.uwv_share())
        profiel_ja[filler] = _chance(rng, filler.size, FILLER_PROFIEL_JA)

    columns: dict[str, pa.Array] = {"client_id": client_ids(start, n, ctx.id_keys)}
    columns["gemeente"] = _gemeente(slot, ctx, rng)
    columns["status"] = _status(reason, ctx, rng)
    columns["indicering"] = _indicering(uwv, reason, ctx, rng)
    columns.update(_dates(reason, ctx, rng))
    columns.update(_register(reason, ctx, rng))
    columns.update(_profile(profiel_ja, rng))
    return pa.Table.from_arrays([columns[c] for c in REQUIRED_COLUMNS], schema=ctx.schema())


def _dictionary(words: tuple[str, ...] | list[str]) -> pa.Array:
    return pa.array(list(words), pa.string())


def _validity(null: np.ndarray | None) -> pa.Buffer | None:
    """An Arrow validity bitmap; np.packbits is ~100x faster than pa.array(..., mask=...)."""
    return None if null is None else pa.py_buffer(np.packbits(~null, bitorder="little"))


def _array(values: np.ndarray, null: np.ndarray | None) -> pa.Array:
    """A primitive Arrow array over ``values`` (no copy), null where ``null``."""
    dtype = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(dtype, values.size, [_validity(null), pa.py_buffer(values)], null_count=-1)


def _bools(values: np.ndarray, null: np.ndarray | None) -> pa.Array:
    bits = pa.py_buffer(np.packbits(values, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), values.size, [_validity(null), bits], null_count=-1)


def _text_column(
    index: np.ndarray, words: tuple[str, ...] | pa.Array, null: np.ndarray | None, width: type[np.integer] = np.int8
) -> pa.DictionaryArray:
    """A string column as indices into ``words`` (null where ``null``)."""
    dictionary = words if isinstance(words, pa.Array) else _dictionary(words)
    indices = _array(np.ascontiguousarray(index, dtype=width), null)
    return pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)


def _gemeente(slot: np.ndarray, ctx: Context, rng: np.random.Generator) -> pa.Array:
    """Canonical names, or (messy) any spelling engine.indeling maps to the same gemeente.
    The last slot is gemeente onbekend: null, or in a messy file sometimes a blank string."""
    unknown = slot == ctx.n_slots - 1
    known_slot = np.where(unknown, 0, slot)
    n_words = len(ctx.gemeenten.words)
    if ctx.messy:
        index = ctx.gemeenten.pick(known_slot, rng, p_main=0.6)
        blank = _chance(rng, slot.size, 0.5) & unknown
        index = np.where(blank, n_words + _coin(rng, slot.size).astype(np.int16), index)  # "" or "  "
        null = unknown & ~blank
    else:
        index, null = ctx.gemeenten.offsets[known_slot], unknown
    return _text_column(index, ctx.gemeente_dictionary, null, np.int16)


def _status(reason: np.ndarray, ctx: Context, rng: np.random.Generator) -> pa.Array:
    value = (reason == INGESCHREVEN).astype(np.int8)  # 1: 'uitgeschreven', failing rule ingeschreven
    if ctx.messy:
        variants = vocab.status_variants()
        return _text_column(variants.pick(value, rng, p_main=0.4), variants.words, None)
    return _text_column(value, vocab.STATUSES, None)


def _indicering(uwv: np.ndarray, reason: np.ndarray, ctx: Context, rng: np.random.Generator) -> pa.Array:
    n = uwv.size
    value = np.where(uwv, _draw(UWV_TABLE, rng, n), _draw(GEMEENTE_TABLE, rng, n) + np.int8(vocab.N_UWV))
    # Some records without a begindatum have no indicering at all.
    missing = (reason == GEEN_BEGIN) & _chance(rng, n, 0.3)
    if ctx.messy:
        variants = vocab.indicering_variants()
        return _text_column(variants.pick(value, rng, p_main=0.5), variants.words, missing)
    return _text_column(value, vocab.INDICERINGEN, missing)


def _dates(reason: np.ndarray, ctx: Context, rng: np.random.Generator) -> dict[str, pa.Array]:
    """Begin between 2015 and mid 2025; an einddatum (not before the begin) for ended
    indiceringen, and for some uitgeschreven clients as an extra failure."""
    n = reason.size
    span = vocab.LAST_DAY_NO - vocab.FIRST_DAY_NO
    begin = rng.integers(0, span + 1, n, dtype=np.int32)
    has_einde = (reason == EINDE) | ((reason == INGESCHREVEN) & _chance(rng, n, 0.35))
    einde = np.minimum(begin + rng.integers(30, 2500, n, dtype=np.int32), span)
    no_begin = reason == GEEN_BEGIN
    if ctx.messy:
        days = vocab.iso_days()
        return {
            "indicering_begin": _text_column(begin, days, no_begin, np.int16),
            "indicering_einde": _text_column(einde, days, ~has_einde, np.int16),
        }
    offset = np.int32(vocab.FIRST_DAY_NO)
    return {
        "indicering_begin": _array(begin + offset, no_begin).view(pa.date32()),
        "indicering_einde": _array(einde + offset, ~has_einde).view(pa.date32()),
    }


def _register(reason: np.ndarray, ctx: Context, rng: np.random.Generator) -> dict[str, pa.Array]:
    """doelgroepregister, banenafspraak and beschut_wsw: true/true/false for counted rows."""
    n = reason.size
    early = (reason == INGESCHREVEN) | (reason == EINDE) | (reason == GEEN_BEGIN)
    # doelgroepregister: false or unknown (null) for its reason; sometimes false as an extra failure.
    register = ~((reason == DOELGROEPREGISTER) | (early & _chance(rng, n, 0.12)))
    register_null = (reason == DOELGROEPREGISTER) & _chance(rng, n, 0.1)
    # beschut WSW: the beschut_zonder_vink group, and some clients who also fail an earlier rule.
    beschut = (reason == BESCHUT_ZONDER_VINK) | (early & _chance(rng, n, 0.03))
    vink_off = (
        (reason == BANENAFSPRAAK)
        | beschut
        | ((reason == DOELGROEPREGISTER) & _chance(rng, n, 0.7))
        | (early & _chance(rng, n, 0.15))
    )
    vink_null = (reason == BANENAFSPRAAK) & _chance(rng, n, 0.1)
    values = {
        "doelgroepregister": (register, register_null),
        "banenafspraak": (~vink_off, vink_null),
        "beschut_wsw": (beschut, None),
    }
    if ctx.messy:
        variants = vocab.bool_variants()
        return {
            name: _text_column(variants.pick(v.astype(np.int8), rng, p_main=0.8), variants.words, null)
            for name, (v, null) in values.items()
        }
    return {name: _bools(v, null) for name, (v, null) in values.items()}


# --- profiles ----------------------------------------------------------------------------------


def _profile(profiel_ja: np.ndarray, rng: np.random.Generator) -> dict[str, pa.Array]:
    """The five list components and the twenty taaksoortvragen.

    "ja": affiniteiten, beroepssectoren and at least one taaksoortvraag registered. "nee":
    one of :data:`NEE_SHAPES`; a part that is not registered is null, empty, or filled
    with blanks only (``[""]``, ``["  "]``, ``[null]``, a taaksoort of spaces).
    """
    n = profiel_ja.size
    # The profile: a "nee" shape 0-6, or 7 + that shape for "ja" (whose shape does not matter).
    profile = _draw(NEE_SHAPE_TABLE, rng, n) + np.int8(len(NEE_SHAPES)) * profiel_ja.astype(np.int8)
    affiniteiten, beroepssectoren, taaksoort = (np.take(PROFILE_PARTS[:, i], profile) for i in range(3))
    columns: dict[str, pa.Array] = {}
    for name in LIST_COLUMNS:
        if name == "affiniteiten":
            columns[name] = _list_column(affiniteiten, name, PROFILE_REP_WEIGHTS, rng)
        elif name == "beroepssectoren":
            columns[name] = _list_column(beroepssectoren, name, PROFILE_REP_WEIGHTS, rng)
        else:
            registered = _chance(rng, n, np.take(OTHER_LIST_CHANCE[name], profile))
            columns[name] = _list_column(registered, name, OTHER_REP_WEIGHTS, rng)
    columns.update(_taaksoorten(taaksoort, rng))
    return columns


def _list_column(
    registered: np.ndarray, column: str, rep_weights: tuple[float, ...], rng: np.random.Generator
) -> pa.Array:
    """A list column: 1-3 distinct values where registered (every first item and stride
    equally likely), else one of the unregistered representations (null, [], [""], ["  "],
    [null]), drawn with ``rep_weights``. Each row draws one row of :func:`list_choices`."""
    n = registered.size
    choices = list_choices(column)
    sequence = rng.integers(0, choices.sequences, n, dtype=np.int16)
    length = _draw(LENGTH_TABLE, rng, n)  # 0-2 for 1-3 items
    representation = _draw(representation_table(rep_weights), rng, n)
    choice = np.where(registered, sequence * MAX_ITEMS + length, choices.unregistered + representation.astype(np.int16))
    items = np.take(choices.items, choice, axis=0).ravel()  # row by row, MAX_ITEMS slots each
    values = np.compress(items != ABSENT, items)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.take(choices.length, choice), out=offsets[1:])
    text = _text_column(values, choices.dictionary, values == NULL_ITEM)
    null_list = choice == choices.unregistered + REP_NULL
    return pa.ListArray.from_arrays(_array(offsets, None), text, mask=_bools(null_list, None))


def _taaksoorten(registered_any: np.ndarray, rng: np.random.Generator) -> dict[str, pa.Array]:
    """Twenty mostly-null columns. A client with a registered taaksoortvraag has one chosen
    uniformly (so every question is the registered one for some clients) and up to four more;
    others sometimes have one blank answer, which does not register."""
    n = registered_any.size
    k = len(TAAKSOORT_COLUMNS)
    n_answers = len(vocab.TAAKSOORT_ANSWERS)
    code = np.full((k, n), -1, dtype=np.int8)
    rows = np.flatnonzero(registered_any)
    question = rng.integers(0, k, rows.size, dtype=np.int8)
    step = TAAKSOORT_STEPS[rng.integers(0, TAAKSOORT_STEPS.size, rows.size)]
    extra = _draw(EXTRA_TAAKSOORT_TABLE, rng, rows.size)
    for j in range(EXTRA_TAAKSOORT_TABLE.max() + 1):
        if j:  # the clients with a (j+1)-th question: fewer each round
            more = extra >= j
            rows, question, step, extra = (np.compress(more, x) for x in (rows, question, step, extra))
        asked = (question + np.int8(j) * step) % np.int8(k)
        code[asked, rows] = rng.integers(0, n_answers, rows.size, dtype=np.int8)
    blank = np.flatnonzero(~registered_any & _chance(rng, n, BLANK_TAAKSOORT))
    code[rng.integers(0, k, blank.size), blank] = n_answers + _coin(rng, blank.size)  # "" or "  "
    dictionary = _dictionary(vocab.TAAKSOORT_DICTIONARY)
    return {name: _text_column(code[j], dictionary, code[j] < 0) for j, name in enumerate(TAAKSOORT_COLUMNS)}
