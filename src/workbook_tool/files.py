"""Files: atomic writes, safe file names, and finding returns in folders and archives."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import re
import stat
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
        # mkstemp makes the file private (0600); an output is shared like any file the
        # user writes (a team workbook on a shared drive), so it gets the umask's mode.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


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
ARCHIVE_SUFFIX = ".zip"
MAX_NESTING = 3  # archive levels in one chain: a.zip!b.zip!c.zip!x.xlsx is the deepest read
NESTED_BYTES = 256 * 2**20  # what the archives inside one input may inflate to, together
_ZIP_MAGIC = b"PK\x03\x04"
BACKSLASH = "\\"  # a folder separator in zip member names written by Windows tools
_WORKBOOK_PARTS = ("[content_types].xml", "xl/workbook.xml")
IGNORED_WHY = "ignored: not a workbook (.xlsx, .xlsm, .xls, .ods) or a .zip archive"


def display_name(text: str) -> str:
    """A name every output can hold: bytes that are not UTF-8 and control characters escaped.

    On Linux a file name may hold any bytes; Python keeps the undecodable ones as lone
    surrogates, which no UTF-8 file, workbook or terminal accepts. They are shown as `\\xe9`.
    """
    if text.isprintable():
        return text
    return "".join(_shown(ch) for ch in text)


def _shown(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or _noncharacter(code):
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def _noncharacter(code: int) -> bool:
    # Not allowed in XML, so not in a workbook either.
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


# -- regular files only ---------------------------------------------------------------

class NotRegularFile(Exception):
    """A path that is not a regular file to read; the message says what it is instead."""


def not_a_file(path: str | Path) -> str:
    """Why `path` is not a regular file (links followed), as a message; '' when it is one.

    Only the file's metadata is looked at: opening a named pipe waits for a writer and a
    device may never end. A path that cannot be looked at gives '' (opening it says why).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return _dangling(path)
    kind = _special_kind(mode)
    return f"this is not a regular file ({kind})" if kind else ""


def _dangling(path: str | Path) -> str:
    try:
        target = os.readlink(path)
    except OSError:  # not a link, or gone
        return ""
    return f"this is a link to {display_name(target)}, which does not exist"


def _special_kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def open_regular(path: str | Path) -> io.BufferedReader:
    """`path` opened for reading, or NotRegularFile if it is not a regular file.

    Checked before opening, and again on what was opened, without waiting: the file may be
    replaced in between.
    """
    why = not_a_file(path)
    if why:
        raise NotRegularFile(why)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        kind = _special_kind(os.fstat(fd).st_mode)
        if kind:
            raise NotRegularFile(f"this is not a regular file ({kind})")
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True)
class Entry:
    """One member of a zip archive, by its place in the archive: two members may share a name.

    `refused` (code, message) marks a member discovery would not open (an archive nested too
    deep or inflating past the limits); reading it reports that problem and nothing else,
    without opening anything. A folder that could not be opened is a Source whose only entry
    is refused (see `_unopened_folder`), so that it is a row of its own.
    """

    name: str
    index: int  # position in the archive's central directory (ZipFile.infolist())
    refused: tuple[str, str] | None = None


@dataclass(frozen=True)
class Source:
    """One input file: on disk (`member` empty) or inside a zip archive at `path`."""

    display: str  # as reported: path, folder/inside.xlsx or archive.zip!inside.xlsx
    path: str  # the real path, which may differ from `display` (escaped names)
    member: tuple[Entry, ...] = ()  # zip members to open in turn, outermost first


@dataclass(frozen=True)
class Skipped:
    display: str
    reason: str  # "lock file", "hidden file" or "already read as <display>"


@dataclass
class Discovery:
    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)  # other files in folders, archives

    @property
    def ignored(self) -> int:
        return len(self.ignored_files)


def skip_reason(name: str) -> str:
    """Why a file found inside a folder or archive is not read ('' if it is).

    Windows tools write zip member names with `\\`: it separates folders too.
    """
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    base = parts[-1] if parts else ""
    if base.startswith(("~$", ".~lock")):
        return "lock file"
    if any(part.startswith(".") for part in parts):
        return "hidden file"
    return ""


def discover(inputs: list[str]) -> Discovery:
    """Expand the command line's files, folders and zip archives into sources, in order.

    A file is read by what it is: a zip holding a workbook is a return whatever its name,
    any other zip is an archive to expand. Each physical file is read once, under the first
    name it was reached by.
    """
    finder = _Finder()
    for arg in inputs:
        path = Path(arg)
        if path.is_dir():
            finder.folder(path)
        else:
            finder.disk_file(path, display_name(arg), named=True)
    return finder.found


class _Finder:
    def __init__(self) -> None:
        self.found = Discovery()
        self.seen: dict[tuple[int, int], tuple[str, bool]] = {}  # (device, inode) -> first
        self.budget = NESTED_BYTES  # left for the archives inside the current input

    def folder(self, root: Path) -> None:
        for child, inside, error in _walk(root):
            display = display_name(str(root / inside))
            reason = skip_reason(inside)
            if reason:
                self.found.skipped.append(Skipped(display, reason))
            elif error == LINKED_FOLDER:  # a loop, or a folder read elsewhere: named, not read
                self.found.skipped.append(Skipped(display, LINKED_FOLDER_WHY))
            elif error:  # a row of its own: the schools inside must not look merely missing
                self.found.sources.append(_unopened_folder(display, child, error))
            else:
                self.disk_file(child, display, named=False)

    def disk_file(self, path: Path, display: str, named: bool) -> None:
        """A file on disk: a return, an archive to expand, or (in a folder) another file.

        A named pipe, device or dangling link is never opened here: named, or named like a
        return or an archive, it is an input whose reading reports what it is; else ignored.
        """
        if not_a_file(path):
            read = named or path.suffix.lower() in (*RETURN_SUFFIXES, ARCHIVE_SUFFIX)
            kind, archive = ("return" if read else "other"), None
        else:
            kind, archive = _disk_kind(path, named)
        if self._already_read(path, display, kind != "other"):
            if archive is not None:
                archive.close()
            return
        if kind == "other":
            self.found.ignored_files.append(display)
        elif archive is None:
            self.found.sources.append(Source(display, str(path)))
        else:
            self.budget = NESTED_BYTES
            with archive:
                self.members(archive, display, str(path), (), 1)

    def _already_read(self, path: Path, display: str, read: bool) -> bool:
        try:
            stat = path.stat()
        except OSError:
            return False  # gone or unreadable: reading it reports why
        key = (stat.st_dev, stat.st_ino)
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = (display, read)
            return False
        if read and not first[1]:  # ignored in a folder, then named on the command line
            self.seen[key] = (display, read)
            return False
        if read:
            self.found.skipped.append(Skipped(display, f"already read as {first[0]}"))
        return True  # an ignored file reached twice is listed once

    def members(self, archive: zipfile.ZipFile, display: str, path: str,
                chain: tuple[Entry, ...], depth: int) -> None:
        names = _shown_names(archive.infolist())
        infos = sorted(enumerate(archive.infolist()), key=lambda pair: (names[pair[0]], pair[0]))
        for index, info in infos:
            name = info.filename
            if name.endswith(("/", "\\")):
                continue  # a folder entry
            shown = f"{display}!{names[index]}"
            reason = skip_reason(name)
            entry = Entry(name, index)
            if reason:
                self.found.skipped.append(Skipped(shown, reason))
            elif _suffix(name) in RETURN_SUFFIXES:
                self.found.sources.append(Source(shown, path, (*chain, entry)))
            elif _suffix(name) in (ARCHIVE_SUFFIX, ""):
                self.nested(archive, info, shown, path, (*chain, entry), depth)
            else:
                self.found.ignored_files.append(shown)

    def nested(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str, path: str,
               chain: tuple[Entry, ...], depth: int) -> None:
        """A member that may be a workbook (whatever its name), an archive, or something else."""
        source = Source(shown, path, chain)
        try:
            if _suffix(info.filename) == "" and not _starts_as_zip(archive, info):
                self.found.ignored_files.append(shown)
                return
            data = self._inflate(archive, info)
        except _Refused as refused:
            self.found.sources.append(_refused(source, refused.args[0]))
            return
        except Exception:  # encrypted, damaged, unknown compression: reading it says which
            self.found.sources.append(source)
            return
        inner = _open_zip(io.BytesIO(data))
        if inner is None or _holds_workbook(inner):
            self.found.sources.append(source)  # a damaged zip is reported when it is read
        elif depth >= MAX_NESTING:
            message = (f"this archive is inside {depth} other archives, deeper than "
                       f"{MAX_NESTING} levels are opened; unzip it and send the returns inside")
            self.found.sources.append(_refused(source, message))
        else:
            with inner:
                self.members(inner, shown, path, chain, depth + 1)

    def _inflate(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """The member's bytes, within what is left of the input's budget (zip bombs)."""
        over = (f"the archives inside this input unpack to more than "
                f"{NESTED_BYTES // 2**20} MiB together, so this one was not opened (it may "
                "be a zip bomb); unzip it and send the returns inside")
        if info.file_size > self.budget:
            raise _Refused(over)
        with archive.open(info) as handle:
            data = handle.read(self.budget + 1)
        if len(data) > self.budget:  # its header understated its size
            raise _Refused(over)
        self.budget -= len(data)
        return data


class _Refused(Exception):
    """A nested archive discovery will not open; the message says why."""


def _refused(source: Source, message: str) -> Source:
    *outer, last = source.member
    entry = Entry(last.name, last.index, ("too-large", message))
    return Source(source.display, source.path, (*outer, entry))


LINKED_FOLDER = "link to a folder"
LINKED_FOLDER_WHY = "link to a folder, not followed (name the folder itself to read it)"


def _walk(root: Path) -> list[tuple[Path, str, str]]:
    """(path, path inside `root`, error) for every entry under `root` that is not a folder,
    sorted by path; a folder that could not be opened comes with the reason (its error).
    Symbolic links to folders are not followed."""
    found: list[tuple[tuple[str, ...], Path, str]] = []

    def unopened(error: OSError) -> None:
        folder = Path(error.filename) if error.filename is not None else root
        found.append((folder.relative_to(root).parts, folder, error.strerror or str(error)))

    for folder, dirs, names in os.walk(root, onerror=unopened):
        for name in names:  # files, and links, pipes, sockets and devices
            child = Path(folder) / name
            found.append((child.relative_to(root).parts, child, ""))
        for name in dirs:  # os.walk lists links to folders here, and does not enter them
            child = Path(folder) / name
            if child.is_symlink():
                found.append((child.relative_to(root).parts, child, LINKED_FOLDER))
    found.sort(key=lambda item: item[0])
    return [(path, "/".join(parts), error) for parts, path, error in found]


def _unopened_folder(display: str, path: Path, reason: str) -> Source:
    message = f"the folder could not be opened ({reason}); the returns in it were not read"
    return Source(display, str(path), (Entry("", 0, ("unreadable", message)),))


def _shown_names(infos: list[zipfile.ZipInfo]) -> list[str]:
    """Each member's name as shown, in archive order. Two members with one name keep it:
    `file` is the path as found (the contract), and their sha256 tells them apart."""
    return [display_name(_member_name(info).replace(BACKSLASH, "/")) for info in infos]


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it.

    Without the zip's UTF-8 flag, the zip format says a name is in code page 437 (the old
    DOS one), as zipfile decodes it; most tools that omit the flag still write UTF-8, so a
    name that decodes as UTF-8 is shown so, and any other stays in code page 437.
    """
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    try:
        return name.encode("cp437").decode("utf-8")
    except UnicodeError:
        return name


def _suffix(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return Path(base).suffix.lower() if base else ""


def _disk_kind(path: Path, named: bool) -> tuple[str, zipfile.ZipFile | None]:
    """("return" | "other", None) or ("archive", the open archive) for a file on disk.

    Files named on the command line are always inputs; in folders, files ending in a return
    suffix are returns, and `.zip` files or files without a suffix are looked inside.
    """
    suffix = path.suffix.lower()
    if suffix in RETURN_SUFFIXES:
        return "return", None
    if suffix in (ARCHIVE_SUFFIX, ""):
        archive = _open_zip(path)
        if archive is not None and not _holds_workbook(archive):
            return "archive", archive
        if archive is not None:
            archive.close()
            return "return", None
        if suffix == ARCHIVE_SUFFIX:
            return "return", None  # a damaged archive is reported, not ignored
    return ("return" if named else "other"), None


def _open_zip(file) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(file)
    except Exception:  # not a zip, damaged, unreadable: the caller decides
        return None


def _holds_workbook(archive: zipfile.ZipFile) -> bool:
    """An Office Open XML workbook (or an OpenDocument spreadsheet), not an archive of files."""
    names = {name.replace("\\", "/").lower() for name in archive.namelist()}
    return all(part in names for part in _WORKBOOK_PARTS) or {"mimetype", "content.xml"} <= names


def _starts_as_zip(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with archive.open(info) as handle:
        return handle.read(4) == _ZIP_MAGIC


_CSV_CHUNK = 100  # rows formatted together (a few KB; a row with long evidence, 64 KB)


def write_csv(path: str | Path, columns: tuple[str, ...], rows: Iterable[list]) -> None:
    """A UTF-8 CSV file; text a spreadsheet would run as a formula is escaped (csv_safe)."""
    # The csv module quotes a field only for the line terminator's characters: written with
    # "\r\n" it quotes a lone CR inside a field too (readers would split the row there);
    # each row's own terminator is then written as "\n". Rows are formatted a chunk at a
    # time: where a chunk's only CRs are its terminators, all are replaced at once.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    with open(path, "w", encoding="utf-8", newline="") as f:
        rows = _with_header(columns, rows)
        while chunk := [_csv_fields(row) for row in itertools.islice(rows, _CSV_CHUNK)]:
            writer.writerows(chunk)
            text = _taken(buffer)
            if text.count("\r") == len(chunk):
                f.write(text.replace("\r\n", "\n"))
                continue
            for row in chunk:  # a CR inside a field: row by row
                writer.writerow(row)
                f.write(_taken(buffer)[:-2] + "\n")


def _csv_fields(row: list) -> list:
    """csv_safe of every field but numbers; text that needs no apostrophe as it is."""
    return [v if isinstance(v, int) or (v.__class__ is str and not v.startswith(_FORMULA_START))
            else csv_safe(v) for v in row]


def _taken(buffer: io.StringIO) -> str:
    """What the buffer holds, leaving it empty."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _with_header(columns: tuple[str, ...], rows: Iterable[list]) -> Iterator[list]:
    yield list(columns)
    yield from rows
