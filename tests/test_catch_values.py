"""Values as people typed them, and Excel's 32,767-unit cut in the summary."""

from __future__ import annotations

import datetime as dt

import openpyxl

from returns_kit import (
    answer,
    consolidate_cli,
    csv_rows,
    make_return,
    read,
    set_named_value,
    small_rubric,
)
from workbook_tool.reader.values import text_of
from workbook_tool.summary.stream import XLSX_STRING_MAX, clip_text, escape_text


def test_text_of_literals():
    assert text_of(None) == ""
    assert text_of("") == ""
    assert text_of(" as typed ") == " as typed "
    assert text_of(True) == "TRUE"
    assert text_of(False) == "FALSE"
    assert text_of(0) == "0"
    assert text_of(42) == "42"
    assert text_of(-7) == "-7"
    assert text_of(1.0) == "1"
    assert text_of(-3.0) == "-3"
    assert text_of(0.0) == "0"
    assert text_of(2.5) == "2.5"
    assert text_of(0.1) == "0.1"
    assert text_of(123456789012345.0) == "123456789012345"
    assert text_of(dt.datetime(2025, 3, 1)) == "2025-03-01"
    assert text_of(dt.datetime(2025, 3, 1, 9, 30)) == "2025-03-01T09:30:00"
    assert text_of(dt.date(2024, 12, 31)) == "2024-12-31"
    assert text_of(dt.time(8, 5)) == "08:05:00"


def _read_evidence(value) -> str:
    data = set_named_value(make_return(answers={}), "evidence_1_1", value)
    result = read(data, small_rubric())
    (found,) = [a for a in result.answers if a.indicator_id == "1.1"]
    return found.evidence


def test_numbers_in_an_evidence_cell_read_as_typed():
    assert _read_evidence(42) == "42"
    assert _read_evidence(2.5) == "2.5"
    assert _read_evidence(1.0) == "1"
    assert _read_evidence(-12) == "-12"


CUT = 32767
ROSTER = "school_id,school_name\nS1,Alpha School\n"


def test_long_texts_are_cut_to_excels_limit_in_utf16_units(tmp_path):
    emoji = "😀" * 17000  # 34,000 UTF-16 units: over the limit though only 17,000 characters
    fits = "a" + "😀" * 16383  # exactly 32,767 units
    answers = {"1.1": answer("1.1", 1, emoji, fits), "1.2": answer("1.2", 2, "x" * CUT, ""),
               "1.3": answer("1.3", 3, "short", ""), "2.1": answer("2.1", 1, "", ""),
               "2.2": answer("2.2", 2, "", "")}
    data = make_return(answers=answers)
    data = set_named_value(data, "evidence_2_1", "y" * 40000)
    data = set_named_value(data, "evidence_2_2", "z" * (CUT + 1))
    result, out = consolidate_cli(tmp_path, {"S1.xlsx": data}, ROSTER)
    assert result.exit_code in (0, 1), result.output

    ratings = {r["indicator_id"]: r for r in csv_rows(out / "ratings.csv")}
    assert ratings["1.2"]["evidence"] == "x" * CUT  # at the limit: whole
    assert ratings["1.1"]["next_steps"] == fits

    book = openpyxl.load_workbook(out / "district_summary.xlsx")
    rows = {r[2]: r for r in book["Evidence"].iter_rows(min_row=3, values_only=True)}
    assert rows["1.1"][5] == "😀" * 16383  # 32,766 units: the next emoji would split
    assert rows["1.1"][6] == fits
    assert rows["1.2"][5] == "x" * CUT
    assert rows["1.3"][5] == "short"
    assert rows["2.1"][5] == "y" * CUT
    assert rows["2.2"][5] == "z" * CUT
    data_rows = {r[5]: r for r in book["Data"].iter_rows(min_row=2, values_only=True)}
    assert data_rows["2.1"][9] == "y" * CUT
    assert data_rows["1.1"][9] == "😀" * 16383


def test_clip_text_counts_utf16_units_and_never_splits_a_character():
    assert XLSX_STRING_MAX == 32767
    assert clip_text("x" * 32767) == "x" * 32767
    assert clip_text("x" * 32768) == "x" * 32767
    assert clip_text("x" * 100000) == "x" * 32767
    assert clip_text("😀" * 16383) == "😀" * 16383  # 32,766 units
    assert clip_text("😀" * 16384) == "😀" * 16383  # 32,768 units: the last one goes whole
    assert clip_text("a" + "😀" * 16383) == "a" + "😀" * 16383  # exactly 32,767 units
    assert clip_text("ab" + "😀" * 16383) == "ab" + "😀" * 16382
    assert clip_text("é" * 32768) == "é" * 32767  # one unit each
    assert clip_text("😀" * 8192 + "x" * 16384) == "😀" * 8192 + "x" * 16383
    assert clip_text("") == ""


def test_escape_text_cuts_before_escaping():
    assert escape_text("&" * 32768) == "&amp;" * 32767
    assert escape_text("a<b>&\x01") == "a&lt;b&gt;&amp;_x0001_"
    assert escape_text("_x0041_") == "_x005F_x0041_"
    assert escape_text("a\ufffeb\uffffc") == "a_xFFFE_b_xFFFF_c"  # not characters in XML
