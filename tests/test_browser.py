"""The publication as a reader sees it: rendered by a real (headless) Chromium, and the PDF's pages.

Uses the system's chromium and chromedriver (Debian packages; `.ci/run` installs them) through
Selenium, never a downloaded browser, and poppler's pdftoppm/pdfinfo for the PDF. Without these
tools the tests skip locally; under CI=true they fail (see tests.conftest.require_tool).
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import require_tool

WIDTH = 1200


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = require_tool("chromium", "headless browser for the page tests")
    chromedriver = require_tool("chromedriver", "drives chromium (Debian package chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--window-size={WIDTH},1000",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def screenshot(driver, path: Path) -> np.ndarray:  # type: ignore[no-untyped-def]
    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L")
    image.save(path)
    return np.asarray(image, dtype=float)


def _open(driver, page: Path) -> None:  # type: ignore[no-untyped-def]
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def _chart_sizes(driver) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('figure svg[role=img]'))"
        ".map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; });"
    )
    return [(float(w), float(h)) for w, h in sizes]


def test_index_renders_table_and_chart(browser, publicatie: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _open(browser, publicatie / "index.html")
    pixels = screenshot(browser, tmp_path / "index.png")
    assert pixels.std() > 10, "the page looks blank"
    assert browser.title.startswith("Transparantie van klantprofielen")
    row = browser.find_element(By.XPATH, "//tr[th[normalize-space()='Nederland']]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", row)
    assert row.is_displayed()
    assert "190.973" in row.text and "11.994" in row.text
    rect = row.rect
    assert rect["width"] > 400 and rect["height"] > 10
    charts = _chart_sizes(browser)
    assert charts and all(w > 200 and h > 200 for w, h in charts), charts
    chart = browser.find_element(By.CSS_SELECTOR, "figure svg[role=img]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", chart)
    assert np.asarray(Image.open(io.BytesIO(chart.screenshot_as_png)).convert("L"), dtype=float).std() > 10
    assert len(browser.find_elements(By.CSS_SELECTOR, "a[href^='regio-']")) >= 35


def test_region_page_renders_table_chart_and_rank(browser, publicatie: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _open(browser, publicatie / "regio-22-rijnmond.html")
    pixels = screenshot(browser, tmp_path / "regio.png")
    assert pixels.std() > 10, "the page looks blank"
    total = browser.find_element(By.XPATH, "//tr[th[normalize-space()='Totaal AMR']]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", total)
    assert total.is_displayed()
    assert re.search(r"\d{1,3}(\.\d{3})+", total.text)
    assert re.search(r"\d+e van de 35", browser.find_element(By.CSS_SELECTOR, ".positie").text)
    assert [(w, h) for w, h in _chart_sizes(browser) if w > 200 and h > 100]
    headers = browser.find_elements(By.CSS_SELECTOR, "th[scope=row]")
    assert len(headers) > 10


def test_print_stylesheet_applies(browser, publicatie: Path) -> None:  # type: ignore[no-untyped-def]
    """Chromium's print emulation hides the navigation (the @media print rules take effect)."""
    _open(browser, publicatie / "regio-01-groningen.html")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden = browser.execute_script("return getComputedStyle(document.querySelector('nav')).display")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert hidden == "none"


def test_pdf_pages_render_and_count(publicatie: Path, tmp_path: Path) -> None:
    pdftoppm = require_tool("pdftoppm", "poppler-utils: renders the PDF's pages")
    pdfinfo = require_tool("pdfinfo", "poppler-utils: reads the PDF's page count")
    pdf = publicatie / "publicatie.pdf"
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    # Title page, explanation, the Nederland table, the Nederland chart, then each region on a new page.
    assert pages >= 4 + 35
    subprocess.run([pdftoppm, "-r", "24", "-gray", "-png", str(pdf), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == pages
    for image in images:
        pixels = np.asarray(Image.open(image), dtype=float)
        assert pixels.std() > 3, f"{image.name} looks blank"
        assert pixels.shape[0] > pixels.shape[1]  # A4 portrait
