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


def test_a_return_off_the_roster_and_of_another_cycle_says_both():
    from workbook_tool.consolidate import _check_against_roster
    from workbook_tool.roster import School
    run = Consolidation(rubric=None, roster=[School("S1", "Alpha School")])
    result = ReturnResult("dir/x.xlsx", "sha", school_id="S9", school_name="Nine",
                          cycle="2024-25", format_version=2)
    _check_against_roster(result, run, "2025-26")
    assert [(p.file, p.code, p.message, p.school_id) for p in result.problems] == [
        ("dir/x.xlsx", "unknown-school", "School id 'S9' (Nine) is not on the roster.", "S9"),
        ("dir/x.xlsx", "wrong-cycle", "The workbook is for cycle '2024-25', this "
         "consolidation is for cycle '2025-26'.", "S9")]


def _team_copy(i: int, levels: dict, notes: dict) -> ReturnResult:
    return ReturnResult(f"{i}.xlsx", f"sha{i}", school_id="S1", format_version=2,
                        team=TeamRatings(("Ann", "Bo"), levels, notes),
                        answers=[_answer("1.1", 2)])


def test_returns_that_differ_in_a_raters_level_or_note_are_a_conflict():
    same = [_team_copy(0, {"1.1": (2, 3)}, {"1.1": "n"}),
            _team_copy(1, {"1.1": (2, 3)}, {"1.1": "n"})]
    status = {id(r): ACCEPTED for r in same}
    _copies_and_conflicts("S1", same, status)
    assert [status[id(r)] for r in same] == [ACCEPTED, DUPLICATE]
    for other in ({"1.1": (2, 2)}, {"1.1": "n"}), ({"1.1": (2, 3)}, {"1.1": "m"}):
        group = [_team_copy(0, {"1.1": (2, 3)}, {"1.1": "n"}), _team_copy(1, *other)]
        status = {id(r): ACCEPTED for r in group}
        _copies_and_conflicts("S1", group, status)
        assert [status[id(r)] for r in group] == [CONFLICT, CONFLICT]


def test_shared_team_keeps_the_ratings_and_shares_level_tuples(monkeypatch):
    from workbook_tool.consolidate import _shared_levels, _shared_team
    monkeypatch.setattr(c, "_LEVEL_TUPLES", {})
    team = TeamRatings(("Ann", "Bo"), {"1.1": (2, 3), "1.2": (1, None)}, {"1.1": "note"})
    shared = _shared_team(team)
    assert (shared.names, shared.levels, shared.notes) == (
        ("Ann", "Bo"), {"1.1": (2, 3), "1.2": (1, None)}, {"1.1": "note"})
    first, second = (4, 4, 1), (1, 4, 4)
    assert _shared_levels(first) == (4, 4, 1)
    again = _shared_levels(tuple([4, 4, 1]))
    assert again is first
    assert _shared_levels(second) == (1, 4, 4)
    monkeypatch.setattr(c, "_SHARED_AT_MOST", 0)  # full: known tuples shared, others kept
    assert _shared_levels(tuple([4, 4, 1])) is first
    assert _shared_levels((3, 1, 2, 4)) == (3, 1, 2, 4)
    monkeypatch.setattr(c, "_SHARED_AT_MOST", 3)  # the cap: no tuple past it is kept
    monkeypatch.setattr(c, "_LEVEL_TUPLES", {(1,): (1,), (2,): (2,)})
    _shared_levels((3,))
    _shared_levels((4,))
    assert sorted(c._LEVEL_TUPLES) == [(1,), (2,), (3,)]


def test_packed_answers_equal_the_answers_they_hold():
    held = PackedAnswers([_answer("1.1", 2), _answer("1.2", None)])
    assert held == [Answer("1.1", 2, "", "", "", ""), Answer("1.2", None, "", "", "", "")]
    assert held != [Answer("1.1", 3, "", "", "", ""), Answer("1.2", None, "", "", "", "")]


def test_texts_past_the_budget_are_read_back_from_the_spill():
    from workbook_tool.consolidate import TextSpill
    spill = TextSpill(budget=0)
    first = spill.hold(("evidence one", "next one"))
    second = spill.hold(("evidence two", "next two"))
    assert spill.load(second) == ("evidence two", "next two")
    assert spill.load(first) == ("evidence one", "next one")


def test_read_all_reports_one_per_file_read(rubric, tmp_path):
    from returns_kit import make_return
    from workbook_tool.files import discover
    from workbook_tool.reader.preflight import Limits
    for name in ("a.xlsx", "b.xlsx"):
        (tmp_path / name).write_bytes(make_return())
    seen = []
    sources = discover([str(tmp_path)]).sources
    found = list(c.read_all(sources, rubric, Limits(), progress=seen.append))
    assert seen == [1, 1]
    assert [r.file.rsplit("/", 1)[-1] for r in found] == ["a.xlsx", "b.xlsx"]


def test_read_all_over_workers_runs_while_reading_once(rubric, tmp_path):
    from returns_kit import make_return
    from workbook_tool.files import discover
    from workbook_tool.reader.preflight import Limits
    data = make_return()
    for i in range(8):
        (tmp_path / f"r{i}.xlsx").write_bytes(data)
    calls = []
    sources = discover([str(tmp_path)]).sources
    found = list(c.read_all(sources, rubric, Limits(), jobs=2,
                            while_reading=lambda: calls.append("ran")))
    assert calls == ["ran"]
    assert [r.file.rsplit("/", 1)[-1] for r in found] == [f"r{i}.xlsx" for i in range(8)]


def test_read_all_over_more_workers_than_a_chunk_needs(rubric, tmp_path):
    from returns_kit import make_return
    from workbook_tool.files import discover
    from workbook_tool.reader.preflight import Limits
    data = make_return()
    for i in range(8):
        (tmp_path / f"r{i}.xlsx").write_bytes(data)
    sources = discover([str(tmp_path)]).sources
    found = list(c.read_all(sources, rubric, Limits(), jobs=5))
    assert [r.file.rsplit("/", 1)[-1] for r in found] == [f"r{i}.xlsx" for i in range(8)]
    assert [r.school_id for r in found] == [found[0].school_id] * 8 != [""] * 8
