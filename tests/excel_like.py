"""Edit generated workbooks with openpyxl the way a site team's spreadsheet program would.

Excel keeps defined names pointing at the same cells when rows are inserted or a sheet is
renamed; openpyxl does not, so these helpers do what Excel does.
"""

from __future__ import annotations

import io
import re

import openpyxl

from workbook_tool import layout


def open_book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def target(book, name: str):
    sheet, cell = layout.parse_ref(book.defined_names[name].attr_text)
    return book[sheet][cell]


def fill(data: bytes, values: dict[str, object]) -> bytes:
    """Set cells by defined name, e.g. {"rating_1_1": "Advancing"}; strings stay strings."""
    book = open_book(data)
    for name, value in values.items():
        cell = target(book, name)
        cell.value = value
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # typed text, as a user's cell with a leading apostrophe
    return save(book)


def insert_rows(book, sheet_name: str, before_row: int, count: int) -> None:
    """Insert rows above `before_row` (1-based) and move names below, as Excel does."""
    sheet = book[sheet_name]
    sheet.insert_rows(before_row, count)
    # openpyxl moves cell values only; Excel also moves merged ranges and validations.
    for merged in list(sheet.merged_cells.ranges):
        if merged.min_row >= before_row:
            merged.shift(row_shift=count)
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            if cell_range.min_row >= before_row:
                cell_range.shift(row_shift=count)
    for defined in list(book.defined_names.values()):
        ref = layout.parse_ref(defined.attr_text)
        if not ref or ref[0] != sheet_name:
            continue
        col, row = re.fullmatch(r"([A-Z]+)([0-9]+)", ref[1]).groups()
        if int(row) >= before_row:
            moved = f"{layout.quote_sheet(sheet_name)}!${col}${int(row) + count}"
            defined.attr_text = moved


def rename_sheet(book, old: str, new: str) -> None:
    book[old].title = new
    for defined in book.defined_names.values():
        ref = layout.parse_ref(defined.attr_text)
        if ref and ref[0] == old:
            col, row = re.fullmatch(r"([A-Z]+)([0-9]+)", ref[1]).groups()
            defined.attr_text = f"{layout.quote_sheet(new)}!${col}${row}"
