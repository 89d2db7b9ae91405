"""The publication as data: every row of the table with its formatted cells, ready to render.

Built once from count's table (plus, optionally, an earlier quarter and a suppression), and
rendered alike by the pages (engine.publiceer.html), the PDF (pdf) and the workbook (excel).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from engine.count import CountResult
from engine.errors import UsageError
from engine.layout import nl_int
from engine.publiceer.compare import VERSCHIL_SUFFIX, compare_tables, nl_pp, nl_signed
from engine.publiceer.suppression import VALUE_COLUMNS, Suppression
from engine.publiceer.tekst import ONDERDRUKT_TEKEN, Toelichting, toelichting
from engine.report import nl_pct

KWARTALEN = ("eerste", "tweede", "derde", "vierde")


@dataclass(frozen=True)
class Cel:
    waarde: int
    onderdrukt: bool
    verschil: int | None  # None: no earlier quarter, a missing earlier row, or suppressed

    @property
    def tekst(self) -> str:
        return ONDERDRUKT_TEKEN if self.onderdrukt else nl_int(self.waarde)

    @property
    def verschil_tekst(self) -> str:
        if self.onderdrukt:
            return ONDERDRUKT_TEKEN
        return nl_signed(self.verschil)


@dataclass
class Rij:
    niveau: str
    amr: int | None
    regio: str | None
    gemeente: str | None
    cellen: list[Cel]  # VALUE_COLUMNS: the four figures and totaal
    graad: float | None  # None when nobody is counted or a cell of the row is suppressed
    graad_verschil_pp: float | None
    rang: int | None = None  # regions: rank by transparantiegraad among the 35

    @property
    def label(self) -> str:
        if self.niveau == "gemeente":
            return self.gemeente or ""
        if self.niveau == "arbeidsmarktregio":
            return "Totaal AMR"
        if self.niveau == "onbekend":
            return "Gemeente onbekend"
        return "Nederland"

    @property
    def onderdrukt(self) -> bool:
        return any(c.onderdrukt for c in self.cellen)

    @property
    def graad_tekst(self) -> str:
        return ONDERDRUKT_TEKEN if self.onderdrukt else nl_pct(self.graad)

    @property
    def graad_verschil_tekst(self) -> str:
        return ONDERDRUKT_TEKEN if self.onderdrukt else nl_pp(self.graad_verschil_pp)

    @property
    def totaal(self) -> Cel:
        return self.cellen[-1]


@dataclass
class Regio:
    amr: int
    naam: str
    gemeenten: list[Rij]
    totaal: Rij

    @property
    def bestand(self) -> str:
        return f"regio-{self.amr:02d}-{slug(self.naam)}.html"

    @property
    def titel(self) -> str:
        return f"{self.amr} {self.naam}"

    @property
    def rang(self) -> int | None:
        return self.totaal.rang


@dataclass
class Publicatie:
    titel: str
    periode: str  # e.g. "tweede kwartaal 2025", or how the indiceringen were taken
    toelichting: Toelichting
    regios: list[Regio]  # all 35, in publication order
    onbekend: Rij
    nederland: Rij
    bron: str
    telling: str  # count's reconciliation line
    vorige: str | None = None
    drempel: int | None = None
    n_onderdrukt: tuple[int, int] = (0, 0)  # primary, secondary
    alleen_amr: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def gerangschikt(self) -> list[Regio]:
        """Regions by rank (highest transparantiegraad first); unranked last."""
        return sorted(self.regios, key=lambda r: (r.rang is None, r.rang or 0, r.amr))

    @property
    def uitgebracht(self) -> list[Regio]:
        """The regions that get a page, a PDF section and a sheet (all, or the one of --amr)."""
        return [r for r in self.regios if self.alleen_amr is None or r.amr == self.alleen_amr]


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def periode(peildatum: date | None) -> str:
    if peildatum is None:
        return "open dienstverlening op het moment van de extractie"
    return f"{KWARTALEN[(peildatum.month - 1) // 3]} kwartaal {peildatum.year} (peildatum {peildatum:%d-%m-%Y})"


def graad(ja: int, totaal: int) -> float | None:
    return ja / totaal if totaal > 0 else None


def ranks(table: pl.DataFrame) -> dict[int, int]:
    """Rank of every region by transparantiegraad, highest first, ties by region number; regions
    where nobody is counted get no rank (as ``transparantie profiel`` ranks them)."""
    regions = [
        (row["amr"], graad(row["gemeente_profiel_ja"] + row["uwv_profiel_ja"], row["totaal"]))
        for row in table.filter(pl.col("niveau") == "arbeidsmarktregio").iter_rows(named=True)
    ]
    ranked = sorted((g is None, -(g or 0.0), amr) for amr, g in regions)
    return {amr: i for i, (none, _, amr) in enumerate(ranked, 1) if not none}


def build_model(
    result: CountResult,
    bron: str,
    vorige: tuple[str, pl.DataFrame] | None = None,
    suppression: Suppression | None = None,
    alleen_amr: int | None = None,
) -> Publicatie:
    """Every row of count's table as a :class:`Rij`, grouped per region."""
    table = result.table
    if alleen_amr is not None and table.filter(pl.col("amr") == alleen_amr).is_empty():
        raise UsageError(
            f"--amr {alleen_amr}: er is geen arbeidsmarktregio {alleen_amr}; de regio's zijn genummerd 1-35"
        )
    comparison = compare_tables(table, vorige[1]).head(table.height) if vorige else None
    rank = ranks(table)
    rows: list[Rij] = []
    for i, row in enumerate(table.iter_rows(named=True)):
        hidden = suppression.onderdrukt[i] if suppression is not None else [False] * len(VALUE_COLUMNS)
        changes = comparison.row(i, named=True) if comparison is not None else None
        cells = [
            Cel(
                waarde=int(row[c]),
                onderdrukt=bool(hidden[j]),
                verschil=None if changes is None or hidden[j] else changes[c + VERSCHIL_SUFFIX],
            )
            for j, c in enumerate(VALUE_COLUMNS)
        ]
        any_hidden = any(bool(h) for h in hidden)
        share = None if any_hidden else graad(row["gemeente_profiel_ja"] + row["uwv_profiel_ja"], row["totaal"])
        rows.append(
            Rij(
                niveau=row["niveau"],
                amr=row["amr"],
                regio=row["arbeidsmarktregio"],
                gemeente=row["gemeente"],
                cellen=cells,
                graad=share,
                graad_verschil_pp=None if changes is None or any_hidden else changes["graad_verschil_pp"],
                rang=rank.get(row["amr"]) if row["niveau"] == "arbeidsmarktregio" else None,
            )
        )
    regios = []
    for rij in rows:
        if rij.niveau == "arbeidsmarktregio":
            members = [r for r in rows if r.niveau == "gemeente" and r.amr == rij.amr]
            regios.append(Regio(amr=int(rij.amr or 0), naam=rij.regio or "", gemeenten=members, totaal=rij))
    by_niveau = {r.niveau: r for r in rows if r.niveau in ("onbekend", "nederland")}
    return Publicatie(
        titel="Transparantie van klantprofielen",
        periode=periode(result.peildatum),
        toelichting=toelichting(result.ruleset),
        regios=regios,
        onbekend=by_niveau["onbekend"],
        nederland=by_niveau["nederland"],
        bron=bron,
        telling=result.reconciliation.line(),
        vorige=vorige[0] if vorige else None,
        drempel=suppression.drempel if suppression else None,
        n_onderdrukt=(suppression.n_primair, suppression.n_secundair) if suppression else (0, 0),
        alleen_amr=alleen_amr,
    )
