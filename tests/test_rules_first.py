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

import engine.outcome
import engine.progress
from engine.cli import app
from engine.contract import record_columns
from engine.count import count_file, run_count
from engine.errors import EXIT_INTERNAL
from engine.grouping import Strategy
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


#: The reference the rules-first path is held to: every whole record classified, one by one.
PER_RECORD = Strategy.PER_RECORD


def test_rules_first_count_equals_the_whole_record_plan_with_duplicates(messy: Path, tmp_path: Path) -> None:
    fast = count_file(messy, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "a.parquet")
    plan = whole_records(messy)
    assert plan.candidates is None
    slow = run_count(plan, OnInvalid.QUARANTINE, tmp_path / "b.parquet", strategy=PER_RECORD)
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
    assert count_file(csv).table.equals(run_count(whole_records(parquet), strategy=PER_RECORD).table)


def test_a_rule_on_a_profile_column_computes_it_on_every_row(tmp_path: Path) -> None:
    text = RULES.read_text(encoding="utf-8")
    extra = (
        '\n[[regel]]\nid = "affiniteit"\nlabel = "Affiniteiten geregistreerd."\nbron = "test"\nsql = "affiniteiten"\n'
    )
    at = text.index("\n# Not a condition")
    rules = tmp_path / "met-profielregel.toml"
    rules.write_text(text[:at] + extra + text[at:], encoding="utf-8")
    fast = count_file(SAMPLE, rules=str(rules))
    slow = run_count(whole_records(SAMPLE, str(rules)), strategy=PER_RECORD)
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
    slow = run_count(classify(open_source(path), select_ruleset(rules, peildatum), peildatum), strategy=PER_RECORD)
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
    slow = run_count(whole_records(path), OnInvalid.QUARANTINE, tmp_path / "q2.parquet", strategy=PER_RECORD)
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


#: Ids of every kind the prepass must tell apart: duplicated, blank in each way (null, empty,
#: spaces, a null word), a padded duplicate and unique ones.
PREPASS_IDS = ["a", "b", "a", None, "c", None, "", "  ", "NULL", "dd", " dd", "dd", "e", "ab", "K1", "K1\t"]


def _weak(kind: str):
    if kind == "every id collides":
        return lambda ids, wide=False: ids.hash(1) % 1
    return lambda ids, wide=False: ids.str.len_bytes().cast(pl.UInt64)


@pytest.mark.parametrize("hash_kind", [None, "every id collides", "ids of equal length collide"])
@pytest.mark.parametrize("wide", [True, False], ids=["64-bit", "32-bit"])
def test_the_prepass_finds_duplicates_and_blank_ids_exactly(
    wide: bool, hash_kind: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prepass hashes ids to 64 bits for a file of known, moderate size (else 32) and reads
    ids back only for candidate hashes; a blank id hashes to 0. Whatever the hash and its width,
    it finds exactly the duplicated ids and whether any id is blank, and the count rejects
    exactly what the whole-record plan rejects."""
    import engine.contract
    import engine.pipeline
    from engine.pipeline import prepass
    from tests.factory import client, write_parquet

    monkeypatch.setattr(engine.pipeline, "WIDE_HASH_MAX_ROWS", 10**9 if wide else 0)
    if hash_kind is not None:
        monkeypatch.setattr(engine.contract, "_id_hash", _weak(hash_kind))
    path = write_parquet([client(i) for i in PREPASS_IDS], tmp_path / "ids.parquet")
    found = prepass(open_source(path))
    assert sorted(found.duplicates.drop_nulls().to_list()) == ["", "K1", "a", "dd"]
    assert found.blank_ids and found.read == len(PREPASS_IDS) and found.bsn == 0
    fast = count_file(path, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "a.parquet")
    slow = run_count(whole_records(path), OnInvalid.QUARANTINE, tmp_path / "b.parquet", strategy=PER_RECORD)
    assert fast.reconciliation == slow.reconciliation
    assert fast.reconciliation.afgewezen == {"client_id_dubbel": 7, "client_id_leeg": 5}
    assert pl.read_parquet(tmp_path / "a.parquet").equals(pl.read_parquet(tmp_path / "b.parquet"))

    clean = write_parquet([client(i) for i in ("a", "b", " c", "NULLS", "N/A-1")], tmp_path / "clean.parquet")
    found = prepass(open_source(clean))
    assert found.duplicates.is_empty() and found.read == 5
    # A hash that makes every id look blank (0) costs the per-record check, not a wrong answer.
    assert found.blank_ids == (hash_kind == "every id collides")
    assert found.ruled_out() == (frozenset() if found.blank_ids else {"client_id_leeg"})
    assert count_file(clean).reconciliation.geteld == 5


def test_a_file_of_more_rows_than_the_wide_hash_takes_uses_the_narrow_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above WIDE_HASH_MAX_ROWS (or with a row count unknown beforehand, CSV) the ids are hashed
    to 32 bits, so collisions are candidates read back: the sample then has some."""
    import engine.contract
    import engine.pipeline
    from engine.pipeline import prepass

    widths: list[bool] = []
    real = engine.contract._id_hash

    def spy(ids: pl.Expr, wide: bool = False) -> pl.Expr:
        widths.append(wide)
        return real(ids, wide)

    monkeypatch.setattr(engine.contract, "_id_hash", spy)
    assert prepass(open_source(SAMPLE)).duplicates.is_empty()
    assert set(widths) == {True}
    widths.clear()
    monkeypatch.setattr(engine.pipeline, "WIDE_HASH_MAX_ROWS", 1000)
    assert prepass(open_source(SAMPLE)).duplicates.is_empty()
    assert set(widths) == {False}
    widths.clear()
    assert prepass(open_source(SAMPLE.parent / "clients-messy-klein.csv")) is not None
    assert set(widths) == {False}


def test_klantsoort_decided_per_group_from_the_raw_indicering(tmp_path: Path) -> None:
    """The record query keys the raw indicering only on records that keep the contract and hold
    every rule, and folds it per group: each spelling, a value of no klantsoort, blank and null
    count (or are rejected as klantsoort_onbepaald) exactly as on whole records."""
    from tests.factory import client, write_parquet

    spellings = ["Wajong", " WAJONG\u00a0", "ww", "Bijstand", "NUG ", "onbekend", "", "NULL", None, "wajong"]
    records = [client(f"k{i}", indicering=v) for i, v in enumerate(spellings)]
    # The same spellings on records that fail a rule: excluded, whatever their indicering.
    records += [client(f"u{i}", indicering=v, status="uitgeschreven") for i, v in enumerate(spellings)]
    path = write_parquet(records, tmp_path / "k.parquet")
    fast = count_file(path, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "a.parquet")
    slow = run_count(whole_records(path), OnInvalid.QUARANTINE, tmp_path / "b.parquet", strategy=PER_RECORD)
    assert fast.reconciliation == slow.reconciliation
    assert fast.reconciliation.afgewezen == {"klantsoort_onbepaald": 4}
    assert fast.reconciliation.geteld == 6 and fast.reconciliation.uitgesloten["ingeschreven"] == 10
    assert fast.table.equals(slow.table)
    assert pl.read_parquet(tmp_path / "a.parquet").equals(pl.read_parquet(tmp_path / "b.parquet"))


@pytest.fixture(scope="module")
def messier(messy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``messy`` plus blank ids, indicering spelled every way (on counted and excluded records),
    an out-of-range date, a non-boolean and status in capitals."""
    from tests.factory import client, frame

    base = pl.read_parquet(messy)
    spellings = ["Wajong", " WAJONG\u00a0", "ww", "Bijstand", "NUG ", "onbekend", "", "NULL", None]
    extra = [client(f"k{i}", indicering=v) for i, v in enumerate(spellings)]
    extra += [client(f"u{i}", indicering=v, status="UITGESCHREVEN") for i, v in enumerate(spellings)]
    extra += [client(None), client("  "), client("NULL", status="Ingeschreven ")]
    extra += [client("d1", indicering_begin=date(1850, 1, 1)), client("b1", doelgroepregister="misschien")]
    schema = {**dict(base.schema), "doelgroepregister": pl.String()}
    more = frame(extra, schema).select(base.columns)
    path = tmp_path_factory.mktemp("rf") / "messier.parquet"
    pl.concat([base.with_columns(pl.col("doelgroepregister").cast(pl.String)), more]).write_parquet(path)
    return path


@pytest.mark.parametrize("peildatum", [None, date(2025, 6, 30)])
@pytest.mark.parametrize("rules", ["teldefinitie", "teldefinitie-inclusief-beschut"])
def test_grouping_per_group_equals_classifying_every_record(
    messier: Path, rules: str, peildatum: date | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """count, funnel and profiel group a raw file's records on the first check broken and the
    rules failed (engine.grouping, per_group), and decide outcome and klantsoort per group. Every
    figure they show must be what classifying every record gives (per_record)."""
    import engine.grouping
    from engine.funnel import funnel_file
    from engine.grouping import choose

    def run_all(tag: str) -> list[object]:
        options = {"rules": rules, "peildatum": peildatum, "on_invalid": OnInvalid.QUARANTINE}
        counted = count_file(messier, quarantine=tmp_path / f"c{tag}.parquet", **options)
        funnel = funnel_file(messier, quarantine=tmp_path / f"f{tag}.parquet", **options)
        profiel = profiel_file(messier, quarantine=tmp_path / f"p{tag}.parquet", **options)
        return [
            counted.table,
            counted.reconciliation,
            counted.problems,
            counted.warnings,
            *(getattr(funnel, f.name) for f in dataclasses.fields(funnel) if f.name != "ruleset"),
            profiel.overzicht,
            profiel.combinaties,
            profiel.reconciliation,
            *(pl.read_parquet(tmp_path / f"{c}{tag}.parquet") for c in "cfp"),
        ]

    plan = classify(open_source(messier), select_ruleset(rules, peildatum), peildatum, rules_first=True)
    assert choose(plan, {"gemeente": pl.col("gemeente")}) is Strategy.PER_GROUP
    grouped = run_all("g")
    monkeypatch.setattr(engine.grouping, "_per_group", lambda plan, keep: None)
    assert choose(plan, {"gemeente": pl.col("gemeente")}) is Strategy.PER_RECORD
    every = run_all("r")
    reconciliation = grouped[1]
    assert isinstance(reconciliation, engine.outcome.Reconciliation)
    assert set(reconciliation.afgewezen) >= {"client_id_leeg", "client_id_dubbel", "klantsoort_onbepaald"}
    for mine, theirs in zip(grouped, every, strict=True):
        if isinstance(mine, pl.DataFrame):
            assert mine.equals(theirs), (mine, theirs)
        else:
            assert mine == theirs
