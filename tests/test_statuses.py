"""Statuses that hide nothing: versions of one return, copies, cycles, a crashing read.

Every case consolidates hand-made returns through the CLI and compares returns.csv and the
exit code with literal expectations.
"""

from __future__ import annotations

import csv

from click.testing import CliRunner

from returns_kit import (
    SMALL_RUBRIC,
    answers_for,
    make_return,
    named_cell,
    set_cell_xml,
    small_rubric,
    with_openpyxl,
)
from workbook_tool.cli import main
from workbook_tool.reader import Answer
from workbook_tool.roster import School

ALPHA = School("S1", "Alpha School")
BETA = School("S2", "Beta School")


def answers(**changes: Answer) -> dict[str, Answer]:
    out = answers_for(small_rubric())
    out.update(changes)
    return out


def write(folder, name: str, data: bytes) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)


def consolidate(tmp_path, *extra: str) -> tuple[int, str, list[dict]]:
    roster = tmp_path / "roster.csv"
    roster.write_text("school_id,school_name\nS1,Alpha School\nS2,Beta School\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "consolidate", str(tmp_path / "returns"), "--roster", str(roster), "--out", str(out),
        "--rubric", str(SMALL_RUBRIC), "--jobs", "1", "--quiet", *extra])
    rows = []
    if (out / "returns.csv").exists():
        with open(out / "returns.csv", encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    return result.exit_code, result.stderr, rows


def with_typo() -> bytes:
    """Alpha's return with 1.1 rated "Strongg", typed past the dropdown."""
    data = make_return(answers=answers())
    sheet, ref = named_cell(data, "rating_1_1")
    typed = f'<c r="{ref}" t="inlineStr"><is><t>Strongg</t></is></c>'
    return set_cell_xml(data, sheet, ref, typed)


def statuses(rows: list[dict]) -> list[tuple[str, str, str]]:
    return [(r["school_id"], r["file"].rsplit("/", 1)[-1], r["status"]) for r in rows]


def test_a_later_broken_version_makes_both_conflicts(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "a_first.xlsx", make_return(answers=answers()))
    broken = answers()
    broken["1.2"] = Answer("1.2", None, "", "Changed evidence", "", "")
    write(returns, "b_later.xlsx", make_return(answers=broken))
    code, _, rows = consolidate(tmp_path)
    assert code == 1
    assert statuses(rows) == [("S1", "a_first.xlsx", "conflict"),
                              ("S1", "b_later.xlsx", "conflict"),
                              ("S2", "", "missing")]
    ratings = (tmp_path / "out" / "ratings.csv").read_text(encoding="utf-8")
    assert ratings.count("\n") == 1  # the header only: no version is consolidated


def test_a_rejected_version_is_a_conflict_too(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "a_ok.xlsx", make_return(answers=answers()))
    typo = with_typo()
    write(returns, "b_typo.xlsx", typo)
    code, _, rows = consolidate(tmp_path)
    assert code == 1
    assert statuses(rows) == [("S1", "a_ok.xlsx", "conflict"), ("S1", "b_typo.xlsx", "conflict"),
                              ("S2", "", "missing")]
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8")
    assert "invalid-rating" in problems
    assert problems.count(",conflict,error,") == 2


def test_an_invalid_rating_and_a_blank_one_are_not_copies(tmp_path):
    returns = tmp_path / "returns"
    blank = answers()
    blank["1.1"] = Answer("1.1", None, "", "Evidence for 1.1", "Next for 1.1", "High")
    write(returns, "a_blank.xlsx", make_return(answers=blank))
    typo = with_typo()
    write(returns, "b_typo.xlsx", typo)
    _, _, rows = consolidate(tmp_path)
    assert [r["status"] for r in rows] == ["conflict", "conflict", "missing"]


def test_identical_copies_one_used_even_if_resaved(tmp_path):
    returns = tmp_path / "returns"
    original = make_return(answers=answers())
    resaved = with_openpyxl(original, lambda book: None)  # other bytes, same answers
    assert resaved != original
    write(returns, "a.xlsx", original)
    write(returns, "b_resaved.xlsx", resaved)
    write(returns, "c_beta.xlsx", make_return(school=BETA, answers=answers()))
    code, _, rows = consolidate(tmp_path)
    assert code == 0
    assert statuses(rows) == [("S1", "a.xlsx", "accepted"), ("S1", "b_resaved.xlsx", "duplicate"),
                              ("S2", "c_beta.xlsx", "accepted")]


def test_identical_rejected_copies_are_one_rejected_and_a_duplicate(tmp_path):
    returns = tmp_path / "returns"
    typo = with_typo()
    write(returns, "a.xlsx", typo)
    write(returns, "b.xlsx", typo)
    code, _, rows = consolidate(tmp_path)
    assert code == 1
    assert [r["status"] for r in rows] == ["rejected", "duplicate", "missing"]
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8")
    assert "that one is reported" in problems


def test_several_cycles_without_cycle_write_nothing(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "last_year.xlsx", make_return(cycle="2024-25", answers=answers()))
    write(returns, "this_year.xlsx", make_return(cycle="2025-26", answers=answers()))
    write(returns, "beta.xlsx", make_return(school=BETA, cycle="2025-26", answers=answers()))
    code, stderr, rows = consolidate(tmp_path)
    assert code == 2
    assert stderr == ("Error: the returns belong to 2 cycles ('2024-25': 1 file, '2025-26': "
                      "2 files); choose the one to consolidate with --cycle\n")
    assert rows == []
    assert not (tmp_path / "out").exists()


def test_a_blank_cycle_is_a_cycle_of_its_own(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "blank.xlsx", make_return(cycle="", answers=answers()))
    write(returns, "beta.xlsx", make_return(school=BETA, cycle="2025-26", answers=answers()))
    code, stderr, _ = consolidate(tmp_path)
    assert code == 2
    assert "2 cycles (no cycle: 1 file, '2025-26': 1 file)" in stderr


def test_other_cycles_are_never_copies(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "a_last_year.xlsx", make_return(cycle="2024-25", answers=answers()))
    write(returns, "b_this_year.xlsx", make_return(cycle="2025-26", answers=answers()))
    code, _, rows = consolidate(tmp_path, "--cycle", "2025-26")
    assert code == 1
    assert statuses(rows) == [("S1", "a_last_year.xlsx", "rejected"),
                              ("S1", "b_this_year.xlsx", "accepted"),
                              ("S2", "", "missing")]
    text = (tmp_path / "out" / "ratings.csv").read_text(encoding="utf-8")
    ratings = list(csv.DictReader(text.splitlines()))
    assert {r["source_file"].rsplit("/", 1)[-1] for r in ratings} == {"b_this_year.xlsx"}
    assert {r["cycle"] for r in ratings} == {"2025-26"}


def test_blank_cycle_return_is_wrong_cycle_when_a_cycle_is_given(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "blank.xlsx", make_return(cycle="", answers=answers()))
    code, _, rows = consolidate(tmp_path, "--cycle", "2025-26")
    assert code == 1
    assert [r["status"] for r in rows] == ["rejected", "missing"]
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8")
    assert "The workbook is for no cycle, this consolidation is for cycle '2025-26'." in problems


def test_a_crash_while_reading_one_file_is_that_files_problem(tmp_path, monkeypatch):
    from workbook_tool.reader import source

    real = source._read

    def fragile(path, *args, **kwargs):
        if str(path).endswith("boom.xlsx"):
            raise RuntimeError("a library failed")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(source, "_read", fragile)
    returns = tmp_path / "returns"
    write(returns, "a.xlsx", make_return(answers=answers()))
    write(returns, "boom.xlsx", make_return(school=BETA, answers=answers()))
    code, _, rows = consolidate(tmp_path, "--json")
    assert code == 1
    assert statuses(rows) == [("S1", "a.xlsx", "accepted"), ("", "boom.xlsx", "rejected"),
                              ("S2", "", "missing")]
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8")
    assert "unreadable,error,the file could not be read (RuntimeError: a library failed)" in (
        problems)


def test_several_cycles_with_json_prints_no_document(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "a.xlsx", make_return(cycle="2024-25", answers=answers()))
    write(returns, "b.xlsx", make_return(school=BETA, cycle="2025-26", answers=answers()))
    roster = tmp_path / "roster.csv"
    roster.write_text("school_id,school_name\nS1,Alpha School\n", encoding="utf-8")
    result = CliRunner().invoke(main, [
        "consolidate", str(returns), "--roster", str(roster), "--out", str(tmp_path / "out"),
        "--rubric", str(SMALL_RUBRIC), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: the returns belong to 2 cycles")


def crash_on_boom(source):
    """A worker's read that dies the way a crash in a native library kills a process."""
    import os

    import workbook_tool.consolidate as consolidate_module

    if source.display.endswith("boom.xlsx"):
        os._exit(70)
    return consolidate_module.read_one(source, consolidate_module._worker["rubric"],
                                       consolidate_module._worker["limits"])


def test_a_file_that_kills_its_worker_is_that_files_problem(tmp_path, monkeypatch):
    import workbook_tool.consolidate as consolidate_module

    monkeypatch.setattr(consolidate_module, "_read", crash_on_boom)
    returns = tmp_path / "returns"
    good = make_return(answers=answers())
    for i in range(9):  # enough files for worker processes
        write(returns, f"a{i}.xlsx", good)
    write(returns, "boom.xlsx", good)
    write(returns, "c_beta.xlsx", make_return(school=BETA, answers=answers()))
    roster = tmp_path / "roster.csv"
    roster.write_text("school_id,school_name\nS1,Alpha School\nS2,Beta School\n",
                      encoding="utf-8")
    result = CliRunner().invoke(main, [
        "consolidate", str(returns), "--roster", str(roster), "--out", str(tmp_path / "out"),
        "--rubric", str(SMALL_RUBRIC), "--jobs", "2", "--quiet"])
    assert result.exit_code == 1, result.output
    text = (tmp_path / "out" / "returns.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert [(r["file"].rsplit("/", 1)[-1], r["status"]) for r in rows] == [
        *[(f"a{i}.xlsx", "accepted" if i == 0 else "duplicate") for i in range(9)],
        ("boom.xlsx", "rejected"), ("c_beta.xlsx", "accepted")]
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8")
    assert "boom.xlsx,,,,unreadable,error,the reader's worker process stopped" in problems


def test_cycles_that_look_alike_are_told_apart(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "a.xlsx", make_return(cycle="2025-26", answers=answers()))
    write(returns, "b.xlsx", make_return(school=BETA, cycle="2025-26\u200b", answers=answers()))
    code, stderr, _ = consolidate(tmp_path)
    assert code == 2
    assert "2 cycles ('2025-26': 1 file, '2025-26<U+200B>': 1 file)" in stderr
    code, _, _ = consolidate(tmp_path, "--cycle", "2025-26")
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8")
    assert ("The workbook is for cycle '2025-26<U+200B>', this consolidation is for cycle "
            "'2025-26'.") in problems


def problem_rows(tmp_path) -> list[tuple[str, str, str, str, str]]:
    text = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8")
    return [(r["file"].rsplit("/", 1)[-1], r["school_id"], r["code"], r["severity"],
             r["message"]) for r in csv.DictReader(text.splitlines())]


def test_duplicate_and_conflict_messages_name_every_file(tmp_path):
    returns = tmp_path / "returns"
    original = make_return(answers=answers())
    write(returns, "a.xlsx", original)
    write(returns, "b.xlsx", original)
    other = answers()
    other["2.2"] = Answer("2.2", 1, "Beginning", "Other evidence", "", "")
    write(returns, "c_beta.xlsx", make_return(school=BETA, answers=answers()))
    write(returns, "d_beta.xlsx", make_return(school=BETA, answers=other))
    consolidate(tmp_path)
    folder = str(returns)
    assert problem_rows(tmp_path) == [
        ("b.xlsx", "S1", "duplicate", "warning",
         f"An identical copy of {folder}/a.xlsx for school 'S1'; that one is used."),
        ("c_beta.xlsx", "S2", "conflict", "error",
         f"2 different returns for school 'S2' ({folder}/c_beta.xlsx, {folder}/d_beta.xlsx); "
         "none is used until only one remains."),
        ("d_beta.xlsx", "S2", "conflict", "error",
         f"2 different returns for school 'S2' ({folder}/c_beta.xlsx, {folder}/d_beta.xlsx); "
         "none is used until only one remains."),
    ]


def test_a_duplicate_of_a_rejected_return_says_it_is_reported(tmp_path):
    returns = tmp_path / "returns"
    write(returns, "a.xlsx", with_typo())
    write(returns, "b.xlsx", with_typo())
    consolidate(tmp_path)
    duplicates = [row for row in problem_rows(tmp_path) if row[2] == "duplicate"]
    assert duplicates == [("b.xlsx", "S1", "duplicate", "warning",
                           f"An identical copy of {returns}/a.xlsx for school 'S1'; that one "
                           "is reported.")]
