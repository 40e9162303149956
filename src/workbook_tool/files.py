"""Files: atomic writes, safe file names, and finding returns in folders and archives."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
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
