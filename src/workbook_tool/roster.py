"""The district's list of schools, from CSV or XLSX.

Headers match case-insensitively, trimmed, with spaces equal to underscores. Values are
trimmed, and inner spaces are kept as typed. Every problem is collected with its row number
so the coordinator fixes the roster in one pass.

A row number is the row a spreadsheet shows when it opens the roster: blank rows count, and
a CSV record whose quoted cell holds a line break is one row (so it can differ from the
file's line number after such a cell).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("school_id", "school_name")
OPTIONAL = ("network", "contact_name", "contact_email")
# Tried in turn on the bytes after any UTF-8 byte order mark: Excel on Windows writes
# "CSV UTF-8" with a BOM, plain "CSV" in Windows-1252, and some tools put a BOM in front of
# Windows-1252 text, so the BOM alone does not settle the encoding.
_ENCODINGS = ("utf-8", "cp1252")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # Excel's "Unicode Text"
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
# Characters that show nothing, or a space that is not one: an id holding one looks like
# another id and is not the same (U+0020, the plain space, is allowed).
_UNSEEN = frozenset(("Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Zs"))


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
    if data[:4] == b"PK\x03\x04":
        return parse_rows(_xlsx_rows(data, str(path)), str(path))
    rows, separator = _csv_rows(data, str(path))
    return parse_rows(rows, str(path), separator)


def _csv_rows(data: bytes, name: str) -> tuple[list[list[str]], str]:
    """The records, and the separator between cells."""
    text = _decode(data, name)
    if "\x00" in text:
        raise RosterError(name, ["the roster is not a CSV or XLSX file"])
    try:
        sniffed = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        separator, skip_space = sniffed.delimiter, sniffed.skipinitialspace
    except csv.Error:
        separator, skip_space = ",", False
    rows: list[list[str]] = []
    # Only the separator is guessed: the Sniffer takes apostrophes for quotes when names
    # start with one ('Iolani) and would drop them; spreadsheets quote with " only.
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=separator,
                        skipinitialspace=skip_space)
    try:
        # One list per record, blank ones included ([]), so that index + 1 is the row number.
        rows.extend(reader)
    except csv.Error:  # a cell over the csv module's limit: almost always an unclosed quote
        raise RosterError(name, [
            f"row {len(rows) + 1}: this row cannot be read: a cell is longer than "
            f"{csv.field_size_limit():,} characters, often because a quote (\") is never closed"
        ]) from None
    return rows, separator


def _decode(data: bytes, name: str) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterError(name, ["the roster is not valid UTF-16 text"]) from None
    body = data.removeprefix(codecs.BOM_UTF8)
    for encoding in _ENCODINGS:
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(name, ["the roster is neither UTF-8 nor Windows-1252 text; save it "
                             "again as CSV UTF-8 or as an Excel workbook"])


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


def parse_rows(rows: list[list[str]], name: str, separator: str = "") -> list[School]:
    """Schools from rows as a spreadsheet shows them: rows[0] is row 1, blank rows included.

    The header is the first row that is not blank. With the `separator` of a CSV file, a row
    with more cells than the header is an error: a name holding the separator unquoted.
    """
    numbered = [(number, row) for number, row in enumerate(rows, start=1)
                if any(str(c).strip() for c in row)]
    if not numbered:
        raise RosterError(name, ["the roster is empty"])
    (header_number, header_row), body = numbered[0], numbered[1:]
    header = [header_key(c) for c in header_row]
    missing = [col for col in REQUIRED if col not in header]
    if missing:
        found = ", ".join(h for h in header if h) or "none"
        raise RosterError(name, [f"row {header_number}: missing column {', '.join(missing)} "
                                 f"(found: {found})"])
    index = {col: header.index(col) for col in REQUIRED + OPTIONAL if col in header}
    columns = _filled_width(header_row)
    problems: list[str] = []
    schools: list[School] = []
    seen: dict[str, int] = {}
    folded: dict[str, tuple[str, int]] = {}  # casefolded id -> (id, row)
    for number, row in body:
        values = {col: _at(row, i) for col, i in index.items()}
        school_id = values["school_id"]
        cells = _filled_width(row)
        if separator and cells > columns:
            word = _SEPARATORS.get(separator, repr(separator))
            problems.append(f"row {number}: {cells} cells for {columns} columns; a {word} "
                            "inside a name must be in double quotes")
            continue
        if not school_id:
            problems.append(f"row {number}: empty school_id")
            continue
        if any(_unseen(ch) for ch in school_id):
            problems.append(f"row {number}: school_id '{_spelled(school_id)}' holds a character "
                            "that cannot be seen; type the id again without it")
            continue
        if school_id in seen:
            problems.append(
                f"row {number}: duplicate school_id '{school_id}' (first on row {seen[school_id]})"
            )
            continue
        first = folded.get(school_id.casefold())
        if first is not None:
            # One school to the people typing it, and one file name on Windows and macOS.
            problems.append(f"row {number}: school_id '{school_id}' differs from '{first[0]}' "
                            f"on row {first[1]} only in capital letters; use one spelling for "
                            "one school, or ids that differ by more for two")
            continue
        seen[school_id] = number
        folded[school_id.casefold()] = (school_id, number)
        if not values["school_name"]:
            problems.append(f"row {number}: empty school_name for school_id '{school_id}'")
            continue
        schools.append(School(**values))
    if problems:
        raise RosterError(name, problems)
    if not schools:
        raise RosterError(name, ["the roster has a header but no schools"])
    return schools


def _filled_width(row: list[str]) -> int:
    """Cells up to the last one not blank: Excel writes empty cells at a row's end (`,,`)."""
    width = len(row)
    while width and not str(row[width - 1]).strip():
        width -= 1
    return width


def _unseen(ch: str) -> bool:
    return ch != " " and unicodedata.category(ch) in _UNSEEN


def _spelled(text: str) -> str:
    """`text` with every character that cannot be seen written as <U+200B>."""
    return "".join(f"<U+{ord(ch):04X}>" if _unseen(ch) else ch for ch in text)


def _at(row: list[str], i: int) -> str:
    # Trimmed only: "Lincoln  High" keeps its two spaces, as typed.
    return str(row[i]).strip() if i < len(row) else ""
