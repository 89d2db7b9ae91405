"""The synthetic data generator (engine.generate), checked with the engine's own counting.

Every expectation about what a generated file holds is read back through the engine
(count_file, classify): the generator's own bookkeeping is never the evidence.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import engine.generate.run as generate_run
from engine.cli import app
from engine.contract import LIST_COLUMNS, RAW_PREFIX, TAAKSOORT_COLUMNS
from engine.count import count_file
from engine.errors import UsageError
from engine.generate import DEFAULT_MIX, REASON_KEYS, REASONS, generate, parse_mix
from engine.generate.sink import ParquetSink, atomic_output
from engine.indeling import default_indeling
from engine.layout import FIGURES
from engine.pipeline import classify
from engine.reference import compare, load_reference
from engine.rules import select_ruleset
from engine.source import open_source

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "clients-2025q2.parquet"
SAMPLE_COMMAND = ["generate", "--calibrate", "2025q2", "--seed", "2025"]
OFFICIAL_COUNTED = 190_973
VALUE_COLUMNS = [*FIGURES, "totaal"]
RULE_OF_REASON = {
    "ingeschreven": "ingeschreven",
    "open_dienstverlening.einde": "open_dienstverlening",
    "open_dienstverlening.geen_begin": "open_dienstverlening",
    "doelgroepregister": "doelgroepregister",
    "banenafspraak": "banenafspraak",
    "beschut_zonder_vink": "banenafspraak",
}
runner = CliRunner()


def official() -> pl.DataFrame:
    return load_reference("2025q2")[1]


def exact_split(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest remainder, written out independently of the generator's own helper."""
    raw = {k: total * shares.get(k, 0.0) / sum(shares.values()) for k in REASON_KEYS}
    counts = {k: int(v) for k, v in raw.items()}
    by_remainder = sorted(REASON_KEYS, key=lambda k: -(raw[k] - counts[k]))
    for k in by_remainder[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


def share(flags: pl.Series) -> float:
    """The share of True in a boolean column."""
    value = flags.cast(pl.Float64).mean()
    assert isinstance(value, float)
    return value


def classified(path: Path) -> pl.DataFrame:
    """Every row with the engine's verdict, its normalised record and the raw values."""
    return classify(open_source(path), select_ruleset()).frame.collect()


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2025q2 calibration at scale 1, default rows and mix, in several chunks."""
    path = tmp_path_factory.mktemp("gen") / "calibrated.parquet"
    generate(path, calibrate="2025q2", seed=1, chunk_rows=100_000)
    return path


@pytest.fixture(scope="module")
def calibrated_rows(calibrated: Path) -> pl.DataFrame:
    return classified(calibrated)


# --- calibration -------------------------------------------------------------------------------


def test_calibrated_file_counts_to_the_official_table(calibrated: Path) -> None:
    result = count_file(calibrated)
    assert compare(result.table, official()) == []
    onbekend = result.table.filter(pl.col("niveau") == "onbekend").row(0, named=True)
    assert [onbekend[f] for f in FIGURES] == [1, 0, 8, 9]
    # Default rows: the counted rows plus 25% not counted; nothing rejected by the contract.
    assert result.reconciliation.geteld == OFFICIAL_COUNTED
    assert result.reconciliation.gelezen == OFFICIAL_COUNTED + int(np.ceil(OFFICIAL_COUNTED * 0.25))
    assert result.reconciliation.afgewezen == {}
    # Streamed in chunks: one row group per chunk, shuffled (not sorted by gemeente).
    assert pq.ParquetFile(calibrated).metadata.num_row_groups == 3
    gemeente = pl.read_parquet(calibrated, columns=["gemeente"])["gemeente"].drop_nulls()
    assert not gemeente.is_sorted()


def test_scale_multiplies_every_cell(tmp_path: Path) -> None:
    path = tmp_path / "scaled.parquet"
    summary = generate(path, calibrate="2025q2", scale=3, seed=4, rows=3 * OFFICIAL_COUNTED + 5_000)
    table = count_file(path).table
    tripled = official().with_columns(pl.col(c) * 3 for c in VALUE_COLUMNS)
    assert compare(table, tripled) == []
    assert table.filter(pl.col("niveau") == "nederland")["totaal"].item() == 3 * OFFICIAL_COUNTED
    assert summary.rows == pl.scan_parquet(path).select(pl.len()).collect().item() == 3 * OFFICIAL_COUNTED + 5_000


def test_calibrating_on_a_reference_file(tmp_path: Path) -> None:
    """Any table in the output shape can be the target, e.g. one counted from another file."""
    source = tmp_path / "source.parquet"
    generate(source, rows=30_000, seed=3)
    target = count_file(source).table
    reference = tmp_path / "reference.csv"
    target.write_csv(reference)
    out = tmp_path / "out.parquet"
    generate(out, calibrate=str(reference), seed=9)
    assert compare(count_file(out).table, target) == []


def test_a_reference_that_does_not_add_up_is_refused(tmp_path: Path) -> None:
    broken = official().with_columns(
        pl.when(pl.col("gemeente") == "Assen").then(pl.col("uwv_profiel_ja") + 1).otherwise("uwv_profiel_ja")
    )
    broken = broken.with_columns(pl.sum_horizontal(FIGURES).alias("totaal"))
    path = tmp_path / "broken.csv"
    broken.write_csv(path)
    with pytest.raises(UsageError, match="Totaal AMR 1 is niet de som"):
        generate(tmp_path / "out.parquet", calibrate=str(path))


def test_rows_below_the_calibrated_count_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--rows 1000 is kleiner dan de 190973 meegetelde rijen"):
        generate(tmp_path / "x.parquet", calibrate="2025q2", rows=1000)
    assert not (tmp_path / "x.parquet").exists()
    result = runner.invoke(app, ["generate", str(tmp_path / "x.parquet"), "--calibrate", "2025q2", "--rows", "1000"])
    assert result.exit_code == 2
    assert "fout: --rows 1000 is kleiner" in result.stderr
    assert "Traceback" not in result.output


def test_rows_equal_to_the_calibrated_count_has_no_filler(tmp_path: Path) -> None:
    path = tmp_path / "exact.parquet"
    generate(path, calibrate="2025q2", rows=OFFICIAL_COUNTED, seed=5)
    result = count_file(path)
    assert result.reconciliation.gelezen == result.reconciliation.geteld == OFFICIAL_COUNTED


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": 2}, "gebruik het met --calibrate"),
        ({"calibrate": "2025q2", "scale": 0}, "--scale moet 1 of meer zijn"),
        ({"rows": 0}, "--rows moet minstens 1 zijn"),
        ({"seed": -1}, "--seed moet 0 of meer zijn"),
        ({"calibrate": "2099q9"}, "onbekende referentie"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        generate(tmp_path / "x.parquet", **options)


def test_missing_output_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="de map voor de uitvoer bestaat niet"):
        generate(tmp_path / "nope" / "x.parquet", rows=10)


# --- the failure mix ---------------------------------------------------------------------------


def test_default_mix_is_honoured_exactly(calibrated: Path, calibrated_rows: pl.DataFrame) -> None:
    filler = count_file(calibrated).reconciliation
    expected = exact_split(filler.gelezen - filler.geteld, DEFAULT_MIX)
    by_rule: dict[str, int] = {}
    for key, n in expected.items():
        by_rule[RULE_OF_REASON[key]] = by_rule.get(RULE_OF_REASON[key], 0) + n
    assert filler.uitgesloten == by_rule
    # Within a rule, the engine's own columns tell the reasons apart.
    rows = calibrated_rows
    open_fail = rows.filter(pl.col("reden") == "open_dienstverlening")
    assert open_fail["indicering_begin"].null_count() == expected["open_dienstverlening.geen_begin"]
    assert open_fail["indicering_einde"].is_not_null().sum() == expected["open_dienstverlening.einde"]
    vink_fail = rows.filter(pl.col("reden") == "banenafspraak")
    assert vink_fail["signaal__beschut_zonder_vink"].sum() == expected["beschut_zonder_vink"]
    assert (~vink_fail["signaal__beschut_zonder_vink"]).sum() == expected["banenafspraak"]
    # Filler rows fail only their own rule first, but some also fail later rules.
    uitgeschreven = rows.filter(pl.col("reden") == "ingeschreven")
    assert (~uitgeschreven["regel__open_dienstverlening"]).any()
    assert (~uitgeschreven["regel__doelgroepregister"]).any()
    assert (~uitgeschreven["regel__banenafspraak"]).any()
    assert uitgeschreven["status"].unique().to_list() == ["uitgeschreven"]


def test_custom_mix_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "mix.parquet"
    generate(
        path,
        calibrate="2025q2",
        rows=OFFICIAL_COUNTED + 1_001,
        mix="ingeschreven=1,beschut_zonder_vink=3,open_dienstverlening.geen_begin=0",
    )
    rows = classified(path)
    result = count_file(path)
    assert result.reconciliation.uitgesloten == {
        "ingeschreven": 250,
        "open_dienstverlening": 0,
        "doelgroepregister": 0,
        "banenafspraak": 751,
    }
    assert rows.filter(pl.col("reden") == "banenafspraak")["signaal__beschut_zonder_vink"].all()
    assert compare(result.table, official()) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ingeschreven=0.5,weg=0.5", "onbekende sleutel 'weg'"),
        ("open_dienstverlening=1", "onbekende sleutel 'open_dienstverlening'; bekend: ingeschreven, "),
        ("doelgroepregister=-1,banenafspraak=2", "moet 0 of meer zijn"),
        ("doelgroepregister=veel", "is geen getal"),
        ("doelgroepregister=0,banenafspraak=0", "minstens één positief aandeel"),
        ("banenafspraak=1,banenafspraak=2", "twee keer gegeven"),
        ("no_vink=1,banenafspraak=2", "sleutel 'banenafspraak' twee keer gegeven"),
        ("banenafspraak", "is geen SLEUTEL=AANDEEL"),
        ("banenafspraak=nan", "moet 0 of meer zijn"),
    ],
)
def test_bad_mix_is_refused(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        generate(tmp_path / "x.parquet", rows=100, mix=spec)
    result = runner.invoke(app, ["generate", str(tmp_path / "x.parquet"), "--mix", spec])
    assert result.exit_code == 2
    assert message in result.stderr


def test_mix_is_normalised_and_missing_reasons_get_nothing() -> None:
    expected = {
        "ingeschreven": 0.25,
        "open_dienstverlening.einde": 0.75,
        "open_dienstverlening.geen_begin": 0.0,
        "doelgroepregister": 0.0,
        "banenafspraak": 0.0,
        "beschut_zonder_vink": 0.0,
    }
    assert parse_mix("ingeschreven=1, open_dienstverlening.einde=3") == expected
    assert parse_mix("uitgeschreven=1, ended=3") == expected  # the former keys still read
    assert parse_mix(None) == DEFAULT_MIX
    assert sum(DEFAULT_MIX.values()) == pytest.approx(1.0)


def test_mix_keys_are_the_ids_they_exercise() -> None:
    """Each key is a rule id (with the way it fails after a dot) or a signal id of the default
    rule set, and names the rule the engine reports for its rows."""
    ruleset = select_ruleset("teldefinitie")
    ids = {r.id for r in ruleset.regel} | {s.id for s in ruleset.signaal}
    for reason in REASONS:
        assert reason.key.split(".")[0] in ids, reason.key
        assert reason.rule in {r.id for r in ruleset.regel}
        assert reason.key.split(".")[0] == reason.rule or reason.key in {s.id for s in ruleset.signaal}


# --- profiles ----------------------------------------------------------------------------------


def test_nee_profiles_come_in_every_shape(calibrated_rows: pl.DataFrame) -> None:
    nee = calibrated_rows.filter((pl.col("uitkomst") == "geteld") & ~pl.col("profiel"))
    shapes = nee.select("affiniteiten", "beroepssectoren", (pl.col("taaksoorten") > 0).alias("taaksoort")).unique()
    # All combinations of the three onderdelen except "all three registered".
    assert shapes.height == 7
    assert shapes.filter(pl.col("affiniteiten") & pl.col("beroepssectoren") & pl.col("taaksoort")).is_empty()
    # Lists that look filled but register nothing: [], [""], ["  "], [null].
    raw = nee.filter(~pl.col("affiniteiten"))[RAW_PREFIX + "affiniteiten"].drop_nulls().to_list()
    assert {repr(v) for v in raw} >= {"[]", "['']", "['  ']", "[None]"}
    # A taaksoortvraag holding only blanks, on a row with no registered one.
    raw_taak = pl.concat_list(pl.col(RAW_PREFIX + c) for c in TAAKSOORT_COLUMNS).list.drop_nulls()
    blank_only = nee.filter(pl.col("taaksoorten") == 0).select(raw_taak.alias("answers"))
    answers = {a for row in blank_only["answers"].to_list() for a in row}
    assert answers == {"", "  "}


def test_ja_profiles_use_every_taaksoortvraag(calibrated_rows: pl.DataFrame) -> None:
    ja = calibrated_rows.filter((pl.col("uitkomst") == "geteld") & pl.col("profiel"))
    assert ja.select(pl.col("affiniteiten").all(), pl.col("beroepssectoren").all()).row(0) == (True, True)
    assert (ja["taaksoorten"] >= 1).all()
    single = ja.filter(pl.col("taaksoorten") == 1)
    for column in TAAKSOORT_COLUMNS:
        # Each question is, for some clients, the one registered question.
        assert single[RAW_PREFIX + column].drop_nulls().str.strip_chars().str.len_bytes().gt(0).sum() > 0, column
    assert set(ja[RAW_PREFIX + "taaksoort_07"].drop_nulls().unique()) == {"ja", "nee", "misschien"}


def test_other_components_are_filled_plausibly(calibrated_rows: pl.DataFrame) -> None:
    counted = calibrated_rows.filter(pl.col("uitkomst") == "geteld")
    for column in ("opleiding", "vaardigheden", "competenties"):
        share_ja = share(counted.filter(pl.col("profiel"))[column])
        share_nee = share(counted.filter(~pl.col("profiel"))[column])
        assert 0.5 < share_ja < 1.0 and 0.0 < share_nee < share_ja, column
    lengths = counted[RAW_PREFIX + "opleiding"].list.len().drop_nulls()
    assert set(lengths.unique()) == {0, 1, 2, 3}


# --- messy exports -----------------------------------------------------------------------------


def test_messy_file_counts_the_same_and_is_really_messy(tmp_path: Path) -> None:
    path = tmp_path / "messy.parquet"
    generate(path, calibrate="2025q2", seed=11, messy=True)
    assert compare(count_file(path).table, official()) == []

    frame = pl.read_parquet(path)
    status = frame["status"].unique().to_list()
    assert "ingeschreven" in status and "INGESCHREVEN" in status and " ingeschreven" not in status
    assert any(s != s.strip() for s in status) and any(s.strip() != s.strip().lower() for s in status)
    assert {"Wajong", "WAJONG", "wajong"} <= set(frame["indicering"].str.strip_chars().unique())
    for column in ("doelgroepregister", "banenafspraak", "beschut_wsw"):
        assert frame.schema[column] == pl.String
        assert {"J", "N"} <= set(frame[column].drop_nulls().unique())
    for column in ("indicering_begin", "indicering_einde"):
        assert frame.schema[column] == pl.String
        assert frame[column].drop_nulls().str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    names = set(frame["gemeente"].drop_nulls().unique())
    assert {"Den Haag", "s Gravenhage", "Sudwest-Fryslan", "SÚDWEST-FRYSLÂN", "Den Bosch"} <= names
    assert {"", "  "} <= names  # a blank gemeente is "onbekend", as a null is
    assert len(names - set(default_indeling().gemeenten)) > 1000


@pytest.mark.parametrize("messy", [False, True])
def test_csv_round_trips_through_count(tmp_path: Path, messy: bool) -> None:
    path = tmp_path / "clients.csv"
    summary = generate(path, calibrate="2025q2", seed=12, messy=messy)
    assert summary.format == "csv"
    assert path.read_bytes()[:10] == b"client_id,"
    assert compare(count_file(path).table, official()) == []
    text = pl.read_csv(path, infer_schema=False, n_rows=20_000)
    lists = text["affiniteiten"].drop_nulls()
    assert lists.str.contains(";").any() and not lists.str.starts_with("[").any()
    booleans = set(text["banenafspraak"].drop_nulls().unique())
    if messy:
        assert {"J", "N"} <= booleans
    else:
        assert booleans == {"true", "false"}


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_file_other_seed_other_records(tmp_path: Path, calibrated: Path) -> None:
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    generate(a, rows=60_000, seed=21, chunk_rows=25_000)
    generate(b, rows=60_000, seed=21, chunk_rows=25_000)
    assert a.read_bytes() == b.read_bytes()
    generate(c, rows=60_000, seed=22, chunk_rows=25_000)
    assert not pl.read_parquet(a).equals(pl.read_parquet(c))

    other = tmp_path / "other-seed.parquet"
    generate(other, calibrate="2025q2", seed=2, chunk_rows=100_000)
    first, second = pl.read_parquet(calibrated), pl.read_parquet(other)
    assert first.height == second.height
    assert len(set(first["client_id"]) & set(second["client_id"])) < 100
    assert not first.drop("client_id").equals(second.drop("client_id"))
    assert compare(count_file(other).table, count_file(calibrated).table) == []


def test_client_ids_are_unique_and_pseudonymous(calibrated_rows: pl.DataFrame) -> None:
    ids = calibrated_rows["client_id"]
    assert ids.n_unique() == ids.len()
    assert ids.str.contains(r"^K\d{11}$").all()
    assert not ids.is_sorted()


def test_uncalibrated_population_is_plausible(tmp_path: Path) -> None:
    path = tmp_path / "free.parquet"
    summary = generate(path, rows=50_000, seed=8)
    rows = classified(path)
    result = count_file(path)
    assert summary.rows == result.reconciliation.gelezen == 50_000
    assert result.reconciliation.geteld == 40_000
    assert all(n > 0 for n in result.reconciliation.uitgesloten.values())
    counted = rows.filter(pl.col("uitkomst") == "geteld")
    uwv = counted.filter(pl.col("klantsoort") == "uwv")["indicering"].value_counts(sort=True)
    assert uwv["indicering"].head(3).to_list() == ["wajong", "wia", "ww"]
    assert set(uwv["indicering"]) == {"wajong", "wia", "ww", "wao", "zw", "tw", "waz", "iow"}
    gemeente = counted.filter(pl.col("klantsoort") == "gemeente")["indicering"].value_counts(sort=True)
    assert gemeente["indicering"].head(2).to_list() == ["bijstand", "nug"]
    # Spread over the country like the official table: the largest gemeenten are large here too.
    per_gemeente = counted["gemeente"].cast(pl.String).value_counts(sort=True)
    assert per_gemeente["gemeente"].head(1).item() in {"Rotterdam", "Amsterdam", "'s-Gravenhage"}
    assert per_gemeente.height > 300
    # Both profiles, and the register both ways, occur.
    assert 0.2 < share(counted["profiel"]) < 0.8
    assert share(rows["doelgroepregister"].fill_null(False)) < 1.0


# --- the committed sample and the CLI ----------------------------------------------------------


def test_committed_sample_regenerates_to_the_same_table(tmp_path: Path) -> None:
    regenerated = tmp_path / SAMPLE.name
    result = runner.invoke(app, [SAMPLE_COMMAND[0], str(regenerated), *SAMPLE_COMMAND[1:]])
    assert result.exit_code == 0, result.output
    committed, fresh = count_file(SAMPLE), count_file(regenerated)
    assert compare(fresh.table, committed.table) == []
    assert compare(committed.table, official()) == []
    assert committed.reconciliation == fresh.reconciliation
    readme = (SAMPLE.parent / "README.md").read_text(encoding="utf-8")
    assert "transparantie generate sample_data/clients-2025q2.parquet --calibrate 2025q2 --seed 2025" in readme
    assert f"{committed.reconciliation.gelezen:,}".replace(",", ".") in readme
    assert SAMPLE.stat().st_size < 8_000_000


def test_cli_generate_writes_and_summarises(tmp_path: Path) -> None:
    out = tmp_path / "cli.parquet"
    result = runner.invoke(app, ["generate", str(out), "--rows", "2000", "--seed", "3", "--messy"])
    assert result.exit_code == 0, result.output
    assert re.search(r"cli\.parquet geschreven \(parquet, .* MB\): 2\.000 rijen, 1\.600 meegeteld", result.stderr)
    assert "niet gekalibreerd, seed 3, rommelig" in result.stderr
    assert result.stdout == ""
    assert pl.read_parquet(out).height == 2000
    assert [p.name for p in tmp_path.iterdir()] == ["cli.parquet"]  # no temporary file left


def test_list_columns_are_lists_of_strings_in_parquet(calibrated: Path) -> None:
    schema = pl.read_parquet_schema(calibrated)
    assert all(schema[c] == pl.List(pl.String) for c in LIST_COLUMNS)
    assert all(schema[c] == pl.String for c in TAAKSOORT_COLUMNS)
    assert schema["indicering_begin"] == pl.Date and schema["doelgroepregister"] == pl.Boolean


def test_progress_is_reported_per_chunk_up_to_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(
        tmp_path / "p.parquet", rows=25_000, chunk_rows=10_000, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(0, 25_000), (10_000, 25_000), (20_000, 25_000), (25_000, 25_000)]


def test_generator_indiceringen_are_the_rule_sets_klantsoort_mapping() -> None:
    """The generator draws indiceringen with its own weights; the values themselves must be the
    rule set's klantsoort mapping, so a change in rules/ cannot silently drift from the data."""
    from engine.generate.vocab import GEMEENTE_INDICERINGEN, UWV_INDICERINGEN
    from engine.rules import select_ruleset

    klantsoort = select_ruleset("teldefinitie").klantsoort
    assert set(UWV_INDICERINGEN) == set(klantsoort.uwv)
    assert set(GEMEENTE_INDICERINGEN) == set(klantsoort.gemeente)


# --- writing the file (engine.generate.sink) ---------------------------------------------------


def _edge_table(rows: int, seed: int) -> pa.Table:
    """Every type the generator writes, with nulls, an all-null column, empty and null lists,
    null items, blanks and a non-ASCII value; ``when_then`` is a list column made by Polars'
    when/then, whose null slots span items (their offsets are not empty)."""
    rng = np.random.default_rng(seed)
    words = pa.array(["b", "a", "", "  ", "é", "zz"])
    text8, text16 = pa.dictionary(pa.int8(), pa.string()), pa.dictionary(pa.int16(), pa.string())
    index = rng.integers(0, len(words), rows).astype(np.int8)
    null = rng.random(rows) < 0.3
    lists: list[list[int | None] | None] = []
    for shape in rng.integers(0, 5, rows):
        items = rng.integers(0, len(words), int(rng.integers(1, 4))).tolist()
        lists.append([None, [], [None], items, items][int(shape)])
    codes = pa.array(lists, pa.list_(pa.int8()))
    items = pa.DictionaryArray.from_arrays(codes.values, words)
    days = rng.integers(16_000, 20_000, rows).astype(np.int32)
    full = [[words[int(i)].as_py() for i in rng.integers(0, len(words), int(rng.integers(1, 4)))] for _ in range(rows)]
    when_then = pl.select(
        pl.when(pl.Series(~null)).then(pl.Series(full, dtype=pl.List(pl.String))).otherwise(None).alias("x")
    )["x"].to_arrow()
    return pa.table(
        {
            "id": pa.array([f"K{i:011d}" for i in range(rows)]),
            "text": pa.array([None if i % 7 == 3 else "x" * (i % 5) for i in range(rows)]),
            "small": pa.DictionaryArray.from_arrays(pa.array(index, mask=null), words),
            "wide": pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int16), mask=np.ones(rows, bool)), words),
            "day": pa.array(days, mask=null).view(pa.date32()),
            "flag": pa.array(rng.random(rows) < 0.5, mask=~null),
            "list": pa.ListArray.from_arrays(codes.offsets, items, mask=codes.is_null()),
            "when_then": when_then,
        }
    ).cast(
        pa.schema(
            [
                ("id", pa.string()),
                ("text", pa.string()),
                ("small", text8),
                ("wide", text16),
                ("day", pa.date32()),
                ("flag", pa.bool_()),
                ("list", pa.list_(text8)),
                ("when_then", pa.list_(text8)),
            ]
        )
    )


def _null_slots_span_items(array: pa.ListArray) -> bool:
    offsets = array.offsets.to_numpy()
    null = array.is_null().to_numpy(zero_copy_only=False)
    return bool((np.diff(offsets)[null] > 0).any())


@pytest.mark.parametrize("sizes", [(1,), (13, 8, 200), (1000, 1003)])
def test_parquet_sink_reads_back_as_written(tmp_path: Path, sizes: tuple[int, ...]) -> None:
    """Row groups of odd sizes and a sliced table: pyarrow, polars and DuckDB read back exactly
    the tables appended, including null lists whose slots span items (issue 13: the former
    hand-written encoder wrote those as lists)."""
    duckdb = pytest.importorskip("duckdb")
    tables = [_edge_table(n, seed) for seed, n in enumerate(sizes)]
    tables.append(_edge_table(400, 99).slice(17, 301))
    assert _null_slots_span_items(tables[-1]["when_then"].combine_chunks())
    path = tmp_path / "edge.parquet"
    sink = ParquetSink(path, tables[0].schema)
    for table in tables:
        sink.append(sink.encode(table))
    sink.close()
    expected = pa.concat_tables(tables)
    assert pq.read_table(path).to_pylist() == expected.to_pylist()
    assert pq.read_table(path).column("when_then").null_count == expected.column("when_then").null_count > 0
    assert_frame_equal(
        pl.read_parquet(path),
        pl.from_arrow(expected).with_columns(  # type: ignore[union-attr]
            pl.col("small", "wide").cast(pl.String), pl.col("list", "when_then").cast(pl.List(pl.String))
        ),
    )
    ducks = duckdb.sql(f"select when_then from read_parquet('{path}')").fetchall()
    assert [row[0] for row in ducks] == expected.column("when_then").to_pylist()
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == len(tables)
    assert metadata.metadata is None  # no stored Arrow schema: readers see plain strings


def _with_items_under_null_lists(array: pa.ListArray) -> pa.ListArray:
    """The same lists, but every null list's slot spans one item, as Polars' when/then leaves
    them (the offsets of a null slot are not required to be empty)."""
    null = array.is_null().to_numpy(zero_copy_only=False)
    old = array.offsets.to_numpy()
    lengths = np.where(null, 1, np.diff(old))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    within = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
    take = np.repeat(np.where(null, 0, old[:-1]), lengths) + within  # a null slot holds item 0
    values = array.values.take(pa.array(take))
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(null))


def test_generated_file_reads_back_as_built_even_when_null_lists_span_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated file read back holds exactly the chunks built: every null list slot reads
    as null, not as a list, also when its offsets span items."""
    built: dict[int, pa.Table] = {}
    build_chunk = generate_run.build_chunk

    def spanning(take: np.ndarray, start: int, rng: np.random.Generator, ctx: object) -> pa.Table:
        table = build_chunk(take, start, rng, ctx)  # type: ignore[arg-type]
        built[start] = table
        for name in LIST_COLUMNS:
            table = table.set_column(
                table.schema.get_field_index(name), name, _with_items_under_null_lists(table[name].combine_chunks())
            )
            assert _null_slots_span_items(table[name].combine_chunks())
        return table

    monkeypatch.setattr(generate_run, "build_chunk", spanning)
    path = tmp_path / "spanning.parquet"
    generate(path, rows=30_000, seed=5, chunk_rows=10_000)
    written = pq.read_table(path)
    expected = pa.concat_tables(built[start] for start in sorted(built))
    for name in LIST_COLUMNS:
        read, truth = written[name], expected[name]
        assert read.null_count == truth.null_count > 0, name
        assert read.is_null().equals(truth.is_null()), name
        assert read.to_pylist() == truth.to_pylist(), name


def test_generated_parquet_has_statistics_where_a_filter_could_use_them(calibrated: Path) -> None:
    group = pq.ParquetFile(calibrated).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(group.num_columns)}
    assert stats["gemeente"].has_min_max and stats["status"].min == "ingeschreven"
    assert stats["status"].max == "uitgeschreven" and stats["gemeente"].null_count >= 0
    assert stats["client_id"] is None and stats["affiniteiten.list.element"] is None


def test_generated_parquet_uses_the_fixed_writer_options(calibrated: Path) -> None:
    """One row group per chunk; dictionary pages for every string and date column but
    client_id, which is DELTA_LENGTH_BYTE_ARRAY (booleans are plain); zstd; no stored Arrow
    schema."""
    metadata = pq.ParquetFile(calibrated).metadata
    assert metadata.num_row_groups == 3  # 238,717 rows in chunks of 100,000
    assert metadata.metadata is None
    group = metadata.row_group(0)
    columns = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    assert all(c.compression == "ZSTD" for c in columns.values())
    assert "DELTA_LENGTH_BYTE_ARRAY" in columns["client_id"].encodings and not columns["client_id"].has_dictionary_page
    booleans = {"doelgroepregister", "banenafspraak", "beschut_wsw"}
    assert all(c.has_dictionary_page for name, c in columns.items() if name not in {"client_id", *booleans})


# --- atomic and byte-stable output --------------------------------------------------------------


def test_an_interrupted_run_leaves_the_existing_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "clients.parquet"
    generate(out, rows=5_000, seed=1)
    before = out.read_bytes()

    def interrupt(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(out, rows=40_000, seed=2, chunk_rows=10_000, progress=interrupt)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["clients.parquet"]


def test_atomic_output_writes_beside_the_target_under_a_unique_name(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    out.write_text("old")
    with atomic_output(out) as first, atomic_output(out) as second:
        assert first.parent == second.parent == tmp_path and first != second
        assert re.fullmatch(r"\.x\.csv\.transparantie-\d+-\w+\.tmp", first.name)
        first.write_text("first")
        second.write_text("second")
        assert out.read_text() == "old"
    assert out.read_text() == "first"  # the inner block ended first; the last to end wins
    with pytest.raises(RuntimeError), atomic_output(out) as third:
        third.write_text("half")
        raise RuntimeError
    assert out.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_same_arguments_give_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte-stable output (issue 13): the documented sample command at a small --rows, twice,
    and once more with a single worker thread (so chunks finish in another order and time)."""
    paths = [tmp_path / f"run{i}.parquet" for i in range(3)]
    for i, path in enumerate(paths):
        if i == 2:
            monkeypatch.setattr(generate_run, "WORKERS", 1)
        args = ["generate", str(path), "--calibrate", "2025q2", "--seed", "2025", "--rows", "600000"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert pq.ParquetFile(paths[0]).metadata.num_row_groups == 2  # more than one chunk
    assert paths[0].read_bytes() == paths[1].read_bytes() == paths[2].read_bytes()
