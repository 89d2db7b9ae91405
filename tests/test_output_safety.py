"""Issue 11, never lose data: atomic outputs, inputs never overwritten, output problems named
before any work, no traceback for any input, the BSN guard, client-level files 0600."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import re
import signal
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from engine import output
from engine.cli import app
from engine.cli._common import guarded
from engine.errors import UsageError
from engine.output import SameFileError, atomic_path, check_outputs, is_temp_name, write_text
from engine.privacy import BSN_MIN_ROWS, looks_like_bsn
from tests.factory import client, write_parquet

runner = CliRunner()
CLI = [sys.executable, "-c", "from engine.cli import main; main()"]


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if is_temp_name(p.name))


def assert_refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_parquet(
        [client("a"), client("b", gemeente="Atlantis"), client("c", status="uitgeschreven")], tmp_path / "in.parquet"
    )


# --- inputs are sacred ---------------------------------------------------------------------------


def _alias(kind: str, source: Path) -> Path:
    if kind == "same":
        return source
    alias = source.with_name(f"{kind}.parquet")
    if kind == "symlink":
        alias.symlink_to(source.name)
    else:
        os.link(source, alias)
    return alias


@pytest.mark.parametrize("kind", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize(
    ("option", "command"),
    [
        ("--output", lambda src, out: ["count", src, "--format", "parquet", "--output", out]),
        ("--output", lambda src, out: ["count", src, "--format", "csv", "--output", out]),
        (
            "--quarantine",
            lambda src, out: ["count", src, "--on-invalid", "quarantine", "--quarantine", out],
        ),
        ("--quarantine", lambda src, out: ["funnel", src, "--on-invalid", "quarantine", "--quarantine", out]),
        ("UITVOER", lambda src, out: ["prepare", src, out]),
    ],
)
def test_output_that_is_the_input_is_refused(kind: str, option: str, command, small: Path) -> None:
    before = digest(small)
    target = _alias(kind, small)
    result = run(*command(small, target))
    assert_refused(result, "fout:", f"{option} {target}", "hetzelfde bestand als de invoer", str(small.name))
    assert digest(small) == before
    assert small.stat().st_size > 0
    assert temporaries(small.parent) == []


def test_two_outputs_that_are_one_file_are_refused(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = run("count", small, "--format", "csv", "--output", out, "--on-invalid", "quarantine", "--quarantine", out)
    assert_refused(result, "--quarantine", "--output", "zijn hetzelfde bestand")
    assert not out.exists()


def test_a_directory_input_covers_every_file_under_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    inner = data / "sub" / "a.parquet"
    inner.write_bytes(b"PAR1")
    link = tmp_path / "link.parquet"
    link.symlink_to(inner)
    with pytest.raises(SameFileError, match="a.parquet"):
        check_outputs([data], [("--output", link)])
    with pytest.raises(SameFileError):
        check_outputs([tmp_path / "elsewhere.csv", data], [("--quarantine", inner)])
    # A new file in an input directory would be read as input next time: refused too.
    with pytest.raises(SameFileError, match="ligt in de invoermap"):
        check_outputs([data], [("--output", data / "sub" / "new.parquet"), ("--quarantine", None)])
    check_outputs([data], [("--output", tmp_path / "new.parquet"), ("--quarantine", None)])  # outside: fine


# --- output problems: named, before any work ----------------------------------------------------


def _never_counted(*args, **kwargs):
    raise AssertionError("the computation ran before the output was checked")


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda d: d / "missing" / "out.csv", "bestaat niet"),
        (lambda d: d / "in.parquet" / "out.csv", "is geen map"),  # a path under a regular file: ENOTDIR
        (lambda d: d, "is een map"),
    ],
)
def test_output_problems_are_named_before_the_computation(
    make, fragment: str, small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engine.cli.count.count_file", _never_counted)
    target = make(tmp_path)
    result = run("count", small, "--format", "csv", "--output", target)
    assert_refused(result, f"--output {target}", fragment)
    assert "cannot read" not in result.stderr


def test_xlsx_into_a_missing_directory_is_a_message(small: Path, tmp_path: Path) -> None:
    result = run("count", small, "--format", "xlsx", "--output", tmp_path / "nope" / "t.xlsx", "--amr", "1")
    assert_refused(result, "--output", "bestaat niet")


def test_quarantine_in_a_missing_directory_is_named(small: Path, tmp_path: Path) -> None:
    target = tmp_path / "nope" / "q.parquet"
    result = run("prepare", small, tmp_path / "p.parquet", "--on-invalid", "quarantine", "--quarantine", target)
    assert_refused(result, f"--quarantine {target}", "bestaat niet")
    assert not (tmp_path / "p.parquet").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permission bits")
def test_read_only_directory(small: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run("count", small, "--format", "csv", "--output", locked / "out.csv")
        assert_refused(result, "--output", "niet schrijfbaar")
    finally:
        locked.chmod(0o700)


def test_disk_full_while_sinking_the_quarantine_names_it(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quarantine = tmp_path / "q.parquet"
    quarantine.write_bytes(b"old quarantine")

    real = pl.collect_all
    calls: list[int] = []

    def full(queries, **kwargs):
        calls.append(len(queries))
        if len(calls) == 1:  # the prepass over client_id (engine.pipeline.prepass) reads only
            return real(queries, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("engine.count.pl.collect_all", full)
    result = run("count", small, "--on-invalid", "quarantine", "--quarantine", quarantine)
    assert calls[1] == 3  # the disk filled in the collection that sinks the quarantine
    assert_refused(result, f"kan uitvoer --quarantine {quarantine} niet schrijven", "No space left")
    assert "cannot read" not in result.stderr
    assert quarantine.read_bytes() == b"old quarantine"
    assert temporaries(tmp_path) == []


# --- the atomic writer ---------------------------------------------------------------------------


def test_a_failed_write_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    for exc in (RuntimeError("boom"), KeyboardInterrupt(), SystemExit(143)):
        with pytest.raises(type(exc)), atomic_path(target) as temp:
            assert is_temp_name(temp.name) and temp.parent == tmp_path
            temp.write_text("half")
            raise exc
        assert target.read_text() == "old"
        assert temporaries(tmp_path) == []
    write_text(target, "new")
    assert target.read_text() == "new"
    assert temporaries(tmp_path) == []


def test_temporary_names_never_look_like_a_result_or_a_users_file(tmp_path: Path) -> None:
    name = output.temp_name(tmp_path / "OUT.parquet").name
    assert re.fullmatch(rf"\.OUT\.parquet\.transparantie-{os.getpid()}-[0-9a-f]{{8}}\.tmp", name)
    assert not is_temp_name("OUT.tmp") and not is_temp_name("OUT.parquet.tmp")


def test_stale_temporaries_of_dead_runs_are_removed_and_nothing_else(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".out.csv.transparantie-{dead_pid}-0123abcd.tmp"
    alive = tmp_path / f".out.csv.transparantie-{os.getppid()}-0123abcd.tmp"
    users = [tmp_path / "out.csv.tmp", tmp_path / "OUT.tmp", tmp_path / f".out.csv.transparantie-{dead_pid}-x.tmp"]
    for path in (stale, alive, *users):
        path.write_text("x")
    write_text(tmp_path / "out.csv", "result")
    assert not stale.exists()
    assert alive.exists()
    assert all(p.exists() for p in users)


# --- file modes ----------------------------------------------------------------------------------


def test_client_level_files_are_0600(small: Path, tmp_path: Path) -> None:
    quarantine, prepared, table = tmp_path / "q.parquet", tmp_path / "p.parquet", tmp_path / "t.csv"
    result = run("count", small, "--on-invalid", "quarantine", "--quarantine", quarantine, "--format", "csv")
    assert result.exit_code == 0, result.output
    q2 = tmp_path / "q2.parquet"
    result = run("prepare", small, prepared, "--on-invalid", "quarantine", "--quarantine", q2)
    assert result.exit_code == 0, result.output
    for path in (quarantine, prepared, q2):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert pl.read_parquet(q2)["client_id"].to_list() == ["b"]
    umask = os.umask(0)
    os.umask(umask)
    result = run("count", small, "--on-invalid", "quarantine", "--quarantine", quarantine, "--output", table)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(table.stat().st_mode) == 0o666 & ~umask  # the table holds no client-level data


# --- no traceback for any input ------------------------------------------------------------------


def _footer_disagrees_with_body(path: Path) -> Path:
    """A Parquet file whose footer claims one row more in its last row group than its pages hold."""
    frame = pl.DataFrame([client(f"k{i:05d}") for i in range(200)])
    good = path.with_name("good.parquet")
    frame.write_parquet(good, row_group_size=50, statistics=False)
    data = bytearray(good.read_bytes())
    length = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - length
    # num_rows of the last row group: 50 as a zigzag varint (0x64), the last one in the footer.
    at = start + bytes(data[start:-8]).rindex(b"\x16\x64")
    data[at + 1] = 0x66  # 51
    path.write_bytes(data)
    return path


def test_a_parquet_whose_footer_disagrees_with_its_body_is_a_message(tmp_path: Path) -> None:
    bad = _footer_disagrees_with_body(tmp_path / "bad.parquet")
    try:
        pl.scan_parquet(bad).collect(engine="streaming")
        panics = False
    except pl.exceptions.PanicException:  # a BaseException: `except Exception` misses it
        panics = True
    except pl.exceptions.PolarsError:
        panics = False
    result = run("count", bad)
    assert_refused(result, "fout: kan " if panics else "cannot read", "bad.parquet")
    assert result.stdout == ""


def test_a_polars_panic_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exit_info, guarded(Path("x.parquet")):
        raise pl.exceptions.PanicException("range end index 131 out of range\nmore")
    assert exit_info.value.exit_code == 2
    assert "fout: kan x.parquet niet lezen: range end index 131 out of range" in capsys.readouterr().err


def test_no_message_line_echoes_a_huge_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit), guarded(Path("x.csv")):
        raise UsageError("first line " + "y" * 100_000 + "\nsecond line")
    err = capsys.readouterr().err
    assert err.startswith("fout: first line yyy") and "second line" in err
    assert len(err) < 1100


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    huge = "x" * 1_000_000
    path = write_parquet([client("a", gemeente=huge), client("b" * 5000, gemeente="Atlantis")], tmp_path / "x.parquet")
    result = run("count", path)
    assert result.exit_code == 2
    assert len(result.stderr) < 3000
    assert "…" in result.stderr
    assert huge[:100] not in result.stderr


# --- the BSN guard -------------------------------------------------------------------------------

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def elfproef(text: str) -> bool:
    return len(text) == 9 and text.isdigit() and sum(int(d) * w for d, w in zip(text, WEIGHTS, strict=True)) % 11 == 0


def bsns(n: int, seed: int = 1) -> list[str]:
    rng, found = random.Random(seed), []
    while len(found) < n:
        head = f"{rng.randrange(10**8):08d}"
        last = sum(int(d) * w for d, w in zip(head, WEIGHTS[:8], strict=True)) % 11
        if last < 10 and elfproef(head + str(last)):
            found.append(head + str(last))
    return found


def test_the_bsn_expression_is_the_elfproef() -> None:
    rng = random.Random(7)
    values = [f"{rng.randrange(10**9):09d}" for _ in range(3000)] + bsns(200) + ["12345678", "abcdefghi", " 111222333 "]
    found = pl.DataFrame({"v": values}).select(looks_like_bsn(pl.col("v"))).to_series().to_list()
    assert found == [elfproef(v) for v in values]  # exactly nine digits: " 111222333 " is not
    assert sum(found) > 200  # random nine digits pass one time in eleven


def test_bsn_like_client_ids_stop_the_run(tmp_path: Path) -> None:
    ids = bsns(BSN_MIN_ROWS)
    path = write_parquet([client(i) for i in ids] + [client("x", gemeente="Atlantis")], tmp_path / "x.parquet")
    for command in (["count", path], ["funnel", path], ["profiel", path], ["prepare", path, tmp_path / "p.parquet"]):
        result = run(*command)
        assert_refused(result, "elfproef", "gepseudonimiseerd", "--sta-bsn-toe")
        assert not any(i in result.stderr for i in ids), result.stderr
    assert not (tmp_path / "p.parquet").exists()
    allowed = run("count", path, "--sta-bsn-toe", "--on-invalid", "quarantine", "--quarantine", tmp_path / "q.parquet")
    assert allowed.exit_code == 0, allowed.output
    assert "6 records gelezen = 5 geteld" in allowed.stdout


def test_a_run_that_fails_after_the_quarantine_was_sunk_leaves_the_old_one(tmp_path: Path) -> None:
    # The BSN guard stops the run after the one collection that also wrote the quarantine rows.
    path = write_parquet([client(i) for i in bsns(BSN_MIN_ROWS)] + [client("x", gemeente="Atlantis")], tmp_path / "x")
    quarantine = tmp_path / "q.parquet"
    quarantine.write_bytes(b"old quarantine")
    for command in ("count", "funnel", "profiel"):
        result = run(command, path, "--on-invalid", "quarantine", "--quarantine", quarantine)
        assert_refused(result, "elfproef")
        assert quarantine.read_bytes() == b"old quarantine"
        assert temporaries(tmp_path) == []


def test_one_bsn_in_a_tiny_file_stops_it_but_not_in_a_big_one(tmp_path: Path) -> None:
    one = bsns(1)
    tiny = write_parquet([client(one[0]), client("a")], tmp_path / "tiny.parquet")
    assert run("count", tiny).exit_code == 2
    big = write_parquet([client(one[0]), *(client(f"k{i}") for i in range(200))], tmp_path / "big.parquet")
    assert run("count", big).exit_code == 0


def test_nine_digit_ids_that_fail_the_elfproef_pass(tmp_path: Path) -> None:
    ids = [b[:8] + str((int(b[8]) + 1) % 10) for b in bsns(20)]
    assert not any(elfproef(i) for i in ids)
    path = write_parquet([client(i) for i in ids], tmp_path / "x.parquet")
    result = run("count", path)
    assert result.exit_code == 0, result.output
    assert "20 records gelezen = 20 geteld" in result.stdout


# --- funnel: rare values as one line -------------------------------------------------------------


def test_funnel_groups_rare_values_as_overig(tmp_path: Path) -> None:
    records = [client(f"k{i}") for i in range(12)]
    records += [client("v1", status="vrije tekst over meneer X"), client("v2", status="nog iets")]
    path = write_parquet(records, tmp_path / "x.parquet")
    result = run("funnel", path)
    assert result.exit_code == 0, result.output
    assert "vrije tekst" not in result.stdout
    assert "overig (2 waarden met elk minder dan 10 records)" in result.stdout
    assert "'ingeschreven'" in result.stdout
    shown = run("funnel", path, "--min-aantal", "1")
    assert "'vrije tekst over meneer x'" in shown.stdout
    assert "overig (" not in shown.stdout


# --- killed, interrupted and concurrent runs -----------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 generated records, 1% with an unknown gemeente (so the quarantine has rows)."""
    directory = tmp_path_factory.mktemp("big")
    raw = directory / "raw.parquet"
    subprocess.run([*CLI, "generate", str(raw), "--rows", "200000", "--seed", "3"], check=True, capture_output=True)
    frame = pl.read_parquet(raw)
    gemeente = pl.when(pl.int_range(pl.len()) % 100 == 0).then(pl.lit("Nergenshuizen")).otherwise("gemeente")
    path = directory / "in.parquet"
    frame.with_columns(gemeente.alias("gemeente")).write_parquet(path)
    return path


def _prepare(big: Path, out: Path, quarantine: Path) -> list[str]:
    return [*CLI, "prepare", str(big), str(out), "--on-invalid", "quarantine", "--quarantine", str(quarantine)]


def test_kill_9_never_leaves_a_partial_file(big: Path, tmp_path: Path) -> None:
    reference_out, reference_q = tmp_path / "ref.parquet", tmp_path / "ref-q.parquet"
    subprocess.run(_prepare(big, reference_out, reference_q), check=True, capture_output=True)
    expected = pl.read_parquet(reference_out), pl.read_parquet(reference_q)
    work = tmp_path / "work"
    work.mkdir()
    out, quarantine = work / "out.parquet", work / "q.parquet"
    outcomes = set()
    for delay in (0.5, 0.9, 1.3):
        out.write_bytes(b"old prepared file")
        quarantine.write_bytes(b"old quarantine")
        process = subprocess.Popen(_prepare(big, out, quarantine), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path, old, new in ((out, b"old prepared file", expected[0]), (quarantine, b"old quarantine", expected[1])):
            if path.read_bytes() == old:
                outcomes.add("old")
            else:  # complete and correct, never partial
                assert pl.read_parquet(path).equals(new), (delay, path)
                outcomes.add("new")
    assert "old" in outcomes  # at least one kill hit mid-run
    # What a killed run left behind is its own temporaries only, and the next run removes them.
    assert all(is_temp_name(p.name) for p in work.iterdir() if p not in (out, quarantine))
    assert run("count", big, "--on-invalid", "fail", "--output", work / "t.csv").exit_code == 2  # fails: 1% invalid
    assert temporaries(work) == []


def test_sigterm_exits_cleanly(big: Path, tmp_path: Path) -> None:
    out, quarantine = tmp_path / "out.parquet", tmp_path / "q.parquet"
    out.write_bytes(b"old")
    process = subprocess.Popen(_prepare(big, out, quarantine), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Signal once the run is writing (its handler is installed by then), however slow the start.
    deadline = time.monotonic() + 60
    while not temporaries(tmp_path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert b"Traceback" not in stderr
    assert temporaries(tmp_path) == []
    if process.returncode == 128 + signal.SIGTERM:
        assert out.read_bytes() == b"old"
    else:  # it had finished before the signal
        assert process.returncode == 0 and pl.read_parquet(out).height == 200_000


def test_two_runs_into_one_output_never_splice(big: Path, tmp_path: Path) -> None:
    out, quarantine = tmp_path / "out.parquet", tmp_path / "q.parquet"
    processes = [
        subprocess.Popen(_prepare(big, out, quarantine), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert b"Traceback" not in stderr
        assert process.returncode == 0, stderr  # each wrote a complete file of its own; the last rename wins
    assert temporaries(tmp_path) == []
    prepared = pl.read_parquet(out)
    assert prepared.height == 200_000 and prepared["record"].sort().to_list() == list(range(1, 200_001))
    assert pl.read_parquet(quarantine).height == 2_000
    result = run("count", out, "--on-invalid", "quarantine", "--quarantine", tmp_path / "q2.parquet")
    assert "200.000 records gelezen" in result.stdout


def test_publication_outputs_never_overwrite_an_input(tmp_path: Path) -> None:
    """werklijst --output and the fixed names publiceer writes into --uit are checked like every output."""
    source = tmp_path / "in.parquet"
    pl.read_parquet(Path(__file__).resolve().parents[1] / "sample_data" / "clients-2025q2.parquet").head(
        2000
    ).write_parquet(source)
    before = source.read_bytes()
    result = run("werklijst", source, "--amr", "22", "--output", source, "--format", "parquet")
    assert result.exit_code == 2 and "in.parquet" in result.stderr
    uit = tmp_path / "uit"
    uit.mkdir()
    (uit / "publicatie.xlsx").symlink_to(source)
    result = run("publiceer", source, "--uit", uit)
    assert result.exit_code == 2 and "publicatie.xlsx" in result.stderr
    assert source.read_bytes() == before


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_padded_bsn_like_ids_stop_the_run_in_parquet_and_csv(suffix: str, tmp_path: Path) -> None:
    """The BSN check reads the trimmed client_id (a fixed-width export pads it); a raw count reads
    a CSV file's ids in one query and a Parquet file's nine-byte ids in a query of their own."""
    ids = [f" {b}  " for b in bsns(BSN_MIN_ROWS)]
    rows = [client(i) for i in ids] + [client(f"k{i}") for i in range(20)]
    path = write_parquet(rows, tmp_path / "x.parquet")
    if suffix == "csv":
        frame = pl.read_parquet(path)
        path = tmp_path / "x.csv"
        frame.with_columns(pl.col(pl.List(pl.String)).list.join(";")).write_csv(path)
    for command in ("count", "funnel", "profiel"):
        result = run(command, path)
        assert_refused(result, "elfproef", "--sta-bsn-toe")
        assert not any(i.strip() in result.stderr for i in ids), result.stderr
    allowed = run("count", path, "--sta-bsn-toe")
    assert allowed.exit_code == 0, allowed.output
    assert "25 records gelezen" in allowed.stdout
