"""Invariants over random client records: nothing is lost, the layout adds up, DuckDB agrees."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.contract import VOCABULARY
from engine.count import count_file
from engine.funnel import funnel_file
from engine.indeling import default_indeling
from engine.layout import FIGURES, Niveau, publication_table
from engine.outcome import OnInvalid
from engine.packed import RECORD
from engine.pipeline import classify
from engine.prepare import prepare_file
from engine.profiel import profiel_file
from engine.rules import select_ruleset
from engine.source import open_source
from engine.sql import cells_sql, normalised_from_parquet
from tests.factory import client, write_parquet

GEMEENTEN = ["Assen", "Den Haag", "'S-GRAVENHAGE", "Sudwest-Fryslan", "Zwolle", "Atlantis", " ", None]
STATUS = ["ingeschreven", " Ingeschreven", "uitgeschreven", "", None]
INDICERING = ["Wajong", "WW", " bijstand ", "NUG", "iow", "xyz", None]
DATES = st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)))
FLAGS = st.one_of(st.none(), st.booleans())
LISTS = st.one_of(st.none(), st.lists(st.one_of(st.none(), st.sampled_from(["", " ", "zorg", "nee"])), max_size=3))
TAAK = st.one_of(st.none(), st.sampled_from(["", "  ", "ja", "nee"]))


@st.composite
def records(draw: st.DrawFn, valid_only: bool = False) -> list[dict]:
    n = draw(st.integers(min_value=0, max_value=25))
    rows = []
    for i in range(n):
        begin, einde = draw(DATES), draw(DATES)
        if valid_only and begin and einde and einde < begin:
            begin, einde = einde, begin
        gemeenten = [g for g in GEMEENTEN if g != "Atlantis"] if valid_only else GEMEENTEN
        row = client(
            f"c{draw(st.integers(0, 30)) if not valid_only else i}",
            gemeente=draw(st.sampled_from(gemeenten)),
            status=draw(st.sampled_from(STATUS)),
            indicering=draw(st.sampled_from(INDICERING)),
            indicering_begin=begin,
            indicering_einde=einde,
            doelgroepregister=draw(FLAGS),
            banenafspraak=draw(FLAGS),
            beschut_wsw=draw(FLAGS),
            affiniteiten=draw(LISTS),
            beroepssectoren=draw(LISTS),
            taaksoort_01=draw(TAAK),
            taaksoort_20=draw(TAAK),
        )
        rows.append(row)
    return rows


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(records())
def test_every_row_is_accounted_for(rows: list[dict]) -> None:
    with TemporaryDirectory() as tmp:
        path = write_parquet(rows, Path(tmp) / "x.parquet")
        result = count_file(path, on_invalid=OnInvalid.QUARANTINE, quarantine=Path(tmp) / "q.parquet")
        rec = result.reconciliation
        assert rec.gelezen == len(rows)
        assert rec.sluitend
        assert pl.read_parquet(Path(tmp) / "q.parquet").height == rec.n_afgewezen
    table = result.table
    nederland = table.filter(pl.col("niveau") == "nederland")
    assert nederland["totaal"].item() == rec.geteld <= len(rows)
    assert (table["totaal"] == table.select(pl.sum_horizontal(FIGURES)).to_series()).all()
    regions = table.filter(pl.col("niveau") == "arbeidsmarktregio")
    gemeenten = table.filter(pl.col("niveau") == "gemeente").group_by("amr").agg(pl.col(FIGURES).sum())
    assert regions.select("amr", *FIGURES).sort("amr").equals(gemeenten.sort("amr").select("amr", *FIGURES))
    assert table.select(pl.min_horizontal(FIGURES).min()).item() >= 0


@SETTINGS
@given(records(valid_only=True), st.sampled_from(["teldefinitie", "teldefinitie-inclusief-beschut"]))
def test_duckdb_agrees_on_valid_records(rows: list[dict], rules: str) -> None:
    rows = [r for r in rows if (r["indicering"] or "").strip().lower() not in ("xyz", "")]
    with TemporaryDirectory() as tmp:
        path = write_parquet(rows, Path(tmp) / "x.parquet")
        engine = count_file(path, rules=rules).table
        sql = cells_sql(normalised_from_parquet(str(path), default_indeling(), None), select_ruleset(rules), None)
        cells = duckdb.sql(sql).pl().with_columns(pl.col("n").cast(pl.UInt32))
    assert publication_table(cells, default_indeling()).equals(engine)


PEILDATA = st.one_of(st.none(), st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 1, 2)))

#: Rule sets that read outside the packed key, beside the two shipped ones: an onderdeel that
#: reads a date (count, funnel and profiel must then read the records themselves), and a rule
#: that reads peildatum with one packed field (merging that field's values evaluates the rule on
#: them, with peildatum beside them). Each once made a prepared file fail or count otherwise.
CUSTOM_RULES = {
    "date_onderdeel": lambda t: (
        t + '\n[[profiel.onderdeel]]\nid = "begin"\nlabel = "Begindatum."\nsql = "indicering_begin IS NOT NULL"\n'
    ),
    "peildatum_rule": lambda t: t.replace(
        'sql = "doelgroepregister"', 'sql = "peildatum IS NULL OR doelgroepregister"'
    ),
}


@pytest.fixture(scope="module")
def rule_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The shipped rule sets by name, the custom ones by path."""
    from engine.paths import rules_dir

    text = (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
    directory = tmp_path_factory.mktemp("rules")
    files = {"teldefinitie": "teldefinitie", "teldefinitie-inclusief-beschut": "teldefinitie-inclusief-beschut"}
    for name, change in CUSTOM_RULES.items():
        path = directory / f"{name}.toml"
        path.write_text(change(text), encoding="utf-8")
        assert path.read_text(encoding="utf-8") != text
        files[name] = str(path)
    return files


@pytest.mark.slow
@SETTINGS
@given(
    records(),
    st.sampled_from(["teldefinitie", "teldefinitie-inclusief-beschut", *CUSTOM_RULES]),
    PEILDATA,
)
def test_a_prepared_file_counts_and_decodes_exactly_like_its_source(
    rule_files: dict[str, str], rows: list[dict], rule_set: str, peildatum: date | None
) -> None:
    """The packed row loses nothing: the same table and reconciliation at any peildatum, the
    same funnel and profile figures (grouped on the packed key), and every column of the
    normalised record decodes to what the raw file normalises to; under the shipped rule sets
    and under rule sets that read outside the packed key."""
    rules = rule_files[rule_set]
    with TemporaryDirectory() as tmp:
        raw = write_parquet(rows, Path(tmp) / "x.parquet")
        prepared = Path(tmp) / "p.parquet"
        prepare_file(raw, prepared, OnInvalid.QUARANTINE, Path(tmp) / "q0.parquet")
        counts = [
            count_file(p, rules, peildatum, OnInvalid.QUARANTINE, Path(tmp) / f"q{i}.parquet")
            for i, p in enumerate((raw, prepared), start=1)
        ]
        assert counts[1].table.equals(counts[0].table)
        assert counts[1].reconciliation == counts[0].reconciliation
        q = OnInvalid.QUARANTINE
        funnels = [
            funnel_file(p, rules, peildatum, Niveau.GEMEENTE, None, q, Path(tmp) / "f.parquet") for p in (raw, prepared)
        ]
        for part in ("steps", "status", "indicering"):
            assert getattr(funnels[1], part).equals(getattr(funnels[0], part)), part
        profielen = [
            profiel_file(p, rules, peildatum, Niveau.GEMEENTE, q, Path(tmp) / "qp.parquet") for p in (raw, prepared)
        ]
        assert profielen[1].overzicht.equals(profielen[0].overzicht)
        assert profielen[1].combinaties.equals(profielen[0].combinaties)
        assert funnels[1].reconciliation == profielen[1].reconciliation == counts[0].reconciliation
        ruleset = select_ruleset(rules, peildatum)
        columns = [*VOCABULARY, "afgewezen"]
        flagged = [classify(open_source(p), ruleset, peildatum).flagged for p in (raw, prepared)]
        in_order = flagged[0].with_row_index(RECORD, offset=1)  # a raw file is read in order
        decoded = [f.sort(RECORD).select(columns).collect() for f in (in_order, flagged[1])]
    assert decoded[1].equals(decoded[0])
