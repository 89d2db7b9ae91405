"""CSV through pyarrow's streaming reader: dialect and encoding sniffed, rows strict.

Why pyarrow and not Polars' own CSV reader: Polars pads a row with too few fields with
nulls and has no line numbers, so an export cut off mid-row (an interrupted download)
would be counted with a client's last fields missing. pyarrow's reader reports every row
with the wrong number of fields, with its row number; it transcodes Windows-1252 on the
fly, skips blank lines, reads gzip/bz2 streams, and stays a stream: batches flow into the
lazy plan as a Polars IO source, so nothing is read until the plan runs, and a second read
(the duplicate check, rejected-row details) simply opens the file again.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import polars as pl
from polars.io.plugins import register_io_source

from engine.errors import FileError

if TYPE_CHECKING:  # pyarrow is imported when a CSV file is read: a count of Parquet never needs it
    import pyarrow.csv as pacsv

DELIMITERS = {",": "komma", ";": "puntkomma", "\t": "tab", "|": "verticale streep"}
SNIFF_BYTES = 1 << 18
EXCEL_SEP = re.compile(r"^sep=(.)$")
#: Windows-1252 leaves these five bytes undefined: a file that holds one is not Windows-1252.
CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
MAX_SHOWN_ROWS = 5
BLOCK_SIZE = 8 << 20

ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "cp1252": "cp1252", "windows-1252": "cp1252", "latin-1": "latin-1"}

Opener = Callable[[], IO[bytes]]


def opener(path: Path, compression: str | None, member: str | None = None) -> Opener:
    """A function that opens the (decompressed) bytes of the file anew each time."""
    if member is not None:

        def open_member() -> IO[bytes]:
            archive = zipfile.ZipFile(path)
            return archive.open(member)

        return open_member
    if compression in ("gzip", "bz2"):
        module = gzip if compression == "gzip" else bz2

        def open_compressed() -> IO[bytes]:
            return cast(IO[bytes], module.open(path, "rb"))

        return open_compressed
    return lambda: path.open("rb")


@dataclass
class Dialect:
    """How one CSV file is written, as sniffed (or given)."""

    encoding: str
    delimiter: str
    bom: bool
    header: list[str]
    how: dict[str, str] = field(default_factory=dict)  # what was sniffed / given, for inspect
    skip: int = 1  # physical lines up to and including the header (Excel's "sep=;" line, blank lines)


def _decode_sample(sample: bytes, name: str, encoding: str | None) -> tuple[str, str, bool, str]:
    bom = sample.startswith(codecs.BOM_UTF8)
    if bom:
        sample = sample[len(codecs.BOM_UTF8) :]
    if encoding is not None:
        chosen = ENCODINGS.get(encoding.lower())
        if chosen is None:
            raise FileError(f"--encoding {encoding}: onbekend; kies utf-8 of cp1252 (Windows-1252)")
        try:
            return chosen, sample.decode(chosen, errors="strict"), bom, "gegeven"
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 3:
                raise _undecodable(name, chosen, sample, exc.start) from None
            return chosen, sample[: exc.start].decode(chosen), bom, "gegeven"
    try:
        return "utf-8", sample.decode("utf-8"), bom, "gevonden"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a character cut at the end of the sample
            return "utf-8", sample[: exc.start].decode("utf-8"), bom, "gevonden"
    bad = next((i for i, b in enumerate(sample) if bytes([b]) in CP1252_UNDEFINED), None)
    if bad is not None:
        raise _undecodable(name, "utf-8 of cp1252", sample, bad)
    return "cp1252", sample.decode("cp1252"), bom, "gevonden (geen geldige UTF-8)"


def _undecodable(name: str, encoding: str, data: bytes, offset: int) -> FileError:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    excerpt = data[start : min(offset + 20, len(data))].decode("cp1252", errors="replace").splitlines()[0][:60]
    return FileError(
        f"{name}: regel {line}: byte 0x{data[offset]:02x} is geen tekst in {encoding} ('{excerpt}'). "
        "Sla de export op als CSV UTF-8, of geef de codering op met --encoding."
    )


def _sniff_delimiter(text: str, name: str, given: str | None) -> tuple[str, str]:
    lines = [line for line in text.splitlines()[:60] if line.strip()]
    if len(text) >= SNIFF_BYTES - 4 and len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut
    if not lines:
        raise FileError(f"{name} is leeg: geen kopregel")
    if given is not None:
        names = {"tab": "\t", "\\t": "\t", "komma": ",", "puntkomma": ";"}
        delimiter = names.get(given, given)
        if len(delimiter) != 1:
            raise FileError(f"--scheidingsteken {given!r}: geef één teken, of 'tab'")
        return delimiter, "gegeven"
    scored = []
    for candidate in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=candidate))
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(len(r) == width for r in rows[1:])
        scored.append((consistent == len(rows) - 1, width, candidate))
    if not scored:
        raise FileError(
            f"{name}: geen scheidingsteken gevonden in de kopregel (gezocht: komma, puntkomma, tab, "
            "verticale streep). Is dit een CSV-bestand? Geef het teken op met --scheidingsteken."
        )
    scored.sort(reverse=True)
    return scored[0][2], "gevonden"


def sniff(open_bytes: Opener, name: str, encoding: str | None, delimiter: str | None) -> Dialect:
    with open_bytes() as handle:
        sample = handle.read(SNIFF_BYTES)
    if not sample.strip():
        raise FileError(f"{name} is leeg (0 rijen, geen kopregel)")
    chosen, text, bom, how_encoding = _decode_sample(sample, name, encoding)
    lines = text.split("\n")
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    # Excel writes "sep=;" as a first line when asked to name the delimiter: it names it.
    excel_sep = EXCEL_SEP.match(lines[skip].strip()) if skip < len(lines) else None
    if excel_sep:
        skip += 1
        while skip < len(lines) and not lines[skip].strip():
            skip += 1
    rest = "\n".join(lines[skip:])
    if excel_sep and delimiter is None:
        sep, how_sep = excel_sep.group(1), "gegeven in de eerste regel (sep=)"
    else:
        sep, how_sep = _sniff_delimiter(rest, name, delimiter)
    header = next(csv.reader([lines[skip].rstrip("\r")], delimiter=sep))
    how = {"encoding": how_encoding, "scheidingsteken": how_sep}
    return Dialect(chosen, sep, bom, header, how, skip=skip + 1)


@dataclass
class _RaggedRows:
    expected: int
    rows: list[tuple[int | None, int, str]] = field(default_factory=list)
    n: int = 0

    def handle(self, row: pacsv.InvalidRow) -> str:
        self.n += 1
        if len(self.rows) < MAX_SHOWN_ROWS:
            self.rows.append((row.number, row.actual_columns, row.text[:80]))
        return "skip"

    def error(self, name: str) -> FileError:
        shown = "\n".join(
            f"  rij {number if number is not None else '?'}: {actual} velden: {text!r}"
            for number, actual, text in self.rows
        )
        return FileError(
            f"{name}: {self.n} rij(en) hebben niet de {self.expected} velden van de kopregel "
            f"(een afgebroken of verschoven export?); niets is geteld. Rijnummers tellen de kopregel als rij 1, "
            f"lege regels niet.\n{shown}"
        )


def scan(open_bytes: Opener, name: str, dialect: Dialect, columns: dict[str, int]) -> pl.LazyFrame:
    """The file as a lazy frame of text columns: ``columns`` maps each output name to the
    position of its field in the header.

    Every field is text; the contract types it. Empty fields are null. A row with too few or
    too many fields stops the run once the whole file was read, naming the rows."""
    schema = dict.fromkeys(columns, pl.String())

    def batches(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        wanted = with_columns if with_columns is not None else list(columns)
        fields = [f"f{columns[c]}" for c in wanted]
        ragged = _RaggedRows(len(dialect.header))
        read = 0
        import pyarrow as pa

        with open_bytes() as handle:
            try:
                reader = _open_reader(handle, dialect, sorted(set(fields)), ragged)
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        break
                    frame = pl.from_arrow(batch) if wanted else pl.DataFrame(height=batch.num_rows)
                    assert isinstance(frame, pl.DataFrame)
                    if wanted:
                        frame = frame.select(pl.col(f).alias(w) for f, w in zip(fields, wanted, strict=True))
                    if n_rows is not None and read + frame.height > n_rows:
                        frame = frame.head(n_rows - read)
                    read += frame.height
                    if predicate is not None:
                        frame = frame.filter(predicate)
                    yield frame
                    if n_rows is not None and read >= n_rows:
                        return
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise _read_error(open_bytes, name, dialect, exc, read) from None
        if ragged.n:
            raise ragged.error(name)

    return register_io_source(batches, schema=schema)


def _open_reader(
    handle: IO[bytes], dialect: Dialect, fields: list[str], ragged: _RaggedRows
) -> pacsv.CSVStreamingReader:
    # Fields are named by position (f0, f1, ...): a header may repeat a name or hold odd ones.
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"f{i}" for i in range(len(dialect.header))]
    return pacsv.open_csv(
        handle,
        read_options=pacsv.ReadOptions(
            encoding=dialect.encoding,
            use_threads=False,
            block_size=BLOCK_SIZE,
            column_names=names,
            skip_rows=dialect.skip,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=dialect.delimiter, newlines_in_values=True, invalid_row_handler=ragged.handle
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            include_columns=fields,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _read_error(open_bytes: Opener, name: str, dialect: Dialect, exc: Exception, rows_read: int) -> FileError:
    """A clear message for a file that stops reading midway: undecodable bytes, most often."""
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "UTF-8" in text:
        found = _first_undecodable(open_bytes, dialect.encoding)
        if found is not None:
            line, byte, excerpt = found
            return FileError(
                f"{name}: regel {line}: byte 0x{byte:02x} is geen tekst in {dialect.encoding} ('{excerpt}'). "
                "Sla de export op als CSV UTF-8, of geef de codering op met --encoding."
            )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return FileError(f"kan {name} niet lezen (na {rows_read} rijen): {first}")


def _first_undecodable(open_bytes: Opener, encoding: str) -> tuple[int, int, str] | None:
    """Line, byte and text of the first byte that does not decode (error path only): the file is
    decoded in chunks, and newlines counted with bytes.count."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with open_bytes() as handle:
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                offset = max(0, min(exc.start, len(chunk) - 1))
                start = chunk.rfind(b"\n", 0, offset) + 1
                excerpt = chunk[start : offset + 20].decode("cp1252", errors="replace").splitlines()[0][:60]
                return lines + chunk.count(b"\n", 0, offset) + 1, chunk[offset], excerpt
            lines += chunk.count(b"\n")
    return None
