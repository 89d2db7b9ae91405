"""Parse UWV's publication *Transparantie van klantprofielen, tweede kwartaal 2025*.

The shipped file ``reference/transparantie-klantprofielen-2025-q2.txt`` is the OCR
text of that PDF: a first page with the national figures ("Nederland ..."), then one
page per arbeidsmarktregio (AMR, numbered 1..35 in publication order).  Each region
page is a header line ("tweede kwartaal 2025 <regio>"), a boilerplate intro, and a
table of gemeente rows followed by a "Totaal AMR" row.  Every data row carries five
figures: gemeente profiel ja/nee, UWV profiel ja/nee, totaal.

:func:`parse_publication` turns that text into two tables:

* ``indeling``: which gemeente belongs to which arbeidsmarktregio (CBS spelling);
* ``officieel``: the published figures per gemeente, per region, the remainder
  that no region accounts for (``onbekend``) and the national total.

The parser is a small state machine over lines.  Prose outside the tables is
skipped, but a prose line that looks like a data row is an error; inside a table
every line must be understood.  Each row must add up (four parts = totaal) and each
region's gemeente rows must add up, column by column, to its "Totaal AMR" row.
Anything unexpected raises :class:`ValueError` naming the line.

OCR damage is repaired only through the explicit tables below; the parser records
which repairs it applied, so a stale entry is noticed (see the tests).

``python -m engine.publication`` regenerates ``reference/indeling-2025.csv`` and
``reference/officieel-2025q2.csv`` from the shipped text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum, auto
from pathlib import Path

import polars as pl

REFERENCE_DIR = Path(__file__).parent / "reference"
PUBLICATION_TXT = REFERENCE_DIR / "transparantie-klantprofielen-2025-q2.txt"
INDELING_CSV = REFERENCE_DIR / "indeling-2025.csv"
OFFICIEEL_CSV = REFERENCE_DIR / "officieel-2025q2.csv"

N_REGIONS = 35
PARTS = ("gemeente_profiel_ja", "gemeente_profiel_nee", "uwv_profiel_ja", "uwv_profiel_nee")
FIGURES = (*PARTS, "totaal")

# ---------------------------------------------------------------------------
# Repairs.  Every entry was checked by hand against the row and column totals.
# ---------------------------------------------------------------------------

# Region name as printed in the page header ("tweede kwartaal 2025 <name>", a name
# that wraps is joined with a space) -> canonical name.
REGION_NAME_REPAIRS: dict[str, str] = {
    "Noord-Holland (Noord)": "Noord-Holland Noord",  # the table itself says "Noord-Holland Noord"
    "Zuid-Kennemerland en Ijmond": "Zuid-Kennemerland en IJmond",  # header wraps; OCR "Ij"
}

# The region label in the table's first column, one fragment per line, where it is
# not simply "<nr> <canonical name>" on one line.  The first fragment follows the
# region number; each fragment may be followed on its line by a gemeente row.
TABLE_LABELS: dict[int, tuple[str, ...]] = {
    7: ("Zaanstreek-", "Waterland"),
    8: ("Zuid-Kennemerland", "en jmond"),  # OCR dropped the "I" of "IJmond"
    11: ("Veluwe", "Stedendriehoek"),
    18: ("Zuid-Holland", "Centraal"),  # on its own lines, above a split table header
}

# A gemeente name that wraps: first part as printed (with the row's figures) ->
# the next non-blank line, which holds only the rest of the name.
NAME_WRAPS: dict[str, str] = {
    "Leidschendam-": "Voorburg",  # Zuid-Holland Centraal
    "Hardinxveld-": "Giessendam",  # Drechtsteden
}

# Gemeente name as printed (wraps joined) -> CBS spelling.
NAME_REPAIRS: dict[str, str] = {
    # OCR misreads of "IJ" / "I"
    "|Jsselstein": "IJsselstein",
    "Capelle aan den |Jssel": "Capelle aan den IJssel",
    "Krimpen aan den lssel": "Krimpen aan den IJssel",
    "Oude lJsselstreek": "Oude IJsselstreek",
    "Hendrik-ldo-Ambacht": "Hendrik-Ido-Ambacht",
    # apostrophe and hyphen of 's- lost
    "s Gravenhage": "'s-Gravenhage",
    "s Hertogenbosch": "'s-Hertogenbosch",
    # Frisian circumflex / acute accents lost
    "Noardeast-Fryslan": "Noardeast-Fryslân",
    "Sudwest-Fryslan": "Súdwest-Fryslân",
    # UWV's abbreviations -> CBS names
    "Nuenen Ca": "Nuenen, Gerwen en Nederwetten",
    "Bergen NH": "Bergen (NH.)",
    "Bergen LB": "Bergen (L.)",
}

# (region number, row label as printed, figure as printed) -> value.  Region number
# 0 is the national ("Nederland") row.  Clean figures use "." as thousands separator.
NUMBER_REPAIRS: dict[tuple[int, str, str], int] = {
    (1, "Assen", "1175"): 1175,  # separator lost
    (13, "Totaal AMR", "2,127"): 2127,  # comma for dot
    (14, "Utrecht", "2,977"): 2977,  # comma for dot
    (14, "Totaal AMR", "2,191"): 2191,  # comma for dot
    (18, "Totaal AMR", "1411"): 1411,  # separator lost
    (20, "Totaal AMR", "2911"): 2911,  # separator lost
    (25, "Nijmegen", "1413"): 1413,  # separator lost
}

# (region number, row label as printed) -> the figure missing from that row; it is
# derived as totaal minus the other three parts, after which the region's column
# totals (checked for every region) confirm which column it was.
DROPPED_FIGURES: dict[tuple[int, str], str] = {
    (22, "Voorne aan Zee"): "gemeente_profiel_ja",  # printed "191 346 64 607": 607-191-346-64 = 6
}

# ---------------------------------------------------------------------------

_PAGE_HEADER = re.compile(r"tweede kwartaal 2025 (?P<name>\S.*)")
_REGION_START = re.compile(r"(?P<nr>\d{1,2}) (?P<rest>\S.*)")
_ROW = re.compile(r"(?P<label>[^\d]+?) (?P<figures>\d[\d.,]*(?: \d[\d.,]*)*)")
_FIGURE = re.compile(r"\d{1,3}(?:\.\d{3})*")
_DATA_LIKE = re.compile(r"(?:\s\d[\d.,]*){3,}$")  # three or more trailing figures
_NEDERLAND = "Nederland"
_TOTAAL = "Totaal AMR"
# Words of the (possibly split) table header that may appear inside a table.
_TABLE_HEADER_WORDS = frozenset(
    {"Arbeidsmarktregio", "Gemeente", "Gemeentecliénten", "UWV-cliénten",
     "Profiel", "Geen", "profiel", "in", "Sonar", "Totaal", "Totaalin"}
)  # fmt: skip


@dataclass
class AppliedRepairs:
    """Which entries of each repair table the parser used."""

    region_names: set[str] = field(default_factory=set)
    table_labels: set[int] = field(default_factory=set)
    name_wraps: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    numbers: set[tuple[int, str, str]] = field(default_factory=set)
    dropped_figures: set[tuple[int, str]] = field(default_factory=set)


@dataclass
class _Region:
    nr: int
    name: str
    gemeenten: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    totaal: tuple[int, ...] | None = None


class _State(Enum):
    PREAMBLE = auto()  # first page, before any region page; holds "Nederland"
    HEADER = auto()  # just read a page header; the next line may continue the name
    PROSE = auto()  # region page outside its table (intro, or after "Totaal AMR")
    TABLE = auto()  # between the region number and "Totaal AMR"


class _Parser:
    def __init__(self) -> None:
        self.state = _State.PREAMBLE
        self.nederland: tuple[int, ...] | None = None
        self.regions: list[_Region] = []
        self.applied = AppliedRepairs()
        self.lineno = 0
        self.line = ""
        self.pending_labels: list[str] = []  # region label fragments still to consume
        self.pending_wrap: str | None = None  # continuation line the next line must be

    def fail(self, message: str) -> ValueError:
        return ValueError(f"line {self.lineno}: {message}: {self.line!r}")

    # -- driver -------------------------------------------------------------

    def parse(self, text: str) -> None:
        for self.lineno, self.line in enumerate(text.splitlines(), start=1):
            line = " ".join(self.line.split())
            header = _PAGE_HEADER.fullmatch(line)
            if header:
                self.start_page(header["name"])
            elif self.state is _State.HEADER:
                self.state = _State.PROSE
                if _DATA_LIKE.search(line):
                    raise self.fail("data row outside a region table")
                if line:  # the region name wraps onto this line
                    region = self.regions[-1]
                    region.name = f"{region.name} {line}"
            elif self.state is _State.TABLE:
                self.table_line(line)
            else:
                self.prose_line(line)
        self.lineno, self.line = 0, "<end of text>"
        if self.state is _State.TABLE:
            raise self.fail(f"region {self.regions[-1].nr} has no {_TOTAAL!r} row")
        if self.nederland is None:
            raise self.fail(f"no {_NEDERLAND!r} row")
        if len(self.regions) != N_REGIONS:
            raise self.fail(f"found {len(self.regions)} region pages, expected {N_REGIONS}")
        if self.regions[-1].totaal is None:
            raise self.fail(f"region page {self.regions[-1].nr} has no table")

    def start_page(self, name: str) -> None:
        if self.state is _State.TABLE:
            raise self.fail(f"region {self.regions[-1].nr} has no {_TOTAAL!r} row")
        if self.regions and self.regions[-1].totaal is None:
            raise self.fail(f"region page {self.regions[-1].nr} has no table")
        self.regions.append(_Region(nr=len(self.regions) + 1, name=name))
        self.state = _State.HEADER

    def prose_line(self, line: str) -> None:
        if self.state is _State.PREAMBLE and line.startswith(f"{_NEDERLAND} "):
            if self.nederland is not None:
                raise self.fail(f"second {_NEDERLAND!r} row")
            label, figures = self.row(line, nr=0)
            if label != _NEDERLAND:
                raise self.fail("unexpected national row")
            self.nederland = figures
            return
        start = _REGION_START.fullmatch(line)
        if self.state is _State.PROSE and self.regions[-1].totaal is None and start:
            self.start_table(int(start["nr"]), start["rest"])
            return
        if _DATA_LIKE.search(line):
            raise self.fail("data row outside a region table")

    # -- table --------------------------------------------------------------

    def start_table(self, nr: int, rest: str) -> None:
        region = self.regions[-1]
        if nr != region.nr:
            raise self.fail(f"expected region number {region.nr}, found {nr}")
        if region.name in REGION_NAME_REPAIRS:
            self.applied.region_names.add(region.name)
            region.name = REGION_NAME_REPAIRS[region.name]
        if nr in TABLE_LABELS:
            self.applied.table_labels.add(nr)
        self.pending_labels = list(TABLE_LABELS.get(nr, (region.name,)))
        self.state = _State.TABLE
        self.table_line(rest)

    def table_line(self, line: str) -> None:
        if not line:
            return
        if self.pending_wrap is not None:
            if line != self.pending_wrap:
                raise self.fail(f"expected the rest of a wrapped name, {self.pending_wrap!r}")
            name, figures = self.regions[-1].gemeenten[-1]
            self.regions[-1].gemeenten[-1] = (name + line, figures)
            self.pending_wrap = None
            return
        if self.pending_labels:
            label = self.pending_labels.pop(0)
            if line != label and not line.startswith(f"{label} "):
                raise self.fail(f"expected region label {label!r}")
            line = line[len(label) :].strip()
            if not line:
                return
        if set(line.split()) <= _TABLE_HEADER_WORDS:
            return
        region = self.regions[-1]
        label, figures = self.row(line, nr=region.nr)
        if label == _TOTAAL:
            self.close_table(figures)
        elif label.endswith("-"):
            if label not in NAME_WRAPS:
                raise self.fail("gemeente name ends in '-' but is not in NAME_WRAPS")
            self.applied.name_wraps.add(label)
            self.pending_wrap = NAME_WRAPS[label]
            region.gemeenten.append((label, figures))
        else:
            region.gemeenten.append((label, figures))

    def close_table(self, totaal: tuple[int, ...]) -> None:
        region = self.regions[-1]
        if self.pending_labels:
            raise self.fail(f"region label fragments {self.pending_labels} not found")
        if not region.gemeenten:
            raise self.fail(f"region {region.nr} has no gemeente rows")
        sums = tuple(sum(col) for col in zip(*(f for _, f in region.gemeenten), strict=True))
        if sums != totaal:
            raise self.fail(f"gemeente rows of region {region.nr} add up to {sums}, not {totaal}")
        region.totaal = totaal
        region.gemeenten = [(self.gemeente_name(name), f) for name, f in region.gemeenten]
        self.state = _State.PROSE

    def gemeente_name(self, printed: str) -> str:
        if printed in NAME_REPAIRS:
            self.applied.names.add(printed)
            return NAME_REPAIRS[printed]
        return printed

    # -- rows ---------------------------------------------------------------

    def row(self, line: str, nr: int) -> tuple[str, tuple[int, ...]]:
        """Split a data row into its printed label and its five checked figures."""
        match = _ROW.fullmatch(line)
        if not match:
            raise self.fail("not a data row")
        label = match["label"]
        values = [self.figure(nr, label, token) for token in match["figures"].split()]
        dropped = DROPPED_FIGURES.get((nr, label))
        if dropped is not None and len(values) == len(FIGURES) - 1:
            self.applied.dropped_figures.add((nr, label))
            derived = values[-1] - sum(values[:-1])
            if derived < 0:
                raise self.fail(f"derived {dropped} is negative ({derived})")
            values.insert(FIGURES.index(dropped), derived)
        if len(values) != len(FIGURES):
            raise self.fail(f"expected {len(FIGURES)} figures, found {len(values)}")
        if sum(values[:-1]) != values[-1]:
            raise self.fail(f"parts add up to {sum(values[:-1])}, not totaal {values[-1]}")
        return label, tuple(values)

    def figure(self, nr: int, label: str, token: str) -> int:
        if _FIGURE.fullmatch(token):
            return int(token.replace(".", ""))
        key = (nr, label, token)
        if key not in NUMBER_REPAIRS:
            raise self.fail(f"malformed figure {token!r} (no NUMBER_REPAIRS entry {key})")
        self.applied.numbers.add(key)
        return NUMBER_REPAIRS[key]


def parse_publication_with_repairs(
    text: str,
) -> tuple[pl.DataFrame, pl.DataFrame, AppliedRepairs]:
    """Like :func:`parse_publication`, also reporting which repairs were applied."""
    parser = _Parser()
    parser.parse(text)
    assert parser.nederland is not None

    counts = Counter(g for r in parser.regions for g, _ in r.gemeenten)
    duplicates = sorted(name for name, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"gemeenten listed in more than one row: {duplicates}")

    region_totals = [r.totaal for r in parser.regions if r.totaal is not None]
    assert len(region_totals) == len(parser.regions)
    onbekend = tuple(n - sum(col) for n, col in zip(parser.nederland, zip(*region_totals, strict=True), strict=True))
    if min(onbekend) < 0:
        raise ValueError(f"regions add up to more than Nederland: remainder {onbekend}")

    indeling = pl.DataFrame(
        [(r.nr, r.name, g) for r in parser.regions for g, _ in r.gemeenten],
        schema={"amr": pl.Int64, "arbeidsmarktregio": pl.String, "gemeente": pl.String},
        orient="row",
    )
    rows: list[tuple[str | int | None, ...]] = []
    for r in parser.regions:
        assert r.totaal is not None
        rows.extend(("gemeente", r.nr, r.name, g, *f) for g, f in r.gemeenten)
        rows.append(("arbeidsmarktregio", r.nr, r.name, None, *r.totaal))
    rows.append(("onbekend", None, None, None, *onbekend))
    rows.append(("nederland", None, None, None, *parser.nederland))
    officieel = pl.DataFrame(
        rows,
        schema={
            "niveau": pl.String,
            "amr": pl.Int64,
            "arbeidsmarktregio": pl.String,
            "gemeente": pl.String,
            **dict.fromkeys(FIGURES, pl.Int64),
        },
        orient="row",
    )
    return indeling, officieel, parser.applied


def parse_publication(text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse the publication's OCR text into ``(indeling, officieel)``.

    ``indeling`` has columns ``amr, arbeidsmarktregio, gemeente`` in publication
    order.  ``officieel`` has ``niveau, amr, arbeidsmarktregio, gemeente`` and the
    five figures: per region its gemeente rows then its ``arbeidsmarktregio`` row,
    then one ``onbekend`` row (Nederland minus the regions) and the ``nederland`` row.

    Raises :class:`ValueError` naming the offending line if the text cannot be
    parsed or does not add up.
    """
    indeling, officieel, _ = parse_publication_with_repairs(text)
    return indeling, officieel


def main() -> None:
    """Regenerate the reference CSVs from the shipped publication text."""
    indeling, officieel = parse_publication(PUBLICATION_TXT.read_text(encoding="utf-8"))
    for frame, path in ((indeling, INDELING_CSV), (officieel, OFFICIEEL_CSV)):
        path.write_text(frame.write_csv(), encoding="utf-8", newline="")
        print(f"wrote {path} ({frame.height} rows)")


if __name__ == "__main__":
    main()
