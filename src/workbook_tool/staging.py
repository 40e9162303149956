"""A set of output files that replaces the previous set all together, even across a crash.

The protocol, in an output folder `out`:

1. `recover(out)` finishes or discards whatever an earlier run left (see below).
2. Every new file is written into the hidden folder `out/.workbook-tool-staging/`.
3. The staged files and the folder are flushed to disk (fsync).
4. The commit marker is written (to a temporary name, flushed, then renamed, so it is
   whole or absent). It lists the files to put in place and the previous outputs of the set
   this run no longer makes (e.g. a ratings.parquet from a run that had pyarrow).
   From this moment the new set is decided.
5. Each staged file is renamed over its target; the files to remove are removed.
6. The staging folder, with the marker in it, is removed.

A crash before step 4 leaves the previous outputs untouched; the next run rolls back (it
deletes the staging folder). A crash after it leaves a marker; the next run rolls forward
(it redoes steps 5 and 6, which are safe to repeat). Either way the folder then holds one
complete set. Every change to the disk goes through `os` here, never `pathlib` or
`shutil`, so tests can make each step fail in turn.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

STAGING_DIR = ".workbook-tool-staging"
MARKER = ".commit.json"
_MARKER_TMP = ".commit.json.tmp"

NOTHING = ""
ROLLED_BACK = "rolled back"
ROLLED_FORWARD = "rolled forward"


class Staging:
    """Where the writers of one output set put their files: `staging.path(name)`."""

    def __init__(self, folder: Path, outputs: Iterable[str]):
        self.folder = folder
        self.area = folder / STAGING_DIR
        self.outputs = tuple(outputs)
        self.written: list[str] = []

    def path(self, name: str) -> Path:
        if name not in self.outputs:
            raise ValueError(f"{name} is not one of the outputs {', '.join(self.outputs)}")
        if name not in self.written:
            self.written.append(name)
        return self.area / name

    def commit(self) -> dict[str, Path]:
        """Put the staged files in place of the previous set; return them by name."""
        for name in self.written:
            _fsync_file(self.area / name)  # FileNotFoundError if a writer failed to write it
        _fsync_dir(self.area)
        gone = [name for name in self.outputs if name not in self.written]
        _write_marker(self.area, {"put": self.written, "remove": gone})
        # From here on the same code as a later run's recovery puts the files in place.
        _recover(self.folder)
        return {name: self.folder / name for name in self.written}


@contextmanager
def staged(folder: str | Path, outputs: Iterable[str]) -> Iterator[Staging]:
    """Stage a set of outputs in `folder`; the body must end with `staging.commit()`.

    If the body fails before its commit, the previous outputs stay as they were. Only one
    run at a time may write into a folder.
    """
    folder = Path(folder)
    os.makedirs(folder, exist_ok=True)
    outputs = tuple(outputs)
    with _only_run(folder):
        _recover(folder, outputs)
        os.mkdir(folder / STAGING_DIR)
        try:
            yield Staging(folder, outputs)
        finally:
            # Failed before its commit: roll back now rather than at the next run. Failed
            # halfway through it: roll forward. If even that fails, the next run does it.
            with suppress(OSError):
                _recover(folder)


def recover(folder: str | Path, outputs: Iterable[str] = ()) -> str:
    """Finish or discard what an interrupted run left in `folder`; say which.

    Returns NOTHING, ROLLED_BACK (the run stopped before its commit: the previous outputs
    stay) or ROLLED_FORWARD (it stopped during its commit: its outputs are put in place).
    `outputs` names the set's files, whose hidden temporary copies (`.name.*.tmp`) older
    versions of this tool left behind: those are removed too.
    """
    folder = Path(folder)
    if not os.path.isdir(folder):
        return NOTHING
    with _only_run(folder):
        return _recover(folder, outputs)


def _recover(folder: Path, outputs: Iterable[str] = ()) -> str:
    _remove_old_temporaries(folder, outputs)
    area = folder / STAGING_DIR
    if not os.path.isdir(area):
        return NOTHING
    plan = _read_marker(area)
    if plan is None:
        _remove_tree(area)
        return ROLLED_BACK
    _put_in_place(folder, area, plan)
    _remove_tree(area)  # only the marker is left in it: the new set is whole and on disk
    return ROLLED_FORWARD


def _put_in_place(folder: Path, area: Path, plan: dict[str, list[str]]) -> None:
    for name in plan["put"]:
        # A staged file that is gone was put in place before the interruption.
        if os.path.lexists(area / name):
            os.replace(area / name, folder / name)
    for name in plan["remove"]:
        if os.path.lexists(folder / name):
            os.unlink(folder / name)
    _fsync_dir(folder)


def _write_marker(area: Path, plan: dict[str, list[str]]) -> None:
    data = json.dumps(plan, indent=1).encode("utf-8")
    tmp = area / _MARKER_TMP
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, area / MARKER)
    _fsync_dir(area)


def _read_marker(area: Path) -> dict[str, list[str]] | None:
    """The plan of a decided commit, or None when the run never got that far."""
    try:
        plan = json.loads((area / MARKER).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(plan, dict):
        return None
    lists = [plan.get("put"), plan.get("remove")]
    if not all(isinstance(names, list) and all(map(_plain_name, names)) for names in lists):
        return None  # not a marker this tool wrote: never move files it names
    return {"put": lists[0], "remove": lists[1]}


def _plain_name(name: object) -> bool:
    return (isinstance(name, str) and name not in ("", ".", "..") and not name.startswith(".")
            and "/" not in name and "\\" not in name and "\x00" not in name)


def _remove_tree(path: Path) -> None:
    for entry in os.listdir(path):
        child = path / entry
        if os.path.isdir(child) and not os.path.islink(child):
            _remove_tree(child)
        else:
            os.unlink(child)
    os.rmdir(path)


def _remove_old_temporaries(folder: Path, outputs: Iterable[str]) -> None:
    names = tuple(f".{name}." for name in outputs)
    if not names or not os.path.isdir(folder):
        return
    for entry in os.listdir(folder):
        if entry.startswith(names) and entry.endswith(".tmp") and os.path.isfile(folder / entry):
            os.unlink(folder / entry)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make renames and removals in `path` durable (POSIX; Windows has no directory fsync)."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _only_run(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder`, so a second run cannot discard this one's staging.

    The lock is on the folder itself (POSIX flock): it leaves no file behind, and the system
    releases it when a process dies. Windows has no such lock; there the user must not start
    two runs into one folder.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OSError(errno.EBUSY, "another workbook-tool run is writing its outputs to "
                          "this folder; try again when it has finished", str(folder)) from None
        except OSError:
            pass  # a file system without locks (some network shares): write unlocked
        yield
    finally:
        os.close(fd)
