"""The Scores sheet cell by cell, with its styles, widths, title merge and filter (mutation
run 9), and the order of networks and of schools with equal points.

The small rubric with points (tests/points_kit.py): levels 1, 2, 3 score 0, 2, 5; tiers
Bronze 6, Silver 12, Gold 20 unless a test says otherwise; 5 indicators, so a full return
scores 25. Every expected value is worked out by hand from this table:

    school  network  1.1 1.2 1.3 2.1 2.2  points  rated  tier
    S1      Beta     3   3   3   3   3    25      5      Gold
    S2      alpha    2   2   2   -   -    6       3      Bronze (exactly)
    S3      (blank)  1   1   1   1   1    0       5      no tier
    S4      alpha    2   2   2   1   1    6       5      Bronze: ties with S2, after it

Networks sort without regard to case (alpha before Beta), the blank network last.
"""

from __future__ import annotations

import openpyxl

from points_kit import points_rubric
from test_catch_summary_workbook import STYLE, look
from test_scores import CYCLE, result
from workbook_tool.consolidate import consolidate
from workbook_tool.roster import School
from workbook_tool.summary.scores import by_network, ranked
from workbook_tool.summary.workbook import write_summary_workbook

ROSTER = [School("S1", "Alpha School", "Beta"), School("S2", "Beta School", "alpha"),
          School("S3", "Gamma School", ""), School("S4", "Delta School", "alpha")]
LEVELS = {"S1": (3, 3, 3, 3, 3), "S2": (2, 2, 2, None, None), "S3": (1, 1, 1, 1, 1),
          "S4": (2, 2, 2, 1, 1)}
NOTE = ("Points per rating: Beginning 0, Growing 2, Strong Practice 5; an unrated indicator "
        "scores 0. Tiers: Bronze from 6, Silver from 12, Gold from 20. A full return of this "
        "rubric can score 25.")


def _run(rubric, schools=ROSTER):
    return consolidate([result(rubric, s.school_id, LEVELS[s.school_id]) for s in schools],
                       rubric, ROSTER, CYCLE)


def _sheet(tmp_path, run):
    path = tmp_path / "district_summary.xlsx"
    write_summary_workbook(run, path, [])
    return openpyxl.load_workbook(path)["Scores"]


def _row(row: int, cells: list[tuple[object, str]]) -> dict[str, tuple[object, str]]:
    return {f"{chr(ord('A') + col)}{row}": cell for col, cell in enumerate(cells)}


def _texts(row: int, texts, style: str = "text") -> dict[str, tuple[object, str]]:
    return _row(row, [(text, style) for text in texts])


def _counts(row: int, label: str, counts, label_style: str = "text"):
    return _row(row, [(label, label_style), *((n, "number") for n in counts)])


def _school(row: int, texts, numbers, tier):
    return _row(row, [*((t, "text") for t in texts), *((n, "number") for n in numbers),
                      (tier, "text")])


# ref -> (value, style name)
SHEET = {
    "A1": ("Scores: points and tiers of the accepted returns", "title"),
    "A2": (NOTE, "note"),
    "A4": ("Schools in each tier, by network", "heading"),
    **_texts(5, ["Network", "Gold", "Silver", "Bronze", "No tier", "Schools"], "header"),
    **_counts(6, "alpha", [0, 0, 2, 0, 2]),
    **_counts(7, "Beta", [1, 0, 0, 0, 1]),
    **_counts(8, "No network", [0, 0, 0, 1, 1]),
    **_counts(9, "District", [1, 0, 2, 1, 4], "header"),
    "A11": ("Schools, highest points first", "heading"),
    **_texts(12, ["School ID", "School", "Network", "Points", "Maximum", "Rated", "Total",
                  "Tier"], "header"),
    **_school(13, ["S1", "Alpha School", "Beta"], [25, 25, 5, 5], "Gold"),
    **_school(14, ["S2", "Beta School", "alpha"], [6, 25, 3, 5], "Bronze"),
    **_school(15, ["S4", "Delta School", "alpha"], [6, 25, 5, 5], "Bronze"),
    **_school(16, ["S3", "Gamma School", ""], [0, 25, 5, 5], "No tier"),
}


def _widths(sheet) -> list[tuple[int, int, float]]:
    """(first column, last column, width) of each column range given a width; n characters
    are stored as n + 0.7109375."""
    return sorted((d.min, d.max, d.width) for d in sheet.column_dimensions.values()
                  if d.customWidth)


def test_every_cell_of_the_scores_sheet_with_its_style(tmp_path):
    sheet = _sheet(tmp_path, _run(points_rubric(tmp_path)))
    written = {c.coordinate: c.value for row in sheet.iter_rows() for c in row
               if c.value is not None}
    assert written == {ref: value for ref, (value, _s) in SHEET.items()}
    assert {ref: look(sheet[ref]) for ref in SHEET} == {
        ref: STYLE[style] for ref, (_value, style) in SHEET.items()}
    assert {ref: sheet[ref].data_type for ref in SHEET} == {
        ref: "n" if isinstance(value, int) else "s" for ref, (value, _s) in SHEET.items()}


def test_title_merge_widths_and_filter(tmp_path):
    sheet = _sheet(tmp_path, _run(points_rubric(tmp_path)))
    # Eight school columns are wider than the 4 tiers + 2: the title spans A:H.
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:H1"]
    assert _widths(sheet) == [(1, 1, 16.7109375), (2, 2, 36.7109375), (3, 9, 12.7109375)]
    assert sheet.auto_filter.ref == "A12:H16"
    assert sheet.row_dimensions[1].height == 27.75


def test_more_tiers_than_school_columns_widen_the_title(tmp_path):
    """Seven tiers and No tier, plus Network and Schools: 10 columns."""
    tiers = tuple((f"T{k}", k) for k in range(1, 8))
    sheet = _sheet(tmp_path, _run(points_rubric(tmp_path, tiers=tiers)))
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:J1"]
    assert _widths(sheet) == [(1, 1, 16.7109375), (2, 2, 36.7109375), (3, 11, 12.7109375)]
    assert [c.value for c in sheet[5]] == [
        "Network", "T7", "T6", "T5", "T4", "T3", "T2", "T1", "No tier", "Schools"]
    # S2 and S4 score 6 (T6), S1 25 (T7), S3 0 (no tier).
    assert [c.value for c in sheet[9]] == ["District", 1, 2, 0, 0, 0, 0, 0, 1, 4]


def test_points_without_tiers(tmp_path):
    sheet = _sheet(tmp_path, _run(points_rubric(tmp_path, tiers=None)))
    assert sheet["A2"].value == (
        "Points per rating: Beginning 0, Growing 2, Strong Practice 5; an unrated indicator "
        "scores 0. Tiers: none. A full return of this rubric can score 25.")
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=5, max_row=9,
                                                              max_col=3)] == [
        ["Network", "No tier", "Schools"], ["alpha", 2, 2], ["Beta", 1, 1],
        ["No network", 1, 1], ["District", 4, 4]]
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:H1"]


def test_no_accepted_return_leaves_the_filter_on_the_header(tmp_path):
    sheet = _sheet(tmp_path, _run(points_rubric(tmp_path), schools=[]))
    assert [[c.value for c in row][:6] for row in sheet.iter_rows(min_row=4)] == [
        ["Schools in each tier, by network", None, None, None, None, None],
        ["Network", "Gold", "Silver", "Bronze", "No tier", "Schools"],
        ["District", 0, 0, 0, 0, 0],
        [None] * 6,
        ["Schools, highest points first", None, None, None, None, None],
        ["School ID", "School", "Network", "Points", "Maximum", "Rated"]]
    assert sheet.auto_filter.ref == "A9:H9"


def test_ranked_and_by_network(tmp_path):
    run = _run(points_rubric(tmp_path))
    assert [(s.school_id, s.points) for s in ranked(run)] == [
        ("S1", 25), ("S2", 6), ("S4", 6), ("S3", 0)]
    counts = by_network(ranked(run))
    assert list(counts) == ["alpha", "Beta", "No network"]
    assert {name: dict(c) for name, c in counts.items()} == {
        "alpha": {"Bronze": 2}, "Beta": {"Gold": 1}, "No network": {"No tier": 1}}
