"""The publication's web pages: Jinja2 templates (package data), static and self-contained.

Every page carries its own stylesheet (with a print stylesheet) and its charts as inline SVG:
no scripts, no fonts or files from elsewhere, so the pages work offline and from a USB stick.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from engine.output import write_text
from engine.publiceer import tekst
from engine.publiceer.charts import Grafiek
from engine.publiceer.model import Publicatie, Regio

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _context(pub: Publicatie) -> dict[str, object]:
    return {
        "pub": pub,
        "inleiding": tekst.INLEIDING,
        "voorwaarden_kop": tekst.VOORWAARDEN_KOP,
        "voorwaarden_intro": tekst.VOORWAARDEN_INTRO,
        "onderscheid": tekst.ONDERSCHEID,
        "geen_profiel": tekst.GEEN_PROFIEL,
        "graad_uitleg": tekst.GRAAD_UITLEG,
        "onbekend_uitleg": tekst.ONBEKEND_UITLEG,
        "voetnoot": tekst.VOETNOOT,
        "disclaimer": tekst.DISCLAIMER,
        "groepen": tekst.GROEPEN,
        "kolommen": tekst.KOLOMMEN,
        "graad_kop": tekst.GRAAD_KOP,
        "verschil_kop": tekst.VERSCHIL_KOP,
        "onderdrukking": tekst.onderdrukking_uitleg(pub.drempel) if pub.drempel else "",
        "vergelijking": tekst.vergelijking_uitleg(pub.vorige) if pub.vorige else "",
    }


def write_pages(pub: Publicatie, uit: Path, overzicht: Grafiek, per_regio: dict[int, Grafiek]) -> list[Path]:
    """index.html and one page per region; returns the files written."""
    env = environment()
    context = _context(pub)
    written = [uit / "index.html"]
    write_text(written[0], env.get_template("index.html").render(**context, grafiek=overzicht))
    page = env.get_template("regio.html")
    regio: Regio
    for regio in pub.uitgebracht:
        path = uit / regio.bestand
        write_text(path, page.render(**context, regio=regio, grafiek=per_regio[regio.amr]))
        written.append(path)
    return written
