"""The district's list of schools, from CSV or XLSX.

Headers match case-insensitively, trimmed, with spaces equal to underscores. Every problem
is collected with its row number so the coordinator fixes the roster in one pass.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("school_id", "school_name")
OPTIONAL = ("network", "contact_name", "contact_email")
_ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass(frozen=True)
class School:
    school_id: str
    school_name: str
    network: str = ""
    contact_name: str = ""
    contact_email: str = ""


class RosterError(Exception):
    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


def header_key(text: object) -> str:
    return "_".join(str(text or "").strip().lower().replace("_", " ").split())


def load_roster(path: str | Path) -> list[School]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(str(path), [f"cannot read the roster ({exc.strerror or exc})"]) from None
    is_xlsx = data[:4] == b"PK\x03\x04"
    rows = _xlsx_rows(data, str(path)) if is_xlsx else _csv_rows(data, str(path))
    return parse_rows(rows, str(path))


def _csv_rows(data: bytes, name: str) -> list[list[str]]:
    for encoding in _ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise RosterError(name, ["the roster is neither UTF-8 nor Windows-1252 text"])
    if "\x00" in text:
        raise RosterError(name, ["the roster is not a CSV or XLSX file"])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]


def _xlsx_rows(data: bytes, name: str) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several types for a broken file
        raise RosterError(name, [f"cannot read the roster workbook ({exc})"]) from None
    return [[_cell_text(v) for v in row] for row in rows]


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def parse_rows(rows: list[list[str]], name: str) -> list[School]:
    rows = [row for row in rows if any(str(c).strip() for c in row)]
    if not rows:
        raise RosterError(name, ["the roster is empty"])
    header = [header_key(c) for c in rows[0]]
    missing = [col for col in REQUIRED if col not in header]
    if missing:
        found = ", ".join(h for h in header if h) or "none"
        raise RosterError(
            name, [f"row 1: missing column {', '.join(missing)} (found: {found})"]
        )
    index = {col: header.index(col) for col in REQUIRED + OPTIONAL if col in header}
    problems: list[str] = []
    schools: list[School] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {col: _at(row, i) for col, i in index.items()}
        school_id = values["school_id"]
        if not school_id:
            problems.append(f"row {number}: empty school_id")
            continue
        if school_id in seen:
            problems.append(
                f"row {number}: duplicate school_id '{school_id}' (first on row {seen[school_id]})"
            )
            continue
        seen[school_id] = number
        if not values["school_name"]:
            problems.append(f"row {number}: empty school_name for school_id '{school_id}'")
            continue
        schools.append(School(**values))
    if problems:
        raise RosterError(name, problems)
    if not schools:
        raise RosterError(name, ["the roster has a header but no schools"])
    return schools


def _at(row: list[str], i: int) -> str:
    return " ".join(str(row[i]).split()) if i < len(row) else ""
