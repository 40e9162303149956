"""CSV outputs: text a spreadsheet would run as a formula is escaped; nothing else changes."""

from __future__ import annotations

import csv

import pytest

from returns_kit import answer, consolidate_cli, csv_rows, make_return
from workbook_tool.files import csv_safe, write_csv


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"),
    ("+cmd", "'+cmd"),
    ("-5 students", "'-5 students"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tindented", "'\tindented"),
    ("\rreturn", "'\rreturn"),
    ("a-b = c", "a-b = c"),
    (" =not first", " =not first"),
    ("plain", "plain"),
    ("", ""),
    (None, ""),
    (3, "3"),
])
def test_csv_safe(text, expected):
    assert csv_safe(text) == expected


def test_write_csv_escapes_text_and_keeps_numbers(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ("a", "b", "c"),
              [["-1", 2, None], ["x\ny", "\t", "=A1"], [0, "", "@"], [-1, "-", ""]])
    raw = path.read_bytes()
    assert raw.startswith(b"a,b,c\n")  # UTF-8, no BOM, \n line ends
    assert b"\r\n" not in raw
    with open(path, encoding="utf-8", newline="") as f:
        assert list(csv.reader(f)) == [
            ["a", "b", "c"], ["'-1", "2", ""], ["x\ny", "'\t", "'=A1"], ["0", "", "'@"],
            ["-1", "'-", ""]]


def test_ratings_csv_escapes_formula_like_evidence(tmp_path):
    answers = {"1.1": answer("1.1", 2, "-3 points", "\tindent", "High"),
               "1.2": answer("1.2", 1, "=HYPERLINK(\"x\")", "a-b", "Low"),
               "1.3": answer("1.3", 3, "\tcarriage", "+1", "Medium"),
               "2.1": answer("2.1", 1, "plain", "", ""),
               "2.2": answer("2.2", 2, "@mention", "ok", "")}
    result, out = consolidate_cli(tmp_path, {"S1.xlsx": make_return(answers=answers)},
                                  "school_id,school_name\nS1,Alpha School\n")
    assert result.exit_code == 0, result.output
    rows = {r["indicator_id"]: r for r in csv_rows(out / "ratings.csv")}
    assert [(rows[i]["evidence"], rows[i]["next_steps"]) for i in sorted(rows)] == [
        ("'-3 points", "'\tindent"),
        ("'=HYPERLINK(\"x\")", "a-b"),
        ("'\tcarriage", "'+1"),
        ("plain", ""),
        ("'@mention", "ok"),
    ]
    assert rows["1.1"]["level"] == "2"
    assert rows["1.1"]["label"] == "Growing"
    assert rows["1.1"]["priority"] == "High"


def test_write_csv_keeps_a_carriage_return_inside_its_field(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ("a", "b"), [["\rstart", "mid\rdle"]])
    with open(path, encoding="utf-8", newline="") as f:
        assert list(csv.reader(f)) == [["a", "b"], ["'\rstart", "mid\rdle"]]


def test_write_csv_keeps_line_breaks_inside_fields_byte_for_byte(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ("a", "b"), [["line 1\r\nline 2", "x\ny"], ["end\r\n", 5]])
    assert path.read_bytes() == b'a,b\n"line 1\r\nline 2","x\ny"\n"end\r\n",5\n'


def test_write_csv_of_no_rows_is_its_header(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ("a", "b"), [])
    assert path.read_bytes() == b"a,b\n"
