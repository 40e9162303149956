"""Where things live in a workbook: names, references and sheet names, as literals."""

from __future__ import annotations

import io

import openpyxl
import pytest

from returns_kit import SMALL_RUBRIC, answers_for, codes, make_return, read, small_rubric
from workbook_tool.layout import (
    DomainColumns,
    cell_ref,
    col_letter,
    defined_name,
    domain_sheet_name,
    expected_names,
    parse_ref,
    quote_sheet,
    split_cell,
)
from workbook_tool.rubric import load_rubric


@pytest.mark.parametrize(("name", "quoted"), [
    ("D1 Leadership", "'D1 Leadership'"),
    ("O'Keefe", "'O''Keefe'"),
    ("It''s", "'It''''s'"),
])
def test_quote_sheet(name, quoted):
    assert quote_sheet(name) == quoted


@pytest.mark.parametrize(("ref", "parsed"), [
    ("'D1 Leadership'!$G$3", ("D1 Leadership", "G3")),
    ("'O''Keefe'!$A$1", ("O'Keefe", "A1")),
    ("'Parents'' Voice'!$F$12", ("Parents' Voice", "F12")),
    ("Sheet1!B2", ("Sheet1", "B2")),
    ("=Sheet1!$AA$10", ("Sheet1", "AA10")),
    (" 'D1 Leadership'!$G$3 ", ("D1 Leadership", "G3")),
    ("'D1 Leadership'!$G$3:$G$3", ("D1 Leadership", "G3")),
    ("'D1 Leadership'!$G$3:$H$3", None),
    ("'D1 Leadership'!$G$3:$G$4", None),
    ("'O'Keefe'!$A$1", None),
    ("$G$3", None),
    ("Sheet1!G", None),
    ("#REF!", None),
    ("", None),
])
def test_parse_ref(ref, parsed):
    assert parse_ref(ref) == parsed


def test_parse_ref_reads_what_quote_sheet_writes():
    for name in ("D2 Parents' Voice", "'lead", "a''b", "x!y"):
        assert parse_ref(f"{quote_sheet(name)}!$C$7") == (name, "C7")


@pytest.mark.parametrize(("col", "letters"), [
    (0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (51, "AZ"), (52, "BA"),
    (701, "ZZ"), (702, "AAA"), (16383, "XFD"),
])
def test_col_letter_and_split_cell(col, letters):
    assert col_letter(col) == letters
    assert split_cell(f"{letters}7") == (6, col)


def test_cell_ref():
    assert cell_ref(0, 0) == "A1"
    assert cell_ref(3, 6) == "G4"
    assert cell_ref(3, 6, absolute=True) == "$G$4"
    assert cell_ref(99, 27, True) == "$AB$100"


@pytest.mark.parametrize("bad", ["G", "3", "g3", "G3:G4", "ABCD1", ""])
def test_split_cell_refuses_what_is_not_a_cell(bad):
    with pytest.raises(ValueError) as caught:
        split_cell(bad)
    assert str(caught.value) == bad


def test_domain_columns_for_three_and_four_levels():
    three, four = DomainColumns(3), DomainColumns(4)
    assert (three.id, three.title, three.descriptor(1), three.descriptor(3)) == (0, 1, 2, 4)
    assert (three.rating, three.evidence, three.next_steps, three.priority) == (5, 6, 7, 8)
    assert three.last == 8
    assert (four.rating, four.evidence, four.next_steps, four.priority) == (6, 7, 8, 9)
    assert [four.of(k) for k in ("rating", "evidence", "next_steps", "priority")] == [6, 7, 8, 9]
    assert [four.offset(k) for k in ("rating", "priority")] == [6, 9]
    # The offset is measured from the id column, wherever that is.
    shifted = DomainColumns(3, id=2, title=3)
    assert (shifted.rating, shifted.offset("rating"), shifted.offset("evidence")) == (7, 5, 6)


def test_domain_columns_of_a_prefilled_sheet():
    plain, prefilled = DomainColumns(4), DomainColumns(4, prefill=True)
    kinds = ("previous_rating", "previous_next_steps", "followup", "review")
    assert [prefilled.of(k) for k in kinds] == [10, 11, 12, 13]  # K, L, M, N
    assert [prefilled.offset(k) for k in kinds] == [10, 11, 12, 13]
    assert (prefilled.rating, prefilled.priority, prefilled.last) == (6, 9, 13)
    assert plain.last == 9
    with pytest.raises(KeyError):
        plain.of("review")
    shifted = DomainColumns(3, prefill=True, id=1, title=2)
    assert (shifted.of("previous_rating"), shifted.offset("review")) == (10, 12)


def test_defined_and_expected_names():
    assert defined_name("rating", "1.1") == "rating_1_1"
    assert defined_name("next_steps", "12.3") == "next_steps_12_3"
    rubric = small_rubric()
    assert expected_names(rubric, ["2"]) == [
        "school_id", "school_name", "cycle", "completed_by",
        "rating_2_1", "evidence_2_1", "next_steps_2_1", "priority_2_1",
        "rating_2_2", "evidence_2_2", "next_steps_2_2", "priority_2_2",
    ]
    assert len(expected_names(rubric)) == 4 + 4 * 5
    assert expected_names(rubric, ["2"], raters=2)[4:7] == [
        "rater_name_1", "rater_name_2", "rating_2_1"]
    assert expected_names(rubric, ["2"], raters=2)[10:13] == [
        "rater_1_2_1", "rater_2_2_1", "agreement_note_2_1"]


def _domain(short_title: str, domain_id: str = "2"):
    from workbook_tool.rubric import Domain

    return Domain(domain_id, "Title", short_title, ())


@pytest.mark.parametrize(("short_title", "sheet"), [
    ("Partnerships", "D2 Partnerships"),
    ("Parents' Voice", "D2 Parents' Voice"),
    ("Parents'", "D2 Parents"),  # Excel refuses a sheet name ending with an apostrophe
    ("Section X", "D2 Section X"),
    ("Data: in/out [*?]", "D2 Data- in-out ----"),
    ("A very long short title that goes on and on", "D2 A very long short title that"),
    ("Twenty-eight characters ok  x", "D2 Twenty-eight characters ok"),
])
def test_domain_sheet_name(short_title, sheet):
    assert domain_sheet_name(_domain(short_title)) == sheet
    assert len(sheet) <= 31


def test_a_sheet_name_with_an_apostrophe_reads_back(tmp_path):
    text = SMALL_RUBRIC.read_text(encoding="utf-8")
    path = tmp_path / "rubric.yaml"
    path.write_text(text.replace("short_title: Partnerships", 'short_title: "Parents\' Voice"'),
                    encoding="utf-8")
    rubric = load_rubric(path)
    answers = answers_for(rubric)
    data = make_return(rubric, answers=answers)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[:3] == ["Start Here", "D1 Leadership", "D2 Parents' Voice"]
    assert book.defined_names["rating_2_1"].attr_text == "'D2 Parents'' Voice'!$F$4"
    result = read(data, rubric)
    assert codes(result) == []
    assert [(a.indicator_id, a.level, a.evidence) for a in result.answers] == [
        ("1.1", 1, "Evidence for 1.1"), ("1.2", 2, "Evidence for 1.2"),
        ("1.3", 3, "Evidence for 1.3"), ("2.1", 1, "Evidence for 2.1"),
        ("2.2", 2, "Evidence for 2.2")]
