"""The district summary's figures, checked cell by cell against numbers worked out by hand.

One small consolidation (the 3-level test rubric) through the CLI; every expected value
below is a literal, and the workbook is read back with openpyxl.

    school  1.1  1.2  1.3  2.1  2.2    file(s)
    S1      3    3    1    2    2      S1.xlsx and an identical copy
    S2      2    1    1    3    -      (2.2 unrated: accepted with warnings)
    S3      1    3    2    3    1
    S4      an invalid rating: rejected
    S5      no return: missing
"""

from __future__ import annotations

import pytest

from returns_kit import answer, consolidate_cli, csv_rows, make_return, set_named_value
from workbook_tool.roster import School
from workbook_tool.summary.workbook import proficient_level

ROSTER = ("school_id,school_name,network\n"
          "S1,Alpha School,North\nS2,Beta School,South\nS3,Gamma School,North\n"
          "S4,Delta School,East\nS5,Epsilon School,East\n")
LEVELS = {
    "S1": {"1.1": 3, "1.2": 3, "1.3": 1, "2.1": 2, "2.2": 2},
    "S2": {"1.1": 2, "1.2": 1, "1.3": 1, "2.1": 3, "2.2": None},
    "S3": {"1.1": 1, "1.2": 3, "1.3": 2, "2.1": 3, "2.2": 1},
}
PRIORITY = {("S1", "1.1"): ("High", "Plan A"), ("S1", "1.2"): ("Medium", ""),
            ("S1", "1.3"): ("Low", ""), ("S1", "2.1"): ("High", "Plan B"),
            ("S2", "1.1"): ("High", "Plan C"), ("S3", "2.1"): ("High", "Plan D"),
            ("S3", "1.3"): ("Low", "")}
NAMES = {"S1": "Alpha School", "S2": "Beta School", "S3": "Gamma School", "S4": "Delta School"}


def _return(school_id: str) -> bytes:
    answers = {}
    for ind_id, level in LEVELS.get(school_id, {}).items():
        priority, steps = PRIORITY.get((school_id, ind_id), ("", ""))
        answers[ind_id] = answer(ind_id, level, f"Ev {school_id} {ind_id}", steps, priority)
    return make_return(school=School(school_id, NAMES[school_id]), answers=answers)


# Function scope on purpose: mutmut links a test to the code its fixtures run only when
# that test runs them, so a module-scoped fixture would hide this file from most mutants.
@pytest.fixture
def summary(tmp_path_factory):
    import openpyxl

    s4 = set_named_value(_return("S4"), "rating_1_1", "Excellent")
    files = {"S1.xlsx": _return("S1"), "S1 copy.xlsx": _return("S1"), "S2.xlsx": _return("S2"),
             "S3.xlsx": _return("S3"), "S4.xlsx": s4, "notes.txt": b"not a return",
             "~$S1.xlsx": b"lock"}
    result, out = consolidate_cli(tmp_path_factory.mktemp("summary"), files, ROSTER)
    assert result.exit_code == 1, result.output  # S4 has errors
    return out, openpyxl.load_workbook(out / "district_summary.xlsx")


def _rows(sheet, first_row: int = 1) -> list[list]:
    return [list(r) for r in sheet.iter_rows(min_row=first_row, values_only=True)]


def _labelled(sheet) -> dict[str, object]:
    """Column A label -> column B value, for the Overview's label/value rows."""
    return {r[0]: r[1] for r in _rows(sheet) if isinstance(r[0], str) and len(r) > 1}


def test_overview_counts_returns_by_status(summary):
    values = _labelled(summary[1]["Overview"])
    assert {s: values[s] for s in ("accepted", "accepted_with_warnings", "rejected",
                                   "duplicate", "conflict", "missing")} == {
        "accepted": 2, "accepted_with_warnings": 1, "rejected": 1, "duplicate": 1,
        "conflict": 0, "missing": 1}


def test_overview_completion_figures(summary):
    values = _labelled(summary[1]["Overview"])
    assert values["Schools on the roster"] == 5
    assert values["Schools with an accepted return"] == 3
    assert values["Share of schools accepted"] == pytest.approx(0.6)
    assert values["Indicators rated in accepted returns"] == 14
    assert values["Share of indicators rated"] == pytest.approx(14 / 15)


def test_overview_levels_by_domain(summary):
    rows = _rows(summary[1]["Overview"])
    header = next(i for i, r in enumerate(rows) if r[0] == "Domain")
    assert rows[header][:5] == ["Domain", "Beginning", "Growing", "Strong Practice", "Unrated"]
    assert [r[:5] for r in rows[header + 1:header + 3]] == [
        ["D1 Leadership and Vision", 4, 2, 3, 0],
        ["D2 Partnerships with the Community", 1, 2, 2, 1],
    ]


def test_proficient_level_is_the_upper_half():
    assert proficient_level(4) == 3  # Advancing of Emerging..Transforming
    assert proficient_level(3) == 2
    assert proficient_level(5) == 3


def test_indicators_share_at_or_above_and_order(summary):
    rows = _rows(summary[1]["Indicators"], first_row=2)
    assert rows[0][:9] == ["Domain", "ID", "Indicator", "Beginning", "Growing",
                           "Strong Practice", "Unrated", "Median level",
                           "Share at Growing or above"]
    body = [[r[1], *r[3:9]] for r in rows[1:6]]
    # Least established first; equal shares keep the rubric's order.
    assert body == [
        ["1.3", 2, 1, 0, 0, 1, pytest.approx(1 / 3)],
        ["2.2", 1, 1, 0, 1, 1.5, 0.5],
        ["1.1", 1, 1, 1, 0, 2, pytest.approx(2 / 3)],
        ["1.2", 1, 0, 2, 0, 3, pytest.approx(2 / 3)],
        ["2.1", 0, 1, 2, 0, 3, 1],
    ]
    assert [r[0] for r in rows[1:6]] == ["D1", "D2", "D1", "D1", "D2"]
    assert rows[1][2] == "Data use"


def test_heatmap_has_one_row_per_accepted_school(summary):
    rows = _rows(summary[1]["Heatmap"], first_row=2)
    assert rows[0][:8] == ["School ID", "School", "Network", "1.1", "1.2", "1.3", "2.1", "2.2"]
    assert [r[:8] for r in rows[1:4]] == [
        ["S1", "Alpha School", "North", 3, 3, 1, 2, 2],
        ["S2", "Beta School", "South", 2, 1, 1, 3, None],
        ["S3", "Gamma School", "North", 1, 3, 2, 3, 1],
    ]
    assert rows[4][:3] == [None, None, None]


def test_domains_sheet_rated_and_average(summary):
    rows = _rows(summary[1]["Domains"], first_row=2)
    assert rows[0] == ["School ID", "School", "Domain", "Rated", "Indicators", "Average level"]
    body = [r[:6] for r in rows[1:]]
    assert body == [
        ["S1", "Alpha School", "D1 Leadership", 3, 3, pytest.approx(7 / 3)],
        ["S1", "Alpha School", "D2 Partnerships", 2, 2, 2],
        ["S2", "Beta School", "D1 Leadership", 3, 3, pytest.approx(4 / 3)],
        ["S2", "Beta School", "D2 Partnerships", 1, 2, 3],
        ["S3", "Gamma School", "D1 Leadership", 3, 3, 2],
        ["S3", "Gamma School", "D2 Partnerships", 2, 2, 2],
    ]


def test_priorities_sheet_counts_and_high_next_steps(summary):
    rows = _rows(summary[1]["Priorities"], first_row=2)
    assert rows[0] == ["ID", "Indicator", "High", "Medium", "Low", None, "ID", "School",
                       "Next steps (High priority)"]
    assert [r[:5] for r in rows[1:6]] == [
        ["1.1", "Shared vision", 2, 0, 0],
        ["2.1", rows[2][1], 2, 0, 0],
        ["1.2", "Resources", 0, 1, 0],
        ["1.3", "Data use", 0, 0, 2],
        ["2.2", rows[5][1], 0, 0, 0],
    ]
    assert [r[6:9] for r in rows[1:5]] == [
        ["1.1", "Alpha School", "Plan A"],
        ["1.1", "Beta School", "Plan C"],
        ["2.1", "Alpha School", "Plan B"],
        ["2.1", "Gamma School", "Plan D"],
    ]
    assert [r[6:9] for r in rows[5:6]] == [[None, None, None]]


def test_evidence_sheet_rows(summary):
    rows = _rows(summary[1]["Evidence"], first_row=2)
    assert rows[0] == ["School ID", "School", "ID", "Indicator", "Rating", "Evidence",
                       "Next steps", "Priority"]
    assert len(rows) == 1 + 15
    assert rows[1] == ["S1", "Alpha School", "1.1", "Shared vision", "Strong Practice",
                       "Ev S1 1.1", "Plan A", "High"]
    s2_22 = next(r for r in rows if r[0] == "S2" and r[2] == "2.2")
    assert s2_22[4:6] == [None, "Ev S2 2.2"]


def test_returns_sheet_matches_returns_csv(summary):
    out, book = summary
    csv_statuses = sorted((r["school_id"], r["status"]) for r in csv_rows(out / "returns.csv"))
    assert csv_statuses == [("S1", "accepted"), ("S1", "duplicate"),
                            ("S2", "accepted_with_warnings"), ("S3", "accepted"),
                            ("S4", "rejected"), ("S5", "missing")]
    rows = _rows(book["Returns"])
    status = rows[0].index("status")
    assert sorted((r[0], r[status]) for r in rows[1:]) == csv_statuses
    s3 = next(r for r in rows if r[0] == "S3")
    assert s3[rows[0].index("rated")] == 5
    assert s3[rows[0].index("total")] == 5
    s4 = next(r for r in rows if r[0] == "S4")
    assert s4[5:9] == [0, 5, 1, 1]  # rated, total, errors, warnings: numbers
    # A missing school has no file: empty cells, not the text "None".
    assert next(r for r in rows if r[0] == "S5")[1:] == [
        "Epsilon School", None, None, "missing", None, None, None, None]


def test_problems_sheet_names_the_rejected_cell(summary):
    rows = _rows(summary[1]["Problems"])
    header = rows[0]
    invalid = [r for r in rows[1:] if r[header.index("code")] == "invalid-rating"]
    assert len(invalid) == 1
    assert invalid[0][header.index("school_id")] == "S4"
    assert invalid[0][header.index("cell")] == "F4"
    assert invalid[0][header.index("severity")] == "error"
    unrated = [r for r in rows[1:] if r[header.index("code")] == "unrated"]
    assert [(r[1], r[2], r[3]) for r in unrated] == [("S2", None, None), ("S4", None, None)]


def test_data_sheet_is_the_ratings_table(summary):
    rows = _rows(summary[1]["Data"])
    assert rows[0][:10] == ["school_id", "school_name", "network", "cycle", "domain_id",
                            "indicator_id", "indicator", "level", "label", "evidence"]
    assert len(rows) == 1 + 15
    assert rows[1][:10] == ["S1", "Alpha School", "North", "2024-25", "1", "1.1",
                            "Shared vision", 3, "Strong Practice", "Ev S1 1.1"]
