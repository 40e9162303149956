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


# -- reading in worker processes, called in this process (mutation testing sees it) ----------

CRASHED = ("the reader's worker process stopped while reading this file (a crash in a library "
           "it uses); the file may be damaged: save it again from Excel or LibreOffice")


def _sources(tmp_path, names: list[str]):
    from returns_kit import answers_for, small_rubric
    from workbook_tool.files import Source

    body = make_return(answers=answers_for(small_rubric()))
    for name in set(names):
        (tmp_path / name).write_bytes(body)
    return [Source(name, str(tmp_path / name)) for name in names]


def test_a_worker_reads_with_the_rubric_and_limits_it_was_given(tmp_path, monkeypatch):
    from returns_kit import small_rubric
    from workbook_tool import consolidate
    from workbook_tool.reader import Limits

    monkeypatch.setattr(consolidate, "_worker", {})
    (source,) = _sources(tmp_path, ["a.xlsx"])
    consolidate._init_worker(small_rubric(), Limits())
    result = consolidate._read(source)
    assert (result.file, result.school_id, result.problems) == ("a.xlsx", "S1", [])
    consolidate._init_worker(small_rubric(), Limits(max_file_bytes=100))
    assert [p.code for p in consolidate._read(source).problems] == ["too-large"]


def crash_on_boom(source):
    """A worker's read that dies the way a crash in a native library kills a process."""
    import os

    from workbook_tool import consolidate

    if source.display == "boom.xlsx":
        os._exit(70)
    return consolidate.read_one(source, consolidate._worker["rubric"],
                                consolidate._worker["limits"])


def test_the_file_that_killed_a_worker_is_blamed_not_its_chunk_neighbour(tmp_path, monkeypatch):
    from returns_kit import small_rubric
    from workbook_tool import consolidate
    from workbook_tool.reader import Limits

    monkeypatch.setattr(consolidate, "_read", crash_on_boom)
    # 16 files for one worker: read two to a chunk, "a.xlsx" shares boom's chunk.
    names = ["a.xlsx", "boom.xlsx", *(f"c{i}.xlsx" for i in range(14))]
    sources = _sources(tmp_path, names)
    results = list(consolidate._pooled(sources, small_rubric(), Limits(), 1,
                                       lambda: None, lambda: None))
    assert [(r.file, r.school_id, [p.message for p in r.problems]) for r in results] == [
        ("a.xlsx", "S1", []), ("boom.xlsx", "", [CRASHED]),
        *((f"c{i}.xlsx", "S1", []) for i in range(14))]
    assert results[1].sha256 == ""


def test_packed_answers_show_as_their_answers():
    from workbook_tool.consolidate import PackedAnswers

    packed = PackedAnswers([answer("1.1", 2, "ok")])
    assert repr(packed) == ("[Answer(indicator_id='1.1', level=2, label='Growing', "
                            "evidence='ok', next_steps='', priority='', "
                            "previous_level=None, review='', followup='')]")


def test_several_cycles_are_counted_and_long_names_cut_at_40():
    from workbook_tool.consolidate import SeveralCycles

    error = SeveralCycles({"2024-25": 2, "x" * 45: 1})
    assert error.files_per_cycle == {"2024-25": 2, "x" * 45: 1}
    assert str(error) == (
        f"the returns belong to 2 cycles ('2024-25': 2 files, '{'x' * 39}…': 1 file); "
        "choose the one to consolidate with --cycle")


def test_two_unread_returns_of_one_school_are_compared_by_their_bytes():
    from returns_kit import small_rubric
    from workbook_tool.consolidate import consolidate
    from workbook_tool.reader.model import ReturnResult

    def unread(file: str, sha: str) -> ReturnResult:  # its school named, no answers read
        return ReturnResult(file=file, sha256=sha, school_id="S1", cycle="2024-25",
                            format_version=1)

    run = consolidate([unread("a.xlsx", "aa" * 32), unread("b.xlsx", "aa" * 32),
                       unread("c.xlsx", "cc" * 32), unread("d.xlsx", "dd" * 32)],
                      small_rubric(), [S1], cycle="2024-25")
    found = {p.file: p.code for p in run.problems if p.code in ("duplicate", "conflict")}
    assert found == {"a.xlsx": "conflict", "b.xlsx": "conflict", "c.xlsx": "conflict",
                     "d.xlsx": "conflict"}
