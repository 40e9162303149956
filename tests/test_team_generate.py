"""Golden structure of team workbooks (generated with raters): the Team ratings sheet's
names, cells, validations, protection, print setup and the cached values of its formulas.

Every expected cell and value is a literal worked out by hand from layout's rules:
columns A id, B indicator, C.. one per rater, then median, spread, Discuss, agreed rating,
agreement note, and hidden helper columns; rows 4 names, 5 headers, then per domain a
band row and one row per indicator.
"""

from __future__ import annotations

import io
import warnings

import openpyxl
import pytest
from click.testing import CliRunner

from workbook_tool.cli import main
from workbook_tool.generate import generate
from workbook_tool.reader import read_file
from workbook_tool.reader.model import Answer, TeamRatings
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook
from workbook_tool.writer.stamp import Stamper

SCHOOL = School("S-7", "Riverbend High", "North")
SMALL_IDS = ("1_1", "1_2", "1_3", "2_1", "2_2")


def _open(data: bytes, data_only: bool = False):
    return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)


@pytest.fixture(scope="module")
def small_team(small_rubric) -> bytes:
    """The small rubric (3 levels, 5 indicators) with 3 empty rater columns."""
    return build_workbook(small_rubric, SCHOOL, Issue("2026-27", raters=3))


def _name(book, name: str) -> str:
    return book.defined_names[name].attr_text


def _cell(book, name: str):
    sheet, ref = next(book.defined_names[name].destinations)
    return book[sheet][ref.replace("$", "")]


def _value(book, name: str):
    return _cell(book, name).value


# -- names and places -------------------------------------------------------------------

def test_team_sheet_sits_after_the_domain_sheets(small_team):
    assert _open(small_team).sheetnames == [
        "Start Here", "D1 Leadership", "D2 Partnerships", "Team ratings", "Summary", "Glossary",
        "_workbook_tool"]


def test_every_team_name_exists(small_team):
    book = _open(small_team)
    team = {f"rater_name_{k}" for k in (1, 2, 3)}
    team |= {f"rater_{k}_{i}" for k in (1, 2, 3) for i in SMALL_IDS}
    team |= {f"agreement_note_{i}" for i in SMALL_IDS}
    assert team <= set(book.defined_names)
    assert not {"rater_4_1_1", "rater_name_4"} & set(book.defined_names)


@pytest.mark.parametrize(("name", "ref"), [
    ("rater_name_1", "'Team ratings'!$C$4"),
    ("rater_name_2", "'Team ratings'!$D$4"),
    ("rater_name_3", "'Team ratings'!$E$4"),
    ("rater_1_1_1", "'Team ratings'!$C$7"),
    ("rater_2_1_1", "'Team ratings'!$D$7"),
    ("rater_3_1_1", "'Team ratings'!$E$7"),
    ("rater_1_1_2", "'Team ratings'!$C$8"),
    ("rater_2_1_3", "'Team ratings'!$D$9"),
    ("rater_1_2_1", "'Team ratings'!$C$11"),  # domain 2's band row is 10
    ("rater_3_2_2", "'Team ratings'!$E$12"),
    ("agreement_note_1_1", "'Team ratings'!$J$7"),
    ("agreement_note_1_3", "'Team ratings'!$J$9"),
    ("agreement_note_2_2", "'Team ratings'!$J$12"),
])
def test_names_point_where_the_layout_puts_them(small_team, name, ref):
    assert _name(_open(small_team), name) == ref


def test_headers_ids_and_bands(small_team):
    sheet = _open(small_team)["Team ratings"]
    assert [c.value for c in sheet[5]][:10] == [
        "ID", "Indicator", "Rater 1", "Rater 2", "Rater 3", "Median", "Spread", "Discuss",
        "Agreed rating", "Agreement note"]
    assert [sheet[f"A{r}"].value for r in range(6, 13)] == [
        "D1 Leadership and Vision", "1.1", "1.2", "1.3", "D2 Partnerships with the Community",
        "2.1", "2.2"]
    assert sheet["B9"].value == "Data use"
    assert sheet["B4"].value == "Rater's name:"
    assert sheet["A1"].value == "Team ratings: Small Test Rubric"


def test_formulas_of_one_indicator_row(small_team):
    sheet = _open(small_team)["Team ratings"]
    assert sheet["K7"].value == (
        '=IFERROR(MATCH(TRIM(C7),{"Beginning","Growing","Strong Practice"},0),'
        'IFERROR(MATCH(VALUE(TRIM(C7)),{1,2,3},0),""))')
    assert sheet["M9"].value == (
        '=IFERROR(MATCH(TRIM(E9),{"Beginning","Growing","Strong Practice"},0),'
        'IFERROR(MATCH(VALUE(TRIM(E9)),{1,2,3},0),""))')
    assert sheet["F7"].value == '=IF(COUNT(K7:M7)>=1,MEDIAN(K7:M7),"")'
    assert sheet["G7"].value == '=IF(COUNT(K7:M7)>=2,MAX(K7:M7)-MIN(K7:M7),"")'
    assert sheet["H7"].value == '=IF(COUNT(K7:M7)<2,"",IF(G7>=2,"Discuss",""))'
    assert sheet["I9"].value == "=IF('D1 Leadership'!$F$7=\"\",\"\",'D1 Leadership'!$F$7)"
    assert sheet["I11"].value == "=IF('D2 Partnerships'!$F$4=\"\",\"\",'D2 Partnerships'!$F$4)"


def test_team_view_formulas(small_team):
    sheet = _open(small_team)["Team ratings"]
    assert sheet["A14"].value == "Team view"
    assert [sheet[f"{c}16"].value for c in "ACDEFG"] == [
        "Domain", "Compared", "All agree", "Within one level", "Flagged", "Flagged indicators"]
    assert sheet["A17"].value == "D1 Leadership and Vision"
    assert sheet["C17"].value == "=COUNT(G7:G9)"
    assert sheet["D17"].value == '=IF(C17=0,"",COUNTIF(G7:G9,0)/C17)'
    assert sheet["E17"].value == '=IF(C17=0,"",COUNTIF(G7:G9,"<=1")/C17)'
    assert sheet["F17"].value == '=COUNTIF(G7:G9,">=2")'
    assert sheet["G17"].value == (
        '=MID(IF(H7="Discuss",", "&A7,"")&IF(H8="Discuss",", "&A8,"")'
        '&IF(H9="Discuss",", "&A9,""),3,32767)')
    assert sheet["A19"].value == "All domains"
    assert sheet["C19"].value == "=SUM(C17:C18)"
    assert sheet["D19"].value == '=IF(C19=0,"",(COUNTIF(G7:G9,0)+COUNTIF(G11:G12,0))/C19)'
    assert sheet["E19"].value == (
        '=IF(C19=0,"",(COUNTIF(G7:G9,"<=1")+COUNTIF(G11:G12,"<=1"))/C19)')
    assert sheet["F19"].value == "=SUM(F17:F18)"
    assert sheet["G19"].value == '=MID(IF(G17="","",", "&G17)&IF(G18="","",", "&G18),3,32767)'


# -- inputs: validation, protection, text format ------------------------------------------

def test_every_rater_cell_has_the_level_dropdown_with_a_stop_alert(small_team):
    sheet = _open(small_team)["Team ratings"]
    cells = [f"{col}{row}" for col in "CDE" for row in (7, 8, 9, 11, 12)]
    for cell in cells:
        found = [dv for dv in sheet.data_validations.dataValidation if cell in dv.sqref]
        assert len(found) == 1, cell
        dv = found[0]
        assert dv.type == "list"
        assert dv.formula1 == '"Beginning,Growing,Strong Practice"'
        assert dv.errorStyle in (None, "stop")  # absent means stop
        assert dv.showErrorMessage
    for cell in ("C4", "J7", "F7", "B7"):  # names, notes and formulas take any text / none
        assert not [dv for dv in sheet.data_validations.dataValidation if cell in dv.sqref]


def test_inputs_unlocked_and_text_everything_else_locked(small_team):
    sheet = _open(small_team)["Team ratings"]
    assert sheet.protection.sheet
    for cell in ("C4", "D4", "E4", "C7", "E12", "J7", "J12"):
        assert sheet[cell].protection.locked is False, cell
        assert sheet[cell].number_format == "@", cell
    for cell in ("A7", "B7", "F7", "G7", "H7", "I7", "K7", "C17", "G19", "B4"):
        assert sheet[cell].protection.locked is not False, cell


def test_helper_columns_hidden_and_the_rest_shown(small_team):
    sheet = _open(small_team)["Team ratings"]

    def hidden(letter: str) -> bool:
        index = openpyxl.utils.column_index_from_string(letter)
        return any(dim.hidden for dim in sheet.column_dimensions.values()
                   if dim.min <= index <= dim.max)

    assert [hidden(c) for c in "ABCDEFGHIJKLMN"] == [False] * 10 + [True] * 3 + [False]


@pytest.mark.parametrize("raters", [3, 6])
def test_prints_landscape_one_page_wide_with_headers_repeated(rubric, raters):
    sheet = _open(build_workbook(rubric, SCHOOL, Issue("2026-27", raters=raters)))[
        "Team ratings"]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1)  # absent means 1
    assert sheet.page_setup.fitToHeight == 0  # as many pages down as it takes
    assert sheet.print_title_rows == "$4:$5"


def test_raters_property_and_hidden_sheet(small_team):
    book = _open(small_team)
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["raters"] == 3
    meta = {row[0].value: row[1].value for row in book["_workbook_tool"].iter_rows(min_row=2)}
    assert meta["raters"] == 3


def test_start_here_explains_rating_as_a_team(small_team, small_rubric):
    def texts(data: bytes) -> list[str]:
        return [str(c.value) for row in _open(data)["Start Here"].iter_rows() for c in row
                if c.value is not None]

    team = texts(small_team)
    assert "Rating as a team" in team
    assert any("types their name above a Rater column" in t and "on their own first" in t
               for t in team)
    assert any('flagged "Discuss"' in t and "Agreement note" in t
               and "outside the raters' range" in t for t in team)
    assert "Rating as a team" not in texts(build_workbook(small_rubric, SCHOOL, "2026-27"))
    pair = texts(build_workbook(small_rubric, SCHOOL, Issue("2026-27", raters=2)))
    assert "Rating as a team" in pair


# -- cached values of a prefilled team ------------------------------------------------------

TEAM = TeamRatings(
    ("Ana", "=Ben", ""),
    {
        "1.1": (2, 2, 2),  # all agree
        "1.2": (2, 3, None),  # median 2.5, within one
        "1.3": (1, 4, None),  # flagged
        "1.5": (None, 3, None),  # one rater: not compared
        "1.6": (1, 2, 4),  # flagged, median 2
        "2.1": (4, 1, 1),  # flagged
    },
    {"1.3": "We read the evidence together."},
)


@pytest.fixture(scope="module")
def prefilled(rubric) -> bytes:
    answers = {"1.3": Answer("1.3", 2, "Developing")}
    return build_workbook(rubric, SCHOOL, Issue("2026-27"), ["1", "2"], answers, team=TEAM)


def test_prefilled_names_labels_and_notes(prefilled):
    sheet = _open(prefilled)["Team ratings"]
    assert [sheet[c].value for c in ("C4", "D4", "E4")] == ["Ana", "=Ben", None]
    assert sheet["D4"].data_type == "s"  # a name typed like a formula stays text
    assert [sheet[f"{c}9"].value for c in "CDE"] == ["Emerging", "Transforming", None]
    assert [sheet[f"{c}12"].value for c in "CDE"] == ["Emerging", "Developing", "Transforming"]
    assert sheet["J9"].value == "We read the evidence together."
    assert sheet["J7"].value is None


# Row: (median, spread, flag, agreed), as cached in the file; None where the cell shows nothing.
CACHED = {
    7: (2, 0, None, None),  # 1.1
    8: (2.5, 1, None, None),  # 1.2
    9: (2.5, 3, "Discuss", "Developing"),  # 1.3
    10: (None, None, None, None),  # 1.4: nobody rated
    11: (3, None, None, None),  # 1.5: one rater
    12: (2, 3, "Discuss", None),  # 1.6
    16: (1, 3, "Discuss", None),  # 2.1
    17: (None, None, None, None),  # 2.2
}


@pytest.mark.parametrize("row", sorted(CACHED))
def test_cached_statistics_per_indicator(prefilled, row):
    sheet = _open(prefilled, data_only=True)["Team ratings"]
    assert tuple(sheet[f"{c}{row}"].value for c in "FGHI") == CACHED[row]
    # A whole median or spread is cached as a whole number: a viewer shows 2, not 2.0.
    assert all(type(sheet[f"{c}{row}"].value) in (int, type(None)) for c in "G")
    if CACHED[row][0] == 2:
        assert type(sheet[f"F{row}"].value) is int


def test_cached_level_numbers_in_the_helpers(prefilled):
    sheet = _open(prefilled, data_only=True)["Team ratings"]
    assert [sheet[f"{c}9"].value for c in "KLM"] == [1, 4, None]
    assert [sheet[f"{c}11"].value for c in "KLM"] == [None, 3, None]


def test_cached_team_view(prefilled):
    sheet = _open(prefilled, data_only=True)["Team ratings"]
    assert sheet["A24"].value == "D1 Leadership Commitment and Accountability"
    rows = {r: tuple(sheet[f"{c}{r}"].value for c in "CDEFG") for r in (24, 25, 26)}
    assert rows == {
        24: (4, 0.25, 0.5, 2, "1.3, 1.6"),  # D1: 1.1 1.2 1.3 1.6 compared
        25: (1, 0, 0, 1, "2.1"),  # D2
        26: (5, 0.2, 0.4, 3, "1.3, 1.6, 2.1"),  # all domains
    }


def test_empty_team_caches_empty_statistics(small_team):
    sheet = _open(small_team, data_only=True)["Team ratings"]
    assert [sheet[f"{c}7"].value for c in "FGHIKLM"] == [None] * 7
    assert [sheet[f"{c}19"].value for c in "CDEFG"] == [0, None, None, 0, None]


def test_prefilled_team_reads_back(prefilled, rubric, tmp_path):
    path = tmp_path / "team.xlsx"
    path.write_bytes(prefilled)
    team = read_file(path, rubric).team
    assert team.names == ("Ana", "=Ben", "")
    assert team.levels["1.3"] == (1, 4, None)
    assert team.levels["2.1"] == (4, 1, 1)
    assert team.levels["1.4"] == (None, None, None)
    assert team.notes == {"1.3": "We read the evidence together."}


def test_team_decides_the_rater_columns(rubric):
    book = _open(build_workbook(rubric, SCHOOL, Issue("2026-27", raters=5), ["1"],
                                team=TeamRatings(("A", "B"))))
    assert "rater_name_2" in book.defined_names
    assert "rater_name_3" not in book.defined_names
    assert {p.name: p.value for p in book.custom_doc_props.props}["raters"] == 2


@pytest.mark.parametrize("raters", [1, 9])
def test_build_refuses_a_team_of_the_wrong_size(small_rubric, raters):
    with pytest.raises(ValueError, match="2 to 8 raters"):
        build_workbook(small_rubric, SCHOOL, Issue("x", raters=raters))


def test_same_inputs_same_bytes(rubric, prefilled):
    answers = {"1.3": Answer("1.3", 2, "Developing")}
    again = build_workbook(rubric, SCHOOL, Issue("2026-27"), ["1", "2"], answers, team=TEAM)
    assert again == prefilled


# -- the stamper and generate -----------------------------------------------------------------

STAMP_SCHOOLS = [
    School("S-1", "Lincoln High School", "North"),
    School("S-2", "O'Keefe & <Arts>", ""),
    School("S-3", "Discuss", "Rater 1"),  # strings of the team sheet
    School("S-4", "Team ratings", "All domains"),
    School("S-5", "École 🚀", "Agreement note"),
]


@pytest.mark.parametrize("raters", [2, 8])
def test_stamped_team_workbooks_equal_built_ones(rubric, raters):
    issue = Issue("2026-27", due="March 15", raters=raters)
    stamper = Stamper(rubric, issue)
    for school in STAMP_SCHOOLS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert stamper.workbook(school) == build_workbook(rubric, school, issue), school
    assert stamper.templates  # the template path was taken, not only the fallback


def test_stamped_prefilled_team_workbooks_equal_built_ones(small_rubric):
    team = TeamRatings(("Ana", "Ben"), {"1.1": (1, 3), "2.2": (None, 2)}, {"1.1": "Why"})
    issue = Issue("2026-27", raters=2)
    stamper = Stamper(small_rubric, issue, team=team)
    for school in STAMP_SCHOOLS[:2]:
        built = build_workbook(small_rubric, school, issue, team=team)
        assert stamper.workbook(school) == built, school
    book = _open(built)
    assert _value(book, "rater_2_1_1") == "Strong Practice"
    assert _value(book, "agreement_note_1_1") == "Why"
    assert stamper.templates


def test_completed_by_is_prefilled_as_text(small_rubric):
    data = build_workbook(small_rubric, SCHOOL, Issue("2026-27"), completed_by="=Ana Ruiz")
    book = _open(data)
    cell = _cell(book, "completed_by")
    assert (cell.value, cell.data_type, cell.number_format) == ("=Ana Ruiz", "s", "@")
    assert _value(_open(build_workbook(small_rubric, SCHOOL, "x")), "completed_by") is None


def test_generate_writes_team_workbooks(small_rubric, tmp_path):
    issue = Issue("2026-27", raters=4)
    generate(small_rubric, STAMP_SCHOOLS[:2], tmp_path, issue)
    data = (tmp_path / "S-1_lincoln-high-school.xlsx").read_bytes()
    assert data == build_workbook(small_rubric, STAMP_SCHOOLS[0], issue)
    assert "'Team ratings'!$F$4" in _name(_open(data), "rater_name_4")


# -- the command line ----------------------------------------------------------------------

def test_cli_generate_raters(roster_csv, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(roster_csv), "--out", str(out),
                                       "--raters", "3", "--cycle", "2026-27"])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "101_lincoln-high-school.xlsx")
    assert "Team ratings" in book.sheetnames
    assert _name(book, "rater_3_5_4") == "'Team ratings'!$E$38"
    assert {p.name: p.value for p in book.custom_doc_props.props}["raters"] == 3


def test_cli_generate_without_raters_has_no_team_sheet(roster_csv, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(roster_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "101_lincoln-high-school.xlsx")
    assert "Team ratings" not in book.sheetnames
    assert not [n for n in book.defined_names if n.startswith(("rater_", "agreement_note_"))]
    assert {p.name: p.value for p in book.custom_doc_props.props}["raters"] == 0
    meta = {row[0].value: row[1].value for row in book["_workbook_tool"].iter_rows(min_row=2)}
    assert meta["raters"] == 0


@pytest.mark.parametrize("given", ["1", "9", "two"])
def test_cli_refuses_a_team_of_the_wrong_size(roster_csv, tmp_path, given):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", str(roster_csv), "--out", str(out),
                                       "--raters", given])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: Invalid value for '--raters': {given} is not a number of raters from 2 to 8 "
        "(one rating column per team member).")
    assert "Traceback" not in result.output
    assert not out.exists()
