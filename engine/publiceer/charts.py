"""The publication's charts: Altair specifications rendered to static SVG by vl-convert, offline.

Each chart is returned as an SVG string made accessible: ``role="img"``, an ``aria-labelledby``
pointing at a ``<title>`` and a ``<desc>`` that say in words what the chart shows.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import altair as alt
import vl_convert as vlc

from engine.publiceer.compare import nl_pp
from engine.publiceer.model import Publicatie, Regio, Rij
from engine.report import nl_pct

BAR = "#1f5f9f"
PREVIOUS = "#d9822b"
NATIONAL = "#555555"
ROW_HEIGHT = 18
WIDTH = 460


@dataclass(frozen=True)
class Grafiek:
    id: str
    titel: str
    beschrijving: str
    svg: str  # accessible, self-contained SVG markup


def _accessible(svg: str, chart_id: str, title: str, description: str) -> str:
    """Give vl-convert's SVG a role, a title and a description (alt text for screen readers)."""
    opening = re.match(r"<svg\b[^>]*>", svg)
    assert opening, "vl-convert returned no <svg> element"
    tag = opening.group(0)[:-1] + (
        f' role="img" aria-labelledby="{chart_id}-titel {chart_id}-beschrijving" id="{chart_id}">'
    )
    extra = (
        f'<title id="{chart_id}-titel">{html.escape(title)}</title>'
        f'<desc id="{chart_id}-beschrijving">{html.escape(description)}</desc>'
    )
    return tag + extra + svg[opening.end() :]


def _label(rij: Rij, vorige: bool) -> str:
    text = rij.graad_tekst
    if vorige and rij.graad is not None:
        text += f" ({rij.graad_verschil_tekst})"
    return text


def _render(chart: alt.TopLevelMixin) -> str:
    return vlc.vegalite_to_svg(chart.to_dict(validate=False), format_locale="nl-NL")


def _bars(records: list[dict[str, object]], title: str, reference: float | None, vorige: bool) -> str:
    data = alt.Data(values=records)
    order = [str(r["naam"]) for r in records]
    y = alt.Y("naam:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    x_scale = alt.Scale(domain=[0, 1])
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar(color=BAR).encode(
        x=alt.X("graad:Q", title="Transparantiegraad", scale=x_scale, axis=alt.Axis(format=".0%")),
    )
    labels = base.mark_text(align="left", dx=4, fontSize=10).encode(x="graad:Q", text="label:N")
    layers: list[alt.Chart] = [bars, labels]
    if vorige:
        layers.append(
            base.mark_tick(color=PREVIOUS, thickness=2, size=ROW_HEIGHT - 4).encode(x=alt.X("vorige:Q", scale=x_scale))
        )
    if reference is not None:
        layers.append(
            alt.Chart(alt.Data(values=[{"graad": reference}]))
            .mark_rule(color=NATIONAL, strokeDash=[4, 3])
            .encode(x=alt.X("graad:Q", scale=x_scale))
        )
    chart = alt.layer(*layers).properties(
        width=WIDTH, height=max(ROW_HEIGHT * len(records), 60), title=alt.TitleParams(title, anchor="start")
    )
    return _render(chart.configure_view(stroke=None).configure_axis(labelFontSize=11))


def _record(naam: str, rij: Rij) -> dict[str, object]:
    vorige = None
    if rij.graad is not None and rij.graad_verschil_pp is not None:
        vorige = rij.graad - rij.graad_verschil_pp / 100
    return {"naam": naam, "graad": rij.graad, "label": _label(rij, rij.graad_verschil_pp is not None), "vorige": vorige}


def regio_grafiek(pub: Publicatie) -> Grafiek:
    """The transparantiegraad of the 35 regions, ranked, with Nederland as a dashed line."""
    ranked = pub.gerangschikt
    vorige = pub.vorige is not None
    records = [_record(f"{r.rang or '-'}. {r.naam}", r.totaal) for r in ranked]
    title = "Transparantiegraad per arbeidsmarktregio"
    svg = _bars(records, title, pub.nederland.graad, vorige)
    shown = [r for r in ranked if r.totaal.graad is not None]
    words = [
        "Staafdiagram: de transparantiegraad (aandeel meegetelde cliënten met profiel) van de 35 "
        "arbeidsmarktregio's, van hoog naar laag."
    ]
    if shown:
        words.append(
            f"Hoogste: {shown[0].naam} ({nl_pct(shown[0].totaal.graad)}); "
            f"laagste: {shown[-1].naam} ({nl_pct(shown[-1].totaal.graad)})."
        )
    words.append(f"Nederland (stippellijn): {pub.nederland.graad_tekst}.")
    if vorige:
        words.append(f"Oranje streepjes: de graad in {pub.vorige}; Nederland {nl_pp(pub.nederland.graad_verschil_pp)}.")
    return Grafiek("grafiek-regios", title, " ".join(words), _accessible(svg, "grafiek-regios", title, " ".join(words)))


def gemeente_grafiek(pub: Publicatie, regio: Regio) -> Grafiek:
    """The transparantiegraad of a region's gemeenten, highest first, with the region as a dashed line."""
    vorige = pub.vorige is not None
    ordered = sorted(regio.gemeenten, key=lambda g: (g.graad is None, -(g.graad or 0.0), g.label))
    records = [_record(g.label, g) for g in ordered]
    title = f"Transparantiegraad per gemeente, {regio.titel}"
    chart_id = f"grafiek-regio-{regio.amr}"
    svg = _bars(records, title, regio.totaal.graad, vorige)
    shown = [g for g in ordered if g.graad is not None]
    words = [f"Staafdiagram: de transparantiegraad per gemeente in arbeidsmarktregio {regio.titel}, hoog naar laag."]
    if shown:
        words.append(
            f"Hoogste: {shown[0].label} ({nl_pct(shown[0].graad)}); "
            f"laagste: {shown[-1].label} ({nl_pct(shown[-1].graad)})."
        )
    hidden = len(ordered) - len(shown)
    if hidden:
        words.append(f"{hidden} gemeente(n) zonder getoonde graad.")
    words.append(f"Totaal AMR (stippellijn): {regio.totaal.graad_tekst}.")
    return Grafiek(chart_id, title, " ".join(words), _accessible(svg, chart_id, title, " ".join(words)))
