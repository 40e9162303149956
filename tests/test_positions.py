"""A defined name that no longer points at its own indicator's cell never moves an answer.

Each case is a hand-made return (the real writer, then an edit the way a program or a person
makes it) checked through the CLI, with the expected codes, cells and levels written here.
The small rubric's domain sheet 'D1 Leadership' has the id in column A and the inputs in
F (rating), G (evidence), H (next steps) and I (priority); 1.1 is on row 4, 1.2 on row 5,
a section band on row 6 and 1.3 on row 7.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from click.testing import CliRunner

from returns_kit import (
    SMALL_RUBRIC,
    answers_for,
    edit_member,
    make_return,
    small_rubric,
    with_openpyxl,
)
from workbook_tool.cli import main


@pytest.fixture(scope="module")
def filled():
    return make_return(answers=answers_for(small_rubric()))


def check(tmp_path, data: bytes) -> tuple[int, dict]:
    path = tmp_path / "return.xlsx"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["check", str(path), "--rubric", str(SMALL_RUBRIC),
                                       "--json"])
    return result.exit_code, json.loads(result.output)["files"][0]


def problems(report: dict, code: str) -> list[tuple[str, str]]:
    return [(p["sheet"], p["cell"]) for p in report["problems"] if p["code"] == code]


def edit_names(data: bytes, edit) -> bytes:
    return edit_member(data, "xl/workbook.xml", lambda xml: edit(xml.decode()).encode())


def redefine(name: str, target: str):
    def edit(xml: str) -> str:
        new, n = re.subn(rf'(<definedName name="{name}">)[^<]*(</definedName>)',
                         rf"\g<1>{target}\g<2>", xml)
        assert n == 1
        return new
    return edit


def test_the_layout_assumed_here(tmp_path, filled):
    code, report = check(tmp_path, filled)
    assert (code, report["errors"], report["rated"], report["total"]) == (0, 0, 5, 5)
    workbook = edit_names(filled, lambda xml: xml)
    assert b"<definedName name=\"rating_1_2\">'D1 Leadership'!$F$5</definedName>" in (
        _part(workbook, "xl/workbook.xml"))


def _part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name)


def test_rows_inserted_without_moving_names(tmp_path, filled):
    # openpyxl, like some programs, inserts rows without moving the defined names: every
    # name of D1 now points one row above its indicator.
    moved = with_openpyxl(filled, lambda book: book["D1 Leadership"].insert_rows(4))
    code, report = check(tmp_path, moved)
    assert code == 1
    assert not report["ok"]
    misplaced = problems(report, "misplaced-cell")
    expected = [("D1 Leadership", f"{col}{row}") for row in (4, 5, 7) for col in "FGHI"]
    assert misplaced == expected
    first = next(p for p in report["problems"] if p["code"] == "misplaced-cell")
    assert "the id cell of that row (A4) shows nothing, not 1.1" in first["message"]
    second = [p for p in report["problems"] if p["code"] == "misplaced-cell"][4]
    assert 'the id cell of that row (A5) shows "1.1", not 1.2' in second["message"]
    assert report["rated"] == 2  # domain 2 is untouched; no D1 answer lands anywhere


def test_name_moved_to_another_indicators_row(tmp_path, filled):
    data = edit_names(filled, redefine("rating_1_1", "'D1 Leadership'!$F$7"))
    code, report = check(tmp_path, data)
    assert code == 1
    assert problems(report, "misplaced-cell") == [("D1 Leadership", "F7")]
    assert 'shows "1.3", not 1.1' in report["problems"][0]["message"]


def test_name_moved_to_another_sheet(tmp_path, filled):
    data = edit_names(filled, redefine("evidence_1_1", "'D2 Partnerships'!$G$4"))
    code, report = check(tmp_path, data)
    assert code == 1
    assert problems(report, "misplaced-cell") == [("D2 Partnerships", "G4")]


def test_name_moved_to_another_column_of_its_row(tmp_path, filled):
    # The descriptor cell of level 1 (C4) is in 1.1's row, but not in the evidence column.
    data = edit_names(filled, redefine("evidence_1_1", "'D1 Leadership'!$C$4"))
    code, report = check(tmp_path, data)
    assert code == 1
    assert problems(report, "misplaced-cell") == [("D1 Leadership", "C4")]
    assert "A2" not in report["problems"][0]["message"]


def test_two_names_on_one_cell(tmp_path, filled):
    data = edit_names(filled, redefine("rating_1_2", "'D1 Leadership'!$F$4"))
    code, report = check(tmp_path, data)
    assert code == 1
    assert problems(report, "misplaced-cell") == [("D1 Leadership", "F4")]
    assert "rating_1_2 points at F4" in report["problems"][0]["message"]
    assert report["rated"] == 4  # 1.1 read once, from its own cell


def test_school_name_on_an_input_cell(tmp_path, filled):
    data = edit_names(filled, redefine("school_name", "'D1 Leadership'!$G$4"))
    code, report = check(tmp_path, data)
    assert code == 1
    assert problems(report, "misplaced-cell") == [("D1 Leadership", "G4")]
    assert ("evidence_1_1 points at the same cell as school_name"
            in report["problems"][0]["message"])


def test_name_defined_twice(tmp_path, filled):
    def twice(xml: str) -> str:
        extra = "<definedName name=\"rating_1_3\">'D1 Leadership'!$F$4</definedName>"
        return xml.replace("<definedNames>", "<definedNames>" + extra, 1)

    code, report = check(tmp_path, edit_names(filled, twice))
    assert code == 1  # whichever one a program would pick, the answer is not guessed
    found = [p for p in report["problems"] if p["code"] == "misplaced-cell"]
    assert len(found) == 1
    assert "rating_1_3 is defined more than once" in found[0]["message"]
    assert report["rated"] == 4


def test_name_defined_twice_at_one_cell_is_harmless(tmp_path, filled):
    def twice(xml: str) -> str:
        extra = "<definedName name=\"rating_1_3\">'D1 Leadership'!F7</definedName>"
        return xml.replace("<definedNames>", "<definedNames>" + extra, 1)

    code, report = check(tmp_path, edit_names(filled, twice))
    assert (code, report["errors"], report["rated"]) == (0, 0, 5)


def test_one_cell_range_is_one_cell(tmp_path, filled):
    data = edit_names(filled, redefine("rating_1_1", "'D1 Leadership'!$F$4:$F$4"))
    code, report = check(tmp_path, data)
    assert (code, report["errors"], report["rated"]) == (0, 0, 5)


def test_two_cell_range_is_not_read(tmp_path, filled):
    data = edit_names(filled, redefine("rating_1_1", "'D1 Leadership'!$F$4:$F$5"))
    code, report = check(tmp_path, data)
    assert code == 1
    assert [p["code"] for p in report["problems"]] == ["missing-cell"]
    assert "does not point at a single cell" in report["problems"][0]["message"]


def test_shortened_domain_list_hides_no_answer(tmp_path, filled):
    def one_domain(book):
        sheet = book["_workbook_tool"]
        for row in sheet.iter_rows():
            if row[0].value == "domains":
                row[1].value = "1"

    code, report = check(tmp_path, with_openpyxl(filled, one_domain))
    assert (code, report["errors"], report["rated"], report["total"]) == (0, 0, 5, 5)


@pytest.mark.parametrize("edit, shown", [
    # Column G (Evidence) deleted: the names still say G, H, I, which now hold next steps,
    # priority and nothing. Not one of those values may be read as another field.
    ("delete_cols", '"Next steps"'),
    ("insert_cols", "nothing"),  # a blank column G: evidence now in H, next steps in I
])
def test_column_changed_without_moving_names(tmp_path, filled, edit, shown):
    moved = with_openpyxl(filled, lambda book: getattr(book["D1 Leadership"], edit)(7))
    code, report = check(tmp_path, moved)
    assert code == 1
    expected = [("D1 Leadership", f"{col}{row}") for row in (4, 5, 7) for col in "GHI"]
    assert problems(report, "misplaced-cell") == expected
    first = next(p for p in report["problems"] if p["code"] == "misplaced-cell")
    assert f'the header of its column shows {shown}, not "Evidence"' in first["message"]
    assert report["rated"] == 5  # the ratings (column F) did not move


def test_name_moved_to_a_copy_of_its_sheet(tmp_path, filled):
    def copy_and_point(book):
        copy = book.copy_worksheet(book["D1 Leadership"])
        copy.title = "D1 copy"
        copy["F4"] = "Strong Practice"

    copied = with_openpyxl(filled, copy_and_point)
    data = edit_names(copied, redefine("rating_1_1", "'D1 copy'!$F$4"))
    code, report = check(tmp_path, data)
    assert code == 1
    assert problems(report, "misplaced-cell") == [("D1 copy", "F4")]
    assert ("it is on sheet 'D1 copy', while the other answers of domain 1 are on "
            "'D1 Leadership'") in report["problems"][0]["message"]


def test_name_pointing_at_the_title_column(tmp_path, filled):
    data = edit_names(filled, redefine("evidence_1_1", "'D1 Leadership'!$I$4"))
    code, report = check(tmp_path, data)
    assert code == 1
    message = report["problems"][0]["message"]
    assert 'the header of its column shows "Priority", not "Evidence"' in message
    assert "B4" not in message


def test_name_moved_left_of_where_its_id_cell_could_be(tmp_path, filled):
    # C4 under a header retyped "Evidence": the id cell would be 4 columns left of column C.
    # (Naming that missing cell once sent the message into an endless loop.)
    def retitle(xml: bytes) -> bytes:
        new, n = re.subn(rb'<c r="C2"([^>]*)/>|<c r="C2"([^>]*)>.*?</c>',
                         b'<c r="C2" t="inlineStr"><is><t>Evidence</t></is></c>', xml)
        assert n == 1
        return new

    data = edit_member(edit_names(filled, redefine("evidence_1_1", "'D1 Leadership'!$C$4")),
                       "xl/worksheets/sheet2.xml", retitle)
    code, report = check(tmp_path, data)
    assert code == 1
    assert problems(report, "misplaced-cell") == [("D1 Leadership", "C4")]
    assert report["problems"][0]["message"] == (
        "the evidence of 1.1 cannot be read: the defined name evidence_1_1 points at C4, but "
        "its row has no id cell 6 columns to its left, where the id of its indicator belongs "
        "(a name redefined); the answer is not used so that it cannot land in the wrong place")


def test_no_column_left_of_the_first():
    from workbook_tool import layout

    with pytest.raises(ValueError, match="no column -4"):
        layout.col_letter(-4)
