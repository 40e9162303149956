"""Reading a return from disk or from a member of a zip archive: bytes in, never written."""

from __future__ import annotations

import contextlib
import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..problems import Problem
from ..rubric import Rubric
from .model import ReturnResult
from .preflight import Limits

DEFAULT_LIMITS = Limits()


def read_file(
    path: str | Path, rubric: Rubric, limits: Limits = DEFAULT_LIMITS, display: str | None = None,
    member: str = "",
) -> ReturnResult:
    """Read a return from disk (read once, never written); `display` names it in problems.

    With `member`, the return is that member of the zip archive at `path`. A member over the
    size limit is not inflated further (it may be a bomb), so its sha256 covers only the
    part read.
    """
    file = display if display is not None else str(path)
    digest = hashlib.sha256()
    try:
        with _open(path, member) as handle:
            data = handle.read(limits.max_file_bytes + 1)
            digest.update(data)
            oversized = len(data) > limits.max_file_bytes
            size = len(data)
            if oversized and not member:  # hash the rest without holding it
                while chunk := handle.read(2**20):
                    digest.update(chunk)
                    size += len(chunk)
    except (OSError, zipfile.BadZipFile, KeyError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        result = ReturnResult(file=file, sha256="")
        message = f"the file could not be read ({reason})"
        result.problems.append(Problem(file, "unreadable", message))
        return result
    if oversized:
        result = ReturnResult(file=file, sha256=digest.hexdigest())
        limit = f"{limits.max_file_bytes / 2**20:.1f} MiB"
        if member:
            message = f"the file is over the limit of {limit}"
        else:
            message = f"the file is {size / 2**20:.1f} MiB, over the limit of {limit}"
        result.problems.append(Problem(file, "too-large", message))
        return result
    from . import read_bytes

    return read_bytes(data, file, rubric, limits, digest.hexdigest())


@contextlib.contextmanager
def _open(path: str | Path, member: str) -> Iterator[BinaryIO]:
    if not member:
        with open(path, "rb") as handle:
            yield handle
        return
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        yield handle


