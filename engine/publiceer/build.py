"""`transparantie publiceer`: the quarterly publication from microdata.

One count of the input (engine.count, one lazy plan and one collection), then everything
else works on the ~400 rows of the published table: the optional comparison with an earlier
quarter, the optional disclosure control, the charts, the pages, the PDF and the workbook.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from engine.count import count_file
from engine.errors import UsageError
from engine.outcome import OnInvalid
from engine.publiceer.charts import gemeente_grafiek, regio_grafiek
from engine.publiceer.compare import load_table
from engine.publiceer.excel import write_workbook
from engine.publiceer.html import write_pages
from engine.publiceer.model import Publicatie, build_model, slug
from engine.publiceer.pdf import write_pdf
from engine.publiceer.suppression import suppress
from engine.readers import ReadOptions
from engine.rules import DEFAULT_RULES

PDF_NAME = "publicatie.pdf"
XLSX_NAME = "publicatie.xlsx"


def output_names() -> list[str]:
    """Every file name publiceer may write into --uit (so that none of them can be an input)."""
    from engine.indeling import default_indeling

    pages = [f"regio-{a:02d}-{slug(n)}.html" for a, n in default_indeling().regions().iter_rows()]
    return ["index.html", PDF_NAME, XLSX_NAME, *pages]


@dataclass
class Uitvoer:
    """What ``publiceer`` wrote, and the publication it rendered."""

    publicatie: Publicatie
    uit: Path
    paginas: list[Path]
    pdf: Path
    werkboek: Path
    seconden: dict[str, float] = field(default_factory=dict)

    def samenvatting(self) -> str:
        pub = self.publicatie
        lines = [
            f"Publicatie geschreven in {self.uit}:",
            f"  {len(self.paginas)} pagina's (index.html en {len(self.paginas) - 1} regiopagina's)",
            f"  {self.pdf.name} en {self.werkboek.name}",
            pub.telling,
        ]
        if pub.drempel:
            primair, secundair = pub.n_onderdrukt
            lines.append(
                f"Onderdrukt (drempel {pub.drempel}): {primair} cellen onder de drempel, {secundair} aanvullend."
            )
        if pub.vorige:
            lines.append(f"Vergeleken met {pub.vorige}.")
        return "\n".join(lines)


def publiceer(
    path: Path | str,
    uit: Path,
    rules: str = DEFAULT_RULES,
    peildatum: date | None = None,
    amr: int | None = None,
    vorige: str | None = None,
    drempel: int | None = None,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    lezen: ReadOptions | None = None,
) -> Uitvoer:
    """Count ``path`` and write the publication (pages, PDF, workbook) into ``uit``."""
    if drempel is not None and drempel < 2:
        raise UsageError(f"--drempel {drempel}: de drempel moet minstens 2 zijn (cellen 1 .. drempel-1 vervallen)")
    if uit.exists() and not uit.is_dir():
        raise UsageError(f"--uit {uit}: dit is een bestand, geen map")
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    previous = load_table(vorige, rules) if vorige else None
    result = count_file(
        path, rules=rules, peildatum=peildatum, on_invalid=on_invalid, quarantine=quarantine, lezen=lezen
    )
    seconds["tellen"] = time.perf_counter() - start
    suppression = suppress(result.table, drempel) if drempel else None
    pub = build_model(result, Path(path).name, previous, suppression, amr)
    uit.mkdir(parents=True, exist_ok=True)

    mark = time.perf_counter()
    # vl-convert renders on its own threads: rendering the charts side by side halves the wall time.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        pending = pool.submit(regio_grafiek, pub)
        charts = pool.map(lambda r: gemeente_grafiek(pub, r), pub.uitgebracht)
        per_regio = {r.amr: chart for r, chart in zip(pub.uitgebracht, charts, strict=True)}
        overzicht = pending.result()
    seconds["grafieken"] = time.perf_counter() - mark

    mark = time.perf_counter()
    pages = write_pages(pub, uit, overzicht, per_regio)
    seconds["paginas"] = time.perf_counter() - mark

    mark = time.perf_counter()
    pdf = write_pdf(pub, uit / PDF_NAME, overzicht, per_regio)
    seconds["pdf"] = time.perf_counter() - mark

    mark = time.perf_counter()
    workbook = write_workbook(pub, uit / XLSX_NAME)
    seconds["werkboek"] = time.perf_counter() - mark
    seconds["totaal"] = time.perf_counter() - start
    return Uitvoer(publicatie=pub, uit=uit, paginas=pages, pdf=pdf, werkboek=workbook, seconden=seconds)
