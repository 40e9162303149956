"""`workbook-tool team`: members' own returns of one school gathered into a team workbook.

Members' returns are made by the real writer and filled as a member would (openpyxl); the
team workbook is read back with openpyxl and with the reader. Expected values are literals.
Small rubric levels: 1 Beginning, 2 Growing, 3 Strong Practice; indicators 1.1-1.3, 2.1-2.2.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from returns_kit import SCHOOL, SMALL_RUBRIC, answer, make_return, named_cell, small_rubric
from workbook_tool.cli import main
from workbook_tool.reader import read_file
from workbook_tool.roster import School


def member(ratings: dict[str, int | None], completed_by: str = "", evidence: dict | None = None,
           school: School = SCHOOL, cycle: str = "2024-25") -> bytes:
    evidence = evidence or {}
    answers = {ind: answer(ind, level, evidence.get(ind, "")) for ind, level in ratings.items()}
    data = make_return(small_rubric(), school=school, cycle=cycle, answers=answers)
    if completed_by:
        sheet, ref = named_cell(data, "completed_by")
        book = openpyxl.load_workbook(io.BytesIO(data))
        book[sheet][ref] = completed_by
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
    return data


ANA = {"1.1": 1, "1.2": 2, "1.3": 3, "2.1": 2, "2.2": None}
BEN = {"1.1": 3, "1.2": 2, "1.3": 3, "2.1": None, "2.2": 1}
CHRIS = {"1.1": 2, "1.2": 3, "1.3": 3, "2.1": 2, "2.2": None}


def write_members(tmp_path, **files: bytes) -> list[str]:
    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def run_team(*args: str):
    return CliRunner().invoke(main, ["team", *args, "--rubric", str(SMALL_RUBRIC)])


def value(book, name: str):
    sheet, ref = next(book.defined_names[name].destinations)
    return book[sheet][ref.replace("$", "")].value


def test_team_workbook_holds_each_members_ratings_in_their_rater_column(tmp_path):
    paths = write_members(
        tmp_path,
        ana=member(ANA, "Ana Ruiz", {"1.1": "Minutes of the May 3 meeting"}),
        ben=member(BEN, "", {"1.1": "Advisory schedule"}),
        chris=member(CHRIS, "Chris"),
    )
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 raters: Ana Ruiz, ben, Chris." in result.output
    assert "Discuss first (1 indicators two levels or more apart): 1.1 (ratings 1;3;2)." \
        in result.output

    book = openpyxl.load_workbook(out)
    assert [value(book, f"rater_name_{k}") for k in (1, 2, 3)] == ["Ana Ruiz", "ben", "Chris"]
    assert [value(book, f"rater_{k}_1_1") for k in (1, 2, 3)] == \
        ["Beginning", "Strong Practice", "Growing"]
    assert [value(book, f"rater_{k}_2_2") for k in (1, 2, 3)] == [None, "Beginning", None]
    assert value(book, "rating_1_1") is None  # the team agrees; nothing is agreed for it
    assert value(book, "evidence_1_1") == \
        "Ana Ruiz: Minutes of the May 3 meeting\nben: Advisory schedule"
    assert value(book, "evidence_1_2") is None
    assert value(book, "school_id") == "S1"
    assert value(book, "cycle") == "2024-25"
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["raters"] == 3


def test_the_team_workbook_reads_back_with_every_raters_level(tmp_path):
    paths = write_members(tmp_path, ana=member(ANA, "Ana"), ben=member(BEN, "Ben"))
    out = tmp_path / "team.xlsx"
    assert run_team(*paths, "--out", str(out)).exit_code == 0
    result = read_file(out, small_rubric())
    assert result.team is not None
    assert result.team.names == ("Ana", "Ben")
    assert result.team.levels["1.1"] == (1, 3)
    assert result.team.levels["2.1"] == (2, None)
    assert result.team.levels["2.2"] == (None, 1)
    assert [a.level for a in result.answers] == [None] * 5


def test_json_output(tmp_path):
    paths = write_members(tmp_path, ana=member(ANA, "Ana"), ben=member(BEN, "Ben"))
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["file"] == str(out)
    assert doc["raters"] == ["Ana", "Ben"]
    assert doc["flagged"] == [{"indicator_id": "1.1", "ratings": "1;3"}]
    assert [i["ok"] for i in doc["inputs"]] == [True, True]


def test_returns_of_different_schools_exit_2_and_write_nothing(tmp_path):
    other = School("S2", "Beta School")
    paths = write_members(tmp_path, ana=member(ANA), ben=member(BEN, school=other))
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 2
    assert "different schools (S1:" in result.output
    assert not out.exists()


def test_returns_of_different_cycles_exit_2(tmp_path):
    paths = write_members(tmp_path, ana=member(ANA), ben=member(BEN, cycle="2025-26"))
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 2
    assert "different cycles (2024-25:" in result.output
    assert not out.exists()


def test_returns_of_different_rubrics_exit_2(tmp_path):
    from workbook_tool.rubric import load_rubric
    from workbook_tool.writer import build_workbook

    framework = build_workbook(load_rubric(), SCHOOL, "2024-25")
    paths = write_members(tmp_path, ana=member(ANA), other=framework)
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 2
    assert "different rubrics (small-test-rubric 2024-01:" in result.output
    assert not out.exists()


def test_more_than_eight_or_fewer_than_two_returns_exit_2(tmp_path):
    data = member(ANA)
    paths = write_members(tmp_path, **{f"m{i}": data for i in range(9)})
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 2
    assert "at most 8 raters; got 9 returns" in result.output
    result = run_team(paths[0], "--out", str(out))
    assert result.exit_code == 2
    assert "at least 2 members' returns; got 1" in result.output
    assert not out.exists()


def test_the_output_may_not_be_an_input(tmp_path):
    paths = write_members(tmp_path, ana=member(ANA), ben=member(BEN))
    before = hashlib.sha256(Path(paths[0]).read_bytes()).hexdigest()
    result = run_team(*paths, "--out", paths[0])
    assert result.exit_code == 2
    assert "is one of the inputs" in result.output
    assert hashlib.sha256(Path(paths[0]).read_bytes()).hexdigest() == before


def test_an_existing_output_is_replaced_only_with_force(tmp_path):
    paths = write_members(tmp_path, ana=member(ANA), ben=member(BEN))
    out = tmp_path / "team.xlsx"
    out.write_bytes(b"the team's own work")
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert out.read_bytes() == b"the team's own work"
    assert run_team(*paths, "--out", str(out), "--force").exit_code == 0
    assert out.read_bytes()[:2] == b"PK"


def test_a_return_with_errors_writes_nothing_and_exits_1(tmp_path):
    bad = member(ANA)
    sheet, ref = named_cell(bad, "rating_1_2")
    book = openpyxl.load_workbook(io.BytesIO(bad))
    book[sheet][ref] = "Pretty good"
    buffer = io.BytesIO()
    book.save(buffer)
    paths = write_members(tmp_path, ana=buffer.getvalue(), ben=member(BEN))
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 1
    assert "invalid-rating" in result.output
    assert "No team workbook written" in result.output
    assert not out.exists()


def test_a_file_that_is_not_a_workbook_exits_1(tmp_path):
    paths = write_members(tmp_path, ana=member(ANA), notes=b"just some notes")
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 1
    assert "not-xlsx" in result.output
    assert not out.exists()


def test_the_same_return_twice_is_refused(tmp_path):
    data = member(ANA, "Ana")
    paths = write_members(tmp_path, ana=data, copy=data, ben=member(BEN, "Ben"))
    out = tmp_path / "team.xlsx"
    result = run_team(paths[0], paths[0], "--out", str(out))
    assert result.exit_code == 2
    assert f"{paths[0]} is the same return as {paths[0]}" in result.output
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 2
    assert f"{paths[1]} is the same return as {paths[0]}; give each member's own" \
        in result.output
    assert not out.exists()


def test_a_team_workbook_is_not_a_member(tmp_path):
    paths = write_members(tmp_path, ana=member(ANA, "Ana"), ben=member(BEN, "Ben"))
    first = tmp_path / "first.xlsx"
    assert run_team(*paths, "--out", str(first)).exit_code == 0
    out = tmp_path / "again.xlsx"
    result = run_team(str(first), paths[0], "--out", str(out))
    assert result.exit_code == 2
    assert f"{first} is a team workbook with raters' ratings" in result.output
    assert not out.exists()


def test_members_lines_stay_theirs_and_names_show_no_control_characters(tmp_path):
    paths = write_members(
        tmp_path,
        ana=member(ANA, "Ana\nRuiz", {"1.1": "Minutes\nBen: I retract"}),
        ben=member(BEN, "Ben"),
    )
    out = tmp_path / "team.xlsx"
    result = run_team(*paths, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 raters: Ana\\x0aRuiz, Ben." in result.output
    book = openpyxl.load_workbook(out)
    assert value(book, "evidence_1_1") == "Ana\nRuiz: Minutes\n    Ben: I retract"


def test_a_member_who_rated_nothing_is_named(tmp_path):
    nothing = {ind: None for ind in ANA}
    paths = write_members(tmp_path, ana=member(ANA, "Ana"), ben=member(nothing, "Ben"))
    result = run_team(*paths, "--out", str(tmp_path / "team.xlsx"))
    assert result.exit_code == 0, result.output
    assert "Rated nothing: Ben." in result.output
    assert "No indicator was rated by two raters or more yet." in result.output


def test_outputs_get_the_umasks_mode_not_a_private_one(tmp_path):
    import os
    import stat

    paths = write_members(tmp_path, ana=member(ANA, "Ana"), ben=member(BEN, "Ben"))
    old = os.umask(0o027)
    try:
        out = tmp_path / "team.xlsx"
        assert run_team(*paths, "--out", str(out)).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # 0666 less the umask, as any file
