"""Mutation run 8: reader/values.py survivors (quote, _visible, the walk, error cells,
the 1904 date system, a workbook calamine cannot open, a missing sheet part)."""

from __future__ import annotations

import io

import openpyxl
import pytest

from returns_kit import edit_member, members
from workbook_tool.reader import values
from workbook_tool.reader.locate import SheetInfo
from workbook_tool.reader.preflight import Limits, Package, Rejected

# -- quote and _visible ----------------------------------------------------------------------


def test_quote_of_values_that_are_not_text():
    assert values.quote(3.0) == '"3"'  # as typed, not "3.0"
    assert values.quote(True) == '"TRUE"'
    assert values.quote(42) == '"42"'
    assert values.quote("3.0") == '"3.0"'


def test_quote_cuts_past_the_limit_with_an_ellipsis():
    assert values.quote("x" * 60) == '"' + "x" * 60 + '"'  # at the default limit: whole
    assert values.quote("x" * 61) == '"' + "x" * 59 + '…"'
    assert values.quote("x" * 70) == '"' + "x" * 59 + '…"'
    assert values.quote("abcdef", limit=5) == '"abcd…"'
    assert values.quote("abcde", limit=5) == '"abcde"'


def test_quote_never_cuts_a_spelled_out_character_in_half():
    # "a" * 57 then <U+200B>: the cut at 59 would leave "<U"
    assert values.quote("a" * 57 + "\u200b") == '"' + "a" * 57 + '…"'
    assert values.quote("a" * 56 + "\u200b") == '"' + "a" * 56 + '…"'  # "<U+"


def test_quote_reads_line_breaks_as_one_space():
    assert values.quote("a\r\nb") == '"a b"'
    assert values.quote("a\nb") == '"a b"'
    assert values.quote("a\rb") == '"a b"'


def test_quote_spells_out_control_and_space_characters():
    assert values.quote("a\u0085b") == '"a<U+0085>b"'  # next line: a control character
    assert values.quote("a\u00a0b") == '"a<U+00A0>b"'  # no-break space: looks like a space
    assert values.quote("a\u2003b") == '"a<U+2003>b"'  # em space
    assert values.quote("é b") == '"é b"'  # an ordinary space stays


# -- the exact walk of unusual XML -------------------------------------------------------------


def test_grid_bound_of_walked_xml_without_cells_is_zero():
    assert values.grid_bound(b"<sheetData><row/></sheetData>") == 0
    assert values.grid_bound(b"<sheetData><row/><row><c/></row></sheetData>") == 2 * 1


# Sheets with cells outside any <row>, and the grid python-calamine reads from each
# (seen with python-calamine: rows x columns it allocates).
OUTSIDE_ROWS = [
    ("<c><v>1</v></c><c><v>2</v></c><c><v>3</v></c>", 1 * 3),  # [[1, 2, 3]]
    ("<c><v>1</v></c><row><c><v>2</v></c></row>", 1 * 2),  # [[1, 2]]
    ('<c><v>1</v></c><row r="3"><c><v>2</v></c></row>', 3 * 2),  # [[1, ''], ['', ''], ['', 2]]
    ("<row><c><v>2</v></c></row><c><v>1</v></c>", 2 * 1),  # [[2], [1]]
    ('<row r="2"><c><v>2</v></c></row><c><v>1</v></c><c><v>5</v></c>', 3 * 2),
    ("<c><v>1</v></c><c><v>1</v></c><c><v>1</v></c><row><c><v>2</v></c></row>"
     "<row><c><v>3</v></c></row>", 2 * 4),  # [[1, 1, 1, 2], [3, '', '', '']]
]


@pytest.mark.parametrize(("cells", "grid"), OUTSIDE_ROWS)
def test_cells_outside_any_row_are_placed_as_calamine_places_them(cells, grid):
    assert values.grid_bound(f"<sheetData>{cells}</sheetData>".encode()) == grid


def test_a_formula_outside_any_row_is_found_where_calamine_reads_it():
    # calamine reads [[1, 2]]: the cell before the row is A1, the row's cell B1
    xml = (b"<sheetData><c><v>1</v></c><row><c><f>1+1</f><v>2</v></c></row>"
           b"<row><c><f>2+2</f><v>4</v></c></row></sheetData>")
    assert values.formula_cells(xml) == {(0, 1), (1, 0)}


# -- error values written with single quotes ---------------------------------------------------


def test_an_error_cell_written_with_single_quotes_is_found():
    xml = b"<sheetData><row r='1'><c r='A1' t='e'><v>#N/A</v></c></row></sheetData>"
    assert values._Loaded(xml, [], []).has_errors() is True
    plain = b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>'
    assert values._Loaded(plain, [], []).has_errors() is False


def test_an_unreadable_format_id_is_format_0_of_the_file():
    styles = (b'<styleSheet><numFmts><numFmt numFmtId="0" formatCode="0.0"/></numFmts>'
              b'<cellXfs><xf numFmtId="abc"/><xf numFmtId="0"/><xf numFmtId="10"/></cellXfs>'
              b'</styleSheet>')
    package = Package(data=b"", names=["xl/styles.xml"], xml={"xl/styles.xml": styles})
    assert values._style_formats(package) == ["0.0", "0.0", "0.00%"]


# -- the 1904 date system ------------------------------------------------------------------------

DATE_STYLES = (b'<styleSheet><numFmts><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
               b'</numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs>'
               b'</styleSheet>')
DATE_XML = b'<sheetData><row r="1"><c r="A1" s="1"><v>1</v></c></row></sheetData>'


def _sheets(**parts: bytes) -> values.Sheets:
    sheets = values.Sheets.__new__(values.Sheets)  # _shown reads only the parts given here
    sheets.package = Package(data=b"", names=list(parts), xml=dict(parts))
    sheets._formats = None
    return sheets


def test_dates_of_a_1904_workbook():
    workbook = b'<workbook><workbookPr date1904="1"/></workbook>'
    sheets = _sheets(**{"xl/styles.xml": DATE_STYLES, "xl/workbook.xml": workbook})
    loaded = values._Loaded(DATE_XML, [], [])
    assert sheets._shown(loaded, 0, 0, 1.0) == "1904-01-02"
    sheets = _sheets(**{"xl/styles.xml": DATE_STYLES,
                        "xl/workbook.xml": b"<workbook><workbookPr/></workbook>"})
    assert sheets._shown(loaded, 0, 0, 1.0) == "1900-01-01"


# -- Sheets: a workbook calamine cannot open, a missing part, closing twice --------------------


def _xlsx() -> bytes:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


def test_a_workbook_calamine_cannot_open_is_unreadable():
    with pytest.raises(Rejected) as caught:
        values.Sheets(Package(data=b"not a zip", names=[], xml={}), None, Limits())
    assert (caught.value.code, caught.value.message) == (
        "unreadable", "the workbook could not be opened (Cannot detect file format)")
    assert str(caught.value) == "the workbook could not be opened (Cannot detect file format)"


@pytest.mark.parametrize("path", ["", "xl/worksheets/sheet9.xml"])
def test_a_sheet_whose_part_is_missing_is_unreadable(path):
    sheets = values.Sheets(Package(data=_xlsx(), names=[], xml={}), None, Limits())
    with pytest.raises(Rejected) as caught:
        sheets.rows(SheetInfo("Ratings", "visible", path))
    assert (caught.value.code, caught.value.message, caught.value.sheet) == (
        "unreadable", "the part of sheet 'Ratings' is missing", "Ratings")
    sheets.close()


def test_closing_sheets_twice_is_harmless():
    sheets = values.Sheets(Package(data=_xlsx(), names=[], xml={}), None, Limits())
    sheets.close()
    sheets.close()


# -- Sheets._load: too large, damaged, not readable by calamine, read from A1 -----------------

SHEET = "xl/worksheets/sheet1.xml"


def _book(fill, sheet_edit=None) -> tuple[bytes, dict[str, bytes]]:
    """A workbook made by openpyxl with one sheet, "Ratings" (`fill` fills it), its sheet
    part then edited by `sheet_edit`; and its XML parts by name."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Ratings"
    fill(ws)
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue() if sheet_edit is None else edit_member(out.getvalue(), SHEET,
                                                                  sheet_edit)
    return data, {name: part for name, part in members(data).items() if name.endswith(".xml")}


def _ratings_book() -> tuple[bytes, dict[str, bytes]]:
    def fill(ws):
        ws["B3"] = "hello"
        ws["C3"] = 0.5
        ws["C3"].number_format = "0.0%"
        ws["AB1000"] = 7  # the grid: 1,000 rows x 28 columns

    return _book(fill)


def _load(name: str, max_cells: int = 2_000_000, parts: dict[str, bytes] | None = None):
    data, book_parts = _ratings_book()
    parts = book_parts if parts is None else parts
    sheets = values.Sheets(Package(data=data, names=list(parts), xml=parts), None,
                           Limits(max_cells=max_cells))
    try:
        return sheets.rows(SheetInfo(name, "visible", SHEET))
    finally:
        sheets.close()


def _rejected(*args, **kwargs) -> tuple[str, str, str]:
    with pytest.raises(Rejected) as caught:
        _load(*args, **kwargs)
    return caught.value.code, caught.value.message, caught.value.sheet


def test_a_sheet_at_the_cell_limit_is_read_and_past_it_rejected():
    rows = _load("Ratings", max_cells=28_000)
    assert len(rows) == 1000 and rows[2][1] == "hello"  # from A1, B3 in its place
    assert _rejected("Ratings", max_cells=27_999) == (
        "too-large", "the sheet 'Ratings' spans 28,000 cells, over the limit of 27,999",
        "Ratings")


def test_a_sheet_calamine_does_not_know_is_unreadable():
    assert _rejected("Gone") == (
        "unreadable", "the sheet 'Gone' could not be read (Gone)", "Gone")


def test_a_sheet_whose_xml_is_broken_is_damaged():
    broken = {SHEET: b"<worksheet><sheetData><row><c><v>1</v></row></sheetData></worksheet>"}
    assert _rejected("Ratings", parts=broken) == (
        "unreadable", "the sheet 'Ratings' is damaged (mismatched tag: line 1, column 40)",
        "Ratings")


def test_cells_past_the_read_grid_are_empty():
    data, parts = _ratings_book()
    sheets = values.Sheets(Package(data=data, names=list(parts), xml=parts), None, Limits())
    info = SheetInfo("Ratings", "visible", SHEET)
    assert sheets.cell(info, "B3") == ("hello", False, "", None)
    assert sheets.cell(info, "C3") == ("50.0%", False, "", 0.5)  # as shown; as stored
    for ref in ("AC1", "AC3", "A1001", "AD2000"):  # the grid is A1:AB1000
        assert sheets.cell(info, ref) == ("", False, "", None), ref
    sheets.close()


def _entity_book() -> tuple[bytes, dict[str, bytes]]:
    """A sheet calamine reads whose formulas only the (defused) XML parser can place: it
    declares an entity, and a CDATA section stops the byte scan."""
    def fill(ws):
        ws["A1"] = "=1+1"
        ws["B1"] = "x"

    def declare(part: bytes) -> bytes:
        return part.replace(b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY e "x">]>'
                            b"<worksheet", 1).replace(
            b"</sheetData>", b'<row r="2"><c r="A2" t="inlineStr"><is><t><![CDATA[y]]>'
            b"</t></is></c></row></sheetData>")

    data, parts = _book(fill, declare)
    return data, {SHEET: parts[SHEET]}


def test_formulas_are_looked_for_only_when_asked():
    data, parts = _entity_book()
    info = SheetInfo("Ratings", "visible", SHEET)
    sheets = values.Sheets(Package(data=data, names=list(parts), xml=parts), None, Limits())
    assert sheets.cell(info, "B1", formulas=False) == ("x", False, "", None)
    assert sheets.cell(info, "A2", formulas=False) == ("y", False, "", None)
    with pytest.raises(Rejected) as caught:
        sheets.cell(info, "B1")
    assert (caught.value.code, caught.value.message, caught.value.sheet) == (
        "unreadable", "the sheet 'Ratings' is damaged (EntitiesForbidden(name='e', "
        "system_id=None, public_id=None))", "Ratings")
    sheets.close()


def test_fold_ignores_what_shows_nothing_and_runs_of_spaces():
    assert values.fold("Ad\u200bvan cing") == "advan cing"
    assert values.fold("  Advancing   Well ") == "advancing well"
    assert values.fold("A\u00a0\u00a0B") == "a b"


def test_a_number_cell_without_a_reference_reads_as_calamine_read_it():
    def no_reference(part: bytes) -> bytes:
        start, end = part.index(b"<sheetData"), part.index(b"</worksheet>")
        return part[:start] + b"<sheetData><row><c><v>5</v></c></row></sheetData>" + part[end:]

    data, parts = _book(lambda ws: None, no_reference)
    parts = {SHEET: parts[SHEET]}
    sheets = values.Sheets(Package(data=data, names=[SHEET], xml=parts), None,
                           Limits())
    assert sheets.cell(SheetInfo("Ratings", "visible", SHEET), "A1") == ("5", False, "", 5.0)
    sheets.close()


def test_rating_of_an_empty_cell_and_of_a_boolean(small_rubric):
    empty = values.Rating(None, "", "empty")
    assert values.rating_of(None, small_rubric) == empty
    assert values.rating_of(" \u200b ", small_rubric) == empty
    assert values.rating_of(True, small_rubric) == values.Rating(None, "", "invalid")
    assert values.rating_of(False, small_rubric) == values.Rating(None, "", "invalid")


def test_rating_of_a_number(small_rubric):
    growing = values.Rating(2, "Growing", "normalized")
    assert values.rating_of(2, small_rubric) == growing
    assert values.rating_of(2.0, small_rubric) == growing
    assert values.rating_of(3, small_rubric) == values.Rating(3, "Strong Practice", "normalized")
    invalid = values.Rating(None, "", "invalid")
    assert values.rating_of(2.5, small_rubric) == invalid
    assert values.rating_of(9, small_rubric) == invalid
    assert values.rating_of(0.0, small_rubric) == invalid


def test_rating_of_text(small_rubric):
    assert values.rating_of("Growing", small_rubric) == values.Rating(2, "Growing", "exact")
    normalized = values.Rating(3, "Strong Practice", "normalized")
    for typed in (" strong  practice ", "STRONG\u00a0PRACTICE", "3", "level 3",
                  "3 - Strong Practice", "3: strong practice", "3.0", "Level3",
                  "3) Strong Practice"):
        assert values.rating_of(typed, small_rubric) == normalized, typed
    invalid = values.Rating(None, "", "invalid")
    for typed in ("4", "3 - Growing", "Strong", "level", "0", "Stron\u200eg Practice"):
        assert values.rating_of(typed, small_rubric) == invalid, typed
    assert values.rating_of(object(), small_rubric) == invalid


def test_priority_of():
    assert values.priority_of(" high ") == ("High", True)
    assert values.priority_of("MEDIUM") == ("Medium", True)
    assert values.priority_of("low") == ("Low", True)
    assert values.priority_of("") == ("", True)
    assert values.priority_of(None) == ("", True)
    assert values.priority_of(" urgent ") == (" urgent ", False)
    assert values.priority_of(2.0) == ("2", False)
