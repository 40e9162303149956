"""`consolidate --history` and `workbook-tool history show / export` through click's
CliRunner, with real returns of the small rubric (made by the writer, filled as a
spreadsheet program would). The store is read back with the sqlite3 module."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import random
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from returns_kit import (
    SCHOOL,
    SMALL_RUBRIC,
    answers_for,
    consolidate_cli,
    csv_rows,
    make_return,
    small_rubric,
)
from workbook_tool import history
from workbook_tool.cli import main

ROSTER = "school_id,school_name\nS1,Alpha School\nS2,Beta School\n"
CYCLE = "2024-25"  # the cycle returns_kit's workbooks are made for
AT = "2026-06-30T12:00:00Z"


@pytest.fixture
def fixed_time(monkeypatch):
    monkeypatch.setattr(history, "now", lambda: AT)


def filled() -> bytes:
    return make_return(answers=answers_for(small_rubric()))


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args))


def store_rows(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_history_needs_a_cycle(tmp_path):
    store = tmp_path / "h.sqlite"
    result, out = consolidate_cli(tmp_path, {"a.xlsx": filled()}, ROSTER,
                                  "--history", str(store))
    assert result.exit_code == 2
    assert result.stderr == ("Error: --history records a cycle under its name: give --cycle "
                             "too, e.g. --cycle 2026-27\n")
    assert not out.exists() and not store.exists()


def test_a_bad_store_stops_the_run_before_anything_is_written(tmp_path):
    store = tmp_path / "h.sqlite"
    noise = random.Random(7).randbytes(3000)
    store.write_bytes(noise)
    result, out = consolidate_cli(tmp_path, {"a.xlsx": filled()}, ROSTER,
                                  "--cycle", CYCLE, "--history", str(store))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {store} is not a workbook-tool history store (it is not "
                             "an SQLite database); give the store's path, or a new file name "
                             "to start one\n")
    assert not out.exists()
    assert store.read_bytes() == noise
    assert sorted(os.listdir(tmp_path)) == ["h.sqlite", "returns", "roster.csv"]


def test_a_store_of_a_newer_schema_stops_the_run(tmp_path):
    store = tmp_path / "h.sqlite"
    con = sqlite3.connect(store)
    con.execute(f"PRAGMA application_id = {0x57425448}")
    con.execute("PRAGMA user_version = 5")
    con.execute("CREATE TABLE cycles (cycle TEXT)")
    con.commit()
    con.close()
    before = store.read_bytes()
    result, out = consolidate_cli(tmp_path, {"a.xlsx": filled()}, ROSTER,
                                  "--cycle", CYCLE, "--history", str(store))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: the history store {store} was written by a newer "
                             "workbook-tool (store schema 5; this version knows up to 2); "
                             "upgrade workbook-tool to use it\n")
    assert not out.exists() and store.read_bytes() == before


def test_consolidate_records_the_cycle_and_says_so(tmp_path, fixed_time):
    store = tmp_path / "history.sqlite"
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "a.xlsx").write_bytes(filled())
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    args = ["consolidate", str(returns), "--roster", str(tmp_path / "roster.csv"),
            "--out", str(tmp_path / "out"), "--rubric", str(SMALL_RUBRIC), "--jobs", "1",
            "--cycle", CYCLE, "--history", str(store)]
    first = run_cli(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1] == (
        f"Recorded cycle 2024-25 in the history store {store} (1 school(s) accepted, "
        "1 return(s)).")
    again = run_cli(*args, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["history"] == {
        "store": str(store), "recorded": True, "replaced": True, "cycle": "2024-25",
        "recorded_at": AT, "rubric_id": "small-test-rubric", "rubric_version": "2024-01",
        "rubric_fingerprint": small_rubric().fingerprint, "tool_version": "0.1.0",
        "schools_accepted": 1, "returns": 1}
    assert store_rows(store, "SELECT cycle, schools_accepted, returns FROM cycles") == [
        ("2024-25", 1, 1)]
    assert store_rows(store, "SELECT school_id, status, file FROM returns ORDER BY rowid") == [
        ("S1", "accepted", f"{returns}/a.xlsx"), ("S2", "missing", "")]
    assert store_rows(store, "SELECT indicator_id, level, label, evidence, next_steps, "
                             "priority FROM ratings ORDER BY rowid") == [
        ("1.1", 1, "Beginning", "Evidence for 1.1", "Next for 1.1", "High"),
        ("1.2", 2, "Growing", "Evidence for 1.2", "Next for 1.2", "Medium"),
        ("1.3", 3, "Strong Practice", "Evidence for 1.3", "Next for 1.3", "Low"),
        ("2.1", 1, "Beginning", "Evidence for 2.1", "Next for 2.1", "High"),
        ("2.2", 2, "Growing", "Evidence for 2.2", "Next for 2.2", "Medium")]
    human = run_cli(*args)
    assert human.stdout.splitlines()[-1] == (
        f"Recorded cycle 2024-25 in the history store {store}, replacing its earlier record "
        "(1 school(s) accepted, 1 return(s)).")


def test_without_history_nothing_is_recorded_or_said(tmp_path):
    result, _ = consolidate_cli(tmp_path, {"a.xlsx": filled()}, ROSTER, "--cycle", CYCLE,
                                  "--json")
    assert result.exit_code == 0
    assert "history" not in json.loads(result.stdout)


def test_a_busy_store_is_reported_after_the_outputs(tmp_path, monkeypatch):
    store = tmp_path / "h.sqlite"
    first, _ = consolidate_cli(tmp_path / "one", {"a.xlsx": filled()}, ROSTER,
                               "--cycle", CYCLE, "--history", str(store))
    assert first.exit_code == 0
    monkeypatch.setattr(history, "BUSY_SECONDS", 0.1)
    other = sqlite3.connect(store, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        result, out = consolidate_cli(tmp_path / "two", {"a.xlsx": filled()}, ROSTER,
                                      "--cycle", CYCLE, "--history", str(store))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: the history store {store} is busy: another run is writing to it; try again "
        f"when it has finished (the outputs in {out} were written, but cycle 2024-25 was not "
        "recorded: run again to record it)\n")
    assert (out / "ratings.csv").exists()


def two_cycles(tmp_path: Path) -> Path:
    """A store with cycle 2024-25 (S1 accepted) recorded twice at fixed times."""
    store = tmp_path / "history.sqlite"
    run = history.record_cycle
    from workbook_tool.consolidate import consolidate
    from workbook_tool.reader import Limits, read_return

    rubric = small_rubric()
    result = read_return(filled(), "returns/a.xlsx", rubric, Limits())
    roster = [SCHOOL]
    run(store, consolidate([result], rubric, roster, CYCLE), CYCLE, "2025-06-30T09:00:00Z")
    run(store, consolidate([], rubric, roster, "2025-26"), "2025-26", "2026-06-30T09:30:00Z")
    return store


def test_history_show_lists_the_cycles(tmp_path):
    store = two_cycles(tmp_path)
    shown = run_cli("history", "show", str(store))
    assert shown.exit_code == 0
    assert shown.stdout == (
        "cycle    recorded at (UTC)    rubric version  schools accepted  returns\n"
        "2024-25  2025-06-30 09:00:00  2024-01         1                 1\n"
        "2025-26  2026-06-30 09:30:00  2024-01         0                 0\n")
    as_json = run_cli("history", "show", str(store), "--json")
    assert json.loads(as_json.stdout) == {"store": str(store), "cycles": [
        {"cycle": "2024-25", "recorded_at": "2025-06-30T09:00:00Z",
         "rubric_id": "small-test-rubric", "rubric_version": "2024-01",
         "rubric_fingerprint": small_rubric().fingerprint, "tool_version": "0.1.0",
         "schools_accepted": 1, "returns": 1},
        {"cycle": "2025-26", "recorded_at": "2026-06-30T09:30:00Z",
         "rubric_id": "small-test-rubric", "rubric_version": "2024-01",
         "rubric_fingerprint": small_rubric().fingerprint, "tool_version": "0.1.0",
         "schools_accepted": 0, "returns": 0}]}


def test_history_show_of_an_empty_or_missing_store(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    shown = run_cli("history", "show", str(empty))
    assert (shown.exit_code, shown.stdout) == (0, f"{empty}: no cycle recorded yet.\n")
    missing = run_cli("history", "show", str(tmp_path / "none.sqlite"))
    assert missing.exit_code == 2
    assert missing.stderr == (f"Error: there is no history store at {tmp_path}/none.sqlite; "
                              "record one with consolidate --history\n")
    assert not (tmp_path / "none.sqlite").exists()


def test_history_show_refuses_a_damaged_store(tmp_path):
    store = two_cycles(tmp_path)
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(store.read_bytes()[:4096])
    shown = run_cli("history", "show", str(cut))
    assert shown.exit_code == 2
    assert shown.stderr == (f"Error: the history store {cut} is damaged (SQLite says: "
                            "database disk image is malformed); restore it from a backup\n")


def test_history_export_writes_the_csv_files(tmp_path):
    store = two_cycles(tmp_path)
    out = tmp_path / "exports"
    done = run_cli("history", "export", str(store), "--out", str(out))
    assert done.exit_code == 0, done.output
    if importlib.util.find_spec("pyarrow") is not None:
        assert done.stdout == (f"Wrote history.csv, history_returns.csv, history.parquet to "
                               f"{out}\n")
        assert sorted(os.listdir(out)) == ["history.csv", "history.parquet",
                                           "history_returns.csv"]
    else:
        assert done.stdout == f"Wrote history.csv, history_returns.csv to {out}\n"
        assert sorted(os.listdir(out)) == ["history.csv", "history_returns.csv"]
    ratings = csv_rows(out / "history.csv")
    assert [(r["cycle"], r["school_id"], r["indicator_id"], r["level"], r["label"],
             r["evidence"], r["source_file"], r["previous_level"], r["review"])
            for r in ratings] == [
        ("2024-25", "S1", "1.1", "1", "Beginning", "Evidence for 1.1", "returns/a.xlsx", "", ""),
        ("2024-25", "S1", "1.2", "2", "Growing", "Evidence for 1.2", "returns/a.xlsx", "", ""),
        ("2024-25", "S1", "1.3", "3", "Strong Practice", "Evidence for 1.3", "returns/a.xlsx",
         "", ""),
        ("2024-25", "S1", "2.1", "1", "Beginning", "Evidence for 2.1", "returns/a.xlsx", "", ""),
        ("2024-25", "S1", "2.2", "2", "Growing", "Evidence for 2.2", "returns/a.xlsx", "", "")]
    assert [tuple(r.values()) for r in csv_rows(out / "history_returns.csv")] == [
        ("2024-25", "S1", "Alpha School", "returns/a.xlsx", hashlib.sha256(filled()).hexdigest(),
         "accepted", "5", "5", "0", "0"),
        ("2025-26", "S1", "Alpha School", "", "", "missing", "", "", "", "")]


def test_history_export_needs_out(tmp_path):
    done = run_cli("history", "export", str(two_cycles(tmp_path)))
    assert done.exit_code == 2
    assert "Missing option '--out'" in done.stderr


def test_outputs_that_fail_leave_the_store_as_it_was(tmp_path, monkeypatch):
    store = tmp_path / "h.sqlite"
    first, _ = consolidate_cli(tmp_path / "one", {"a.xlsx": filled()}, ROSTER,
                               "--cycle", CYCLE, "--history", str(store))
    assert first.exit_code == 0
    before = store.read_bytes()
    import workbook_tool.summary as summary

    def full_disk(run, staging):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(summary, "write_exports", full_disk)
    result, out = consolidate_cli(tmp_path / "two", {"a.xlsx": filled()}, ROSTER,
                                  "--cycle", "2025-26", "--history", str(store))
    assert (result.exit_code, result.stderr) == (2, "Error: No space left on device\n")
    assert not (out / "ratings.csv").exists()
    assert store.read_bytes() == before
    assert store_rows(store, "SELECT cycle FROM cycles") == [(CYCLE,)]
