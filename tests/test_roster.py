"""Rosters as coordinators' programs save them: encodings, blank rows, spaces, row numbers.

Every roster is written here as literal bytes. A row number is the row a spreadsheet shows
when it opens the file: blank rows count, and a quoted cell with a line break is one row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from returns_kit import SMALL_RUBRIC
from workbook_tool.cli import main
from workbook_tool.roster import RosterError, School, load_roster


def roster_file(tmp_path: Path, data: bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    return caught.value.problems


@pytest.mark.parametrize("data", [
    # A UTF-8 byte order mark in front of Windows-1252 text (Excel on Windows does this).
    b"\xef\xbb\xbfschool_id,school_name\r\n1,Caf\xe9 School\r\n",
    # Excel's "CSV UTF-8": a BOM and UTF-8 text.
    b"\xef\xbb\xbfschool_id,school_name\r\n1,Caf\xc3\xa9 School\r\n",
    # Excel's plain "CSV" on Windows: Windows-1252, no BOM.
    b"school_id,school_name\r\n1,Caf\xe9 School\r\n",
    # Excel's "Unicode Text": UTF-16 little-endian with a BOM, tab-separated.
    b"\xff\xfes\x00c\x00h\x00o\x00o\x00l\x00_\x00i\x00d\x00\t\x00s\x00c\x00h\x00o\x00o\x00l\x00"
    b"_\x00n\x00a\x00m\x00e\x00\r\x00\n\x001\x00\t\x00C\x00a\x00f\x00\xe9\x00 \x00S\x00c\x00h"
    b"\x00o\x00o\x00l\x00\r\x00\n\x00",
], ids=["bom-cp1252", "bom-utf8", "cp1252", "utf16"])
def test_encodings_excel_writes(tmp_path, data):
    assert load_roster(roster_file(tmp_path, data)) == [School("1", "Café School")]


def test_text_in_no_known_encoding_is_one_clear_error(tmp_path):
    path = roster_file(tmp_path, b"school_id,school_name\n1,Caf\x81\x8d\n")
    assert problems_of(path) == ["the roster is neither UTF-8 nor Windows-1252 text; save it "
                                 "again as CSV UTF-8 or as an Excel workbook"]


def test_inner_spaces_are_kept_and_surrounding_ones_trimmed(tmp_path):
    path = roster_file(tmp_path, b"school_id,school_name,network\n"
                                 b" 7 ,  Lincoln  High \t,North  East \n")
    assert load_roster(path) == [School("7", "Lincoln  High", "North  East")]


def test_a_quoted_line_break_stays_in_the_name(tmp_path):
    path = roster_file(tmp_path, b'school_id,school_name\n1,"Two\nLines"\n')
    assert load_roster(path) == [School("1", "Two\nLines")]


ROW_NUMBERS = {
    "blank lines count": (
        b"school_id,school_name\n\n1,A\n\n,B\n",
        ["row 5: empty school_id"]),
    "blank lines before the header": (
        b"\n\nid,name\n1,A\n",
        ["row 3: missing column school_id, school_name (found: id, name)"]),
    "rows of empty cells count": (
        b"school_id,school_name,network\n,,\n1,A,\n  ,  ,\n,B,\n",
        ["row 5: empty school_id"]),
    "a quoted line break is one row": (
        b'school_id,school_name\n1,"Two\nLines"\n2,B\n2,C\n',
        ["row 4: duplicate school_id '2' (first on row 3)"]),
    "every problem in one pass": (
        b"school_id,school_name\r\n1,A\r\n\r\n1,B\r\n3,\r\n,D\r\n",
        ["row 4: duplicate school_id '1' (first on row 2)",
         "row 5: empty school_name for school_id '3'",
         "row 6: empty school_id"]),
    "an unclosed quote": (
        b'school_id,school_name\n1,A\n2,"B\n' + b"x" * 140_000 + b"\n",
        ['row 3: this row cannot be read: a cell is longer than 131,072 characters, often '
         'because a quote (") is never closed']),
}


@pytest.mark.parametrize("case", list(ROW_NUMBERS))
def test_row_numbers_are_the_rows_of_the_file(tmp_path, case):
    data, expected = ROW_NUMBERS[case]
    assert problems_of(roster_file(tmp_path, data)) == expected


def test_xlsx_row_numbers_are_the_sheet_rows(tmp_path):
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet["B2"], sheet["C2"] = "School ID", "School Name"  # row 1 and column A empty
    sheet["B3"], sheet["C3"] = 101, "  Lincoln  High "
    sheet["B4"] = "   "  # a blank row
    sheet["B6"], sheet["C6"] = 101, "Again"
    wb.save(tmp_path / "roster.xlsx")
    assert problems_of(tmp_path / "roster.xlsx") == [
        "row 6: duplicate school_id '101' (first on row 3)"]
    del sheet["B6"], sheet["C6"]
    sheet.delete_rows(6)
    wb.save(tmp_path / "roster.xlsx")
    assert load_roster(tmp_path / "roster.xlsx") == [School("101", "Lincoln  High")]


# -- through the CLI --------------------------------------------------------------------------

def generate(roster: Path, out: Path):
    return CliRunner().invoke(main, ["generate", str(roster), "--out", str(out),
                                     "--rubric", str(SMALL_RUBRIC), "--jobs", "1"])


def test_cli_generates_from_a_bom_and_windows_1252_roster(tmp_path):
    roster = roster_file(tmp_path, b"\xef\xbb\xbfschool_id,school_name\r\n"
                                   b"1,Caf\xe9 School\r\n\r\n2, Lincoln  High \r\n")
    out = tmp_path / "out"
    result = generate(roster, out)
    assert result.exit_code == 0, result.output
    with open(out / "manifest.csv", encoding="utf-8", newline="") as f:
        rows = [(r["school_id"], r["school_name"], r["file"]) for r in csv.DictReader(f)]
    assert rows == [("1", "Café School", "1_cafe-school.xlsx"),
                    ("2", "Lincoln  High", "2_lincoln-high.xlsx")]
    book = openpyxl.load_workbook(out / "2_lincoln-high.xlsx")
    sheet, cell = next(iter(book.defined_names["school_name"].destinations))
    assert book[sheet][cell.replace("$", "")].value == "Lincoln  High"


def test_cli_reports_file_rows_and_writes_nothing(tmp_path):
    roster = roster_file(tmp_path, b"\xef\xbb\xbfschool_id,school_name\r\n1,Caf\xe9\r\n"
                                   b"\r\n1,Caf\xe9 Two\r\n\r\n,Nameless\r\n")
    out = tmp_path / "out"
    result = generate(roster, out)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: roster {roster}: row 4: duplicate school_id '1' (first on row 2)",
        f"Error: roster {roster}: row 6: empty school_id",
    ]
    assert result.stdout == ""
    assert not out.exists()


def test_cli_undecodable_roster_is_a_usage_error(tmp_path):
    roster = roster_file(tmp_path, b"school_id,school_name\n1,\x81\n")
    result = generate(roster, tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: roster {roster}: the roster is neither UTF-8 nor "
                             "Windows-1252 text; save it again as CSV UTF-8 or as an Excel "
                             "workbook\n")
    assert not (tmp_path / "out").exists()


# -- cells that do not line up, ids that only look different -----------------------------------

def test_cli_a_row_with_more_cells_than_the_header_is_an_error(tmp_path):
    """An unquoted comma in a name would put "Maui" in the network column."""
    roster = roster_file(tmp_path, b"school_id,school_name,network\r\n"
                                   b"101,Lincoln High,North\r\n"
                                   b"102,Ka'u High,Hilo\r\n"
                                   b"103,Hilo High,Hilo,,\r\n"  # Excel's trailing empty cells
                                   b"104,Kahului, Maui,Central\r\n")
    out = tmp_path / "out"
    result = generate(roster, out)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: roster {roster}: row 5: 4 cells for 3 columns; a comma inside a name must be "
        "in double quotes"]
    assert not out.exists()


def test_semicolon_rosters_name_their_separator_and_trailing_cells_are_fine(tmp_path):
    path = roster_file(tmp_path, b"School ID;School Name;;\r\n1;Arts; Media;\r\n2;Plain;;\r\n")
    assert problems_of(path) == [
        "row 2: 3 cells for 2 columns; a semicolon inside a name must be in double quotes"]
    good = roster_file(tmp_path, b'school_id,school_name\r\n1,"Kahului, Maui",,\r\n2,B\r\n',
                       "good.csv")
    assert load_roster(good) == [School("1", "Kahului, Maui"), School("2", "B")]


def test_apostrophes_are_never_quotes(tmp_path):
    """csv.Sniffer takes ' for the quote character here and would drop the okina."""
    path = roster_file(tmp_path, b"school_id,school_name,network\r\n"
                                 b"101,'Ewa Beach Elementary',Leeward\r\n"
                                 b"102,Ka'u High,Hilo\r\n"
                                 b"103,'Iolani Annex',Honolulu\r\n")
    assert load_roster(path) == [School("101", "'Ewa Beach Elementary'", "Leeward"),
                                 School("102", "Ka'u High", "Hilo"),
                                 School("103", "'Iolani Annex'", "Honolulu")]


def test_cli_ids_that_differ_only_by_case_or_by_an_invisible_character(tmp_path):
    roster = roster_file(tmp_path, "school_id,school_name\r\n"
                                   "A12,One\r\n"
                                   " a12 ,Two\r\n"
                                   "B\u200b7,Three\r\n"
                                   "C\x017,Four\r\n"
                                   "D\u00a09,Five\r\n"
                                   "E 1,Six\r\n".encode())
    out = tmp_path / "out"
    result = generate(roster, out)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: roster {roster}: row 3: school_id 'a12' differs from 'A12' on row 2 only in "
        "capital letters; use one spelling for one school, or ids that differ by more for two",
        f"Error: roster {roster}: row 4: school_id 'B<U+200B>7' holds a character that cannot "
        "be seen; type the id again without it",
        f"Error: roster {roster}: row 5: school_id 'C<U+0001>7' holds a character that cannot "
        "be seen; type the id again without it",
        f"Error: roster {roster}: row 6: school_id 'D<U+00A0>9' holds a character that cannot "
        "be seen; type the id again without it",
    ]
    assert not out.exists()
