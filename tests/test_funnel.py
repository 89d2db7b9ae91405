"""`transparantie funnel`: the rules in order, where records drop out, and that it ends in count's figures."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.count import count_file
from engine.funnel import STEP_SCHEMA, Niveau, funnel_file
from engine.outcome import OnInvalid
from engine.paths import rules_dir
from tests.factory import client, write_parquet
from tests.helpers import ScanRecorder

runner = CliRunner()
LABEL_1 = "Cliënt heeft de status ‘ingeschreven’ in Sonar."
LABEL_4 = "Het veld ‘banenafspraak’ is aangevinkt in Sonar."


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def _records() -> list[dict]:
    """One record per way out of the funnel, and two counted clients."""
    return [
        client("a"),
        client("b", gemeente="Zwolle", indicering="NUG"),
        client("c", status="uitgeschreven"),
        client("d", indicering_einde=client()["indicering_begin"]),
        # beschut without vink, but not in the register: excluded by rule 3, so NOT in the signaal
        client("e", doelgroepregister=False, beschut_wsw=True, banenafspraak=False),
        client("f", banenafspraak=False, beschut_wsw=True),  # the signaal: excluded by rule 4
        client("g", banenafspraak=False),
        client("h", status=" Ingeschrven"),  # a typo in the export
        client("i", status="uitgeschreven", indicering="WWB"),  # unknown indicering, but excluded anyway
        client("j", gemeente="Atlantis"),
        client("k"),
        client("k"),
    ]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_parquet(_records(), tmp_path / "small.parquet")


def test_table_shows_every_step_in_rule_order(small: Path, tmp_path: Path) -> None:
    result = run("funnel", small, "--on-invalid", "quarantine", "--quarantine", tmp_path / "q.parquet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Trechter van de teldefinitie — regels: teldefinitie (geldig vanaf 2025-01-01); "
        "open dienstverlening op het moment van de extractie"
    )
    start = lines.index("Nederland")
    assert lines[start + 1 : start + 13] == [
        "      aantal        over  stap",
        "          12          12  records gelezen",
        "           3           9  afgewezen: breekt het invoercontract",
        "           2                waarvan client_id_dubbel: client_id komt meer dan eens voor "
        "(elk voorkomen wordt afgewezen)",
        "           1                waarvan gemeente_onbekend: gemeente is geen gemeente van de indeling "
        "(naam, CBS-code of voormalige gemeente)",
        f"           3           6  voorwaarde 1 ingeschreven: {LABEL_1}",
        "           1           5  voorwaarde 2 open_dienstverlening: Er is sprake van een ‘open dienstverlening’. "
        "Dit wil zeggen dat de indicering een begindatum heeft maar geen einddatum.",
        "           1           4  voorwaarde 3 doelgroepregister: Cliënt is opgenomen in het doelgroepregister.",
        "           1                signaal beschut_zonder_vink (in de doelgroep, niet geteld): Bekend in het "
        "doelgroepregister als ‘beschut werkend in de WSW’: wel doelgroep banenafspraak, maar geen vinkje bij "
        "‘banenafspraak’ en dus niet meegeteld.",
        f"           2           2  voorwaarde 4 banenafspraak: {LABEL_4}",
        "           2           2  geteld",
        "",
    ]
    assert lines[-1] == "12 records gelezen = 2 geteld + 7 uitgesloten + 3 afgewezen"


def test_status_and_indicering_values_are_listed_with_their_klantsoort(small: Path, tmp_path: Path) -> None:
    result = run(
        "funnel", small, "--on-invalid", "quarantine", "--quarantine", tmp_path / "q.parquet", "--min-aantal", "1"
    )
    lines = result.stdout.splitlines()
    status = lines.index("Waarden van status (na normalisatie)")
    assert lines[status + 1 : status + 5] == [
        "      aantal      geteld  waarde",
        "           9           2  'ingeschreven'",
        "           2           0  'uitgeschreven'",
        "           1           0  'ingeschrven'",
    ]
    indicering = lines.index("Waarden van indicering (na normalisatie), met de klantsoort volgens de regels")
    assert lines[indicering + 1 : indicering + 5] == [
        "      aantal      geteld  klantsoort  waarde",
        "          10           1  uwv         'wajong'",
        "           1           1  gemeente    'nug'",
        "           1           0  geen        'wwb'",
    ]


def test_fail_mode_errors_exactly_like_count(small: Path) -> None:
    funnel, count = run("funnel", small), run("count", small)
    assert funnel.exit_code == count.exit_code == 2
    assert funnel.stdout == ""
    assert "Traceback" not in funnel.stderr
    assert funnel.stderr == count.stderr
    assert "3 van 12 rijen breken het invoercontract; er is niets geteld." in funnel.stderr


def test_quarantine_file_is_the_same_as_counts(small: Path, tmp_path: Path) -> None:
    funnel_file(small, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "f.parquet")
    count_file(small, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "c.parquet")
    funnel_q = pl.read_parquet(tmp_path / "f.parquet").sort("client_id", "reden")
    assert funnel_q.equals(pl.read_parquet(tmp_path / "c.parquet").sort("client_id", "reden"))
    assert funnel_q["client_id"].to_list() == ["j", "k", "k"]


def test_per_region_and_amr_restriction(small: Path, tmp_path: Path) -> None:
    q = ("--on-invalid", "quarantine", "--quarantine", tmp_path / "q.parquet")
    by_region = funnel_file(
        small, niveau=Niveau.ARBEIDSMARKTREGIO, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "q"
    )
    groups = by_region.steps.filter(pl.col("soort") == "gelezen").select("niveau", "amr", "aantal").rows()
    # Assen (AMR 1): a, c..i and the duplicate k twice; Zwolle (AMR 5): b; Atlantis has no gemeente: onbekend.
    assert groups == [
        ("arbeidsmarktregio", 1, 10),
        ("arbeidsmarktregio", 5, 1),
        ("onbekend", None, 1),
        ("nederland", None, 12),
    ]
    result = run("funnel", small, "--niveau", "gemeente", "--amr", "5", *q)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Zwolle (AMR 5 Regio Zwolle)" in lines
    assert "AMR 5 Regio Zwolle" in lines
    assert "Nederland" not in lines and not any(line.startswith("Assen") for line in lines)
    bad = run("funnel", small, "--amr", "36", *q)
    assert bad.exit_code == 2 and "er is geen arbeidsmarktregio 36" in bad.stderr


def test_csv_and_json_have_stable_columns(small: Path, tmp_path: Path) -> None:
    q = ("--on-invalid", "quarantine", "--quarantine", tmp_path / "q.parquet")
    csv = run("funnel", small, "--format", "csv", *q)
    assert csv.exit_code == 0, csv.output
    lines = csv.stdout.splitlines()
    assert lines[0] == "niveau,amr,arbeidsmarktregio,gemeente,stap,soort,id,label,aantal,over"
    assert lines[1] == "nederland,,,,1,gelezen,,records gelezen,12,12"
    assert lines[-1] == "nederland,,,,10,geteld,,geteld,2,2"
    assert "12 records gelezen = 2 geteld + 7 uitgesloten + 3 afgewezen" in csv.stderr
    document = json.loads(run("funnel", small, "--format", "json", "--min-aantal", "1", *q).stdout)
    assert list(document) == [
        "regels",
        "geldig_vanaf",
        "peildatum",
        "niveau",
        "amr",
        "stappen",
        "status",
        "indicering",
        "overig",
        "gemeente_via",
        "geen_einde",
        "reconciliatie",
    ]
    assert list(document["stappen"][0]) == list(STEP_SCHEMA)
    signaal = [s for s in document["stappen"] if s["soort"] == "signaal"]
    assert [(s["id"], s["aantal"], s["over"]) for s in signaal] == [("beschut_zonder_vink", 1, None)]
    assert {"waarde": "wwb", "klantsoort": None, "aantal": 1, "geteld": 0} in document["indicering"]
    assert document["reconciliatie"] == {
        "gelezen": 12,
        "geteld": 2,
        "uitgesloten": {"ingeschreven": 3, "open_dienstverlening": 1, "doelgroepregister": 1, "banenafspraak": 2},
        "afgewezen": {"client_id_dubbel": 2, "gemeente_onbekend": 1},
    }


# --- against count, on generated data ----------------------------------------------------------


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated messy export with a few invalid rows mixed in."""
    generate = pytest.importorskip("engine.generate").generate
    path = tmp_path_factory.mktemp("funnel") / "generated.parquet"
    generate(path, rows=20_000, seed=5, messy=True)
    i = pl.int_range(pl.len())
    frame = pl.read_parquet(path).with_columns(
        pl.when(i < 3).then(pl.lit("Atlantis")).otherwise(pl.col("gemeente").cast(pl.String)).alias("gemeente"),
        pl.when(i.is_between(3, 4))
        .then(pl.lit("wellicht"))
        .otherwise(pl.col("banenafspraak").cast(pl.String))
        .alias("banenafspraak"),
        pl.when(i == 6).then(pl.col("client_id").shift(1)).otherwise(pl.col("client_id")).alias("client_id"),
    )
    frame.write_parquet(path)
    return path


def _geteld(steps: pl.DataFrame, niveau: str, key: str) -> dict:
    rows = steps.filter((pl.col("soort") == "geteld") & (pl.col("niveau") == niveau))
    return dict(rows.select(key, "aantal").iter_rows())


def test_generated_funnel_ends_in_counts_figures_per_group(messy: Path, tmp_path: Path) -> None:
    q = {"on_invalid": OnInvalid.QUARANTINE}
    count = count_file(messy, quarantine=tmp_path / "c.parquet", **q)
    rec = count.reconciliation
    assert rec.n_afgewezen == 7 and rec.geteld > 10_000  # the file is mostly valid and counted
    table = count.table
    for niveau, column, key in (
        (Niveau.GEMEENTE, "gemeente", "gemeente"),
        (Niveau.ARBEIDSMARKTREGIO, "arbeidsmarktregio", "amr"),
    ):
        result = funnel_file(messy, niveau=niveau, quarantine=tmp_path / f"{niveau}.parquet", **q)
        steps = result.steps
        shown = _geteld(steps, column, key)
        expected = dict(table.filter(pl.col("niveau") == column).select(key, "totaal").iter_rows())
        assert shown and set(shown) <= set(expected)
        assert {k: shown.get(k, 0) for k in expected} == expected
        assert _geteld(steps, "onbekend", "niveau") == {
            "onbekend": table.filter(pl.col("niveau") == "onbekend")["totaal"].item()
        }
        assert _geteld(steps, "nederland", "niveau") == {"nederland": rec.geteld}
        # each group's steps close: read - rejected - excluded per rule = counted
        for (_, _, _), group in steps.group_by("niveau", "amr", "gemeente"):
            by = {s: group.filter(pl.col("soort") == s)["aantal"].sum() for s in ("gelezen", "afgewezen", "regel")}
            counted = group.filter(pl.col("soort") == "geteld")["aantal"].item()
            assert by["gelezen"] - by["afgewezen"] - by["regel"] == counted
    nederland = funnel_file(messy, quarantine=tmp_path / "n.parquet", **q).steps
    aantal = {(s, i): n for s, i, n in nederland.select("soort", "id", "aantal").iter_rows()}
    assert aantal[("gelezen", None)] == rec.gelezen == rec.geteld + rec.n_uitgesloten + rec.n_afgewezen
    assert aantal[("afgewezen", None)] == rec.n_afgewezen
    assert {r: aantal[("reden", r)] for r in rec.afgewezen} == rec.afgewezen
    assert {r: aantal[("regel", r)] for r in rec.uitgesloten} == rec.uitgesloten
    assert aantal[("geteld", None)] == rec.geteld
    assert (
        pl.read_parquet(tmp_path / "n.parquet")
        .sort("client_id", "reden")
        .equals(pl.read_parquet(tmp_path / "c.parquet").sort("client_id", "reden"))
    )


def test_generated_signaal_counts_beschut_without_vink_after_rule_3(messy: Path, tmp_path: Path) -> None:
    from engine.pipeline import classify
    from engine.rules import select_ruleset
    from engine.source import open_source

    steps = funnel_file(messy, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "q.parquet").steps
    signaal = steps.filter(pl.col("soort") == "signaal")["aantal"].item()
    frame = classify(open_source(messy), select_ruleset("teldefinitie")).frame
    expected = frame.filter(
        (pl.col("uitkomst") != "afgewezen")
        & pl.col("status").eq("ingeschreven")
        & pl.col("indicering_begin").is_not_null()
        & pl.col("indicering_einde").is_null()
        & pl.col("doelgroepregister").fill_null(False)
        & pl.col("beschut_wsw").fill_null(False)
        & ~pl.col("banenafspraak").fill_null(True)
    ).select(pl.len())
    assert signaal == expected.collect().item() > 0


# --- the rules are data ------------------------------------------------------------------------


def test_a_new_rule_changes_count_funnel_and_explain_together(tmp_path: Path) -> None:
    """A fifth rule in a copy of the rule set: no code changes, and all three commands follow it."""
    rules = tmp_path / "met-opleiding.toml"
    rules.write_text(
        (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
        + '\n[[regel]]\nid = "heeft_opleiding"\nlabel = "Cliënt heeft een opleiding geregistreerd."\n'
        'bron = "test"\nsql = "opleiding"\n',
        encoding="utf-8",
    )
    path = write_parquet(
        [client("a"), client("b", opleiding=None), client("c", opleiding=[" "])], tmp_path / "x.parquet"
    )
    assert count_file(path).reconciliation.geteld == 3
    count = count_file(path, rules=str(rules)).reconciliation
    assert (count.geteld, count.uitgesloten["heeft_opleiding"]) == (1, 2)

    funnel = run("funnel", path, "--rules", rules)
    assert funnel.exit_code == 0, funnel.output
    lines = funnel.stdout.splitlines()
    assert "           2           1  voorwaarde 5 heeft_opleiding: Cliënt heeft een opleiding geregistreerd." in lines
    assert "           1           1  geteld" in lines

    explain = run("explain", path, "--client-id", "b", "--rules", rules)
    assert explain.exit_code == 0, explain.output
    lines = explain.stdout.splitlines()
    assert (
        "  uitkomst: uitgesloten door voorwaarde 5 heeft_opleiding: Cliënt heeft een opleiding geregistreerd." in lines
    )
    assert "    nee  5 heeft_opleiding: Cliënt heeft een opleiding geregistreerd. [bron: test]" in lines


def test_a_raw_funnel_reads_no_profile_column(small: Path) -> None:
    """The funnel shows no profile, so on a raw file it must not read (and normalise) the list
    components and taaksoortvragen: they are most of the decoding cost."""
    from engine.contract import LIST_COLUMNS, REQUIRED_COLUMNS, TAAKSOORT_COLUMNS
    from engine.funnel import funnel_query
    from engine.pipeline import classify
    from engine.rules import select_ruleset
    from engine.source import open_source

    source = open_source(small)
    recorder = ScanRecorder()
    recorded = dataclasses.replace(source, frame=recorder.scan(source.frame.collect()))
    result = funnel_query(classify(recorded, select_ruleset("teldefinitie"))).collect()
    assert result["n"].sum() == len(_records())
    assert recorder.columns() == set(REQUIRED_COLUMNS) - {*LIST_COLUMNS, *TAAKSOORT_COLUMNS}
