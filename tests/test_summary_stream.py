"""The summary workbook's long sheets, streamed into the file after xlsxwriter saved it."""

from __future__ import annotations

import csv
import importlib.util
import io
import struct
import zipfile
from xml.etree import ElementTree

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from workbook_tool.pipeline import run_consolidation
from workbook_tool.reader.model import Answer
from workbook_tool.roster import School
from workbook_tool.summary.stream import StreamedRows, escape_text
from workbook_tool.writer import Issue, build_workbook

HOSTILE = ["=1+1", " leading and trailing ", "ctrl \x01 char", "literal _x0041_ escape",
           "<r><t>not rich</t></r>", "emoji 🚀 ünï", 'a<b>c&d"e\'f', "line\nbreak\ttab",
           "x" * 3000, "@SUM(1)"]


@pytest.fixture(scope="module")
def summary(small_rubric, tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    returns = root / "returns"
    returns.mkdir()
    roster = [School(f"H{i}", f"School {text[:30]}", "N&<") for i, text in enumerate(HOSTILE)]
    roster.append(School("M1", "Never returned"))
    for i, school in enumerate(roster[:-1]):
        text = HOSTILE[i]
        answers = {}
        for k, ind in enumerate(small_rubric.indicators):
            level = small_rubric.levels[k % len(small_rubric.levels)]
            rated = k % 3 != 2
            answers[ind.id] = Answer(ind.id, level.level if rated else None,
                                     level.label if rated else "", f"{text} {ind.id}", text,
                                     ("High", "Low", "")[k % 3])
        (returns / f"{school.school_id}.xlsx").write_bytes(
            build_workbook(small_rubric, school, Issue("C"), answers=answers))
    (returns / "broken.xlsx").write_bytes(b"not a workbook")
    out = root / "out"
    run_consolidation(small_rubric, roster, [str(returns)], out, jobs=1)
    return out


def _csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_data_sheet_holds_every_rating_as_a_table(summary):
    ratings = _csv(summary / "ratings.csv")
    book = openpyxl.load_workbook(summary / "district_summary.xlsx")
    data = book["Data"]
    (table,) = data.tables.values()
    assert table.ref == f"A1:P{len(ratings)}"
    assert table.autoFilter.ref == table.ref
    assert data.max_row == len(ratings)
    calamine = CalamineWorkbook.from_path(str(summary / "district_summary.xlsx"))
    rows = calamine.get_sheet_by_name("Data").to_python()
    assert len(rows) == len(ratings)
    for got, want in zip(rows, ratings, strict=True):
        # ratings.csv guards formulas with "'"; the workbook holds the text as typed.
        want = [w[1:] if w.startswith("'") and w[1:2] in "=+-@\t\r" else w for w in want]
        assert [str(int(v)) if isinstance(v, float) else v for v in got] == want


def test_hostile_text_stays_text(summary):
    calamine = CalamineWorkbook.from_path(str(summary / "district_summary.xlsx"))
    evidence = calamine.get_sheet_by_name("Evidence").to_python()
    cells = {v for row in evidence for v in row if isinstance(v, str)}
    for text in HOSTILE:
        if text.strip() == text:  # calamine reports the text as stored
            assert any(c.startswith(text) for c in cells), text
    with zipfile.ZipFile(summary / "district_summary.xlsx") as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = b"".join(archive.read(n) for n in sheets)
    assert b"<r><t>not rich" not in xml  # escaped, never raw rich text
    assert b"&lt;r&gt;&lt;t&gt;not rich" in xml
    assert b"_x005F_x0041_" in xml and b"_x0001_" in xml
    assert b'xml:space="preserve"> leading and trailing </t>' in xml


def test_heatmap_legend_and_listings(summary):
    book = openpyxl.load_workbook(summary / "district_summary.xlsx")
    heat = book["Heatmap"]
    schools = len(HOSTILE)
    assert heat.cell(3 + schools, 2).value is None  # the blank row under the table
    assert heat.cell(4 + schools, 2).value.startswith("Levels: 1 = ")
    returns = book["Returns"]
    assert returns.max_row == 1 + len(_csv(summary / "returns.csv")) - 1
    statuses = {returns.cell(r, 5).value for r in range(2, returns.max_row + 1)}
    assert {"rejected", "missing"} <= statuses
    assert isinstance(returns.cell(2, 7).value, int)  # numbers stay numbers
    problems = book["Problems"]
    assert problems.max_row == len(_csv(summary / "problems.csv"))
    assert problems.auto_filter.ref == f"A1:G{problems.max_row}"


def test_escape_text_matches_xlsxwriter():
    from xlsxwriter.xmlwriter import XMLwriter

    writer = XMLwriter()
    for text in [*HOSTILE, "\ufffe", "_x12AB_ and _xZZZZ_"]:
        expected = writer._escape_control_characters(writer._escape_data(text))
        assert escape_text(text) == expected


def test_packed_answers_behave_like_the_list(small_rubric):
    from workbook_tool.consolidate import PackedAnswers
    from workbook_tool.reader import read_return

    school = School("P1", "Packed School")
    answers = {ind.id: Answer(ind.id, 2, small_rubric.levels[1].label, f"ev {ind.id}", "n", "Low")
               for ind in small_rubric.indicators}
    result = read_return(build_workbook(small_rubric, school, Issue("C"), answers=answers),
                         "p.xlsx", small_rubric)
    packed = PackedAnswers(result.answers)
    assert packed == result.answers and list(packed) == result.answers
    assert len(packed) == len(result.answers) and packed[0] == result.answers[0]
    assert packed[1:] == result.answers[1:]
    result.answers = packed
    assert result.rated == len(answers) and result.total == len(answers)


def test_sheets_longer_than_excel_allows_are_cut_and_said(summary, small_rubric, monkeypatch,
                                                          tmp_path):
    """Past Excel's row limit a sheet keeps what fits and the Overview says so."""
    import workbook_tool.summary.stream as stream

    monkeypatch.setattr(stream, "EXCEL_ROWS", 12)
    returns = summary.parent / "returns"
    roster = [School(f"H{i}", f"School {text[:30]}", "N&<") for i, text in enumerate(HOSTILE)]
    out = tmp_path / "out"
    run_consolidation(small_rubric, roster, [str(returns)], out, jobs=1)
    book = openpyxl.load_workbook(out / "district_summary.xlsx")
    assert book["Data"].max_row == 12 and book["Data"].tables["Ratings"].ref == "A1:P12"
    assert book["Evidence"].max_row == 12
    note = book["Overview"]["A4"].value
    assert "Data shows 11 of 50 rows" in note and "Evidence shows 10 of 50 rows" in note
    assert "ratings.csv" in note
    assert len(_csv(out / "ratings.csv")) == 1 + 50


def test_texts_spilled_to_disk_give_the_same_outputs(summary, small_rubric, monkeypatch,
                                                     tmp_path):
    """Past the memory budget evidence lives in a temporary file: outputs do not change."""
    from workbook_tool.consolidate import TextSpill

    returns = summary.parent / "returns"
    roster = [School(f"H{i}", f"School {text[:30]}", "N&<") for i, text in enumerate(HOSTILE)]
    roster.append(School("M1", "Never returned"))
    monkeypatch.setattr(TextSpill, "BUDGET", 100)  # the first return stays in memory
    out = tmp_path / "spilled"
    report = run_consolidation(small_rubric, roster, [str(returns)], out, jobs=1)
    spilled = [r.result.answers for r in report.run.accepted
               if r.result.answers._where is not None]
    assert spilled and len(spilled) < len(report.run.accepted)
    for name in ("ratings.csv", "returns.csv", "problems.csv"):
        assert (out / name).read_bytes() == (summary / name).read_bytes(), name
    for sheet in ("Data", "Evidence", "Priorities", "Heatmap", "Domains", "Indicators"):
        ours = openpyxl.load_workbook(out / "district_summary.xlsx")[sheet]
        theirs = openpyxl.load_workbook(summary / "district_summary.xlsx")[sheet]
        assert [[c.value for c in r] for r in ours.iter_rows()] == [
            [c.value for c in r] for r in theirs.iter_rows()], sheet
    if importlib.util.find_spec("pyarrow"):
        import pyarrow.parquet as pq

        ours = pq.read_table(out / "ratings.parquet")
        assert ours.equals(pq.read_table(summary / "ratings.parquet"))


# -- StreamedRows on its own: frames built here, the result read back by openpyxl ---------

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _streamed(path, build, frame_path=None):
    """Save through StreamedRows a workbook whose frame `build(book, stream)` sets up (in
    memory, or through the file `frame_path`, as xlsxwriter's file mode writes it)."""
    frame = io.BytesIO()
    book = xlsxwriter.Workbook(str(frame_path) if frame_path else frame,
                               {"in_memory": frame_path is None})
    stream = StreamedRows()
    build(book, stream)
    book.close()
    stream.save(frame_path.read_bytes() if frame_path else frame.getvalue(), path)


def _row_numbers(path, member="xl/worksheets/sheet1.xml"):
    """The r of each <row>, after checking sheetData holds rows of cells and no stray text."""
    with zipfile.ZipFile(path) as archive:
        data = ElementTree.fromstring(archive.read(member)).find(f"{MAIN}sheetData")
    assert not data.text
    numbers = []
    for row in data:
        assert row.tag == f"{MAIN}row" and not row.text and not row.tail
        assert all(c.tag == f"{MAIN}c" and not c.tail for c in row)
        numbers.append(int(row.get("r")))
    assert numbers == sorted(set(numbers)), numbers  # ascending, each once, as Excel needs
    return numbers


def _parts(path, member="xl/worksheets/sheet1.xml"):
    """The worksheet's child elements by name, after checking no text lies between them."""
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read(member))
    assert not (root.text or "").strip()
    assert all(not (child.tail or "").strip() for child in root)
    return [child.tag.removeprefix(MAIN) for child in root]


def _dimension(path, sheet="Sheet1"):
    """The used range the sheet declares (openpyxl's read-only mode reads <dimension>)."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return book[sheet].calculate_dimension()
    finally:
        book.close()


def test_streamed_cells_take_the_column_format_unless_given_one(tmp_path):
    def build(book, stream):
        sheet = book.add_worksheet()
        sheet.set_column(0, 0, 20, book.add_format({"text_wrap": True}))
        sheet.set_column(2, 2, 10, book.add_format({"bold": True}))  # column 1: none
        sheet.write_string(0, 0, "Head")
        decimal = book.add_format({"num_format": "0.0"})
        stream.add(sheet, 1, 2, 3, lambda: [["wrapped", "plain", 1.25], ["w", "p", 2]],
                   [None, None, decimal])

    _streamed(tmp_path / "s.xlsx", build)
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx")["Sheet1"]
    assert [[c.value for c in r] for r in sheet.iter_rows(min_row=2)] == [
        ["wrapped", "plain", 1.25], ["w", "p", 2]]
    for row in (2, 3):
        assert sheet.cell(row, 1).alignment.wrap_text is True  # the column's format
        plain = sheet.cell(row, 2)
        assert not plain.alignment.wrap_text and not plain.font.b
        assert plain.number_format == "General"
        given = sheet.cell(row, 3)  # the format given wins over the column's bold
        assert given.number_format == "0.0" and not given.font.b


def test_rows_stream_into_a_sheet_with_no_cell(tmp_path):
    """A frame without any cell has <sheetData/>: the rows go inside it."""
    def build(book, stream):
        sheet = book.add_worksheet()
        stream.add(sheet, 0, 3, 2, lambda: [["a", 1], ["b", 2.5], [None, "c"]])

    path = tmp_path / "s.xlsx"
    _streamed(path, build)
    sheet = openpyxl.load_workbook(path)["Sheet1"]
    assert list(sheet.iter_rows(values_only=True)) == [("a", 1), ("b", 2.5), (None, "c")]
    assert _row_numbers(path) == [1, 2, 3]
    assert _dimension(path) == "A1:B3"
    assert _parts(path) == ["dimension", "sheetViews", "sheetFormatPr", "sheetData",
                            "pageMargins"]  # the frame's, one sheetData


def test_rows_go_between_the_header_and_a_note_below(tmp_path):
    def build(book, stream):
        sheet = book.add_worksheet()
        for col, text in enumerate(["H1", "H2", "H3"]):
            sheet.write_string(0, col, text)
        sheet.write_string(4, 3, "note")  # right under the streamed rows, one column out
        stream.add(sheet, 1, 3, 2, lambda: [["a", 1], ["b", 2], ["c", 3]])

    path = tmp_path / "s.xlsx"
    _streamed(path, build)
    assert _row_numbers(path) == [1, 2, 3, 4, 5]
    assert _dimension(path) == "A1:D5"  # the frame's note is further right and lower
    sheet = openpyxl.load_workbook(path)["Sheet1"]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("H1", "H2", "H3", None), ("a", 1, None, None), ("b", 2, None, None),
        ("c", 3, None, None), (None, None, None, "note")]


def test_a_frame_row_among_the_streamed_rows_is_refused(tmp_path):
    def build(book, stream):
        sheet = book.add_worksheet()
        sheet.write_string(0, 0, "Head")
        sheet.write_string(3, 0, "in the way")  # row 4: the last of rows 2 to 4
        stream.add(sheet, 1, 3, 1, lambda: [["a"], ["b"], ["c"]])

    with pytest.raises(ValueError, match=r"^Sheet1: row 4 is written twice$"):
        _streamed(tmp_path / "s.xlsx", build)


def test_fewer_rows_than_announced_are_refused(tmp_path):
    def build(book, stream):
        sheet = book.add_worksheet()
        sheet.write_string(0, 0, "Head")
        stream.add(sheet, 1, 3, 1, lambda: [["a"], ["b"]])

    with pytest.raises(ValueError, match=r"^Sheet1: 2 rows, 3 announced$"):
        _streamed(tmp_path / "s.xlsx", build)


def test_thousands_of_rows_arrive_whole(tmp_path):
    """More rows than one chunk of XML holds (2,000): every row, once, in order."""
    def build(book, stream):
        sheet = book.add_worksheet()
        stream.add(sheet, 0, 4500, 3, lambda: ([f"row {i}", i, ""] for i in range(1, 4501)))

    path = tmp_path / "s.xlsx"
    _streamed(path, build)
    assert _row_numbers(path) == list(range(1, 4501))
    assert _dimension(path) == "A1:C4500"  # the announced columns, the last one empty
    book = openpyxl.load_workbook(path, read_only=True)
    got = list(book["Sheet1"].iter_rows(values_only=True))
    book.close()
    assert got == [(f"row {i}", i, None) for i in range(1, 4501)]


def test_a_table_grows_to_the_streamed_rows_and_keeps_a_data_row(tmp_path):
    def build(book, stream):
        for count in (0, 2):  # a table with its header on row 3 (0-based 2)
            sheet = book.add_worksheet()
            sheet.add_table(2, 0, 3, 2, {"columns": [{"header": h} for h in ("X", "Y", "Z")]})
            stream.add(sheet, 3, count, 3, lambda n=count: [["a", 1, "b"]] * n)
            stream.grow_table(sheet, 2 + count)

    path = tmp_path / "s.xlsx"
    _streamed(path, build)
    book = openpyxl.load_workbook(path)
    for name, ref in (("Sheet1", "A3:C4"), ("Sheet2", "A3:C5")):
        (table,) = book[name].tables.values()
        assert table.ref == ref and table.autoFilter.ref == ref, name


def test_a_table_without_its_autofilter_is_refused(tmp_path):
    def build(book, stream):
        sheet = book.add_worksheet()
        sheet.add_table(0, 0, 1, 1, {"autofilter": False})
        stream.add(sheet, 1, 2, 2, lambda: [["a", 1], ["b", 2]])
        stream.grow_table(sheet, 2)

    with pytest.raises(ValueError, match=r"^unexpected table XML in xl/tables/table1\.xml$"):
        _streamed(tmp_path / "s.xlsx", build)


def _zip64_in_local_header(path, member) -> bool:
    """Whether `member`'s local file header carries a zip64 extra field (tag 1)."""
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(member).header_offset
    raw = path.read_bytes()
    name_length, extra_length = struct.unpack("<HH", raw[offset + 26:offset + 30])
    extra = raw[offset + 30 + name_length:offset + 30 + name_length + extra_length]
    tags = []
    while len(extra) >= 4:
        tag, size = struct.unpack("<HH", extra[:4])
        tags.append(tag)
        extra = extra[4 + size:]
    return 1 in tags


def test_sheets_of_a_million_rows_and_more_get_zip64_entries(tmp_path, monkeypatch):
    """Past _ZIP64_ROWS rows a sheet's XML may pass 4 GiB: its entry is zip64 from the start
    (the limit is lowered here so that three rows stand for a million)."""
    import workbook_tool.summary.stream as stream

    def build(book, streamed):
        sheet = book.add_worksheet()
        streamed.add(sheet, 0, 3, 1, lambda: [["a"], ["b"], ["c"]])

    for limit, zip64 in ((3, False), (2, True)):
        monkeypatch.setattr(stream, "_ZIP64_ROWS", limit)
        path = tmp_path / f"s{limit}.xlsx"
        _streamed(path, build)
        assert _zip64_in_local_header(path, "xl/worksheets/sheet1.xml") is zip64, limit
        assert not _zip64_in_local_header(path, "xl/workbook.xml")
        sheet = openpyxl.load_workbook(path)["Sheet1"]
        assert [c.value for c in sheet["A"]] == ["a", "b", "c"]


def test_every_member_keeps_the_frames_date(tmp_path):
    """xlsxwriter's file mode dates its members 31 January 1980 (the in-memory mode 1 January,
    which is also zipfile's default): the copy keeps the frame's date."""
    def build(book, stream):
        sheet = book.add_worksheet()
        sheet.write_string(0, 0, "Head")
        stream.add(sheet, 1, 1, 1, lambda: [["a"]])

    path = tmp_path / "s.xlsx"
    _streamed(path, build, frame_path=tmp_path / "frame.xlsx")
    with zipfile.ZipFile(path) as archive:
        dates = {info.filename: info.date_time for info in archive.infolist()}
    assert "xl/worksheets/sheet1.xml" in dates
    assert set(dates.values()) == {(1980, 1, 31, 0, 0, 0)}
