"""Every kind of bad input: a clear message on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.errors import InvalidRowsError
from engine.outcome import OnInvalid
from tests.factory import SCHEMA, client, frame, write_parquet

runner = CliRunner()


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


# --- the file itself ---------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert_clean_error(run("count", tmp_path / "nope.parquet"), "invoerbestand niet gevonden", "nope.parquet")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    assert_clean_error(run("count", path), "invoerbestand is leeg (0 bytes)")


def test_corrupt_parquet(tmp_path: Path) -> None:
    good = write_parquet([client("a")], tmp_path / "good.parquet")
    data = good.read_bytes()
    bad = tmp_path / "corrupt.parquet"
    bad.write_bytes(data[: len(data) // 2])
    assert_clean_error(run("count", bad), "niet lezen als Parquet", "corrupt.parquet")


def test_parquet_name_but_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("client_id\nx\n")
    assert_clean_error(run("count", path), "geen Parquet-bestand (geen PAR1-kop)")


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 10)
    assert_clean_error(run("count", path), "onbekend formaat")


def test_text_that_is_not_client_csv(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\nnothing tabular\n")
    assert_clean_error(run("count", path), "geen scheidingsteken gevonden in de kopregel")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    assert_clean_error(run("count", tmp_path), "bevat geen bestanden")


# --- columns -----------------------------------------------------------------------------------


def test_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    frame([client("a")]).drop("banenafspraak", "taaksoort_07").write_parquet(path)
    assert_clean_error(run("count", path), "ontbrekende kolom(men): banenafspraak, taaksoort_07")


def test_column_of_unusable_type(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    frame([client("a")]).with_columns(pl.lit(1.5).alias("indicering_begin")).write_parquet(path)
    assert_clean_error(run("count", path), "kolom 'indicering_begin' heeft type Float64, dat geen datum kan bevatten")


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    frame([client("a")]).with_columns(pl.lit("x").alias("opmerking")).write_parquet(path)
    assert count_file(path).reconciliation.geteld == 1


# --- rows --------------------------------------------------------------------------------------

ROW_ERRORS = [
    pytest.param(
        [client("a", gemeente="Atlantis"), client("b", gemeente="Atlantis"), client("c", gemeente="Asen")],
        [
            "kolom 'gemeente'",
            "[gemeente_onbekend]",
            "rijen: 3",
            "'Atlantis'",
            "'Asen'",
            "voorbeeld client_id: a, c",
            "'Asen' -> bedoelt u 'Asten' of 'Assen'",
        ],
        id="unknown gemeente with suggestion",
    ),
    pytest.param(
        [client("a"), client("a"), client("b")],
        ["kolom 'client_id'", "[client_id_dubbel]", "rijen: 2", "voorbeeld client_id: a"],
        id="duplicate client_id",
    ),
    pytest.param(
        [client(None), client("b")],
        ["kolom 'client_id'", "[client_id_leeg]", "rijen: 1"],
        id="null client_id",
    ),
]


@pytest.mark.parametrize(("records", "fragments"), ROW_ERRORS)
def test_invalid_rows(records, fragments, tmp_path: Path) -> None:
    path = write_parquet(records, tmp_path / "x.parquet")
    assert_clean_error(run("count", path), *fragments)


DUPLICATE_IDS = ["a", "b", "a", None, "c", None, "", "", "dd", "e", "dd", "dd", "f", "ab"]


def _duplicate_flags(ids: list[str | None], schema: dict[str, pl.DataType] | None = None) -> list[bool]:
    from engine.contract import DUPLICATE_FLAG, normalise
    from engine.indeling import default_indeling

    data = frame([client(i) for i in ids], schema).lazy()
    normalised = normalise(data, data.collect_schema(), default_indeling(), None)
    return normalised.select(pl.col(DUPLICATE_FLAG).fill_null(False)).collect().to_series().to_list()


#: Every occurrence of an id that occurs twice or more; never a null id.
EXPECTED_DUPLICATES = [i in ("a", "", "dd") for i in DUPLICATE_IDS]


@pytest.mark.parametrize(
    "weak_hash",
    [
        pytest.param(lambda ids, wide=False: ids.hash(1) % 1, id="every id collides"),
        pytest.param(lambda ids, wide=False: ids.str.len_bytes().cast(pl.UInt64), id="ids of equal length collide"),
    ],
)
def test_duplicate_check_is_exact_under_hash_collisions(weak_hash, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash only narrows the duplicate check: a collision never marks a unique id."""
    import engine.contract

    assert _duplicate_flags(DUPLICATE_IDS) == EXPECTED_DUPLICATES
    monkeypatch.setattr(engine.contract, "_id_hash", weak_hash)
    assert _duplicate_flags(DUPLICATE_IDS) == EXPECTED_DUPLICATES


def test_duplicate_check_on_integer_ids() -> None:
    ids = [1, 2, 1, None, 3]
    schema = {**SCHEMA, "client_id": pl.Int64()}
    assert _duplicate_flags(ids, schema) == [True, False, True, False, False]


def test_folding_takes_known_values_as_they_are_and_folds_the_rest() -> None:
    """status and indicering: the fast path for values already folded gives what folding gives."""
    from engine.contract import fold, folded
    from engine.rules import select_ruleset

    known = select_ruleset("teldefinitie").folded_values()
    assert "ingeschreven" in known
    # A value the rules might name that folding changes (a null word, blanks) is folded all the same.
    as_is = (*known, "null", " ww")
    values = [*known, " Ingeschreven", "WW", "ww ", "\tBBZ", None, "", "  ", "onbekend", "İ", "ẞ", "null"]
    data = pl.DataFrame({"status": values})
    assert data.select(folded("status", pl.String(), as_is)).equals(data.select(fold(pl.col("status"))))
    categorical = data.with_columns(pl.col("status").cast(pl.Categorical))
    assert categorical.select(folded("status", pl.Categorical(), as_is)).equals(data.select(fold(pl.col("status"))))


def test_gemeente_spelled_canonically_is_taken_as_it_is_and_the_rest_is_matched() -> None:
    """The fast path for canonical names gives what matching every row gives."""
    from engine.contract import _canonical_as_is, per_distinct
    from engine.indeling import default_indeling

    indeling = default_indeling()
    as_is = _canonical_as_is(indeling)
    assert as_is is not None  # the default indeling maps every canonical name to itself
    names = [*indeling.gemeenten, "s Gravenhage", "'S-GRAVENHAGE", "Den Haag", "Bergen", "Bergen NH", "Atlantis"]
    data = pl.DataFrame({"gemeente": [*names, None, "", "  ", "Assen ", "assen"]})
    fast = data.select(per_distinct(pl.col("gemeente"), indeling.match, indeling.gemeente_dtype, as_is))
    assert fast.equals(data.select(indeling.match(pl.col("gemeente"))))
    only_canonical = pl.DataFrame({"gemeente": indeling.gemeenten})
    fast = only_canonical.select(per_distinct(pl.col("gemeente"), indeling.match, indeling.gemeente_dtype, as_is))
    assert fast.to_series().cast(pl.String).to_list() == indeling.gemeenten


def test_einde_before_begin(tmp_path: Path) -> None:
    from datetime import date

    path = write_parquet(
        [client("a", indicering_begin=date(2025, 3, 1), indicering_einde=date(2025, 2, 1)), client("b")],
        tmp_path / "x.parquet",
    )
    assert_clean_error(
        run("count", path),
        "kolom 'indicering_einde'",
        "[einde_voor_begin]",
        "rijen: 1",
        "'begin 2025-03-01, einde 2025-02-01'",
        ": a",
    )


def test_uncastable_boolean_and_date_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    rows = frame([client("a"), client("b"), client("c")]).with_columns(
        pl.Series("banenafspraak", ["ja", "wellicht", "N"]),
        pl.Series("indicering_begin", ["2024-01-01", "2024-01-01", "1 jan 2024"]),
        *(
            pl.col(c).list.join(";")
            for c in ("opleiding", "vaardigheden", "competenties", "affiniteiten", "beroepssectoren")
        ),
    )
    rows.write_csv(path)
    result = run("count", path)
    assert_clean_error(
        result,
        "kolom 'banenafspraak'",
        "[banenafspraak_geen_boolean]",
        "'wellicht'",
        "voorbeeld client_id: b",
        "kolom 'indicering_begin'",
        "'1 jan 2024'",
        "voorbeeld client_id: c",
    )


def test_unknown_indicering_on_counted_row(tmp_path: Path) -> None:
    path = write_parquet(
        [client("a", indicering="WWB"), client("b", indicering=None), client("c", indicering="xyz", status="weg")],
        tmp_path / "x.parquet",
    )
    # c is excluded by rule 1, so its unknown indicering does not matter.
    assert_clean_error(run("count", path), "[klantsoort_onbepaald]", "rijen: 2", "'WWB'", "a, b")


def test_fail_mode_counts_nothing_and_says_so(tmp_path: Path) -> None:
    path = write_parquet([client("a"), client("b", gemeente="Atlantis")], tmp_path / "x.parquet")
    with pytest.raises(InvalidRowsError) as info:
        count_file(path)
    assert info.value.n_read == 2
    assert "1 van 2 rijen breken het invoercontract; er is niets geteld" in str(info.value)


# --- quarantine --------------------------------------------------------------------------------


def test_quarantine_sets_rows_aside_and_reconciles(tmp_path: Path) -> None:
    records = [
        client("a"),
        client("b", gemeente="Atlantis"),
        client("c", status="uitgeschreven"),
        client("d", indicering="onbekend"),
        client("e"),
        client("e"),
    ]
    path = write_parquet(records, tmp_path / "x.parquet")
    quarantine = tmp_path / "q.parquet"
    result = count_file(path, on_invalid=OnInvalid.QUARANTINE, quarantine=quarantine)
    rec = result.reconciliation
    assert (rec.gelezen, rec.geteld, rec.n_uitgesloten, rec.n_afgewezen) == (6, 1, 1, 4)
    assert rec.afgewezen == {"client_id_dubbel": 2, "gemeente_onbekend": 1, "klantsoort_onbepaald": 1}
    assert rec.sluitend
    rejected = pl.read_parquet(quarantine).sort("client_id")
    assert rejected["client_id"].to_list() == ["b", "d", "e", "e"]
    assert rejected["reden"].to_list() == [
        "gemeente_onbekend",
        "klantsoort_onbepaald",
        "client_id_dubbel",
        "client_id_dubbel",
    ]
    # the quarantine keeps the raw values as read
    assert rejected.filter(pl.col("client_id") == "b")["gemeente"].item() == "Atlantis"


def test_quarantine_via_cli(tmp_path: Path) -> None:
    path = write_parquet([client("a"), client("b", gemeente="Atlantis")], tmp_path / "x.parquet")
    quarantine = tmp_path / "q.parquet"
    result = run("count", path, "--on-invalid", "quarantine", "--quarantine", quarantine, "--amr", "1")
    assert result.exit_code == 0, result.output
    assert "2 records gelezen = 1 geteld + 0 uitgesloten + 1 afgewezen" in result.stdout
    assert f"1 afgewezen rijen staan in {quarantine}" in result.stdout
    assert pl.read_parquet(quarantine)["client_id"].to_list() == ["b"]


def test_quarantine_needs_a_path(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    assert_clean_error(run("count", path, "--on-invalid", "quarantine"), "heeft --quarantine PAD nodig")


# --- options and rule files --------------------------------------------------------------------


def test_unknown_region(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    assert_clean_error(run("count", path, "--amr", "36"), "er is geen arbeidsmarktregio 36")


def test_unknown_rule_set(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    assert_clean_error(
        run("count", path, "--rules", "teldefinitie-2099"), "geen regels met de naam 'teldefinitie-2099'"
    )


def test_broken_rule_file(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    rules = tmp_path / "broken.toml"
    rules.write_text('naam = "x"\n')
    assert_clean_error(run("count", path, "--rules", rules), "ongeldig regelbestand", "regel: ontbreekt")


def test_rule_file_problems_name_the_field_and_the_value_in_dutch(tmp_path: Path) -> None:
    from engine.paths import rules_dir

    path = write_parquet([client("a")], tmp_path / "x.parquet")
    text = (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
    rules = tmp_path / "fields.toml"
    changed = text.replace('id = "doelgroepregister"', 'id = "Doelgroepregister"').replace(
        "bron = ", "onzin = 1\nbron = ", 1
    )
    rules.write_text(changed, encoding="utf-8")
    assert_clean_error(
        run("count", path, "--rules", rules),
        f"{rules}: ongeldig regelbestand",
        "regel[3].id: moet beginnen met een kleine letter, gevolgd door kleine letters, cijfers en _ "
        "(gegeven: 'Doelgroepregister')",
        "onzin: is geen veld van een regelbestand (gegeven: 1)",
    )
    rules.write_text('naam = "x"\ntitel = \n', encoding="utf-8")
    assert_clean_error(
        run("count", path, "--rules", rules), f"{rules}: geen geldig TOML-bestand: ongeldige waarde (regel 2, kolom 9)"
    )


def test_rule_with_unknown_column(tmp_path: Path) -> None:
    from engine.paths import rules_dir

    path = write_parquet([client("a")], tmp_path / "x.parquet")
    text = (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
    rules = tmp_path / "typo.toml"
    rules.write_text(text.replace('sql = "doelgroepregister"', 'sql = "doelgroep_register"'), encoding="utf-8")
    assert_clean_error(
        run("count", path, "--rules", rules),
        "regel 'doelgroepregister' leest onbekende kolom(men) ['doelgroep_register']",
    )


def test_rule_that_is_not_boolean(tmp_path: Path) -> None:
    from engine.paths import rules_dir

    path = write_parquet([client("a")], tmp_path / "x.parquet")
    text = (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
    rules = tmp_path / "notbool.toml"
    rules.write_text(text.replace('sql = "banenafspraak"', 'sql = "taaksoorten + 1"'), encoding="utf-8")
    assert_clean_error(
        run("count", path, "--rules", rules),
        "regel 'banenafspraak' moet waar of onwaar opleveren (een voorwaarde), niet",
    )


def test_bad_peildatum_format(tmp_path: Path) -> None:
    path = write_parquet([client("a")], tmp_path / "x.parquet")
    result = run("count", path, "--peildatum", "30-06-2025")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
