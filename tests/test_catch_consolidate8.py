"""Mutation run 8 (issue 11, item 8), workbook_tool.consolidate: the survivors that the
other test files do not catch, tested on the module's own functions with literal values."""

from __future__ import annotations

from workbook_tool import consolidate as c
from workbook_tool.consolidate import (
    ACCEPTED,
    ACCEPTED_WITH_WARNINGS,
    CONFLICT,
    DUPLICATE,
    MISSING,
    Compared,
    Consolidation,
    Figures,
    PackedAnswers,
    Row,
    _copies_and_conflicts,
    _name_school_in_problems,
    _status,
    has_team,
)
from workbook_tool.problems import ERROR, WARNING, Problem
from workbook_tool.reader.model import Answer, ReturnResult, TeamRatings


def _answer(ind_id: str, level: int | None) -> Answer:
    return Answer(ind_id, level, "", "", "", "")


def _team_result(packed: bool = False) -> ReturnResult:
    answers = [_answer("1.1", 2), _answer("1.2", 1), _answer("1.3", None), _answer("2.1", 3)]
    team = TeamRatings(("Ann", "Bo", "Cy"),
                       {"1.1": (2, 3, None), "1.2": (None, 1, None), "1.3": (2, 2, 2)})
    return ReturnResult("t.xlsx", "abc", school_id="S1", format_version=2, team=team,
                        answers=PackedAnswers(answers) if packed else answers)


EXPECTED = [
    Compared("1.1", Figures("2;3;", 2, "2.5", 1, False, True, False), 2),
    Compared("1.3", Figures("2;2;2", 3, "2", 0, True, True, False), None),
]


def test_a_missing_schools_row_is_empty_past_its_status():
    assert Row("S9", "Nine School", MISSING).values() == [
        "S9", "Nine School", "", "", "missing", "", "", "", ""]


def test_problems_found_before_the_school_was_known_get_its_id():
    result = ReturnResult("a.xlsx", "x", school_id="S1")
    result.problems = [Problem("a.xlsx", "duplicate", "one", sheet="Sheet", cell="B2"),
                       Problem("a.xlsx", "duplicate", "two", school_id="S7")]
    _name_school_in_problems(result)
    assert [(p.file, p.code, p.message, p.sheet, p.cell, p.school_id)
            for p in result.problems] == [
        ("a.xlsx", "duplicate", "one", "Sheet", "B2", "S1"),
        ("a.xlsx", "duplicate", "two", "", "", "S7")]


def test_a_return_with_warnings_only_is_accepted_with_warnings():
    result = ReturnResult("a.xlsx", "x", school_id="S1")
    result.problems = [Problem("a.xlsx", "duplicate", "w", severity=WARNING)]
    assert _status(result) == ACCEPTED_WITH_WARNINGS == "accepted_with_warnings"
    assert _status(ReturnResult("b.xlsx", "y", school_id="S1")) == ACCEPTED == "accepted"


def _copies(*answers_per_copy):
    return [ReturnResult(f"{i}.xlsx", f"sha{i}", school_id="S1", format_version=2,
                         answers=[_answer("1.1", level)])
            for i, level in enumerate(answers_per_copy)]


def test_a_duplicate_and_a_conflict_name_their_school():
    group = _copies(2, 2)
    status = {id(r): ACCEPTED for r in group}
    _copies_and_conflicts("S1", group, status)
    dup = [(p.code, p.severity, p.school_id) for p in group[1].problems]
    assert dup == [("duplicate", "warning", "S1")]
    assert status[id(group[1])] == DUPLICATE
    group = _copies(2, 3)
    status = {id(r): ACCEPTED for r in group}
    _copies_and_conflicts("S1", group, status)
    for r in group:
        assert [(p.code, p.severity, p.school_id) for p in r.problems] == [
            ("conflict", ERROR, "S1")]
        assert status[id(r)] == CONFLICT


def test_has_team():
    assert has_team(_team_result()) is True
    assert has_team(None) is False
    assert has_team(ReturnResult("a.xlsx", "x")) is False


def test_compared_gives_the_indicators_two_raters_rated():
    assert list(c.compared(_team_result())) == EXPECTED
    assert list(c.compared(_team_result(packed=True))) == EXPECTED
    assert list(c.compared(ReturnResult("a.xlsx", "x", answers=[_answer("1.1", 2)]))) == []


def test_a_runs_compared_is_worked_out_once_per_result(monkeypatch):
    calls = []
    real = c.compared

    def counting(result):
        calls.append(result)
        return real(result)

    monkeypatch.setattr(c, "compared", counting)
    run = Consolidation(rubric=None, roster=[])
    first, second = _team_result(), _team_result(packed=True)
    assert run.compared(first) == EXPECTED
    assert run.compared(first) == EXPECTED
    assert run.compared(second) == EXPECTED
    assert calls == [first, second]
    assert [x is first for x in calls] == [True, False]
