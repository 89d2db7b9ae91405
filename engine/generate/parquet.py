"""A small Parquet writer for the generator's tables: numpy encodes, zstd compresses.

pyarrow's writer spends most of its time on what these columns do not need: it derives
definition and repetition levels value by value and run-length encodes them one by one
(about 55 ms per million rows for each list column, 9 ms for each mostly-null taaksoort
column). Here the levels of a flat column are its validity bitmap, a list column's levels
come from its offsets in a few vectorised steps, and dictionary indices are packed at 1, 2, 4,
8 or 16 bits, whole-byte operations. What is written is ordinary Parquet (format 2, data pages
v1) that any reader accepts; ``tests/test_generate.py`` reads it back with pyarrow, polars
and DuckDB and compares it with the same tables written by pyarrow.

Only the Arrow types the generator builds are supported (anything else is a ``TypeError``):

* ``string``: plain encoded (``client_id``: every value distinct, a dictionary cannot pay);
* ``dictionary<int8|int16, string>``: the Arrow dictionary becomes the column chunk's
  dictionary page and the indices its data, so no string is hashed;
* ``date32``: dictionary encoded over the range of days the row group spans;
* ``bool``: plain, bit-packed;
* ``list<dictionary<int8|int16, string>>``: levels from the offsets, items as above.

Every column is optional (nullable), as Arrow's own writer declares them. Every value goes
through this module's functions as whole arrays; Python only loops over columns and pages.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAGIC = b"PAR1"
CREATED_BY = "transparantie generate (engine.generate.parquet)"

# --- Parquet enums (parquet.thrift) ---------------------------------------------------------------
BOOLEAN, INT32, BYTE_ARRAY = 0, 1, 6  # Type
REQUIRED, OPTIONAL, REPEATED = 0, 1, 2  # FieldRepetitionType
UTF8, LIST, DATE = 0, 3, 6  # ConvertedType
PLAIN, RLE, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, RLE_DICTIONARY = 0, 3, 5, 6, 8  # Encoding
UNCOMPRESSED, ZSTD = 0, 6  # CompressionCodec
DATA_PAGE, DICTIONARY_PAGE = 0, 2  # PageType
#: LogicalType union members: StringType, ListType, DateType.
LOGICAL_STRING, LOGICAL_LIST, LOGICAL_DATE = 1, 3, 6

# --- Thrift compact protocol ----------------------------------------------------------------------
T_TRUE, T_FALSE, T_I16, T_I32, T_I64, T_BINARY, T_LIST, T_STRUCT = 1, 2, 4, 5, 6, 8, 9, 12

Field = tuple[int, int, object]  # (field id, compact type, value)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _zigzag(n: int) -> int:
    return n << 1 if n >= 0 else ((-n) << 1) - 1


def _value(ttype: int, value: object) -> bytes:
    if ttype in (T_I16, T_I32, T_I64):
        assert isinstance(value, int)
        return _varint(_zigzag(value))
    if ttype == T_BINARY:
        raw = value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[call-overload]
        return _varint(len(raw)) + raw
    if ttype == T_STRUCT:
        assert isinstance(value, bytes)
        return value
    if ttype == T_LIST:
        elem, items = cast(tuple[int, list[object]], value)
        head = bytes([(len(items) << 4) | elem]) if len(items) < 15 else bytes([0xF0 | elem]) + _varint(len(items))
        return head + b"".join(_value(elem, item) for item in items)
    raise ValueError(f"unsupported thrift type {ttype}")


def tstruct(*fields: Field | None) -> bytes:
    """A Thrift compact struct; ``None`` fields are left out (optional and unset)."""
    out = bytearray()
    last = 0
    for item in fields:
        if item is None:
            continue
        fid, ttype, value = item
        if ttype == T_TRUE:  # booleans carry their value in the field header
            ttype = T_TRUE if value else T_FALSE
        delta = fid - last
        out += bytes([(delta << 4) | ttype]) if 0 < delta <= 15 else bytes([ttype]) + _varint(_zigzag(fid))
        if ttype not in (T_TRUE, T_FALSE):
            out += _value(ttype, value)
        last = fid
    out.append(0)
    return bytes(out)


def i32(fid: int, value: int | None) -> Field | None:
    return None if value is None else (fid, T_I32, value)


def i64(fid: int, value: int | None) -> Field | None:
    return None if value is None else (fid, T_I64, value)


def binary(fid: int, value: bytes | str | None) -> Field | None:
    return None if value is None else (fid, T_BINARY, value)


def struct_(fid: int, value: bytes | None) -> Field | None:
    return None if value is None else (fid, T_STRUCT, value)


def list_(fid: int, elem: int, items: Iterable[object]) -> Field:
    return (fid, T_LIST, (elem, list(items)))


def bool_(fid: int, value: bool) -> Field:
    return (fid, T_TRUE, value)


# --- bit packing and the RLE / bit-packed hybrid --------------------------------------------------


def bit_width(max_value: int) -> int:
    return max(int(max_value).bit_length(), 1)


def index_width(dictionary_size: int) -> int:
    """Bits per dictionary index: enough for the dictionary, rounded up to 1, 2, 4, 8 or 16 so
    that packing takes a few whole-byte operations. Measured on 2M rows: 3 ms less per 1M rows
    than the narrowest width (shifting eight values into a 64-bit word), for a 1.6% larger
    file (zstd squeezes out most spare bits)."""
    width = bit_width(dictionary_size - 1)
    return next(w for w in (1, 2, 4, 8, 16) if w >= width)


def bitpack(values: np.ndarray, width: int) -> np.ndarray:
    """Unsigned ``values`` (< 2**width; width 1, 2, 4, 8 or 16, so that no value straddles a
    byte) bit-packed LSB first, in whole groups of eight values (``width`` bytes per group), as
    the hybrid encoding's bit-packed runs hold them."""
    n = values.size
    groups = -(-n // 8)
    if width == 1 and values.dtype == np.bool_:
        return np.packbits(values, bitorder="little")  # ceil(n / 8) bytes: whole groups
    if width in (8, 16):
        out = np.zeros(groups * 8, dtype=np.uint8 if width == 8 else "<u2")
        out[:n] = values
        return out.view(np.uint8)
    if width not in (1, 2, 4):
        raise ValueError(f"bit width {width} is not 1, 2, 4, 8 or 16")
    per_byte = 8 // width
    padded = np.zeros(groups * 8, dtype=np.uint8)
    padded[:n] = values
    lanes = padded.reshape(-1, per_byte)
    packed = lanes[:, 0].copy()
    for i in range(1, per_byte):
        packed |= lanes[:, i] << np.uint8(i * width)
    return packed


def hybrid(values: np.ndarray, width: int) -> list[bytes | np.ndarray]:
    """``values`` in the RLE / bit-packed hybrid encoding: one bit-packed run."""
    if values.size == 0:
        return []
    return [_varint((-(-values.size // 8) << 1) | 1), bitpack(values, width)]


def rle_run(count: int, value: int, width: int) -> bytes:
    """``count`` times ``value`` as one RLE run of the hybrid encoding."""
    return _varint(count << 1) + int(value).to_bytes(-(-width // 8), "little") if count else b""


def delta_lengths(count: int, length: int) -> bytes:
    """DELTA_BINARY_PACKED lengths of ``count`` strings all ``length`` long: the header (128
    values per block, 4 miniblocks, the count, the first length), then per block a zero
    minimum delta and four zero bit widths (a zero-width miniblock has no bytes)."""
    header = _varint(128) + _varint(4) + _varint(count) + _varint(_zigzag(length))
    return header + bytes(5) * (-(-(count - 1) // 128) if count > 1 else 0)


def plain_strings(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """PLAIN byte arrays: each value as a 4-byte little-endian length, then its bytes."""
    n = offsets.size - 1
    lengths = np.diff(offsets).astype("<u4")
    body = data[offsets[0] : offsets[-1]]
    if n and lengths.min() == lengths.max():  # fixed width: one reshape
        width = int(lengths[0])
        rows = np.empty((n, 4 + width), dtype=np.uint8)
        rows[:, :4] = lengths.view(np.uint8).reshape(n, 4)[0]
        rows[:, 4:] = body.reshape(n, width)
        return rows.reshape(-1)
    out = np.empty(4 * n + body.size, dtype=np.uint8)
    starts = (offsets[:-1] - offsets[0]) + 4 * np.arange(n, dtype=np.int64)
    is_length = np.zeros(out.size, dtype=bool)
    for k in range(4):
        out[starts + k] = lengths.view(np.uint8).reshape(n, 4)[:, k]
        is_length[starts + k] = True
    out[~is_length] = body
    return out


# --- Arrow buffers as numpy -----------------------------------------------------------------------


def _bitmap(array: pa.Array) -> np.ndarray | None:
    """The validity bitmap from the array's first slot, or None when nothing is null."""
    if array.null_count == 0:
        return None
    n, offset = len(array), array.offset
    bitmap = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    if offset % 8 == 0:
        return bitmap[offset // 8 : (offset + n + 7) // 8]
    valid = np.unpackbits(bitmap, bitorder="little", count=offset + n)[offset:]
    return np.packbits(valid, bitorder="little")


def _kept(array: pa.Array) -> np.ndarray:
    """The values in the valid slots of a primitive array (a dictionary array: its indices).
    Arrow's filter reads the validity bitmap a word at a time: 3 to 7 times faster than
    np.compress with one bool per slot, dense or sparse."""
    data = array.indices if pa.types.is_dictionary(array.type) else array
    n, offset = len(data), data.offset
    kept = pa.Array.from_buffers(data.type, n, [None, data.buffers()[1]], offset=offset)
    if data.null_count:
        kept = pc.filter(kept, pa.Array.from_buffers(pa.bool_(), n, [None, data.buffers()[0]], offset=offset))
    dtype = (
        np.uint8 if data.type == pa.bool_() else np.int32 if data.type == pa.date32() else data.type.to_pandas_dtype()
    )
    buffer = np.frombuffer(kept.buffers()[1], dtype=dtype)
    if data.type == pa.bool_():
        return np.unpackbits(buffer, bitorder="little", count=kept.offset + len(kept))[kept.offset :].view(np.bool_)
    return buffer[kept.offset : kept.offset + len(kept)]


def _string_offsets(array: pa.Array) -> np.ndarray:
    return np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + len(array) + 1]


def _plain_string_array(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """PLAIN bytes of a string array without nulls, and where each value's bytes end (with 0 first)."""
    offsets = _string_offsets(array)
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8) if array.buffers()[2] else np.zeros(0, np.uint8)
    ends = (offsets - offsets[0]).astype(np.int64) + 4 * np.arange(offsets.size, dtype=np.int64)
    return plain_strings(offsets, data), ends


def _dictionary_page(dictionary: pa.Array) -> np.ndarray:
    if dictionary.type != pa.string() or dictionary.null_count:
        raise TypeError("dictionaries must be strings without nulls")
    return _plain_string_array(dictionary)[0]


# --- columns --------------------------------------------------------------------------------------


@dataclass
class Leaf:
    """One column chunk's levels and values, ready to be cut into pages. A flat column's
    definition levels are its validity bitmap (level 1 = set); a list column has a level per
    entry (an item, or one for an empty or null list) and a repetition level per entry."""

    rows: int
    entries: int
    values: np.ndarray  # the present values: dictionary indices, bools, or PLAIN bytes
    valid_bits: np.ndarray | None = None  # flat columns with nulls
    def_levels: np.ndarray | None = None  # list columns: 0 null list, 1 empty, 2 null item, 3 item
    continued: np.ndarray | None = None  # list columns: repetition level 1 (not a row's first entry)
    row_entry: np.ndarray | None = None  # list columns: each row's first entry, then the end
    value_ends: np.ndarray | None = None  # strings: where each value's bytes end, 0 first
    fixed_length: int | None = None  # strings all this long: DELTA_LENGTH_BYTE_ARRAY, else PLAIN
    dictionary: np.ndarray | None = None  # the dictionary page's PLAIN body
    dictionary_size: int = 0
    statistics: bytes | None = None

    @property
    def present(self) -> int:
        return self.values.size if self.value_ends is None else self.value_ends.size - 1

    @property
    def encoding(self) -> int:
        """The data pages' encoding of the values."""
        if self.dictionary is not None:
            return RLE_DICTIONARY
        return DELTA_LENGTH_BYTE_ARRAY if self.fixed_length is not None else PLAIN


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    physical: int
    max_def: int
    max_rep: int
    schema: tuple[bytes, ...]  # SchemaElements, depth first
    path: tuple[str, ...]

    @staticmethod
    def of(fld: pa.Field) -> ColumnSpec:
        kind, name = fld.type, fld.name
        string = (i32(6, UTF8), struct_(10, tstruct(struct_(LOGICAL_STRING, tstruct()))))
        if pa.types.is_list(kind) and _dictionary_string(kind.value_type):
            outer = tstruct(
                i32(3, OPTIONAL),
                binary(4, name),
                i32(5, 1),
                i32(6, LIST),
                struct_(10, tstruct(struct_(LOGICAL_LIST, tstruct()))),
            )
            middle = tstruct(i32(3, REPEATED), binary(4, "list"), i32(5, 1))
            element = tstruct(i32(1, BYTE_ARRAY), i32(3, OPTIONAL), binary(4, "element"), *string)
            return ColumnSpec(name, BYTE_ARRAY, 3, 1, (outer, middle, element), (name, "list", "element"))
        if _dictionary_string(kind) or kind == pa.string():
            element = tstruct(i32(1, BYTE_ARRAY), i32(3, OPTIONAL), binary(4, name), *string)
            return ColumnSpec(name, BYTE_ARRAY, 1, 0, (element,), (name,))
        if kind == pa.date32():
            date = struct_(10, tstruct(struct_(LOGICAL_DATE, tstruct())))
            element = tstruct(i32(1, INT32), i32(3, OPTIONAL), binary(4, name), i32(6, DATE), date)
            return ColumnSpec(name, INT32, 1, 0, (element,), (name,))
        if kind == pa.bool_():
            element = tstruct(i32(1, BOOLEAN), i32(3, OPTIONAL), binary(4, name))
            return ColumnSpec(name, BOOLEAN, 1, 0, (element,), (name,))
        raise TypeError(f"{name}: Arrow type {kind} is not supported by engine.generate.parquet")


def _dictionary_string(kind: pa.DataType) -> bool:
    return (
        pa.types.is_dictionary(kind)
        and kind.value_type == pa.string()
        and kind.index_type in (pa.int8(), pa.int16(), pa.uint8(), pa.uint16())
    )


def _statistics(low: bytes, high: bytes, nulls: int) -> bytes:
    return tstruct(i64(3, nulls), binary(5, high), binary(6, low), bool_(7, True), bool_(8, True))


def _string_statistics(dictionary: pa.Array, indices: np.ndarray, nulls: int) -> bytes:
    """min / max (bytewise, as Parquet orders UTF-8) over the dictionary entries in use."""
    used = np.flatnonzero(np.bincount(indices.astype(np.intp), minlength=len(dictionary)))
    if used.size == 0:
        return tstruct(i64(3, nulls))
    values = [dictionary[int(i)].as_py().encode() for i in used]
    return _statistics(min(values), max(values), nulls)


def leaf(spec: ColumnSpec, array: pa.Array, statistics: bool) -> Leaf:
    """Levels and values of one column of one row group."""
    n, kind = len(array), array.type
    if pa.types.is_list(kind):
        return _list_leaf(array, statistics)
    bits = _bitmap(array)
    nulls = array.null_count
    if kind == pa.string():
        present = array if bits is None else array.drop_null()
        offsets = _string_offsets(present)
        lengths = np.diff(offsets)
        if lengths.size and lengths.min() == lengths.max():  # client_id: the bytes as they are
            data = np.frombuffer(present.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
            return Leaf(n, n, data, bits, value_ends=offsets - offsets[0], fixed_length=int(lengths[0]))
        plain, ends = _plain_string_array(present)
        return Leaf(n, n, plain, bits, value_ends=ends)
    if kind == pa.bool_():
        return Leaf(n, n, _kept(array), bits)
    if pa.types.is_dictionary(kind):
        present = _kept(array)
        stats = _string_statistics(array.dictionary, present, nulls) if statistics else None
        dictionary = _dictionary_page(array.dictionary)
        return Leaf(n, n, present, bits, dictionary=dictionary, dictionary_size=len(array.dictionary), statistics=stats)
    if kind == pa.date32():  # dictionary encoded over the days from the first to the last
        present = _kept(array)
        low, high = (int(present.min()), int(present.max())) if present.size else (0, 0)
        if high - low >= 1 << 16:
            raise ValueError(f"{spec.name}: the dates span more than 65,536 days, too many for a dictionary")
        stats = None
        if statistics and present.size:
            stats = _statistics(struct.pack("<i", low), struct.pack("<i", high), nulls)
        dictionary = np.arange(low, high + 1, dtype="<i4").view(np.uint8)
        codes = (present - low).astype(np.uint16)
        return Leaf(n, n, codes, bits, dictionary=dictionary, dictionary_size=high - low + 1, statistics=stats)
    raise TypeError(f"{spec.name}: Arrow type {kind} is not supported")


def _list_leaf(array: pa.ListArray, statistics: bool) -> Leaf:
    """Levels of an optional list of optional items."""
    n = len(array)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + n + 1]
    first, last = int(offsets[0]), int(offsets[-1])
    items = array.values.slice(first, last - first)
    empty = offsets[1:] == offsets[:-1]
    empties = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(empty, out=empties[1:])
    row_entry = offsets - first + empties  # an entry per item, and one per empty or null list
    entries = int(row_entry[-1])
    continued = np.ones(entries, dtype=bool)
    continued[row_entry[:-1]] = False
    levels = np.full(entries, 3, dtype=np.uint8)
    empty_rows = np.flatnonzero(empty)
    if array.null_count:  # an empty row's level: 1 for an empty list, 0 for a null one
        bitmap, slot = np.frombuffer(array.buffers()[0], dtype=np.uint8), empty_rows + array.offset
        levels[row_entry[empty_rows]] = (bitmap[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1
    else:
        levels[row_entry[empty_rows]] = 1
    if items.null_count:  # few: each null item's entry is shifted by the empty lists before it
        null_items = pc.indices_nonzero(items.is_null()).to_numpy().astype(np.int64)
        row = np.searchsorted(offsets, null_items + first, side="right") - 1
        levels[null_items + empties[row]] = 2
    present = _kept(items)
    stats = _string_statistics(items.dictionary, present, entries - present.size) if statistics else None
    return Leaf(
        n,
        entries,
        present,
        def_levels=levels,
        continued=continued,
        row_entry=row_entry,
        dictionary=_dictionary_page(items.dictionary),
        dictionary_size=len(items.dictionary),
        statistics=stats,
    )


# --- the file -------------------------------------------------------------------------------------


@dataclass
class _ChunkMeta:
    """A column chunk's metadata; offsets are relative to its row group's first byte."""

    spec: ColumnSpec
    start: int
    dictionary_offset: int | None
    data_offset: int
    values: int
    uncompressed: int
    compressed: int
    pages: int
    statistics: bytes | None
    encoding: int  # of the data pages' values

    def thrift(self, codec: int, base: int) -> bytes:
        page_stats = [tstruct(i32(1, DATA_PAGE), i32(2, self.encoding), i32(3, self.pages))]
        encodings = sorted({RLE, self.encoding} | ({PLAIN} if self.dictionary_offset is not None else set()))
        if self.dictionary_offset is not None:
            page_stats.insert(0, tstruct(i32(1, DICTIONARY_PAGE), i32(2, PLAIN), i32(3, 1)))
        meta = tstruct(
            i32(1, self.spec.physical),
            list_(2, T_I32, encodings),
            list_(3, T_BINARY, self.spec.path),
            i32(4, codec),
            i64(5, self.values),
            i64(6, self.uncompressed),
            i64(7, self.compressed),
            i64(9, base + self.data_offset),
            i64(11, None if self.dictionary_offset is None else base + self.dictionary_offset),
            struct_(12, self.statistics),
            list_(13, T_STRUCT, page_stats),
        )
        return tstruct(i64(2, base + self.start), struct_(3, meta))


@dataclass
class RowGroup:
    """One encoded row group: its bytes (pages, in column order) and its columns' metadata."""

    rows: int
    pieces: list[bytes | np.ndarray] = field(default_factory=list)
    size: int = 0
    columns: list[_ChunkMeta] = field(default_factory=list)

    def add(self, *pieces: bytes | np.ndarray) -> None:
        for piece in pieces:
            self.pieces.append(piece)
            self.size += len(piece) if isinstance(piece, bytes) else piece.nbytes


class ParquetWriter:
    """Writes one row group per :meth:`write`, the footer on :meth:`close`.

    :meth:`write` is :meth:`encode` (the work: levels, packing, compression; safe to run in
    several threads at once) then :meth:`append` (the file, in order).
    ``compression_level`` None writes uncompressed pages, else zstd at that level.
    ``statistics`` names the columns that get min / max / null count statistics. A data page
    holds about ``page_bytes`` of encoded (uncompressed) data.
    """

    def __init__(
        self,
        sink: BinaryIO,
        schema: pa.Schema,
        *,
        compression_level: int | None = 1,
        statistics: Sequence[str] = (),
        page_bytes: int = 1 << 20,
    ) -> None:
        self._sink = sink
        self._schema = schema
        self._specs = [ColumnSpec.of(f) for f in schema]
        self._codec = None if compression_level is None else pa.Codec("zstd", compression_level=compression_level)
        self._statistics = frozenset(statistics)
        if unknown := self._statistics - set(schema.names):
            raise ValueError(f"statistics for unknown columns: {sorted(unknown)}")
        self._page_bytes = page_bytes
        self._row_groups: list[tuple[int, RowGroup]] = []  # (first byte, row group)
        self._position = 0
        self._emit([MAGIC])

    def write(self, table: pa.Table) -> None:
        """``table`` (with this writer's schema) as one row group."""
        self.append(self.encode(table))

    def encode(self, table: pa.Table) -> RowGroup:
        """``table`` (with this writer's schema) encoded as one row group, not yet written."""
        if table.schema != self._schema:
            raise ValueError("the table's schema differs from the writer's")
        group = RowGroup(table.num_rows)
        if table.num_rows:
            for spec, column in zip(self._specs, table.columns, strict=True):
                array = column.chunks[0] if column.num_chunks == 1 else pa.concat_arrays(column.chunks)
                self._encode_chunk(group, spec, leaf(spec, array, spec.name in self._statistics))
        return group

    def append(self, group: RowGroup) -> None:
        """Writes an encoded row group after the ones before it (none for an empty table)."""
        if group.rows:
            self._row_groups.append((self._position, group))
            self._emit(group.pieces)
            group.pieces = []  # the bytes are written; keep only the metadata

    def close(self) -> None:
        codec = UNCOMPRESSED if self._codec is None else ZSTD
        schema = [tstruct(i32(3, REQUIRED), binary(4, "schema"), i32(5, len(self._specs)))]
        for spec in self._specs:
            schema.extend(spec.schema)
        groups = [
            tstruct(
                list_(1, T_STRUCT, [c.thrift(codec, start) for c in group.columns]),
                i64(2, sum(c.uncompressed for c in group.columns)),
                i64(3, group.rows),
                i64(5, start),
                i64(6, sum(c.compressed for c in group.columns)),
                (7, T_I16, ordinal),
            )
            for ordinal, (start, group) in enumerate(self._row_groups)
        ]
        type_defined_order = tstruct(struct_(1, tstruct()))
        footer = tstruct(
            i32(1, 2),
            list_(2, T_STRUCT, schema),
            i64(3, sum(group.rows for _, group in self._row_groups)),
            list_(4, T_STRUCT, groups),
            binary(6, CREATED_BY),
            list_(7, T_STRUCT, [type_defined_order] * len(self._specs)),
        )
        self._emit([footer, struct.pack("<I", len(footer)), MAGIC])

    def _emit(self, pieces: Iterable[bytes | np.ndarray]) -> None:
        for piece in pieces:
            self._sink.write(piece if isinstance(piece, bytes) else piece.data)
            self._position += len(piece) if isinstance(piece, bytes) else piece.nbytes

    def _page(self, group: RowGroup, page_type: int, body: bytes, header: bytes) -> tuple[int, int]:
        """Adds a page to ``group``; its (uncompressed, compressed) size with the header."""
        data = body if self._codec is None else self._codec.compress(body, asbytes=True)
        kind = struct_(5 if page_type == DATA_PAGE else 7, header)
        head = tstruct(i32(1, page_type), i32(2, len(body)), i32(3, len(data)), kind)
        group.add(head, data)
        return len(head) + len(body), len(head) + len(data)

    def _encode_chunk(self, group: RowGroup, spec: ColumnSpec, encoded: Leaf) -> None:
        start = group.size
        uncompressed = compressed = 0
        dictionary_offset = None
        if encoded.dictionary is not None:
            dictionary_offset = group.size
            header = tstruct(i32(1, encoded.dictionary_size), i32(2, PLAIN))
            raw, packed = self._page(group, DICTIONARY_PAGE, encoded.dictionary.tobytes(), header)
            uncompressed, compressed = uncompressed + raw, compressed + packed
        data_offset = group.size
        width = index_width(encoded.dictionary_size) if encoded.dictionary is not None else 0
        bounds = self._page_bounds(encoded, width)
        present = self._present_before(encoded, bounds)
        encoding = encoded.encoding
        for page in range(bounds.size - 1):
            r0, r1 = int(bounds[page]), int(bounds[page + 1])
            v0, v1 = int(present[page]), int(present[page + 1])
            parts = self._page_body(spec, encoded, r0, r1, v0, v1, width)
            body = b"".join(p if isinstance(p, bytes) else p.data for p in parts)
            e0, e1 = (r0, r1) if encoded.row_entry is None else (int(encoded.row_entry[r0]), int(encoded.row_entry[r1]))
            header = tstruct(i32(1, e1 - e0), i32(2, encoding), i32(3, RLE), i32(4, RLE))
            raw, packed = self._page(group, DATA_PAGE, body, header)
            uncompressed, compressed = uncompressed + raw, compressed + packed
        group.columns.append(
            _ChunkMeta(
                spec,
                start,
                dictionary_offset,
                data_offset,
                encoded.entries,
                uncompressed,
                compressed,
                bounds.size - 1,
                encoded.statistics,
                encoding,
            )
        )

    def _page_bounds(self, encoded: Leaf, width: int) -> np.ndarray:
        """Row boundaries of the data pages, at multiples of 8 rows (so that a flat column's
        validity bitmap splits at whole bytes): as many pages as ``page_bytes`` asks for."""
        if encoded.value_ends is not None:
            size = int(encoded.value_ends[-1])
        else:
            size = encoded.values.size * max(width, 1) // 8
        size += encoded.entries // 2 if encoded.def_levels is not None else encoded.entries // 8
        pages = max(1, min(-(-size // self._page_bytes), encoded.rows // 8))
        bounds = (np.arange(pages + 1, dtype=np.int64) * encoded.rows // pages) // 8 * 8
        bounds[-1] = encoded.rows
        return bounds

    @staticmethod
    def _present_before(encoded: Leaf, bounds: np.ndarray) -> np.ndarray:
        """How many present values precede each page boundary."""
        inner = bounds[1:-1]
        if inner.size == 0:
            before = inner
        elif encoded.def_levels is not None:
            assert encoded.row_entry is not None
            before = np.cumsum(encoded.def_levels == 3)[encoded.row_entry[inner] - 1]
        elif encoded.valid_bits is not None:
            before = np.cumsum(np.unpackbits(encoded.valid_bits, bitorder="little"))[inner - 1]
        else:
            before = inner
        return np.concatenate([[0], before, [encoded.present]]).astype(np.int64)

    @staticmethod
    def _page_body(
        spec: ColumnSpec, encoded: Leaf, r0: int, r1: int, v0: int, v1: int, width: int
    ) -> list[bytes | np.ndarray]:
        parts: list[bytes | np.ndarray] = []
        if encoded.row_entry is not None:
            assert encoded.continued is not None and encoded.def_levels is not None
            e0, e1 = int(encoded.row_entry[r0]), int(encoded.row_entry[r1])
            _levels(parts, hybrid(encoded.continued[e0:e1], 1))
            _levels(parts, hybrid(encoded.def_levels[e0:e1], bit_width(spec.max_def)))
        elif encoded.valid_bits is not None:  # r0 is a multiple of 8
            bits = encoded.valid_bits[r0 // 8 : (r1 + 7) // 8]
            _levels(parts, [_varint((bits.size << 1) | 1), bits])
        else:
            _levels(parts, [rle_run(r1 - r0, 1, 1)])
        if encoded.value_ends is not None:
            if encoded.fixed_length is not None:
                parts.append(delta_lengths(v1 - v0, encoded.fixed_length))
            parts.append(encoded.values[encoded.value_ends[v0] : encoded.value_ends[v1]])
        elif encoded.dictionary is not None:
            parts.append(bytes([width]))
            parts.extend(hybrid(encoded.values[v0:v1], width))
        else:
            parts.append(np.packbits(encoded.values[v0:v1], bitorder="little"))
        return parts


def _levels(parts: list[bytes | np.ndarray], encoded: list[bytes | np.ndarray]) -> None:
    """A v1 data page's levels: their byte length (4 bytes, little endian), then the runs."""
    size = sum(len(p) if isinstance(p, bytes) else p.nbytes for p in encoded)
    parts.append(struct.pack("<I", size))
    parts.extend(encoded)
