"""The publication as a PDF, typeset by Typst (the ``typst`` package: compiles offline, no browser).

The Typst source is package data (``templates/publicatie.typ``) and reads every text and figure
from a ``data.json`` written beside it, so no value is ever spliced into markup (names such as
's-Gravenhage need no escaping); the charts are the very SVGs the pages show.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import typst

from engine.output import write_bytes
from engine.publiceer import tekst
from engine.publiceer.charts import Grafiek
from engine.publiceer.html import TEMPLATES
from engine.publiceer.model import Publicatie, Rij


def _row(pub: Publicatie, naam: str, rij: Rij, vet: bool = False, rang: str | None = None) -> dict[str, Any]:
    cells = [naam] + ([rang] if rang is not None else [])
    for cel in rij.cellen:
        cells.append(cel.tekst)
        if pub.vorige:
            cells.append(cel.verschil_tekst)
    cells.append(rij.graad_tekst)
    if pub.vorige:
        cells.append(rij.graad_verschil_tekst)
    return {"cellen": cells, "vet": vet}


def _positie(pub: Publicatie, rij: Rij, rang: int | None) -> str:
    if rang is None:
        return "Geen positie: in deze regio is niemand meegeteld."
    text = (
        f"Positie {rang} van de {len(pub.regios)} arbeidsmarktregio's naar transparantiegraad "
        f"({rij.graad_tekst}; Nederland {pub.nederland.graad_tekst})."
    )
    if pub.vorige:
        text += f" Verandering ten opzichte van {pub.vorige}: {rij.graad_verschil_tekst}."
    return text


def document_data(pub: Publicatie, overzicht: str, per_regio: dict[int, str], alt: dict[str, str]) -> dict[str, Any]:
    t = pub.toelichting
    notes = []
    if pub.drempel:
        notes.append(tekst.onderdrukking_uitleg(pub.drempel))
    if pub.vorige:
        notes.append(tekst.vergelijking_uitleg(pub.vorige))
    notes.append(tekst.VOETNOOT)
    nederland_rows = [_row(pub, r.titel, r.totaal, rang=str(r.rang or "–")) for r in pub.regios]
    nederland_rows += [
        _row(pub, pub.onbekend.label, pub.onbekend, rang=""),
        _row(pub, "Nederland", pub.nederland, vet=True, rang=""),
    ]
    return {
        "titel": pub.titel,
        "periode": pub.periode,
        "inleiding": [list(s) for s in tekst.INLEIDING],
        "voorwaarden_kop": tekst.VOORWAARDEN_KOP,
        "voorwaarden_intro": tekst.VOORWAARDEN_INTRO,
        "voorwaarden": t.voorwaarden,
        "let_op": t.let_op,
        "klantsoort": t.klantsoort,
        "onderscheid": tekst.ONDERSCHEID,
        "profiel": t.profiel,
        "onderdelen": t.onderdelen,
        "geen_profiel": tekst.GEEN_PROFIEL,
        "graad_uitleg": tekst.GRAAD_UITLEG,
        "onbekend_uitleg": tekst.ONBEKEND_UITLEG,
        "voetnoot": tekst.VOETNOOT,
        "disclaimer": tekst.DISCLAIMER,
        "regels": t.regels,
        "telling": f"Telling: {pub.telling}",
        "bron": pub.bron,
        "noten": notes,
        "groepen": list(tekst.GROEPEN),
        "kolommen": list(tekst.KOLOMMEN),
        "graad_kop": tekst.GRAAD_KOP,
        "verschil_kop": tekst.VERSCHIL_KOP,
        "vorige": pub.vorige is not None,
        "nederland": {
            "rijen": nederland_rows,
            "grafiek": overzicht,
            "alt": alt["overzicht"],
            "bijschrift": f"Meegetelde cliënten per arbeidsmarktregio, gemeente onbekend en Nederland, {pub.periode}",
        },
        "regios": [
            {
                "titel": r.titel,
                "positie": _positie(pub, r.totaal, r.rang),
                "rijen": [_row(pub, g.label, g) for g in r.gemeenten] + [_row(pub, "Totaal AMR", r.totaal, vet=True)],
                "grafiek": per_regio[r.amr],
                "alt": alt[str(r.amr)],
                "bijschrift": f"Meegetelde cliënten per gemeente, arbeidsmarktregio {r.titel}",
            }
            for r in pub.uitgebracht
        ],
    }


def write_pdf(pub: Publicatie, output: Path, overzicht: Grafiek, per_regio: dict[int, Grafiek]) -> Path:
    """Typeset the whole publication: title page, explanation, Nederland, a section per region."""
    with tempfile.TemporaryDirectory(prefix="publiceer-") as tmp:
        work = Path(tmp)
        shutil.copy(TEMPLATES / "publicatie.typ", work / "publicatie.typ")
        (work / "regios.svg").write_text(overzicht.svg, encoding="utf-8")
        files = {}
        for amr, chart in per_regio.items():
            files[amr] = f"regio-{amr:02d}.svg"
            (work / files[amr]).write_text(chart.svg, encoding="utf-8")
        alt = {"overzicht": overzicht.beschrijving, **{str(a): c.beschrijving for a, c in per_regio.items()}}
        data = document_data(pub, "regios.svg", files, alt)
        (work / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        pdf = typst.compile(str(work / "publicatie.typ"), root=str(work))
    assert isinstance(pdf, bytes)
    write_bytes(output, pdf, option="--uit")
    return output
