"""district_summary.xlsx cell by cell: the Overview sheet, the title rows, the styles, the
notes about what the workbook could not hold, the column widths and the properties.

A small hand-made consolidation of the small rubric (1.1 Shared vision, 1.2 Resources,
1.3 Data use in D1 Leadership and Vision; 2.1 Employer partners, 2.2 Family engagement in
D2 Partnerships with the Community; levels 1 Beginning, 2 Growing, 3 Strong Practice),
cycle 2024-25, written at a frozen clock and read back with openpyxl and zipfile. Every
expected value is a literal worked out by hand from this table:

    school  status                  1.1 1.2 1.3 2.1 2.2  problems
    S1      accepted_with_warnings  3   2   1   3   2    text-too-long (a warning)
    S2      accepted                1   1   2   -   3
    S3      rejected                2   2   2   2   2    invalid-rating, text-too-long
    S4      missing (on the roster, no return)

    Roster 4 schools, 2 with an accepted return (0.5); 10 ratings in accepted returns,
    9 rated (0.9). One text too long in an accepted return (S3's is in a rejected one).
    D1: Beginning 3 (S1 1.3, S2 1.1, S2 1.2), Growing 2, Strong Practice 1, unrated 0.
    D2: Beginning 0, Growing 1 (S1 2.2), Strong Practice 2 (S1 2.1, S2 2.2), unrated 1.
    Files not read: 2 skipped (a lock file, a copy already read), 1 ignored (notes.txt).

Overview layout (1-based rows): title 1 (merged A1:G1, the 3 levels + 4 columns), built
note 2, cycle note 3, the warning note 4, "Returns by status" 5, statuses 6-11,
"Completion" 13, figures 14-20, "Levels by domain" 22, its header 23, domains 24-25;
"Files not read" from I5 (header I6:J6, files from row 7).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import types
import zipfile
from pathlib import Path

import openpyxl
import pytest

from workbook_tool.consolidate import TextSpill, _share_strings, consolidate
from workbook_tool.files import Discovery, Skipped
from workbook_tool.problems import Problem
from workbook_tool.reader.model import Answer, ReturnResult
from workbook_tool.roster import School
from workbook_tool.summary import stream as stream_module
from workbook_tool.summary import workbook as summary_workbook

IDS = ["1.1", "1.2", "1.3", "2.1", "2.2"]
LABELS = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
ROSTER = [School("S1", "Alpha School", "North"), School("S2", "Beta School", "South"),
          School("S3", "Gamma School", "North"), School("S4", "Delta School", "East")]
LEVELS = {"S1": [3, 2, 1, 3, 2], "S2": [1, 1, 2, None, 3], "S3": [2, 2, 2, 2, 2]}
NAMES = {"S1": "Alpha School", "S2": "Beta School", "S3": "Gamma School"}
ACCENT = "FF1F4E79"
IGNORED_WHY = "ignored: not a workbook (.xlsx, .xlsm, .xls, .ods) or a .zip archive"
ONE_CUT = ("1 text is longer than the 32,767 characters an Excel cell holds: this workbook "
           "shows the first 32,767 of each, and ratings.csv and ratings.parquet have them "
           "whole (Problems lists each as text-too-long).")


def _problem(school_id: str, code: str) -> Problem:
    return Problem(f"{school_id}.xlsx", code, f"A {code} problem.", sheet="1 Leadership",
                   cell="G4")


def _return(school_id: str, problems: list[str], long_texts: int = 0) -> ReturnResult:
    answers = [Answer(i, level, LABELS[level], f"Evidence {school_id} {i}",
                      f"Next {school_id} {i}", "High" if i == "1.1" else "")
               for i, level in zip(IDS, LEVELS[school_id], strict=True)]
    codes = problems + ["text-too-long"] * long_texts
    return ReturnResult(f"{school_id}.xlsx", f"sha-{school_id}", school_id, NAMES[school_id],
                        "2024-25", "small-test-rubric", "2024-01", "", 2, answers=answers,
                        problems=[_problem(school_id, c) for c in codes])


def _results(s1_long_texts: int = 1) -> list[ReturnResult]:
    return [_return("S1", [], s1_long_texts), _return("S2", []),
            _return("S3", ["invalid-rating"], 1)]


DISCOVERY = Discovery(skipped=[Skipped("returns/~$S1.xlsx", "lock file"),
                               Skipped("returns/S2 copy.xlsx", "already read as returns/S2.xlsx")],
                      ignored_files=["returns/notes.txt"])


class _FrozenClock(dt.datetime):
    """5 March 2026, 14:07 UTC, whatever the machine's clock and time zone."""

    @classmethod
    def now(cls, tz=None):
        return cls(2026, 3, 5, 14, 7, 30, tzinfo=dt.UTC)

    def astimezone(self, tz=None):
        return self


def _write(path: Path, results: list[ReturnResult], rubric, monkeypatch,
           spill: TextSpill | None = None) -> Path:
    monkeypatch.setattr(summary_workbook, "dt", types.SimpleNamespace(datetime=_FrozenClock))
    run = consolidate([_share_strings(r, spill) for r in results], rubric, ROSTER,
                      cycle="2024-25", discovery=DISCOVERY)
    target = path / "district_summary.xlsx"
    summary_workbook.write_summary_workbook(run, target, ["returns", "late/extra.zip"])
    return target


@pytest.fixture
def written(small_rubric, tmp_path, monkeypatch) -> Path:
    return _write(tmp_path, _results(), small_rubric, monkeypatch)


@pytest.fixture
def book(written):
    return openpyxl.load_workbook(written)


def filled(sheet) -> dict[str, object]:
    return {c.coordinate: c.value for row in sheet.iter_rows() for c in row
            if c.value is not None}


def _color(color) -> str | None:
    if color is None:
        return None
    return color.rgb if color.type == "rgb" else f"{color.type}:{color.value}"


def look(cell) -> dict[str, object]:
    """Every style attribute the summary sets, as openpyxl reads it back."""
    font, fill, align, border = cell.font, cell.fill, cell.alignment, cell.border
    return {
        "font": (font.name, font.sz, bool(font.b), bool(font.i), _color(font.color)),
        "fill": (fill.fill_type, _color(fill.fgColor) if fill.fill_type else None),
        "align": (align.horizontal, align.vertical, bool(align.wrap_text)),
        "border": (border.left.style, border.right.style, border.top.style,
                   border.bottom.style),
        "number_format": cell.number_format,
    }


PLAIN_FONT = ("Calibri", 10, False, False, "theme:1")
NO_BORDER = (None, None, None, None)
STYLE = {
    "title": {"font": ("Calibri", 16, True, False, "FFFFFFFF"), "fill": ("solid", ACCENT),
              "align": (None, "top", False), "border": NO_BORDER, "number_format": "General"},
    "heading": {"font": ("Calibri", 11, True, False, ACCENT), "fill": (None, None),
                "align": (None, "top", False), "border": (None, None, None, "medium"),
                "number_format": "General"},
    "header": {"font": ("Calibri", 10, True, False, "FFFFFFFF"), "fill": ("solid", ACCENT),
               "align": (None, "top", True), "border": ("thin",) * 4,
               "number_format": "General"},
    "text": {"font": PLAIN_FONT, "fill": (None, None), "align": (None, "top", False),
             "border": NO_BORDER, "number_format": "General"},
    "wrap": {"font": PLAIN_FONT, "fill": (None, None), "align": (None, "top", True),
             "border": NO_BORDER, "number_format": "General"},
    "note": {"font": ("Calibri", 10, False, True, "FF595959"), "fill": (None, None),
             "align": (None, "top", False), "border": NO_BORDER, "number_format": "General"},
    "warning": {"font": ("Calibri", 10, True, False, "FFC00000"), "fill": (None, None),
                "align": (None, "top", False), "border": NO_BORDER,
                "number_format": "General"},
    "number": {"font": PLAIN_FONT, "fill": (None, None), "align": ("center", "top", False),
               "border": NO_BORDER, "number_format": "General"},
    "percent": {"font": PLAIN_FONT, "fill": (None, None), "align": ("center", "top", False),
                "border": NO_BORDER, "number_format": "0%"},
    "decimal": {"font": PLAIN_FONT, "fill": (None, None), "align": ("center", "top", False),
                "border": NO_BORDER, "number_format": "0.0"},
}


def _rows(first: int, cells: list[tuple]) -> dict[str, tuple]:
    """{A<row>: (label, "text"), B<row>: (value, style)} for label | value rows."""
    out = {}
    for row, (label, value, style) in enumerate(cells, start=first):
        out[f"A{row}"] = (label, "text")
        out[f"B{row}"] = (value, style)
    return out


# Overview: ref -> (value, style name).
OVERVIEW = {
    "A1": ("District summary: Small Test Rubric 2024-01", "title"),
    "A2": ("Built 2026-03-05 14:07 UTC by workbook-tool from: returns, late/extra.zip", "note"),
    "A3": ("Cycle: 2024-25", "note"),
    "A4": (ONE_CUT, "warning"),
    "A5": ("Returns by status", "heading"),
    **_rows(6, [("accepted", 1, "number"), ("accepted_with_warnings", 1, "number"),
                ("rejected", 1, "number"), ("duplicate", 0, "number"),
                ("conflict", 0, "number"), ("missing", 1, "number")]),
    "A13": ("Completion", "heading"),
    **_rows(14, [("Schools on the roster", 4, "number"),
                 ("Schools with an accepted return", 2, "number"),
                 ("Share of schools accepted", 0.5, "percent"),
                 ("Indicators rated in accepted returns", 9, "number"),
                 ("Share of indicators rated", 0.9, "percent"),
                 ("Files skipped (lock, hidden, already read, linked folders)", 2, "number"),
                 ("Other files ignored", 1, "number")]),
    "A22": ("Levels by domain (accepted returns)", "heading"),
    "A23": ("Domain", "header"), "B23": ("Beginning", "header"), "C23": ("Growing", "header"),
    "D23": ("Strong Practice", "header"), "E23": ("Unrated", "header"),
    "A24": ("D1 Leadership and Vision", "text"), "B24": (3, "number"), "C24": (2, "number"),
    "D24": (1, "number"), "E24": (0, "number"),
    "A25": ("D2 Partnerships with the Community", "text"), "B25": (0, "number"),
    "C25": (1, "number"), "D25": (2, "number"), "E25": (1, "number"),
    "I5": ("Files not read", "heading"),
    "I6": ("File", "header"), "J6": ("Why", "header"),
    "I7": ("returns/~$S1.xlsx", "wrap"), "J7": ("lock file", "wrap"),
    "I8": ("returns/S2 copy.xlsx", "wrap"), "J8": ("already read as returns/S2.xlsx", "wrap"),
    "I9": ("returns/notes.txt", "wrap"), "J9": (IGNORED_WHY, "wrap"),
}


def test_every_cell_of_the_overview(book):
    sheet = book["Overview"]
    assert filled(sheet) == {ref: value for ref, (value, _style) in OVERVIEW.items()}


def test_every_overview_cell_has_its_style(book):
    sheet = book["Overview"]
    assert {ref: look(sheet[ref]) for ref in OVERVIEW} == {
        ref: STYLE[style] for ref, (_value, style) in OVERVIEW.items()}
    assert {ref: sheet[ref].data_type for ref in OVERVIEW} == {
        ref: "n" if isinstance(value, (int, float)) else "s"
        for ref, (value, _style) in OVERVIEW.items()}


def _width(sheet, col: int) -> float | None:
    """A column's width as stored: n characters are written as n + 0.7109375 (5 pixels of
    padding); None when the column keeps Excel's default."""
    return next((d.width for d in sheet.column_dimensions.values()
                 if d.min and d.min <= col <= d.max and d.customWidth), None)


def test_overview_widths_heights_merges_and_page(book):
    sheet = book["Overview"]
    assert [_width(sheet, c) for c in range(1, 12)] == [
        40.7109375, *[13.7109375] * 6, None, 60.7109375, 36.7109375, None]
    # xlsxwriter stores heights in whole pixels: 28 pt = 37 px = 27.75 pt.
    assert {r: d.height for r, d in sheet.row_dimensions.items() if d.height is not None} == {
        1: 27.75}
    assert sorted(str(r) for r in sheet.merged_cells.ranges) == ["A1:G1"]
    assert sheet.sheet_view.showGridLines is False
    assert sheet.page_setup.orientation == "landscape"
    # One page wide (fitToWidth 1 is the default, left out of the file), as tall as needed.
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True


# The title row of every sheet that has one: (sheet, title, merged range).
TITLES = [
    ("Overview", "District summary: Small Test Rubric 2024-01", "A1:G1"),
    ("Heatmap", "Levels by school and indicator (accepted returns)", "A1:L1"),
    ("Indicators", "Indicators: the ones that need most attention first", "A1:J1"),
    ("Domains", "Domains: rated indicators and average level per school", "A1:F1"),
    ("Priorities", "Priorities: indicators schools marked High most often", "A1:F1"),
    ("Evidence", "Evidence and next steps, per school and indicator", "A1:H1"),
]


def test_title_rows_of_every_sheet(book):
    assert book.sheetnames == ["Overview", "Heatmap", "Indicators", "Domains", "Priorities",
                               "Evidence", "Returns", "Problems", "Data"]
    for name, title, merged in TITLES:
        sheet = book[name]
        assert sheet["A1"].value == title, name
        assert look(sheet["A1"]) == STYLE["title"], name
        assert [str(r) for r in sheet.merged_cells.ranges if r.min_row == 1] == [merged], name
        assert sheet.row_dimensions[1].height == 27.75, name
        assert sheet.sheet_view.showGridLines is False, name
        assert sheet.page_setup.orientation == "landscape", name
        assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0), name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True, name
    for name in ("Returns", "Problems", "Data"):  # listings: no title row
        sheet = book[name]
        assert sheet.row_dimensions[1].height is None, name
        assert sheet.page_setup.orientation is None, name
    # Only the Indicators sheet sets another row's height: its header, 30 pt = 40 px.
    assert {(name, r) for name, _t, _m in TITLES
            for r, d in book[name].row_dimensions.items() if d.height is not None} == {
        *((name, 1) for name, _t, _m in TITLES), ("Indicators", 2)}


def _sheet_xml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{name}" [^>]*r:id="([^"]+)"', book).group(1)
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
        return z.read(f"xl/{target.lstrip('/').removeprefix('xl/')}").decode()


def test_every_cell_of_a_merged_title_carries_the_title_format(written):
    """As Excel writes a merge: the fill runs across the whole title row."""
    for name, _title, merged in TITLES:
        style = dict(re.findall(r'<c r="([A-Z]+1)" s="([0-9]+)"', _sheet_xml(written, name)))
        last = merged.split(":")[1][:-1]
        columns = [chr(c) for c in range(ord("A"), ord(last) + 1)]
        assert sorted(style) == sorted(f"{c}1" for c in columns), name
        assert {style[f"{c}1"] for c in columns} == {style["A1"]}, name


def test_styles_of_the_other_sheets(book):
    assert look(book["Heatmap"]["A2"]) == STYLE["header"]
    assert look(book["Heatmap"]["A3"]) == STYLE["text"]
    assert look(book["Heatmap"]["D3"]) == STYLE["number"]
    assert book["Heatmap"]["B6"].value == "Levels: 1 = Beginning, 2 = Growing, 3 = Strong " \
                                          "Practice. Empty: unrated."
    assert look(book["Heatmap"]["B6"]) == STYLE["note"]
    indicators = book["Indicators"]
    # Least established first: 1.1 (S1 3, S2 1: half at Growing or above) heads the list.
    assert [indicators["B3"].value, indicators["H3"].value, indicators["I3"].value] == [
        "1.1", 2, 0.5]
    assert look(indicators["H3"]) == STYLE["decimal"]
    assert look(indicators["I3"]) == STYLE["percent"]
    domains = book["Domains"]
    assert [c.value for c in domains[3]] == ["S1", "Alpha School", "D1 Leadership", 3, 3, 2]
    assert look(domains["F3"]) == STYLE["decimal"]
    assert look(domains["D3"]) == STYLE["number"]
    assert look(book["Priorities"]["I3"]) == STYLE["wrap"]
    assert look(book["Returns"]["A1"]) == STYLE["header"]


def test_heatmap_levels_are_coloured(book):
    rules = [(rule.operator, rule.formula, _color(rule.dxf.fill.bgColor))
             for cf in book["Heatmap"].conditional_formatting for rule in cf.rules]
    assert sorted(rules) == [("equal", ["1"], "FFF8CBAD"), ("equal", ["2"], "FFFFE699"),
                             ("equal", ["3"], "FFC6E0B4")]
    assert [str(cf.sqref) for cf in book["Heatmap"].conditional_formatting] == ["D3:H4"]


def test_listing_column_widths(book):
    assert [_width(book["Returns"], c) for c in range(1, 10)] == [
        w + 0.7109375 for w in (14, 34, 50, 18, 22, 8, 8, 8, 9)]
    assert [_width(book["Problems"], c) for c in range(1, 8)] == [
        w + 0.7109375 for w in (50, 12, 18, 8, 18, 9, 90)]


def test_document_properties(book):
    assert book.properties.title == "District summary: Small Test Rubric"
    assert book.properties.creator == "workbook-tool"


def test_no_note_when_nothing_was_cut(small_rubric, tmp_path, monkeypatch):
    """Other warnings of accepted returns (S2 unrated) are no texts cut."""
    results = [_return("S1", []), _return("S2", ["unrated"]), _return("S3", ["invalid-rating"])]
    written = _write(tmp_path, results, small_rubric, monkeypatch)
    sheet = openpyxl.load_workbook(written)["Overview"]
    assert [sheet.cell(r, 1).value for r in range(1, 6)] == [
        "District summary: Small Test Rubric 2024-01",
        "Built 2026-03-05 14:07 UTC by workbook-tool from: returns, late/extra.zip",
        "Cycle: 2024-25", None, "Returns by status"]


def test_rows_past_the_sheet_limit_and_texts_cut_share_one_note(small_rubric, tmp_path,
                                                                  monkeypatch):
    """With room for 6 rows a sheet, the 10 ratings overflow Evidence (from row 3: 4 kept)
    and Data (from row 2: 5 kept); the 5 indicators overflow Priorities (4 kept)."""
    monkeypatch.setattr(stream_module, "EXCEL_ROWS", 6)
    written = _write(tmp_path, _results(s1_long_texts=2), small_rubric, monkeypatch)
    note = openpyxl.load_workbook(written)["Overview"]["A4"]
    assert note.value == (
        "Excel's row limit: Priorities shows 4 of 5 rows; Evidence shows 4 of 10 rows; "
        "Data shows 5 of 10 rows. ratings.csv, problems.csv and ratings.parquet have every "
        "row. 2 texts are longer than the 32,767 characters an Excel cell holds: this "
        "workbook shows the first 32,767 of each, and ratings.csv and ratings.parquet have "
        "them whole (Problems lists each as text-too-long).")
    assert look(note) == STYLE["warning"]


def test_many_texts_cut_are_counted_with_a_thousands_separator(small_rubric, tmp_path,
                                                               monkeypatch):
    written = _write(tmp_path, _results(s1_long_texts=1234), small_rubric, monkeypatch)
    note = openpyxl.load_workbook(written)["Overview"]["A4"].value
    assert note.startswith("1,234 texts are longer than the 32,767 characters")


def test_sheets_without_texts_never_read_spilled_texts_back(small_rubric, tmp_path,
                                                            monkeypatch, spill_loads):
    """With every return's evidence and next steps spilled to the disk, only the three sheets
    that show them (Priorities, Evidence, Data) read them back: 3 reads for each of the 2
    accepted returns."""
    written = _write(tmp_path, _results(), small_rubric, monkeypatch, TextSpill(budget=0))
    assert len(spill_loads) == 6
    evidence = openpyxl.load_workbook(written)["Evidence"]
    assert [evidence["F3"].value, evidence["G3"].value] == ["Evidence S1 1.1", "Next S1 1.1"]


def test_the_workbook_is_built_in_memory(small_rubric, tmp_path, monkeypatch):
    """No temporary files: the summary is assembled in memory (a temporary folder that does
    not exist would make xlsxwriter fail otherwise)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    written = _write(tmp_path, _results(), small_rubric, monkeypatch)
    assert openpyxl.load_workbook(written)["Overview"]["A3"].value == "Cycle: 2024-25"


def test_the_file_holds_no_text_that_no_cell_shows(written, book):
    """Every shared string is shown by some cell: nothing hidden rides along in the file."""
    with zipfile.ZipFile(written) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
    held = {html.unescape(re.sub(r"<[^>]+>", "", si))
            for si in re.findall(r"<si>(.*?)</si>", strings, re.S)}
    shown = {c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str)}
    assert held and held <= shown


def test_an_empty_run_shows_zero_shares(small_rubric, tmp_path, monkeypatch):
    """No roster and no return: nothing to divide by, so both shares show 0."""
    monkeypatch.setattr(summary_workbook, "dt", types.SimpleNamespace(datetime=_FrozenClock))
    run = consolidate([], small_rubric, [], cycle="2024-25")
    target = tmp_path / "district_summary.xlsx"
    summary_workbook.write_summary_workbook(run, target, ["returns"])
    sheet = openpyxl.load_workbook(target)["Overview"]
    assert [[sheet.cell(r, c).value for c in (1, 2)] for r in range(14, 21)] == [
        ["Schools on the roster", 0], ["Schools with an accepted return", 0],
        ["Share of schools accepted", 0], ["Indicators rated in accepted returns", 0],
        ["Share of indicators rated", 0], [
            "Files skipped (lock, hidden, already read, linked folders)", 0],
        ["Other files ignored", 0]]
    assert [look(sheet[ref])["number_format"] for ref in ("B16", "B18")] == ["0%", "0%"]
    assert sheet["I5"].value is None  # no file left unread: no list


def _overview_chart(path: Path) -> tuple[str, str]:
    """(drawing XML, chart XML) of the Overview, through the package's relationships."""
    with zipfile.ZipFile(path) as z:
        sheet_rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
        drawing = re.search(r'Target="\.\./drawings/([^"]+)"', sheet_rels).group(1)
        drawing_rels = z.read(f"xl/drawings/_rels/{drawing}.rels").decode()
        chart = re.search(r'Target="\.\./charts/([^"]+)"', drawing_rels).group(1)
        return z.read(f"xl/drawings/{drawing}").decode(), z.read(f"xl/charts/{chart}").decode()


def test_overview_chart_reads_the_levels_by_domain_table(written, book):
    assert book.sheetnames[0] == "Overview"  # sheet1.xml
    drawing, chart = _overview_chart(written)
    # One series per level: its name from the header row 23, the domains of rows 24-25.
    assert re.findall(r"<c:f>([^<]+)</c:f>", chart) == [
        "Overview!$B$23", "Overview!$A$24:$A$25", "Overview!$B$24:$B$25",
        "Overview!$C$23", "Overview!$A$24:$A$25", "Overview!$C$24:$C$25",
        "Overview!$D$23", "Overview!$A$24:$A$25", "Overview!$D$24:$D$25"]
    assert re.findall(r'srgbClr val="([^"]+)"', chart) == [
        "F8CBAD", "7F7F7F", "FFE699", "7F7F7F", "C6E0B4", "7F7F7F"]
    assert '<c:barDir val="bar"/>' in chart and '<c:grouping val="percentStacked"/>' in chart
    assert "<a:t>Share of ratings at each level, by domain</a:t>" in chart
    assert '<c:legendPos val="b"/>' in chart and '<c:orientation val="maxMin"/>' in chart
    # Two rows below the table (0-based row 26 is row 27), 820 x 200 px (90 + 55 a domain).
    assert re.findall(r"<xdr:(?:col|row)>([0-9]+)</xdr:(?:col|row)>", drawing) == [
        "0", "26", "6", "36"]


# -- Heatmap, Indicators and Domains, cell by cell -------------------------------------------

def _cells_and_looks(sheet, expected: dict[str, tuple]) -> None:
    assert filled(sheet) == {ref: value for ref, (value, _style) in expected.items()}
    assert {ref: look(sheet[ref]) for ref in expected} == {
        ref: STYLE[style] for ref, (_value, style) in expected.items()}


def _header(refs: str, texts: list[str]) -> dict[str, tuple]:
    return {f"{col}2": (text, "header") for col, text in zip(refs, texts, strict=True)}


def _table_rows(first: int, styles: list[str], rows: list[list]) -> dict[str, tuple]:
    """{ref: (value, style)} for rows of values from row `first`; None leaves a cell empty."""
    out = {}
    for r, values in enumerate(rows, start=first):
        for col, (value, style) in enumerate(zip(values, styles, strict=True)):
            if value is not None:
                out[f"{chr(ord('A') + col)}{r}"] = (value, style)
    return out


HEATMAP_TITLE = ("Levels by school and indicator (accepted returns)", "title")
HEATMAP_NOTE = "Levels: 1 = Beginning, 2 = Growing, 3 = Strong Practice. Empty: unrated."
HEAT_STYLES = ["text"] * 3 + ["number"] * 5


def test_every_cell_of_the_heatmap(book):
    """One row per accepted school (S3 was rejected), levels as numbers, S2's 2.1 empty."""
    sheet = book["Heatmap"]
    _cells_and_looks(sheet, {
        "A1": HEATMAP_TITLE,
        **_header("ABCDEFGH", ["School ID", "School", "Network", *IDS]),
        **_table_rows(3, HEAT_STYLES, [["S1", "Alpha School", "North", 3, 2, 1, 3, 2],
                                       ["S2", "Beta School", "South", 1, 1, 2, None, 3]]),
        "B6": (HEATMAP_NOTE, "note")})
    # 10, 36 and 16 characters, then 5.5 for each indicator (xlsxwriter: 6.28515625).
    assert [_width(sheet, c) for c in range(1, 10)] == [
        10.7109375, 36.7109375, 16.7109375, *[6.28515625] * 5, None]
    assert sheet.auto_filter.ref == "A2:H4"
    assert sheet.freeze_panes == "D3"


def test_heatmap_used_range_of_a_wide_rubric(rubric, tmp_path, monkeypatch):
    """28 indicators from column D: the sheet's used range ends at column AE (31)."""
    monkeypatch.setattr(summary_workbook, "dt", types.SimpleNamespace(datetime=_FrozenClock))
    answers = [Answer(ind.id, 1, rubric.levels[0].label) for ind in rubric.indicators]
    result = ReturnResult("S1.xlsx", "sha-S1", "S1", "Alpha School", "2024-25", rubric.id,
                          rubric.version, "", 2, answers=answers)
    run = consolidate([result], rubric, ROSTER[:1], cycle="2024-25")
    target = tmp_path / "district_summary.xlsx"
    summary_workbook.write_summary_workbook(run, target, ["returns"])
    assert len(rubric.indicators) == 28
    assert openpyxl.load_workbook(target)["Heatmap"]["AE3"].value == 1
    xml = _sheet_xml(target, "Heatmap")
    assert re.findall(r'<dimension ref="([^"]+)"/>', xml) == ["A1:AE5"]


def _empty_run(small_rubric, tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(summary_workbook, "dt", types.SimpleNamespace(datetime=_FrozenClock))
    run = consolidate([], small_rubric, [], cycle="2024-25")
    target = tmp_path / "district_summary.xlsx"
    summary_workbook.write_summary_workbook(run, target, ["returns"])
    return target


def test_an_empty_run_has_no_heatmap_rows_and_no_colours(small_rubric, tmp_path, monkeypatch):
    book = openpyxl.load_workbook(_empty_run(small_rubric, tmp_path, monkeypatch))
    sheet = book["Heatmap"]
    _cells_and_looks(sheet, {
        "A1": HEATMAP_TITLE, **_header("ABCDEFGH", ["School ID", "School", "Network", *IDS]),
        "B4": (HEATMAP_NOTE, "note")})
    assert list(sheet.conditional_formatting) == []
    assert sheet.auto_filter.ref == "A2:H2"
    indicators = book["Indicators"]
    # Nobody rated anything: every count 0 (5 unrated counts are 0 too), no median, no share.
    assert [[c.value for c in row] for row in indicators.iter_rows(min_row=3, max_col=9)] == [
        ["D1", "1.1", "Shared vision", 0, 0, 0, 0, None, None],
        ["D1", "1.2", "Resources", 0, 0, 0, 0, None, None],
        ["D1", "1.3", "Data use", 0, 0, 0, 0, None, None],
        ["D2", "2.1", "Employer partners", 0, 0, 0, 0, None, None],
        ["D2", "2.2", "Family engagement", 0, 0, 0, 0, None, None]]
    assert book["Domains"].auto_filter.ref == "A2:F2"
    assert filled(book["Domains"]) == {"A1": DOMAINS_TITLE[0], **{
        ref: text for ref, (text, _s) in DOMAINS_HEADER.items()}}


def test_a_school_without_a_row_for_an_indicator_leaves_its_heatmap_cell_empty(
        small_rubric, tmp_path, monkeypatch):
    """S2's return carries no answer at all for 2.2: no row, so its cell stays empty."""
    results = _results()
    results[1].answers = results[1].answers[:4]
    sheet = openpyxl.load_workbook(_write(tmp_path, results, small_rubric, monkeypatch))[
        "Heatmap"]
    assert [sheet.cell(4, c).value for c in range(1, 10)] == [
        "S2", "Beta School", "South", 1, 1, 2, None, None, None]


INDICATOR_HEADERS = ["Domain", "ID", "Indicator", "Beginning", "Growing", "Strong Practice",
                     "Unrated", "Median level", "Share at Growing or above"]
INDICATOR_STYLES = ["text"] * 3 + ["number"] * 4 + ["decimal", "percent"]


def test_every_cell_of_the_indicators_sheet(book):
    """Shares at Growing (2) or above: 1.1, 1.2, 1.3 half, 2.1 and 2.2 all: rubric order."""
    sheet = book["Indicators"]
    _cells_and_looks(sheet, {
        "A1": ("Indicators: the ones that need most attention first", "title"),
        **_header("ABCDEFGHI", INDICATOR_HEADERS),
        **_table_rows(3, INDICATOR_STYLES, [
            ["D1", "1.1", "Shared vision", 1, 0, 1, 0, 2, 0.5],
            ["D1", "1.2", "Resources", 1, 1, 0, 0, 1.5, 0.5],
            ["D1", "1.3", "Data use", 1, 1, 0, 0, 1.5, 0.5],
            ["D2", "2.1", "Employer partners", 0, 0, 1, 1, 3, 1],
            ["D2", "2.2", "Family engagement", 0, 1, 1, 0, 2.5, 1]])})
    assert [_width(sheet, c) for c in range(1, 11)] == [
        8.7109375, 8.7109375, 44.7109375, *[12.7109375] * 6, None]
    assert sheet.row_dimensions[2].height == 30
    assert sheet.auto_filter.ref == "A2:I7"
    assert sheet.freeze_panes == "D3"


def _chart_of(path: Path, name: str) -> tuple[str, str]:
    """(drawing XML, chart XML) of sheet `name`, through the package's relationships."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{name}" [^>]*r:id="([^"]+)"', book).group(1)
        sheet = re.search(rf'Id="{rid}"[^>]*Target="[^"]*worksheets/([^"]+)"', rels).group(1)
        sheet_rels = z.read(f"xl/worksheets/_rels/{sheet}.rels").decode()
        drawing = re.search(r'Target="\.\./drawings/([^"]+)"', sheet_rels).group(1)
        drawing_rels = z.read(f"xl/drawings/_rels/{drawing}.rels").decode()
        chart = re.search(r'Target="\.\./charts/([^"]+)"', drawing_rels).group(1)
        return z.read(f"xl/drawings/{drawing}").decode(), z.read(f"xl/charts/{chart}").decode()


def _anchor(drawing: str) -> list[str]:
    """from col, colOff, row, rowOff, then the same for the chart's bottom right corner."""
    return re.findall(r"<xdr:(?:col|colOff|row|rowOff)>([0-9]+)<", drawing)


def test_indicators_chart_reads_the_level_counts(written):
    drawing, chart = _chart_of(written, "Indicators")
    assert re.findall(r"<c:f>([^<]+)</c:f>", chart) == [
        "Indicators!$D$2", "Indicators!$B$3:$B$7", "Indicators!$D$3:$D$7",
        "Indicators!$E$2", "Indicators!$B$3:$B$7", "Indicators!$E$3:$E$7",
        "Indicators!$F$2", "Indicators!$B$3:$B$7", "Indicators!$F$3:$F$7"]
    assert re.findall(r'srgbClr val="([^"]+)"', chart) == [
        "F8CBAD", "7F7F7F", "FFE699", "7F7F7F", "C6E0B4", "7F7F7F"]
    assert '<c:barDir val="bar"/>' in chart and '<c:grouping val="stacked"/>' in chart
    assert re.findall(r"<a:t>([^<]+)</a:t>", chart) == ["Schools at each level, by indicator"]
    assert re.findall(r'<a:rPr lang="en-US" sz="([0-9]+)"', chart) == ["1200"]
    assert '<c:legendPos val="b"/>' in chart and '<c:orientation val="maxMin"/>' in chart
    # From K2 (column 10, row 1), 720 x 230 px (120 + 22 an indicator).
    assert _anchor(drawing) == ["10", "0", "1", "0", "21", "152400", "11", "95250"]


def test_overview_chart_size_and_title_font(written):
    drawing, chart = _overview_chart(written)
    assert re.findall(r'<a:rPr lang="en-US" sz="([0-9]+)"', chart) == ["1200"]
    # 820 x 200 px from A27: to column G (6) plus 523,875 EMU, row 37 (36) exactly.
    assert _anchor(drawing) == ["0", "0", "26", "0", "6", "523875", "36", "0"]


def _scenario_b(small_rubric, tmp_path, monkeypatch) -> Path:
    """S1 3 3 - 1 2, S2 3 2 - - -: 1.3 rated by nobody, S2's D2 not rated at all."""
    monkeypatch.setitem(LEVELS, "S1", [3, 3, None, 1, 2])
    monkeypatch.setitem(LEVELS, "S2", [3, 2, None, None, None])
    return _write(tmp_path, _results(), small_rubric, monkeypatch)


def test_indicators_least_established_first_and_the_never_rated_last(small_rubric, tmp_path,
                                                                     monkeypatch):
    """Shares: 2.1 0 (1 of S1), 1.1 1, 1.2 1, 2.2 1 (ties in rubric order), 1.3 none."""
    sheet = openpyxl.load_workbook(_scenario_b(small_rubric, tmp_path, monkeypatch))[
        "Indicators"]
    _cells_and_looks(sheet, {
        "A1": ("Indicators: the ones that need most attention first", "title"),
        **_header("ABCDEFGHI", INDICATOR_HEADERS),
        **_table_rows(3, INDICATOR_STYLES, [
            ["D2", "2.1", "Employer partners", 1, 0, 0, 1, 1, 0],
            ["D1", "1.1", "Shared vision", 0, 0, 2, 0, 3, 1],
            ["D1", "1.2", "Resources", 0, 1, 1, 0, 2.5, 1],
            ["D2", "2.2", "Family engagement", 0, 1, 0, 1, 2, 1],
            ["D1", "1.3", "Data use", 0, 0, 0, 2, None, None]])})


DOMAINS_TITLE = ("Domains: rated indicators and average level per school", "title")
DOMAINS_HEADER = _header("ABCDEF", ["School ID", "School", "Domain", "Rated", "Indicators",
                                    "Average level"])
DOMAIN_STYLES = ["text"] * 3 + ["number"] * 2 + ["decimal"]


def test_every_cell_of_the_domains_sheet(book):
    sheet = book["Domains"]
    average = sheet["F5"].value
    assert average == pytest.approx(4 / 3)  # S2's D1: (1 + 1 + 2) / 3
    expected = {"A1": DOMAINS_TITLE, **DOMAINS_HEADER, **_table_rows(3, DOMAIN_STYLES, [
        ["S1", "Alpha School", "D1 Leadership", 3, 3, 2],
        ["S1", "Alpha School", "D2 Partnerships", 2, 2, 2.5],
        ["S2", "Beta School", "D1 Leadership", 3, 3, average],
        ["S2", "Beta School", "D2 Partnerships", 1, 2, 3]])}
    _cells_and_looks(sheet, expected)
    assert [_width(sheet, c) for c in range(1, 8)] == [
        w + 0.7109375 for w in (10, 36, 36, 8, 10, 12)] + [None]
    assert sheet.auto_filter.ref == "A2:F6"
    assert sheet.freeze_panes == "C3"


def test_a_domain_nobody_rated_has_no_average(small_rubric, tmp_path, monkeypatch):
    sheet = openpyxl.load_workbook(_scenario_b(small_rubric, tmp_path, monkeypatch))["Domains"]
    _cells_and_looks(sheet, {"A1": DOMAINS_TITLE, **DOMAINS_HEADER, **_table_rows(
        3, DOMAIN_STYLES, [["S1", "Alpha School", "D1 Leadership", 2, 3, 3],
                           ["S1", "Alpha School", "D2 Partnerships", 2, 2, 1.5],
                           ["S2", "Beta School", "D1 Leadership", 2, 3, 2.5],
                           ["S2", "Beta School", "D2 Partnerships", 0, 2, None]])})
    assert sheet.auto_filter.ref == "A2:F6"


# -- Priorities and Evidence -----------------------------------------------------------------

PRIORITY_HEADER = {f"{col}2": (text, "header") for col, text in zip(
    "ABCDEGHI", ["ID", "Indicator", "High", "Medium", "Low", "ID", "School",
                 "Next steps (High priority)"], strict=True)}
PRIORITY_STYLES = ["text", "text", "number", "number", "number", "text", "text", "text",
                   "wrap"]


def test_every_cell_of_the_priorities_sheet(book, written):
    """Both accepted returns marked 1.1 High (S3 was rejected); nothing else has a priority."""
    sheet = book["Priorities"]
    _cells_and_looks(sheet, {
        "A1": ("Priorities: indicators schools marked High most often", "title"),
        **PRIORITY_HEADER, **_table_rows(3, PRIORITY_STYLES, [
            ["1.1", "Shared vision", 2, 0, 0, None, "1.1", "Alpha School", "Next S1 1.1"],
            ["1.2", "Resources", 0, 0, 0, None, "1.1", "Beta School", "Next S2 1.1"],
            ["1.3", "Data use", 0, 0, 0, None, None, None, None],
            ["2.1", "Employer partners", 0, 0, 0, None, None, None, None],
            ["2.2", "Family engagement", 0, 0, 0, None, None, None, None]])})
    assert [_width(sheet, c) for c in range(1, 11)] == [
        w + 0.7109375 for w in (8, 44, 9, 9, 9, 3, 8, 30, 80)] + [None]
    assert sheet.freeze_panes == "A3"
    assert '<c r="F3"' not in _sheet_xml(written, "Priorities")  # the gap stays empty


def test_more_high_priorities_than_indicators_leave_the_counts_empty(small_rubric, tmp_path,
                                                                     monkeypatch):
    """S1 and S2 mark 1.1, 1.2 and 2.2 High: 6 plans beside 5 indicators; High count first,
    ties in rubric order, the plans by indicator then school id."""
    results = _results()
    for result in results[:2]:
        result.answers = [dataclasses.replace(a, priority="High" if a.indicator_id in (
            "1.1", "1.2", "2.2") else "Low") for a in result.answers]
    sheet = openpyxl.load_workbook(_write(tmp_path, results, small_rubric, monkeypatch))[
        "Priorities"]
    _cells_and_looks(sheet, {
        "A1": ("Priorities: indicators schools marked High most often", "title"),
        **PRIORITY_HEADER, **_table_rows(3, PRIORITY_STYLES, [
            ["1.1", "Shared vision", 2, 0, 0, None, "1.1", "Alpha School", "Next S1 1.1"],
            ["1.2", "Resources", 2, 0, 0, None, "1.1", "Beta School", "Next S2 1.1"],
            ["2.2", "Family engagement", 2, 0, 0, None, "1.2", "Alpha School", "Next S1 1.2"],
            ["1.3", "Data use", 0, 0, 2, None, "1.2", "Beta School", "Next S2 1.2"],
            ["2.1", "Employer partners", 0, 0, 2, None, "2.2", "Alpha School", "Next S1 2.2"],
            [None, None, None, None, None, None, "2.2", "Beta School", "Next S2 2.2"]])})


def test_evidence_sheet_widths_filter_and_panes(book):
    sheet = book["Evidence"]
    assert [_width(sheet, c) for c in range(1, 10)] == [
        w + 0.7109375 for w in (10, 30, 6, 30, 13, 60, 50, 9)] + [None]
    assert [c.value for c in sheet[2]] == [
        "School ID", "School", "ID", "Indicator", "Rating", "Evidence", "Next steps",
        "Priority"]
    assert sheet.auto_filter.ref == "A2:H12"
    assert sheet.freeze_panes == "C3"


# -- Data ------------------------------------------------------------------------------------

def _data_row(school_id: str, index: int) -> list:
    """One tidy row of the Data sheet as the fixture's table says it, worked out by hand."""
    level = LEVELS[school_id][index]
    ind = IDS[index]
    titles = ["Shared vision", "Resources", "Data use", "Employer partners",
              "Family engagement"]
    networks = {"S1": "North", "S2": "South"}
    return [school_id, NAMES[school_id], networks[school_id], "2024-25", ind[0], ind,
            titles[index], level, LABELS[level] or None, f"Evidence {school_id} {ind}",
            f"Next {school_id} {ind}", "High" if ind == "1.1" else None, f"{school_id}.xlsx",
            None, None, None]


def test_every_cell_of_the_data_sheet(book):
    sheet = book["Data"]
    assert [c.value for c in sheet[1]] == [
        "school_id", "school_name", "network", "cycle", "domain_id", "indicator_id",
        "indicator", "level", "label", "evidence", "next_steps", "priority", "source_file",
        "previous_level", "review", "followup"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        _data_row(s, i) for s in ("S1", "S2") for i in range(5)]
    assert [_width(sheet, c) for c in range(1, 17)] == [
        w + 0.7109375 for w in (10, 30, 16, 10, 8, 8, 36, 6, 13, 50, 40, 9, 40)] + [None] * 3
    table = sheet.tables["Ratings"]
    assert (table.ref, table.tableStyleInfo.name) == ("A1:P11", "TableStyleLight9")
    assert sheet.freeze_panes == "A2"
