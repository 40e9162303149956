"""Reading a team workbook: the raters' names, levels and agreement notes, `completed_by`,
and the team problem codes. Workbooks come from the real writer with three raters and are
filled or damaged with openpyxl, as a spreadsheet program would.

Small rubric: indicators 1.1, 1.2, 1.3 (sheet "D1 Leadership") and 2.1, 2.2 ("D2
Partnerships"); levels 1 Beginning, 2 Growing, 3 Strong Practice.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.workbook.defined_name import DefinedName

import excel_like
from returns_kit import (
    CYCLE,
    SCHOOL,
    SMALL_RUBRIC,
    codes,
    fill,
    make_return,
    named_cell,
    read,
    set_cell_xml,
    small_rubric,
    with_openpyxl,
)
from workbook_tool import agreement
from workbook_tool.cli import main
from workbook_tool.reader.model import TeamRatings
from workbook_tool.writer import Issue, build_workbook

TEAM = "Team ratings"
LABELS = "(Beginning, Growing, Strong Practice)"


@pytest.fixture(scope="module")
def rubric():
    return small_rubric()


@pytest.fixture(scope="module")
def blank_team():
    """A three-rater workbook as generated: nothing filled in."""
    return build_workbook(small_rubric(), SCHOOL, Issue(CYCLE, raters=3))


def redefine(data: bytes, targets: dict[str, str | None]) -> bytes:
    """Point defined names elsewhere ("'Sheet'!$C$8"), or delete them (None)."""

    def edit(book):
        for name, target in targets.items():
            del book.defined_names[name]
            if target is not None:
                book.defined_names[name] = DefinedName(name, attr_text=target)

    return with_openpyxl(data, edit)


def typed(data: bytes, name: str, text: str) -> bytes:
    """A text in a named cell with its surrounding spaces kept, as Excel saves it."""
    sheet, ref = named_cell(data, name)
    return set_cell_xml(data, sheet, ref, f'<c r="{ref}" t="inlineStr"><is>'
                        f'<t xml:space="preserve">{text}</t></is></c>')


def only(result, code):
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, result.problems
    return found[0]


# The team's whole story in one workbook (every value typed as a person would).
STORY = {
    "rater_name_2": "Ben Okafor",
    # 1.1: raters 1 and 2, rater 3 blank; agreed 3 with no note: outside the range
    "rater_1_1_1": "Beginning", "rater_2_1_1": "Growing", "rating_1_1": "Strong Practice",
    # 1.2: a lowercase label (typed with spaces, below) and a number are read as levels,
    # with no warning
    "rater_2_1_2": 2, "rater_3_1_2": "Growing",
    "rating_1_2": "Growing",
    # 1.3: rater 2's value is not a level; the agreed rating is in range, with a note
    "rater_1_1_3": "Beginning", "rater_2_1_3": "Excellent", "rater_3_1_3": "Strong Practice",
    "rating_1_3": "Growing", "agreement_note_1_3": "We met on the data use evidence.",
    # 2.1: every rater rated, nobody agreed
    "rater_1_2_1": "Strong Practice", "rater_2_2_1": "Strong Practice",
    "rater_3_2_1": "Strong Practice",
    # 2.2: nobody rated; a note of spaces (below) is no note
}
SPACED = {"completed_by": "  Lincoln site team ", "rater_name_1": "  Ana Ruiz ",
          "rater_1_1_2": " growing ", "agreement_note_2_2": "   "}


@pytest.fixture(scope="module")
def story(blank_team):
    data = fill(blank_team, STORY)
    for name, text in SPACED.items():
        data = typed(data, name, text)
    return data


def test_a_team_workbook_is_read_exactly(rubric, story):
    result = read(story, rubric)
    assert result.format_version == 2
    assert result.completed_by == "Lincoln site team"
    assert result.team == TeamRatings(
        names=("Ana Ruiz", "Ben Okafor", ""),
        levels={"1.1": (1, 2, None), "1.2": (2, 2, 2), "1.3": (1, None, 3),
                "2.1": (3, 3, 3), "2.2": (None, None, None)},
        notes={"1.3": "We met on the data use evidence."},
    )
    assert [(a.indicator_id, a.level) for a in result.answers] == [
        ("1.1", 3), ("1.2", 2), ("1.3", 2), ("2.1", None), ("2.2", None)]
    assert [(p.code, p.sheet, p.cell) for p in result.problems] == [
        ("unrated", "", ""),
        ("invalid-rater-rating", TEAM, "D9"),
        ("not-agreed", "", ""),
        ("agreed-outside-range", "D1 Leadership", "F4"),
    ]


def test_the_messages(rubric, story):
    result = read(story, rubric)
    assert only(result, "unrated").message == "2 of 5 indicators are not rated: 2.1, 2.2"
    assert only(result, "invalid-rater-rating").message == (
        'the rating of 1.3 by rater 2 (Ben Okafor) is "Excellent", which is not one of the '
        f"levels {LABELS}; it is left out of the team's statistics")
    assert only(result, "not-agreed").message == (
        "1 indicator was rated by raters but has no agreed rating, so it counts as unrated: "
        "2.1")
    assert only(result, "agreed-outside-range").message == (
        "the agreed rating of 1.1 is 3 (Strong Practice), but the raters rated it 1 to 2 "
        "(Beginning to Growing) and its agreement note is empty; write in the note why the "
        "team agreed on this rating")


def test_prefilled_team_workbook_round_trips(rubric):
    from returns_kit import answer

    team = TeamRatings(("Ana", "Ben", "Cy"),
                       {"1.1": (1, 3, None), "2.2": (2, 2, 3)}, {"1.1": "Split: 1 and 3."})
    data = build_workbook(rubric, SCHOOL, Issue(CYCLE, raters=3),
                          answers={"1.1": answer("1.1", 2), "2.2": answer("2.2", 2)},
                          team=team)
    result = read(data, rubric)
    assert result.team == TeamRatings(
        ("Ana", "Ben", "Cy"),
        {"1.1": (1, 3, None), "1.2": (None,) * 3, "1.3": (None,) * 3, "2.1": (None,) * 3,
         "2.2": (2, 2, 3)},
        {"1.1": "Split: 1 and 3."})
    assert codes(result) == ["unrated"]


def test_a_rater_name_is_named_in_messages_only_when_typed(rubric, blank_team):
    data = fill(blank_team, {"rater_3_2_2": "Level 9", "rating_2_2": "Growing"})
    problem = only(read(data, rubric), "invalid-rater-rating")
    assert (problem.sheet, problem.cell) == (TEAM, "E12")
    assert problem.message.startswith('the rating of 2.2 by rater 3 is "Level 9", which')


def test_an_error_value_in_a_rater_cell_is_an_invalid_rater_rating(rubric, blank_team):
    sheet, ref = named_cell(blank_team, "rater_1_1_2")
    data = set_cell_xml(blank_team, sheet, ref, f'<c r="{ref}" t="e"><v>#N/A</v></c>')
    result = read(data, rubric)
    problem = only(result, "invalid-rater-rating")
    assert (problem.sheet, problem.cell) == (TEAM, "C8")
    assert "is the error value #N/A, which is not one of the levels" in problem.message
    assert result.team.of("1.2") == (None, None, None)


def test_a_rater_rating_stored_as_a_number_is_judged_as_stored(rubric, blank_team):
    data = fill(blank_team, {"rater_1_1_1": 2.6, "rater_2_1_1": 3.0})
    # a format that shows 2.6 as "3" does not make it a level
    data = with_openpyxl(data, lambda book: setattr(book[TEAM]["C7"], "number_format", "0"))
    result = read(data, rubric)
    assert result.team.of("1.1") == (None, 3, None)
    assert only(result, "invalid-rater-rating").message.startswith(
        'the rating of 1.1 by rater 1 is "2.6", which')


def test_a_formula_in_a_rater_cell_is_read_as_its_value_with_a_warning(rubric, blank_team):
    data = fill(blank_team, {"rater_name_1": "Ana Ruiz"})
    data = set_cell_xml(data, TEAM, "C7",
                        '<c r="C7" t="str"><f>"Grow"&amp;"ing"</f><v>Growing</v></c>')
    result = read(data, rubric)
    assert result.team.of("1.1") == (2, None, None)
    problem = only(result, "formula-value")
    assert (problem.sheet, problem.cell) == (TEAM, "C7")
    assert problem.message == ('the rating of 1.1 by rater 1 (Ana Ruiz) is a formula; its '
                               'last computed value "Growing" was used')


def test_a_rater_name_is_shown_safely_in_messages(rubric, blank_team):
    data = typed(blank_team, "rater_name_1", "Ana\u200bRuiz " + "x" * 60)
    data = fill(data, {"rater_1_1_1": "Best"})
    assert only(read(data, rubric), "invalid-rater-rating").message.startswith(
        'the rating of 1.1 by rater 1 (Ana<U+200B>Ruiz xxxxxxxxxxxxxxxxxxxxxxx…) is "Best"')


def test_text_cells_of_the_team_keep_their_fidelity(rubric, blank_team):
    data = fill(blank_team, {"rater_name_2": 0.87})
    sheet, ref = named_cell(data, "rater_name_2")
    data = with_openpyxl(data, lambda book: setattr(book[sheet][ref], "number_format", "0%"))
    note_sheet, note_ref = named_cell(data, "agreement_note_2_1")
    data = set_cell_xml(data, note_sheet, note_ref,
                        f'<c r="{note_ref}" t="e"><v>#DIV/0!</v></c>')
    # openpyxl cuts a text at 32,767 characters; a pasted longer one is written directly
    long_sheet, long_ref = named_cell(data, "agreement_note_1_1")
    data = set_cell_xml(data, long_sheet, long_ref,
                        f'<c r="{long_ref}" t="inlineStr"><is><t>{"x" * 32_768}</t></is></c>')
    result = read(data, rubric)
    assert result.team.names == ("", "87%", "")
    assert result.team.notes == {"1.1": "x" * 32_768, "2.1": "#DIV/0!"}
    assert [(p.code, p.cell) for p in result.problems if p.code != "unrated"] == [
        ("text-too-long", "J7"), ("error-value", "J11")]
    assert only(result, "error-value").message == (
        "the agreement note of 2.1 shows the error value #DIV/0!; it was kept as that text")


# -- not-agreed and agreed-outside-range -----------------------------------------------------

def test_not_agreed_counts_and_lists_the_indicators(rubric, blank_team):
    data = fill(blank_team, {
        "rater_2_1_2": "Growing", "rater_1_2_1": "Beginning", "rater_3_2_2": "Growing",
        "rating_1_1": "Growing", "rater_1_1_1": "Growing",  # agreed: not listed
        "rater_1_1_3": "Excellent",  # only an invalid value: nobody rated 1.3
    })
    result = read(data, rubric)
    assert only(result, "not-agreed").message == (
        "3 indicators were rated by raters but have no agreed rating, so they count as "
        "unrated: 1.2, 2.1, 2.2")
    assert only(result, "unrated").message == (
        "4 of 5 indicators are not rated: 1.2, 1.3, 2.1, 2.2")


def test_no_not_agreed_when_the_agreed_rating_is_an_error(rubric, blank_team):
    data = fill(blank_team, {"rater_1_1_1": "Growing", "rating_1_1": "Great"})
    result = read(data, rubric)
    assert "invalid-rating" in codes(result)
    assert "not-agreed" not in codes(result)


@pytest.mark.parametrize("raters, agreed, note, told", [
    (("Beginning", "Growing", None), "Strong Practice", None,
     "is 3 (Strong Practice), but the raters rated it 1 to 2 (Beginning to Growing)"),
    (("Strong Practice", "Strong Practice", "Strong Practice"), "Beginning", None,
     "is 1 (Beginning), but the raters rated it 3 (Strong Practice)"),
    (("Growing", "Excellent", None), "Beginning", None,  # the invalid value is left out
     "is 1 (Beginning), but the raters rated it 2 (Growing)"),
    (("Beginning", "Growing", None), "Strong Practice", "The evidence says so.", None),
    (("Beginning", "Strong Practice", None), "Growing", None, None),
    (("Growing", None, None), "Growing", None, None),
    ((None, None, None), "Strong Practice", None, None),
])
def test_agreed_outside_range(rubric, blank_team, raters, agreed, note, told):
    cells = {f"rater_{k}_2_1": level for k, level in enumerate(raters, 1) if level}
    cells |= {"rating_2_1": agreed, "agreement_note_2_1": note}
    result = read(fill(blank_team, cells), rubric)
    found = [p for p in result.problems if p.code == "agreed-outside-range"]
    if told is None:
        assert found == []
        return
    assert [(p.sheet, p.cell) for p in found] == [("D2 Partnerships", "F4")]
    assert found[0].message == (
        f"the agreed rating of 2.1 {told} and its agreement note is empty; write in the note "
        "why the team agreed on this rating")


# -- cells that cannot be read ---------------------------------------------------------------

def test_a_deleted_rater_cell_is_left_out_with_one_warning(rubric, story):
    data = redefine(story, {"rater_3_2_1": None})
    result = read(data, rubric)
    assert codes(result) == ["unrated", "invalid-rater-rating", "team-cell-missing",
                             "not-agreed", "agreed-outside-range"]
    assert only(result, "team-cell-missing").message == (
        "1 team cell could not be read and was left out (rater_3_2_1): its defined name is "
        "gone or does not point at its place on the 'Team ratings' sheet; the team statistics "
        "use the rest")
    assert result.team.of("2.1") == (3, 3, None)
    assert [(a.indicator_id, a.level) for a in result.answers] == [
        ("1.1", 3), ("1.2", 2), ("1.3", 2), ("2.1", None), ("2.2", None)]
    rated = agreement.stats(result.team.of("2.1"))
    assert (rated.raters, rated.spread, rated.exact) == (2, 0, True)


# In reading order: the names, then per indicator raters 1..3 and the note.
LOST = ["rater_name_1", "agreement_note_1_1", "rater_1_1_2", "rater_2_1_2", "rater_1_2_1",
        "agreement_note_2_2"]


@pytest.mark.parametrize("count, listed", [
    (5, "rater_name_1, agreement_note_1_1, rater_1_1_2, rater_2_1_2, rater_1_2_1"),
    (6, "rater_name_1, agreement_note_1_1, rater_1_1_2, rater_2_1_2, rater_1_2_1, …"),
])
def test_many_lost_cells_are_one_warning_naming_the_first_five(rubric, story, count, listed):
    result = read(redefine(story, dict.fromkeys(LOST[:count])), rubric)
    assert only(result, "team-cell-missing").message == (
        f"{count} team cells could not be read and were left out ({listed}): their defined "
        "names are gone or do not point at their places on the 'Team ratings' sheet; the "
        "team statistics use the rest")
    assert result.team.names == ("", "Ben Okafor", "")
    assert result.team.of("1.1") == (1, 2, None)
    assert result.team.of("1.2") == (None, None, 2)
    assert result.team.of("2.1") == (None, 3, 3)
    # 1.1 is agreed outside its raters' range, but its note could not be read, so it is not
    # known to be empty: no such warning
    assert "agreed-outside-range" not in codes(result)
    assert not any(p.is_error for p in result.problems)


def test_rater_names_moved_to_another_row_are_never_read_as_that_indicator(rubric, story):
    # rater 1..3 of 1.1 now point at the cells of 1.2 (a row down), as a program that
    # deletes a row without moving the names would leave them
    data = redefine(story, {f"rater_{k}_1_1": f"'{TEAM}'!${col}$8"
                            for k, col in ((1, "C"), (2, "D"), (3, "E"))})
    result = read(data, rubric)
    assert result.team.of("1.1") == (None, None, None)
    assert result.team.of("1.2") == (2, 2, 2)
    assert only(result, "team-cell-missing").message.startswith(
        "3 team cells could not be read and were left out (rater_1_1_1, rater_2_1_1, "
        "rater_3_1_1)")
    assert not any(p.is_error for p in result.problems)


def test_a_column_inserted_without_moving_the_names_loses_the_team_only(rubric, story):
    # a column inserted left of rater 1 by a program that does not move names: every
    # team name now points one column left of its cell, still in its indicator's row
    result = read(with_openpyxl(story, lambda book: book[TEAM].insert_cols(3)), rubric)
    assert result.team == TeamRatings(("", "", ""), {i: (None,) * 3 for i in
                                                     ("1.1", "1.2", "1.3", "2.1", "2.2")})
    assert only(result, "team-cell-missing").message.startswith("23 team cells could not")
    assert not any(p.is_error for p in result.problems)


def test_a_name_on_a_copy_of_the_team_sheet_is_not_read(rubric, story):
    def edit(book):
        copy = book.copy_worksheet(book[TEAM])
        copy.title = "Old ratings"
        copy["C7"] = "Strong Practice"
        book.defined_names["rater_1_1_1"].attr_text = "'Old ratings'!$C$7"

    result = read(with_openpyxl(story, edit), rubric)
    assert result.team.of("1.1") == (None, 2, None)
    assert only(result, "team-cell-missing").message.startswith(
        "1 team cell could not be read and was left out (rater_1_1_1)")


def test_a_merged_rater_cell_is_left_out(rubric, story):
    result = read(with_openpyxl(story, lambda book: book[TEAM].merge_cells("C7:D7")), rubric)
    assert result.team.of("1.1") == (1, None, None)
    assert only(result, "team-cell-missing").message.startswith(
        "1 team cell could not be read and was left out (rater_2_1_1)")


def test_one_cell_is_never_read_for_two_team_names(rubric, story):
    # hostile: rater 1's name now points at rater 1's cell of 1.1, and the cell below it
    # says "Rater 1"; that cell is read once, as the name
    data = redefine(fill(story, {"rater_1_1_2": "Rater 1"}),
                    {"rater_name_1": f"'{TEAM}'!$C$7"})
    result = read(data, rubric)
    assert result.team.names == ("Beginning", "Ben Okafor", "")
    assert result.team.of("1.1") == (None, 2, None)
    assert only(result, "team-cell-missing").message.startswith(
        "1 team cell could not be read and was left out (rater_1_1_1)")


def test_a_team_name_on_an_answer_cell_is_never_read_as_that_answer(rubric, story):
    data = redefine(story, {
        "agreement_note_2_1": "'D2 Partnerships'!$G$4",  # evidence_2_1's cell
        "rater_1_2_2": "'D2 Partnerships'!$F$5",  # rating_2_2's cell
        "rater_name_1": f"'{TEAM}'!$D$4",  # rater 2's name cell
        "rater_2_1_3": f"'{TEAM}'!$E$9",  # rater 3's cell of the same indicator
    })
    data = fill(data, {"evidence_2_1": "Visits", "rating_2_2": "Beginning"})
    result = read(data, rubric)
    assert codes(result).count("team-cell-missing") == 1
    assert "misplaced-cell" not in codes(result) and "missing-cell" not in codes(result)
    assert result.team.names == ("", "Ben Okafor", "")
    assert result.team.of("1.3") == (1, None, 3)
    assert result.team.of("2.2") == (None, None, None)
    assert "2.1" not in result.team.notes
    answers = {a.indicator_id: a for a in result.answers}
    assert (answers["2.1"].evidence, answers["2.2"].level) == ("Visits", 1)


def test_a_renamed_team_sheet_and_inserted_rows_are_still_read(rubric, story):
    def edit(book):  # as Excel does it: the names move with the sheet and the rows
        excel_like.insert_rows(book, TEAM, 9, 2)  # above 1.3 and above the header
        excel_like.insert_rows(book, TEAM, 3, 1)
        excel_like.rename_sheet(book, TEAM, "Our ratings")

    result = read(with_openpyxl(story, edit), rubric)
    assert result.team == TeamRatings(
        names=("Ana Ruiz", "Ben Okafor", ""),
        levels={"1.1": (1, 2, None), "1.2": (2, 2, 2), "1.3": (1, None, 3),
                "2.1": (3, 3, 3), "2.2": (None, None, None)},
        notes={"1.3": "We met on the data use evidence."},
    )
    assert codes(result) == ["unrated", "invalid-rater-rating", "not-agreed",
                             "agreed-outside-range"]
    assert only(result, "invalid-rater-rating").place == "Our ratings!D12"


def test_a_deleted_team_sheet_costs_the_team_only(rubric, story):
    def drop(book):
        del book[TEAM]

    result = read(with_openpyxl(story, drop), rubric)
    assert result.team == TeamRatings(("", "", ""), {i: (None,) * 3 for i in
                                                     ("1.1", "1.2", "1.3", "2.1", "2.2")})
    assert only(result, "team-cell-missing").message.startswith(
        "23 team cells could not be read")
    assert not any(p.is_error for p in result.problems)
    assert [a.level for a in result.answers] == [3, 2, 2, None, None]


def test_a_deleted_agreed_rating_name_is_still_missing_cell(rubric, story):
    result = read(redefine(story, {"rating_1_2": None}), rubric)
    problem = only(result, "missing-cell")
    assert problem.is_error
    assert "the rating of 1.2 cannot be read" in problem.message
    assert result.team.of("1.2") == (2, 2, 2)
    assert "not-agreed" in codes(result)  # 1.2 broken: not counted as not agreed
    assert "1.2" not in only(result, "not-agreed").message


# -- the raters key --------------------------------------------------------------------------

def set_meta(data: bytes, key: str, sheet_value=None, prop_value=None) -> bytes:
    """Change a key on the hidden sheet and/or its custom property."""

    def edit(book):
        if sheet_value is not None:
            for row in book["_workbook_tool"].iter_rows():
                if row[0].value == key:
                    row[1].value = sheet_value
        if prop_value is not None:
            from openpyxl.packaging.custom import IntProperty, StringProperty

            props = book.custom_doc_props
            kept = [p for p in props.props if p.name != key]
            kind = IntProperty if isinstance(prop_value, int) else StringProperty
            props.props = [*kept, kind(name=key, value=prop_value)]

    return with_openpyxl(data, edit)


@pytest.mark.parametrize("value", ["3", 3.0, "3.0"])
def test_the_raters_key_reads_like_the_format_version(rubric, story, value):
    result = read(set_meta(story, "raters", sheet_value=value), rubric)
    assert result.team.names == ("Ana Ruiz", "Ben Okafor", "")


def test_the_hidden_sheet_wins_over_the_property(rubric, story):
    result = read(set_meta(story, "raters", sheet_value=3, prop_value="three"), rubric)
    assert result.team.names == ("Ana Ruiz", "Ben Okafor", "")
    assert "team-cell-missing" not in codes(result)
    result = read(set_meta(story, "raters", sheet_value="", prop_value=3), rubric)
    assert result.team.of("2.1") == (3, 3, 3)


@pytest.mark.parametrize("value", [2, 0])
def test_a_lowered_raters_key_hides_no_named_rater(rubric, story, value):
    result = read(set_meta(story, "raters", sheet_value=value, prop_value=value), rubric)
    assert result.team.names == ("Ana Ruiz", "Ben Okafor", "")
    assert result.team.of("2.1") == (3, 3, 3)
    assert "team-cell-missing" not in codes(result)


def test_a_workbook_without_rater_names_has_no_team(rubric):
    result = read(make_return(rubric), rubric)
    assert result.team is None

    def one_rater_name(book):
        book.defined_names["rater_1_1_1"] = DefinedName(
            "rater_1_1_1", attr_text="'Start Here'!$B$4")

    result = read(with_openpyxl(make_return(rubric), one_rater_name), rubric)
    assert result.team is None  # one rater is no team


@pytest.mark.parametrize("value", ["three", 9, 1, -2, 2.5])
def test_a_garbled_raters_key_reads_the_raters_the_names_show(rubric, story, value):
    result = read(set_meta(story, "raters", sheet_value=value), rubric)
    assert result.team.names == ("Ana Ruiz", "Ben Okafor", "")
    assert result.team.of("2.1") == (3, 3, 3)
    assert "team-cell-missing" not in codes(result)


@pytest.mark.parametrize("value", ["three", 9, 1, -2, 2.5])
def test_a_garbled_raters_key_keeps_the_agreed_ratings(rubric, value):
    def garble(book):
        for row in book["_workbook_tool"].iter_rows():
            if row[0].value == "raters":
                row[1].value = value

    plain = fill(make_return(rubric), {"rating_2_1": "Strong Practice"})
    result = read(with_openpyxl(plain, garble), rubric)
    assert result.team is None
    problem = only(result, "team-cell-missing")
    assert problem.message == (
        f'the workbook\'s number of raters is "{value}", not a number from 2 to 8, so its '
        "rater columns could not be read; the agreed ratings were read as usual")
    assert not any(p.is_error for p in result.problems)
    assert [a.level for a in result.answers] == [None, None, None, 3, None]


# -- workbooks without raters ----------------------------------------------------------------

def test_a_plain_workbook_has_no_team(rubric):
    data = fill(make_return(rubric), {"completed_by": " Dana Lee\t"})
    result = read(data, rubric)
    assert result.team is None
    assert result.completed_by == "Dana Lee"
    assert codes(result) == ["unrated"]


def test_completed_by_never_reads_another_cell(rubric):
    data = fill(make_return(rubric), {"evidence_1_1": "Our notes", "completed_by": "Dana"})
    moved = redefine(data, {"completed_by": "'D1 Leadership'!$G$4"})  # evidence_1_1
    result = read(moved, rubric)
    assert result.completed_by == ""
    # a cell no other name uses, but not beside the "Completed by" label
    elsewhere = with_openpyxl(data, lambda book: book["Start Here"].cell(2, 6, "Dana"))
    result = read(redefine(elsewhere, {"completed_by": "'Start Here'!$F$2"}), rubric)
    assert result.completed_by == ""
    result = read(moved, rubric)
    assert result.completed_by == ""
    assert result.answers[0].evidence == "Our notes"
    assert codes(result) == ["unrated"]
    gone = read(redefine(data, {"completed_by": None}), rubric)
    assert gone.completed_by == "" and codes(gone) == ["unrated"]
    # beside its label, but the school name is read from that cell
    shared = read(redefine(data, {"school_name": "'Start Here'!$B$7"}), rubric)
    assert shared.completed_by == "" and codes(shared) == ["unrated"]
    assert read(data, rubric).completed_by == "Dana"


def as_format_1(data: bytes) -> bytes:
    """What workbook-tool 1 wrote: format key 1, no `raters`, no `completed_by` name."""

    def edit(book):
        hidden = book["_workbook_tool"]
        for row in hidden.iter_rows():
            if row[0].value == "workbook_tool_format":
                row[1].value = 1
        for row in list(hidden.iter_rows()):
            if row[0].value == "raters":
                hidden.delete_rows(row[0].row)
        from openpyxl.packaging.custom import IntProperty

        props = book.custom_doc_props
        props.props = [IntProperty(name="workbook_tool_format", value=1) if
                       p.name == "workbook_tool_format" else p
                       for p in props.props if p.name != "raters"]
        del book.defined_names["completed_by"]

    return with_openpyxl(data, edit)


def test_a_format_1_workbook_reads_as_before(rubric):
    from returns_kit import answers_for

    data = as_format_1(make_return(rubric, answers=answers_for(rubric)))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert "completed_by" not in book.defined_names
    assert [p.value for p in book.custom_doc_props.props if p.name == "workbook_tool_format"] \
        == [1]
    result = read(data, rubric)
    assert result.format_version == 1
    assert result.problems == []
    assert (result.completed_by, result.team) == ("", None)
    assert [(a.indicator_id, a.level, a.evidence) for a in result.answers] == [
        ("1.1", 1, "Evidence for 1.1"), ("1.2", 2, "Evidence for 1.2"),
        ("1.3", 3, "Evidence for 1.3"), ("2.1", 1, "Evidence for 2.1"),
        ("2.2", 2, "Evidence for 2.2")]


# -- through the CLI: every new code -----------------------------------------------------------

def check_line(tmp_path, data: bytes, code: str) -> tuple[int, str]:
    """Run `workbook-tool check` on the workbook; (exit code, the one line naming code)."""
    path = tmp_path / "team.xlsx"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["check", str(path), "--rubric", str(SMALL_RUBRIC)])
    lines = [line for line in result.output.splitlines() if f"] {code}:" in line]
    assert len(lines) == 1, result.output
    return result.exit_code, lines[0]


@pytest.mark.parametrize("code, place", [
    ("invalid-rater-rating", f"{TEAM}!D9"),
    ("not-agreed", None),
    ("agreed-outside-range", "D1 Leadership!F4"),
])
def test_check_reports_the_team_codes(tmp_path, story, code, place):
    exit_code, line = check_line(tmp_path, story, code)
    assert exit_code == 0  # warnings only: the district accepts the return
    assert f"[warning] {code}:" in line
    if place:
        assert place in line


def test_check_reports_team_cell_missing(tmp_path, story):
    exit_code, line = check_line(tmp_path, redefine(story, {"rater_name_2": None}),
                                 "team-cell-missing")
    assert exit_code == 0
    assert "[warning] team-cell-missing:" in line and "(rater_name_2)" in line
