"""Consolidating team returns: agreement.csv, the summary's Agreement sheet, team data in
duplicate and conflict decisions, and `check`'s list of indicators to discuss.

The unit tests build ReturnResults by hand (District Framework, levels 1 Emerging to 4
Transforming; domain 1 has indicators 1.1 to 1.8). The CLI tests use real team workbooks
of the small rubric (indicators 1.1, 1.2, 1.3, 2.1, 2.2; levels 1 Beginning, 2 Growing,
3 Strong Practice) filled with openpyxl, as a spreadsheet program would.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from returns_kit import (
    CYCLE,
    SCHOOL,
    SMALL_RUBRIC,
    consolidate_cli,
    csv_rows,
    fill,
    make_return,
    small_rubric,
)
from workbook_tool.cli import main
from workbook_tool.consolidate import (
    CONFLICT,
    DUPLICATE,
    REJECTED,
    _share_strings,
    consolidate,
)
from workbook_tool.problems import ERROR, Problem
from workbook_tool.reader.model import Answer, ReturnResult, TeamRatings
from workbook_tool.roster import School
from workbook_tool.summary import write_outputs
from workbook_tool.writer import Issue, build_workbook

DOMAIN_1 = [f"1.{n}" for n in range(1, 9)]
ROSTER = [School("101", "Lincoln High School", "North"),
          School("102", "Oak Academy", "South"),
          School("103", "Pine School", "North")]
HEADER = ("school_id,school_name,cycle,indicator_id,raters,ratings,median,spread,exact,"
          "within_one,flagged,agreed_level,agreement_note")


def team_return(rubric, school_id: str, levels: dict[str, tuple], agreed: dict[str, int],
                names: tuple[str, ...], notes: dict[str, str] | None = None,
                file: str = "", completed_by: str = "") -> ReturnResult:
    """A read team return of domain 1, as the reader would make it."""
    answers = [Answer(i, agreed.get(i), "", "", "", "") for i in DOMAIN_1]
    team = None
    if names:
        team = TeamRatings(names, {i: levels.get(i, (None,) * len(names)) for i in DOMAIN_1},
                           dict(notes or {}))
    return ReturnResult(
        file or f"{school_id}.xlsx", f"sha-{file or school_id}", school_id, "", "2025-26",
        rubric.id, rubric.version, rubric.fingerprint, 2, completed_by=completed_by,
        team=team, answers=answers)


def plain_return(rubric, school_id: str) -> ReturnResult:
    return team_return(rubric, school_id, {}, {"1.1": 2}, ())


def school_a(rubric) -> ReturnResult:
    """Three raters: all agree; one did not rate (2;;4, flagged); one rater only; 3;2;3."""
    return team_return(
        rubric, "101",
        {"1.1": (3, 3, 3), "1.2": (2, None, 4), "1.3": (None, 2, None), "1.4": (3, 2, 3)},
        {"1.1": 3, "1.3": 2, "1.4": 3}, ("Ana", "Ben", "Cy"),
        {"1.4": "Ben saw the draft"})


def school_b(rubric) -> ReturnResult:
    """Two raters: 2;3 (median 2.5) and 1;4 (flagged), with a note a spreadsheet would run."""
    return team_return(rubric, "102", {"1.1": (2, 3), "1.2": (1, 4)}, {"1.1": 2, "1.2": 3},
                       ("Dee", "Eve"), {"1.2": "=we met twice"})


def run_outputs(results: list[ReturnResult], rubric, out: Path) -> dict[str, Path]:
    # As the run holds them: answers packed (consolidate.read_all does this to every result).
    run = consolidate([_share_strings(r) for r in results], rubric, ROSTER)
    return write_outputs(run, out, ["returns"])


def sheet_rows(path: Path, name: str) -> list[tuple]:
    sheet = openpyxl.load_workbook(path)[name]
    return [row for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)]


# -- agreement.csv --------------------------------------------------------------------------

def test_agreement_csv_rows_for_hand_made_teams(rubric, tmp_path):
    outputs = run_outputs([school_a(rubric), school_b(rubric), plain_return(rubric, "103")],
                          rubric, tmp_path)
    assert "agreement.csv" in outputs
    text = (tmp_path / "agreement.csv").read_text(encoding="utf-8")
    assert text.splitlines() == [
        HEADER,
        "101,Lincoln High School,2025-26,1.1,3,3;3;3,3,0,1,1,0,3,",
        "101,Lincoln High School,2025-26,1.2,2,2;;4,3,2,0,0,1,,",
        "101,Lincoln High School,2025-26,1.4,3,3;2;3,3,1,0,1,0,3,Ben saw the draft",
        "102,Oak Academy,2025-26,1.1,2,2;3,2.5,1,0,1,0,2,",
        "102,Oak Academy,2025-26,1.2,2,1;4,2.5,3,0,0,1,3,'=we met twice",
    ]


def test_no_agreement_csv_and_no_agreement_sheet_without_raters(rubric, tmp_path):
    outputs = run_outputs([plain_return(rubric, "101"), plain_return(rubric, "102")], rubric,
                          tmp_path)
    assert "agreement.csv" not in outputs
    assert not (tmp_path / "agreement.csv").exists()
    assert "Agreement" not in openpyxl.load_workbook(
        tmp_path / "district_summary.xlsx").sheetnames


def test_a_rejected_team_return_writes_no_agreement(rubric, tmp_path):
    broken = school_a(rubric)
    broken.problems.append(Problem(broken.file, "wrong-rubric", "Another rubric.",
                                   severity=ERROR))
    run = consolidate([broken, plain_return(rubric, "102")], rubric, ROSTER)
    assert run.rows[0].status == REJECTED
    outputs = write_outputs(run, tmp_path, ["returns"])
    assert "agreement.csv" not in outputs
    assert "Agreement" not in openpyxl.load_workbook(outputs["district_summary.xlsx"]).sheetnames


def test_a_team_whose_raters_rated_nothing_gets_the_header_only(rubric, tmp_path):
    blank = team_return(rubric, "101", {}, {"1.1": 3}, ("Ana", "Ben"))
    run_outputs([blank], rubric, tmp_path)
    assert (tmp_path / "agreement.csv").read_text(encoding="utf-8") == HEADER + "\n"


def test_a_run_without_raters_removes_the_previous_agreement_csv(rubric, tmp_path):
    run_outputs([school_a(rubric)], rubric, tmp_path)
    assert (tmp_path / "agreement.csv").is_file()
    outputs = run_outputs([plain_return(rubric, "101")], rubric, tmp_path)
    assert not (tmp_path / "agreement.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(outputs)


# -- the Agreement sheet --------------------------------------------------------------------

def test_agreement_sheet_figures(rubric, tmp_path):
    alone = team_return(rubric, "103", {"1.1": (3, None)}, {"1.1": 3}, ("Fay", "Gus"))
    run_outputs([school_a(rubric), school_b(rubric), alone], rubric, tmp_path)
    book = openpyxl.load_workbook(tmp_path / "district_summary.xlsx")
    assert book.sheetnames.index("Agreement") == book.sheetnames.index("Domains") + 1
    rows = sheet_rows(tmp_path / "district_summary.xlsx", "Agreement")
    assert rows[0][0] == "Agreement: how closely each school's raters agreed"
    assert rows[2][0] == "District"
    assert [r[:3] for r in rows[3:8]] == [
        ("Schools where 2 raters or more rated (accepted returns)", None, 2),
        ("Indicators compared (all schools)", None, 5),
        ("Share exact", None, 0.2),
        ("Share within one level", None, 0.6),
        ("Flagged (2 levels or more apart)", None, 2),
    ]
    assert rows[8][0] == "Per indicator (across schools)"
    assert rows[9][:6] == ("ID", "Indicator", "Schools compared", "Share exact",
                           "Share within one", "Flagged")
    assert [r[:6] for r in rows[10:14]] == [
        ("1.1", "Shared Vision and Commitment", 2, 0.5, 1, 0),
        ("1.2", "Communication and Messaging", 2, 0, 0, 2),
        ("1.3", "Distributed Leadership", 0, None, None, 0),
        ("1.4", "Board Support and Strategic Alignment", 1, 0, 1, 0),
    ]
    assert rows[10 + 27][:2] == ("5.4", "Leveraging Fiscal Resources")  # all 28, in order
    assert rows[38][0] == "Per school"
    assert rows[39] == ("School ID", "School", "Network", "Raters who rated",
                        "Indicators compared", "Share exact", "Share within one", "Flagged",
                        "Flagged indicators")
    assert rows[40:] == [
        ("101", "Lincoln High School", "North", 3, 3, pytest.approx(1 / 3),
         pytest.approx(2 / 3), 1, "1.2"),
        ("102", "Oak Academy", "South", 2, 2, 0, 0.5, 1, "1.2"),
        ("103", "Pine School", "North", 1, 0, None, None, 0, None),  # one rater: no figures
    ]


def test_agreement_sheet_writes_user_text_as_text(rubric, tmp_path):
    """A school id, name or network that looks like a number or a formula stays text."""
    roster = [School("0101", "=SUM(A1)", "1e3")]
    result = replace(school_a(rubric), school_id="0101")
    run = consolidate([result], rubric, roster)
    outputs = write_outputs(run, tmp_path, ["returns"])
    sheet = openpyxl.load_workbook(outputs["district_summary.xlsx"])["Agreement"]
    school = next(r for r in sheet.iter_rows() if r[0].value == "0101")
    assert [(c.value, c.data_type) for c in school[:3]] == [
        ("0101", "s"), ("=SUM(A1)", "s"), ("1e3", "s")]


def test_raters_who_rated_leave_out_a_rater_with_no_rating(rubric, tmp_path):
    idle = team_return(rubric, "101", {"1.1": (2, None, 2), "1.2": (3, None, 1)},
                       {"1.1": 2}, ("Ana", "Ben", "Cy"))
    run_outputs([idle], rubric, tmp_path)
    rows = sheet_rows(tmp_path / "district_summary.xlsx", "Agreement")
    assert rows[-1] == ("101", "Lincoln High School", "North", 2, 2, 0.5, 0.5, 1, "1.2")


# -- team data in duplicate and conflict decisions ------------------------------------------

def test_the_team_data_survives_packing(rubric):
    packed = _share_strings(school_a(rubric))
    assert packed.team == TeamRatings(
        ("Ana", "Ben", "Cy"),
        {"1.1": (3, 3, 3), "1.2": (2, None, 4), "1.3": (None, 2, None), "1.4": (3, 2, 3),
         **{f"1.{n}": (None, None, None) for n in range(5, 9)}},
        {"1.4": "Ben saw the draft"})


def _twice(rubric, change) -> list[str]:
    """Statuses of two copies of school A's return, the second changed by `change`."""
    first = school_a(rubric)
    second = change(school_a(rubric))
    second.file, second.sha256 = "copy/101.xlsx", "sha-copy"
    run = consolidate([_share_strings(first), _share_strings(second)], rubric, ROSTER)
    return [row.status for row in run.rows if row.result is not None]


def _with_team(result: ReturnResult, **changes) -> ReturnResult:
    result.team = replace(result.team, **changes)
    return result


@pytest.mark.parametrize("change", [
    pytest.param(lambda r: _with_team(r, levels={**r.team.levels, "1.3": (None, 2, 1)}),
                 id="a rater's rating"),
    pytest.param(lambda r: _with_team(r, names=("Ana", "Ben", "Cyd")), id="a rater's name"),
    pytest.param(lambda r: _with_team(r, notes={"1.4": "Ben saw the draft."}),
                 id="an agreement note"),
    pytest.param(lambda r: _with_team(r, notes={**r.team.notes, "1.2": "Split"}),
                 id="a new agreement note"),
    pytest.param(lambda r: replace(r, completed_by="Ana"), id="completed by"),
    pytest.param(lambda r: replace(r, team=None), id="no team at all"),
])
def test_returns_differing_only_in_team_data_conflict(rubric, change):
    assert _twice(rubric, change) == [CONFLICT, CONFLICT]


def test_identical_team_returns_are_duplicates(rubric):
    assert _twice(rubric, lambda r: r)[1] == DUPLICATE


# -- through the CLI: real team workbooks --------------------------------------------------

TEAM_CELLS = {
    "rater_name_1": "Ana", "rater_name_2": "Ben", "rater_name_3": "Cy",
    # 1.1: all three Growing; 1.2: Beginning, none, Strong Practice (flagged);
    # 1.3: rater 2 typed a value that is not a level (not rated), 1;2 remain;
    # 2.1: only rater 3 rated (no row); 2.2: Beginning;Strong Practice;Growing (flagged).
    "rater_1_1_1": "Growing", "rater_2_1_1": "Growing", "rater_3_1_1": "Growing",
    "rater_1_1_2": "Beginning", "rater_3_1_2": "Strong Practice",
    "rater_1_1_3": "Beginning", "rater_2_1_3": "Banana", "rater_3_1_3": "Growing",
    "rater_3_2_1": "Growing",
    "rater_1_2_2": "Beginning", "rater_2_2_2": "Strong Practice", "rater_3_2_2": "Growing",
    "rating_1_1": "Growing", "rating_1_2": "Growing", "rating_1_3": "Beginning",
    "rating_2_1": "Growing", "rating_2_2": "Growing",
    "agreement_note_1_2": "We looked at the minutes together",
}


@pytest.fixture(scope="module")
def team_book() -> bytes:
    blank = build_workbook(small_rubric(), SCHOOL, Issue(CYCLE, raters=3))
    return fill(blank, TEAM_CELLS)


def test_check_lists_the_indicators_to_discuss(team_book, tmp_path):
    path = tmp_path / "team.xlsx"
    path.write_bytes(team_book)
    result = CliRunner().invoke(main, ["check", str(path), "--rubric", str(SMALL_RUBRIC)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"{path}: flagged and agreed: 1.2 (ratings 1;;3, agreed 2), 2.2 (ratings 1;3;2, " \
        "agreed 2)." in lines
    assert not any("Discuss before sending" in line for line in lines)  # all agreed
    assert any("invalid-rater-rating" in line and "1.3" in line for line in lines)
    # The list comes after the file's problems, right before its verdict.
    assert lines[-2].startswith(f"{path}: flagged and agreed:")
    assert lines[-1].startswith(f"{path}: ok with warnings")


def test_check_lists_flagged_indicators_not_agreed_yet_to_discuss(tmp_path):
    blank = build_workbook(small_rubric(), SCHOOL, Issue(CYCLE, raters=3))
    path = tmp_path / "team.xlsx"
    path.write_bytes(fill(blank, {k: v for k, v in TEAM_CELLS.items() if k != "rating_2_2"}))
    result = CliRunner().invoke(main, ["check", str(path), "--rubric", str(SMALL_RUBRIC)])
    lines = result.output.splitlines()
    assert f"{path}: Discuss before sending: 2.2 (ratings 1;3;2)." in lines
    assert f"{path}: flagged and agreed: 1.2 (ratings 1;;3, agreed 2)." in lines


def test_check_json_gains_flagged(team_book, tmp_path):
    team, plain = tmp_path / "team.xlsx", tmp_path / "plain.xlsx"
    team.write_bytes(team_book)
    plain.write_bytes(make_return())
    result = CliRunner().invoke(main, ["check", str(team), str(plain), "--json",
                                       "--rubric", str(SMALL_RUBRIC)])
    assert result.exit_code == 0, result.output
    files = json.loads(result.output)["files"]
    assert [f["flagged"] for f in files] == [["1.2", "2.2"], []]
    assert list(files[1]) == ["file", "sha256", "school_id", "school_name", "cycle", "ok",
                              "rated", "total", "errors", "warnings", "problems", "flagged"]


def test_check_says_when_there_is_nothing_to_discuss(tmp_path):
    blank = build_workbook(small_rubric(), SCHOOL, Issue(CYCLE, raters=2))
    path = tmp_path / "team.xlsx"
    path.write_bytes(fill(blank, {"rater_1_1_1": "Growing", "rater_2_1_1": "Strong Practice",
                                  "rater_1_2_1": "Beginning", "rater_2_2_1": "Beginning"}))
    plain = tmp_path / "plain.xlsx"
    plain.write_bytes(make_return())
    result = CliRunner().invoke(main, ["check", str(path), str(plain),
                                       "--rubric", str(SMALL_RUBRIC)])
    assert (f"{path}: nothing to discuss: the raters are within one level of each other on "
            "all 2 indicator(s) two or more of them rated.") in result.output.splitlines()
    assert "Discuss" not in result.output
    assert result.output.count("nothing to discuss") == 1  # none for the plain workbook


def test_check_says_nothing_about_agreement_before_two_raters_rated(tmp_path):
    blank = build_workbook(small_rubric(), SCHOOL, Issue(CYCLE, raters=2))
    path = tmp_path / "team.xlsx"
    path.write_bytes(fill(blank, {"rater_1_1_1": "Growing"}))
    result = CliRunner().invoke(main, ["check", str(path), "--rubric", str(SMALL_RUBRIC)])
    assert "discuss" not in result.output.lower()


ROSTER_CSV = "school_id,school_name,network\nS1,Alpha School,East\nS2,Beta School,West\n"


def test_consolidate_writes_agreement_csv_from_a_team_workbook(team_book, tmp_path):
    plain = make_return(school=School("S2", "Beta School"))
    result, out = consolidate_cli(tmp_path, {"team.xlsx": team_book, "plain.xlsx": plain},
                                  ROSTER_CSV)
    assert result.exit_code == 0, result.output
    rows = csv_rows(out / "agreement.csv")
    assert [[r[c] for c in ("school_id", "indicator_id", "raters", "ratings", "median",
                            "spread", "exact", "within_one", "flagged", "agreed_level",
                            "agreement_note")] for r in rows] == [
        ["S1", "1.1", "3", "2;2;2", "2", "0", "1", "1", "0", "2", ""],
        ["S1", "1.2", "2", "1;;3", "2", "2", "0", "0", "1", "2",
         "We looked at the minutes together"],
        ["S1", "1.3", "2", "1;;2", "1.5", "1", "0", "1", "0", "1", ""],
        ["S1", "2.2", "3", "1;3;2", "2", "2", "0", "0", "1", "2", ""],
    ]
    assert {(r["school_name"], r["cycle"]) for r in rows} == {("Alpha School", CYCLE)}
    figures = sheet_rows(out / "district_summary.xlsx", "Agreement")
    assert figures[-1] == ("S1", "Alpha School", "East", 3, 4, 0.25, 0.5, 2, "1.2, 2.2")


def test_consolidate_without_team_workbooks_removes_an_old_agreement_csv(team_book, tmp_path):
    first, out = consolidate_cli(tmp_path / "one", {"team.xlsx": team_book}, ROSTER_CSV)
    assert first.exit_code == 0, first.output
    assert (out / "agreement.csv").is_file()
    returns = tmp_path / "two"
    returns.mkdir()
    (returns / "plain.xlsx").write_bytes(make_return())
    (tmp_path / "roster.csv").write_text(ROSTER_CSV, encoding="utf-8")
    second = CliRunner().invoke(main, [
        "consolidate", str(returns), "--roster", str(tmp_path / "roster.csv"), "--out",
        str(out), "--rubric", str(SMALL_RUBRIC), "--jobs", "1", "--quiet"])
    assert second.exit_code == 0, second.output
    assert not (out / "agreement.csv").exists()
    assert (out / "ratings.csv").is_file()
