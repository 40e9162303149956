"""Mutation run 8: rosters and the staging of outputs, the cases the other tests left open.

Rosters are written here as literal bytes (or with openpyxl); every expected school and
every expected problem is written out in full, with the file it names.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest

from workbook_tool import staging
from workbook_tool.roster import RosterError, School, load_roster, parse_rows
from workbook_tool.staging import MARKER, ROLLED_BACK, STAGING_DIR, Staging, recover, staged


def roster_file(tmp_path: Path, data: bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def error_of(path: Path) -> tuple[str, list[str]]:
    """The file a roster error names, and its problems."""
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    return caught.value.path, caught.value.problems


# -- headers ----------------------------------------------------------------------------------

def test_empty_header_cells_are_not_listed_as_found(tmp_path):
    path = roster_file(tmp_path, b"id,,name,\r\n1,,A,\r\n")
    assert error_of(path) == (str(path), [
        "row 1: missing column school_id, school_name (found: id, name)"])


def test_a_header_of_underscores_only_finds_none(tmp_path):
    path = roster_file(tmp_path, b"__,___\r\n1,A\r\n")
    assert error_of(path) == (str(path), [
        "row 1: missing column school_id, school_name (found: none)"])


def test_underscores_beside_spaces_are_one_separator(tmp_path):
    path = roster_file(tmp_path, b"School__ID,School _Name,network_ \r\n1,Alpha,North\r\n")
    assert load_roster(path) == [School("1", "Alpha", "North")]


# -- files that cannot be read ----------------------------------------------------------------

def test_a_missing_roster_names_the_file_and_the_reason(tmp_path):
    path = tmp_path / "nowhere.csv"
    assert error_of(path) == (str(path), ["cannot read the roster (No such file or directory)"])


def test_text_with_nul_characters_is_not_a_roster(tmp_path):
    # UTF-16 without its byte order mark decodes as UTF-8, one NUL after every letter.
    path = roster_file(tmp_path, "school_id,school_name\r\n1,A\r\n".encode("utf-16-le"))
    assert error_of(path) == (str(path), ["the roster is not a CSV or XLSX file"])


def test_a_nul_inside_a_name_is_not_a_roster_either(tmp_path):
    path = roster_file(tmp_path, b"school_id,school_name\r\n1,A\x00B\r\n")
    assert error_of(path) == (str(path), ["the roster is not a CSV or XLSX file"])


def test_utf16_that_does_not_decode_names_the_file(tmp_path):
    # A little-endian byte order mark, then a lone high surrogate (D800).
    path = roster_file(tmp_path, b"\xff\xfes\x00\x00\xd8")
    assert error_of(path) == (str(path), ["the roster is not valid UTF-16 text"])


def test_an_unclosed_quote_names_the_file(tmp_path):
    path = roster_file(tmp_path, b'school_id,school_name\n1,A\n2,"B\n' + b"x" * 140_000 + b"\n")
    assert error_of(path) == (str(path), [
        'row 3: this row cannot be read: a cell is longer than 131,072 characters, often '
        'because a quote (") is never closed'])


def test_an_empty_roster_names_the_file(tmp_path):
    path = roster_file(tmp_path, b"")
    assert error_of(path) == (str(path), ["the roster is empty"])


def test_a_header_without_schools_names_the_file(tmp_path):
    path = roster_file(tmp_path, b"school_id,school_name\r\n,\r\n\r\n")
    assert error_of(path) == (str(path), ["the roster has a header but no schools"])


# -- workbooks --------------------------------------------------------------------------------

def test_a_workbook_roster_error_names_the_file(tmp_path):
    wb = openpyxl.Workbook()
    for row in (["school_id", "school_name"], ["7", "Seven"], ["7", "Again"]):
        wb.active.append(row)
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    assert error_of(path) == (str(path), ["row 3: duplicate school_id '7' (first on row 2)"])


def test_a_workbook_row_wider_than_its_header_is_fine(tmp_path):
    """Only a CSV file can split a name in two: a workbook cell beyond the header is a note."""
    wb = openpyxl.Workbook()
    for row in (["school_id", "school_name"], ["7", "Seven", "closed in May"], ["8", "Eight"]):
        wb.active.append(row)
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    assert load_roster(path) == [School("7", "Seven"), School("8", "Eight")]
    rows = [["school_id", "school_name"], ["7", "Seven", "note"]]
    assert parse_rows(rows, "r.xlsx") == [School("7", "Seven")]


# -- the separator and the quotes ---------------------------------------------------------------

def test_quoted_names_after_a_space_keep_their_separator(tmp_path):
    """The separator guess sees a space after each comma: the quotes after it still quote."""
    path = roster_file(tmp_path, b'school_id,school_name\n1, "Kahului, Maui"\n2, "B"\n')
    assert load_roster(path) == [School("1", "Kahului, Maui"), School("2", "B")]


def test_when_no_separator_can_be_guessed_a_quote_after_a_space_is_text(tmp_path):
    # Neither quotes nor the counts of commas settle the separator: a comma, no space skipped.
    path = roster_file(tmp_path, b'school_id,school_name\r\n1, "Five Star" Academy\r\n'
                                 b"2,Plain,,\r\n")
    assert load_roster(path) == [School("1", '"Five Star" Academy'), School("2", "Plain")]


def test_the_separator_is_only_ever_a_comma_semicolon_or_tab(tmp_path):
    # Every row has one X; the commas vary (trailing empty cells), so no separator is sure.
    rows = "".join(f"{i},School {i},TX{',' * (i % 3)}\r\n" for i in range(1, 30))
    path = roster_file(tmp_path, ("school_id,school_name,state\r\n" + rows).encode())
    assert load_roster(path) == [School(str(i), f"School {i}") for i in range(1, 30)]


def test_the_separator_is_guessed_from_the_first_4096_characters(tmp_path):
    # The quote closing at the 4,097th character would make the comma the separator.
    name = "A" * 4068 + ',"Q"'
    text = "school_id;school_name\r\n1;" + name + "\r\n"
    assert text.index('"Q"') + 2 == 4096  # the closing quote is character 4,097
    assert load_roster(roster_file(tmp_path, text.encode())) == [School("1", name)]


def test_a_quoted_windows_line_break_is_kept_as_typed(tmp_path):
    path = roster_file(tmp_path, b'school_id,school_name\r\n1,"Two\r\nLines"\r\n2,B\r\n')
    assert load_roster(path) == [School("1", "Two\r\nLines"), School("2", "B")]


def test_old_mac_line_ends_are_rows(tmp_path):
    """Excel for Mac's "CSV (Macintosh)" ends every row with a lone carriage return."""
    path = roster_file(tmp_path, b"school_id,school_name\r1,Alpha\r2,Beta\r")
    assert load_roster(path) == [School("1", "Alpha"), School("2", "Beta")]


def test_every_row_with_too_many_cells_is_reported(tmp_path):
    path = roster_file(tmp_path, b"school_id,school_name\r\n1,Kahului, Maui\r\n"
                                 b"2,Hilo, East\r\n3,\r\n")
    assert error_of(path) == (str(path), [
        "row 2: 3 cells for 2 columns; a comma inside a name must be in double quotes",
        "row 3: 3 cells for 2 columns; a comma inside a name must be in double quotes",
        "row 4: empty school_name for school_id '3'"])


def test_another_separator_is_named_as_written():
    rows = [["school_id", "school_name"], ["1", "Kahului", "Maui"]]
    with pytest.raises(RosterError) as caught:
        parse_rows(rows, "r.txt", "|")
    assert caught.value.path == "r.txt"
    assert caught.value.problems == [
        "row 2: 3 cells for 2 columns; a '|' inside a name must be in double quotes"]


# -- staging ------------------------------------------------------------------------------------

def test_an_unknown_output_lists_the_outputs(tmp_path):
    with pytest.raises(ValueError) as caught, staged(tmp_path / "out",
                                                     ["a.csv", "b.csv"]) as stage:
        stage.path("notes.txt")
    assert str(caught.value) == "notes.txt is not one of the outputs a.csv, b.csv"


class Stop(BaseException):
    """The process dies at the first rename of an output (after the marker's)."""


class StopAtFirstOutput:
    """The real `os`, except that renaming anything but the marker kills the process."""

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst):
        if Path(dst).name != MARKER:
            raise Stop
        os.replace(src, dst)


def test_the_marker_on_disk_byte_for_byte(tmp_path, monkeypatch):
    out = tmp_path / "out"
    old_umask = os.umask(0o022)
    try:
        with pytest.raises(Stop), staged(out, ["a.csv", "b.csv"]) as stage:
            stage.path("a.csv").write_bytes(b"new a")
            monkeypatch.setattr(staging, "os", StopAtFirstOutput())
            stage.commit()
    finally:
        os.umask(old_umask)
        monkeypatch.setattr(staging, "os", os)
    marker = out / STAGING_DIR / MARKER
    assert marker.read_bytes() == (b'{\n "put": [\n  "a.csv"\n ],\n "remove": [\n  "b.csv"\n'
                                   b' ]\n}')
    assert marker.stat().st_mode & 0o777 == 0o644


def test_a_stale_temporary_marker_is_replaced_whole(tmp_path):
    area = tmp_path / STAGING_DIR
    area.mkdir()
    (area / ".commit.json.tmp").write_bytes(b"x" * 200)  # longer than the new marker
    staging._write_marker(area, {"put": ["a.csv"], "remove": []})
    assert json.loads((area / MARKER).read_bytes()) == {"put": ["a.csv"], "remove": []}
    assert sorted(p.name for p in area.iterdir()) == [MARKER]


class RecordingOS:
    """The real `os`, or one that claims to be Windows; every os.open call is recorded."""

    def __init__(self, windows: bool):
        self.windows = windows
        self.opened: list[tuple[str, tuple]] = []
        self.name = "nt" if windows else os.name
        if windows:
            self.O_BINARY = 0x8000  # the name os gives it on Windows

    def __getattr__(self, name):
        return getattr(os, name)

    def open(self, path, flags, *mode):
        self.opened.append((Path(path).name, (flags, *mode)))
        return os.open(path, flags & ~0x8000 if self.windows else flags, *mode)


def _commit_with(tmp_path: Path, monkeypatch, fake: RecordingOS) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stage = Staging(out, ["a.csv", "b.csv"])
    os.mkdir(stage.area)
    stage.path("a.csv").write_bytes(b"new a")
    monkeypatch.setattr(staging, "os", fake)
    stage.commit()
    monkeypatch.setattr(staging, "os", os)
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]


def test_the_files_are_opened_as_posix_needs(tmp_path, monkeypatch):
    fake = RecordingOS(windows=False)
    _commit_with(tmp_path, monkeypatch, fake)
    assert fake.opened == [
        ("a.csv", (os.O_RDWR,)),  # fsync of a staged file, opened for writing
        (STAGING_DIR, (os.O_RDONLY,)),  # the staging folder
        (".commit.json.tmp", (os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)),
        (STAGING_DIR, (os.O_RDONLY,)),  # after the marker's rename
        ("out", (os.O_RDONLY,)),  # after the outputs' renames
    ]


def test_on_windows_files_are_binary_and_no_folder_is_opened(tmp_path, monkeypatch):
    fake = RecordingOS(windows=True)
    _commit_with(tmp_path, monkeypatch, fake)
    assert fake.opened == [
        ("a.csv", (os.O_RDWR | 0x8000,)),
        (".commit.json.tmp", (os.O_WRONLY | os.O_CREAT | os.O_TRUNC | 0x8000, 0o644)),
    ]


def _marker_names(tmp_path: Path, put: list[str], remove: list[str]) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "ratings.csv").write_bytes(b"old ratings")
    area = out / STAGING_DIR
    area.mkdir()
    (area / "ratings.csv").write_bytes(b"new ratings")
    (area / MARKER).write_text(json.dumps({"put": put, "remove": remove}))
    return out


@pytest.mark.parametrize("put, remove", [
    (["ratings.csv", ""], []),
    (["ratings.csv"], [""]),
    (["ratings.csv", "a\\b.csv"], []),
    (["ratings.csv", "a\x00b.csv"], []),
    (["ratings.csv"], ["a\x00b.csv"]),
], ids=["empty-put", "empty-remove", "backslash", "nul-put", "nul-remove"])
def test_a_marker_naming_no_plain_file_moves_nothing(tmp_path, put, remove):
    out = _marker_names(tmp_path, put, remove)
    if "a\\b.csv" in put:
        (out / STAGING_DIR / "a\\b.csv").write_bytes(b"x")
    assert recover(out) == ROLLED_BACK
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {"ratings.csv": b"old ratings"}
