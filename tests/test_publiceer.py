"""`transparantie publiceer`: pages, PDF and workbook from the sample; comparison with 2025q2."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.profiel import profiel_file
from engine.publiceer.build import publiceer
from engine.publiceer.model import build_model, ranks
from engine.rules import select_ruleset
from engine.ruletext import describe
from tests.conftest import SAMPLE

runner = CliRunner()


def region_pages(uit: Path) -> list[Path]:
    return sorted(uit.glob("regio-*.html"))


def test_writes_index_35_region_pages_pdf_and_workbook(publicatie: Path) -> None:
    assert (publicatie / "index.html").is_file()
    pages = region_pages(publicatie)
    assert len(pages) == 35
    assert pages[0].name == "regio-01-groningen.html"
    assert (publicatie / "publicatie.pdf").read_bytes()[:5] == b"%PDF-"
    assert (publicatie / "publicatie.xlsx").stat().st_size > 0


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(path: Path) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Structure()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tags


@pytest.mark.parametrize("page", ["index.html", "regio-22-rijnmond.html"])
def test_pages_are_accessible_and_self_contained(publicatie: Path, page: str) -> None:
    path = publicatie / page
    text = path.read_text(encoding="utf-8")
    tags = _tags(path)
    names = [t for t, _ in tags]
    assert '<html lang="nl">' in text
    assert "caption" in names and "table" in names
    scopes = {a.get("scope") for t, a in tags if t == "th"}
    assert {"col", "row"} <= scopes
    svgs = [a for t, a in tags if t == "svg"]
    assert svgs and all(a.get("role") == "img" and a.get("aria-labelledby") for a in svgs)
    assert "<title id=" in text and "<desc id=" in text
    assert "@media print" in text
    # Offline: no scripts, no external stylesheets, fonts or images.
    assert "<script" not in text
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert "@import" not in text and "url(" not in text
    assert not [a for t, a in tags if t == "link"]


def test_index_links_every_region_and_shows_nederland(publicatie: Path) -> None:
    text = (publicatie / "index.html").read_text(encoding="utf-8")
    for page in region_pages(publicatie):
        assert f'href="{page.name}"' in text
    assert "190.973" in text and "11.994" in text and "Gemeente onbekend" in text
    # The explanation comes from the rule set: every rule's label, the signaal, klantsoort, profile.
    ruleset = select_ruleset("teldefinitie")
    for label in [r.label for r in ruleset.regel] + [s.label for s in ruleset.signaal]:
        assert label.replace("‘", "&lsquo;") in text or label in text
    assert ruleset.klantsoort.label in text and ruleset.profiel.label in text


def test_region_page_layout_rank_and_dutch_formats(publicatie: Path) -> None:
    text = (publicatie / "regio-01-groningen.html").read_text(encoding="utf-8")
    assert "Totaal AMR" in text and "10.602" in text and "3.244" in text
    rank = ranks(count_file(SAMPLE).table)[1]
    assert f"{rank}e van de 35" in text
    assert re.search(r"<td>\d{1,3},\d%</td>", text)  # percentages as 55,2%


def test_ranks_equal_the_profiel_command() -> None:
    overview = profiel_file(SAMPLE).overzicht.filter(pl.col("niveau") == "arbeidsmarktregio")
    assert ranks(count_file(SAMPLE).table) == dict(zip(overview["amr"], overview["rang"], strict=True))


def test_every_change_is_zero_against_2025q2(publicatie: Path) -> None:
    texts = [(publicatie / "index.html").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in region_pages(publicatie)]
    changes = [c for t in texts for c in re.findall(r'<td class="verschil">([^<]*)</td>', t)]
    assert len(changes) > 6 * 380
    assert set(changes) == {"0", "0,0 pp"}
    result = count_file(SAMPLE)
    from engine.reference import load_reference

    pub = build_model(result, "sample", load_reference("2025q2"))
    rows = [pub.nederland, pub.onbekend] + [r.totaal for r in pub.regios] + [g for r in pub.regios for g in r.gemeenten]
    assert all(c.verschil == 0 for row in rows for c in row.cellen)
    assert all(row.graad_verschil_pp == 0 for row in rows if row.graad is not None)


def test_changes_show_in_pages_and_chart(tmp_path: Path) -> None:
    earlier = count_file(SAMPLE).table.with_columns(
        pl.when(pl.col("niveau") == "nederland").then(pl.col("totaal") - 3).otherwise(pl.col("totaal")).alias("totaal")
    )
    vorige = tmp_path / "vorige.parquet"
    earlier.write_parquet(vorige)
    out = publiceer(SAMPLE, tmp_path / "pub", vorige=str(vorige), amr=5)
    assert out.publicatie.nederland.totaal.verschil == 3
    assert [p.name for p in out.paginas] == ["index.html", "regio-05-regio-zwolle.html"]
    index = (tmp_path / "pub" / "index.html").read_text(encoding="utf-8")
    assert '<td class="verschil">+3</td>' in index
    assert "Oranje streepjes" in index  # the chart's description names the earlier quarter's marks


def test_workbook_layout(publicatie: Path) -> None:
    book = openpyxl.load_workbook(publicatie / "publicatie.xlsx")
    assert book.sheetnames[:2] == ["Toelichting", "Nederland"]
    assert len(book.sheetnames) == 2 + 35
    assert book.sheetnames[2] == "1 Groningen"
    explanation = "\n".join(str(c.value) for row in book["Toelichting"].iter_rows() for c in row if c.value)
    assert select_ruleset("teldefinitie").profiel.label in explanation
    nl = book["Nederland"]
    assert nl.freeze_panes == "B5"
    labels = [nl.cell(row=r, column=1).value for r in range(1, nl.max_row + 1)]
    row = labels.index("Nederland") + 1
    total = nl.cell(row=row, column=3 + 4 * 2)  # name, rang, then (value, verschil) x 4, then totaal
    assert total.value == 190973 and total.font.bold and total.number_format == "#,##0"
    groningen = book["1 Groningen"]
    names = [groningen.cell(row=r, column=1).value for r in range(1, groningen.max_row + 1)]
    totaal_row = names.index("Totaal AMR") + 1
    assert groningen.cell(row=totaal_row, column=2).value == 392
    assert groningen.cell(row=totaal_row, column=2).font.bold
    assert groningen.freeze_panes == "B5"


def test_pdf_holds_explanation_nederland_and_every_region(publicatie: Path) -> None:
    import subprocess

    from tests.conftest import require_tool

    pdftotext = require_tool("pdftotext", "poppler-utils: reads the PDF's text")
    text = subprocess.run(
        [pdftotext, "-layout", str(publicatie / "publicatie.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Wanneer wordt een profiel meegeteld" in text
    assert "190.973" in text
    for region in count_file(SAMPLE).table.filter(pl.col("niveau") == "arbeidsmarktregio")["arbeidsmarktregio"]:
        assert "Arbeidsmarktregio" in text and region.split()[0] in text


def test_cli_errors_are_dutch(tmp_path: Path) -> None:
    result = runner.invoke(app, ["publiceer", str(SAMPLE), "--uit", str(tmp_path), "--amr", "99"])
    assert result.exit_code == 2 and "er is geen arbeidsmarktregio 99" in result.output
    result = runner.invoke(app, ["publiceer", str(SAMPLE), "--uit", str(tmp_path), "--drempel", "1"])
    assert result.exit_code == 2 and "drempel" in result.output
    result = runner.invoke(app, ["publiceer", str(SAMPLE), "--uit", str(tmp_path), "--vorige", "2019q1"])
    assert result.exit_code == 2 and "referentie" in result.output


def test_explanation_is_not_written_twice() -> None:
    """The pages' rule text is the rule set's, as ruletext describes it (no second copy)."""
    ruleset = select_ruleset("teldefinitie")
    described = describe(ruleset)
    for regel in ruleset.regel:
        assert regel.label in described
    source = (Path(__file__).resolve().parent.parent / "engine" / "publiceer").rglob("*")
    for path in source:
        if path.is_file() and path.suffix in (".py", ".html", ".typ"):
            body = path.read_text(encoding="utf-8")
            for regel in ruleset.regel:
                assert regel.label not in body, f"{path} repeats the rule text of {regel.id}"


def test_peildatum_names_the_quarter() -> None:
    from datetime import date

    from engine.publiceer.model import periode

    assert periode(date(2025, 6, 30)) == "tweede kwartaal 2025 (peildatum 30-06-2025)"
    assert periode(date(2025, 10, 1)).startswith("vierde kwartaal 2025")
    assert periode(None) == "open dienstverlening op het moment van de extractie"
