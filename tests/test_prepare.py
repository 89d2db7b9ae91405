"""`prepare`: a prepared file counts exactly like its source, and refuses what it cannot serve."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.errors import InvalidRowsError, RuleFileError, UsageError
from engine.grouping import Strategy, choose
from engine.outcome import OnInvalid
from engine.packed import LAYOUT_KEY, Layout
from engine.prepare import PREPARED_COLUMNS, prepare_file
from engine.source import PREPARED_KEY, open_source
from tests.factory import client, write_parquet

runner = CliRunner()
RECORDS = [
    client("a"),
    client("b", gemeente="Den Haag", indicering=" bijstand", affiniteiten=[" "]),
    client("c", status="uitgeschreven"),
    client("d", gemeente="Atlantis"),
    client("e", indicering="onbekend"),
    client("f", gemeente=None, banenafspraak=False, beschut_wsw=True),
]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return write_parquet(RECORDS, tmp_path / "raw.parquet")


def test_prepared_file_keeps_every_row_and_quarantines_the_raw_rows(raw: Path, tmp_path: Path) -> None:
    """What a prepared file is: every row once (the rejected ones too, counted again as
    rejected), in PREPARED_COLUMNS. That it counts exactly like its source is the property
    test's (tests/test_properties.py) and every golden case's (tests/test_golden.py)."""
    prepared = tmp_path / "p.parquet"
    result = prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q0.parquet")
    assert (result.read, result.rejected) == (6, {"gemeente_onbekend": 1})
    assert open_source(prepared).format == "prepared"
    assert pl.read_parquet_schema(prepared).names() == PREPARED_COLUMNS
    again = count_file(prepared, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "q2.parquet")
    assert again.reconciliation.afgewezen == {"gemeente_onbekend": 1, "klantsoort_onbepaald": 1}
    assert sorted(pl.read_parquet(tmp_path / "q2.parquet")["client_id"]) == ["d", "e"]


def test_provenance_is_recorded(raw: Path, tmp_path: Path) -> None:
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    meta = json.loads(pl.read_parquet_metadata(prepared)[PREPARED_KEY])
    assert meta["contract_version"] == "2025.2"
    assert meta["source"] == "raw.parquet"
    assert len(meta["indeling_sha256"]) == len(meta["rules_sha256"]) == 16


def test_prepare_fails_on_invalid_rows_and_writes_nothing(raw: Path, tmp_path: Path) -> None:
    prepared = tmp_path / "p.parquet"
    with pytest.raises(InvalidRowsError, match="gemeente_onbekend"):
        prepare_file(raw, prepared)
    assert not prepared.exists()
    assert not list(tmp_path.glob("p.parquet*"))


def test_prepare_quarantines_raw_rows(raw: Path, tmp_path: Path) -> None:
    quarantine = tmp_path / "q.parquet"
    prepare_file(raw, tmp_path / "p.parquet", OnInvalid.QUARANTINE, quarantine)
    rows = pl.read_parquet(quarantine)
    assert rows["client_id"].to_list() == ["d"]
    assert rows["gemeente"].to_list() == ["Atlantis"]
    assert rows["reden"].to_list() == ["gemeente_onbekend"]


def test_refuses_rules_that_need_a_missing_column(raw: Path, tmp_path: Path) -> None:
    from engine.paths import rules_dir

    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    meta = pl.read_parquet_metadata(prepared)
    layout = Layout.from_json(meta[LAYOUT_KEY])
    without = Layout(tuple(f for f in layout.fields if f.name != "opleiding"))
    stripped = tmp_path / "stripped.parquet"
    pl.read_parquet(prepared).write_parquet(stripped, metadata=meta | {LAYOUT_KEY: without.to_json()})
    kept = count_file(stripped, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "x.parquet")
    assert kept.reconciliation.gelezen == 6  # the default rules do not read opleiding
    rules = tmp_path / "met-opleiding.toml"
    extra = '\n[[regel]]\nid = "opleiding"\nlabel = "Opleiding geregistreerd."\nbron = "test"\nsql = "opleiding"\n'
    text = (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
    rules.write_text(text.replace("\n[[signaal]]", extra + "\n[[signaal]]", 1), encoding="utf-8")
    with pytest.raises(
        RuleFileError, match=r"regel 'opleiding'.*leest kolom\(men\) \['opleiding'\], die het voorbereide bestand"
    ):
        count_file(stripped, rules=str(rules))
    full = count_file(prepared, rules=str(rules), on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "y.parquet")
    assert full.reconciliation.uitgesloten["opleiding"] == 0


def test_refuses_a_prepared_file_of_another_contract(raw: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.parquet"
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    meta = json.loads(pl.read_parquet_metadata(prepared)[PREPARED_KEY]) | {"contract_version": "2024.9"}
    pl.read_parquet(prepared).write_parquet(old, metadata={PREPARED_KEY: json.dumps(meta)})
    with pytest.raises(
        UsageError, match="is voorbereid onder contract 2024.9, deze versie van transparantie gebruikt 2025.2"
    ):
        count_file(old)


def test_prepare_twice_is_refused(raw: Path, tmp_path: Path) -> None:
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    with pytest.raises(UsageError, match="is al een voorbereid bestand"):
        prepare_file(prepared, tmp_path / "again.parquet")


def test_prepare_cli(tmp_path: Path) -> None:
    raw = write_parquet([client("a"), client("b")], tmp_path / "raw.parquet")
    out = tmp_path / "p.parquet"
    result = runner.invoke(app, ["prepare", str(raw), str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("2 records gelezen, 0 afgewezen; voorbereid bestand:")
    counted = runner.invoke(app, ["count", str(out), "--format", "csv"])
    assert counted.stdout.splitlines()[-1] == "nederland,,,,0,0,2,0,2"


def test_sorting_by_key_ranges_writes_the_same_file_as_one_sort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file larger than RANGE_ROWS is sorted one key range at a time; the result is the very
    file one sort gives (rows of equal sleutel stay in record order), ``aantal`` included. One
    sleutel here holds more rows than a range: it gets a range of its own, handed on in slices."""
    import engine.prepare as prepare
    from engine.generate import generate
    from engine.output import is_temp_name

    generated = tmp_path / "generated.parquet"
    generate(generated, rows=3000, seed=5, messy=True, stil=True)
    unknown = pl.when(pl.int_range(pl.len()) % 50 == 0).then(pl.lit("Atlantis")).otherwise(pl.col("gemeente"))
    frame = pl.read_parquet(generated).with_columns(unknown.alias("gemeente"))  # some rows break the contract
    same = pl.concat([frame.slice(1, 1)] * 700).with_columns(
        pl.format("zelfde-{}", pl.int_range(pl.len())).alias("client_id")
    )
    raw = tmp_path / "raw.parquet"
    pl.concat([frame.head(1500), same, frame.tail(1500)]).write_parquet(raw)
    one, ranged = tmp_path / "one" / "p.parquet", tmp_path / "ranged" / "p.parquet"
    for out in (one, ranged):
        out.parent.mkdir()
    assert prepare_file(raw, one, OnInvalid.QUARANTINE, tmp_path / "q1.parquet").rejected == {"gemeente_onbekend": 60}

    parts: list[int] = []
    partition = prepare._partition
    monkeypatch.setattr(
        prepare, "_partition", lambda packed, cuts, paths: parts.append(len(paths)) or partition(packed, cuts, paths)
    )
    monkeypatch.setattr(prepare, "RANGE_ROWS", 300)
    monkeypatch.setattr(prepare, "SAMPLE_EVERY", 7)
    prepare_file(raw, ranged, OnInvalid.QUARANTINE, tmp_path / "q2.parquet")

    assert parts and parts[0] > 10
    assert pl.read_parquet(ranged).equals(pl.read_parquet(one))
    assert pl.read_parquet_metadata(ranged) == pl.read_parquet_metadata(one)
    prepared = pl.read_parquet(one)
    assert prepared["sleutel"].is_sorted() and prepared.height == 3700
    runs = prepared.group_by("sleutel").agg(
        pl.len().alias("n"), pl.col("aantal").first().alias("first"), pl.col("aantal").sum().alias("sum")
    )
    assert (runs["first"] == runs["n"]).all() and (runs["sum"] == runs["n"]).all() and runs["n"].max() >= 700
    assert not [p for p in ranged.parent.iterdir() if is_temp_name(p.name)]


def test_aantal_counts_each_run_on_its_first_row() -> None:
    keys = pl.DataFrame({"sleutel": pl.Series([1, 1, 2, 3, 3, 3, 7], dtype=pl.UInt64)})
    assert keys.with_columns(Layout(()).aantal())["aantal"].to_list() == [2, 0, 1, 3, 0, 0, 1]
    assert keys.head(0).with_columns(Layout(()).aantal()).height == 0


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_way_of_grouping_a_prepared_file_counts_alike(raw: Path, tmp_path: Path, strategy: Strategy) -> None:
    """Each strategy of engine.grouping, named explicitly, counts the prepared file as reading it
    record by record does: ``aantal`` summed (only without peildatum: the rules then read no
    date), date verdicts as spare key bits, as keys of their own. (That the prepared file counts
    like its source is the golden run's and the property test's.)"""
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    for peildatum in (None, date(2025, 6, 30), date(2025, 1, 1)):
        direct = count_file(
            prepared,
            peildatum=peildatum,
            on_invalid=OnInvalid.QUARANTINE,
            quarantine=tmp_path / "a.parquet",
            strategy=Strategy.PER_RECORD,
        )
        if strategy is Strategy.PER_GROUP:
            with pytest.raises(ValueError, match="only a raw file"):
                count_file(prepared, peildatum=peildatum, strategy=strategy)
            continue
        if strategy is Strategy.PACKED_AANTAL and peildatum is not None:
            with pytest.raises(ValueError, match="cannot sum aantal"):
                count_file(prepared, peildatum=peildatum, strategy=strategy)
            continue
        grouped = count_file(
            prepared,
            peildatum=peildatum,
            on_invalid=OnInvalid.QUARANTINE,
            quarantine=tmp_path / "b.parquet",
            strategy=strategy,
        )
        assert grouped.table.equals(direct.table)
        assert grouped.reconciliation == direct.reconciliation
    assert pl.read_parquet(prepared)["aantal"].sum() == 6


def test_the_cheapest_strategy_is_chosen(raw: Path, tmp_path: Path) -> None:
    from engine.pipeline import classify
    from engine.rules import select_ruleset

    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    ruleset = select_ruleset("teldefinitie")
    keep = {"gemeente": pl.col("gemeente")}
    cases = [
        (raw, None, keep, Strategy.PER_GROUP),
        (raw, None, {"klantsoort": pl.col("gemeente")}, Strategy.PER_RECORD),  # a key named as a decided column
        (prepared, None, keep, Strategy.PACKED_AANTAL),
        (prepared, date(2025, 6, 30), keep, Strategy.PACKED_BITS),
        (prepared, None, {"id": pl.col("client_id")}, Strategy.PER_RECORD),
    ]
    for path, peildatum, kept, expected in cases:
        assert choose(classify(open_source(path), ruleset, peildatum), kept) is expected, (path, peildatum)


def test_values_merge_only_when_every_decision_agrees(tmp_path: Path) -> None:
    """Two rules read status alone: 'uitgeschreven' and 'ingeschreven' agree on the first
    (neither is 'geschorst') but not on the second, so they must not group together."""
    from engine.paths import rules_dir

    records = [client("a"), client("b", status="uitgeschreven"), client("c", status="geschorst")]
    raw = write_parquet(records, tmp_path / "raw.parquet")
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared)
    rules = tmp_path / "met-geschorst.toml"
    extra = '\n[[regel]]\nid = "niet_geschorst"\nlabel = "Niet geschorst."\nbron = "test"\n'
    extra += "sql = \"status <> 'geschorst'\"\n"
    text = (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
    rules.write_text(text.replace("\n[[regel]]", extra + "\n[[regel]]", 1), encoding="utf-8")
    rec = count_file(prepared, rules=str(rules)).reconciliation
    assert (rec.geteld, rec.uitgesloten["niet_geschorst"], rec.uitgesloten["ingeschreven"]) == (1, 1, 1)


def test_a_damaged_layout_is_a_clear_error(raw: Path, tmp_path: Path) -> None:
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    meta = pl.read_parquet_metadata(prepared)
    for layout in ("{not json", '[{"naam": "status"}]', "[]"):
        damaged = tmp_path / "damaged.parquet"
        pl.read_parquet(prepared).write_parquet(damaged, metadata=meta | {LAYOUT_KEY: layout})
        result = runner.invoke(app, ["count", str(damaged)])
        assert result.exit_code == 2, result.output
        assert "de opbouw van de verpakte rij in de metagegevens is beschadigd" in result.stderr
        assert "Traceback" not in result.output


def test_refuses_a_prepared_file_of_another_format_or_indeling(raw: Path, tmp_path: Path) -> None:
    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    meta = pl.read_parquet_metadata(prepared)
    old = json.loads(meta[PREPARED_KEY]) | {"format_version": "1"}
    layout = Layout.from_json(meta[LAYOUT_KEY])
    renamed = Layout(
        tuple(
            dataclasses.replace(f, values=("Atlantis", *f.values[1:])) if f.name == "gemeente" else f
            for f in layout.fields
        )
    )
    cases = {
        "format": (
            meta | {PREPARED_KEY: json.dumps(old)},
            "is voorbereid onder formaat 1, deze versie van transparantie gebruikt 2",
        ),
        "indeling": (meta | {LAYOUT_KEY: renamed.to_json()}, "is voorbereid met een andere indeling van gemeenten"),
    }
    for name, (metadata, message) in cases.items():
        path = tmp_path / f"{name}.parquet"
        pl.read_parquet(prepared).write_parquet(path, metadata=metadata)
        result = runner.invoke(app, ["count", str(path)])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.stderr.split())
        assert "voer `transparantie prepare` opnieuw uit" in " ".join(result.stderr.split())


def test_too_many_distinct_values_to_pack_is_a_clear_error() -> None:
    from engine.indeling import default_indeling

    statuses = [f"status {i}" for i in range(2**16)]
    indiceringen = [f"indicering {i}" for i in range(2**12)]
    with pytest.raises(
        UsageError,
        match=r"65\.536 verschillende statuswaarden en 4\.096 verschillende indiceringwaarden vragen 68 bits",
    ):
        Layout.build(default_indeling(), statuses, indiceringen)


def test_funnel_and_profiel_group_a_prepared_file_on_its_key(raw: Path, tmp_path: Path) -> None:
    """What funnel and profiel keep per group (status, signaal scope, leeg) is decided per
    packed key; a column outside the key (client_id) makes grouped_outcomes group per record."""
    from engine.grouping import grouped_outcomes, packed_groups
    from engine.pipeline import SIGNAAL_PREFIX, classify
    from engine.profiel import leeg_expr
    from engine.rules import select_ruleset

    prepared = tmp_path / "p.parquet"
    prepare_file(raw, prepared, OnInvalid.QUARANTINE, tmp_path / "q.parquet")
    ruleset = select_ruleset("teldefinitie")
    plan = classify(open_source(prepared), ruleset)
    signaal = SIGNAAL_PREFIX + ruleset.signaal[0].id
    keep = {"status": pl.col("status"), "leeg": leeg_expr(), "s": pl.col(signaal) & (pl.col("uitkomst") != "afgewezen")}
    grouped = packed_groups(plan, keep)
    assert grouped is not None
    per_group = grouped.group_by("status", "s").agg(pl.col("n").sum()).sort("status", "s").collect()
    per_row = plan.frame.group_by("status", keep["s"].alias("s")).agg(pl.len().alias("n")).sort("status", "s")
    assert per_group.equals(per_row.collect())
    assert set(per_group["status"]) == {"ingeschreven", "uitgeschreven"}
    by_id = {"id": pl.col("client_id")}
    with pytest.raises(ValueError):
        packed_groups(plan, by_id)
    ids = grouped_outcomes(plan, by_id).collect()
    assert (ids.height, ids["n"].sum(), ids["id"].n_unique()) == (6, 6, 6)
