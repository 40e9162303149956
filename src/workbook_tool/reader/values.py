"""Cell values of a return: read with python-calamine, normalised, never evaluated.

A sheet is only handed to calamine after a byte scan of its XML bounds the grid calamine
would allocate. Formulas are found with a cheap byte scan too; only a sheet that holds
formulas is parsed (defusedxml iterparse) to learn exactly which cells they are in.

A cell's value is what the person saw. Text stays as it is (the common path, untouched).
A number, date, boolean or error value is rendered from the cell's raw XML with its number
format applied (numformat.py), so 0.87 formatted "0%" reads "87%" and a 19-digit integer
keeps every digit. calamine reads an error value (#N/A) as an empty cell, so a sheet whose
XML holds an error cell (t="e") is looked at more closely.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from defusedxml.ElementTree import iterparse
from python_calamine import CalamineWorkbook

from .. import layout
from ..rubric import Rubric
from . import numformat
from .locate import Book, SheetInfo, local, parse_xml, related_part
from .preflight import WORKBOOK, Limits, Package, Rejected

EXCEL_MAX_TEXT = 32_767  # UTF-16 units Excel keeps in one cell (an emoji takes two)

# Start tags of cells and rows are written unprefixed, r= first, letters then digits, by
# every known writer; _ODD_TAG finds any other start tag of a cell or row.
_ODD_TAG = re.compile(rb'<(?:c|row)(?! r="[A-Za-z]*[0-9]*")[\s/>]')
_PREFIXED_TAG = re.compile(rb":(?:c|row)[\s/>]")  # <x:c ...>: walked exactly instead
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
_SPACES = re.compile(r"\s+")
# Characters that show nothing between letters: zero-width space, non-joiner and joiner,
# word joiner and invisible operators, BOM, soft hyphen, Mongolian vowel separator,
# variation selectors. A rating holding them still reads as the level the person saw.
# Bidi controls (U+200E/F, U+202A-E, U+2066-9, U+061C) are not among them: they change
# the order in which text is shown, so what was seen may not be what is stored.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff\ufe00-\ufe0f]")
# Letters that look blank: Hangul fillers, braille blank, combining grapheme joiner.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"))
_HALF_CODE = re.compile(r"<(?:U(?:\+[0-9A-F]{0,5})?)?$")
_ERROR_CELL = re.compile(rb"""\st\s*=\s*["']e["']""")
_CELL_XML = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_ATTRIBUTE = re.compile(rb"""([\w:]+)\s*=\s*(["'])(.*?)\2""", re.S)  # either quote
_V = re.compile(rb"<(?:\w+:)?v>([^<]*)</")
_DATE1904 = re.compile(rb"""date1904\s*=\s*["'](?:1|true)["']""")
_LEVEL_TEXT = re.compile(r"(?:level\s*)?([0-9]{1,3})(?:\.0*)?(?:\s*[-–—:.)=]\s*|\s+)?(.*)")

Cell = tuple[int, int]


def column_number(letters: bytes | str) -> int:
    """b"A" -> 1, b"AA" -> 27 (1-based; 0 for no letters; lowercase as calamine reads it)."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


def parse_position(ref: str) -> Cell:
    """A cell's r= as calamine reads it: letters (any case) then digits, 0-based."""
    match = re.fullmatch(r"([A-Za-z]*)([0-9]+)", ref)
    if not match or int(match.group(2)) < 1:
        raise ValueError(f"invalid cell reference {ref[:20]!r}")
    return int(match.group(2)) - 1, column_number(match.group(1)) - 1


# Every cell start tag written the usual way: its letters and digits, the rest of the tag
# (ending in "/" when the cell closes at once), and "<f" when a formula is its first child.
# The rest is taken whole rather than lazily up to an optional "/": half the time on a
# sheet of formulas (the team sheet).
_CELL_SCAN = re.compile(rb'<c r="([A-Za-z]*)([0-9]*)"([^>]*)>(<f[\s/>])?')


def scan(xml: bytes) -> tuple[int, set[Cell] | None]:
    """(grid_bound(xml), formula_cells(xml)) in one pass over the usual XML; the formula
    cells are None when only the slower ways can tell them. Where every cell and row tag
    starts with r="..." the bound comes from those (a match inside CDATA text can only make
    it larger); other XML is walked."""
    if not _tags_plain(xml):
        return _walked_bound(xml), None
    cells = _CELL_SCAN.findall(xml)
    # A sheet has a few distinct column letters and row numbers and thousands of cells:
    # each converted once.
    columns = {letters: column_number(letters) for letters in {c[0] for c in cells}}
    rows = {digits: int(digits) for digits in {c[1] for c in cells}}
    max_row = max(rows.values(), default=0)
    bound = max_row * max(columns.values(), default=0)
    formulas = [(rows[digits] - 1, columns[letters] - 1)
                for letters, digits, rest, formula in cells
                if formula and not rest.endswith(b"/")]
    # Each formula tag holds "<f" (not "<formula", the tag of validations and conditional
    # formats) or ":f": when every one of those starts a usual formula cell, that is all.
    if (len(formulas) != xml.count(b"<f") - xml.count(b"<formula") + xml.count(b":f")
            or b"<![CDATA[" in xml or any(row < 0 for row, _ in formulas)):
        return bound, None
    return bound, set(formulas)


def grid_bound(xml: bytes) -> int:
    """An upper bound of the cells calamine allocates for this sheet (rows x columns).

    calamine sizes its grid from the cells the sheet holds, so a cell far away
    (XFD1048576) in a tiny file would make it allocate terabytes; this is checked before
    calamine sees the sheet. The declared <dimension> and rows without cells do not count:
    calamine allocates nothing for them, and LibreOffice declares A1:M1048576 and writes an
    empty row 1048576 after a row is deleted on a sheet with hidden columns.
    """
    return scan(xml)[0]


def _walked_bound(xml: bytes) -> int:
    """grid_bound of unusual XML: walked exactly as calamine walks it."""
    max_row = max_col = 0
    for row, col, _ in _walk(xml, formulas=False):
        max_row, max_col = max(max_row, row + 1), max(max_col, col + 1)
    return max_row * max_col


def _walk(xml: bytes, formulas: bool):
    """(row, col, has_formula) of every cell, positioned as calamine positions them."""
    # calamine's two counters: a row's r= sets the row (a row without r= keeps it), and only
    # a row's end moves to the next row's first column. Cells written outside any <row>
    # (before the first, or between rows) take the place the counters are at.
    row, col = 0, 0
    pending: list = []  # the open cell: [row, col, has_formula]
    for event, element in iterparse(io.BytesIO(xml), events=("start", "end")):
        kind = local(element.tag)
        if event == "start":
            if kind == "row":
                ref = element.get("r")
                if ref is not None:
                    row = parse_position("A" + ref)[0]
            elif kind == "c":
                ref = element.get("r")
                position = parse_position(ref) if ref is not None else (row, col)
                col = position[1] + 1
                pending = [position[0], position[1], False]
        elif kind == "f" and formulas and pending:
            pending[2] = True
        elif kind == "c":
            if pending:
                yield pending[0], pending[1], pending[2]
            pending = []
            element.clear()
        elif kind == "row":
            row, col = row + 1, 0
            element.clear()


def formula_cells(xml: bytes) -> set[Cell]:
    """0-based (row, col) of every cell holding a formula (<f>), exactly."""
    if not _FORMULA.search(xml):
        return set()
    if _plain_cells(xml) and (scanned := _scanned_formula_cells(xml)) is not None:
        return scanned
    return {(row, col) for row, col, formula in _walk(xml, formulas=True) if formula}


def _plain_cells(xml: bytes) -> bool:
    """Does every <c> and <row> tag start with its r="..." and no CDATA hide markup?

    Then a cell's position is its r=, and no text can look like markup (a "<" is never
    inside an attribute value or text), which is what every writer we know produces.
    Anything else is walked by the XML parser.
    """
    return _tags_plain(xml) and b"<![CDATA[" not in xml


def _tags_plain(xml: bytes) -> bool:
    """Does every <c> and <row> start tag begin with r="letters digits", unprefixed?"""
    return not _ODD_TAG.search(xml) and not _PREFIXED_TAG.search(xml)


# A cell whose first child is its formula, as the schema orders them (f, v, is) and every
# writer we know writes them.
_FORMULA_CELL = re.compile(rb'<c r="([A-Za-z]*)([0-9]+)"[^>]*(?<!/)>\s*<(?:\w+:)?f[\s/>]')


def _scanned_formula_cells(xml: bytes) -> set[Cell] | None:
    """formula_cells for plain XML (see _plain_cells), about 7x faster than the walk; None
    when some <f> is not the first child of a cell (then the walk decides)."""
    found = _FORMULA_CELL.findall(xml)
    if len(found) != len(_FORMULA.findall(xml)) or any(int(d) < 1 for _, d in found):
        return None
    return {(int(digits) - 1, column_number(letters) - 1) for letters, digits in found}


class ErrorValue(str):
    """The text of a spreadsheet error value held by a cell: "#N/A", "#DIV/0!", ..."""


class CellValue(NamedTuple):  # a named tuple: a few hundred are made per return
    # Text as stored; a number, date or boolean as the cell showed it (its number format
    # applied); an error value as an ErrorValue; "" for an empty cell.
    value: object
    formula: bool  # the cell holds a formula; `value` is its cached result
    merged_into: str  # "G3:G4" when a merged range covers the cell and starts elsewhere
    stored: object = None  # a number, date or boolean as stored, before its format is applied


@lru_cache(maxsize=4096)
def split(cell: str) -> Cell:
    return layout.split_cell(cell)


_MERGE_INDEX_ROWS = 100_000  # merged rows indexed per sheet; past that, merges are scanned


class _Loaded:
    __slots__ = ("by_row", "cells", "errors", "formulas", "merges", "rows", "xml")

    def __init__(self, xml: bytes, rows: list[list], merges: list[tuple[Cell, Cell]],
                 formulas: set[Cell] | None = None):
        self.xml = xml
        self.rows = rows
        self.merges = merges
        self.by_row: dict[int, list[tuple[Cell, Cell]]] | None = None
        if formulas is None and not _FORMULA.search(xml):
            formulas = set()
        self.formulas: set[Cell] | None = formulas  # None: found on first need
        self.errors: bool | None = None  # any error value (t="e")? Found out on first need
        self.cells: dict[Cell, tuple[dict[bytes, bytes], bytes | None]] | None = None

    def has_errors(self) -> bool:
        if self.errors is None:
            # A plain search for "e" in quotes first: ten times faster than the regex, and
            # an ordinary sheet has none. Only sheets with an empty input cell ask.
            self.errors = (b'"e"' in self.xml or b"'e'" in self.xml) and (
                _ERROR_CELL.search(self.xml) is not None)
        return self.errors

    def merged_into(self, row: int, col: int) -> str:
        """ "G3:G4" when a merged range covers the cell and starts elsewhere, else ""."""
        if not self.merges:
            return ""
        if self.by_row is None:
            self.by_row = _merges_by_row(self.merges)
        candidates = self.merges if self.by_row is _TOO_MANY else self.by_row.get(row, ())
        for (r0, c0), (r1, c1) in candidates:
            if r0 <= row <= r1 and c0 <= col <= c1 and (row, col) != (r0, c0):
                return f"{layout.cell_ref(r0, c0)}:{layout.cell_ref(r1, c1)}"
        return ""

    def raw(self, row: int, col: int) -> tuple[dict[bytes, bytes], bytes | None] | None:
        """(attributes, <v> text) of a cell from the sheet's XML, or None if not found.

        Built on first use, only for sheets with a cell whose value is not text.
        """
        if self.cells is None:
            self.cells = _raw_cells(self.xml)
        return self.cells.get((row, col))


_TOO_MANY: dict = {}  # merges spanning too many rows to index: scan them all


def _merges_by_row(merges: list[tuple[Cell, Cell]]) -> dict[int, list[tuple[Cell, Cell]]]:
    """The merged ranges crossing each row, for a look-up per cell (a sheet holds a few)."""
    if sum(max(r1 - r0 + 1, 0) for (r0, _), (r1, _) in merges) > _MERGE_INDEX_ROWS:
        return _TOO_MANY
    by_row: dict[int, list[tuple[Cell, Cell]]] = {}
    for merge in merges:
        (r0, _), (r1, _) = merge
        for row in range(r0, r1 + 1):
            by_row.setdefault(row, []).append(merge)
    return by_row


def _raw_cells(xml: bytes) -> dict[Cell, tuple[dict[bytes, bytes], bytes | None]]:
    """Every cell with an r= reference: its attributes and the text of its <v>."""
    cells = {}
    for match in _CELL_XML.finditer(xml):
        attributes = {key.rpartition(b":")[2]: value
                      for key, _quote, value in _ATTRIBUTE.findall(match.group(1))}
        ref = attributes.get(b"r")
        if ref is None:
            continue
        try:
            position = parse_position(ref.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            continue
        v = _V.search(match.group(2)) if match.group(2) else None
        cells.setdefault(position, (attributes, v.group(1) if v else None))
    return cells


class Sheets:
    """The sheets of one return, each read once on first use."""

    def __init__(self, package: Package, book: Book, limits: Limits):
        self.package = package
        self.book = book
        self.limits = limits
        try:
            self.workbook = CalamineWorkbook.from_filelike(io.BytesIO(package.data))
        except Exception as exc:
            message = f"the workbook could not be opened ({_why(exc)})"
            raise Rejected("unreadable", message) from None
        self._loaded: dict[str, _Loaded] = {}
        self._formats: tuple[list[str], bool] | None = None  # (code per style, date1904)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed
            self.workbook.close()

    def _load(self, sheet: SheetInfo) -> _Loaded:
        loaded = self._loaded.get(sheet.name)
        if loaded is not None:
            return loaded
        xml = self.package.part(sheet.path) if sheet.path else None
        if xml is None:
            raise Rejected("unreadable", f"the part of sheet '{sheet.name}' is missing",
                           sheet=sheet.name)
        try:
            bound, formulas = scan(xml)
        except Exception as exc:  # the exact walk met broken XML
            raise Rejected(
                "unreadable", f"the sheet '{sheet.name}' is damaged ({_why(exc)})",
                sheet=sheet.name,
            ) from None
        if bound > self.limits.max_cells:
            raise Rejected(
                "too-large",
                f"the sheet '{sheet.name}' spans {bound:,} cells, over the limit of "
                f"{self.limits.max_cells:,}",
                sheet=sheet.name,
            )
        try:
            data = self.workbook.get_sheet_by_name(sheet.name)
            rows = data.to_python(skip_empty_area=False)
            merges = list(data.merged_cell_ranges or [])
        except Exception as exc:
            raise Rejected(
                "unreadable", f"the sheet '{sheet.name}' could not be read ({_why(exc)})",
                sheet=sheet.name,
            ) from None
        loaded = self._loaded[sheet.name] = _Loaded(xml, rows, merges, formulas)
        return loaded

    def rows(self, sheet: SheetInfo) -> list[list]:
        """Rows of the sheet from A1 (index [row][col], 0-based)."""
        return self._load(sheet).rows

    def cell(self, sheet: SheetInfo, ref: str, formulas: bool = True) -> CellValue:
        """A cell's value; `formulas=False` skips looking for a formula in it."""
        return self.cell_at(sheet, *split(ref), formulas=formulas)

    def cell_at(self, sheet: SheetInfo, row: int, col: int, formulas: bool = True) -> CellValue:
        """cell() of a 0-based (row, col), for a caller that has split its reference."""
        loaded = self._load(sheet)
        rows = loaded.rows
        value = rows[row][col] if row < len(rows) and col < len(rows[row]) else ""
        if formulas and loaded.formulas is None:
            try:
                loaded.formulas = formula_cells(loaded.xml)
            except Exception as exc:
                raise Rejected(
                    "unreadable", f"the sheet '{sheet.name}' is damaged ({_why(exc)})",
                    sheet=sheet.name,
                ) from None
        merged = loaded.merged_into(row, col)
        formula = formulas and (row, col) in (loaded.formulas or ())
        stored = None
        if value.__class__ is not str:  # a number, date or boolean: as the cell shows it
            stored, value = value, self._shown(loaded, row, col, value)
        elif not value and loaded.has_errors():  # calamine reads an error value as empty
            value = self._error(loaded, row, col)
        return CellValue(value, formula, merged, stored)

    def _error(self, loaded: _Loaded, row: int, col: int) -> str:
        raw = loaded.raw(row, col)
        if raw is None or raw[0].get(b"t") != b"e":
            return ""
        # <c t="e"/> holds no error text: an error value that shows nothing, never "#N/A".
        return ErrorValue(_xml_text(raw[1]))

    def _shown(self, loaded: _Loaded, row: int, col: int, value: object) -> str:
        """A non-text value as the person saw it in the cell."""
        raw = loaded.raw(row, col)
        if raw is None or raw[1] is None:  # a cell without r= or <v>: calamine's value
            return text_of(value)
        attributes, v = raw
        kind = attributes.get(b"t", b"n")
        if kind == b"b":
            return "TRUE" if v.strip() in (b"1", b"true") else "FALSE"
        if kind == b"e":
            return ErrorValue(_xml_text(v))  # as written; "" when <v> is empty
        if kind != b"n":  # an ISO date (t="d") or text: calamine read it right
            return text_of(value)
        codes, date1904 = self._number_formats()
        style = attributes.get(b"s", b"0")
        index = int(style) if style.isdigit() else 0
        code = codes[index] if index < len(codes) else numformat.GENERAL
        return numformat.shown(v.decode("ascii", "replace"), code, date1904)

    def _number_formats(self) -> tuple[list[str], bool]:
        """The format code of every cell style (cellXfs order), and the 1904 date system."""
        if self._formats is None:
            workbook = self.package.part(WORKBOOK) or b""
            date1904 = _DATE1904.search(workbook) is not None
            try:
                codes = _style_formats(self.package)
            except Exception:  # a damaged styles part: numbers shown as General
                codes = []
            self._formats = (codes, date1904)
        return self._formats


def _xml_text(raw: bytes | None) -> str:
    text = (raw or b"").decode("utf-8", "replace").strip()
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace(
        "&apos;", "'").replace("&amp;", "&")


def _styles_part(package: Package) -> str:
    """The styles part named by the workbook's relationships (xl/styles.xml as a rule)."""
    named = related_part(package, "xl/_rels/workbook.xml.rels", "xl", "/styles")
    return named or "xl/styles.xml"


def _style_formats(package: Package) -> list[str]:
    part = _styles_part(package)
    if package.part(part) is None:
        return []
    root = parse_xml(package, part)
    custom: dict[int, str] = {}
    codes: list[str] = []
    for element in root:
        if local(element.tag) == "numFmts":
            for number_format in element:
                with contextlib.suppress(ValueError):
                    custom[int(number_format.get("numFmtId", ""))] = number_format.get(
                        "formatCode", "")
        elif local(element.tag) == "cellXfs":
            for xf in element:
                try:
                    number = int(xf.get("numFmtId", "0"))
                except ValueError:
                    number = 0
                codes.append(numformat.format_code(number, custom))
    return codes


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# -- values --------------------------------------------------------------------------------

def text_of(value: object) -> str:
    """A cell's value as the text a person typed: numbers without ".0", dates in ISO."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def fold(text: str) -> str:
    """Case, runs of spaces (non-breaking too), surrounding spaces and characters that show
    nothing (zero-width space, soft hyphen, BOM: see _INVISIBLE) don't count."""
    if not text.isascii():
        text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip().casefold()


def excel_length(text: str) -> int:
    """The length of `text` as Excel counts it: in UTF-16 units (an emoji counts two)."""
    if len(text) <= EXCEL_MAX_TEXT // 2:  # short enough that no count can pass the limit
        return len(text)
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Rating:
    level: int | None
    label: str
    status: str  # "exact", "normalized", "empty" or "invalid"


def rating_of(value: object, rubric: Rubric) -> Rating:
    """Match a rating cell's value to a level of the rubric."""
    labels = {lv.level: lv.label for lv in rubric.levels}
    if value is None or (isinstance(value, str) and not fold(value)):
        return Rating(None, "", "empty")
    if isinstance(value, bool):
        return Rating(None, "", "invalid")
    if isinstance(value, int | float):
        if float(value).is_integer() and int(value) in labels:
            return Rating(int(value), labels[int(value)], "normalized")
        return Rating(None, "", "invalid")
    if not isinstance(value, str):
        return Rating(None, "", "invalid")
    for level, label in labels.items():
        if value == label:
            return Rating(level, label, "exact")
    folded = fold(value)
    for level, label in labels.items():
        if folded == fold(label):
            return Rating(level, label, "normalized")
    match = _LEVEL_TEXT.fullmatch(folded)
    if match:
        level = int(match.group(1))
        rest = match.group(2)
        if level in labels and (not rest or rest == fold(labels[level])):
            return Rating(level, labels[level], "normalized")
    return Rating(None, "", "invalid")


def priority_of(value: object) -> tuple[str, bool]:
    """(text, valid): High/Medium/Low in any case; anything else kept as typed, not valid."""
    text = text_of(value)
    folded = fold(text)
    if not folded:
        return "", True
    for priority in layout.PRIORITIES:
        if folded == priority.casefold():
            return priority, True
    return text, False


def quote(value: object, limit: int = 60, known: str | None = None) -> str:
    """`value` in double quotes for a message, on one line, with every character that
    shows nothing or looks like a space written as <U+200B>, so that "Advan<U+200B>cing"
    never reads as a valid level. With `known` (the characters of the level labels), any
    other non-ASCII character is spelled out too, so a look-alike letter (Cyrillic "а")
    is seen for what it is."""
    text = text_of(value) if not isinstance(value, str) else str(value)
    if not (text.isascii() and text.isprintable()):
        text = "".join(_visible(ch, known) for ch in text.replace("\r\n", "\n"))
    if len(text) > limit:
        text = _HALF_CODE.sub("", text[: limit - 1]) + "…"  # never half a <U+XXXX>
    return f'"{text}"'


def _visible(ch: str, known: str | None) -> str:
    if ch in "\n\r\t":
        return " "
    if ch == " " or (ch.isascii() and ch.isprintable()):
        return ch
    category = unicodedata.category(ch)
    if (category in _HIDDEN_CATEGORIES or category == "Zs" or ch in _BLANK_LOOKING
            or _INVISIBLE.match(ch) or (known is not None and ch not in known)):
        return f"<U+{ord(ch):04X}>"
    return ch


def too_long(text: str) -> str:
    """Why `text` does not fit in an Excel cell, to follow "the evidence of 1.1"; or ""."""
    length = excel_length(text)
    if length <= EXCEL_MAX_TEXT:
        return ""
    return (f"is {length:,} characters long as Excel counts them, more than the "
            f"{EXCEL_MAX_TEXT:,} an Excel cell holds: district_summary.xlsx shows its first "
            f"{EXCEL_MAX_TEXT:,}, and ratings.csv and ratings.parquet keep it whole")
