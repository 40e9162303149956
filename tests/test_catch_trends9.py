"""The Trends sheet cell by cell, with its styles, widths and row heights (mutation run 9).

tests/test_trends.py checks the figures; this file checks what a reader of the sheet also
sees: each cell's style, blank cells that keep the decimal format, the title's merge, the
column widths and the header rows' height, the names used when the run has no cycle, and
cases the hand-worked table there does not reach (a school that rated nothing, an indicator
the rubric no longer has, a level the rubric no longer has, next steps of only spaces,
spilled texts that the sheet never needs).

The small rubric: 1.1 Shared vision, 1.2 Resources, 1.3 Data use (domain 1 Leadership);
2.1 Employer partners, 2.2 Family engagement (domain 2 Partnerships); levels 1 Beginning,
2 Growing, 3 Strong Practice. Every expected value below is worked out by hand.
"""

from __future__ import annotations

import openpyxl

from returns_kit import SMALL_RUBRIC, small_rubric
from test_catch_summary_workbook import STYLE, look
from test_trends import NOW, PREVIOUS, result  # the case and builder of test_trends
from workbook_tool.consolidate import PreviousCycle, TextSpill, _share_strings, consolidate
from workbook_tool.reader.model import Answer, ReturnResult
from workbook_tool.roster import School
from workbook_tool.rubric import load_rubric
from workbook_tool.summary.workbook import write_summary_workbook

ROSTER = [School("S1", "Alpha School"), School("S2", "Beta School"),
          School("S3", "Gamma School")]
LABELS = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
NOTE = ("This cycle's accepted returns against 2024-25's, as the history store recorded "
        "them. A school counts in a cycle only where it has an accepted return of that cycle.")


def _trends(tmp_path, results, previous: dict, cycle: str = "2025-26", spill=None):
    if spill is not None:
        results = [_share_strings(r, spill) for r in results]
    run = consolidate(results, small_rubric(), ROSTER, cycle=cycle)
    run.previous = PreviousCycle("2024-25", previous)
    path = tmp_path / "district_summary.xlsx"
    write_summary_workbook(run, path, [])
    return openpyxl.load_workbook(path)["Trends"]




def _worked_case(tmp_path, cycle: str = "2025-26"):
    results = [result(ROSTER[0], NOW["S1"]), result(ROSTER[1], NOW["S2"])]
    return _trends(tmp_path, results, PREVIOUS, cycle)


def _row(row: int, cells: list[tuple[object, str]]) -> dict[str, tuple[object, str]]:
    return {f"{chr(ord('A') + col)}{row}": cell for col, cell in enumerate(cells)}


def _header(row: int, texts: list[str]) -> dict[str, tuple[object, str]]:
    return _row(row, [(text, "header") for text in texts])


# ref -> (value, style name); None values are blank cells written with a format.
SHEET = {
    "A1": ("Trends: 2024-25 to 2025-26", "title"),
    "A2": (NOTE, "note"),
    "A4": ("Per indicator: schools at each level", "heading"),
    **_header(5, ["ID", "Indicator", "Beginning 2024-25", "Growing 2024-25",
                  "Strong Practice 2024-25", "Beginning 2025-26", "Growing 2025-26",
                  "Strong Practice 2025-26", "Average 2024-25", "Average 2025-26",
                  "Change"]),
    **{ref: cell for row, (ind, title, counts, averages) in enumerate([
        ("1.1", "Shared vision", [1, 0, 1, 1, 1, 0], [2, 1.5, -0.5]),
        ("1.2", "Resources", [1, 0, 0, 0, 1, 1], [1, 2.5, 1.5]),
        ("1.3", "Data use", [1, 0, 0, 1, 0, 1], [1, 2, 1]),
        ("2.1", "Employer partners", [0, 1, 0, 0, 1, 1], [2, 2.5, 0.5]),
        ("2.2", "Family engagement", [0, 1, 0, 1, 0, 0], [2, 1, -1])], start=6)
       for ref, cell in _row(row, [(ind, "text"), (title, "wrap"),
                                   *((n, "number") for n in counts),
                                   *((a, "decimal") for a in averages)]).items()},
    "A12": ("Per school and domain: average level", "heading"),
    **_header(13, ["School ID", "School", "Domain", "Average 2024-25", "Average 2025-26",
                   "Change"]),
    **{ref: cell for row, (school, name, domain, figures) in enumerate([
        ("S1", "Alpha School", "1 Leadership", [1.67, 2, 0.33]),
        ("S1", "Alpha School", "2 Partnerships", [2, 2, 0]),
        ("S2", "Beta School", "1 Leadership", [None, 2, None]),
        ("S2", "Beta School", "2 Partnerships", [None, 2, None]),
        ("S3", "Gamma School", "1 Leadership", [1, None, None])], start=14)
       for ref, cell in _row(row, [(school, "text"), (name, "text"), (domain, "text"),
                                   *((f, "decimal") for f in figures)]).items()},
    "A20": ("Dropped a level or more", "heading"),
    **_header(21, ["School ID", "School", "ID", "Indicator", "2024-25", "2025-26", "Change"]),
    **_row(22, [("S1", "text"), ("Alpha School", "text"), ("1.1", "text"),
                ("Shared vision", "text"), ("Strong Practice", "text"), ("Growing", "text"),
                (-1, "number")]),
    "A24": ("Follow-up of 2024-25's next steps", "heading"),
    **_header(25, ["Priority", "Next steps", "Done", "In progress", "Not started", "Dropped",
                   "Not said"]),
    **{ref: cell for row, (priority, counts) in enumerate([
        ("High", [1, 1, 0, 0, 0, 0]), ("Medium", [1, 0, 1, 0, 0, 0]),
        ("Low", [1, 0, 0, 1, 0, 0]), ("No priority", [1, 0, 0, 0, 1, 0])], start=26)
       for ref, cell in _row(row, [(priority, "text"),
                                   *((n, "number") for n in counts)]).items()},
}


def test_every_cell_of_the_trends_sheet_with_its_style(tmp_path):
    sheet = _worked_case(tmp_path)
    written = {c.coordinate: c.value for row in sheet.iter_rows() for c in row
               if c.value is not None}
    assert written == {ref: value for ref, (value, _s) in SHEET.items() if value is not None}
    assert {ref: look(sheet[ref]) for ref in SHEET} == {
        ref: STYLE[style] for ref, (_value, style) in SHEET.items()}


def test_title_merge_widths_and_row_heights(tmp_path):
    sheet = _worked_case(tmp_path)
    # 2 + 2 x 3 levels + 3 columns: the title spans A:K.
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:K1"]
    widths = {key: d.width for key, d in sheet.column_dimensions.items() if d.customWidth}
    # n characters are stored as n + 0.7109375; columns C to L (2 + 2 x 3 + 3) are 13 wide.
    assert [(d.min, d.max, d.width) for d in sorted(
        (d for d in sheet.column_dimensions.values() if d.customWidth),
        key=lambda d: d.min)] == [(1, 1, 12.7109375), (2, 2, 40.7109375),
                                  (3, 12, 13.7109375)], widths
    # The title 28 pt and each header row 30 pt, in whole pixels (27.75 and 30).
    assert {r: d.height for r, d in sheet.row_dimensions.items() if d.height is not None} == {
        1: 27.75, 5: 30, 13: 30, 21: 30, 25: 30}


def test_a_run_without_a_cycle_names_this_cycle_now(tmp_path):
    sheet = _worked_case(tmp_path, cycle="")
    assert sheet["A1"].value == "Trends: 2024-25 to this cycle"
    assert [c.value for c in sheet[5]][5:10] == [
        "Beginning now", "Growing now", "Strong Practice now", "Average 2024-25", "Average now"]
    assert [c.value for c in sheet[13]][3:5] == ["Average 2024-25", "Average now"]
    assert [c.value for c in sheet[21]][4:6] == ["2024-25", "now"]


def test_unrated_schools_unknown_indicators_and_levels_and_blank_next_steps(tmp_path):
    """S2 rated nothing in domain 2, now or then: no domain-2 row for it; S3 only domain 2
    last cycle: no domain-1 row; S9 is no longer on the roster: an empty name. Last cycle had an
    indicator the rubric no longer has (9.9) and a level it no longer has (4: shown as
    "4"), and next steps of only spaces (not counted in the follow-up)."""
    now = {"S1": {"1.1": (3, "Done"), "1.2": (2, "Dropped"), "1.3": (None, ""),
                  "2.1": (1, "Typed something"), "2.2": (1, "")},
           "S2": {"1.1": (2, ""), "1.2": (2, ""), "1.3": (2, ""), "2.1": (None, ""),
                  "2.2": (None, "Done")}}
    previous = {("S1", "1.1"): (2, "Plan", "High"),  # up: not a drop
                ("S1", "1.2"): (4, "Grow", "Medium"),  # 4 -> 2: a drop from "4"
                ("S1", "1.3"): (3, "   ", "Low"),  # only spaces: no next steps
                ("S1", "2.1"): (2, "Meet", "Low"),  # 2 -> 1, follow-up not a choice
                ("S1", "9.9"): (1, "Gone", "High"),  # an indicator the rubric dropped
                ("S2", "2.2"): (None, "Ask", ""),  # unrated then and now
                ("S3", "2.1"): (2, "", ""),  # no return now, nothing in domain 1
                ("S9", "1.1"): (3, "", "")}  # a school no longer on the roster
    results = [result(ROSTER[0], now["S1"]), result(ROSTER[1], now["S2"])]
    sheet = _trends(tmp_path, results, previous)
    rows = [[c.value for c in row] for row in sheet.iter_rows(max_col=7)]
    per_domain = rows.index(["Per school and domain: average level", *[None] * 6])
    blank = [None] * 7
    assert rows[per_domain + 2:per_domain + 9] == [
        ["S1", "Alpha School", "1 Leadership", 3, 2.5, -0.5, None],
        ["S1", "Alpha School", "2 Partnerships", 2, 1, -1, None],
        ["S2", "Beta School", "1 Leadership", None, 2, None, None],
        ["S3", "Gamma School", "2 Partnerships", 2, None, None, None],
        ["S9", "", "1 Leadership", 3, None, None, None], blank,
        ["Dropped a level or more", *blank[1:]]]
    dropped = per_domain + 8
    assert rows[dropped + 2:dropped + 6] == [
        ["S1", "Alpha School", "1.2", "Resources", "4", "Growing", -2],
        ["S1", "Alpha School", "2.1", "Employer partners", "Growing", "Beginning", -1], blank,
        ["Follow-up of 2024-25's next steps", *blank[1:]]]
    followup = dropped + 5
    assert rows[followup + 2:] == [
        ["High", 1, 1, 0, 0, 0, 0], ["Medium", 1, 0, 0, 0, 1, 0],
        ["Low", 1, 0, 0, 0, 0, 1], ["No priority", 1, 1, 0, 0, 0, 0]]
    # Per indicator, 1.1 then: S1 2 and S9 3; 1.2 then: the level 4 is no level of the
    # rubric, so no count shows it, but the average takes it (4); 2.2 was unrated then.
    assert rows[5][:7] == ["1.1", "Shared vision", 0, 1, 1, 0, 1]
    assert [c.value for c in sheet[7]][2:] == [0, 0, 0, 0, 2, 0, 4, 2, -2]
    assert [c.value for c in sheet[10]][2:] == [0, 0, 0, 1, 0, 0, None, 1, None]


def test_the_sheet_never_reads_spilled_texts_back(tmp_path, spill_loads):
    """The Trends sheet needs levels and follow-ups only: with every text spilled to disk,
    it adds no read of its own to the three sheets that show texts (3 reads a return)."""
    results = [result(ROSTER[0], NOW["S1"]), result(ROSTER[1], NOW["S2"])]
    sheet = _trends(tmp_path, results, PREVIOUS, spill=TextSpill(budget=0))
    assert len(spill_loads) == 6
    assert sheet["B26"].value == 1


def test_no_drop_leaves_one_note_row_and_counts_every_next_step(tmp_path):
    """S2 kept or raised each level; its two High next steps were both done."""
    now = {"1.1": (1, "Done"), "1.2": (2, "Done"), "1.3": (3, ""), "2.1": (3, ""),
           "2.2": (1, "")}
    previous = {("S2", "1.1"): (1, "Go", "High"), ("S2", "1.2"): (1, "Plan", "High")}
    sheet = _trends(tmp_path, [result(ROSTER[1], now)], previous)
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=12, max_col=7)]
    blank = [None] * 7
    assert rows == [
        ["Per school and domain: average level", *blank[1:]],
        ["School ID", "School", "Domain", "Average 2024-25", "Average 2025-26", "Change", None],
        ["S2", "Beta School", "1 Leadership", 1, 2, 1, None],
        ["S2", "Beta School", "2 Partnerships", None, 2, None, None], blank,
        ["Dropped a level or more", *blank[1:]],
        ["School ID", "School", "ID", "Indicator", "2024-25", "2025-26", "Change"],
        ["No school dropped a level on any indicator.", *blank[1:]], blank,
        ["Follow-up of 2024-25's next steps", *blank[1:]],
        ["Priority", "Next steps", "Done", "In progress", "Not started", "Dropped",
         "Not said"],
        ["High", 2, 2, 0, 0, 0, 0], ["Medium", 0, 0, 0, 0, 0, 0], ["Low", 0, 0, 0, 0, 0, 0],
        ["No priority", 0, 0, 0, 0, 0, 0]]
    assert look(sheet["A19"]) == STYLE["note"]


def _reordered_rubric(tmp_path):
    """The small rubric with 1.2 renamed 1.9: rubric order 1.1, 1.9, 1.3 is not the order
    of the ids as text."""
    text = SMALL_RUBRIC.read_text(encoding="utf-8").replace('id: "1.2"', 'id: "1.9"')
    path = tmp_path / "reordered.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rubric(path)


def test_drops_are_listed_by_school_then_in_rubric_order(tmp_path):
    rubric = _reordered_rubric(tmp_path)

    def reordered(school: School, levels: dict) -> ReturnResult:
        return ReturnResult(f"{school.school_id}.xlsx", school.school_id * 8,
                            school.school_id, school.school_name, "2025-26", rubric.id,
                            rubric.version, rubric.fingerprint, 2,
                            answers=[Answer(i, lv, LABELS[lv]) for i, lv in levels.items()])

    # Returns in the order S2, S1, and S1's answers not in rubric order: the list still
    # starts with S1, and its drops follow the rubric.
    results = [reordered(ROSTER[1], {"1.1": 1, "1.9": 1}),
               reordered(ROSTER[0], {"1.3": 1, "1.9": 1, "1.1": 3})]
    previous = {("S1", "1.9"): (2, "", ""), ("S1", "1.3"): (3, "", ""),
                ("S2", "1.1"): (3, "", ""), ("S2", "1.9"): (2, "", "")}
    run = consolidate(results, rubric, ROSTER, cycle="2025-26")
    run.previous = PreviousCycle("2024-25", previous)
    path = tmp_path / "district_summary.xlsx"
    write_summary_workbook(run, path, [])
    sheet = openpyxl.load_workbook(path)["Trends"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(max_col=7)]
    at = rows.index(["Dropped a level or more", *[None] * 6])
    assert rows[at + 2:at + 6] == [
        ["S1", "Alpha School", "1.9", "Resources", "Growing", "Beginning", -1],
        ["S1", "Alpha School", "1.3", "Data use", "Strong Practice", "Beginning", -2],
        ["S2", "Beta School", "1.1", "Shared vision", "Strong Practice", "Beginning", -2],
        ["S2", "Beta School", "1.9", "Resources", "Growing", "Beginning", -1]]
