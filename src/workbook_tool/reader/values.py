"""Cell values of a return: read with python-calamine, normalised, never evaluated.

A sheet is only handed to calamine after a byte scan of its XML bounds the grid calamine
would allocate. Formulas are found with a cheap byte scan too; only a sheet that holds
formulas is parsed (defusedxml iterparse) to learn exactly which cells they are in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
from dataclasses import dataclass
from functools import lru_cache

from defusedxml.ElementTree import iterparse
from python_calamine import CalamineWorkbook

from .. import layout
from ..rubric import Rubric
from .locate import Book, SheetInfo, local
from .preflight import Limits, Package, Rejected

EXCEL_MAX_TEXT = 32_767  # characters Excel keeps in one cell

_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{0,3})\$?([0-9]*)(?::\$?([A-Z]{0,3})\$?([0-9]*))?"'
)
# Start tags of cells and rows as every known writer writes them: unprefixed, r= first.
# One group tuple per tag: (name, ' r="' when r= comes first, letters, digits).
_TAG = re.compile(rb'<(c|row)(?:( r=")([A-Za-z]*)([0-9]*)"|[\s/>])')
_PREFIXED_TAG = re.compile(rb":(?:c|row)[\s/>]")  # <x:c ...>: walked exactly instead
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
_SPACES = re.compile(r"[\s\u200b\u2060\ufeff]+")
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


def grid_bound(xml: bytes) -> int:
    """An upper bound of the cells calamine allocates for this sheet (rows x columns).

    The larger of the declared <dimension> and the extent the cells reach. calamine sizes
    its grid from the cells, so a cell far away (XFD1048576) in a tiny file would make it
    allocate terabytes; this is checked before calamine sees the sheet.
    """
    declared = 0
    match = _DIMENSION.search(xml)
    if match:
        col = column_number(match.group(3) or match.group(1) or b"")
        row = int(match.group(4) or match.group(2) or 0)
        declared = row * col
    tags = _TAG.findall(xml)
    digits = [digits for _, first, _, digits in tags if first]
    if len(digits) == len(tags) and not _PREFIXED_TAG.search(xml):
        # Every cell and row starts with r="..." (a match inside CDATA text can only make
        # the bound larger).
        max_row = max(map(int, digits), default=0)
        max_col = max(map(column_number, {letters for _, _, letters, _ in tags}), default=0)
    else:  # unusual XML: walk it exactly as calamine does
        max_row = max_col = 0
        for row, col, _ in _walk(xml, formulas=False):
            max_row, max_col = max(max_row, row + 1), max(max_col, col + 1)
    return max(declared, max_row * max_col)


def _walk(xml: bytes, formulas: bool):
    """(row, col, has_formula) of every cell, positioned as calamine positions them."""
    row = col = 0
    pending: list = []  # the open cell: [row, col, has_formula]
    for event, element in iterparse(io.BytesIO(xml), events=("start", "end")):
        kind = local(element.tag)
        if event == "start":
            if kind == "row":
                ref = element.get("r")
                row = parse_position("A" + ref)[0] if ref is not None else row + 1
                col = 0
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
            element.clear()


def formula_cells(xml: bytes) -> set[Cell]:
    """0-based (row, col) of every cell holding a formula (<f>), exactly."""
    if not _FORMULA.search(xml):
        return set()
    return {(row, col) for row, col, formula in _walk(xml, formulas=True) if formula}


@dataclass(frozen=True)
class CellValue:
    value: object  # as calamine gives it: "" for an empty cell
    formula: bool  # the cell holds a formula; `value` is its cached result
    merged_into: str  # "G3:G4" when a merged range covers the cell and starts elsewhere


@lru_cache(maxsize=4096)
def split(cell: str) -> Cell:
    return layout.split_cell(cell)


class _Loaded:
    __slots__ = ("formulas", "merges", "rows", "xml")

    def __init__(self, xml: bytes, rows: list[list], merges: list[tuple[Cell, Cell]]):
        self.xml = xml
        self.rows = rows
        self.merges = merges
        self.formulas: set[Cell] | None = None if _FORMULA.search(xml) else set()


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
            bound = grid_bound(xml)
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
        loaded = self._loaded[sheet.name] = _Loaded(xml, rows, merges)
        return loaded

    def rows(self, sheet: SheetInfo) -> list[list]:
        """Rows of the sheet from A1 (index [row][col], 0-based)."""
        return self._load(sheet).rows

    def cell(self, sheet: SheetInfo, ref: str, formulas: bool = True) -> CellValue:
        """A cell's value; `formulas=False` skips looking for a formula in it."""
        loaded = self._load(sheet)
        row, col = split(ref)
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
        merged = ""
        for (r0, c0), (r1, c1) in loaded.merges:
            if r0 <= row <= r1 and c0 <= col <= c1 and (row, col) != (r0, c0):
                merged = f"{layout.cell_ref(r0, c0)}:{layout.cell_ref(r1, c1)}"
                break
        formula = formulas and (row, col) in (loaded.formulas or ())
        return CellValue(value, formula, merged)


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
    """Case, runs of spaces (non-breaking too) and surrounding spaces don't count."""
    return _SPACES.sub(" ", text).strip().casefold()


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


def quote(value: object, limit: int = 60) -> str:
    text = text_of(value) if not isinstance(value, str) else value
    text = text.replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f'"{text}"'
