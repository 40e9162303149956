"""Reading a return from disk or from a member of a zip archive: bytes in, never written.

Whatever goes wrong while reading one file becomes that file's problem: `read_file` never
raises, so one file cannot stop a consolidation.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..files import NESTED_BYTES, Entry, NotRegularFile, display_name, open_regular
from ..problems import Problem
from ..rubric import Rubric
from .model import ReturnResult
from .preflight import Limits

DEFAULT_LIMITS = Limits()
_ENCRYPTED = ("the zip archive protects this file with a password; unzip it with the password "
              "and send the workbook itself")


class _Unread(Exception):
    """The file cannot be read; `code` is a problems.CODES key, the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def read_file(
    path: str | Path, rubric: Rubric, limits: Limits = DEFAULT_LIMITS, display: str | None = None,
    member: str | tuple[Entry, ...] = "",
) -> ReturnResult:
    """Read a return from disk (read once, never written); `display` names it in problems.

    With `member`, the return is inside the zip archive at `path`: a member name, or the chain
    of entries to open in turn (an archive inside the archive, outermost first). Only a
    regular file is opened (a named pipe would wait for ever). A file on disk over the size
    limit is hashed to the size it had when opened, never held; a member of an archive over
    the limit is inflated no further (it may be a bomb), so its sha256 covers its first
    `max_file_bytes` only, as its problem says.
    Never raises: a file that cannot be read is an `unreadable`, `encrypted` or `too-large`
    problem.
    """
    file = display if display is not None else display_name(str(path))
    try:
        return _read(path, file, rubric, limits, member)
    except _Unread as unread:
        return _failed(file, unread.code, unread.message)
    except NotRegularFile as special:
        return _failed(file, "unreadable", str(special))
    except BaseException as exc:  # anything else about this one file: its problem, not a crash
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return _failed(file, "unreadable", f"the file could not be read ({_reason(exc)})")


def _read(path: str | Path, file: str, rubric: Rubric, limits: Limits,
          member: str | tuple[Entry, ...]) -> ReturnResult:
    if isinstance(member, tuple) and member and member[-1].refused:
        raise _Unread(*member[-1].refused)  # discovery knows why: nothing to open
    with _open(path, member) as handle:
        data = handle.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            if member:  # it may be a bomb: inflate no further
                return _oversized(file, data[: limits.max_file_bytes], limits.max_file_bytes)
            return _oversized_file(file, handle, data, limits.max_file_bytes)
    from . import read_bytes

    return read_bytes(data, file, rubric, limits, hashlib.sha256(data).hexdigest())


def _oversized_file(file: str, handle: BinaryIO, head: bytes, limit_bytes: int) -> ReturnResult:
    """A file on disk over the limit: hashed whole, as far as its size when it was opened
    (a file still being written cannot keep the read going), without holding it."""
    size = os.fstat(handle.fileno()).st_size
    digest = hashlib.sha256(head)
    left = size - len(head)
    while left > 0 and (chunk := handle.read(min(2**20, left))):
        digest.update(chunk)
        left -= len(chunk)
    result = ReturnResult(file=file, sha256=digest.hexdigest() if left <= 0 else "")
    message = (f"the file is {size / 2**20:.1f} MiB, over the limit of "
               f"{limit_bytes / 2**20:.1f} MiB")
    result.problems.append(Problem(file, "too-large", message))
    return result


def _oversized(file: str, head: bytes, limit_bytes: int) -> ReturnResult:
    """A member over the limit: a `too-large` problem; the sha256 is of the first
    `limit_bytes`, and says so (its full size is not known: it was inflated no further)."""
    result = ReturnResult(file=file, sha256=hashlib.sha256(head).hexdigest())
    limit = f"{limit_bytes / 2**20:.1f} MiB"
    message = (f"the file is over the limit of {limit}, so it was read no further and its sha256 "
               f"covers only its first {limit}")
    result.problems.append(Problem(file, "too-large", message))
    return result


def _failed(file: str, code: str, message: str) -> ReturnResult:
    result = ReturnResult(file=file, sha256="")
    result.problems.append(Problem(file, code, display_name(message)))
    return result


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # without the file name, which the problem already gives
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


@contextlib.contextmanager
def _open(path: str | Path, member: str | tuple[Entry, ...]) -> Iterator[BinaryIO]:
    if not member:
        with open_regular(path) as handle:
            yield handle
        return
    chain = (member,) if isinstance(member, str) else member
    with open_regular(path) as raw, zipfile.ZipFile(raw) as outer:
        archive = _innermost(path, raw, outer, chain[:-1])
        info = _info(archive, chain[-1])
        with archive.open(info) as handle:
            yield handle


# The members of one archive inside an archive are read one after the other: the innermost
# archive read last is kept (one, at most NESTED_BYTES) instead of being inflated again.
_last_inner: dict[tuple, bytes] = {}


def _innermost(path: str | Path, raw: BinaryIO, outer: zipfile.ZipFile,
               chain: tuple[str | Entry, ...]) -> zipfile.ZipFile:
    if not chain:
        _last_inner.clear()
        return outer
    stat = os.fstat(raw.fileno())
    key = (str(path), stat.st_size, stat.st_mtime_ns, chain)
    data = _last_inner.get(key)
    if data is None:
        _last_inner.clear()
        archive = outer
        for entry in chain:  # each archive inside the archive is read into memory
            data = _nested_bytes(archive, entry)
            archive = zipfile.ZipFile(io.BytesIO(data))
        _last_inner[key] = data
    return zipfile.ZipFile(io.BytesIO(data))


def _info(archive: zipfile.ZipFile, entry: str | Entry) -> zipfile.ZipInfo:
    """The entry's ZipInfo, checked before anything is inflated."""
    if isinstance(entry, str):
        info = archive.getinfo(entry)
    else:
        if entry.refused:
            raise _Unread(*entry.refused)
        infos = archive.infolist()
        info = infos[entry.index] if entry.index < len(infos) else None
        if info is None or info.filename != entry.name:
            raise _Unread("unreadable", "the archive changed while it was being read; "
                                        "run the consolidation again")
    if info.flag_bits & 0x1:
        raise _Unread("encrypted", _ENCRYPTED)
    if info.compress_type not in _INFLATABLE:
        method = zipfile.compressor_names.get(info.compress_type, f"method {info.compress_type}")
        raise _Unread("unreadable", f"the zip archive stores this file with a compression "
                                    f"method this tool cannot unpack ({method}); unzip it with "
                                    "your usual program and send the workbook itself")
    return info


_INFLATABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def _nested_bytes(archive: zipfile.ZipFile, entry: str | Entry) -> bytes:
    info = _info(archive, entry)
    with archive.open(info) as handle:
        data = handle.read(NESTED_BYTES + 1)
    if len(data) > NESTED_BYTES:
        raise _Unread("too-large", f"the archive holding this file unpacks to more than "
                                   f"{NESTED_BYTES // 2**20} MiB; unzip it and send the returns "
                                   "inside")
    return data
