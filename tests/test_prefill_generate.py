"""A workbook prefilled with last cycle's answers, read back with openpyxl: the four prefill
columns, their names, protection and validations, the prefilled inputs, metadata, Start
Here, cached formula values; generate() per school; and a plain workbook with none of it."""

from __future__ import annotations

import io
import warnings

import openpyxl
import pytest

from workbook_tool.generate import generate
from workbook_tool.reader.model import Answer, Previous
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook, prefill_stamp
from workbook_tool.writer.prefill_stamp import PrefillStamper

SCHOOL = School("S-7", "Lincoln High", "North")
ISSUE = Issue("2026-27")
D1, D2 = "'D1 Leadership'", "'D2 Partnerships'"


@pytest.fixture
def previous():
    """Last cycle (2025-26, rubric version 2023-09) of the small rubric (2024-01)."""
    return Previous("2025-26", "2023-09", {
        # Stored under an older label: the workbook shows this rubric's label of level 2.
        "1.1": Answer("1.1", 2, "Growing (old)", "Minutes of 3 meetings",
                      "Write the vision with families", "High",
                      previous_level=1, review="Reviewed", followup="Done"),
        "1.2": Answer("1.2", 1, "Beginning", '=HYPERLINK("http://x")', "", "Low"),
        "1.3": Answer("1.3", 3, "Strong Practice", "", "00123", ""),
        "2.1": Answer("2.1", None, "", "", "Call two employers", ""),
        # 2.2 was not answered at all; 9.9 is not an indicator of this rubric.
        "9.9": Answer("9.9", 1, "Beginning", "stray", "", ""),
    })


def _open(data: bytes, data_only: bool = False):
    return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)


def _target(book, name: str):
    sheet, ref = next(iter(book.defined_names[name].destinations))
    return book[sheet][ref.replace("$", "")]


def _prefilled(small_rubric, previous, **kwargs) -> bytes:
    return build_workbook(small_rubric, SCHOOL, ISSUE, previous=previous, **kwargs)


# -- names and where they point -------------------------------------------------------------

NAMES = {
    "previous_rating_1_1": f"{D1}!$J$4", "previous_next_steps_1_1": f"{D1}!$K$4",
    "followup_1_1": f"{D1}!$L$4", "review_1_1": f"{D1}!$M$4",
    "previous_rating_1_2": f"{D1}!$J$5", "previous_next_steps_1_2": f"{D1}!$K$5",
    "followup_1_2": f"{D1}!$L$5", "review_1_2": f"{D1}!$M$5",
    "previous_rating_1_3": f"{D1}!$J$7", "previous_next_steps_1_3": f"{D1}!$K$7",
    "followup_1_3": f"{D1}!$L$7", "review_1_3": f"{D1}!$M$7",
    "previous_rating_2_1": f"{D2}!$J$4", "previous_next_steps_2_1": f"{D2}!$K$4",
    "followup_2_1": f"{D2}!$L$4", "review_2_1": f"{D2}!$M$4",
    "previous_rating_2_2": f"{D2}!$J$5", "previous_next_steps_2_2": f"{D2}!$K$5",
    "followup_2_2": f"{D2}!$L$5", "review_2_2": f"{D2}!$M$5",
}


def test_prefill_names_point_at_the_four_columns(small_rubric, previous):
    book = _open(_prefilled(small_rubric, previous))
    found = {name: book.defined_names[name].attr_text for name in book.defined_names
             if name.startswith(("previous_", "followup_", "review_"))}
    assert found == NAMES
    # The input names keep their columns F..I.
    assert book.defined_names["rating_1_3"].attr_text == f"{D1}!$F$7"
    assert book.defined_names["priority_2_2"].attr_text == f"{D2}!$I$5"


def test_headers_right_of_priority(small_rubric, previous):
    book = _open(_prefilled(small_rubric, previous))
    for sheet in ("D1 Leadership", "D2 Partnerships"):
        row = [c.value for c in book[sheet][2]]
        assert row[5:] == ["Rating", "Evidence", "Next steps", "Priority", "Last cycle",
                           "Last cycle's next steps", "Follow-up", "Review"]


# -- values ------------------------------------------------------------------------------

# (sheet, row): Rating, Evidence, Next steps, Priority, Last cycle, Last cycle's next steps,
# Follow-up, Review (columns F..M); None where the cell is empty.
VALUES = {
    ("D1 Leadership", 4): ("Growing", "Minutes of 3 meetings", "Write the vision with families",
                           "High", "Growing", "Write the vision with families", None,
                           "Carried forward"),
    ("D1 Leadership", 5): ("Beginning", '=HYPERLINK("http://x")', None, "Low", "Beginning",
                           None, None, "Carried forward"),
    ("D1 Leadership", 7): ("Strong Practice", None, "00123", None, "Strong Practice", "00123",
                           None, "Carried forward"),
    ("D2 Partnerships", 4): (None, None, "Call two employers", None, None,
                             "Call two employers", None, "Carried forward"),
    ("D2 Partnerships", 5): (None, None, None, None, None, None, None, None),
}


def test_every_prefill_and_input_cell(small_rubric, previous):
    book = _open(_prefilled(small_rubric, previous))
    for (sheet, row), expected in VALUES.items():
        cells = book[sheet][f"F{row}":f"M{row}"][0]
        assert tuple(c.value for c in cells) == expected, (sheet, row)
        for cell in cells:  # text from the store stays text: no formula, no number
            assert cell.value is None or cell.data_type == "s", cell.coordinate


def test_an_answer_given_wins_over_last_cycle(small_rubric, previous):
    answers = {"1.1": Answer("1.1", 3, "Strong Practice", "New minutes", "", "Low",
                             review="Reviewed", followup="In progress")}
    book = _open(_prefilled(small_rubric, previous, answers=answers))
    row = [c.value for c in book["D1 Leadership"]["F4":"M4"][0]]
    assert row == ["Strong Practice", "New minutes", None, "Low", "Growing",
                   "Write the vision with families", "In progress", "Reviewed"]
    cached = _open(_prefilled(small_rubric, previous, answers=answers), data_only=True)
    assert [c.value for c in cached["Summary"]["B4":"G4"][0]] == [3, 3, 1, 0, 2, 1]


# -- protection, validations, layout ----------------------------------------------------------

def test_last_cycle_locked_follow_up_and_review_unlocked(small_rubric, previous):
    book = _open(_prefilled(small_rubric, previous))
    sheet = book["D1 Leadership"]
    assert sheet.protection.sheet
    for col in "JK":
        assert sheet[f"{col}4"].protection.locked is not False, col
    for col in "FGHILM":
        assert sheet[f"{col}4"].protection.locked is False, col
    assert sheet["L4"].number_format == "@" and sheet["M4"].number_format == "@"


def _validations(sheet, cell: str) -> list:
    return [dv for dv in sheet.data_validations.dataValidation if cell in dv.sqref]


def test_follow_up_and_review_dropdowns(small_rubric, previous):
    sheet = _open(_prefilled(small_rubric, previous))["D2 Partnerships"]
    for row in (4, 5):
        (followup,) = _validations(sheet, f"L{row}")
        assert followup.type == "list" and followup.showErrorMessage
        assert followup.errorStyle in (None, "stop")
        assert followup.formula1 == '"Done,In progress,Not started,Dropped"'
        assert followup.showInputMessage and followup.prompt
        (review,) = _validations(sheet, f"M{row}")
        assert review.type == "list" and review.showErrorMessage
        assert review.errorStyle in (None, "stop")
        assert review.formula1 == '"Carried forward,Reviewed"'
        assert review.showInputMessage and "Reviewed" in review.prompt
        assert _validations(sheet, f"J{row}") == [] and _validations(sheet, f"K{row}") == []
    (rating,) = _validations(sheet, "F4")
    assert rating.formula1 == '"Beginning,Growing,Strong Practice"'


def test_columns_print_and_wrap(small_rubric, previous):
    sheet = _open(_prefilled(small_rubric, previous))["D1 Leadership"]
    widths = [round(sheet.column_dimensions[c].width) for c in "JKLM"]
    assert widths == [15, 31, 14, 16]  # 14, 30, 13, 15 characters, as Excel stores them
    assert sheet["K4"].alignment.wrap_text
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet["A1"].value == "Domain 1: Leadership and Vision"
    assert "A1:M1" in {str(r) for r in sheet.merged_cells.ranges}  # the title spans all


# -- metadata and Start Here -------------------------------------------------------------------

def test_metadata_says_which_cycle(small_rubric, previous):
    book = _open(_prefilled(small_rubric, previous))
    rows = list(book["_workbook_tool"].iter_rows(min_row=10, values_only=True))
    assert rows == [("raters", 0), ("previous_cycle", "2025-26"),
                    ("previous_rubric_version", "2023-09")]
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["previous_cycle"] == "2025-26"
    assert props["previous_rubric_version"] == "2023-09"
    assert props["cycle"] == "2026-27" and props["rubric_version"] == "2024-01"


def _start_text(book) -> list[str]:
    return [c for row in book["Start Here"].iter_rows(values_only=True) for c in row
            if isinstance(c, str)]


def test_start_here_says_where_the_values_came_from(small_rubric, previous):
    texts = _start_text(_open(_prefilled(small_rubric, previous)))
    at = texts.index("Last cycle's answers")
    assert texts[at + 1].startswith(
        "This workbook starts from your school's answers of cycle 2025-26 (rubric version "
        "2023-09; this workbook uses version 2024-01): each indicator's rating, evidence, "
        "next steps and priority are already filled in")
    assert texts[at + 2].startswith("Review every indicator as a team.")
    assert 'set its Review cell from "Carried forward" to "Reviewed"' in texts[at + 2]
    assert texts[at + 3] == ("In Follow-up, say what became of last cycle's next steps: "
                             "Done, In progress, Not started or Dropped.")


def test_start_here_of_the_same_rubric_version(small_rubric, previous):
    same = Previous("2025-26", "2024-01", previous.answers)
    texts = _start_text(_open(_prefilled(small_rubric, same)))
    assert any("answers of cycle 2025-26 (rubric version 2024-01): each" in t for t in texts)


# -- cached formula values ---------------------------------------------------------------------

def test_cached_summary_and_progress_count_the_prefilled_ratings(small_rubric, previous):
    book = _open(_prefilled(small_rubric, previous), data_only=True)
    summary = book["Summary"]
    # Indicators, Rated, Beginning, Growing, Strong Practice, % rated.
    assert [c.value for c in summary["B4":"G4"][0]] == [3, 3, 1, 1, 1, 1]
    assert [c.value for c in summary["B5":"G5"][0]] == [2, 0, 0, 0, 0, 0]
    assert [c.value for c in summary["B6":"G6"][0]] == [5, 3, 1, 1, 1, 0.6]
    assert book["Start Here"]["B9"].value == "3 of 5 indicators rated"


def test_cached_team_sheet_shows_the_prefilled_rating(small_rubric, previous):
    data = build_workbook(small_rubric, SCHOOL, Issue("2026-27", raters=2), previous=previous)
    sheet = _open(data, data_only=True)["Team ratings"]
    # Agreed rating (column H with two raters) of 1.1, 1.2, 1.3; raters have not rated.
    assert [sheet[f"H{r}"].value for r in (7, 8, 9)] == ["Growing", "Beginning",
                                                         "Strong Practice"]
    assert [sheet[f"{c}7"].value for c in "CDEF"] == [None, None, None, None]


# -- generate ------------------------------------------------------------------------------------

SCHOOLS = [School("S-7", "Lincoln High", "North"), School("S-8", "Rosa Parks Academy", "")]


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_generate_prefills_only_schools_with_a_previous_cycle(tmp_path, small_rubric, previous):
    results = generate(small_rubric, SCHOOLS, tmp_path / "a", ISSUE,
                       previous={"S-7": previous, "S-99": previous})
    assert [g.file for g in results] == ["S-7_lincoln-high.xlsx", "S-8_rosa-parks-academy.xlsx"]
    files = _files(tmp_path / "a")
    assert files["S-7_lincoln-high.xlsx"] == build_workbook(small_rubric, SCHOOLS[0], ISSUE,
                                                            previous=previous)
    assert files["S-8_rosa-parks-academy.xlsx"] == build_workbook(small_rubric, SCHOOLS[1],
                                                                  ISSUE)
    prefilled = _open(files["S-7_lincoln-high.xlsx"])
    assert _target(prefilled, "review_1_1").value == "Carried forward"
    assert "review_1_1" not in _open(files["S-8_rosa-parks-academy.xlsx"]).defined_names


def test_generate_is_deterministic(tmp_path, small_rubric, previous):
    for out in ("a", "b"):
        generate(small_rubric, SCHOOLS, tmp_path / out, Issue("2026-27", raters=3),
                 previous={"S-8": previous})
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second and len(first) == 3  # two workbooks and manifest.csv
    assert _prefilled(small_rubric, previous) == _prefilled(small_rubric, previous)


# -- a plain workbook has none of it ------------------------------------------------------------

def test_a_plain_workbook_has_no_prefill(small_rubric):
    book = _open(build_workbook(small_rubric, SCHOOL, ISSUE))
    assert not [n for n in book.defined_names
                if n.startswith(("previous_", "followup_", "review_"))]
    for sheet in ("D1 Leadership", "D2 Partnerships"):
        assert book[sheet].max_column == 9  # A..I: nothing right of Priority
        assert "A1:I1" in {str(r) for r in book[sheet].merged_cells.ranges}
    keys = [row[0] for row in book["_workbook_tool"].iter_rows(values_only=True)]
    assert keys[-1] == "raters" and "previous_cycle" not in keys
    props = {p.name for p in book.custom_doc_props.props}
    assert not {"previous_cycle", "previous_rubric_version"} & props
    assert "Last cycle's answers" not in _start_text(book)


# -- stamping: the same bytes as building ---------------------------------------------------

TEXTS = ["", "Growing", "Rating", "Carried forward", "Done", "=1+1", "+SUM(A1)", "00123",
         "  spaced  ", "a & <b> \"q\"", "Line one\nLine two", "Control \x01 char",
         "Escape _x0041_ lookalike", "<r>only the start", "École 🚀", "x" * 700,
         "Lincoln High", "S-7", "High", "Strong Practice"]


def _hostile_previous(rubric, k: int) -> Previous:
    """Every indicator's answer from TEXTS in a different mix per k: blanks, text equal to
    the workbook's own strings or to each other, long text (row heights), every level,
    an unrated one, a level the rubric lacks, and indicators left out."""
    answers = {}
    for j, ind in enumerate(rubric.indicators):
        if (j + k) % 7 == 6:
            continue
        level = [None, 1, 2, 3, 9][(j + k) % 5]
        answers[ind.id] = Answer(ind.id, level, "stored", TEXTS[(j + k) % len(TEXTS)],
                                 TEXTS[(3 * j + k) % len(TEXTS)],
                                 ["High", "", "Low", "=2"][(j + k) % 4])
    return Previous(f"2025-{k % 2}", "2023-09", answers)


@pytest.mark.parametrize("raters", [0, 3])
def test_stamped_prefilled_bytes_equal_built_bytes(small_rubric, rubric, raters, monkeypatch):
    built = []

    def counting_build(*args, **kwargs):
        built.append(args[1].school_id)
        return build_workbook(*args, **kwargs)

    monkeypatch.setattr(prefill_stamp, "build_workbook", counting_build)
    for rubric_ in (small_rubric, rubric):
        issue = Issue("2026 & 27", raters=raters)
        stamper = PrefillStamper(rubric_, issue)
        for k in range(6):
            # Answers equal to the school's name or id, too (TEXTS).
            school = School(["S-7", f"S-{k}"][k % 2], ["Lincoln High", "École 🚀"][k % 2],
                            "North" if k % 3 else "")
            previous = _hostile_previous(rubric_, k)
            assert stamper.workbook(school, previous) == build_workbook(
                rubric_, school, issue, previous=previous), (rubric_.id, k)
    assert built == []  # every one was stamped, none built


def test_values_a_template_cannot_carry_are_built(small_rubric, monkeypatch):
    built = []

    def counting_build(*args, **kwargs):
        built.append(kwargs["previous"].cycle)
        return build_workbook(*args, **kwargs)

    monkeypatch.setattr(prefill_stamp, "build_workbook", counting_build)
    stamper = PrefillStamper(small_rubric, ISSUE)
    for cycle, evidence in (("rich", "<r><t>x</t></r>"), ("mark", "WbtStampQz00001"),
                            ("long", "y" * 40000)):
        previous = Previous(cycle, "v", {"1.1": Answer("1.1", 1, "Beginning", evidence)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # xlsxwriter warns as it cuts 40,000 characters
            stamped = stamper.workbook(SCHOOL, previous)
            assert stamped == build_workbook(small_rubric, SCHOOL, ISSUE, previous=previous)
    # A school named like one of the workbook's strings: one shared string, so built.
    previous = Previous("name", "v", {"1.1": Answer("1.1", 1, "Beginning", "ok")})
    school = School("S-1", "Strong Practice")
    assert stamper.workbook(school, previous) == build_workbook(small_rubric, school, ISSUE,
                                                                previous=previous)
    assert built == ["rich", "mark", "long", "name"]


def test_row_height_makes_room_for_last_cycles_next_steps(small_rubric):
    previous = Previous("2025-26", "2024-01", {"1.1": Answer("1.1", 1, "Beginning", "", "x" * 300)})
    answers = {"1.1": Answer("1.1", 1, "Beginning")}  # this cycle's next steps are empty
    sheet = _open(_prefilled(small_rubric, previous, answers=answers))["D1 Leadership"]
    # 300 characters in a 30-wide column: 9 lines of 13 points, and 6 to spare.
    assert sheet.row_dimensions[4].height == 123
    assert sheet["H4"].value is None and sheet["K4"].value == "x" * 300
