"""`transparantie explain`: each client's verdicts agree with count; only the asked rows are read."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.contract import LIST_COLUMNS
from engine.count import count_file
from engine.explain import client_queries, explain_file
from engine.outcome import OnInvalid
from engine.pipeline import classify
from engine.rules import select_ruleset
from engine.source import open_source
from tests.factory import client, frame, write_parquet
from tests.helpers import ScanRecorder, counted_cells

runner = CliRunner()


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def small(tmp_path: Path) -> Path:
    records = [
        client("a", gemeente="Den Haag", taaksoort_03="  ", taaksoort_07="nee", vaardigheden=["", " "]),
        client("b", status="uitgeschreven", doelgroepregister=False),
        client("c", banenafspraak=False, beschut_wsw=True, affiniteiten=None, taaksoort_01=None),
        client("d", gemeente="Atlantis"),
        client("e"),
        client("e", gemeente="Zwolle"),
        client("f", indicering="WWB"),
    ]
    return write_parquet(records, tmp_path / "small.parquet")


def test_counted_client_in_full(small: Path) -> None:
    result = run("explain", small, "--client-id", "a")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Uitleg per cliënt — regels: teldefinitie (geldig vanaf 2025-01-01); "
        "open dienstverlening op het moment van de extractie"
    )
    assert lines[2:8] == [
        "client_id a (record 1 van het bestand)",
        "  uitkomst: geteld in 's-Gravenhage (AMR 20 Haaglanden), klantsoort uwv, profiel ja [kolom uwv_profiel_ja]",
        "  voorwaarden:",
        "    ja   1 ingeschreven: Cliënt heeft de status ‘ingeschreven’ in Sonar. "
        "[bron: Transparantie van klantprofielen, Q2 2025, voorwaarde 1]",
        "    ja   2 open_dienstverlening: Er is sprake van een ‘open dienstverlening’. Dit wil zeggen dat de "
        "indicering een begindatum heeft maar geen einddatum. [bron: Transparantie van klantprofielen, Q2 2025, "
        "voorwaarde 2]",
        "    ja   3 doelgroepregister: Cliënt is opgenomen in het doelgroepregister. "
        "[bron: Transparantie van klantprofielen, Q2 2025, voorwaarde 3]",
    ]
    assert "  invoercontrole: in orde" in lines
    assert "  klantsoort: uwv, uit indicering 'wajong' (in het bestand: 'Wajong')" in lines
    assert """    gemeente           "'s-Gravenhage" (in het bestand: 'Den Haag')""" in lines
    assert "    indicering_einde   (leeg)" in lines
    start = lines.index("  profiel: ja")
    assert lines[start:] == [
        "  profiel: ja",
        "    ja   affiniteiten: affiniteiten geregistreerd",
        "    ja   beroepssectoren: beroepssectoren geregistreerd",
        "    ja   taaksoortvraag: minstens één van de twintig taaksoortvragen geregistreerd",
        "  geregistreerde onderdelen:",
        "    opleiding          ja   'mbo 2'",
        "    vaardigheden       nee  '', ' '",
        "    competenties       nee  (leeg)",
        "    affiniteiten       ja   'dieren'",
        "    beroepssectoren    ja   'groen'",
        "    taaksoortvragen    2 van 20 geregistreerd",
        "      taaksoort_01 'ja'",
        "      taaksoort_03 '  ' (niet geregistreerd: leeg)",
        "      taaksoort_07 'nee'",
    ]


def test_excluded_rejected_and_duplicated_clients(small: Path) -> None:
    result = run("explain", small, "--client-id", "b", "--client-id", "c", "--client-id", "d", "--client-id", "e")
    assert result.exit_code == 0, result.output
    text = result.stdout
    blocks = text.split("\n\nclient_id ")[1:]
    assert [b.splitlines()[0] for b in blocks] == [
        "b (record 2 van het bestand)",
        "c (record 3 van het bestand)",
        "d (record 4 van het bestand)",
        "e (record 5 van het bestand; client_id komt 2 keer voor)",
        "e (record 6 van het bestand; client_id komt 2 keer voor)",
    ]
    b, c, d, e1, e2 = (block.splitlines() for block in blocks)
    assert (
        b[1]
        == "  uitkomst: uitgesloten door voorwaarde 1 ingeschreven: Cliënt heeft de status ‘ingeschreven’ in Sonar."
    )
    # every rule's verdict is shown, also after the first failing one
    assert [line[:24] for line in b[3:7]] == [
        "    nee  1 ingeschreven:",
        "    ja   2 open_dienstve",
        "    nee  3 doelgroepregi",
        "    ja   4 banenafspraak",
    ]
    assert (
        c[1]
        == "  uitkomst: uitgesloten door voorwaarde 4 banenafspraak: Het veld ‘banenafspraak’ is aangevinkt in Sonar."
    )
    assert any(line.startswith("    ja   beschut_zonder_vink: ") for line in c)
    assert "  profiel: nee" in c and "    nee  affiniteiten: affiniteiten geregistreerd" in c
    assert "    nee  taaksoortvraag: minstens één van de twintig taaksoortvragen geregistreerd" in c
    assert d[1] == (
        "  uitkomst: afgewezen [gemeente_onbekend]: gemeente is geen gemeente van de indeling "
        "(naam, CBS-code of voormalige gemeente); waarde 'Atlantis'"
    )
    assert "  invoercontrole: afgewezen [gemeente_onbekend]" in d
    for block in (e1, e2):
        assert block[1] == (
            "  uitkomst: afgewezen [client_id_dubbel]: client_id komt meer dan eens voor "
            "(elk voorkomen wordt afgewezen); waarde 'e'"
        )


def test_unknown_indicering_on_a_counted_row(small: Path) -> None:
    [f] = explain_file(small, ["f"]).clients
    assert (f.uitkomst, f.reden, f.waarde, f.klantsoort, f.indicering) == (
        "afgewezen",
        "klantsoort_onbepaald",
        "WWB",
        None,
        "wwb",
    )
    assert all(v.geldt for v in f.regels)


def test_unknown_ids_are_a_clean_error(small: Path) -> None:
    none = run("explain", small, "--client-id", "zz", "--client-id", "yy")
    assert none.exit_code == 2
    assert none.stdout == ""
    assert "Traceback" not in none.stderr
    assert none.stderr.strip() == f"fout: client_id niet gevonden in {small}: zz, yy"

    some = run("explain", small, "--client-id", "a", "--client-id", "zz")
    assert some.exit_code == 2
    assert some.stdout.splitlines()[2] == "client_id a (record 1 van het bestand)"
    assert "client_id zz" not in some.stdout
    assert some.stderr.strip() == f"fout: client_id niet gevonden in {small}: zz"


def test_json(small: Path) -> None:
    result = run("explain", small, "--client-id", "c", "--client-id", "zz", "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert list(document) == ["regels", "geldig_vanaf", "peildatum", "clienten", "niet_gevonden"]
    assert document["niet_gevonden"] == ["zz"]
    [c] = document["clienten"]
    assert (c["client_id"], c["record_nr"], c["uitkomst"], c["reden"], c["cel"]) == (
        "c",
        3,
        "uitgesloten",
        "banenafspraak",
        None,
    )
    assert [(r["id"], r["geldt"]) for r in c["regels"]] == [
        ("ingeschreven", True),
        ("open_dienstverlening", True),
        ("doelgroepregister", True),
        ("banenafspraak", False),
    ]
    assert [(k["naam"], k["geregistreerd"], k["waarden"]) for k in c["componenten"]] == [
        ("opleiding", True, ["mbo 2"]),
        ("vaardigheden", False, None),
        ("competenties", False, None),
        ("affiniteiten", False, None),
        ("beroepssectoren", True, ["groen"]),
    ]
    assert (c["taaksoorten"], c["taaksoortvragen"]) == (0, [])
    assert {"naam": "indicering_begin", "waarde": "2024-01-01", "ruw": "2024-01-01"} in c["record"]


def test_peildatum_changes_the_verdict(tmp_path: Path) -> None:
    path = write_parquet([client("a", indicering_einde=date(2025, 7, 1))], tmp_path / "x.parquet")
    [now] = explain_file(path, ["a"]).clients
    [then] = explain_file(path, ["a"], peildatum=date(2025, 6, 30)).clients
    assert (now.uitkomst, now.reden) == ("uitgesloten", "open_dienstverlening")
    assert then.uitkomst == "geteld" and then.cel is not None and then.cel.kolom == "uwv_profiel_ja"


def test_csv_input_splits_the_list_values(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    rows = frame([client("a", opleiding=["mbo 2", "havo"])]).with_columns(
        *(pl.col(c).list.join(";") for c in LIST_COLUMNS)
    )
    rows.write_csv(path)
    [a] = explain_file(path, ["a"]).clients
    assert a.componenten[0].waarden == ["mbo 2", "havo"]
    assert a.uitkomst == "geteld"


def test_prepared_file_has_flags_but_no_raw_values(small: Path, tmp_path: Path) -> None:
    from engine.prepare import prepare_file

    prepared = tmp_path / "prepared.parquet"
    prepare_file(small, prepared, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "q.parquet")
    direct = {c.client_id: c for c in explain_file(small, ["a", "c", "e"]).clients}
    via = {c.client_id: c for c in explain_file(prepared, ["a", "c", "e"]).clients}
    for cid in ("a", "c", "e"):
        assert (via[cid].uitkomst, via[cid].reden, via[cid].cel) == (
            direct[cid].uitkomst,
            direct[cid].reden,
            direct[cid].cel,
        )
        assert [k.geregistreerd for k in via[cid].componenten] == [k.geregistreerd for k in direct[cid].componenten]
        assert via[cid].taaksoortvragen is None and via[cid].taaksoorten == direct[cid].taaksoorten
        assert via[cid].record_nr == direct[cid].record_nr  # the input's record number, though the file is sorted
    result = run("explain", prepared, "--client-id", "a")
    assert "      (antwoorden niet beschikbaar in een voorbereid bestand)" in result.stdout.splitlines()


def test_the_client_filter_is_pushed_into_the_parquet_scan(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both queries read only the asked rows: every scan, the source's and the fresh scan that
    numbers the records, gets the client_id filter as its predicate and hands over only the
    rows of the asked ids (the duplicate check's own scan included)."""
    source = open_source(small)
    recorder = ScanRecorder()
    data = source.frame.collect()

    def recording_scan_parquet(path: object, *, row_index_name: str | None = None, row_index_offset: int = 0):  # type: ignore[no-untyped-def]
        numbered = pl.read_parquet(path, row_index_name=row_index_name, row_index_offset=row_index_offset)  # type: ignore[arg-type]
        return recorder.scan(numbered)

    monkeypatch.setattr(pl, "scan_parquet", recording_scan_parquet)
    recorded = dataclasses.replace(source, frame=recorder.scan(data))
    _, rows, positions = client_queries(recorded, ["a", "e"], select_ruleset("teldefinitie"))
    found = pl.collect_all([rows, positions])
    assert sorted(found[1]["client_id"]) == ["a", "e", "e"]
    assert len(recorder.calls) >= 3  # the records, the duplicate check, the record numbers
    asked = data.filter(pl.col("client_id").is_in(["a", "e"])).height
    for _, predicate, handed_over in recorder.calls:
        assert predicate is not None and "client_id" in predicate.meta.root_names()
        assert handed_over == asked


# --- against count, on generated data ----------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    generate = pytest.importorskip("engine.generate").generate
    path = tmp_path_factory.mktemp("explain") / "generated.parquet"
    generate(path, rows=20_000, seed=9, messy=True)
    i = pl.int_range(pl.len())
    pl.read_parquet(path).with_columns(
        pl.when(i < 2).then(pl.lit("Atlantis")).otherwise(pl.col("gemeente").cast(pl.String)).alias("gemeente"),
        pl.when(i == 3).then(pl.col("client_id").shift(1)).otherwise(pl.col("client_id")).alias("client_id"),
    ).write_parquet(path)
    return path


def test_explain_agrees_with_count_for_every_cell_and_reason(generated: Path, tmp_path: Path) -> None:
    ruleset = select_ruleset("teldefinitie")
    classified = (
        classify(open_source(generated), ruleset)
        .frame.select("client_id", pl.col("uitkomst").cast(pl.String), "reden", "gemeente", "klantsoort", "profiel")
        .collect()
    )
    # a sample from every (uitkomst, reden, klantsoort, profiel) and from 20 gemeenten
    sample = pl.concat(
        [
            classified.group_by("uitkomst", "reden", "klantsoort", "profiel").head(2),
            classified.filter(pl.col("uitkomst") == "geteld").group_by("gemeente").head(1).head(20),
        ],
        how="diagonal",
    ).unique("client_id")
    reasons = set(sample.filter(pl.col("uitkomst") != "geteld")["reden"])
    assert reasons == {r.id for r in ruleset.regel} | {"gemeente_onbekend", "client_id_dubbel"}
    expected = {r["client_id"]: r for r in sample.iter_rows(named=True)}

    result = explain_file(generated, list(expected))
    assert result.missing == []
    cells = counted_cells(count_file(generated, on_invalid=OnInvalid.QUARANTINE, quarantine=tmp_path / "q.parquet"))
    seen = set()
    for c in result.clients:
        want = expected[c.client_id]
        seen.add(c.client_id)
        assert (c.uitkomst, c.reden) == (want["uitkomst"], want["reden"])
        if c.uitkomst == "geteld":
            assert c.cel is not None
            assert (c.cel.gemeente, c.cel.klantsoort, c.cel.profiel) == (
                want["gemeente"],
                want["klantsoort"],
                want["profiel"],
            )
            assert cells[(c.cel.gemeente, c.cel.klantsoort, c.cel.profiel)] >= 1
            assert all(v.geldt for v in c.regels)
            assert c.profiel == all(v.geldt for v in c.onderdelen)
        elif c.uitkomst == "uitgesloten":
            verdicts = [v.geldt for v in c.regels]
            assert c.regels[verdicts.index(False)].id == c.reden  # the first failing rule
        assert c.taaksoorten == sum(t.geregistreerd for t in c.taaksoortvragen or [])
    assert seen == set(expected)
