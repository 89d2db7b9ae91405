"""The publication as an Excel workbook (xlsxwriter): the explanation, Nederland, one sheet per region.

Each table sheet has the publication's two-row heading (frozen), real numbers with a thousands
format (Excel shows them in the reader's locale: 11.994 in a Dutch Excel), percentages, the
totals in bold, and the suppressed cells as the marker text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from engine.output import atomic_path
from engine.publiceer import tekst
from engine.publiceer.model import Publicatie, Regio, Rij

FIRST_ROW = 4  # the heading takes rows 3 and 4 (0-based 2 and 3); data start at 0-based row 4


def _sheet_name(regio: Regio) -> str:
    name = f"{regio.amr} {regio.naam}"
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return name[:31]


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        def fmt(**kw: Any) -> Any:
            return book.add_format({"font_name": "Arial", "font_size": 10, **kw})

        self.title = fmt(bold=True, font_size=14, font_color="#1f5f9f")
        self.subtitle = fmt(italic=True)
        self.heading = fmt(bold=True, font_size=11, font_color="#1f5f9f")
        self.text = fmt(text_wrap=True, valign="top")
        self.head = fmt(bold=True, text_wrap=True, valign="bottom", bg_color="#f3f6f9", bottom=1, align="center")
        self.head_left = fmt(bold=True, text_wrap=True, valign="bottom", bg_color="#f3f6f9", bottom=1)
        self.note = fmt(italic=True, font_color="#444444", text_wrap=True, valign="top")
        self.styles: dict[tuple[str, bool], Any] = {}
        for kind, num in (
            ("int", "#,##0"),
            ("pct", "0.0%"),
            ("delta", "+#,##0;-#,##0;0"),
            ("pp", '+0.0" pp";-0.0" pp";0.0" pp"'),
            ("label", "@"),
            ("hidden", "@"),
        ):
            for bold in (False, True):
                extra: dict[str, Any] = {"num_format": num, "bold": bold}
                if bold:
                    extra["top"] = 1
                if kind in ("delta", "pp"):
                    extra["font_color"] = "#555555"
                if kind == "hidden":
                    extra["align"] = "right"
                self.styles[(kind, bold)] = fmt(**extra)

    def of(self, kind: str, bold: bool) -> Any:
        return self.styles[(kind, bold)]


def _columns(pub: Publicatie, rang: bool) -> list[tuple[str, str]]:
    """(kind, heading) of the figure columns after the first (name) column."""
    cols: list[tuple[str, str]] = [("rang", "Rang")] if rang else []
    for heading in tekst.KOLOMMEN:
        cols.append(("waarde", heading))
        if pub.vorige:
            cols.append(("verschil", tekst.VERSCHIL_KOP))
    cols.append(("graad", tekst.GRAAD_KOP))
    if pub.vorige:
        cols.append(("graad_verschil", f"{tekst.VERSCHIL_KOP} (pp)"))
    return cols


def _heading(ws: Worksheet, f: _Formats, pub: Publicatie, first: str, rang: bool) -> int:
    """The two heading rows; returns the number of columns."""
    cols = _columns(pub, rang)
    top, sub = FIRST_ROW - 2, FIRST_ROW - 1
    ws.write(top, 0, "", f.head_left)
    ws.write(sub, 0, first, f.head_left)
    start = 2 if rang else 1
    per_figure = 2 if pub.vorige else 1
    for i in range(1, len(cols) + 1):
        ws.write_blank(top, i, None, f.head)
    for g, group in enumerate(tekst.GROEPEN):
        left = start + 2 * per_figure * g
        ws.merge_range(top, left, top, left + 2 * per_figure - 1, group, f.head)
    for i, (_, heading) in enumerate(cols, start=1):
        ws.write(sub, i, heading, f.head)
    ws.set_row(sub, 42)
    ws.set_column(0, 0, 34)
    ws.set_column(1, len(cols), 12)
    ws.freeze_panes(FIRST_ROW, 1)
    return len(cols)


def _row(ws: Worksheet, f: _Formats, pub: Publicatie, r: int, naam: str, rij: Rij, bold: bool, rang: Any) -> None:
    ws.write_string(r, 0, naam, f.of("label", bold))
    col = 1
    if rang is not False:
        if isinstance(rang, int):
            ws.write_number(r, col, rang, f.of("int", bold))
        else:
            ws.write_blank(r, col, None, f.of("int", bold))
        col += 1
    for cel in rij.cellen:
        if cel.onderdrukt:
            ws.write_string(r, col, tekst.ONDERDRUKT_TEKEN, f.of("hidden", bold))
        else:
            ws.write_number(r, col, cel.waarde, f.of("int", bold))
        col += 1
        if pub.vorige:
            if cel.onderdrukt or cel.verschil is None:
                ws.write_string(r, col, cel.verschil_tekst, f.of("hidden", bold))
            else:
                ws.write_number(r, col, cel.verschil, f.of("delta", bold))
            col += 1
    if rij.graad is None:
        ws.write_string(r, col, rij.graad_tekst, f.of("hidden", bold))
    else:
        ws.write_number(r, col, rij.graad, f.of("pct", bold))
    if pub.vorige:
        if rij.graad_verschil_pp is None or rij.onderdrukt:
            ws.write_string(r, col + 1, rij.graad_verschil_tekst, f.of("hidden", bold))
        else:
            ws.write_number(r, col + 1, rij.graad_verschil_pp, f.of("pp", bold))


def _notes(ws: Worksheet, f: _Formats, pub: Publicatie, r: int, width: int) -> None:
    notes = []
    if pub.drempel:
        notes.append(tekst.onderdrukking_uitleg(pub.drempel))
    if pub.vorige:
        notes.append(tekst.vergelijking_uitleg(pub.vorige))
    notes += [tekst.VOETNOOT, f"{tekst.DISCLAIMER} Bron: {pub.bron}."]
    for note in notes:
        ws.merge_range(r, 0, r, width, note, f.note)
        ws.set_row(r, 30)
        r += 1


def _nederland(book: xlsxwriter.Workbook, f: _Formats, pub: Publicatie) -> None:
    ws = book.add_worksheet("Nederland")
    ws.write(0, 0, f"{pub.titel} — Nederland", f.title)
    ws.write(1, 0, pub.periode, f.subtitle)
    width = _heading(ws, f, pub, "Arbeidsmarktregio", rang=True)
    r = FIRST_ROW
    for regio in pub.regios:
        _row(ws, f, pub, r, regio.titel, regio.totaal, False, regio.rang)
        r += 1
    _row(ws, f, pub, r, pub.onbekend.label, pub.onbekend, False, None)
    _row(ws, f, pub, r + 1, "Nederland", pub.nederland, True, None)
    _notes(ws, f, pub, r + 3, width)


def _regio(book: xlsxwriter.Workbook, f: _Formats, pub: Publicatie, regio: Regio) -> None:
    ws = book.add_worksheet(_sheet_name(regio))
    ws.write(0, 0, f"{pub.titel} — arbeidsmarktregio {regio.titel}", f.title)
    position = f"Positie {regio.rang} van {len(pub.regios)} naar transparantiegraad" if regio.rang else "Geen positie"
    ws.write(1, 0, f"{pub.periode}. {position}.", f.subtitle)
    width = _heading(ws, f, pub, "Gemeente", rang=False)
    r = FIRST_ROW
    for g in regio.gemeenten:
        _row(ws, f, pub, r, g.label, g, False, False)
        r += 1
    _row(ws, f, pub, r, "Totaal AMR", regio.totaal, True, False)
    _notes(ws, f, pub, r + 2, width)


def _toelichting(book: xlsxwriter.Workbook, f: _Formats, pub: Publicatie) -> None:
    ws = book.add_worksheet("Toelichting")
    ws.set_column(0, 0, 110)
    ws.write(0, 0, pub.titel, f.title)
    ws.write(1, 0, pub.periode, f.subtitle)
    r = 3
    for heading, paragraphs in pub.toelichting.secties:
        ws.write(r, 0, heading, f.heading)
        r += 1
        for paragraph in paragraphs:
            ws.write(r, 0, paragraph, f.text)
            r += 1
        r += 1
    ws.write(r, 0, f"Telling: {pub.telling}. Bron: {pub.bron}.", f.note)
    ws.write(r + 1, 0, "Bladen: Nederland, en per arbeidsmarktregio één blad.", f.note)
    if pub.drempel:
        ws.write(r + 2, 0, tekst.onderdrukking_uitleg(pub.drempel), f.note)


def write_workbook(pub: Publicatie, output: Path) -> Path:
    with atomic_path(output, option="--uit") as temporary:
        book = xlsxwriter.Workbook(str(temporary))
        formats = _Formats(book)
        _toelichting(book, formats, pub)
        _nederland(book, formats, pub)
        for regio in pub.uitgebracht:
            _regio(book, formats, pub, regio)
        book.close()
    return output
