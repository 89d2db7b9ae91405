"""The rules-first raw path (issue 12): count and profiel decide the rules on the cheap columns
and read the profile only for the rows that hold them. It must give exactly what the plan over
whole records gives, also with duplicated ids (found first), for CSV input, and for a rule set
whose rules read a profile column; and it must refuse to publish when its two queries disagree."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console
from typer.testing import CliRunner

import engine.progress
from engine.cli import app
from engine.contract import record_columns
from engine.count import count_file, run_count
from engine.errors import EXIT_INTERNAL
from engine.indeling import default_indeling
from engine.outcome import InconsistentCount, OnInvalid
from engine.pipeline import RULE_PREFIX, Plan, classify, rules_mask
from engine.profiel import profiel_file, run_profiel
from engine.progress import Voortgang, kies
from engine.rules import select_ruleset
from engine.source import open_source

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "clients-2025q2.parquet"
RULES = Path(__file__).resolve().parent.parent / "rules" / "teldefinitie-2025.toml"


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample plus duplicated ids: of counted rows, of excluded rows, and duplicates that also
    break another check (an unknown gemeente)."""
    base = pl.read_parquet(SAMPLE)
    counted = count_file(SAMPLE)
    assert counted.reconciliation.geteld > 0
    again = pl.concat([base.head(40), base.slice(100_000, 25)])
    broken = base.slice(5_000, 5).with_columns(pl.lit("Nergenshuizen").alias("gemeente"))
    path = tmp_path_factory.mktemp("rf") / "messy.parquet"
    pl.concat([base, again, broken]).write_parquet(path)
    return path


def whole_records(path: Path, rules: str = "teldefinitie") -> Plan:
    return classify(open_source(path), select_ruleset(rules), None)


def test_rules_first_count_equals_the_whole_record_plan_with_duplicates(messy: Path, tmp_path: Path) -> None:
    fast = count_file(messy, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "a.parquet")
    plan = whole_records(messy)
    assert plan.candidates is None
    slow = run_count(plan, OnInvalid.QUARANTINE, tmp_path / "b.parquet")
    assert fast.reconciliation == slow.reconciliation
    assert fast.reconciliation.afgewezen["client_id_dubbel"] == 2 * 65 + 10
    assert fast.table.equals(slow.table)
    # The duplicates were found first, so the candidates are exactly the counted rows.
    rf = classify(open_source(messy), select_ruleset("teldefinitie"), None, rules_first=True)
    assert rf.candidates is not None and rf.prepass is not None
    assert rf.prepass.duplicates.len() == 65 + 5
    assert rf.candidates.select(pl.len()).collect().item() == fast.reconciliation.geteld
    assert pl.read_parquet(tmp_path / "a.parquet").equals(pl.read_parquet(tmp_path / "b.parquet"))


def test_rules_first_profiel_equals_the_whole_record_plan(messy: Path, tmp_path: Path) -> None:
    fast = profiel_file(messy, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "a.parquet")
    slow = run_profiel(whole_records(messy), on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "b.parquet")
    assert fast.overzicht.equals(slow.overzicht)
    assert fast.combinaties.equals(slow.combinaties)
    assert fast.reconciliation == slow.reconciliation


def test_csv_input_takes_the_filter_outside_the_reader(tmp_path: Path) -> None:
    # The CSV reader is a Python IO source: the mask must not be handed to it (Polars would
    # need to pickle it), and the result is the same as for the Parquet file.
    frame = pl.read_parquet(SAMPLE).head(30_000)
    text = frame.with_columns(
        pl.col(pl.List(pl.String)).list.join(";"),
        pl.col(pl.Date).cast(pl.String),
        pl.col(pl.Boolean).cast(pl.String),
    )
    csv = tmp_path / "klein.csv"
    text.write_csv(csv)
    parquet = tmp_path / "klein.parquet"
    frame.write_parquet(parquet)
    assert count_file(csv).table.equals(count_file(parquet).table)
    assert count_file(csv).table.equals(run_count(whole_records(parquet)).table)


def test_a_rule_on_a_profile_column_computes_it_on_every_row(tmp_path: Path) -> None:
    text = RULES.read_text(encoding="utf-8")
    extra = (
        '\n[[regel]]\nid = "affiniteit"\nlabel = "Affiniteiten geregistreerd."\nbron = "test"\nsql = "affiniteiten"\n'
    )
    at = text.index("\n# Not a condition")
    rules = tmp_path / "met-profielregel.toml"
    rules.write_text(text[:at] + extra + text[at:], encoding="utf-8")
    fast = count_file(SAMPLE, rules=str(rules))
    slow = run_count(whole_records(SAMPLE, str(rules)))
    assert fast.reconciliation.uitgesloten["affiniteit"] > 0
    assert fast.reconciliation == slow.reconciliation
    assert fast.table.equals(slow.table)


def test_queries_that_disagree_stop_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Plan.profiles

    def one_short(self: Plan, keys: list[str]) -> pl.LazyFrame:
        return real(self, keys).with_columns(
            pl.when(pl.int_range(pl.len()) == 0).then(pl.col("n") - 1).otherwise(pl.col("n")).alias("n")
        )

    monkeypatch.setattr(Plan, "profiles", one_short)
    with pytest.raises(InconsistentCount, match="interne fout"):
        count_file(SAMPLE)
    result = CliRunner().invoke(app, ["count", str(SAMPLE)])
    assert result.exit_code == EXIT_INTERNAL
    assert "interne fout" in result.stderr and "Traceback" not in result.stderr


def test_a_prepass_that_read_other_records_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.pipeline

    real = engine.pipeline.prepass
    monkeypatch.setattr(engine.pipeline, "prepass", lambda source: dataclasses.replace(real(source), read=1))
    with pytest.raises(InconsistentCount, match="voorcontrole"):
        count_file(SAMPLE)


def test_the_bar_counts_every_record_once(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    seen: dict[int, int] = {}
    monkeypatch.setattr(engine.progress, "GROOT_RIJEN", 10)
    kies(Voortgang(stil=False, console=console))
    original = engine.progress._Teller.__call__

    def spy(self: engine.progress._Teller, n: int) -> None:
        seen[id(self)] = seen.get(id(self), 0) + n
        original(self, n)

    monkeypatch.setattr(engine.progress._Teller, "__call__", spy)
    try:
        result = count_file(SAMPLE)
    finally:
        kies(Voortgang())
    # Two bars: the prepass over client_id ("Controleren"), then the count ("Tellen").
    assert list(seen.values()) == [result.reconciliation.gelezen] * 2
    assert "Controleren" in buffer.getvalue() and "Tellen" in buffer.getvalue()


@pytest.mark.parametrize("rules", ["teldefinitie", "teldefinitie-inclusief-beschut"])
@pytest.mark.parametrize("peildatum", [None, date(2025, 6, 30), date(2025, 12, 31)])
@pytest.mark.parametrize("name", ["clients-2025q2.parquet", "clients-messy-klein.csv"])
def test_rules_first_equals_whole_records_per_rule_set_and_peildatum(
    name: str, peildatum: date | None, rules: str
) -> None:
    path = SAMPLE.parent / name
    fast = count_file(path, rules=rules, peildatum=peildatum)
    slow = run_count(classify(open_source(path), select_ruleset(rules, peildatum), peildatum))
    assert fast.reconciliation == slow.reconciliation
    assert fast.table.equals(slow.table)


@pytest.mark.parametrize("rules", ["teldefinitie", "teldefinitie-inclusief-beschut"])
@pytest.mark.parametrize("peildatum", [None, date(2025, 6, 30)])
@pytest.mark.parametrize("name", ["clients-2025q2.parquet", "clients-messy-klein.csv"])
def test_the_mask_keeps_exactly_the_rows_that_hold_every_rule(name: str, peildatum: date | None, rules: str) -> None:
    """The candidates' filter decides the conditions in stages, typed columns first, each on the
    rows left by the ones before; it must keep exactly the rows whose normalised record holds every
    rule and has a klantsoort (contract checks aside: those come after it)."""
    source = open_source(SAMPLE.parent / name)
    ruleset = select_ruleset(rules, peildatum)
    plan = classify(source, ruleset, peildatum)
    flags = [pl.col(RULE_PREFIX + rid) for rid in ruleset.condition_sql(peildatum)]
    holds = pl.all_horizontal(*flags, pl.col("klantsoort").is_not_null()).fill_null(False)
    expected = plan.frame.select(holds.alias("holds")).collect().to_series()
    mask = rules_mask(source, ruleset, peildatum, plan.indeling)
    got = source.frame.select(mask.alias("holds")).collect().to_series()
    assert 0 < got.sum() < got.len()
    assert got.equals(expected)


@pytest.mark.parametrize("name", ["clients-2025q2.parquet", "clients-messy-klein.csv"])
def test_a_first_stage_column_reads_no_other_first_stage_column(name: str) -> None:
    """What lets the mask normalise in stages, in place: a later stage never needs a raw value
    that an earlier stage replaced."""
    source = open_source(SAMPLE.parent / name)
    columns = record_columns(source.schema, default_indeling(), date(2025, 6, 30), source.datumformaten)
    for name_, expr in columns.first.items():
        assert set(expr.meta.root_names()) & set(columns.first) <= {name_}, name_


@pytest.mark.parametrize("column", ["status", "indicering"])
def test_a_column_without_any_value_counts_as_on_whole_records(column: str, tmp_path: Path) -> None:
    """The prepass finds each folded column's distinct values to map them without Python per
    batch; a column that holds none (all null) must count as the whole-record plan counts it."""
    path = tmp_path / "leeg.parquet"
    pl.read_parquet(SAMPLE).head(20_000).with_columns(pl.lit(None, dtype=pl.String).alias(column)).write_parquet(path)
    fast = count_file(path, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "q.parquet")
    slow = run_count(whole_records(path), OnInvalid.QUARANTINE, tmp_path / "q2.parquet")
    assert fast.reconciliation == slow.reconciliation
    assert fast.table.equals(slow.table)
    assert fast.reconciliation.gelezen == 20_000


def test_spellings_of_one_value_fold_together_rules_first(tmp_path: Path) -> None:
    """Status and indicering as an export spells them (case, padding, a non-breaking space): the
    prepass's distinct values are folded once and every spelling counts as its folded value."""
    base = pl.read_parquet(SAMPLE).head(30_000)
    spelled = base.with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.col("status").str.to_uppercase())
        .when(pl.int_range(pl.len()) % 3 == 1)
        .then(pl.lit(" ") + pl.col("status") + pl.lit("\u00a0"))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.when(pl.int_range(pl.len()) % 2 == 0).then(pl.col("indicering").str.to_uppercase()).otherwise("indicering"),
    )
    plain, messy = tmp_path / "plain.parquet", tmp_path / "spelled.parquet"
    base.write_parquet(plain)
    spelled.write_parquet(messy)
    assert count_file(messy).table.equals(count_file(plain).table)
    assert count_file(messy).reconciliation == count_file(plain).reconciliation
