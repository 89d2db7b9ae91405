"""Reading an export: every accepted file kind, one decision per file, one lazy frame out.

One module per source kind (``csv``, ``tabular`` for Excel and SAS/SPSS/Stata) over a
maintained reader, and this module, where the inputs are expanded (several paths, a glob,
a directory of parts, ``-`` for stdin, gzip/bz2/zip), the kind of each file is decided from
its bytes, the columns are mapped onto the input contract (``engine.readers.columns``) and
the date format of each text date column is chosen (``engine.values``). What was decided is
kept as a :class:`ReadPlan`: ``transparantie inspect`` shows it, every command uses it.

Parquet and CSV stay lazy and streaming; Excel and SAS/SPSS/Stata files are read whole
(their readers cannot stream), then join the same lazy plan.
"""

from __future__ import annotations

import bz2
import glob as globbing
import gzip
import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from engine.contract import DATE_COLUMNS, REQUIRED_COLUMNS
from engine.errors import FileError, SchemaError
from engine.readers import columns as colmap
from engine.readers import csv as csvread
from engine.readers import tabular
from engine.source import PREPARED_KEY, Source
from engine.values import DateChoice, choose_date_format, input_values

PARQUET_MAGIC = b"PAR1"
STDIN = "-"
#: Rows read to decide a text date column's format; when they leave it ambiguous, all of
#: the column's distinct values decide.
DATE_SAMPLE_ROWS = 100_000
KIND_NAMES = {
    "parquet": "Parquet",
    "csv": "CSV",
    "excel": "Excel",
    "spss": "SPSS",
    "stata": "Stata",
    "sas": "SAS",
    "prepared": "voorbereid (transparantie prepare)",
    "frame": "dataframe",
}


@dataclass(frozen=True)
class ReadOptions:
    """What a user may say about an export; everything else is sniffed."""

    scheidingsteken: str | None = None
    encoding: str | None = None
    blad: str | None = None
    kolommen: Path | None = None
    datumformaat: tuple[str, ...] = ()  # "FORMAAT" for every text date column, or "kolom=FORMAAT"

    def date_formats(self) -> dict[str, str]:
        given: dict[str, str] = {}
        for item in self.datumformaat:
            column, sep, fmt = item.partition("=")
            if not sep:
                given.update(dict.fromkeys(DATE_COLUMNS, item.strip()))
                continue
            if column.strip() not in DATE_COLUMNS:
                raise SchemaError(f"--datumformaat {item}: '{column}' is geen datumkolom ({', '.join(DATE_COLUMNS)})")
            given[column.strip()] = fmt.strip()
        for fmt in given.values():
            input_values().date_formats(fmt)  # raises with the known formats
        return given


@dataclass
class Part:
    """One file of the input, as found."""

    path: Path  # the file on disk (a temporary copy for stdin and archives)
    name: str  # as the user knows it
    kind: str
    compression: str | None = None
    member: str | None = None  # inside a zip archive
    dialect: csvread.Dialect | None = None
    sheet: str | None = None


@dataclass
class ReadPlan:
    """Everything decided about how the input is read, for ``inspect`` and the JSON reports."""

    name: str
    kind: str
    parts: list[Part]
    columns: colmap.ColumnMap | None = None
    dates: dict[str, DateChoice] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        first = self.parts[0] if self.parts else None
        dialect = first.dialect if first else None
        return {
            "bestand": self.name,
            "formaat": KIND_NAMES.get(self.kind, self.kind),
            "delen": [p.name for p in self.parts],
            "compressie": sorted({p.compression or ("zip" if p.member else "") for p in self.parts} - {""}),
            "codering": dialect.encoding if dialect else None,
            "codering_bepaald": dialect.how.get("encoding") if dialect else None,
            "bom": dialect.bom if dialect else None,
            "scheidingsteken": dialect.delimiter if dialect else None,
            "scheidingsteken_bepaald": dialect.how.get("scheidingsteken") if dialect else None,
            "blad": first.sheet if first else None,
            "kolommen": {
                c: {"bron": self.columns.source[c], "gevonden": self.columns.how[c], "type": self.dtypes.get(c)}
                for c in REQUIRED_COLUMNS
            }
            if self.columns
            else {},
            "datumformaten": {c: {"formaat": d.format, "bepaald": d.how} for c, d in self.dates.items()},
        }


# --- finding the files ---------------------------------------------------------------------------


def _expand(inputs: Sequence[str | Path], scratch: Path) -> list[tuple[Path, str]]:
    """(file on disk, name for the user) for every input: globs expanded, directories listed,
    stdin copied to a private temporary file."""
    found: list[tuple[Path, str]] = []
    for item in inputs:
        text = str(item)
        if text == STDIN:
            target = scratch / "stdin"
            with target.open("wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
            found.append((target, "stdin"))
            continue
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not _not_data(p.relative_to(path)))
            if not files:
                raise FileError(f"map {path} bevat geen bestanden")
            found += [(p, str(p)) for p in files]
            continue
        if not path.exists() and any(ch in text for ch in "*?["):
            matches = sorted(globbing.glob(text, recursive=True))
            if not matches:
                raise FileError(f"geen bestanden gevonden voor het patroon {text}")
            found += [(Path(m), m) for m in matches if Path(m).is_file()]
            continue
        if not path.exists():
            raise FileError(f"invoerbestand niet gevonden: {path}")
        if path.stat().st_size == 0:
            raise FileError(f"invoerbestand is leeg (0 bytes): {path}")
        found.append((path, str(path)))
    return found


#: Files beside the data in a directory or an archive that are never records: Spark's
#: _SUCCESS and .crc files, hidden files, a README.
NOT_DATA_SUFFIXES = (".txt", ".md", ".pdf", ".doc", ".docx", ".html", ".json", ".xml", ".crc", ".log")


def _not_data(relative: Path) -> bool:
    hidden = any(part.startswith((".", "_")) for part in relative.parts)
    return hidden or relative.suffix.lower() in NOT_DATA_SUFFIXES


def _kind(head: bytes, path: Path) -> str:
    suffix = path.suffix.lower()
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        if suffix in (".xlsx", ".xlsm", ".xlsb") or _is_xlsx(path):
            return "excel"
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"  # the old .xls (OLE2) format
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith((b"$FL2", b"$FL3")):
        return "spss"
    if head.startswith(b"<stata_dta>") or suffix == ".dta":
        return "stata"
    if suffix == ".sas7bdat" or head.startswith(b"HEADER RECORD*******LIB"):
        return "sas"
    if suffix == ".parquet":
        raise FileError(f"{path} heeft de naam .parquet maar is geen Parquet-bestand (geen PAR1-kop)")
    if b"\x00" in head:
        raise FileError(
            f"{path}: onbekend formaat. Gelezen worden Parquet, CSV (ook .gz, .bz2, .zip), Excel (.xlsx, .xls), "
            "SPSS (.sav), Stata (.dta) en SAS (.sas7bdat, .xpt)."
        )
    return "csv"


def _is_xlsx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "[Content_Types].xml" in archive.namelist() and any(n.startswith("xl/") for n in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _parts(path: Path, name: str, scratch: Path) -> list[Part]:
    with path.open("rb") as handle:
        head = handle.read(64)
    kind = _kind(head, path)
    if kind in ("gzip", "bz2"):
        opened = gzip.open(path, "rb") if kind == "gzip" else bz2.open(path, "rb")  # noqa: SIM115 - closed below
        try:
            inner_head = opened.read(64)
        except (OSError, EOFError) as exc:
            raise FileError(f"{name}: beschadigd {kind}-bestand: {exc}") from None
        inner_name = Path(name).stem
        inner = _kind(inner_head, Path(inner_name)) if inner_head else "csv"
        if inner == "csv":
            opened.close()
            return [Part(path, name, "csv", compression="gzip" if kind == "gzip" else "bz2")]
        target = scratch / f"{len(list(scratch.iterdir()))}-{Path(inner_name).name}"
        with opened, target.open("wb") as out:
            out.write(inner_head)
            shutil.copyfileobj(opened, out, 1 << 20)
        return _parts(target, name, scratch)
    if kind == "zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise FileError(f"{name}: beschadigd zip-bestand: {exc}") from None
        members = [m for m in archive.infolist() if not m.is_dir() and not _not_data(Path(m.filename))]
        if not members:
            raise FileError(f"{name}: het zip-bestand bevat geen bestanden")
        parts: list[Part] = []
        for member in members:
            with archive.open(member) as handle:
                member_head = handle.read(64)
            # A zip member (an xlsx, a zip in the zip) is told apart once extracted, by its own bytes.
            if not member_head.startswith(b"PK") and _kind(member_head, Path(member.filename)) == "csv":
                parts.append(Part(path, f"{name}:{member.filename}", "csv", member=member.filename))
            else:
                target = scratch / f"{len(list(scratch.iterdir()))}-{Path(member.filename).name}"
                with archive.open(member) as handle, target.open("wb") as out:
                    shutil.copyfileobj(handle, out, 1 << 20)
                parts += _parts(target, f"{name}:{member.filename}", scratch)
        return parts
    return [Part(path, name, kind)]


# --- reading the parts ---------------------------------------------------------------------------


def _frame(part: Part, options: ReadOptions) -> tuple[pl.LazyFrame, list[str]]:
    """The part as a lazy frame in its own column names, and those names."""
    if part.kind == "csv":
        open_bytes = csvread.opener(part.path, part.compression, part.member)
        part.dialect = csvread.sniff(open_bytes, part.name, options.encoding, options.scheidingsteken)
        return pl.LazyFrame(), part.dialect.header
    if part.kind == "excel":
        frame, part.sheet = tabular.read_excel(part.path, part.name, options.blad)
    else:
        frame = tabular.read_statistical(part.path, part.name, part.kind)
    return frame.lazy(), frame.columns


def _mapped(part: Part, options: ReadOptions, mapping: dict[str, str] | None) -> tuple[pl.LazyFrame, colmap.ColumnMap]:
    frame, headers = _frame(part, options)
    columns = colmap.map_columns(headers, part.name, mapping)
    if part.kind == "csv":
        assert part.dialect is not None
        positions = {c: headers.index(columns.source[c]) for c in REQUIRED_COLUMNS}
        open_bytes = csvread.opener(part.path, part.compression, part.member)
        return csvread.scan(open_bytes, part.name, part.dialect, positions), columns
    return frame.select(pl.col(columns.source[c]).alias(c) for c in REQUIRED_COLUMNS), columns


def _renamed(frame: pl.LazyFrame, columns: colmap.ColumnMap) -> pl.LazyFrame:
    """The scan with the contract's column names. No select on top when the names already fit:
    the plan reads this frame in several places (the duplicate check), and Polars caches a
    shared select-over-scan whole in memory (a raw 10M count: 4.8 instead of 2.5 GB)."""
    renames = {source: contract for contract, source in columns.source.items() if source != contract}
    return frame.rename(renames) if renames else frame


def _parquet(paths: list[Path], name: str, directory: Path | None) -> pl.LazyFrame:
    """One scan over every part; in a directory, ``key=value`` folders are hive partitions. A
    part may lack a column another part has (it reads as null) or hold an extra one."""
    target: Path | list[Path] = paths if len(paths) > 1 or directory is not None else paths[0]
    try:
        frame = pl.scan_parquet(
            target,
            hive_partitioning=directory is not None or None,
            missing_columns="insert" if len(paths) > 1 else "raise",
            extra_columns="ignore" if len(paths) > 1 else "raise",
        )
        frame.collect_schema()
    except Exception as exc:  # polars raises ComputeError, OSError, SchemaError ... for a broken file
        what = "de delen van " + name + " passen niet op elkaar" if len(paths) > 1 else f"kan {name} niet lezen"
        raise FileError(f"{what} als Parquet: {_first_line(exc)}") from None
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_input(inputs: str | Path | Sequence[str | Path], options: ReadOptions | None = None) -> Source:
    """Every input as one lazy frame in the contract's column names, with what was decided."""
    options = options or ReadOptions()
    items = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    if not items:
        raise FileError("geen invoerbestand opgegeven")
    scratch_dir = tempfile.TemporaryDirectory(prefix="transparantie-")
    os.chmod(scratch_dir.name, 0o700)
    scratch = Path(scratch_dir.name)
    files = _expand(items, scratch)
    name = (
        files[0][1]
        if len(files) == 1 and len(items) == 1
        else (
            str(items[0])
            if len(items) == 1
            else f"{len(files)} bestanden ({', '.join(n for _, n in files[:3])}{', …' if len(files) > 3 else ''})"
        )
    )
    parts = [p for path, shown in files for p in _parts(path, shown, scratch)]
    kinds = sorted({p.kind for p in parts})
    if len(kinds) > 1:
        raise FileError(f"{name}: de delen zijn van verschillende formaten ({', '.join(kinds)}); lees ze apart")
    kind = kinds[0]
    display = Path(str(items[0])) if len(items) == 1 else Path(name)
    keep = (scratch_dir,)

    if kind == "parquet":
        directory = Path(str(items[0])) if len(items) == 1 and Path(str(items[0])).is_dir() else None
        frame = _parquet([p.path for p in parts], name, directory)
        if len(parts) == 1 and directory is None:
            meta = pl.read_parquet_metadata(parts[0].path)
            if PREPARED_KEY in meta:
                if options.kolommen or options.datumformaat:
                    raise FileError(
                        f"{name} is voorbereid (transparantie prepare): --kolommen en --datumformaat gelden niet"
                    )
                schema = frame.collect_schema()
                plan = ReadPlan(name, "prepared", parts)
                return Source(display, "prepared", frame, schema, json.loads(meta[PREPARED_KEY]), plan=plan, keep=keep)
        headers = frame.collect_schema().names()
        mapping = colmap.load_mapping(options.kolommen) if options.kolommen else None
        columns = colmap.map_columns(headers, name, mapping)
        frame = _renamed(frame, columns)
    else:
        mapping = colmap.load_mapping(options.kolommen) if options.kolommen else None
        frames = []
        columns = None
        for part in parts:
            part_frame, part_columns = _mapped(part, options, mapping)
            frames.append(part_frame)
            columns = columns or part_columns
        try:
            frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
        except Exception as exc:
            raise FileError(f"{name}: de delen passen niet op elkaar: {_first_line(exc)}") from None
    schema = _schema(frame, name)
    plan = ReadPlan(name, kind, parts, columns, dtypes={c: str(schema[c]) for c in REQUIRED_COLUMNS})
    plan.dates = _date_formats(frame, schema, name, options)
    formats = {c: d.format for c, d in plan.dates.items()}
    return Source(display, kind, frame, schema, None, plan=plan, datumformaten=formats, keep=keep)


def _schema(frame: pl.LazyFrame, name: str) -> pl.Schema:
    try:
        return frame.collect_schema()
    except Exception as exc:
        raise FileError(f"kan {name} niet lezen: {_first_line(exc)}") from None


def _date_formats(frame: pl.LazyFrame, schema: pl.Schema, name: str, options: ReadOptions) -> dict[str, DateChoice]:
    """The format of every date column held as text, from its values (or as given)."""
    given = options.date_formats()
    text_columns = [c for c in DATE_COLUMNS if schema[c] == pl.String or schema[c].is_integer()]
    choices: dict[str, DateChoice] = {}
    for column in DATE_COLUMNS:
        if column in given:
            choices[column] = DateChoice(column, given[column], "gegeven", 0)
    todo = [c for c in text_columns if c not in choices]
    if not todo:
        return choices
    sample = frame.select(pl.col(c).cast(pl.String) for c in todo).head(DATE_SAMPLE_ROWS).collect(engine="streaming")
    for column in todo:
        numbers = schema[column].is_integer()
        try:
            choices[column] = choose_date_format(column, sample[column].unique(), name, numbers)
        except SchemaError:
            if sample.height < DATE_SAMPLE_ROWS:
                raise
            # Ambiguous in the first rows: let every distinct value of the column decide.
            distinct = frame.select(pl.col(column).cast(pl.String).unique()).collect(engine="streaming")
            choices[column] = choose_date_format(column, distinct[column], name, numbers)
    return choices
