"""Reading returns: identity, answers and every problem a site team's edits can cause."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re

import pytest
import xlsxwriter

from returns_kit import (
    CYCLE,
    answers_for,
    codes,
    edit_member,
    make_return,
    members,
    named_cell,
    read,
    rezip,
    set_cell_xml,
    set_named_value,
    sheet_part,
    small_rubric,
    with_openpyxl,
)
from workbook_tool import layout
from workbook_tool.problems import CODES
from workbook_tool.reader import Limits, read_file, read_return
from workbook_tool.reader import locate as locate_module
from workbook_tool.reader.preflight import open_package
from workbook_tool.reader.values import Sheets, rating_of
from workbook_tool.roster import School
from workbook_tool.rubric import load_rubric


@pytest.fixture(scope="module")
def rubric():
    return small_rubric()


@pytest.fixture(scope="module")
def filled(rubric):
    return make_return(rubric, answers=answers_for(rubric))


def only(result, code):
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, result.problems
    return found[0]


# -- the happy path ------------------------------------------------------------------------

def test_filled_return_reads_every_answer(rubric, filled):
    expected = answers_for(rubric)
    result = read(filled, rubric)
    assert result.problems == []
    assert result.ok
    assert result.sha256 == hashlib.sha256(filled).hexdigest()
    assert (result.school_id, result.school_name, result.cycle) == ("S1", "Alpha School", CYCLE)
    assert (result.rubric_id, result.rubric_version) == (rubric.id, rubric.version)
    assert result.rubric_fingerprint == rubric.fingerprint
    assert result.format_version == layout.FORMAT_VERSION
    assert [a.indicator_id for a in result.answers] == [i.id for i in rubric.indicators]
    assert {a.indicator_id: a for a in result.answers} == expected
    assert (result.rated, result.total) == (5, 5)


def test_domain_subset_reads_only_its_indicators(rubric):
    data = make_return(rubric, domain_ids=["2"], answers=answers_for(rubric, ["2"]))
    result = read(data, rubric)
    assert result.problems == []
    assert [a.indicator_id for a in result.answers] == ["2.1", "2.2"]


def test_packaged_rubric_return_reads_clean():
    # Speed is measured in benchmarks/, never here.
    rubric = load_rubric()
    data = make_return(rubric, answers=answers_for(rubric))
    result = read(data, rubric)
    assert result.problems == [] and (result.rated, result.total) == (28, 28)


# -- ratings ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value, level",
    [
        ("growing", 2), ("GROWING", 2), ("  Growing ", 2), ("Growing\u00a0", 2),
        ("strong  practice", 3), ("Strong\u00a0Practice", 3), ("2", 2), (" 3 ", 3), (2, 2),
        (3.0, 3), ("2.0", 2), ("2 - Growing", 2), ("2 Growing", 2), ("3 – strong practice", 3),
        ("1. Beginning", 1),
    ],
)
def test_normalised_ratings_are_accepted_with_one_warning(rubric, value, level):
    data = set_named_value(make_return(rubric), "rating_1_2", value)
    result = read(data, rubric)
    answer = result.answers[1]
    assert (answer.level, answer.label) == (level, rubric.levels[level - 1].label)
    warning = only(result, "normalized-rating")
    assert (warning.sheet, warning.cell) == named_cell(data, "rating_1_2")
    assert not result.errors


def test_exact_label_has_no_warning(rubric):
    data = set_named_value(make_return(rubric), "rating_1_2", "Strong Practice")
    result = read(data, rubric)
    assert result.answers[1].level == 3
    assert "normalized-rating" not in codes(result)


def test_rating_of_rejects_near_misses(rubric):
    for value in ("Great", "4", "0", "2 - Strong Practice", 2.5, True, "Growin", "22", "-1"):
        assert rating_of(value, rubric).status == "invalid", value


@pytest.mark.parametrize("value", ["Great", "4", "2 - Strong Practice", 2.5, "Growing!"])
def test_invalid_rating_is_an_error_naming_cell_and_value(rubric, value):
    data = set_named_value(make_return(rubric), "rating_2_1", value)
    result = read(data, rubric)
    error = only(result, "invalid-rating")
    assert (error.sheet, error.cell) == named_cell(data, "rating_2_1")
    assert error.sheet == "D2 Partnerships"
    assert f'"{value}"' in error.message
    assert "Beginning, Growing, Strong Practice" in error.message
    assert result.answers[3].level is None
    assert "1 of" not in " ".join(p.message for p in result.problems if p.code == "unrated")
    assert not result.ok


def test_formula_in_rating_cell_uses_cached_value_with_warning(rubric):
    data = make_return(rubric)
    sheet, ref = named_cell(data, "rating_1_1")
    formula = f'<c r="{ref}" t="str"><f>"Grow"&amp;"ing"</f><v>Growing</v></c>'
    result = read(set_cell_xml(data, sheet, ref, formula), rubric)
    assert result.answers[0].level == 2
    warning = only(result, "formula-value")
    assert (warning.sheet, warning.cell) == (sheet, ref)
    assert "rating of 1.1" in warning.message
    assert not result.errors, [(p.code, p.cell, p.message) for p in result.problems]


def test_formula_with_bad_cached_value_is_invalid(rubric):
    data = make_return(rubric)
    sheet, ref = named_cell(data, "rating_1_1")
    formula = f'<c r="{ref}" t="str"><f>UPPER("x")</f><v>X</v></c>'
    result = read(set_cell_xml(data, sheet, ref, formula), rubric)
    assert {"formula-value", "invalid-rating"} <= set(codes(result))


def test_formula_in_evidence_cell_is_warned(rubric):
    data = make_return(rubric)
    sheet, ref = named_cell(data, "evidence_1_3")
    cell = f'<c r="{ref}" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'
    result = read(set_cell_xml(data, sheet, ref, cell), rubric)
    assert result.answers[2].evidence == "ab"
    assert only(result, "formula-value").cell == ref


def test_unrated_is_one_warning_per_return(rubric):
    answers = answers_for(rubric)
    del answers["1.2"], answers["2.2"]
    result = read(make_return(rubric, answers=answers), rubric)
    warning = only(result, "unrated")
    assert warning.message.startswith("2 of 5 indicators are not rated")
    assert "1.2" in warning.message and "2.2" in warning.message
    assert result.ok and (result.rated, result.total) == (3, 5)


def test_empty_return_counts_every_indicator_unrated(rubric):
    result = read(make_return(rubric), rubric)
    assert codes(result) == ["unrated"]
    assert "5 of 5" in result.problems[0].message


# -- priorities and texts --------------------------------------------------------------------

def test_priority_case_is_normalised_and_unknown_kept_with_warning(rubric):
    data = set_named_value(make_return(rubric), "priority_1_1", "high")
    data = set_named_value(data, "priority_1_2", "Urgent!")
    result = read(data, rubric)
    assert result.answers[0].priority == "High"
    assert result.answers[1].priority == "Urgent!"
    warning = only(result, "invalid-priority")
    assert warning.cell == named_cell(data, "priority_1_2")[1]
    assert CODES["invalid-priority"].severity == "warning"


def test_texts_are_kept_exactly_numbers_and_dates_as_typed(rubric):
    data = make_return(rubric)
    data = set_named_value(data, "evidence_1_1", 42)
    data = set_named_value(data, "evidence_1_2", 2.5)
    data = set_named_value(data, "evidence_1_3", dt.date(2024, 3, 1))
    data = set_named_value(data, "next_steps_1_1", "  =SUM(A1) spaced\nline two  ")
    result = read(data, rubric)
    assert [a.evidence for a in result.answers[:3]] == ["42", "2.5", "2024-03-01"]
    assert result.answers[0].next_steps == "  =SUM(A1) spaced\nline two  "


# -- the workbook's structure changed --------------------------------------------------------

def drop_name(name):
    def edit(xml):
        new, count = re.subn(rf"<definedName name=\"{name}\">[^<]*</definedName>".encode(),
                             b"", xml)
        assert count == 1
        return new
    return edit


def test_missing_name_is_missing_cell(rubric, filled):
    result = read(edit_member(filled, "xl/workbook.xml", drop_name("rating_1_2")), rubric)
    error = only(result, "missing-cell")
    assert "rating_1_2" in error.message
    assert result.answers[1].level is None
    assert "unrated" not in codes(result)  # an error, not also counted as unrated


def test_ref_error_name_is_missing_cell(rubric, filled):
    def edit(xml):
        return re.sub(rb"(<definedName name=\"evidence_2_1\">)[^<]*", rb"\1#REF!", xml)

    result = read(edit_member(filled, "xl/workbook.xml", edit), rubric)
    error = only(result, "missing-cell")
    assert "evidence_2_1" in error.message and "#REF!" in error.message
    assert result.answers[3].level is not None  # the rating is still read


def test_missing_school_name_is_missing_cell(rubric, filled):
    result = read(edit_member(filled, "xl/workbook.xml", drop_name("school_id")), rubric)
    assert "school_id" in only(result, "missing-cell").message
    assert result.school_id == "S1"  # the hidden sheet still says which school


def test_deleted_sheet_reports_each_name(rubric, filled):
    def edit(book):
        del book["D2 Partnerships"]

    result = read(with_openpyxl(filled, edit), rubric)
    errors = [p for p in result.problems if p.code == "missing-cell"]
    assert len(errors) == 8  # 2 indicators x 4 names
    assert all("'D2 Partnerships', which no longer exists" in p.message for p in errors)
    assert [a.level for a in result.answers[:3]] == [1, 2, 3]
    assert result.total == 5


def test_renamed_sheet_is_read_through_updated_names(rubric, filled):
    def edit(book):
        book["D1 Leadership"].title = "Our leadership"
        for name in book.defined_names.values():
            name.attr_text = name.attr_text.replace("'D1 Leadership'!", "'Our leadership'!")

    result = read(with_openpyxl(filled, edit), rubric)
    assert result.problems == []
    assert {a.indicator_id: a for a in result.answers} == answers_for(rubric)


def test_inserted_rows_are_read_through_shifted_names(rubric, filled):
    def shift(text, sheet, at, by):
        def move(m):
            row = int(m.group(2))
            return f"${m.group(1)}${row + by if row >= at else row}"
        if not text.startswith(f"'{sheet}'!"):
            return text
        return re.sub(r"\$([A-Z]+)\$([0-9]+)", move, text)

    def edit(book):
        sheet = book["D1 Leadership"]
        merged = [r for r in sheet.merged_cells.ranges if r.min_row >= 4]
        sheet.insert_rows(4, 3)  # above the first indicator row (row 4)
        for cells in merged:  # Excel moves merged ranges and names; openpyxl does not
            cells.shift(row_shift=3)
        sheet["A4"] = "a note the site team added"
        for name in book.defined_names.values():
            name.attr_text = shift(name.attr_text, "D1 Leadership", 4, 3)

    data = with_openpyxl(filled, edit)
    assert named_cell(data, "rating_1_1") == ("D1 Leadership", "F7")
    result = read(data, rubric)
    assert result.problems == []
    assert {a.indicator_id: a for a in result.answers} == answers_for(rubric)


def test_merged_cell_over_rating_is_missing_cell(rubric, filled):
    sheet, first = named_cell(filled, "rating_1_1")
    _, second = named_cell(filled, "rating_1_2")

    def edit(book):
        book[sheet].merge_cells(f"{first}:{second}")

    result = read(with_openpyxl(filled, edit), rubric)
    error = only(result, "missing-cell")
    assert error.cell == second and f"{first}:{second}" in error.message
    assert result.answers[0].level == 1  # the top-left cell keeps its value


# -- identity --------------------------------------------------------------------------------

def test_wrong_rubric_version_names_both(rubric, filled):
    other = dataclasses.replace(rubric, version="2025-01")
    result = read(filled, other)
    error = only(result, "wrong-rubric")
    assert "'2024-01'" in error.message and "'2025-01'" in error.message
    assert result.answers == [] and result.school_id == "S1"


def test_wrong_rubric_fingerprint(rubric, filled):
    other = dataclasses.replace(rubric, fingerprint="0" * 64)
    error = only(read(filled, other), "wrong-rubric")
    assert "different text" in error.message


def test_other_rubric_id(filled):
    result = read(filled, load_rubric())
    assert codes(result) == ["wrong-rubric"]
    assert "small-test-rubric" in result.problems[0].message


def plain_workbook():
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.add_worksheet("Sheet1").write("A1", "ratings")
    book.close()
    return out.getvalue()


def test_plain_workbook_is_not_a_return(rubric):
    result = read(plain_workbook(), rubric)
    assert codes(result) == ["not-a-return"]


def drop_sheet_keep_properties(data):
    def edit(book):
        del book[layout.DATA_SHEET]
    return with_openpyxl(data, edit)


def test_properties_alone_identify_the_return(rubric, filled):
    result = read(drop_sheet_keep_properties(filled), rubric)
    assert result.problems == []
    assert result.school_id == "S1" and result.format_version == 2


def test_libreoffice_r8_format_property(rubric, filled):
    def to_r8(xml):
        new, count = re.subn(rb"<vt:i4>2</vt:i4>", b"<vt:r8>2.0</vt:r8>", xml)
        assert count == 1
        return new

    data = edit_member(drop_sheet_keep_properties(filled), "docProps/custom.xml", to_r8)
    assert b"<vt:r8>2.0</vt:r8>" in members(data)["docProps/custom.xml"]
    result = read(data, rubric)
    assert result.problems == [] and result.format_version == 2


def test_hidden_sheet_wins_over_properties(rubric, filled):
    def edit(xml):
        return xml.replace(b"<vt:lpwstr>S1</vt:lpwstr>", b"<vt:lpwstr>S9</vt:lpwstr>")

    result = read(edit_member(filled, "docProps/custom.xml", edit), rubric)
    assert result.school_id == "S1" and result.problems == []


def test_metadata_found_by_key_not_row(rubric, filled):
    def edit(book):
        book[layout.DATA_SHEET].insert_rows(1, 5)
        book[layout.DATA_SHEET]["A2"] = "notes"

    result = read(with_openpyxl(filled, edit), rubric)
    assert result.problems == [] and result.school_id == "S1"


def test_no_metadata_at_all_is_not_a_return(rubric, filled):
    parts = members(drop_sheet_keep_properties(filled))
    del parts["docProps/custom.xml"]
    result = read(rezip(parts), rubric)
    assert codes(result) == ["not-a-return"]


def test_newer_format_is_not_a_return(rubric, filled):
    data = set_named_value(filled, "school_id", "S1")  # openpyxl round trip, same content

    def edit(book):
        sheet = book[layout.DATA_SHEET]
        for row in sheet.iter_rows():
            if row[0].value == layout.META_FORMAT:
                row[1].value = layout.FORMAT_VERSION + 1

    result = read(with_openpyxl(data, edit), rubric)
    error = only(result, "not-a-return")
    assert "newer workbook-tool" in error.message


def test_school_id_edited_on_the_sheet_is_a_mismatch(rubric, filled):
    result = read(set_named_value(filled, "school_id", "S2"), rubric)
    error = only(result, "school-mismatch")
    assert '"S2"' in error.message and '"S1"' in error.message
    assert result.school_id == "S1"


def test_numeric_school_id_matches_text(rubric):
    data = make_return(rubric, school=School("1001", "Num School"), answers=answers_for(rubric))
    result = read(set_named_value(data, "school_id", 1001), rubric)
    assert result.problems == [] and result.school_id == "1001"


# -- reading from disk, and never raising ----------------------------------------------------

def test_read_file_uses_display_name(tmp_path, rubric, filled):
    path = tmp_path / "r.xlsx"
    path.write_bytes(filled)
    result = read_file(path, rubric, display="folder/r.xlsx")
    assert result.file == "folder/r.xlsx" and result.ok
    assert result.sha256 == hashlib.sha256(filled).hexdigest()
    assert path.read_bytes() == filled


def test_read_file_missing_and_oversized(tmp_path, rubric, filled):
    result = read_file(tmp_path / "nope.xlsx", rubric)
    assert codes(result) == ["unreadable"]
    path = tmp_path / "big.xlsx"
    path.write_bytes(filled)
    result = read_file(path, rubric, Limits(max_file_bytes=1000))
    assert codes(result) == ["too-large"]
    assert result.sha256 == hashlib.sha256(filled).hexdigest()


def test_unexpected_exception_becomes_unreadable(monkeypatch, rubric, filled):
    def boom(package):
        raise RuntimeError("bug in the reader")

    monkeypatch.setattr(locate_module, "read_book", boom)
    result = read_return(filled, "r.xlsx", rubric)
    assert codes(result) == ["unreadable"]
    assert "bug in the reader" in result.problems[0].message
    assert result.answers == []


# -- calamine's coordinates ------------------------------------------------------------------

def test_cell_lookup_is_absolute_when_data_starts_late():
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("S")
    sheet.write("C3", "first")
    sheet.write("E7", "later")
    book.close()
    data = out.getvalue()
    package = open_package(data, "s.xlsx", Limits())
    parsed = locate_module.read_book(package)
    sheets = Sheets(package, parsed, Limits())
    info = parsed.sheet("S")
    assert sheets.cell(info, "C3").value == "first"
    assert sheets.cell(info, "E7").value == "later"
    assert sheets.cell(info, "A1").value == ""
    assert sheets.cell(info, "Z99").value == ""
    assert sheets.rows(info)[2][2] == "first"


def test_sheet_part_helper(filled):
    assert sheet_part(filled, "D1 Leadership").startswith("xl/worksheets/")
