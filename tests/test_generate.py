"""Golden-structure tests of generated workbooks: names, validations, protection, properties."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner

from workbook_tool import layout
from workbook_tool.cli import main
from workbook_tool.generate import file_names
from workbook_tool.reader.model import Answer
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook


@pytest.fixture(scope="module")
def book_bytes(rubric):
    school = School("S-101", "Lincoln High School / Early College & Co", "North")
    return build_workbook(rubric, school, Issue("2026-27", due="March 15"))


@pytest.fixture(scope="module")
def book(book_bytes):
    return openpyxl.load_workbook(io.BytesIO(book_bytes))


def _target(book, name):
    sheet, cell = layout.parse_ref(book.defined_names[name].attr_text)
    return book[sheet][cell]


def test_sheets_in_order_and_hidden_data_sheet(book, rubric):
    domain_sheets = [layout.domain_sheet_name(d) for d in rubric.domains]
    assert book.sheetnames == ["Start Here", *domain_sheets, "Summary", "Glossary",
                               "_workbook_tool"]
    assert book["_workbook_tool"].sheet_state == "hidden"
    assert all(book[n].sheet_state == "visible" for n in book.sheetnames[:-1])
    assert all(len(n) <= 31 for n in book.sheetnames)


def test_every_defined_name_points_at_one_cell(book, rubric):
    expected = set(layout.expected_names(rubric))
    assert expected <= set(book.defined_names)
    assert len(expected) == 4 + 4 * 28
    for name in expected:
        ref = layout.parse_ref(book.defined_names[name].attr_text)
        assert ref is not None, name
        assert ref[0] in book.sheetnames


def test_school_fields(book):
    assert _target(book, "school_id").value == "S-101"
    assert _target(book, "school_name").value == "Lincoln High School / Early College & Co"
    assert _target(book, "cycle").value == "2026-27"


def test_descriptors_sit_beside_each_rating_cell(book, rubric):
    for indicator in rubric.indicators:
        cell = _target(book, layout.defined_name("rating", indicator))
        sheet = cell.parent
        assert cell.value is None
        assert sheet.cell(cell.row, 1).value == indicator.id
        assert sheet.cell(cell.row, 2).value == indicator.title
        for level in rubric.levels:
            shown = sheet.cell(cell.row, 2 + level.level).value
            assert str(shown) == indicator.descriptors[level.level].text


def test_validations_cover_every_rating_and_priority(book, rubric):
    for indicator in rubric.indicators:
        for kind, values in (("rating", rubric.labels), ("priority", layout.PRIORITIES)):
            cell = _target(book, layout.defined_name(kind, indicator))
            matches = [dv for dv in cell.parent.data_validations.dataValidation
                       if cell.coordinate in dv.sqref]
            assert len(matches) == 1, (kind, indicator.id)
            dv = matches[0]
            assert dv.type == "list" and dv.showErrorMessage
            assert dv.errorStyle in (None, "stop")  # absent means stop in OOXML
            assert dv.formula1 == '"' + ",".join(values) + '"'
            assert len(dv.formula1) <= 257  # Google Sheets and LibreOffice keep inline lists
            if kind == "rating":
                assert dv.showInputMessage and dv.prompt


def test_protection_and_unlocked_inputs(book, rubric):
    for name in book.sheetnames:
        assert book[name].protection.sheet, name
    for indicator in rubric.indicators:
        for kind in layout.INPUT_KINDS:
            cell = _target(book, layout.defined_name(kind, indicator))
            assert cell.protection.locked is False, (kind, indicator.id)
        title = _target(book, layout.defined_name("rating", indicator)).offset(0, -5)
        assert title.protection.locked is not False
    assert _target(book, "school_id").protection.locked is not False


def test_custom_properties_and_hidden_sheet_agree(book, rubric):
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["workbook_tool_format"] == layout.FORMAT_VERSION
    assert props["rubric_id"] == rubric.id
    assert props["rubric_version"] == rubric.version
    assert props["rubric_fingerprint"] == rubric.fingerprint
    assert props["school_id"] == "S-101"
    assert props["cycle"] == "2026-27"
    sheet = book["_workbook_tool"]
    meta = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert meta["school_id"] == "S-101" and meta["rubric_fingerprint"] == rubric.fingerprint
    assert meta["domains"] == "1,2,3,4,5"
    assert meta["workbook_tool_format"] == layout.FORMAT_VERSION


def test_print_setup_and_panes(book, rubric):
    sheet = book[layout.domain_sheet_name(rubric.domains[0])]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1)  # absent means 1 in OOXML
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.freeze_panes == "A3"
    assert sheet.print_title_rows == "$1:$2"
    assert "Lincoln High School" in sheet.oddHeader.left.text
    assert not sheet.sheet_view.showGridLines


def test_conditional_formats_colour_ratings_and_descriptors(book, rubric):
    sheet = book[layout.domain_sheet_name(rubric.domains[0])]
    rules = [r for cf in sheet.conditional_formatting for r in cf.rules]
    formulas = " ".join(f for r in rules for f in (r.formula or []))
    for label in rubric.labels:
        assert f'"{label}"' in formulas


def test_summary_formulas_have_cached_values(rubric):
    answers = {
        "1.1": Answer("1.1", 3, "Advancing"),
        "1.2": Answer("1.2", 1, "Emerging"),
        "2.1": Answer("2.1", 4, "Transforming"),
    }
    data = build_workbook(rubric, School("9", "X"), "c", answers=answers)
    cached = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    formulas = openpyxl.load_workbook(io.BytesIO(data))
    summary, live = cached["Summary"], formulas["Summary"]
    rows = {r[0].value: [c.value for c in r] for r in summary.iter_rows(min_row=4)
            if r[0].value}
    d1 = rows["D1 Leadership Commitment and Accountability"]
    assert d1[1:7] == [8, 2, 1, 0, 1, 0]
    assert rows["All domains"][1:7] == [28, 3, 1, 0, 1, 1]
    assert str(live["D4"].value).startswith("=COUNTIF(")
    progress = _target(cached, "completed_by").offset(1, 0)
    assert progress.value == "3 of 28 indicators rated"
    assert summary._charts or formulas["Summary"]._charts is not None


def test_prefilled_answers_are_strings(rubric):
    hostile = '=HYPERLINK("http://example.com","click")'
    answers = {"1.1": Answer("1.1", 2, "Developing", hostile, "+cmd|' /C calc'!A0", "High")}
    data = build_workbook(rubric, School("9", "=1+1"), "c", answers=answers)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = "".join(z.read(n).decode() for n in z.namelist() if "worksheets/sheet" in n)
    assert "<f>HYPERLINK" not in sheets and "<f>cmd" not in sheets and "<f>1+1" not in sheets
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert _target(book, "evidence_1_1").value == hostile
    assert _target(book, "evidence_1_1").data_type == "s"
    assert _target(book, "school_name").data_type == "s"
    assert book["Start Here"]._hyperlinks == []


def test_every_contract_property_even_when_empty(rubric, school):
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(rubric, school, "")))
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert set(props) == {"workbook_tool_format", "rubric_id", "rubric_version",
                          "rubric_fingerprint", "school_id", "cycle", "raters"}
    assert props["cycle"] in ("", None)


def test_deterministic(rubric, school):
    first = build_workbook(rubric, school, "2026-27")
    assert build_workbook(rubric, school, "2026-27") == first
    assert build_workbook(rubric, school, "2027-28") != first


def test_other_rubric_without_code_changes(small_rubric):
    data = build_workbook(small_rubric, School("7", "Small"), "c")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert set(layout.expected_names(small_rubric)) <= set(book.defined_names)
    cell = _target(book, "rating_1_1")
    assert cell.column == 2 + 3 + 1  # id, title, 3 descriptors, then the rating
    dv = [d for d in cell.parent.data_validations.dataValidation if cell.coordinate in d.sqref]
    assert dv[0].formula1 == '"Beginning,Growing,Strong Practice"'


def test_domain_selection(rubric):
    data = build_workbook(rubric, School("9", "X"), "c", domain_ids=["1", "3"])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert [n for n in book.sheetnames if n.startswith("D")] == [
        "D1 Leadership", layout.domain_sheet_name(rubric.domain("3"))]
    assert "rating_2_1" not in book.defined_names and "rating_3_6" in book.defined_names
    meta = {r[0]: r[1] for r in book["_workbook_tool"].iter_rows(values_only=True)}
    assert meta["domains"] == "1,3"


def test_file_names_safe_and_unique():
    schools = [School("A/1", "Saint-Éxupéry: \"Lycée\" <Nord>"),
               School("A-1", "saint exupery lycee nord"),
               School("CON", "x" * 300), School("7", "***")]
    names = list(file_names(schools).values())
    assert len({n.lower() for n in names}) == 4
    for name in names:
        assert name.endswith(".xlsx") and len(name) < 120
        assert not set(name) & set('<>:"/\\|?*')
    assert names[0] == "A-1_saint-exupery-lycee-nord.xlsx"
    assert names[1] == "A-1_saint-exupery-lycee-nord-2.xlsx"
    assert names[2].startswith("CON-_")


def test_generate_command_writes_workbooks_and_manifest(tmp_path, roster_csv):
    before = roster_csv.read_bytes()
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(roster_csv), "--out", str(out),
                                       "--cycle", "2026-27", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert roster_csv.read_bytes() == before
    with open(out / "manifest.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["school_id"] for r in rows] == ["101", "102", "103"]
    assert list(rows[0]) == ["school_id", "school_name", "file", "sha256"]
    for row in rows:
        data = (out / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    assert rows[1]["file"] == "102_o-keefe-academy-arts.xlsx"
    assert not list(out.glob(".*.tmp"))


ROSTER_ERRORS = {
    "missing column": ("id,name\n1,A\n", "missing column school_id"),
    "empty id": ("school_id,school_name\n1,A\n,B\n", "row 3: empty school_id"),
    "duplicate id": ("school_id,school_name\n1,A\n1,B\n", "row 3: duplicate school_id '1'"),
    "empty file": ("", "the roster is empty"),
}


@pytest.mark.parametrize("case", sorted(ROSTER_ERRORS))
def test_roster_errors_write_nothing(tmp_path, case):
    text, expected = ROSTER_ERRORS[case]
    roster = tmp_path / "roster.csv"
    roster.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(roster), "--out", str(out)])
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_roster_headers_encodings_and_xlsx(tmp_path):
    from workbook_tool.roster import load_roster

    cp = tmp_path / "win.csv"
    cp.write_bytes(" School ID ;School Name;Network\n1;Café Müller;N\n".encode("cp1252"))
    assert load_roster(cp)[0].school_name == "Café Müller"
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffSCHOOL_ID,school name\n  2 , O'Neil / East  \n".encode())
    school = load_roster(bom)[0]
    assert (school.school_id, school.school_name) == ("2", "O'Neil / East")
    xlsx = tmp_path / "roster.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["school_id", "school_name"])
    wb.active.append([303, "Numeric Id High"])
    wb.save(xlsx)
    assert load_roster(xlsx)[0].school_id == "303"


def test_unknown_domain_is_usage_error(tmp_path, roster_csv):
    result = CliRunner().invoke(main, ["generate", str(roster_csv), "--out",
                                       str(tmp_path / "o"), "--domains", "1,9"])
    assert result.exit_code == 2
    assert "unknown domain 9" in result.output


def test_text_shaped_like_xlsxwriter_rich_markup_stays_text(rubric):
    tricky = "<r><t>broken</t></r><si>oops</r>"
    answers = {"1.1": Answer("1.1", 1, "Emerging", tricky, tricky, "Low")}
    data = build_workbook(rubric, School("<r>x</r>", tricky), "<r>c</r>", answers=answers)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert str(_target(book, "evidence_1_1").value) == tricky
    assert str(_target(book, "school_name").value) == tricky
    assert str(_target(book, "cycle").value) == "<r>c</r>"
