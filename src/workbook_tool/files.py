"""Files: atomic writes, safe file names, and finding returns in folders and archives."""

from __future__ import annotations

import csv
import glob
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# Names Windows refuses whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}
MAX_SLUG = 60


def slugify(text: str, max_length: int = MAX_SLUG) -> str:
    """A file-name-safe ASCII slug: 'École Saint-Jean / Nord' -> 'ecole-saint-jean-nord'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "school"


def safe_stem(text: str) -> str:
    """School ids become file names too: keep letters, digits, dot, dash, underscore."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-") or "school"
    if stem.lower() in _RESERVED:
        stem = f"{stem}-"
    return stem[:40]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


class Staging:
    """Outputs written to temporary files, then all renamed into place together.

    A run that fails or is killed before `commit` leaves every previous output as it was.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.pending: list[tuple[Path, Path]] = []

    def path(self, name: str) -> Path:
        # A run killed before its commit leaves its temporary files: clear them now.
        for stale in self.folder.glob(f".{glob.escape(name)}.*.tmp"):
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        os.close(fd)
        self.pending.append((Path(tmp), self.folder / name))
        return Path(tmp)

    def commit(self) -> dict[str, Path]:
        done = {}
        for tmp, target in self.pending:
            os.replace(tmp, target)
            done[target.name] = target
        self.pending = []
        return done

    def discard(self) -> None:
        for tmp, _target in self.pending:
            tmp.unlink(missing_ok=True)
        self.pending = []


@contextmanager
def staged(folder: str | Path) -> Iterator[Staging]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Staging(folder)
    try:
        yield staging
    finally:
        staging.discard()


def write_atomic(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def is_inside(child: Path, parent: Path) -> bool:
    child, parent = child.resolve(), parent.resolve()
    return child == parent or parent in child.parents


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: object) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (the spec's rule)."""
    value = "" if text is None else str(text)
    return "'" + value if value.startswith(_FORMULA_START) else value


# -- finding returns ------------------------------------------------------------------

RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class Source:
    """One input file: on disk (`member` empty) or inside a zip archive at `path`."""

    display: str  # as reported: path, folder/inside.xlsx or archive.zip!inside.xlsx
    path: str
    member: str = ""


@dataclass(frozen=True)
class Skipped:
    display: str
    reason: str  # "lock file" or "hidden file"


@dataclass
class Discovery:
    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0  # other files inside folders and archives


def skip_reason(name: str) -> str:
    """Why a file found inside a folder or archive is not read ('' if it is)."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith("~$") or base.startswith(".~lock"):
        return "lock file"
    if base.startswith(".") or any(part.startswith(".") for part in name.split("/")[:-1]):
        return "hidden file"
    return ""


def discover(inputs: list[str]) -> Discovery:
    """Expand the command line's files, folders and zip archives into sources, in order."""
    found = Discovery()
    for arg in inputs:
        path = Path(arg)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                inside = child.relative_to(path).as_posix()
                _consider(found, str(path / inside), inside, child)
        elif path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
            _expand_zip(found, arg, path)
        else:
            found.sources.append(Source(arg, arg))
    return found


def _consider(found: Discovery, display: str, inside: str, child: Path) -> None:
    reason = skip_reason(inside)
    if reason:
        found.skipped.append(Skipped(display, reason))
    elif child.suffix.lower() == ".zip" and zipfile.is_zipfile(child):
        _expand_zip(found, display, child)
    elif child.suffix.lower() in RETURN_SUFFIXES:
        found.sources.append(Source(display, str(child)))
    else:
        found.ignored += 1


def _expand_zip(found: Discovery, display: str, path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(i.filename for i in archive.infolist() if not i.is_dir())
    except (zipfile.BadZipFile, OSError, ValueError):
        found.sources.append(Source(display, str(path)))  # read and reported as not-xlsx
        return
    for name in names:
        member_display = f"{display}!{name}"
        reason = skip_reason(name)
        if reason:
            found.skipped.append(Skipped(member_display, reason))
        elif name.lower().endswith(RETURN_SUFFIXES):
            found.sources.append(Source(member_display, str(path), name))
        else:
            found.ignored += 1



def write_csv(path: str | Path, columns: tuple[str, ...], rows: Iterable[list]) -> None:
    """A UTF-8 CSV file; text a spreadsheet would run as a formula is escaped (csv_safe)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([v if isinstance(v, int) else csv_safe(v) for v in row])
