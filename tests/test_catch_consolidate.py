"""Statuses through the CLI: copies, conflicts and the cycle check, read back from returns.csv.

Each return differs from the first in one field only: any field the duplicate check forgot
would turn a conflict into a silent duplicate.
"""

from __future__ import annotations

import pytest

from returns_kit import (
    answer,
    consolidate_cli,
    csv_rows,
    make_return,
    set_named_value,
)
from workbook_tool.roster import School

ROSTER = "school_id,school_name\nS1,Alpha School\nS2,Beta School\n"
S1 = School("S1", "Alpha School")
S2 = School("S2", "Beta School")


def _answers(**changes) -> dict:
    base = {"1.1": answer("1.1", 2, "Ev", "Next", "High"),
            "1.2": answer("1.2", 1, "Ev 2", "Next 2", "Low"),
            "1.3": answer("1.3", 3, "", "", ""),
            "2.1": answer("2.1", 2, "Ev 4", "", "Medium"),
            "2.2": answer("2.2", 1, "Ev 5", "Next 5", "")}
    base.update(changes)
    return base


def _statuses(out) -> list[tuple[str, str, str]]:
    return sorted((r["school_id"], r["file"].rsplit("/", 1)[-1], r["status"])
                  for r in csv_rows(out / "returns.csv"))


@pytest.mark.parametrize("changed", [
    {"1.1": answer("1.1", 2, "Ev changed", "Next", "High")},
    {"1.1": answer("1.1", 2, "Ev", "Next changed", "High")},
    {"1.1": answer("1.1", 2, "Ev", "Next", "Low")},
    {"1.1": answer("1.1", 3, "Ev", "Next", "High")},
    {"1.3": answer("1.3", None, "", "", "")},
], ids=["evidence", "next_steps", "priority", "level", "unrated"])
def test_returns_that_differ_in_one_field_are_a_conflict(tmp_path, changed):
    files = {"a.xlsx": make_return(school=S1, answers=_answers()),
             "b.xlsx": make_return(school=S1, answers=_answers(**changed)),
             "s2.xlsx": make_return(school=S2, answers=_answers())}
    result, out = consolidate_cli(tmp_path, files, ROSTER)
    assert result.exit_code == 1, result.output
    assert _statuses(out) == [("S1", "a.xlsx", "conflict"), ("S1", "b.xlsx", "conflict"),
                              ("S2", "s2.xlsx", "accepted")]
    codes = sorted((r["file"].rsplit("/", 1)[-1], r["code"])
                   for r in csv_rows(out / "problems.csv") if r["code"] != "unrated")
    assert codes == [("a.xlsx", "conflict"), ("b.xlsx", "conflict")]
    assert [r["school_id"] for r in csv_rows(out / "ratings.csv")] == ["S2"] * 5


def test_a_copy_saved_again_is_a_duplicate_and_used_once(tmp_path):
    first = make_return(school=S1, answers=_answers())
    # The same answers written again by a spreadsheet program: other bytes, same content.
    again = set_named_value(first, "evidence_1_1", "Ev")
    assert again != first
    result, out = consolidate_cli(tmp_path, {"a.xlsx": first, "b.xlsx": again}, ROSTER)
    assert result.exit_code == 0, result.output
    statuses = _statuses(out)
    assert sorted(s for _school, _file, s in statuses) == ["accepted", "duplicate", "missing"]
    assert [school for school, _file, s in statuses if s != "missing"] == ["S1", "S1"]
    ratings = csv_rows(out / "ratings.csv")
    assert [(r["indicator_id"], r["level"], r["evidence"]) for r in ratings] == [
        ("1.1", "2", "Ev"), ("1.2", "1", "Ev 2"), ("1.3", "3", ""), ("2.1", "2", "Ev 4"),
        ("2.2", "1", "Ev 5")]


def test_different_schools_with_the_same_answers_are_not_copies(tmp_path):
    files = {"a.xlsx": make_return(school=S1, answers=_answers()),
             "b.xlsx": make_return(school=S2, answers=_answers())}
    result, out = consolidate_cli(tmp_path, files, ROSTER)
    assert result.exit_code == 0, result.output
    assert _statuses(out) == [("S1", "a.xlsx", "accepted"), ("S2", "b.xlsx", "accepted")]


@pytest.mark.parametrize("cycle", ["", "2023-24"], ids=["blank", "other"])
def test_a_return_of_another_or_no_cycle_is_rejected_with_cycle(tmp_path, cycle):
    files = {"a.xlsx": make_return(school=S1, cycle=cycle, answers=_answers()),
             "b.xlsx": make_return(school=S2, cycle="2024-25", answers=_answers())}
    result, out = consolidate_cli(tmp_path, files, ROSTER, "--cycle", "2024-25")
    assert result.exit_code == 1, result.output
    assert _statuses(out) == [("S1", "a.xlsx", "rejected"), ("S2", "b.xlsx", "accepted")]
    problems = csv_rows(out / "problems.csv")
    assert [(p["school_id"], p["code"], p["severity"]) for p in problems
            if p["code"] == "wrong-cycle"] == [("S1", "wrong-cycle", "error")]
    assert {r["school_id"] for r in csv_rows(out / "ratings.csv")} == {"S2"}


def test_the_cycle_asked_for_is_accepted(tmp_path):
    files = {"a.xlsx": make_return(school=S1, cycle="2024-25", answers=_answers())}
    result, out = consolidate_cli(tmp_path, files, ROSTER, "--cycle", "2024-25")
    assert result.exit_code == 0, result.output
    assert _statuses(out) == [("S1", "a.xlsx", "accepted"), ("S2", "", "missing")]
    assert {r["cycle"] for r in csv_rows(out / "ratings.csv")} == {"2024-25"}
