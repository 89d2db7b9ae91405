"""`transparantie profiel`: the transparantiegraad and what the clients without profile miss."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.contract import TAAKSOORT_COLUMNS
from engine.count import count_file
from engine.funnel import Niveau
from engine.outcome import OnInvalid
from engine.paths import rules_dir
from engine.profiel import overview_columns, profiel_file
from engine.rules import select_ruleset
from tests.factory import client, write_parquet

runner = CliRunner()
NOTHING = {"opleiding": None, "vaardigheden": None, "competenties": None, "affiniteiten": None, "beroepssectoren": None}
NO_TAAK = dict.fromkeys(TAAKSOORT_COLUMNS)


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def small(tmp_path: Path) -> Path:
    records = [
        client("a"),
        client("b", affiniteiten=[], indicering="bijstand"),
        client("c", gemeente="Zwolle", affiniteiten=None, beroepssectoren=[" "]),
        client("d", gemeente="Zwolle", affiniteiten=None, beroepssectoren=None, **NO_TAAK),  # opleiding only
        client("e", **NOTHING, **NO_TAAK),
        client("f", gemeente=None, **{**NOTHING, "opleiding": [" "]}, **{**NO_TAAK, "taaksoort_02": " "}),
        client("g", gemeente="Zwolle", **NO_TAAK),
        client("h", gemeente="Zwolle"),
        client("x", status="weg", **NOTHING, **NO_TAAK),  # not counted: not in the profile figures
    ]
    return write_parquet(records, tmp_path / "small.parquet")


def test_table_nederland_gap_and_ranked_regions(small: Path) -> None:
    result = run("profiel", small)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Transparantie van klantprofielen: het profiel — regels: teldefinitie (geldig vanaf 2025-01-01); "
        "open dienstverlening op het moment van de extractie"
    )
    start = lines.index("Nederland: 8 geteld; 2 met profiel (ja), 6 zonder (nee); transparantiegraad 25,0%")
    assert lines[start + 2 : start + 14] == [
        "Zonder profiel (nee), naar wat ontbreekt",
        "           2  leeg: niets geregistreerd (geen opleiding, vaardigheden, competenties, affiniteiten, "
        "beroepssectoren, geen taaksoortvraag)",
        "           4  onvolledig, waarvan zonder (een cliënt kan meer missen):",
        "           3    affiniteiten (niet: affiniteiten geregistreerd)",
        "           2    beroepssectoren (niet: beroepssectoren geregistreerd)",
        "           2    taaksoortvraag (niet: minstens één van de twintig taaksoortvragen geregistreerd)",
        "              onvolledig, naar combinatie van wat ontbreekt:",
        "           1    affiniteiten",
        "           1    affiniteiten + beroepssectoren",
        "           1    affiniteiten + beroepssectoren + taaksoortvraag",
        "           1    taaksoortvraag",
        "",
    ]
    ranking = lines.index("Arbeidsmarktregio's naar transparantiegraad")
    assert lines[ranking + 1 : ranking + 4] == [
        "rang  arbeidsmarktregio                 geteld        ja       nee     graad      leeg  onvolledig"
        "  zonder affiniteiten  zonder beroepssectoren  zonder taaksoortvraag",
        "   1  1 Groningen                            3         1         2     33,3%         1           1"
        "                    1                       0                      0",
        "   2  5 Regio Zwolle                         4         1         3     25,0%         0           3"
        "                    2                       2                      2",
    ]
    assert lines[ranking + 4].startswith("      2 Friesland                            0         0         0         -")
    assert lines[-6] == (
        "      Gemeente onbekend                      1         0         1      0,0%         1           0"
        "                    0                       0                      0"
    )
    assert lines[-3].startswith("Nederland                                    8         2         6     25,0%")
    assert lines[-1] == "9 records gelezen = 8 geteld + 1 uitgesloten + 0 afgewezen"


def test_csv_and_json(small: Path) -> None:
    csv = run("profiel", small, "--format", "csv", "--niveau", "nederland")
    assert csv.exit_code == 0, csv.output
    assert csv.stdout.splitlines() == [
        "niveau,amr,arbeidsmarktregio,gemeente,rang,geteld,ja,nee,transparantiegraad,leeg,onvolledig,"
        "zonder_affiniteiten,zonder_beroepssectoren,zonder_taaksoortvraag",
        "nederland,,,,,8,2,6,0.25,2,4,3,2,2",
    ]
    assert "9 records gelezen = 8 geteld" in csv.stderr
    document = json.loads(run("profiel", small, "--format", "json", "--niveau", "gemeente").stdout)
    assert list(document) == [
        "regels",
        "geldig_vanaf",
        "peildatum",
        "niveau",
        "overzicht",
        "combinaties",
        "reconciliatie",
    ]
    assert len(document["overzicht"]) == 342 + 35 + 2
    zwolle = next(r for r in document["overzicht"] if r["gemeente"] == "Zwolle")
    assert (zwolle["geteld"], zwolle["ja"], zwolle["transparantiegraad"], zwolle["rang"]) == (4, 1, 0.25, None)
    assert [(c["ontbreekt"], c["aantal"]) for c in document["combinaties"] if c["gemeente"] == "Zwolle"] == [
        ("affiniteiten+beroepssectoren", 1),
        ("affiniteiten+beroepssectoren+taaksoortvraag", 1),
        ("taaksoortvraag", 1),
    ]


def test_invalid_rows_error_like_count_or_are_quarantined(tmp_path: Path) -> None:
    path = write_parquet([client("a"), client("b", gemeente="Atlantis")], tmp_path / "x.parquet")
    profiel, count = run("profiel", path), run("count", path)
    assert profiel.exit_code == count.exit_code == 2
    assert profiel.stderr == count.stderr and "Traceback" not in profiel.stderr
    quarantined = profiel_file(path, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "q.parquet")
    assert quarantined.nederland()["geteld"] == 1
    assert pl.read_parquet(tmp_path / "q.parquet")["client_id"].to_list() == ["b"]


def test_onderdelen_come_from_the_rule_set(small: Path, tmp_path: Path) -> None:
    """A fourth onderdeel in a copy of the rule set: a new column and new combinations, no code change."""
    rules = tmp_path / "met-opleiding.toml"
    rules.write_text(
        (rules_dir() / "teldefinitie-2025.toml").read_text(encoding="utf-8")
        + '\n[[profiel.onderdeel]]\nid = "opleiding"\nlabel = "opleiding geregistreerd"\nsql = "opleiding"\n',
        encoding="utf-8",
    )
    path = write_parquet([client("a"), client("b", opleiding=None)], tmp_path / "x.parquet")
    result = profiel_file(path, rules=str(rules), niveau=Niveau.NEDERLAND)
    assert result.overzicht.columns == overview_columns(select_ruleset(str(rules)))
    assert result.overzicht.columns[-1] == "zonder_opleiding"
    nl = result.nederland()
    assert (nl["ja"], nl["nee"], nl["onvolledig"], nl["zonder_opleiding"], nl["zonder_affiniteiten"]) == (1, 1, 1, 1, 0)
    assert result.combinaties["ontbreekt"].to_list() == ["opleiding"]
    assert (
        count_file(path, rules=str(rules)).table.filter(pl.col("niveau") == "nederland")["uwv_profiel_nee"].item() == 1
    )


# --- against count, on generated data ----------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    generate = pytest.importorskip("engine.generate").generate
    path = tmp_path_factory.mktemp("profiel") / "generated.parquet"
    generate(path, rows=20_000, seed=13, messy=True)
    return path


def test_gap_adds_up_to_counts_columns(generated: Path) -> None:
    table = count_file(generated).table
    result = profiel_file(generated, niveau=Niveau.GEMEENTE)
    overview = result.overzicht
    key = ["niveau", "amr", "gemeente"]
    joined = overview.join(table, on=key, how="inner", nulls_equal=True)
    assert joined.height == table.height == overview.height == 342 + 35 + 2
    assert joined.filter(pl.col("niveau") == "nederland")["nee"].item() > 1000
    assert (joined["ja"] == joined["gemeente_profiel_ja"] + joined["uwv_profiel_ja"]).all()
    assert (joined["nee"] == joined["gemeente_profiel_nee"] + joined["uwv_profiel_nee"]).all()
    assert (joined["geteld"] == joined["totaal"]).all()
    assert (overview["leeg"] + overview["onvolledig"] == overview["nee"]).all()
    with_clients = overview.filter(pl.col("geteld") > 0)
    assert (with_clients["transparantiegraad"] == with_clients["ja"] / (with_clients["ja"] + with_clients["nee"])).all()
    assert overview.filter(pl.col("geteld") == 0)["transparantiegraad"].null_count() == (overview["geteld"] == 0).sum()

    nl = result.nederland()
    assert nl["leeg"] > 0 and all(nl[f"zonder_{o}"] > 0 for o in ("affiniteiten", "beroepssectoren", "taaksoortvraag"))
    # the combinations split the onvolledig clients without overlap, per group
    combos = result.combinaties
    per_group = combos.group_by("niveau", "amr", "gemeente").agg(pl.col("aantal").sum())
    onvolledig = overview.filter(pl.col("onvolledig") > 0).select("niveau", "amr", "gemeente", "onvolledig")
    assert (
        per_group.join(onvolledig, on=["niveau", "amr", "gemeente"], nulls_equal=True)
        .filter(pl.col("aantal") != pl.col("onvolledig"))
        .is_empty()
    )
    assert per_group.height == onvolledig.height
    for onderdeel in ("affiniteiten", "beroepssectoren", "taaksoortvraag"):
        containing = combos.filter(pl.col("ontbreekt").str.split("+").list.contains(onderdeel))
        assert containing.filter(pl.col("niveau") == "nederland")["aantal"].sum() == nl[f"zonder_{onderdeel}"]

    regions = overview.filter(pl.col("niveau") == "arbeidsmarktregio")
    assert regions["rang"].to_list() == list(range(1, 36))
    assert regions["transparantiegraad"].to_list() == sorted(regions["transparantiegraad"].to_list(), reverse=True)
