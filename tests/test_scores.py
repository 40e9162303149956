"""Points and tiers in consolidation: scores.csv (read with the csv module), the Scores sheet
(read with openpyxl) and the report's scores section (read with html.parser), with literal
totals and tiers: a partial return, a total exactly on a tier's min_points, a total below
every tier. The small rubric with points (tests/points_kit.py): levels 1, 2, 3 score 0, 2, 5;
tiers Bronze 6, Silver 12, Gold 20; 5 indicators, so a full return scores up to 25.
"""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner

from points_kit import points_rubric
from returns_kit import csv_rows, make_return
from test_report import read
from workbook_tool.cli import main
from workbook_tool.consolidate import Score, consolidate, scores
from workbook_tool.reader.model import Answer, ReturnResult
from workbook_tool.roster import School
from workbook_tool.summary import report

IDS = ("1.1", "1.2", "1.3", "2.1", "2.2")
LABELS = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
CYCLE = "2024-25"
ROSTER = [School("S1", "Alpha School", "North"), School("S2", "Beta School", "South"),
          School("S3", "Gamma School", "North"), School("S4", "Delta School", ""),
          School("S5", "Epsilon School", "South")]
# school -> levels of 1.1, 1.2, 1.3, 2.1, 2.2
LEVELS = {
    "S1": (3, 3, 2, 1, None),  # 5 + 5 + 2 + 0 + 0 = 12: Silver exactly, a partial return
    "S2": (3, 3, 3, 3, 3),  # 25: Gold, the maximum
    "S3": (2, 2, 1, 1, 1),  # 4: below Bronze's 6, no tier
    "S4": (2, 2, 2, None, None),  # 6: Bronze exactly, partial
    "S5": (3, 2, 2, 1, 1),  # 9: Bronze
}


def answers(levels) -> dict[str, Answer]:
    return {i: Answer(i, level, LABELS[level], "", "", "")
            for i, level in zip(IDS, levels, strict=True)}


def result(rubric, school_id: str, levels=None) -> ReturnResult:
    """A return of `levels` (1.1 .. 2.2), by default the school's in LEVELS."""
    levels = LEVELS[school_id] if levels is None else levels
    return ReturnResult(f"returns/{school_id}.xlsx", f"sha-{school_id}", school_id, "", CYCLE,
                        rubric.id, rubric.version, rubric.fingerprint, 2,
                        answers=list(answers(levels).values()))


def run(rubric, roster=ROSTER):
    return consolidate([result(rubric, s.school_id) for s in roster], rubric, roster, CYCLE)


def test_each_accepted_return_is_scored(tmp_path):
    found = list(scores(run(points_rubric(tmp_path))))
    assert found == [
        Score("S1", "Alpha School", "North", CYCLE, 12, 25, 4, 5, "Silver"),
        Score("S2", "Beta School", "South", CYCLE, 25, 25, 5, 5, "Gold"),
        Score("S3", "Gamma School", "North", CYCLE, 4, 25, 5, 5, ""),
        Score("S4", "Delta School", "", CYCLE, 6, 25, 3, 5, "Bronze"),
        Score("S5", "Epsilon School", "South", CYCLE, 9, 25, 5, 5, "Bronze")]


def test_without_points_nothing_is_scored(small_rubric):
    assert list(scores(run(small_rubric))) == []


def _consolidate(tmp_path, rubric, schools=ROSTER, out_name="out"):
    returns = tmp_path / "returns"
    returns.mkdir(exist_ok=True)
    for school in schools:
        data = make_return(rubric, school, CYCLE, answers=answers(LEVELS[school.school_id]))
        (returns / f"{school.school_id}.xlsx").write_bytes(data)
    roster = tmp_path / "roster.csv"
    roster.write_text("school_id,school_name,network\n" + "".join(
        f"{s.school_id},{s.school_name},{s.network}\n" for s in schools), encoding="utf-8")
    out = tmp_path / out_name
    result = CliRunner().invoke(main, ["consolidate", str(returns), "--roster", str(roster),
                                       "--out", str(out), "--rubric", rubric.path,
                                       "--jobs", "1", "--quiet"])
    return result, out


def test_consolidate_writes_scores_csv(tmp_path):
    result, out = _consolidate(tmp_path, points_rubric(tmp_path))
    assert result.exit_code in (0, 1), result.output  # partial returns: warnings only
    rows = [list(r.values()) for r in csv_rows(out / "scores.csv")]
    assert rows == [
        ["S1", "Alpha School", "North", CYCLE, "12", "25", "4", "5", "Silver"],
        ["S2", "Beta School", "South", CYCLE, "25", "25", "5", "5", "Gold"],
        ["S3", "Gamma School", "North", CYCLE, "4", "25", "5", "5", ""],
        ["S4", "Delta School", "", CYCLE, "6", "25", "3", "5", "Bronze"],
        ["S5", "Epsilon School", "South", CYCLE, "9", "25", "5", "5", "Bronze"]]
    assert list(csv_rows(out / "scores.csv")[0]) == [
        "school_id", "school_name", "network", "cycle", "points", "max_points", "rated",
        "total", "tier"]


def test_the_scores_sheet(tmp_path):
    result, out = _consolidate(tmp_path, points_rubric(tmp_path))
    assert result.exit_code in (0, 1), result.output
    sheet = openpyxl.load_workbook(out / "district_summary.xlsx")["Scores"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == ("Points per rating: Beginning 0, Growing 2, Strong Practice 5; "
                            "an unrated indicator scores 0. Tiers: Bronze from 6, Silver from "
                            "12, Gold from 20. A full return of this rubric can score 25.")
    assert [row[:6] for row in values[3:8]] == [
        ("Schools in each tier, by network", None, None, None, None, None),
        ("Network", "Gold", "Silver", "Bronze", "No tier", "Schools"),
        ("North", 0, 1, 0, 1, 2),
        ("South", 1, 0, 1, 0, 2),
        ("No network", 0, 0, 1, 0, 1)]
    assert values[8][:6] == ("District", 1, 1, 2, 1, 5)
    assert values[10][0] == "Schools, highest points first"
    assert [row[:8] for row in values[11:17]] == [
        ("School ID", "School", "Network", "Points", "Maximum", "Rated", "Total", "Tier"),
        ("S2", "Beta School", "South", 25, 25, 5, 5, "Gold"),
        ("S1", "Alpha School", "North", 12, 25, 4, 5, "Silver"),
        ("S5", "Epsilon School", "South", 9, 25, 5, 5, "Bronze"),
        ("S4", "Delta School", "", 6, 25, 3, 5, "Bronze"),
        ("S3", "Gamma School", "North", 4, 25, 5, 5, "No tier")]
    assert sheet.auto_filter.ref == "A12:H17"


def test_without_points_no_scores_file_and_a_stale_one_is_removed(tmp_path, small_rubric):
    _first, out = _consolidate(tmp_path, points_rubric(tmp_path))
    assert (out / "scores.csv").exists()
    again, out = _consolidate(tmp_path, small_rubric)
    assert again.exit_code in (0, 1), again.output
    assert not (out / "scores.csv").exists()
    book = openpyxl.load_workbook(out / "district_summary.xlsx")
    assert "Scores" not in book.sheetnames


def test_the_report_shows_the_schools_per_tier(tmp_path):
    page = read(report.build_report(run(points_rubric(tmp_path))))
    assert page.sections["scores"] == (
        "Scores and tiers A full return scores up to 25 points; tiers: Bronze from 6, Silver "
        "from 12, Gold from 20. An unrated indicator scores 0. Schools per tier Tier Schools "
        "Gold 1 Silver 1 Bronze 2 No tier 1 Tiers by network Network Gold Silver Bronze No "
        "tier North 0 1 0 1 South 1 0 1 0 No network 0 0 1 0 Gold: 1 school(s) Beta School "
        "(25) Silver: 1 school(s) Alpha School (12) Bronze: 2 school(s) Epsilon School (9), "
        "Delta School (6) No tier: 1 school(s) Gamma School (4)")


def test_a_workbook_of_some_domains_is_scored_against_its_own_indicators(tmp_path):
    rubric = points_rubric(tmp_path)
    one = ReturnResult("returns/S1.xlsx", "sha-S1", "S1", "", CYCLE, rubric.id, rubric.version,
                       rubric.fingerprint, 2,
                       answers=[Answer(i, 3, "Strong Practice", "", "", "")
                                for i in ("1.1", "1.2", "1.3")])
    found = list(scores(consolidate([one], rubric, ROSTER[:1], CYCLE)))
    # Domain 1 only: 3 indicators, so 15 is its maximum (and Silver its tier).
    assert found == [Score("S1", "Alpha School", "North", CYCLE, 15, 15, 3, 3, "Silver")]
