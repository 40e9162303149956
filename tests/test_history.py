"""The history store (workbook_tool.history): what it records, read back with the sqlite3
module; that a failed, killed or concurrent recording leaves the store as it was; that a
file that is not a usable store is refused untouched; and the reads for prefill and trends.

Runs are built from hand-made ReturnResults of the small rubric (indicators 1.1, 1.2, 1.3,
2.1, 2.2; levels 1 Beginning, 2 Growing, 3 Strong Practice).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from workbook_tool import history
from workbook_tool.consolidate import Consolidation, consolidate
from workbook_tool.history import StoreError
from workbook_tool.problems import ERROR, Problem
from workbook_tool.reader.model import Answer, Previous, ReturnResult, TeamRatings
from workbook_tool.roster import School
from workbook_tool.rubric import Rubric, load_rubric

HERE = Path(__file__).parent
IDS = ("1.1", "1.2", "1.3", "2.1", "2.2")
LABELS = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
HOSTILE = "'; DROP TABLE ratings; --"
QUOTED = 'O\'Keefe "Arts" Academy'
ROSTER = [School("101", "Lincoln High", "North"), School("102", QUOTED, "South"),
          School("103", "Pine School", "North")]
A, B = "2025-26", "2026-27"
PARQUET = importlib.util.find_spec("pyarrow") is not None
EXPORTED = ["history.csv", *(["history.parquet"] if PARQUET else []), "history_returns.csv"]
AT_A, AT_B = "2026-06-30T12:00:00Z", "2027-06-30T12:00:00Z"


@cache
def small() -> Rubric:
    return load_rubric(HERE / "data" / "small_rubric.yaml")


def answers(levels, evidence: str = "", next_steps: str = "", priority: str = "") -> list:
    return [Answer(i, level, LABELS[level], evidence and f"{evidence} {i}",
                   next_steps and f"{next_steps} {i}", priority)
            for i, level in zip(IDS, levels, strict=True)]


def result(school_id: str, cycle: str, levels, *, evidence: str = "", next_steps: str = "",
           priority: str = "", completed_by: str = "", team: TeamRatings | None = None,
           rejected: bool = False, rubric: Rubric | None = None) -> ReturnResult:
    rubric = rubric or small()
    file = f"returns/{school_id}_{cycle}.xlsx"
    problems = [Problem(file, "invalid-rating", "Not a level.", severity=ERROR)] if rejected \
        else []
    return ReturnResult(file, f"sha-{school_id}-{cycle}", school_id, "", cycle, rubric.id,
                        rubric.version, rubric.fingerprint, 2, completed_by=completed_by,
                        team=team, answers=answers(levels, evidence, next_steps, priority),
                        problems=problems)


def run_a() -> Consolidation:
    """Cycle A: 101 a team return, 102 hostile texts, 103 missing."""
    team = TeamRatings(("Ana", "Ben"), {"1.1": (1, 2), "1.2": (2, None)}, {"1.1": "Ben's view"})
    return consolidate([
        result("101", A, [1, 2, 3, None, 2], evidence="Minutes", next_steps="Plan",
               priority="High", completed_by="Ana Ruiz", team=team),
        result("102", A, [2, 2, 2, 2, 2], evidence=HOSTILE, next_steps=QUOTED),
    ], small(), ROSTER, A)


def run_b() -> Consolidation:
    """Cycle B: 101 rejected this time, 102 and 103 accepted."""
    return consolidate([
        result("101", B, [3, 3, 3, 3, 3], rejected=True),
        result("102", B, [3, 2, 1, 2, 3], evidence="New"),
        result("103", B, [1, 1, 1, 1, 1]),
    ], small(), ROSTER, B)


def rows(path: Path, sql: str, args=()) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def dump(path: Path) -> list[str]:
    """Everything the store holds, markers included."""
    con = sqlite3.connect(path)
    try:
        marks = [f"{p}={con.execute(f'PRAGMA {p}').fetchone()[0]}"
                 for p in ("application_id", "user_version")]
        return marks + list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
def store(tmp_path) -> Path:
    """A store holding cycle A."""
    path = tmp_path / "history.sqlite"
    history.record_cycle(path, run_a(), A, AT_A)
    return path


# -- schema and what is recorded -----------------------------------------------------------

def test_a_new_store_is_marked_and_in_wal_mode(tmp_path):
    path = tmp_path / "new.sqlite"
    history.record_cycle(path, run_a(), A, AT_A)
    assert rows(path, "PRAGMA application_id") == [(0x57425448,)]
    assert rows(path, "PRAGMA user_version") == [(2,)]
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]
    assert rows(path, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
                      "ORDER BY name") == [
        ("table", "answers"), ("table", "cycles"), ("table", "indicators"),
        ("table", "levels"), ("table", "rater_ratings"), ("view", "ratings"),
        ("table", "returns"), ("table", "schools")]
    assert [r[1] for r in rows(path, "PRAGMA table_info(answers)")] == [
        "cycle", "school_id", "indicator_id", "level", "evidence", "next_steps", "priority",
        "previous_level", "review", "followup", "agreement_note"]
    assert [r[1] for r in rows(path, "PRAGMA table_info(schools)")] == [
        "cycle", "school_id", "school_name", "network", "source_file", "completed_by"]
    # The view keeps schema 1's `ratings` table, column for column.
    assert [r[1] for r in rows(path, "PRAGMA table_info(ratings)")] == [
        "cycle", "school_id", "school_name", "network", "domain_id", "indicator_id",
        "indicator", "level", "label", "evidence", "next_steps", "priority", "source_file",
        "previous_level", "review", "followup", "completed_by", "agreement_note"]
    assert sorted(os.listdir(tmp_path)) == ["new.sqlite"]  # closed cleanly: no -wal left


def test_a_cycle_is_recorded_row_by_row(store):
    fingerprint = small().fingerprint
    assert rows(store, "SELECT * FROM cycles") == [
        (A, AT_A, "small-test-rubric", "2024-01", fingerprint, "0.1.0", 2, 2)]
    assert rows(store, "SELECT * FROM indicators ORDER BY position") == [
        (A, 1, "1", "1.1", "Shared vision"), (A, 2, "1", "1.2", "Resources"),
        (A, 3, "1", "1.3", "Data use"), (A, 4, "2", "2.1", "Employer partners"),
        (A, 5, "2", "2.2", "Family engagement")]
    assert rows(store, "SELECT * FROM returns ORDER BY rowid") == [
        (A, "101", "Lincoln High", "returns/101_2025-26.xlsx", "sha-101-2025-26",
         "accepted", 4, 5, 0, 0),
        (A, "102", QUOTED, "returns/102_2025-26.xlsx", "sha-102-2025-26", "accepted", 5, 5,
         0, 0),
        (A, "103", "Pine School", "", "", "missing", None, None, None, None)]
    f101 = "returns/101_2025-26.xlsx"
    assert rows(store, "SELECT * FROM ratings WHERE school_id = '101' ORDER BY rowid") == [
        (A, "101", "Lincoln High", "North", "1", "1.1", "Shared vision", 1, "Beginning",
         "Minutes 1.1", "Plan 1.1", "High", f101, None, "", "", "Ana Ruiz", "Ben's view"),
        (A, "101", "Lincoln High", "North", "1", "1.2", "Resources", 2, "Growing",
         "Minutes 1.2", "Plan 1.2", "High", f101, None, "", "", "Ana Ruiz", ""),
        (A, "101", "Lincoln High", "North", "1", "1.3", "Data use", 3, "Strong Practice",
         "Minutes 1.3", "Plan 1.3", "High", f101, None, "", "", "Ana Ruiz", ""),
        (A, "101", "Lincoln High", "North", "2", "2.1", "Employer partners", None, "",
         "Minutes 2.1", "Plan 2.1", "High", f101, None, "", "", "Ana Ruiz", ""),
        (A, "101", "Lincoln High", "North", "2", "2.2", "Family engagement", 2, "Growing",
         "Minutes 2.2", "Plan 2.2", "High", f101, None, "", "", "Ana Ruiz", "")]
    assert rows(store, "SELECT * FROM rater_ratings ORDER BY rowid") == [
        (A, "101", "1.1", 1, "Ana", 1), (A, "101", "1.1", 2, "Ben", 2),
        (A, "101", "1.2", 1, "Ana", 2)]


def test_each_fact_is_stored_once_in_the_base_tables(store):
    assert rows(store, "SELECT * FROM schools ORDER BY rowid") == [
        (A, "101", "Lincoln High", "North", "returns/101_2025-26.xlsx", "Ana Ruiz"),
        (A, "102", QUOTED, "South", "returns/102_2025-26.xlsx", "")]
    assert rows(store, "SELECT * FROM levels ORDER BY level") == [
        (A, 1, "Beginning"), (A, 2, "Growing"), (A, 3, "Strong Practice")]
    assert rows(store, "SELECT * FROM answers WHERE school_id = '101' ORDER BY rowid") == [
        (A, "101", "1.1", 1, "Minutes 1.1", "Plan 1.1", "High", None, "", "", "Ben's view"),
        (A, "101", "1.2", 2, "Minutes 1.2", "Plan 1.2", "High", None, "", "", ""),
        (A, "101", "1.3", 3, "Minutes 1.3", "Plan 1.3", "High", None, "", "", ""),
        (A, "101", "2.1", None, "Minutes 2.1", "Plan 2.1", "High", None, "", "", ""),
        (A, "101", "2.2", 2, "Minutes 2.2", "Plan 2.2", "High", None, "", "", "")]
    assert rows(store, "SELECT count(*) FROM answers") == [(10,)]


def test_the_answers_of_a_prefilled_return_are_recorded(tmp_path):
    prefilled = result("101", A, [2, 2, 2, 2, 2])
    prefilled.answers = [replace(a, previous_level=1, review="Reviewed", followup="Done")
                         if a.indicator_id == "1.2" else a for a in prefilled.answers]
    path = tmp_path / "h.sqlite"
    history.record_cycle(path, consolidate([prefilled], small(), ROSTER[:1], A), A, AT_A)
    assert rows(path, "SELECT indicator_id, previous_level, review, followup FROM ratings "
                      "ORDER BY rowid") == [
        ("1.1", None, "", ""), ("1.2", 1, "Reviewed", "Done"), ("1.3", None, "", ""),
        ("2.1", None, "", ""), ("2.2", None, "", "")]


def test_texts_that_look_like_sql_are_stored_and_read_back_exactly(store, tmp_path):
    assert rows(store, "SELECT school_name, evidence, next_steps FROM ratings "
                       "WHERE school_id = '102' AND indicator_id = '1.1'") == [
        (QUOTED, "'; DROP TABLE ratings; -- 1.1", 'O\'Keefe "Arts" Academy 1.1')]
    assert rows(store, "SELECT count(*) FROM ratings") == [(10,)]
    found = history.previous_answers(store, small(), B, ["102"])
    assert found["102"].answers["1.1"] == Answer("1.1", 2, "Growing",
                                                 "'; DROP TABLE ratings; -- 1.1",
                                                 'O\'Keefe "Arts" Academy 1.1', "")
    history.export_history(store, tmp_path / "out")
    with open(tmp_path / "out" / "history.csv", encoding="utf-8", newline="") as f:
        exported = [r for r in csv.DictReader(f) if r["school_id"] == "102"]
    assert (exported[0]["school_name"], exported[0]["evidence"]) == (
        QUOTED, "'; DROP TABLE ratings; -- 1.1")


def test_recording_a_cycle_again_replaces_that_cycle_only(store):
    history.record_cycle(store, run_b(), B, AT_B)
    b_rows = {t: rows(store, f"SELECT * FROM {t} WHERE cycle = ? ORDER BY rowid", (B,))
              for t in history.TABLES}
    again = consolidate([result("101", A, [3, 3, 3, 3, 3], evidence="Redone")],
                        small(), ROSTER, A)
    done = history.record_cycle(store, again, A, "2027-07-01T08:00:00Z")
    assert done.replaced is True
    assert rows(store, "SELECT cycle, recorded_at, schools_accepted, returns FROM cycles "
                       "ORDER BY rowid") == [(B, AT_B, 2, 3), (A, "2027-07-01T08:00:00Z", 1, 1)]
    assert rows(store, "SELECT school_id, indicator_id, level, evidence FROM ratings "
                       "WHERE cycle = ? ORDER BY rowid", (A,)) == [
        ("101", i, 3, f"Redone {i}") for i in IDS]
    assert rows(store, "SELECT school_id, status FROM returns WHERE cycle = ? ORDER BY rowid",
                (A,)) == [("101", "accepted"), ("102", "missing"), ("103", "missing")]
    assert rows(store, "SELECT count(*) FROM rater_ratings WHERE cycle = ?", (A,)) == [(0,)]
    for table, before in b_rows.items():
        assert rows(store, f"SELECT * FROM {table} WHERE cycle = ? ORDER BY rowid",
                    (B,)) == before
    assert len(b_rows["answers"]) == 10 and len(b_rows["returns"]) == 3
    assert len(b_rows["schools"]) == 2 and len(b_rows["levels"]) == 3
    assert rows(store, "SELECT count(*) FROM ratings WHERE cycle = ?", (B,)) == [(10,)]


def test_a_new_cycle_is_not_a_replacement(tmp_path):
    done = history.record_cycle(tmp_path / "h.sqlite", run_a(), A, AT_A)
    assert (done.replaced, done.cycle.cycle, done.cycle.schools_accepted) == (False, A, 2)


# -- failures, kills and concurrency ------------------------------------------------------

def fail_at(monkeypatch, k: int, error: BaseException | None = None) -> dict:
    """Make the k-th statement of a recording raise (k = 0: none); count the statements."""
    seen = {"n": 0}
    one, many = history._execute, history._execute_many

    def step():
        seen["n"] += 1
        if seen["n"] == k:
            raise error or RuntimeError("injected")

    def failing_one(con, sql, args=()):
        step()
        return one(con, sql, args)

    def failing_many(con, sql, rows_):
        step()
        return many(con, sql, rows_)

    monkeypatch.setattr(history, "_execute", failing_one)
    monkeypatch.setattr(history, "_execute_many", failing_many)
    return seen


def test_a_recording_has_seventeen_statements_into_a_store(store, monkeypatch):
    seen = fail_at(monkeypatch, 0)
    history.record_cycle(store, run_b(), B, AT_B)
    # BEGIN, 1 SELECT, 7 DELETE, 7 INSERT, COMMIT (schema 2 has seven tables: was 13 with 5)
    assert seen["n"] == 17


def failing_each_statement_leaves(path: Path, statements: int, monkeypatch) -> None:
    """Recording cycle B fails at statement 1, 2, ... `statements` in turn; each time the
    store is byte for byte and row for row as it was."""
    before_bytes, before = path.read_bytes(), dump(path)
    for k in range(1, statements + 1):
        with monkeypatch.context() as patch:
            fail_at(patch, k)
            with pytest.raises(RuntimeError, match="injected"):
                history.record_cycle(path, run_b(), B, AT_B)
        assert path.read_bytes() == before_bytes, k
        assert dump(path) == before, k


def test_a_failure_at_any_statement_leaves_the_store_as_it_was(store, tmp_path, monkeypatch):
    failing_each_statement_leaves(store, 17, monkeypatch)
    history.check_store(store)
    assert [c.cycle for c in history.list_cycles(store)] == [A]


def test_a_failure_while_rows_are_produced_leaves_the_store_as_it_was(store, monkeypatch):
    before_bytes, before = store.read_bytes(), dump(store)
    real = history.store_answers

    def two_then_fail(run, cycle):
        for n, row in enumerate(real(run, cycle)):
            if n == 2:
                raise OSError(5, "Input/output error")
            yield row

    monkeypatch.setattr(history, "store_answers", two_then_fail)
    with pytest.raises(OSError):
        history.record_cycle(store, run_b(), B, AT_B)
    assert store.read_bytes() == before_bytes
    assert dump(store) == before


def test_an_sqlite_error_mid_recording_is_one_sentence_and_changes_nothing(store, monkeypatch):
    before = dump(store)
    fail_at(monkeypatch, 11, sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(StoreError) as caught:
        history.record_cycle(store, run_b(), B, AT_B)
    assert str(caught.value) == (
        f"cycle '2026-27' could not be recorded in the history store {store} (SQLite says: "
        "disk I/O error); the store is unchanged")
    assert dump(store) == before


def test_a_failed_first_recording_leaves_no_cycle(tmp_path, monkeypatch):
    path = tmp_path / "new.sqlite"
    seen = fail_at(monkeypatch, 0)
    history.record_cycle(tmp_path / "counted.sqlite", run_a(), A, AT_A)
    # 11 statements make the schema (8 tables, 1 index, the view) and its markers, then
    # 17 record the cycle (was 21 with schema 1's 5 tables)
    assert seen["n"] == 28
    for k in range(1, 29):
        with monkeypatch.context() as patch:
            fail_at(patch, k)
            with pytest.raises(RuntimeError, match="injected"):
                history.record_cycle(path, run_a(), A, AT_A)
        history.check_store(path)
        assert history.list_cycles(path) == [], k
    history.record_cycle(path, run_a(), A, AT_A)
    assert [c.cycle for c in history.list_cycles(path)] == [A]


KILLER = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import test_history as t
from workbook_tool import history

k, seen = int(sys.argv[3]), [0]
one, many = history._execute, history._execute_many
real_answers = history.store_answers

def step():
    seen[0] += 1
    if seen[0] == k:
        os.kill(os.getpid(), signal.SIGKILL)

def killing_one(con, sql, args=()):
    step()
    return one(con, sql, args)

def killing_many(con, sql, rows):
    step()
    return many(con, sql, rows)

def ratings_then_kill(run, cycle):  # k = 0: killed in the middle of the ratings rows
    for n, row in enumerate(real_answers(run, cycle)):
        if n == 3 and k == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        yield row

history._execute, history._execute_many = killing_one, killing_many
history.store_answers = ratings_then_kill
history.record_cycle(sys.argv[2], t.run_b(), t.B, t.AT_B)
print("not killed")
"""


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_process_killed_mid_recording_leaves_the_store_as_it_was(store):
    before_bytes, before = store.read_bytes(), dump(store)
    for k in (0, 2, 6, 13, 15, 17):  # mid-rows, after SELECT, mid-DELETEs, INSERTs, COMMIT
        done = subprocess.run([sys.executable, "-c", KILLER, str(HERE), str(store), str(k)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == -9, (k, done.stdout, done.stderr)
        assert store.read_bytes() == before_bytes, k
        history.check_store(store)
        assert [c.cycle for c in history.list_cycles(store)] == [A], k
        assert dump(store) == before, k
    history.record_cycle(store, run_b(), B, AT_B)
    assert [c.cycle for c in history.list_cycles(store)] == [A, B]


RECORDER = """
import sys
sys.path.insert(0, sys.argv[1])
import test_history as t
from workbook_tool import history

run = t.run_a() if sys.argv[3] == t.A else t.run_b()
history.record_cycle(sys.argv[2], run, sys.argv[3], sys.argv[4])
"""


def test_two_processes_recording_at_once_both_finish(store):
    started = [subprocess.Popen([sys.executable, "-c", RECORDER, str(HERE), str(store), cycle,
                                 at], stderr=subprocess.PIPE, text=True)
               for cycle, at in ((B, AT_B), (A, "2027-07-01T00:00:00Z"))]
    assert [p.wait(timeout=120) for p in started] == [0, 0], [p.stderr.read() for p in started]
    for p in started:
        p.stderr.close()
    assert sorted(rows(store, "SELECT cycle, schools_accepted, returns FROM cycles")) == [
        (A, 2, 2), (B, 2, 3)]
    assert rows(store, "SELECT cycle, count(*) FROM ratings GROUP BY cycle ORDER BY cycle") \
        == [(A, 10), (B, 10)]


def test_a_store_another_run_is_writing_to_is_busy(store):
    other = sqlite3.connect(store, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        before = dump(store)
        with pytest.raises(StoreError) as caught:
            history.record_cycle(store, run_b(), B, AT_B, busy_seconds=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert str(caught.value) == (
        f"the history store {store} is busy: another run is writing to it; try again when "
        "it has finished")
    assert dump(store) == before


def test_a_recording_waits_for_another_to_finish(store):
    other = sqlite3.connect(store, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE cycles SET returns = 7 WHERE cycle = ?", (A,))

    def finish_later():
        time.sleep(0.3)
        other.execute("COMMIT")
        other.close()

    later = threading.Thread(target=finish_later)
    later.start()
    history.record_cycle(store, run_b(), B, AT_B, busy_seconds=30)
    later.join()
    assert rows(store, "SELECT cycle, returns FROM cycles ORDER BY rowid") == [(A, 7), (B, 3)]


# -- a store of schema 1 (workbook-tool before schema 2): read as it is, migrated on record --

V1_SCHEMA = (
    """CREATE TABLE cycles (cycle TEXT PRIMARY KEY, recorded_at TEXT NOT NULL,
        rubric_id TEXT NOT NULL, rubric_version TEXT NOT NULL, rubric_fingerprint TEXT NOT NULL,
        tool_version TEXT NOT NULL, schools_accepted INTEGER NOT NULL,
        returns INTEGER NOT NULL)""",
    """CREATE TABLE indicators (cycle TEXT NOT NULL, position INTEGER NOT NULL,
        domain_id TEXT NOT NULL, indicator_id TEXT NOT NULL, indicator TEXT NOT NULL,
        PRIMARY KEY (cycle, indicator_id))""",
    """CREATE TABLE returns (cycle TEXT NOT NULL, school_id TEXT NOT NULL,
        school_name TEXT NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL,
        status TEXT NOT NULL, rated INTEGER, total INTEGER, errors INTEGER, warnings INTEGER)""",
    "CREATE INDEX returns_cycle ON returns (cycle, school_id)",
    """CREATE TABLE ratings (cycle TEXT NOT NULL, school_id TEXT NOT NULL,
        school_name TEXT NOT NULL, network TEXT NOT NULL, domain_id TEXT NOT NULL,
        indicator_id TEXT NOT NULL, indicator TEXT NOT NULL, level INTEGER,
        label TEXT NOT NULL, evidence TEXT NOT NULL, next_steps TEXT NOT NULL,
        priority TEXT NOT NULL, source_file TEXT NOT NULL, previous_level INTEGER,
        review TEXT NOT NULL DEFAULT '', followup TEXT NOT NULL DEFAULT '',
        completed_by TEXT NOT NULL DEFAULT '', agreement_note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (cycle, school_id, indicator_id))""",
    """CREATE TABLE rater_ratings (cycle TEXT NOT NULL, school_id TEXT NOT NULL,
        indicator_id TEXT NOT NULL, rater INTEGER NOT NULL, rater_name TEXT NOT NULL,
        level INTEGER NOT NULL, PRIMARY KEY (cycle, school_id, indicator_id, rater))""",
)
F101, F102 = "returns/101_2025-26.xlsx", "returns/102_2025-26.xlsx"
# 102's rows first (the recording's order is kept, not the schools' order); 3 never rated.
V1_RATINGS = [
    (A, "102", QUOTED, "South", "1", "1.1", "Shared vision", 2, "Growing", HOSTILE, "", "",
     F102, None, "", "", "", ""),
    (A, "102", QUOTED, "South", "2", "2.1", "Employer partners", 2, "Growing", "Visits",
     "More visits", "Low", F102, 1, "Reviewed", "Done", "", ""),
    (A, "101", "Lincoln High", "North", "1", "1.1", "Shared vision", 1, "Beginning",
     "Minutes 1.1", "Plan 1.1", "High", F101, None, "", "", "Ana Ruiz", "Ben's view"),
    (A, "101", "Lincoln High", "North", "1", "1.3", "Data use", None, "", "", "", "", F101,
     None, "", "", "Ana Ruiz", ""),
]


def v1_store(path: Path) -> Path:
    """A store as schema 1 wrote it (cycle A), made with that schema's SQL."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    for statement in V1_SCHEMA:
        con.execute(statement)
    con.execute(f"PRAGMA application_id = {0x57425448}")
    con.execute("PRAGMA user_version = 1")
    con.execute("BEGIN")
    con.execute("INSERT INTO cycles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (A, AT_A, "small-test-rubric", "2024-01", small().fingerprint, "0.1.0", 2, 2))
    con.executemany("INSERT INTO indicators VALUES (?, ?, ?, ?, ?)", [
        (A, 1, "1", "1.1", "Shared vision"), (A, 2, "1", "1.2", "Resources"),
        (A, 3, "1", "1.3", "Data use"), (A, 4, "2", "2.1", "Employer partners"),
        (A, 5, "2", "2.2", "Family engagement")])
    con.executemany("INSERT INTO returns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (A, "101", "Lincoln High", F101, "sha-101", "accepted", 1, 5, 0, 0),
        (A, "102", QUOTED, F102, "sha-102", "accepted", 2, 5, 0, 0),
        (A, "103", "Pine School", "", "", "missing", None, None, None, None)])
    con.executemany(f"INSERT INTO ratings VALUES ({', '.join('?' * 18)})", V1_RATINGS)
    con.execute("INSERT INTO rater_ratings VALUES (?, ?, ?, ?, ?, ?)", (A, "101", "1.1", 1,
                                                                         "Ana", 1))
    con.execute("COMMIT")
    con.close()
    return path


def reads_of_cycle_a(path: Path) -> None:
    """What prefill, trends and the export read of cycle A (the store holds B or not)."""
    found = history.previous_answers(path, small(), B, ["101", "102"])
    assert found == {
        "101": Previous(A, "2024-01", {
            "1.1": Answer("1.1", 1, "Beginning", "Minutes 1.1", "Plan 1.1", "High"),
            "1.3": Answer("1.3", None, "")}),
        "102": Previous(A, "2024-01", {
            "1.1": Answer("1.1", 2, "Growing", HOSTILE),
            "2.1": Answer("2.1", 2, "Growing", "Visits", "More visits", "Low")})}
    earlier = history.earlier_cycle(path, B)
    assert (earlier.cycle, earlier.rubric_version) == (A, "2024-01")
    assert earlier.ratings == [
        ("101", "Lincoln High", "1", "1.1", 1, "Beginning", "Plan 1.1", "High"),
        ("101", "Lincoln High", "1", "1.3", None, "", "", ""),
        ("102", QUOTED, "1", "1.1", 2, "Growing", "", ""),
        ("102", QUOTED, "2", "2.1", 2, "Growing", "More visits", "Low")]
    with history.reading(path) as con:
        exported = list(history.history_rows(con))[:4]
    assert exported == [
        ["102", QUOTED, "South", A, "1", "1.1", "Shared vision", 2, "Growing", HOSTILE, "", "",
         F102, "", "", ""],
        ["102", QUOTED, "South", A, "2", "2.1", "Employer partners", 2, "Growing", "Visits",
         "More visits", "Low", F102, 1, "Reviewed", "Done"],
        ["101", "Lincoln High", "North", A, "1", "1.1", "Shared vision", 1, "Beginning",
         "Minutes 1.1", "Plan 1.1", "High", F101, "", "", ""],
        ["101", "Lincoln High", "North", A, "1", "1.3", "Data use", "", "", "", "", "", F101,
         "", "", ""]]


def test_a_schema_1_store_is_read_as_it_is_and_unchanged(tmp_path):
    path = v1_store(tmp_path / "v1.sqlite")
    before = path.read_bytes()
    history.check_store(path)
    assert [c.cycle for c in history.list_cycles(path)] == [A]
    reads_of_cycle_a(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["v1.sqlite"]


def test_recording_into_a_schema_1_store_migrates_it(tmp_path):
    path = v1_store(tmp_path / "v1.sqlite")
    history.record_cycle(path, run_b(), B, AT_B)
    assert rows(path, "PRAGMA user_version") == [(2,)]
    assert rows(path, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
                      "ORDER BY name") == [
        ("table", "answers"), ("table", "cycles"), ("table", "indicators"),
        ("table", "levels"), ("table", "rater_ratings"), ("view", "ratings"),
        ("table", "returns"), ("table", "schools")]
    # The view gives back schema 1's rows of cycle A, column for column.
    assert sorted(rows(path, "SELECT * FROM ratings WHERE cycle = ?", (A,))) == [
        (A, "101", "Lincoln High", "North", "1", "1.1", "Shared vision", 1, "Beginning",
         "Minutes 1.1", "Plan 1.1", "High", F101, None, "", "", "Ana Ruiz", "Ben's view"),
        (A, "101", "Lincoln High", "North", "1", "1.3", "Data use", None, "", "", "", "", F101,
         None, "", "", "Ana Ruiz", ""),
        (A, "102", QUOTED, "South", "1", "1.1", "Shared vision", 2, "Growing", HOSTILE, "", "",
         F102, None, "", "", "", ""),
        (A, "102", QUOTED, "South", "2", "2.1", "Employer partners", 2, "Growing", "Visits",
         "More visits", "Low", F102, 1, "Reviewed", "Done", "", "")]
    assert rows(path, "SELECT * FROM schools WHERE cycle = ? ORDER BY rowid", (A,)) == [
        (A, "102", QUOTED, "South", F102, ""), (A, "101", "Lincoln High", "North", F101,
                                                "Ana Ruiz")]
    # Schema 1 kept the labels of the levels rated only; cycle B records the rubric's.
    assert rows(path, "SELECT * FROM levels ORDER BY cycle, level") == [
        (A, 1, "Beginning"), (A, 2, "Growing"),
        (B, 1, "Beginning"), (B, 2, "Growing"), (B, 3, "Strong Practice")]
    assert rows(path, "SELECT cycle, count(*) FROM ratings GROUP BY cycle") == [(A, 4), (B, 10)]
    assert rows(path, "SELECT * FROM rater_ratings") == [(A, "101", "1.1", 1, "Ana", 1)]
    assert [c.cycle for c in history.list_cycles(path)] == [A, B]
    reads_of_cycle_a(path)
    history.check_store(path)


def test_a_migrating_recording_has_twenty_six_statements(tmp_path, monkeypatch):
    seen = fail_at(monkeypatch, 0)
    history.record_cycle(v1_store(tmp_path / "v1.sqlite"), run_b(), B, AT_B)
    # BEGIN, 9 migrate (3 CREATE TABLE, 3 INSERT ... SELECT, DROP, CREATE VIEW, the version),
    # then the 16 of a recording into a schema 2 store after BEGIN
    assert seen["n"] == 26


def test_a_failure_while_migrating_leaves_the_schema_1_store_as_it_was(tmp_path, monkeypatch):
    path = v1_store(tmp_path / "v1.sqlite")
    failing_each_statement_leaves(path, 26, monkeypatch)
    assert rows(path, "PRAGMA user_version") == [(1,)]
    reads_of_cycle_a(path)


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_process_killed_while_migrating_leaves_the_schema_1_store_as_it_was(tmp_path):
    path = v1_store(tmp_path / "v1.sqlite")
    before_bytes, before = path.read_bytes(), dump(path)
    for k in (8, 9, 10):  # after the copies, after dropping the table, before the version
        done = subprocess.run([sys.executable, "-c", KILLER, str(HERE), str(path), str(k)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == -9, (k, done.stdout, done.stderr)
        assert path.read_bytes() == before_bytes, k
        assert dump(path) == before, k
    reads_of_cycle_a(path)


# -- files that are not usable stores -------------------------------------------------------

def refused(path: Path) -> str:
    """check_store and record_cycle both refuse `path`, leaving it and its folder as they
    were; the message."""
    before, listing = path.read_bytes(), sorted(os.listdir(path.parent))
    with pytest.raises(StoreError) as caught:
        history.check_store(path)
    with pytest.raises(StoreError) as again:
        history.record_cycle(path, run_b(), B, AT_B)
    assert str(again.value) == str(caught.value)
    with pytest.raises(StoreError):
        history.list_cycles(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == listing
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(random.Random(13).randbytes(5000))
    assert refused(path) == (
        f"{path} is not a workbook-tool history store (it is not an SQLite database); give "
        "the store's path, or a new file name to start one")


def test_a_text_file_is_refused(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_text("cycle,school_id\n2025-26,101\n", encoding="utf-8")
    assert "is not a workbook-tool history store" in refused(path)


def test_a_store_cut_short_is_refused(store, tmp_path):
    whole = store.read_bytes()
    assert len(whole) > 8192
    for size, why in ((50, "it is shorter than an SQLite header, perhaps cut off"),
                      (len(whole) // 2, "SQLite says: database disk image is malformed"),
                      (4096, "SQLite says: database disk image is malformed")):
        path = tmp_path / f"cut{size}.sqlite"
        path.write_bytes(whole[:size])
        assert refused(path) == (f"the history store {path} is damaged ({why}); restore it "
                                 "from a backup")


def test_a_store_with_a_damaged_page_is_refused(store, tmp_path):
    whole = store.read_bytes()
    path = tmp_path / "damaged.sqlite"
    path.write_bytes(whole[:8192] + b"\xff" * 4096 + whole[12288:])
    message = refused(path)
    assert message.startswith(f"the history store {path} is damaged (SQLite says: ")
    assert message.endswith("); restore it from a backup")


def test_another_applications_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE ratings (school_id TEXT, level INTEGER)")
    con.execute("INSERT INTO ratings VALUES ('101', 3)")
    con.commit()
    con.close()
    assert refused(path) == (
        f"{path} is an SQLite database of another application, not a workbook-tool history "
        "store; give another file name")


def test_a_store_of_a_newer_schema_is_refused(store):
    con = sqlite3.connect(store)
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    assert refused(store) == (
        f"the history store {store} was written by a newer workbook-tool (store schema 3; "
        "this version knows up to 2); upgrade workbook-tool to use it")


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(StoreError) as caught:
        history.check_store(tmp_path)
    assert str(caught.value) == (f"{tmp_path} is a folder, not a history store; give a file "
                                 "name such as history.sqlite")


def test_a_missing_or_empty_file_is_a_new_store_and_checking_writes_nothing(tmp_path):
    missing, empty = tmp_path / "missing.sqlite", tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    history.check_store(missing)
    history.check_store(empty)
    assert sorted(os.listdir(tmp_path)) == ["empty.sqlite"]
    assert empty.read_bytes() == b""
    history.record_cycle(empty, run_a(), A, AT_A)
    assert rows(empty, "SELECT cycle FROM cycles") == [(A,)]


def test_checking_a_store_writes_nothing(store):
    before, listing = store.read_bytes(), sorted(os.listdir(store.parent))
    history.check_store(store)
    history.list_cycles(store)
    assert store.read_bytes() == before
    assert sorted(os.listdir(store.parent)) == listing == ["history.sqlite"]


# -- reading: history show, prefill, trends -----------------------------------------------

def test_cycles_are_listed_in_recording_order(store):
    history.record_cycle(store, run_b(), B, AT_B)
    fingerprint = small().fingerprint
    assert [c.to_json() for c in history.list_cycles(store)] == [
        {"cycle": A, "recorded_at": AT_A, "rubric_id": "small-test-rubric",
         "rubric_version": "2024-01", "rubric_fingerprint": fingerprint,
         "tool_version": "0.1.0", "schools_accepted": 2, "returns": 2},
        {"cycle": B, "recorded_at": AT_B, "rubric_id": "small-test-rubric",
         "rubric_version": "2024-01", "rubric_fingerprint": fingerprint,
         "tool_version": "0.1.0", "schools_accepted": 2, "returns": 3}]


def test_a_missing_store_cannot_be_shown(tmp_path):
    with pytest.raises(StoreError) as caught:
        history.list_cycles(tmp_path / "nope.sqlite")
    assert str(caught.value) == (f"there is no history store at {tmp_path / 'nope.sqlite'}; "
                                 "record one with consolidate --history")


def test_prefill_takes_each_schools_latest_accepted_cycle(store):
    history.record_cycle(store, run_b(), B, AT_B)
    found = history.previous_answers(store, small(), "2027-28", ["101", "102", "103", "104"])
    assert sorted(found) == ["101", "102", "103"]
    # 101 was rejected in B: its answers come from A.
    assert (found["101"].cycle, found["101"].rubric_version) == (A, "2024-01")
    assert found["101"].answers["1.3"] == Answer("1.3", 3, "Strong Practice", "Minutes 1.3",
                                                 "Plan 1.3", "High")
    assert found["101"].answers["2.1"] == Answer("2.1", None, "", "Minutes 2.1", "Plan 2.1",
                                                 "High")
    assert found["102"] == Previous(B, "2024-01", {
        "1.1": Answer("1.1", 3, "Strong Practice", "New 1.1"),
        "1.2": Answer("1.2", 2, "Growing", "New 1.2"),
        "1.3": Answer("1.3", 1, "Beginning", "New 1.3"),
        "2.1": Answer("2.1", 2, "Growing", "New 2.1"),
        "2.2": Answer("2.2", 3, "Strong Practice", "New 2.2")})
    assert found["103"].cycle == B


def test_prefill_never_takes_the_cycle_being_generated(store):
    history.record_cycle(store, run_b(), B, AT_B)
    found = history.previous_answers(store, small(), B, ["102", "103"])
    assert {s: p.cycle for s, p in found.items()} == {"102": A}


def test_the_most_recent_cycle_is_the_last_recorded_not_the_greatest_name(tmp_path):
    path = tmp_path / "h.sqlite"
    history.record_cycle(path, run_b(), B, "2026-01-01T00:00:00Z")
    history.record_cycle(path, run_a(), A, "2026-02-01T00:00:00Z")
    assert history.previous_answers(path, small(), "2030", ["102"])["102"].cycle == A
    assert history.earlier_cycle(path, "2030").cycle == A


def test_prefill_from_a_chosen_cycle_only(store):
    history.record_cycle(store, run_b(), B, AT_B)
    found = history.previous_answers(store, small(), "2027-28", ["101", "102", "103"], A)
    assert {s: p.cycle for s, p in found.items()} == {"101": A, "102": A}
    with pytest.raises(StoreError) as caught:
        history.previous_answers(store, small(), "2027-28", ["101"], "2019-20")
    assert str(caught.value) == (
        f"the history store {store} has no cycle '2019-20'; `workbook-tool history show` "
        "lists the cycles it holds")


def test_prefill_from_another_rubric_with_the_same_indicators(store):
    renamed = replace(small(), version="2025-01", fingerprint="f" * 64)
    found = history.previous_answers(store, renamed, B, ["101"])
    assert (found["101"].cycle, found["101"].rubric_version) == (A, "2024-01")


def test_prefill_from_a_rubric_lacking_indicators_is_refused(store):
    rubric = small()
    extra = replace(rubric.domains[1].sections[0].indicators[0], id="2.9", title="New")
    section = replace(rubric.domains[1].sections[0],
                      indicators=(*rubric.domains[1].sections[0].indicators, extra))
    grown = replace(rubric, fingerprint="e" * 64,
                    domains=(rubric.domains[0], replace(rubric.domains[1],
                                                        sections=(section,))))
    assert [i.id for i in grown.indicators] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.9"]
    with pytest.raises(StoreError) as caught:
        history.previous_answers(store, grown, B, ["101"])
    assert str(caught.value) == (
        f"cycle '2025-26' of the history store {store} was recorded with rubric version "
        "2024-01, which lacks indicator(s) 2.9 of this rubric; its answers cannot prefill "
        "these workbooks")
    # A school without answers in that cycle does not need it.
    assert history.previous_answers(store, grown, B, ["103"]) == {}


def test_trends_get_the_most_recent_other_cycle(store):
    assert history.earlier_cycle(store, A) is None
    history.record_cycle(store, run_b(), B, AT_B)
    earlier = history.earlier_cycle(store, B)
    assert (earlier.cycle, earlier.rubric_version, len(earlier.ratings)) == (A, "2024-01", 10)
    assert earlier.ratings[0] == history.EarlierRating(
        "101", "Lincoln High", "1", "1.1", 1, "Beginning", "Plan 1.1", "High")
    assert earlier.ratings[8] == history.EarlierRating(
        "102", QUOTED, "2", "2.1", 2, "Growing", f"{QUOTED} 2.1", "")
    assert history.earlier_cycle(store, A).cycle == B
    assert history.earlier_cycle(store.parent / "none.sqlite", B) is None


def test_rows_deleted_by_hand_from_the_joined_tables_leave_the_answers_readable(store):
    con = sqlite3.connect(store)
    con.execute("DELETE FROM schools WHERE school_id = '101'")
    con.execute("DELETE FROM indicators WHERE indicator_id = '1.1'")
    con.execute("DELETE FROM levels WHERE level = 1")
    con.commit()
    con.close()
    assert rows(store, "SELECT school_name, domain_id, indicator, level, label, source_file "
                       "FROM ratings WHERE school_id = '101' AND indicator_id = '1.1'") == [
        (None, None, None, 1, "", None)]
    earlier = history.earlier_cycle(store, B)
    assert earlier.ratings[:2] == [
        ("101", "", "", "1.1", 1, "", "Plan 1.1", "High"),
        ("101", "", "1", "1.2", 2, "Growing", "Plan 1.2", "High")]
    assert history.previous_answers(store, small(), B, ["101"])["101"].answers["1.1"] == \
        Answer("1.1", 1, "", "Minutes 1.1", "Plan 1.1", "High")


# -- export ---------------------------------------------------------------------------------

def test_export_writes_every_cycle(store, tmp_path):
    history.record_cycle(store, run_b(), B, AT_B)
    out = tmp_path / "exports"
    written = history.export_history(store, out)
    assert sorted(written) == EXPORTED
    text = (out / "history.csv").read_text(encoding="utf-8").splitlines()
    assert text[0] == ("school_id,school_name,network,cycle,domain_id,indicator_id,indicator,"
                       "level,label,evidence,next_steps,priority,source_file,previous_level,"
                       "review,followup")
    assert text[1] == ("101,Lincoln High,North,2025-26,1,1.1,Shared vision,1,Beginning,"
                       "Minutes 1.1,Plan 1.1,High,returns/101_2025-26.xlsx,,,")
    assert text[4] == ("101,Lincoln High,North,2025-26,2,2.1,Employer partners,,,"
                       "Minutes 2.1,Plan 2.1,High,returns/101_2025-26.xlsx,,,")
    assert text[11] == ("102,\"O'Keefe \"\"Arts\"\" Academy\",South,2026-27,1,1.1,"
                        "Shared vision,3,Strong Practice,New 1.1,,,returns/102_2026-27.xlsx,,,")
    assert len(text) == 21
    assert (out / "history_returns.csv").read_text(encoding="utf-8") == (
        "cycle,school_id,school_name,file,sha256,status,rated,total,errors,warnings\n"
        "2025-26,101,Lincoln High,returns/101_2025-26.xlsx,sha-101-2025-26,"
        "accepted,4,5,0,0\n"
        "2025-26,102,\"O'Keefe \"\"Arts\"\" Academy\",returns/102_2025-26.xlsx,"
        "sha-102-2025-26,accepted,5,5,0,0\n"
        "2025-26,103,Pine School,,,missing,,,,\n"
        "2026-27,101,Lincoln High,returns/101_2026-27.xlsx,sha-101-2026-27,rejected,5,5,1,0\n"
        "2026-27,102,\"O'Keefe \"\"Arts\"\" Academy\",returns/102_2026-27.xlsx,"
        "sha-102-2026-27,accepted,5,5,0,0\n"
        "2026-27,103,Pine School,returns/103_2026-27.xlsx,sha-103-2026-27,accepted,5,5,0,0\n")


def test_an_export_that_fails_leaves_the_earlier_export(store, tmp_path, monkeypatch):
    out = tmp_path / "exports"
    history.export_history(store, out)
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}
    history.record_cycle(store, run_b(), B, AT_B)
    real = history.write_csv

    def fail_second(path, columns, rows_):
        if Path(path).name == "history_returns.csv":
            raise OSError(28, "No space left on device")
        real(path, columns, rows_)

    monkeypatch.setattr(history, "write_csv", fail_second)
    with pytest.raises(OSError):
        history.export_history(store, out)
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == before
    assert sorted(before) == EXPORTED


def test_history_parquet_is_typed_and_unescaped(store, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    history.record_cycle(store, run_b(), B, AT_B)
    history.export_history(store, tmp_path)
    table = pq.read_table(tmp_path / "history.parquet")
    assert table.column_names[-4:] == ["source_file", "previous_level", "review", "followup"]
    assert str(table.schema.field("level").type) == "int16"
    data = table.to_pydict()
    assert len(data["level"]) == 20
    assert data["level"][:5] == [1, 2, 3, None, 2]
    assert data["cycle"][10] == B
    assert data["evidence"][5] == "'; DROP TABLE ratings; -- 1.1"


def test_copy_of_a_store_is_a_store(store, tmp_path):
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(store, copy)
    assert [c.cycle for c in history.list_cycles(copy)] == [A]


def test_a_store_in_a_folder_that_does_not_exist_is_refused(tmp_path):
    path = tmp_path / "no-such-folder" / "h.sqlite"
    message = (f"the folder of the history store {path} does not exist; create it first, or "
               "give another path")
    with pytest.raises(StoreError) as caught:
        history.check_store(path)
    assert str(caught.value) == message
    with pytest.raises(StoreError) as again:
        history.record_cycle(path, run_a(), A, AT_A)
    assert str(again.value) == message
    assert not path.parent.exists()


# -- recording alongside the outputs (history.record_alongside) -----------------------------

def test_the_recording_is_committed_only_after_the_work_has_returned(store, monkeypatch):
    seen, statements, rows_in = {}, [], threading.Event()
    many = history._execute_many

    def counted(con, sql, rows):
        many(con, sql, rows)
        statements.append(sql.split(" (")[0])
        if sql.startswith("INSERT INTO rater_ratings"):  # the last rows of a recording
            rows_in.set()

    monkeypatch.setattr(history, "_execute_many", counted)

    def work():
        assert rows_in.wait(10)
        time.sleep(0.3)  # time enough for a COMMIT that did not wait for the work
        # Another connection, as `history show` would be, while the outputs are written.
        seen["during"] = [c.cycle for c in history.list_cycles(store)]
        return "outputs"

    result, recorded = history.record_alongside(store, run_b(), B, work)
    assert result == "outputs"
    assert statements[-1] == "INSERT INTO rater_ratings VALUES"
    assert seen["during"] == [A]
    assert recorded.cycle.cycle == B and recorded.replaced is False
    assert [c.cycle for c in history.list_cycles(store)] == [A, B]
    assert rows(store, "SELECT school_id, level FROM ratings WHERE cycle = ? AND "
                "indicator_id = '1.3' ORDER BY school_id", (B,)) == [("102", 1), ("103", 1)]


def test_work_that_fails_leaves_the_store_as_it_was(store):
    before_bytes, before = store.read_bytes(), dump(store)

    def work():
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        history.record_alongside(store, run_b(), B, work)
    assert dump(store) == before
    assert store.read_bytes() == before_bytes
    assert [c.cycle for c in history.list_cycles(store)] == [A]


def test_a_recording_that_fails_is_raised_after_the_work_is_done(store, monkeypatch):
    before = dump(store)
    fail_at(monkeypatch, 11, sqlite3.OperationalError("disk I/O error"))
    done = []
    with pytest.raises(StoreError, match="disk I/O error"):
        history.record_alongside(store, run_b(), B, lambda: done.append("outputs"))
    assert done == ["outputs"]
    assert dump(store) == before


def test_texts_spilled_to_disk_are_read_one_reader_at_a_time(tmp_path):
    """The recording thread and the outputs read spilled texts from one file: a second
    reader must wait until the first has read its record (else it moves the position)."""
    from workbook_tool.consolidate import TextSpill

    spill = TextSpill(budget=0)
    first, second = spill.hold(("evidence one", "plan one")), spill.hold(("two", "2"))
    real = spill.file
    inside, tried = threading.Event(), threading.Event()

    class Pausing:
        def seek(self, offset, *args):
            return real.seek(offset, *args)

        def read(self, size):
            if threading.current_thread() is threading.main_thread():
                inside.set()
                tried.wait(0.5)  # the other reader runs now, unless it has to wait
            else:
                tried.set()
            return real.read(size)

    spill.file = Pausing()
    got = {}
    other = threading.Thread(target=lambda: got.update(second=spill.load(second)))
    inside_first = threading.Thread(target=lambda: (inside.wait(), other.start()))
    inside_first.start()
    got["first"] = spill.load(first)
    inside_first.join()
    other.join()
    assert got == {"first": ("evidence one", "plan one"), "second": ("two", "2")}
