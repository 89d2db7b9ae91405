"""Writing files without ever losing data: one atomic writer for every file the tool writes.

Every output goes to a temporary file beside its target, named
``.<target name>.transparantie-<pid>-<random>.tmp`` (hidden, never mistaken for a result,
never the user's own ``OUT.tmp``). It is flushed and fsynced, and only when complete is it
renamed over the target (``os.replace``), after which the directory is fsynced. A run that
fails, is interrupted or is killed therefore leaves an existing target untouched and nothing
at the final path; what a killed run leaves behind is a temporary of its own, which the next
run writing into that directory removes (only when the pid in its name no longer runs).

Use :func:`atomic_path` when something else writes the file (a Polars sink, a library that
wants a path), :func:`write_bytes` / :func:`write_text` for data already in memory. Files with
client-level data (``private=True``: quarantine, prepared files) are created with mode 0600;
the rename keeps the mode.

Before any work, :func:`check_outputs` refuses an output that is, or resolves to, an input
or another output of the same run, and an output whose directory is missing or not writable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import signal
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import polars as pl

from engine.errors import TransparantieError

#: Mode of files that hold client-level data (quarantine, prepared files).
PRIVATE_MODE = 0o600
#: Mode of other outputs before the umask (like any file a program creates).
PUBLIC_MODE = 0o666
_TEMP = re.compile(r"^\.(?P<target>.+)\.transparantie-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")


class OutputError(TransparantieError):
    """An output cannot be written (missing or read-only directory, disk full, ...)."""

    label = "fout"


class SameFileError(TransparantieError):
    """An output would overwrite an input, or two outputs are the same file."""

    label = "fout"


def temp_name(target: Path) -> Path:
    """A fresh temporary path beside ``target`` that only this process uses."""
    return target.with_name(f".{target.name}.transparantie-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary of this tool (see :func:`temp_name`)."""
    return _TEMP.match(name) is not None


def _pid_runs(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Remove the temporaries this tool left in ``directory`` when a run was killed: files
    matching its own naming pattern whose pid no longer runs. Nothing else is touched."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None or _pid_runs(int(match["pid"])):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not support fsync on a directory
    finally:
        os.close(fd)


def _create(path: Path, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE if private else PUBLIC_MODE)
    os.close(fd)


@dataclass(frozen=True)
class _Pending:
    option: str
    target: Path


#: Temporaries being written now, with the output they are for (to blame an error on it).
_ACTIVE: dict[Path, _Pending] = {}


def describe(option: str, target: Path) -> str:
    return f"{option} {target}" if option else str(target)


def output_failure(option: str, target: Path, exc: BaseException) -> OutputError:
    """The Dutch message for an output that could not be written."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _first_line(exc)
    return OutputError(f"kan uitvoer {describe(option, target)} niet schrijven: {reason}")


def blame(exc: BaseException) -> OutputError | None:
    """An error raised while a temporary was being written (by a Polars sink, say) that is
    about the output, not the input: its message names the temporary, or the disk is full."""
    text = str(exc)
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    full = full or "os error 28" in text or "No space left" in text or "os error 122" in text
    for temp, pending in list(_ACTIVE.items()):
        if full or temp.name in text or (isinstance(exc, OSError) and exc.filename and Path(exc.filename) == temp):
            return output_failure(pending.option, pending.target, exc)
    return None


@contextlib.contextmanager
def atomic_path(target: Path | str, *, private: bool = False, option: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; when the block completes, the temporary is
    fsynced and renamed over ``target``. On any exception (KeyboardInterrupt and SystemExit
    included) the temporary is removed and ``target`` is left as it was.

    The temporary exists (empty, mode 0600 when ``private``) when the block starts, so a
    writer that truncates an existing file keeps that mode. ``option`` names the output in
    messages (``--quarantine``, ``OUT``).
    """
    target = Path(target)
    if target.is_symlink():
        # Written through the link, as a plain write would: the link stays, its file is replaced.
        target = Path(os.path.realpath(target))
    directory = target.absolute().parent
    remove_stale_temporaries(directory)
    temp = temp_name(target)
    try:
        _create(temp, private)
    except OSError as exc:
        raise output_failure(option, target, exc) from None
    _ACTIVE[temp] = _Pending(option, target)
    try:
        try:
            yield temp
        except (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
            # While every temporary is still registered: is this about an output?
            blamed = blame(exc)
            if blamed is not None:
                raise blamed from None
            raise
        try:
            _fsync_file(temp)
            os.replace(temp, target)
        except OSError as exc:
            raise output_failure(option, target, exc) from None
        _fsync_dir(directory)
    finally:
        _ACTIVE.pop(temp, None)
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


@contextlib.contextmanager
def maybe_atomic_path(target: Path | None, *, private: bool = False, option: str = "") -> Iterator[Path | None]:
    """:func:`atomic_path` when there is a target, else None (an optional output)."""
    if target is None:
        yield None
    else:
        with atomic_path(target, private=private, option=option) as temp:
            yield temp


@contextlib.contextmanager
def scratch_path(beside: Path | str, *, option: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``beside`` for intermediate data (mode 0600, named like
    every temporary of this tool); it is removed when the block ends, whatever happens."""
    beside = Path(beside)
    remove_stale_temporaries(beside.absolute().parent)
    temp = temp_name(beside)
    try:
        _create(temp, private=True)
    except OSError as exc:
        raise output_failure(option, beside, exc) from None
    _ACTIVE[temp] = _Pending(option, beside)
    try:
        yield temp
    except (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        blamed = blame(exc)
        if blamed is not None:
            raise blamed from None
        raise
    finally:
        _ACTIVE.pop(temp, None)
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)


def write_bytes(target: Path | str, data: bytes, *, private: bool = False, option: str = "") -> None:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`)."""
    with atomic_path(target, private=private, option=option) as temp:
        try:
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise output_failure(option, Path(target), exc) from None


def write_text(target: Path | str, text: str, *, private: bool = False, option: str = "") -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    write_bytes(target, text.encode("utf-8"), private=private, option=option)


# --- checks before any work ----------------------------------------------------------------------


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()  # follows symlinks: a link to an input is that input
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _input_files(inputs: Iterable[Path]) -> Iterator[Path]:
    """Every input file; a directory counts as every file under it."""
    for path in inputs:
        path = Path(path)
        if path.is_dir():
            for sub in path.rglob("*"):
                if sub.is_file():
                    yield sub
        else:
            yield path


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def check_outputs(inputs: Sequence[Path], outputs: Sequence[tuple[str, Path | None]]) -> None:
    """Refuse, before any work, outputs that would destroy data or cannot be written.

    ``inputs``: the input paths (a directory means every file under it). ``outputs``: pairs of
    the option that names an output (``--output``, ``--quarantine``, ``OUT``) and its path
    (None when not given). An output that is, or resolves to (symlink, hard link), an input or
    another output of this run is a :class:`SameFileError`; an output whose directory is
    missing or not writable, or that is a directory, is an :class:`OutputError`. Then the
    temporaries that killed runs left in the output directories are removed.
    """
    given = [(option, Path(path)) for option, path in outputs if path is not None]
    seen: list[tuple[str, Path, Path, tuple[int, int] | None]] = []
    known: dict[tuple[int, int], Path] = {}
    by_path: dict[Path, Path] = {}
    if given:
        for file in _input_files(inputs):
            identity = _identity(file)
            if identity is not None:
                known.setdefault(identity, file)
            by_path.setdefault(_resolved(file), file)
        for path in inputs:
            by_path.setdefault(_resolved(Path(path)), Path(path))
    directories = [_resolved(Path(p)) for p in inputs if Path(p).is_dir()]
    for option, path in given:
        resolved, identity = _resolved(path), _identity(path)
        if path.is_symlink() and str(resolved).startswith(("/proc/", "/dev/")):
            raise OutputError(
                f"uitvoer {describe(option, path)} verwijst naar {resolved}, geen gewoon bestand; "
                "laat --output weg om naar de standaarduitvoer te schrijven"
            )
        source = by_path.get(resolved) or (known.get(identity) if identity is not None else None)
        if source is not None:
            raise SameFileError(
                f"{describe(option, path)} is hetzelfde bestand als de invoer {source}; "
                "de invoer wordt nooit overschreven. Kies een ander pad voor de uitvoer."
            )
        for directory in directories:
            if resolved.is_relative_to(directory):
                raise SameFileError(
                    f"{describe(option, path)} ligt in de invoermap {directory}: een volgende telling zou het "
                    "als invoer lezen. Kies een pad buiten de invoermap."
                )
        for other_option, other, other_resolved, other_identity in seen:
            if resolved == other_resolved or (identity is not None and identity == other_identity):
                raise SameFileError(
                    f"{describe(option, path)} en {describe(other_option, other)} zijn hetzelfde bestand; "
                    "kies voor elke uitvoer een eigen pad."
                )
        seen.append((option, path, resolved, identity))
        _check_writable(option, path)
    for directory in {path.absolute().parent for _, path in given}:
        remove_stale_temporaries(directory)


def _check_writable(option: str, path: Path) -> None:
    where = describe(option, path)
    if path.is_dir():
        raise OutputError(f"uitvoer {where} is een map; geef een bestandsnaam op")
    directory = path.absolute().parent
    if not directory.exists():
        raise OutputError(f"kan uitvoer {where} niet schrijven: de map {directory} bestaat niet")
    if not directory.is_dir():
        raise OutputError(f"kan uitvoer {where} niet schrijven: {directory} is geen map")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"kan uitvoer {where} niet schrijven: de map {directory} is niet schrijfbaar")
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        raise OutputError(f"uitvoer {where} bestaat al en is geen gewoon bestand")


# --- signals -------------------------------------------------------------------------------------

#: Exit status after SIGTERM, as a shell reports a process ended by it.
SIGTERM_EXIT = 128 + signal.SIGTERM


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(SIGTERM_EXIT)


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so every :func:`atomic_path` removes its temporary and
    leaves the target as it was (as Ctrl-C does through KeyboardInterrupt)."""
    signal.signal(signal.SIGTERM, _on_sigterm)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
