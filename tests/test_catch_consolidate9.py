"""Mutation run 9 (issue 11, item 8), workbook_tool.consolidate: the survivors run 8 left
unexamined (packed answers, the texts spill, what names a school), tested on the module's own
functions with literal values."""

from __future__ import annotations

import threading
import time

from workbook_tool import consolidate as c
from workbook_tool.consolidate import (
    PackedAnswers,
    TextSpill,
    _names_a_school,
    _packed,
    consolidate,
    cycles_of,
)
from workbook_tool.files import Discovery, Skipped, Source
from workbook_tool.problems import Problem
from workbook_tool.reader.model import Answer, ReturnResult
from workbook_tool.roster import School


def _result(school_id: str = "S1", format_version: int | None = 2, codes: tuple = (),
            cycle: str = "2025-26") -> ReturnResult:
    result = ReturnResult("a.xlsx", "sha", school_id=school_id, cycle=cycle,
                          format_version=format_version)
    result.problems = [Problem("a.xlsx", code, "m") for code in codes]
    return result


# -- what names a school ----------------------------------------------------------------

def test_a_return_names_a_school_with_an_id_a_format_and_no_not_a_return():
    assert _names_a_school(_result()) is True
    # another problem does not stop it naming its school
    assert _names_a_school(_result(codes=("unknown-school", "wrong-cycle"))) is True


def test_no_school_id_names_no_school_even_with_a_format_version():
    assert _names_a_school(_result(school_id="")) is False
    assert _names_a_school(_result(school_id="", codes=("wrong-cycle",))) is False


def test_no_format_version_names_no_school():
    assert _names_a_school(_result(format_version=None)) is False
    assert _names_a_school(_result(format_version=0)) is True  # a version, however odd


def test_a_not_a_return_problem_names_no_school():
    assert _names_a_school(_result(codes=("not-a-return",))) is False
    assert _names_a_school(_result(codes=("wrong-cycle", "not-a-return"))) is False


def test_cycles_of_counts_only_returns_that_name_a_school():
    results = [_result(), _result(cycle="2024-25"), _result(school_id="", cycle="X"),
               _result(format_version=None, cycle="Y"),
               _result(codes=("not-a-return",), cycle="Z")]
    assert cycles_of(results) == {"2025-26": 1, "2024-25": 1}


# -- packed answers -------------------------------------------------------------------------

PLAIN = Answer("1.1", 2, "Growing", "ev one", "next one", "High")
UNRATED = Answer("1.2", None, "", "", "", "")
REVIEWED = Answer("1.3", 3, "Strong", "ev", "nx", "", None, "Keep", "")
FOLLOWED = Answer("2.1", 1, "Beginning", "", "", "Low", None, "", "Done")
PREVIOUS = Answer("2.2", 1, "Beginning", "", "", "", 2, "", "")


def test_packed_has_six_fields_without_prefill_and_nine_with_any_of_it():
    assert _packed(PLAIN) == ("1.1", 2, "Growing", "ev one", "next one", "High")
    assert _packed(UNRATED) == ("1.2", None, "", "", "", "")
    # review or follow-up text without a previous level still keeps the three fields
    assert _packed(REVIEWED) == ("1.3", 3, "Strong", "ev", "nx", "", None, "Keep", "")
    assert _packed(FOLLOWED) == ("2.1", 1, "Beginning", "", "", "Low", None, "", "Done")
    assert _packed(PREVIOUS) == ("2.2", 1, "Beginning", "", "", "", 2, "", "")


def test_packed_answers_give_back_every_field():
    answers = [PLAIN, UNRATED, REVIEWED, FOLLOWED, PREVIOUS]
    held = PackedAnswers(answers)
    assert list(held) == answers
    assert held[2] == Answer("1.3", 3, "Strong", "ev", "nx", "", None, "Keep", "")
    assert held[3].followup == "Done"
    assert held.rows == held.held_rows == (
        ("1.1", 2, "Growing", "ev one", "next one", "High"),
        ("1.2", None, "", "", "", ""),
        ("1.3", 3, "Strong", "ev", "nx", "", None, "Keep", ""),
        ("2.1", 1, "Beginning", "", "", "Low", None, "", "Done"),
        ("2.2", 1, "Beginning", "", "", "", 2, "", ""))


def test_packed_answers_count_the_rated_ones():
    assert PackedAnswers([PLAIN, UNRATED, REVIEWED]).rated == 2
    assert PackedAnswers([UNRATED]).rated == 0
    assert PackedAnswers([]).rated == 0
    assert ReturnResult("a.xlsx", "x", answers=PackedAnswers([UNRATED, PLAIN])).rated == 1


def test_packed_answers_within_the_budget_stay_in_memory():
    spill = TextSpill(budget=100)
    held = PackedAnswers([PLAIN, REVIEWED], spill)
    # evidence and next steps counted: 6 + 8 + 2 + 2 characters
    assert spill.kept == 18
    assert spill.file is None
    assert held.held_rows == (("1.1", 2, "Growing", "ev one", "next one", "High"),
                              ("1.3", 3, "Strong", "ev", "nx", "", None, "Keep", ""))


def test_packed_answers_past_the_budget_hold_their_texts_in_the_spill():
    spill = TextSpill(budget=3)
    held = PackedAnswers([PLAIN, REVIEWED], spill)
    assert spill.kept == 0
    # held without evidence and next steps, which only the spill has
    assert held.held_rows == (("1.1", 2, "Growing", "", "", "High"),
                              ("1.3", 3, "Strong", "", "", "", None, "Keep", ""))
    assert held.rows == (("1.1", 2, "Growing", "ev one", "next one", "High"),
                         ("1.3", 3, "Strong", "ev", "nx", "", None, "Keep", ""))
    assert spill.load((0, spill.file.seek(0, 2))) == ("ev one", "next one", "ev", "nx")
    assert list(held) == [PLAIN, REVIEWED]
    assert held.rated == 2


# -- the run ---------------------------------------------------------------------------------

def test_a_run_keeps_its_cycle_and_discovery():
    found = Discovery(skipped=[Skipped("x.txt", "not a workbook")], ignored_files=["y.csv"])
    run = consolidate([_result()], None, [School("S1", "Alpha School")], cycle="2025-26",
                      discovery=found)
    assert run.cycle == "2025-26"
    assert run.discovery is found
    assert [(r.school_id, r.school_name, r.status) for r in run.rows] == [
        ("S1", "Alpha School", "accepted")]


def test_a_run_without_a_cycle_has_the_empty_cycle():
    run = consolidate([_result()], None, [School("S1", "Alpha School")])
    assert run.cycle == ""
    assert run.discovery == Discovery()


# -- reading over worker processes -------------------------------------------------------

def _returns(tmp_path, names: list[str]) -> list[Source]:
    from returns_kit import answers_for, make_return, small_rubric
    body = make_return(answers=answers_for(small_rubric()))
    for name in names:
        (tmp_path / name).write_bytes(body)
    return [Source(name, str(tmp_path / name)) for name in names]


def test_read_all_over_workers_reports_one_per_file(tmp_path):
    from returns_kit import small_rubric
    from workbook_tool.reader import Limits
    seen, daemon = [], []
    names = [f"r{i}.xlsx" for i in range(8)]
    found = list(c.read_all(_returns(tmp_path, names), small_rubric(), Limits(), jobs=2,
                            progress=seen.append,
                            while_reading=lambda: daemon.append(
                                threading.current_thread().daemon)))
    assert seen == [1] * 8
    assert [r.file for r in found] == names
    # a daemon: a run stopped mid-read (Ctrl+C) does not wait for the helper to exit
    assert daemon == [True]


def crash_on_boom(source):
    """A worker's read that dies the way a crash in a native library kills a process."""
    import os
    if source.display == "boom.xlsx":
        os._exit(70)
    return c.read_one(source, c._worker["rubric"], c._worker["limits"])


def test_a_crashed_pool_waits_for_the_helper_thread_before_forking_again(tmp_path,
                                                                         monkeypatch):
    # A thread caught mid-import by a fork can deadlock the new worker: after a crash the
    # helper started while reading is joined before the next pool starts.
    from returns_kit import small_rubric
    from workbook_tool.reader import Limits
    monkeypatch.setattr(c, "_read", crash_on_boom)
    done = []

    def slow_helper():
        time.sleep(2)
        done.append("helper")

    names = ["boom.xlsx", *(f"r{i}.xlsx" for i in range(8))]
    order = []
    for result in c.read_all(_returns(tmp_path, names), small_rubric(), Limits(), jobs=2,
                             while_reading=slow_helper):
        order.append((result.file, list(done)))
    # every result comes after the crash, so after the join
    assert order == [(name, ["helper"]) for name in names]


def test_a_missing_school_keeps_its_roster_name():
    run = consolidate([], None, [School("S2", "Beta School")])
    assert [(r.school_id, r.school_name, r.status, r.result) for r in run.rows] == [
        ("S2", "Beta School", "missing", None)]


def test_one_job_reads_in_this_process_however_many_files(monkeypatch):
    # jobs=1 (the default) never starts worker processes, nor the helper thread that
    # runs only while workers read.
    def no_pool(*args):
        raise AssertionError("worker processes started")

    monkeypatch.setattr(c, "read_one", lambda source, rubric, limits: ReturnResult(
        source.display, "sha"))
    monkeypatch.setattr(c, "_pooled", no_pool)
    names = [f"r{i}.xlsx" for i in range(9)]
    sources = [Source(name, f"/nowhere/{name}") for name in names]
    calls = []
    for jobs in ({}, {"jobs": 1}, {"jobs": 0}):
        found = list(c.read_all(sources, None, None, while_reading=lambda: calls.append(1),
                                **jobs))
        assert [r.file for r in found] == names
    assert calls == []


# -- the reader: a domain sheet without its header row (reader/__init__.py) -----------------

def _without_id_header(book) -> None:
    for row in book["D1 Leadership"].iter_rows(min_row=1, max_row=10):
        for cell in row:
            if cell.value == "ID":
                cell.value = "Code"


def test_a_domain_sheet_without_an_id_header_shows_nothing_above_its_cells():
    from returns_kit import answers_for, make_return, read, small_rubric, with_openpyxl
    data = with_openpyxl(make_return(answers=answers_for(small_rubric())), _without_id_header)
    result = read(data, small_rubric())
    assert [(p.code, p.severity, p.sheet, p.cell) for p in result.problems] == [
        ("misplaced-cell", "error", "D1 Leadership", f"{col}{row}")
        for row in (4, 5, 7) for col in "FGHI"]
    assert result.problems[0].message == (
        "the rating of 1.1 cannot be read: the defined name rating_1_1 points at F4, but the "
        "header of its column shows nothing, not \"Rating\" (columns inserted or deleted by a "
        "program that does not move names, or a name redefined); the answer is not used so "
        "that it cannot land in the wrong place")
    assert result.problems[5].message.startswith(
        "the evidence of 1.2 cannot be read: the defined name evidence_1_2 points at G5, but "
        "the header of its column shows nothing, not \"Evidence\"")
    # the other domain's sheet keeps its header row: its two answers are read
    assert (result.rated, result.total) == (2, 5)
    assert [(a.indicator_id, a.level) for a in result.answers] == [
        ("1.1", None), ("1.2", None), ("1.3", None), ("2.1", 1), ("2.2", 2)]


def test_read_all_over_workers_holds_texts_past_the_budget_in_the_spill(tmp_path,
                                                                        monkeypatch):
    # Texts past the budget leave memory whether the returns were read here or in workers.
    from returns_kit import small_rubric
    from workbook_tool.reader import Limits
    monkeypatch.setattr(TextSpill, "BUDGET", 0)
    names = [f"r{i}.xlsx" for i in range(8)]
    for jobs in (1, 2):
        found = list(c.read_all(_returns(tmp_path, names), small_rubric(), Limits(),
                                jobs=jobs))
        assert [r.answers._where is not None for r in found] == [True] * 8
        last = found[-1].answers
        assert last.held_rows[0][:5] == ("1.1", 1, "Beginning", "", "")
        assert last.rows[0][:5] == ("1.1", 1, "Beginning", "Evidence for 1.1",
                                     "Next for 1.1")
