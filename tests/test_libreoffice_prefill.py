"""A prefilled workbook in a real LibreOffice: opened as generated, then changed and saved.

Calc recalculates the Summary and the progress line; the values it saved are read back with
openpyxl (data_only) and compared with literals worked out by hand, first for the workbook
as generated (the cached values the writer wrote must be what Calc computes), then after a
team changed a rating, rated a new indicator, marked one Reviewed and said what became of
last cycle's next steps (through UNO, tests/lo_uno.py, as a person types). Reuses
test_libreoffice.py's skip logic.
"""

from __future__ import annotations

import json

import openpyxl
import pytest

import test_libreoffice as lo
from workbook_tool.reader.model import Answer, Previous
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook

pytestmark = lo.pytestmark

SCHOOL = School("S-7", "Riverbend High", "North")
# Small rubric (Beginning, Growing, Strong Practice): D1 has 1.1-1.3, D2 has 2.1-2.2.
PREVIOUS = Previous("2025-26", "2024-01", {
    "1.1": Answer("1.1", 2, "Growing", "Minutes", "Write the vision", "High"),
    "1.2": Answer("1.2", 1, "Beginning", "", "", "Low"),
    "1.3": Answer("1.3", 3, "Strong Practice", "", "", ""),
    "2.1": Answer("2.1", None, "", "", "Call two employers", ""),
})
FILL = {
    "rating_1_2": "Strong Practice",  # practice moved
    "review_1_2": "Reviewed",
    "followup_1_1": "In progress",
    "rating_2_2": "Growing",  # rated for the first time
}


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory):
    """A private LibreOffice user profile for this module (never the user's own)."""
    return tmp_path_factory.mktemp("lo_profile")


@pytest.fixture(scope="module")
def generated(tmp_path_factory, small_rubric):
    folder = tmp_path_factory.mktemp("prefill")
    src = folder / "S-7_prefilled.xlsx"
    src.write_bytes(build_workbook(small_rubric, SCHOOL, Issue("2026-27"), previous=PREVIOUS))
    return src


@pytest.fixture(scope="module")
def filled(tmp_path_factory, lo_profile, generated):
    folder = tmp_path_factory.mktemp("filled")
    values = folder / "values.json"
    values.write_text(json.dumps(FILL, ensure_ascii=False), encoding="utf-8")
    out = folder / "S-7_filled.xlsx"
    report = lo.run_uno(lo_profile, "fill", str(generated), str(out), str(values))
    return out, report


def _summary(path) -> tuple[list, str]:
    book = openpyxl.load_workbook(path, data_only=True)
    rows = [[c.value for c in book["Summary"][f"B{r}":f"G{r}"][0]] for r in (4, 5, 6)]
    return rows, book["Start Here"]["B9"].value


def test_cached_counts_are_right_and_calc_keeps_them(tmp_path, lo_profile, generated):
    # Calc does not recalculate a file it merely opens and saves: this shows the cached
    # values are the right counts and survive; the test below has Calc recount.
    cached = _summary(generated)
    # Indicators, Rated, Beginning, Growing, Strong Practice, % rated.
    expected = ([[3, 3, 1, 1, 1, 1], [2, 0, 0, 0, 0, 0], [5, 3, 1, 1, 1, 0.6]],
                "3 of 5 indicators rated")
    assert cached == expected
    saved = lo.convert(lo_profile, generated, "xlsx", tmp_path / "calc")
    assert _summary(saved) == expected


def test_the_team_cells_are_set_under_protection(filled):
    _, report = filled
    assert report["refused"] == {}
    assert set(report["set"]) == set(FILL)
    for name, seen in report["set"].items():
        assert seen["protected"] and not seen["locked"], name


def test_calc_recounts_after_the_team_changed_ratings(filled):
    rows, progress = _summary(filled[0])
    assert rows == [[3, 3, 0, 1, 2, 1], [2, 1, 0, 1, 0, 0.5], [5, 4, 0, 2, 2, 0.8]]
    assert progress == "4 of 5 indicators rated"


def test_the_saved_prefill_cells(filled):
    sheet = openpyxl.load_workbook(filled[0])["D1 Leadership"]
    assert [c.value for c in sheet["F4":"M4"][0]] == [
        "Growing", "Minutes", "Write the vision", "High", "Growing", "Write the vision",
        "In progress", "Carried forward"]
    assert [c.value for c in sheet["F5":"M5"][0]] == [
        "Strong Practice", None, None, "Low", "Beginning", None, None, "Reviewed"]
    assert sheet["J4"].protection.locked is not False
    assert sheet["M4"].protection.locked is False


def test_consolidate_reads_what_calc_saved_and_counts_what_was_carried(filled, tmp_path):
    from returns_kit import consolidate_cli, csv_rows

    result, out = consolidate_cli(tmp_path, {"s7.xlsx": filled[0].read_bytes()},
                                  "school_id,school_name,network\nS-7,Riverbend High,North\n",
                                  "--cycle", "2026-27")
    assert result.exit_code == 0, result.output
    rows = csv_rows(out / "ratings.csv")
    assert [(r["indicator_id"], r["level"], r["evidence"], r["previous_level"], r["review"],
             r["followup"]) for r in rows] == [
        ("1.1", "2", "Minutes", "2", "Carried forward", "In progress"),
        ("1.2", "3", "", "1", "Reviewed", ""),
        ("1.3", "3", "", "3", "Carried forward", ""),
        ("2.1", "", "", "", "Carried forward", ""),
        ("2.2", "2", "", "", "", ""),
    ]
    problems = [(r["code"], r["message"]) for r in csv_rows(out / "problems.csv")]
    assert problems == [
        ("unrated", "1 of 5 indicators is not rated: 2.1"),
        ("carried-forward",
         '2 of 5 ratings are still last cycle\'s (2025-26) with Review still "Carried '
         'forward": 1.1, 1.3; they count as this cycle\'s ratings (set Review to "Reviewed" '
         "once the team has looked again)"),
    ]
