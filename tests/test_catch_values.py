"""Values as people typed them, and Excel's 32,767-unit cut in the summary."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from returns_kit import (
    SCHOOL,
    answer,
    consolidate_cli,
    csv_rows,
    make_return,
    members,
    read,
    set_named_value,
    small_rubric,
)
from workbook_tool.reader import values
from workbook_tool.reader.preflight import Package
from workbook_tool.reader.values import text_of
from workbook_tool.summary.stream import XLSX_STRING_MAX, clip_text, escape_text


def test_text_of_literals():
    assert text_of(None) == ""
    assert text_of("") == ""
    assert text_of(" as typed ") == " as typed "
    assert text_of(True) == "TRUE"
    assert text_of(False) == "FALSE"
    assert text_of(0) == "0"
    assert text_of(42) == "42"
    assert text_of(-7) == "-7"
    assert text_of(1.0) == "1"
    assert text_of(-3.0) == "-3"
    assert text_of(0.0) == "0"
    assert text_of(2.5) == "2.5"
    assert text_of(0.1) == "0.1"
    assert text_of(123456789012345.0) == "123456789012345"
    assert text_of(dt.datetime(2025, 3, 1)) == "2025-03-01"
    assert text_of(dt.datetime(2025, 3, 1, 9, 30)) == "2025-03-01T09:30:00"
    assert text_of(dt.date(2024, 12, 31)) == "2024-12-31"
    assert text_of(dt.time(8, 5)) == "08:05:00"


def _read_evidence(value) -> str:
    data = set_named_value(make_return(answers={}), "evidence_1_1", value)
    result = read(data, small_rubric())
    (found,) = [a for a in result.answers if a.indicator_id == "1.1"]
    return found.evidence


def test_numbers_in_an_evidence_cell_read_as_typed():
    assert _read_evidence(42) == "42"
    assert _read_evidence(2.5) == "2.5"
    assert _read_evidence(1.0) == "1"
    assert _read_evidence(-12) == "-12"


CUT = 32767
ROSTER = "school_id,school_name\nS1,Alpha School\n"


def test_long_texts_are_cut_to_excels_limit_in_utf16_units(tmp_path):
    emoji = "😀" * 17000  # 34,000 UTF-16 units: over the limit though only 17,000 characters
    fits = "a" + "😀" * 16383  # exactly 32,767 units
    answers = {"1.1": answer("1.1", 1, emoji, fits), "1.2": answer("1.2", 2, "x" * CUT, ""),
               "1.3": answer("1.3", 3, "short", ""), "2.1": answer("2.1", 1, "", ""),
               "2.2": answer("2.2", 2, "", "")}
    data = make_return(answers=answers)
    data = set_named_value(data, "evidence_2_1", "y" * 40000)
    data = set_named_value(data, "evidence_2_2", "z" * (CUT + 1))
    result, out = consolidate_cli(tmp_path, {"S1.xlsx": data}, ROSTER)
    assert result.exit_code in (0, 1), result.output

    ratings = {r["indicator_id"]: r for r in csv_rows(out / "ratings.csv")}
    assert ratings["1.2"]["evidence"] == "x" * CUT  # at the limit: whole
    assert ratings["1.1"]["next_steps"] == fits

    book = openpyxl.load_workbook(out / "district_summary.xlsx")
    rows = {r[2]: r for r in book["Evidence"].iter_rows(min_row=3, values_only=True)}
    assert rows["1.1"][5] == "😀" * 16383  # 32,766 units: the next emoji would split
    assert rows["1.1"][6] == fits
    assert rows["1.2"][5] == "x" * CUT
    assert rows["1.3"][5] == "short"
    assert rows["2.1"][5] == "y" * CUT
    assert rows["2.2"][5] == "z" * CUT
    data_rows = {r[5]: r for r in book["Data"].iter_rows(min_row=2, values_only=True)}
    assert data_rows["2.1"][9] == "y" * CUT
    assert data_rows["1.1"][9] == "😀" * 16383


def test_clip_text_counts_utf16_units_and_never_splits_a_character():
    assert XLSX_STRING_MAX == 32767
    assert clip_text("x" * 32767) == "x" * 32767
    assert clip_text("x" * 32768) == "x" * 32767
    assert clip_text("x" * 100000) == "x" * 32767
    assert clip_text("😀" * 16383) == "😀" * 16383  # 32,766 units
    assert clip_text("😀" * 16384) == "😀" * 16383  # 32,768 units: the last one goes whole
    assert clip_text("a" + "😀" * 16383) == "a" + "😀" * 16383  # exactly 32,767 units
    assert clip_text("ab" + "😀" * 16383) == "ab" + "😀" * 16382
    assert clip_text("é" * 32768) == "é" * 32767  # one unit each
    assert clip_text("😀" * 8192 + "x" * 16384) == "😀" * 8192 + "x" * 16383
    assert clip_text("") == ""


def test_escape_text_cuts_before_escaping():
    assert escape_text("&" * 32768) == "&amp;" * 32767
    assert escape_text("a<b>&\x01") == "a&lt;b&gt;&amp;_x0001_"
    assert escape_text("_x0041_") == "_x005F_x0041_"
    assert escape_text("a\ufffeb\uffffc") == "a_xFFFE_b_xFFFF_c"  # not characters in XML


# -- cells found by walking the sheet's XML, as calamine positions them --------------------

# Rows and cells with and without r=: a cell without r= follows the one before it, a row
# without r= the row before it.
WALKED = (b'<worksheet><sheetData>'
          b'<row r="3"><c r="B3"><f>1</f></c><c><f>2</f></c><c r="E3"><v>1</v></c>'
          b'<c><f>3</f></c></row>'
          b'<row><c><f>4</f></c><c><v>2</v></c></row>'
          b'<row r="7"><c><v>3</v></c><c><f>5</f><v>5</v></c></row>'
          b'</sheetData></worksheet>')


def test_formula_cells_follow_cells_and_rows_without_a_reference():
    assert values.formula_cells(WALKED) == {(2, 1), (2, 2), (2, 5), (3, 0), (6, 1)}


def test_formula_cells_of_a_row_of_empty_formula_cells():
    xml = b'<sheetData><row r="1"><c r="A1"><f>1</f></c><c r="B1"><f>2</f></c></row></sheetData>'
    assert values.formula_cells(xml) == {(0, 0), (0, 1)}


# Every cell with its r=: scanned without the parser. Self-closing cells, a shared formula
# (<f .../> with no text), an inline string holding "<f" as text, a formula in the last
# cell of a row and of the sheet, lower-case column letters, and an extLst after the data.
SCANNED = (b'<worksheet><sheetData>'
           b'<row r="1" spans="1:4"><c r="A1" s="1"/><c r="B1" t="s"><v>0</v></c>'
           b'<c r="C1"><f t="shared" ref="C1:C2" si="0">A1</f><v>1</v></c>'
           b'<c r="D1"><f>1</f></c></row>'
           b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lt;f&gt;x</t></is></c>'
           b'<c r="c2"><f t="shared" si="0"/><v>2</v></c><c r="D2"/></row>'
           b'<row r="4"><c r="B4"><v>3</v></c><c r="AB4"><f>B4</f><v>3</v></c></row>'
           b'</sheetData><extLst><ext><f>not a cell</f></ext></extLst></worksheet>')


def test_scanned_formula_cells_are_the_walked_ones():
    assert values._plain_cells(SCANNED)
    expected = {(0, 2), (0, 3), (1, 2), (3, 27)}
    assert values.formula_cells(SCANNED) == expected
    walked = {(r, c) for r, c, f in values._walk(SCANNED, formulas=True) if f}
    assert walked == expected


@pytest.mark.parametrize("xml", [
    WALKED,  # cells without r=
    b'<sheetData><row r="1"><x:c r="A1"><x:f>1</x:f></x:c></row></sheetData>',  # prefixed
    b'<sheetData><row r="1"><c r="A1"><is><t><![CDATA[<c r="B1"><f>]]></t></is></c>'
    b'</row></sheetData>',  # CDATA could hide markup
    b'<sheetData><row r="1"><c s="1" r="A1"><f>1</f></c></row></sheetData>',  # r= not first
    b'<sheetData><row r="1"><c r="$A$1"><f>1</f></c></row></sheetData>',  # not letters+digits
    b'<sheetData><row r="1"><c  r="A1"><f>1</f></c></row></sheetData>',  # two spaces
    b'<sheetData><row r="1"><c\tr="A1"><f>1</f></c></row></sheetData>',  # a tab
    b'<sheetData><row><c r="A1"><f>1</f></c></row></sheetData>',  # a row without r=
    b'<sheetData><row r="1"><c r="A1"><f>1</f></c><c/></row></sheetData>',  # an empty <c/>
])
def test_unusual_xml_is_walked_by_the_parser(xml):
    assert not values._plain_cells(xml)


def test_a_generated_team_sheet_scans_as_it_walks(small_rubric):
    from workbook_tool.writer import Issue, build_workbook

    data = build_workbook(small_rubric, SCHOOL, Issue("2026-27", raters=3))
    xml = members(data)["xl/worksheets/sheet4.xml"]
    assert b"<f>" in xml and values._plain_cells(xml)
    walked = {(r, c) for r, c, f in values._walk(xml, formulas=True) if f}
    assert values._scanned_formula_cells(xml) == walked
    assert (6, 5) in walked  # F7: rater 1.1's median


@pytest.mark.parametrize("xml", [
    # a formula after the value (not the schema's order): only the walk places it
    b'<sheetData><row r="1"><c r="A1"><v>1</v><f>1</f></c><c r="B1"><f>2</f></c></row>'
    b'</sheetData>',
    # a formula tag outside any cell
    b'<worksheet><sheetData><row r="1"><c r="A1"/><c r="B1"><f>2</f></c></row></sheetData>'
    b'<extLst><f>x</f></extLst></worksheet>',
])
def test_a_formula_the_scan_cannot_place_is_walked(xml):
    assert values._plain_cells(xml) and values._scanned_formula_cells(xml) is None
    walked = {(r, c) for r, c, f in values._walk(xml, formulas=True) if f}
    assert values.formula_cells(xml) == walked


@pytest.mark.parametrize(("cells", "expected", "one_pass", "bound"), [
    # a space before <f>: the one pass leaves it to the regular expression
    (b'<c r="A1"> <f>1</f></c><c r="B1"><f>2</f></c>', {(0, 0), (0, 1)}, False, 1 * 2),
    (b'<c r="A1"><x:f>1</x:f></c>', {(0, 0)}, False, 1),  # a prefixed formula, plain cell
    (b'<c r="A1" t="inlineStr"><is><t>mailto:f x</t></is></c><c r="C1"><f>1</f></c>',
     {(0, 2)}, False, 1 * 3),  # text holding ":f": not known to be no formula
    (b'<c r="A1"/><f>1</f><c r="B1"><f>2</f></c>', {(0, 1)}, False, 1 * 2),  # <f> after <c/>
    (b'<c r="A1"/><c r="B1" s="1"><f>1</f></c></row></sheetData><dataValidations count="1">'
     b'<dataValidation sqref="A1"><formula1>$Z$1:$Z$4</formula1></dataValidation>'
     b'</dataValidations><sheetData><row r="2">', {(0, 1)}, True, 1 * 2),
    (b'<c r="A1" s="1"/><c r="BA1"><v>1</v></c>', set(), True, 1 * 53),
])
def test_formula_cells_however_the_formula_tag_is_written(cells, expected, one_pass, bound):
    xml = b'<worksheet><sheetData><row r="1">' + cells + b"</row></sheetData></worksheet>"
    assert values.formula_cells(xml) == expected
    assert values.grid_bound(xml) == bound
    assert values.scan(xml) == (bound, expected if one_pass else None)


def test_one_pass_scan_of_a_sheet():
    formulas = {(0, 2), (0, 3), (1, 2), (3, 27)}
    assert values.scan(SCANNED) == (4 * 28, None)  # an <f> outside any cell: not one pass
    in_cells = SCANNED.replace(b"<extLst><ext><f>not a cell</f></ext></extLst>", b"")
    assert values.scan(in_cells) == (4 * 28, formulas)
    assert values.scan(WALKED) == (7 * 6, None)  # cells without r=: walked
    cdata = (b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x]]></t></is>'
             b'</c><c r="B3"><f>1</f></c></row></sheetData>')
    assert values.scan(cdata) == (3 * 2, None)
    zero = b'<sheetData><row r="1"><c r="A0"><f>1</f></c><c r="C2"/></row></sheetData>'
    assert values.scan(zero) == (2 * 3, None)  # row 0 is no row: the walk decides


def test_grid_bound_walks_cells_without_a_reference():
    assert values.grid_bound(WALKED) == 7 * 6  # up to row 7, column F


def test_grid_bound_of_plain_xml_counts_cells_not_rows():
    assert values.grid_bound(SCANNED) == 4 * 28  # row 4, column AB
    xml = (b'<sheetData><row r="9"><c r="b2"/><c r="A12"/></row><row r="900"/>'
           b'<row r="3"><c r="AA3"/><c r="C10"/></row></sheetData>')
    assert values.grid_bound(xml) == 12 * 27  # row 12 (A12), column AA; rows 9, 900 hold none
    assert values.grid_bound(b'<sheetData><row r="5"/></sheetData>') == 0


def test_merged_into_names_the_range_covering_a_cell_it_does_not_start():
    merges = [((3, 6), (5, 6)), ((10, 1), (10, 3))]  # G4:G6, B11:D11
    loaded = values._Loaded(b"<sheetData/>", [], merges)
    assert [loaded.merged_into(row, 6) for row in (2, 3, 4, 5, 6)] == [
        "", "", "G4:G6", "G4:G6", ""]
    assert [loaded.merged_into(10, col) for col in (0, 1, 2, 3, 4)] == [
        "", "", "B11:D11", "B11:D11", ""]
    assert loaded.merged_into(4, 5) == "" and loaded.merged_into(4, 7) == ""


def test_merges_spanning_many_rows_are_scanned_rather_than_indexed():
    tall = [((0, 0), (99_999, 0)), ((4, 2), (4, 3))]  # A1:A100000 and C5:D5: 100,001 rows
    assert values._merges_by_row(tall) is values._TOO_MANY
    loaded = values._Loaded(b"<sheetData/>", [], tall)
    assert loaded.merged_into(99_999, 0) == "A1:A100000"
    assert loaded.merged_into(100_000, 0) == ""
    assert loaded.merged_into(4, 3) == "C5:D5"
    assert loaded.merged_into(0, 0) == ""  # the first cell holds the value
    assert values._merges_by_row(tall[:1]) == {}.fromkeys(range(100_000), tall[:1])


# -- text of messages and error values -----------------------------------------------------

def test_quote_spells_out_what_shows_nothing():
    assert values.quote("X\u200b") == '"X<U+200B>"'
    assert values.quote("a\tb") == '"a b"'
    assert values.quote("x\u200b", known="abc") == '"x<U+200B>"'  # ASCII is never spelled
    assert values.quote("é\u200b") == '"é<U+200B>"'
    assert values.quote("a\u3164b") == '"a<U+3164>b"'  # a Hangul filler looks blank


def test_why_is_the_first_line_of_the_error():
    assert values._why(ValueError("bad thing\nsecond")) == "bad thing"
    assert values._why(ValueError("  ")) == "ValueError"
    assert values._why(ValueError("x" * 200)) == "x" * 160


def test_xml_text_of_an_error_value():
    assert values._xml_text(None) == ""
    assert values._xml_text(b" #N/A ") == "#N/A"
    assert values._xml_text(b"\xff#N/A") == "\ufffd#N/A"
    assert values._xml_text(b"&lt;&gt;&quot;&apos;&amp;lt;") == "<>\"'&lt;"


def test_error_is_read_only_from_a_cell_of_type_e():
    loaded = values._Loaded(b'<sheetData><row r="1"><c r="A1" t="str"><v>x</v></c>'
                            b'<c r="B1" t="e"><v>#N/A</v></c><c r="C1" t="e"/></row></sheetData>',
                            [], [])
    sheets = values.Sheets.__new__(values.Sheets)  # _error reads only the sheet's XML
    assert sheets._error(loaded, 0, 0) == ""
    error = sheets._error(loaded, 0, 1)
    assert (error, type(error)) == ("#N/A", values.ErrorValue)
    assert sheets._error(loaded, 0, 2) == ""  # an error value that shows nothing
    assert sheets._error(loaded, 0, 3) == ""  # no such cell


# -- number formats of the styles part, and non-text cells shown with them ---------------

RELS = ('<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="{}"/></Relationships>')
STYLES = (b'<styleSheet><numFmts><numFmt numFmtId="x" formatCode="0.0"/>'
          b'<numFmt formatCode="0.000"/><numFmt numFmtId="164"/>'
          b'<numFmt numFmtId="165" formatCode="0.0"/></numFmts>'
          b'<cellXfs><xf numFmtId="0"/><xf numFmtId="10"/><xf/><xf numFmtId="abc"/>'
          b'<xf numFmtId="164"/><xf numFmtId="165"/></cellXfs></styleSheet>')


def _package(**parts: bytes) -> Package:
    return Package(data=b"", names=list(parts), xml=dict(parts))


def _styles_at(target: str) -> str:
    rels = RELS.format(target).encode()
    return values._styles_part(_package(**{"xl/_rels/workbook.xml.rels": rels}))


def test_styles_part_named_by_the_relationships():
    assert _styles_at("styles2.xml") == "xl/styles2.xml"
    assert _styles_at("/xl/s.xml") == "xl/s.xml"
    assert _styles_at("/Xs.xml") == "Xs.xml"
    assert _styles_at("../st/styles.xml") == "st/styles.xml"
    assert values._styles_part(_package()) == "xl/styles.xml"
    rels = b'<Relationships><Relationship Id="rId1" Target="s.xml"/></Relationships>'
    assert values._styles_part(_package(**{"xl/_rels/workbook.xml.rels": rels})) == (
        "xl/styles.xml")


def test_style_formats_skip_what_they_cannot_read():
    styles = {"xl/styles.xml": STYLES}
    assert values._style_formats(_package(**styles)) == [
        "General", "0.00%", "General", "General", "General", "0.0"]
    rels = (b'<Relationships><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/styles"/></Relationships>')
    assert values._style_formats(_package(**{"xl/_rels/workbook.xml.rels": rels})) == []


def test_parse_position():
    assert values.parse_position("b3") == (2, 1)
    assert values.parse_position("AA10") == (9, 26)
    for bad in ("1A", "A0", ""):
        with pytest.raises(ValueError, match="invalid cell reference"):
            values.parse_position(bad)
    with pytest.raises(ValueError) as caught:
        values.parse_position("!" * 30)
    assert str(caught.value) == "invalid cell reference '" + "!" * 20 + "'"


def test_raw_cells_of_a_sheet():
    xml = (b'<sheetData><row r="1"><c t="n"><v>7</v></c><c r="1A"><v>8</v></c>'
           b'<c r="B1" t="e"><v>#N/A</v></c><x:c x:r="C1" x:t="b"><x:v>1</x:v></x:c>'
           b'<c r="D1"/></row></sheetData>')
    assert values._raw_cells(xml) == {
        (0, 1): ({b"r": b"B1", b"t": b"e"}, b"#N/A"),
        (0, 2): ({b"r": b"C1", b"t": b"b"}, b"1"),
        (0, 3): ({b"r": b"D1"}, None),
    }


def _sheets(**parts: bytes) -> values.Sheets:
    sheets = values.Sheets.__new__(values.Sheets)  # _shown reads only the parts given here
    sheets.package = _package(**parts)
    sheets._formats = None
    return sheets


SHOWN_XML = (b'<sheetData><row r="1">'
             b'<c r="A1" t="b"><v>1</v></c><c r="B1" t="b"><v>0</v></c>'
             b'<c r="C1" t="b"><v> true </v></c><c r="D1" t="e"><v>#DIV/0!</v></c>'
             b'<c r="E1" t="d"><v>2025-03-01T00:00:00</v></c><c r="F1"/>'
             b'<c r="G1" s="abc"><v>0.5</v></c><c r="H1" s="1"><v>0.5</v></c>'
             b'<c r="I1" s="2"><v>0.5</v></c><c r="J1" s="9"><v>0.5</v></c>'
             b'<c r="K1"><v>1\xc3\xa9</v></c></row></sheetData>')
TWO_STYLES = (b'<styleSheet><cellXfs><xf numFmtId="0"/><xf numFmtId="10"/></cellXfs>'
              b'</styleSheet>')


def test_non_text_cells_are_shown_from_their_xml():
    sheets = _sheets(**{"xl/styles.xml": TWO_STYLES})
    loaded = values._Loaded(SHOWN_XML, [], [])

    def shown(col: int, value: object = 1) -> str:  # value: what calamine read
        return sheets._shown(loaded, 0, col, value)

    assert [shown(0), shown(1), shown(2)] == ["TRUE", "FALSE", "TRUE"]
    error = shown(3, 0.0)
    assert (error, type(error)) == ("#DIV/0!", values.ErrorValue)
    assert shown(4, dt.datetime(2025, 3, 1)) == "2025-03-01"
    assert shown(5, 5.0) == "5"  # no <v>: calamine's value
    assert shown(20, 2.5) == "2.5"  # not in the XML: calamine's value
    assert shown(6) == "0.5"  # a style that is not a number: General
    assert shown(7) == "50.00%"
    assert [shown(8), shown(9)] == ["0.5", "0.5"]  # no such style: General
    assert shown(10) == "1\ufffd\ufffd"  # not a number: as written


def test_a_damaged_styles_part_shows_numbers_as_general():
    sheets = _sheets(**{"xl/styles.xml": b"<styleSheet><cellXfs>"})
    loaded = values._Loaded(SHOWN_XML, [], [])
    assert sheets._shown(loaded, 0, 7, 0.5) == "0.5"


def test_formula_cells_of_rows_and_cells_without_references():
    from workbook_tool.reader.values import formula_cells

    xml = (b"<worksheet><sheetData><row><c><f>1+1</f><v>2</v></c></row>"
           b'<row><c t="s"><v>0</v></c><c><f>A1</f><v>2</v></c></row></sheetData></worksheet>')
    assert formula_cells(xml) == {(0, 0), (1, 1)}
