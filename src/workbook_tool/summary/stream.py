"""Long sheets of the summary workbook, streamed into the xlsx after xlsxwriter saved it.

xlsxwriter spends microseconds per cell and (outside constant_memory mode, which cannot
add tables) holds every cell in memory: at 10,000 returns the Data and Evidence sheets
alone are millions of cells. So xlsxwriter writes each long sheet's *frame* (column
widths and formats, the header row, panes, filters, conditional formats, the Excel table
and its range), and `StreamedRows` adds the data rows while the saved file is copied into
the output zip: rows are rendered straight to XML, a chunk at a time, as inline strings
(escaped as xlsxwriter escapes them, always as text, never as a formula or rich text).
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

XLSX_STRING_MAX = 32767  # UTF-16 units Excel keeps in a cell (an emoji takes two)
_SURELY_FITS = XLSX_STRING_MAX // 2  # no text this long or shorter can be over the limit
_CHUNK_ROWS = 2000
_ZIP64_ROWS = 1_000_000  # past this many rows a sheet may pass 4 GiB: zip64 entry
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
# Text that may need escaping (a character class scans fastest; "_" may start "_xHHHH_").
_SLOW_TEXT = re.compile(r"[&<>_\x00-\x08\x0b-\x1f\ufffe\uffff]")
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ROW = re.compile(rb'<row r="([0-9]+)"')
_DIMENSION = re.compile(rb'<dimension ref="([^"]*)"/>')


def clip_text(text: str) -> str:
    """`text` cut to the XLSX_STRING_MAX UTF-16 units Excel keeps, as Excel counts them.

    The cut never splits a character: an emoji (two units) that would straddle the limit
    is left out whole rather than leaving half of it, a lone surrogate, in the file.
    """
    if len(text) <= _SURELY_FITS:
        return text
    units = text.encode("utf-16-le")
    if len(units) <= 2 * XLSX_STRING_MAX:
        return text
    # errors="ignore" drops the high surrogate whose pair the cut left behind.
    return units[: 2 * XLSX_STRING_MAX].decode("utf-16-le", errors="ignore")


def escape_text(text: str) -> str:
    """Cell text as XML character data, with Excel's _xHHHH_ escapes for control characters."""
    text = clip_text(text)
    if not _NEEDS_ESCAPE.search(text):
        return text
    text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _string_cell(ref: str, style: str, text: str) -> str:
    text = clip_text(text)
    body = escape_text(text)
    preserve = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{preserve}>{body}</t></is></c>'


@dataclass
class _Sheet:
    worksheet: Worksheet
    first_row: int  # 0-based row of the first streamed row
    count: int  # how many rows `rows` yields
    columns: int
    rows: Callable[[], Iterable[list]]  # called once, at save time
    styles: list[Format | None]


EXCEL_ROWS = 1_048_576  # rows in a worksheet


def _first(rows: Callable[[], Iterable[list]], count: int) -> Callable[[], Iterable[list]]:
    return lambda: itertools.islice(rows(), count)


@dataclass
class StreamedRows:
    """The long sheets of one workbook and the rows each receives at save time."""

    sheets: list[_Sheet] = field(default_factory=list)
    tables: list[tuple[dict, str]] = field(default_factory=list)  # (xlsxwriter table, range)
    clipped: list[tuple[str, int, int]] = field(default_factory=list)  # (sheet, rows, kept)

    def add(self, worksheet: Worksheet, first_row: int, count: int, columns: int,
            rows: Callable[[], Iterable[list]], styles: list[Format | None] | None = None,
            ) -> int:
        """`count` rows (lists of str, int, float; "" or None leave a cell empty) from
        `first_row` (0-based), produced by calling `rows()` when the workbook is saved.

        `styles[col]` is the cell format of a column's cells (None: the column's format).
        A sheet holds at most EXCEL_ROWS rows: the rest is left out and recorded in
        `clipped` (the CSV and Parquet exports have every row). Returns the rows kept.
        """
        kept = min(count, EXCEL_ROWS - first_row)
        if kept < count:
            self.clipped.append((worksheet.name, count, kept))
            rows = _first(rows, kept)
            count = kept
        styles = list(styles or [None] * columns)
        for col, fmt in enumerate(styles):
            if fmt is None:  # as xlsxwriter does: an unformatted cell takes the column's
                info = worksheet.col_info.get(col)
                styles[col] = info.column_format if info else None
        for fmt in styles:
            if fmt is not None:
                fmt._get_xf_index()  # registers the format for styles.xml, as a write would
        self.sheets.append(_Sheet(worksheet, first_row, count, columns, rows, styles))
        return count

    def grow_table(self, worksheet: Worksheet, last_row: int) -> None:
        """Extend the worksheet's last table (added over one data row) down to `last_row`.

        xlsxwriter's add_table visits every cell of its range (seconds and hundreds of MB at
        hundreds of thousands of rows): the table is added small and its range grown here.
        """
        table = worksheet.tables[-1]
        first, last = table["range"].split(":")
        first_row, _ = xl_cell_to_rowcol(first)
        _, last_col = xl_cell_to_rowcol(last)
        grown = f"{first}:{xl_rowcol_to_cell(max(last_row, first_row + 1), last_col)}"
        self.tables.append((table, grown))

    def save(self, frame: bytes, target: Path, compresslevel: int = 1) -> None:
        """Copy the saved workbook `frame` into `target`, the long sheets' rows added.

        The long sheets are compressed at `compresslevel` (1: about three times faster than
        zipfile's default and a quarter larger, which pays at hundreds of MB of XML).
        """
        by_member = {f"xl/worksheets/sheet{s.worksheet.index + 1}.xml": s for s in self.sheets}
        tables = {f"xl/tables/table{t['id']}.xml": (t, grown) for t, grown in self.tables}
        with zipfile.ZipFile(io.BytesIO(frame)) as src, zipfile.ZipFile(
                target, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info)
                sheet = by_member.get(info.filename)
                member = zipfile.ZipInfo(info.filename, info.date_time)
                member.compress_type = zipfile.ZIP_DEFLATED
                if info.filename in tables:
                    table, grown = tables[info.filename]
                    old = f'ref="{table["range"]}"'.encode("ascii")
                    if data.count(old) != 2:  # the table's and its autofilter's
                        raise ValueError(f"unexpected table XML in {info.filename}")
                    data = data.replace(old, f'ref="{grown}"'.encode("ascii"))
                if sheet is None:
                    dst.writestr(member, data)
                    continue
                member._compresslevel = compresslevel  # (ZipFile's own is for names only)
                with dst.open(member, "w", force_zip64=sheet.count > _ZIP64_ROWS) as out:
                    _write_sheet(out, data, sheet)


def _write_sheet(out, frame: bytes, sheet: _Sheet) -> None:
    """The frame's XML with the rows inserted before </sheetData> and the dimension fixed."""
    end = frame.find(b"</sheetData>")
    if end < 0:  # no cell at all: <sheetData/>
        empty = frame.index(b"<sheetData/>")
        frame = frame[:empty] + b"<sheetData></sheetData>" + frame[empty + 12:]
        end = empty + len(b"<sheetData>")
    # The streamed rows go before the frame's first row below them (a note under a table).
    for match in _ROW.finditer(frame, 0, end):
        number = int(match.group(1))
        if number > sheet.first_row + sheet.count:
            end = match.start()
            break
        if number > sheet.first_row:
            raise ValueError(f"{sheet.worksheet.name}: row {number} is written twice")
    head, tail = frame[:end], frame[end:]
    out.write(_DIMENSION.sub(lambda m: _dimension(m.group(1), sheet), head, count=1))
    # Per column: '<c r="A' + row number + the rest of the opening, for text and numbers.
    opens = [f'<c r="{xl_col_to_name(c)}' for c in range(sheet.columns)]
    styles = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in sheet.styles]
    text_open = [f'"{style} t="inlineStr"><is><t>' for style in styles]
    number_open = [f'"{style}><v>' for style in styles]
    r = sheet.first_row  # 1-based number of the previous row
    chunk: list[str] = []
    slow = _SLOW_TEXT.search
    for values in sheet.rows():
        r += 1
        rs = str(r)
        cells = [f'<row r="{rs}">']
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if value.__class__ is str:
                if (slow(value) or value[0].isspace() or value[-1].isspace()
                        or len(value) > _SURELY_FITS):
                    cells.append(_string_cell(f"{opens[col][6:]}{rs}", styles[col], value))
                else:
                    cells.append(f"{opens[col]}{rs}{text_open[col]}{value}</t></is></c>")
            else:
                cells.append(f"{opens[col]}{rs}{number_open[col]}{value:.16g}</v></c>")
        if len(cells) > 1:
            cells.append("</row>")
            chunk.append("".join(cells))
        if len(chunk) >= _CHUNK_ROWS:
            out.write("".join(chunk).encode("utf-8"))
            chunk = []
    out.write("".join(chunk).encode("utf-8"))
    if r != sheet.first_row + sheet.count:
        raise ValueError(f"{sheet.worksheet.name}: {r - sheet.first_row} rows, "
                         f"{sheet.count} announced")
    out.write(tail)


def _dimension(ref: bytes, sheet: _Sheet) -> bytes:
    """The frame's used range grown to the streamed rows and columns."""
    first, _, last = ref.decode("ascii").partition(":")
    last_row, last_col = xl_cell_to_rowcol(last or first)
    if sheet.count:
        last_row = max(last_row, sheet.first_row + sheet.count - 1)
        last_col = max(last_col, sheet.columns - 1)
    end = xl_rowcol_to_cell(last_row, last_col)
    return f'<dimension ref="{first}:{end}"/>'.encode("ascii") if end != first else (
        f'<dimension ref="{first}"/>'.encode("ascii"))
