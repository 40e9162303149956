"""Rows inserted in LibreOffice move the defined names with them: every answer stays put.

The README tells site teams they may insert rows. A program that moves the names (Excel,
LibreOffice) keeps every answer on its indicator; one that does not is caught by the reader's
position check (tests/test_positions.py). This test inserts rows above and between indicators
of a filled workbook with a real LibreOffice, saves it as .xlsx, and consolidates it.
Reuses tests/lo_uno.py and test_libreoffice.py's skip logic.
"""

from __future__ import annotations

import csv
import subprocess
import textwrap
from pathlib import Path

import openpyxl
from click.testing import CliRunner

import test_libreoffice as lo
from returns_kit import SCHOOL, SMALL_RUBRIC, make_return, small_rubric
from workbook_tool.cli import main
from workbook_tool.reader import Answer

pytestmark = lo.pytestmark

# Run by Debian's Python (which has `uno`): unprotect the sheet, insert two rows before row 4
# (1.1) and one before the old row 5 (1.2), protect it again, save as xlsx.
_INSERT_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import lo_uno
    src, dst, profile = Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    with lo_uno.Office(profile, 90) as office:
        doc = office.load(src)
        try:
            sheet = doc.Sheets.getByName("D1 Leadership")
            sheet.unprotect("")
            sheet.getRows().insertByIndex(3, 2)   # 0-based: before row 4
            sheet.getRows().insertByIndex(6, 1)   # before 1.2, now on row 7
            sheet.protect("")
            doc.storeToURL(dst.resolve().as_uri(),
                           lo_uno.props(FilterName=lo_uno.XLSX_FILTER, Overwrite=True))
        finally:
            doc.close(True)
""")


def test_rows_inserted_in_libreoffice_keep_every_answer(tmp_path):
    answers = {
        "1.1": Answer("1.1", 2, "Growing", "Minutes of 3 meetings", "Plan in May", "High"),
        "1.2": Answer("1.2", 3, "Strong Practice", "Pathway map", "", "Low"),
        "1.3": Answer("1.3", 1, "Beginning", "", "Start a team", "Medium"),
        "2.1": Answer("2.1", 2, "Growing", "Two partners", "", ""),
        "2.2": Answer("2.2", 1, "Beginning", "", "", "High"),
    }
    source = tmp_path / "filled.xlsx"
    source.write_bytes(make_return(small_rubric(), answers=answers))
    returns = tmp_path / "returns"
    returns.mkdir()
    saved = returns / "inserted.xlsx"
    done = subprocess.run(
        [lo.SYSTEM_PYTHON, "-c", _INSERT_SCRIPT, str(lo.HERE), str(source), str(saved),
         str(tmp_path / "profile")],
        capture_output=True, text=True, env=lo._clean_env(), timeout=lo.TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text("school_id,school_name\nS1,Alpha School\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["consolidate", str(returns), "--roster", str(roster),
                                       "--out", str(out), "--rubric", str(SMALL_RUBRIC)])
    assert result.exit_code == 0, result.output
    with open(out / "ratings.csv", encoding="utf-8", newline="") as f:
        rows = {r["indicator_id"]: r for r in csv.DictReader(f)}
    got = {i: (r["level"], r["label"], r["evidence"], r["next_steps"], r["priority"])
           for i, r in rows.items()}
    assert got == {
        "1.1": ("2", "Growing", "Minutes of 3 meetings", "Plan in May", "High"),
        "1.2": ("3", "Strong Practice", "Pathway map", "", "Low"),
        "1.3": ("1", "Beginning", "", "Start a team", "Medium"),
        "2.1": ("2", "Growing", "Two partners", "", ""),
        "2.2": ("1", "Beginning", "", "", "High"),
    }
    # The names really moved: 1.1's rating is now on row 6, 1.2's on row 8.
    book = openpyxl.load_workbook(Path(saved), read_only=False)
    assert book.defined_names["rating_1_1"].attr_text == "'D1 Leadership'!$F$6"
    assert book.defined_names["rating_1_2"].attr_text == "'D1 Leadership'!$F$8"


# Delete an empty row: the blank row 3 of the Team ratings sheet and the blank row 3 of a
# domain sheet. LibreOffice then declares the sheet as reaching row 1,048,576 (and writes an
# empty last row) on a sheet with hidden columns; the reader must not call that too large.
_DELETE_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import lo_uno
    src, dst, profile = Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    with lo_uno.Office(profile, 90) as office:
        doc = office.load(src)
        try:
            for name in ("Team ratings", "Start Here"):
                sheet = doc.Sheets.getByName(name)
                sheet.unprotect("")
                sheet.getRows().removeByIndex(2, 1)   # 0-based: the blank row 3
                sheet.protect("")
            doc.storeToURL(dst.resolve().as_uri(),
                           lo_uno.props(FilterName=lo_uno.XLSX_FILTER, Overwrite=True))
        finally:
            doc.close(True)
""")


def test_a_row_deleted_in_libreoffice_keeps_the_return_readable(tmp_path):
    from workbook_tool.reader import read_file
    from workbook_tool.reader.model import TeamRatings
    from workbook_tool.writer import Issue, build_workbook

    team = TeamRatings(("Ana", "Ben"), {"1.1": (1, 3), "2.2": (2, 2)}, {"1.1": "Why"})
    answers = {"1.1": Answer("1.1", 2, "Growing", "Minutes", "", "")}
    source = tmp_path / "team.xlsx"
    source.write_bytes(build_workbook(small_rubric(), SCHOOL,
                                      Issue("2024-25", raters=2), answers=answers, team=team))
    saved = tmp_path / "deleted.xlsx"
    done = subprocess.run(
        [lo.SYSTEM_PYTHON, "-c", _DELETE_SCRIPT, str(lo.HERE), str(source), str(saved),
         str(tmp_path / "profile")],
        capture_output=True, text=True, env=lo._clean_env(), timeout=lo.TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    result = read_file(saved, small_rubric())
    assert [p.code for p in result.problems] == ["unrated", "not-agreed"], result.problems
    assert result.team.levels["1.1"] == (1, 3)
    assert result.team.levels["2.2"] == (2, 2)
    assert result.team.notes == {"1.1": "Why"}
    assert [(a.indicator_id, a.level, a.evidence) for a in result.answers][:1] == [
        ("1.1", 2, "Minutes")]
