"""Rosters with blank rows: blank rows are not schools, and row numbers are the file's."""

from __future__ import annotations

import pytest

from workbook_tool.roster import RosterError, School, load_roster, parse_rows


def _load(tmp_path, text: str):
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8"))
    return load_roster(path)


def test_blank_rows_anywhere_are_skipped(tmp_path):
    text = ("\n"
            "School ID,School Name,Network\n"
            "\n"
            "101,Alpha School,North\n"
            ",,\n"
            "   ,  ,\n"
            "102,Beta School,\n"
            ",,\n"
            ",,\n")
    assert _load(tmp_path, text) == [School("101", "Alpha School", "North"),
                                     School("102", "Beta School", "")]


def _problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(RosterError) as caught:
        _load(tmp_path, text)
    return caught.value.problems


def test_row_numbers_are_the_files_rows_blank_rows_counted(tmp_path):
    text = ("school_id,school_name\n"      # row 1
            "101,Alpha School\n"          # row 2
            "\n"                          # row 3
            ",No Id School\n"             # row 4
            ",,\n"                        # row 5
            "101,Alpha Again\n"           # row 6
            "103,\n")                     # row 7
    rows = [p.split(":")[0] for p in _problems(tmp_path, text)]
    assert rows == ["row 4", "row 6", "row 7"]


def test_duplicate_names_its_first_row(tmp_path):
    text = "school_id,school_name\n\n101,A\n\n101,B\n"
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("row 5:")
    assert "row 3" in problem.split(":", 1)[1]


def test_header_after_blank_rows_and_only_blank_rows():
    rows = [["", ""], ["school_id", "school_name"], ["", " "], ["7", "Seven"]]
    assert parse_rows(rows, "r.csv") == [School("7", "Seven")]
    with pytest.raises(RosterError) as caught:
        parse_rows([["", ""], [" ", ""]], "r.csv")
    assert len(caught.value.problems) == 1
    with pytest.raises(RosterError) as caught:
        parse_rows([["school_id", "school_name"], ["", ""]], "r.csv")
    assert len(caught.value.problems) == 1


def test_short_rows_and_header_spelling():
    rows = [[" School_ID ", "SCHOOL NAME", "contact  email"], ["5", "Five"]]
    assert parse_rows(rows, "r.csv") == [School("5", "Five")]


def test_a_broken_roster_workbook_names_the_file_and_the_reason(tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"PK\x03\x04 this zip ends here")
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    assert caught.value.path == str(path)
    (problem,) = caught.value.problems
    assert problem.startswith("cannot read the roster workbook (")
    assert problem.endswith(")")


def test_a_roster_error_reads_one_line_per_problem():
    error = RosterError("r.csv", ["row 2: no school_id", "row 5: school_id 7 again"])
    assert str(error) == "r.csv: row 2: no school_id\nr.csv: row 5: school_id 7 again"


def test_an_empty_workbook_cell_is_empty_text():
    # What python-calamine gives for a cell: None never becomes the text "None".
    from workbook_tool.roster import _cell_text

    assert [_cell_text(v) for v in (None, "", 7.0, 7.5, "Alpha")] == ["", "", "7", "7.5", "Alpha"]
