"""The Trends sheet of district_summary.xlsx: this cycle against the previous one.

A hand-worked case on the small rubric (levels 1 Beginning, 2 Growing, 3 Strong Practice;
1.1-1.3 in domain 1 Leadership, 2.1-2.2 in domain 2 Partnerships), every cell read back
with openpyxl.
"""

from __future__ import annotations

import openpyxl
import pytest

from returns_kit import small_rubric
from workbook_tool.consolidate import PreviousCycle, consolidate
from workbook_tool.reader.model import Answer, ReturnResult
from workbook_tool.roster import School
from workbook_tool.summary.workbook import write_summary_workbook

ROSTER = [School("S1", "Alpha School"), School("S2", "Beta School"),
          School("S3", "Gamma School")]
LABELS = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
# Last cycle, as the store recorded it: (level, next steps, priority).
PREVIOUS = {
    ("S1", "1.1"): (3, "Write the vision", "High"),
    ("S1", "1.2"): (1, "", "Low"),
    ("S1", "1.3"): (1, "Use data", "Medium"),
    ("S1", "2.1"): (2, "Meet partners", ""),
    ("S1", "2.2"): (2, "Survey", "Low"),
    ("S3", "1.1"): (1, "Start", "High"),  # S3 did not return this cycle
}
# This cycle: (level, follow-up) per indicator.
NOW = {
    "S1": {"1.1": (2, "Done"), "1.2": (3, ""), "1.3": (1, "In progress"),
           "2.1": (2, "Dropped"), "2.2": (None, "Not started")},
    "S2": {"1.1": (1, ""), "1.2": (2, ""), "1.3": (3, ""), "2.1": (3, ""), "2.2": (1, "")},
}


def result(school: School, answers: dict) -> ReturnResult:
    """answers: indicator -> (level, follow-up) or (level, follow-up, next steps); every
    answer has evidence, so that spilled texts can be told apart from none."""
    rubric = small_rubric()
    return ReturnResult(
        file=f"{school.school_id}.xlsx", sha256=school.school_id * 8,
        school_id=school.school_id, school_name=school.school_name, cycle="2025-26",
        rubric_id=rubric.id, rubric_version=rubric.version,
        rubric_fingerprint=rubric.fingerprint, format_version=2,
        answers=[Answer(ind, level, LABELS[level], f"Evidence {ind}", (rest or [""])[0],
                        followup=followup)
                 for ind, (level, followup, *rest) in answers.items()])


@pytest.fixture
def trends(tmp_path):
    results = [result(ROSTER[0], NOW["S1"]), result(ROSTER[1], NOW["S2"])]
    run = consolidate(results, small_rubric(), ROSTER, cycle="2025-26")
    run.previous = PreviousCycle("2024-25", PREVIOUS)
    path = tmp_path / "district_summary.xlsx"
    write_summary_workbook(run, path, [])
    book = openpyxl.load_workbook(path)
    return book


def values(sheet, first: int, last: int, width: int) -> list[list]:
    return [[sheet.cell(r, c).value for c in range(1, width + 1)]
            for r in range(first, last + 1)]


def test_the_sheet_follows_domains_and_has_its_title(trends):
    assert trends.sheetnames.index("Trends") == trends.sheetnames.index("Domains") + 1
    sheet = trends["Trends"]
    assert sheet["A1"].value == "Trends: 2024-25 to 2025-26"
    assert sheet["A2"].value.startswith("This cycle's accepted returns against 2024-25's")


def test_per_indicator_levels_then_and_now(trends):
    sheet = trends["Trends"]
    assert sheet["A4"].value == "Per indicator: schools at each level"
    assert values(sheet, 5, 5, 11) == [[
        "ID", "Indicator", "Beginning 2024-25", "Growing 2024-25", "Strong Practice 2024-25",
        "Beginning 2025-26", "Growing 2025-26", "Strong Practice 2025-26",
        "Average 2024-25", "Average 2025-26", "Change"]]
    assert values(sheet, 6, 10, 11) == [
        ["1.1", "Shared vision", 1, 0, 1, 1, 1, 0, 2, 1.5, -0.5],
        ["1.2", "Resources", 1, 0, 0, 0, 1, 1, 1, 2.5, 1.5],
        ["1.3", "Data use", 1, 0, 0, 1, 0, 1, 1, 2, 1],
        ["2.1", "Employer partners", 0, 1, 0, 0, 1, 1, 2, 2.5, 0.5],
        ["2.2", "Family engagement", 0, 1, 0, 1, 0, 0, 2, 1, -1],
    ]
    assert sheet["I6"].number_format == "0.0"


def test_per_school_and_domain_averages(trends):
    sheet = trends["Trends"]
    assert sheet["A12"].value == "Per school and domain: average level"
    assert values(sheet, 13, 13, 6) == [["School ID", "School", "Domain", "Average 2024-25",
                                         "Average 2025-26", "Change"]]
    assert values(sheet, 14, 18, 6) == [
        ["S1", "Alpha School", "1 Leadership", 1.67, 2, 0.33],
        ["S1", "Alpha School", "2 Partnerships", 2, 2, 0],
        ["S2", "Beta School", "1 Leadership", None, 2, None],
        ["S2", "Beta School", "2 Partnerships", None, 2, None],
        ["S3", "Gamma School", "1 Leadership", 1, None, None],
    ]


def test_every_school_indicator_that_dropped(trends):
    sheet = trends["Trends"]
    assert sheet["A20"].value == "Dropped a level or more"
    assert values(sheet, 21, 22, 7) == [
        ["School ID", "School", "ID", "Indicator", "2024-25", "2025-26", "Change"],
        ["S1", "Alpha School", "1.1", "Shared vision", "Strong Practice", "Growing", -1],
    ]


def test_followup_of_last_cycles_next_steps_by_priority(trends):
    sheet = trends["Trends"]
    assert sheet["A24"].value == "Follow-up of 2024-25's next steps"
    assert values(sheet, 25, 29, 7) == [
        ["Priority", "Next steps", "Done", "In progress", "Not started", "Dropped", "Not said"],
        ["High", 1, 1, 0, 0, 0, 0],
        ["Medium", 1, 0, 1, 0, 0, 0],
        ["Low", 1, 0, 0, 1, 0, 0],
        ["No priority", 1, 0, 0, 0, 1, 0],
    ]


def test_no_drop_says_so(tmp_path):
    results = [result(ROSTER[1], NOW["S2"])]
    run = consolidate(results, small_rubric(), ROSTER, cycle="2025-26")
    run.previous = PreviousCycle("2024-25", {("S2", "1.1"): (1, "Go", "High")})
    path = tmp_path / "district_summary.xlsx"
    write_summary_workbook(run, path, [])
    sheet = openpyxl.load_workbook(path)["Trends"]
    rows = [[c.value for c in row[:2]] for row in sheet.iter_rows()]
    at = rows.index(["Dropped a level or more", None])
    assert rows[at + 2] == ["No school dropped a level on any indicator.", None]
    assert rows[-4:] == [["High", 1], ["Medium", 0], ["Low", 0], ["No priority", 0]]
    assert sheet.cell(len(rows) - 3, 7).value == 1  # "Not said": S2 gave no follow-up


def test_no_previous_cycle_no_trends_sheet(tmp_path):
    run = consolidate([result(ROSTER[0], NOW["S1"])], small_rubric(), ROSTER, cycle="2025-26")
    path = tmp_path / "district_summary.xlsx"
    write_summary_workbook(run, path, [])
    assert "Trends" not in openpyxl.load_workbook(path).sheetnames


def test_consolidating_the_next_cycle_into_a_store_adds_the_trends_sheet(tmp_path):
    from returns_kit import answer, consolidate_cli, make_return

    store = tmp_path / "history.sqlite"
    roster = "school_id,school_name\nS1,Alpha School\n"
    last = {"1.1": answer("1.1", 3, "", "Write the vision", "High")}
    first, out1 = consolidate_cli(tmp_path / "a", {"s1.xlsx": make_return(
        cycle="2024-25", answers=last)}, roster, "--cycle", "2024-25", "--history", str(store))
    assert first.exit_code == 0, first.output
    assert "Trends" not in openpyxl.load_workbook(out1 / "district_summary.xlsx").sheetnames
    now = {"1.1": answer("1.1", 2)}
    second, out2 = consolidate_cli(tmp_path / "b", {"s1.xlsx": make_return(
        cycle="2025-26", answers=now)}, roster, "--cycle", "2025-26", "--history", str(store))
    assert second.exit_code == 0, second.output
    sheet = openpyxl.load_workbook(out2 / "district_summary.xlsx")["Trends"]
    assert sheet["A1"].value == "Trends: 2024-25 to 2025-26"
    assert [c.value for c in sheet[6]][:11] == [
        "1.1", "Shared vision", 0, 0, 1, 0, 1, 0, 3, 2, -1]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    dropped = rows.index(["Dropped a level or more", *[None] * 10])
    assert rows[dropped + 2][:7] == ["S1", "Alpha School", "1.1", "Shared vision",
                                     "Strong Practice", "Growing", -1]
