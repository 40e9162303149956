"""Mutation run 8: the reader's prefill, team, school-cell and Completed-by edges that the
run's tests left open. Every expected value is a literal written here.

Small rubric: indicators 1.1, 1.2, 1.3 (sheet "D1 Leadership", rows 4 to 6) and 2.1, 2.2
("D2 Partnerships"); levels 1 Beginning, 2 Growing, 3 Strong Practice. Rating F, Evidence
G, Next steps H, Priority I; prefilled: J Last cycle, K Last cycle's next steps, L
Follow-up, M Review.
"""

from __future__ import annotations

import hashlib
import re

from returns_kit import (
    answers_for,
    edit_member,
    fill,
    make_return,
    members,
    prefilled_return,
    read,
    rezip,
    set_cell_xml,
    sheet_part,
    small_rubric,
    with_openpyxl,
)

D1 = "D1 Leadership"
# indicator -> (last cycle's label, last cycle's next steps, follow-up, review)
PREFILL = {
    "1.1": ("Beginning", "Write the vision", "Done", "Reviewed"),
    "1.2": ("Beginning", "Plan resources", "In progress", "Reviewed"),
    "1.3": ("Strong Practice", "", "", "Reviewed"),
    "2.1": ("Beginning", "Meet partners", "Dropped", "Reviewed"),
    "2.2": ("Growing", "", "Not started", "Reviewed"),
}


def prefilled(names: dict[str, str | None] | None = None, edit=None) -> bytes:
    """A plain return with the four prefill columns filled and named by hand (openpyxl);
    `names` repoints (or with None deletes) names afterwards, `edit` edits the book."""
    return prefilled_return(PREFILL, names, edit)


def fields(result) -> dict[str, tuple]:
    return {a.indicator_id: (a.level, a.previous_level, a.review, a.followup)
            for a in result.answers}


def problems(result) -> list[tuple]:
    return [(p.code, p.severity, p.message, p.sheet, p.cell) for p in result.problems]


LOST_ONE = ("1 cell of last cycle's answers, follow-up or review could not be read and was "
            "left empty ({}): the defined name is gone or does not point at its place")

# -- prefill cells -----------------------------------------------------------------------------


def test_the_check_of_sample_prefill_reads_clean():
    result = read(prefilled(), small_rubric())
    assert fields(result)["1.1"] == (1, 1, "Reviewed", "Done")
    assert problems(result) == []


def test_a_lost_previous_next_steps_cell_is_one_warning_not_a_crash():
    result = read(prefilled(names={"previous_next_steps_1_2": None}), small_rubric())
    assert fields(result) == {
        "1.1": (1, 1, "Reviewed", "Done"),
        "1.2": (2, 1, "Reviewed", "In progress"),
        "1.3": (3, 3, "Reviewed", ""),
        "2.1": (1, 1, "Reviewed", "Dropped"),
        "2.2": (2, 2, "Reviewed", "Not started"),
    }
    assert problems(result) == [
        ("prefill-cell-missing", "warning", LOST_ONE.format("previous_next_steps_1_2"), "", "")]


def test_a_merged_away_follow_up_cell_is_left_empty_and_named():
    # K5:L5 merged: the follow-up of 1.2 (L5) is merged into K5
    result = read(prefilled(edit=lambda book: book[D1].merge_cells("K5:L5")), small_rubric())
    assert fields(result)["1.2"] == (2, 1, "Reviewed", "")
    assert problems(result) == [
        ("prefill-cell-missing", "warning", LOST_ONE.format("followup_1_2"), "", "")]


def test_a_formula_in_a_follow_up_cell_is_its_value_with_a_warning_naming_it():
    data = set_cell_xml(prefilled(), D1, "L4",
                        '<c r="L4" t="str"><f>"Do"&amp;"ne"</f><v>Done</v></c>')
    result = read(data, small_rubric())
    assert fields(result)["1.1"] == (1, 1, "Reviewed", "Done")
    assert problems(result) == [
        ("formula-value", "warning",
         'the follow-up of 1.1 is a formula; its last computed value "Done" was used',
         D1, "L4")]


def test_an_error_value_in_a_follow_up_cell_is_kept_as_its_text_and_reported():
    data = set_cell_xml(prefilled(), D1, "L4", '<c r="L4" t="e"><v>#N/A</v></c>')
    result = read(data, small_rubric())
    assert fields(result)["1.1"] == (1, 1, "Reviewed", "#N/A")
    assert problems(result) == [
        ("error-value", "warning",
         "the follow-up of 1.1 shows the error value #N/A; it was kept as that text",
         D1, "L4")]


# -- a rejected return's problem keeps the sheet the rejection names -----------------------------


def test_a_rejection_naming_a_sheet_is_one_problem_on_that_sheet():
    data = make_return()
    part = sheet_part(data, "Start Here")
    data = edit_member(data, part, lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048577"><c r="A1048577"><v>1</v></c></row></sheetData>', 1))
    result = read(data, small_rubric())
    # the sheet's grid: 1,048,577 rows by 4 columns (A to D)
    assert problems(result) == [
        ("too-large", "error",
         "the sheet 'Start Here' spans 4,194,308 cells, over the limit of 2,000,000",
         "Start Here", "")]
    assert (result.answers, result.team) == ([], None)


def test_the_carried_forward_warning_names_last_cycle_from_the_hidden_sheet():
    def edit(book):
        book[D1]["M4"] = "Carried forward"  # 1.1: Beginning, as last cycle
        book["_workbook_tool"].append(["previous_cycle", "2023-24"])

    result = read(prefilled(edit=edit), small_rubric())
    assert fields(result)["1.1"] == (1, 1, "Carried forward", "Done")
    assert problems(result) == [
        ("carried-forward", "warning",
         "1 of 5 ratings is still last cycle's (2023-24) with Review still \"Carried forward\": "
         "1.1; they count as this cycle's ratings (set Review to \"Reviewed\" once the team has "
         "looked again)", "", "")]


# -- an exception while reading is one "unreadable" problem -------------------------------------


def _boom(monkeypatch, exc: BaseException):
    from workbook_tool.reader import locate

    def read_book(package):
        raise exc

    monkeypatch.setattr(locate, "read_book", read_book)
    return read(make_return(answers=answers_for(small_rubric())), small_rubric(), "r.xlsx")


def test_an_exception_without_a_message_is_named_by_its_type(monkeypatch):
    result = _boom(monkeypatch, KeyError())
    assert result.file == "r.xlsx"
    assert problems(result) == [
        ("unreadable", "error", "the workbook could not be read (KeyError)", "", "")]
    assert (result.answers, result.team) == ([], None)


def test_an_exception_message_is_its_first_line_cut_at_160_characters(monkeypatch):
    result = _boom(monkeypatch, RuntimeError("  " + "x" * 150 + "y" * 20 + "\nsecond line"))
    assert problems(result) == [
        ("unreadable", "error",
         "the workbook could not be read (RuntimeError: " + "x" * 150 + "y" * 10 + ")", "", "")]


# -- the hidden sheet's keys -----------------------------------------------------------------------


def _hidden(edit) -> bytes:
    return with_openpyxl(make_return(answers=answers_for(small_rubric())),
                         lambda book: edit(book["_workbook_tool"]))


def test_a_hidden_sheet_without_values_falls_back_to_the_properties():
    result = read(_hidden(lambda sheet: sheet.delete_cols(2)), small_rubric())
    assert (result.school_id, result.school_name, result.cycle, result.format_version) == (
        "S1", "Alpha School", "2024-25", 2)
    assert problems(result) == []


def test_the_first_of_two_hidden_keys_wins_and_rows_not_keyed_by_text_are_skipped():
    def edit(sheet):
        sheet.insert_rows(2)  # a row keyed by a number right under the headers
        sheet["A2"] = 7
        sheet.append(["school_name", "Gamma School"])  # a second school_name, last
        for row in sheet.iter_rows():
            if row[0].value == "school_name" and row[1].value == "Alpha School":
                row[1].value = "Beta School"  # the first; the property still says Alpha

    result = read(_hidden(edit), small_rubric())
    assert (result.school_id, result.school_name) == ("S1", "Beta School")
    assert problems(result) == []


def test_the_metadata_wins_over_the_school_cells():
    data = fill(make_return(answers=answers_for(small_rubric())),
                {"school_name": "Typed School", "cycle": "2099-00"})
    result = read(data, small_rubric())
    assert (result.school_id, result.school_name, result.cycle) == (
        "S1", "Alpha School", "2024-25")
    assert problems(result) == []
    assert (result.file, result.sha256) == ("return.xlsx", hashlib.sha256(data).hexdigest())


def _keyed(key: str, value) -> bytes:
    """The hidden sheet's `key` set to `value`, its property removed."""
    def edit(sheet):
        for row in sheet.iter_rows():
            if row[0].value == key:
                row[1].value = value

    data = _hidden(edit)
    return edit_member(data, "docProps/custom.xml", lambda xml: re.sub(
        rf'<property name="{key}" [^>]*>.*?</property>'.encode(), b"", xml))


def test_format_version_0_is_not_a_return():
    result = read(_keyed("workbook_tool_format", 0), small_rubric())
    assert result.format_version == 0
    assert problems(result) == [
        ("not-a-return", "error",
         "the workbook's format version '0' is not one workbook-tool writes", "", "")]


def test_a_newer_format_asks_for_a_newer_workbook_tool():
    result = read(_keyed("workbook_tool_format", 3), small_rubric())
    assert result.format_version == 3
    assert problems(result) == [
        ("not-a-return", "error",
         "the workbook was made by a newer workbook-tool (format 3; this one reads format 2); "
         "update workbook-tool to read it", "", "")]


def test_a_rubric_id_not_given_is_shown_as_a_question_mark():
    result = read(_keyed("rubric_id", None), small_rubric())
    assert problems(result) == [
        ("wrong-rubric", "error",
         "the workbook was made from rubric '?' version '2024-01', not from "
         "'small-test-rubric' version '2024-01'", "", "")]
    assert result.answers == []


def test_a_rubric_version_not_given_is_shown_as_a_question_mark():
    result = read(_keyed("rubric_version", None), small_rubric())
    assert problems(result) == [
        ("wrong-rubric", "error",
         "the workbook was made from rubric 'small-test-rubric' version '?', not from "
         "'small-test-rubric' version '2024-01'", "", "")]


def test_macros_are_one_warning_and_the_return_is_read():
    parts = members(make_return(answers=answers_for(small_rubric())))
    parts["xl/vbaProject.bin"] = b"\x00" * 64
    result = read(rezip(parts), small_rubric(), "r.xlsm")
    assert problems(result) == [
        ("macros-ignored", "warning", "the workbook holds macros; they were ignored, not run",
         "", "")]
    assert [a.level for a in result.answers] == [1, 2, 3, 1, 2]


def test_a_workbook_without_metadata_is_not_a_return():
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "school_id"
    out = io.BytesIO()
    book.save(out)
    result = read(out.getvalue(), small_rubric())
    assert problems(result) == [
        ("not-a-return", "error",
         "this workbook was not generated by workbook-tool (no hidden '_workbook_tool' sheet "
         "and no workbook-tool properties)", "", "")]


def test_another_text_of_the_rubric_is_named_by_both_fingerprints():
    result = read(_keyed("rubric_fingerprint", "abcdef0123456789" * 4), small_rubric())
    # the small rubric's fingerprint begins 734048a4e1fa
    assert problems(result) == [
        ("wrong-rubric", "error",
         "the workbook was made from a different text of rubric 'small-test-rubric' version "
         "'2024-01' (fingerprint abcdef012345…, expected 734048a4e1fa…)", "", "")]
    assert result.rubric_fingerprint == "abcdef0123456789" * 4


def test_domains_the_rubric_does_not_have_are_named():
    result = read(_keyed("domains", "1,8,9"), small_rubric())
    assert problems(result) == [
        ("wrong-rubric", "error",
         "the workbook lists domain 8, 9, which rubric 'small-test-rubric' version '2024-01' "
         "does not have (it has 1, 2)", "", "")]
    assert result.answers == []


def test_a_deleted_school_name_is_named_and_the_rest_is_read():
    data = edit_member(make_return(answers=answers_for(small_rubric())), "xl/workbook.xml",
                       lambda xml: re.sub(rb'<definedName name="school_name">[^<]*</definedName>',
                                          b"", xml))
    result = read(data, small_rubric())
    assert problems(result) == [
        ("missing-cell", "error",
         "the defined name school_name is missing (it was deleted or renamed)", "", "")]
    assert (result.school_id, result.school_name) == ("S1", "Alpha School")


def test_a_rating_stored_as_a_number_is_judged_as_stored_not_as_shown():
    data = fill(make_return(answers=answers_for(small_rubric())), {"rating_1_1": 2.6})
    data = with_openpyxl(data, lambda book: setattr(book[D1]["F4"], "number_format", "0"))
    result = read(data, small_rubric())
    assert (result.answers[0].level, result.answers[0].label) == (None, "")
    assert problems(result) == [
        ("invalid-rating", "error",
         'the rating of 1.1 is "2.6", which is not one of the levels (Beginning, Growing, '
         "Strong Practice)", D1, "F4")]


def test_a_rating_name_moved_under_another_header_is_named_with_why():
    name = b"<definedName name=\"rating_1_1\">'D1 Leadership'!"
    data = edit_member(make_return(answers=answers_for(small_rubric())), "xl/workbook.xml",
                       lambda xml: xml.replace(name + b"$F$4", name + b"$H$4"))
    result = read(data, small_rubric())
    assert problems(result) == [
        ("misplaced-cell", "error",
         "the rating of 1.1 cannot be read: the defined name rating_1_1 points at H4, but the "
         "header of its column shows \"Next steps\", not \"Rating\" (columns inserted or deleted "
         "by a program that does not move names, or a name redefined); the answer is not used "
         "so that it cannot land in the wrong place", D1, "H4")]
