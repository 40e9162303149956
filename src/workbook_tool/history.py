"""The history store: every consolidated cycle in one SQLite file (standard library sqlite3).

A store is an SQLite database marked as ours by `PRAGMA application_id` (APPLICATION_ID)
with its schema version in `PRAGMA user_version` (SCHEMA_VERSION: 2; a store of schema 1
is read as it is and migrated by its next recording). It runs in WAL mode. Tables (every
value a parameter, never formatted into SQL):

- `cycles`: one row per cycle recorded: when, the rubric (id, version, fingerprint), the
  tool's version, how many schools were accepted and how many return files were read.
- `indicators`: the rubric's indicators at that cycle, in rubric order (to tell whether
  another rubric's answers still fit).
- `levels`: the rubric's levels at that cycle and their labels.
- `returns`: the rows of returns.csv (missing schools too).
- `schools`: per accepted return, what all its ratings share (name, network, file, who
  completed the workbook).
- `answers`: each answer of each accepted return, with the team's agreement note.
- `rater_ratings`: each team rater's level of each indicator (team workbooks only).
- `ratings`: a view with the rows of ratings.csv (accepted returns only), then who
  completed the workbook and the agreement note: schema 1's table, column for column.

Recording a cycle is one transaction (BEGIN IMMEDIATE) that deletes that cycle's rows and
inserts the new ones: a failure or a killed process at any point leaves the store as it
was. "The most recent cycle" is the one recorded last (greatest recorded_at, then the later
insertion), whatever its name.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

from . import __version__
from .consolidate import (
    ACCEPTED,
    ACCEPTED_WITH_WARNINGS,
    MISSING,
    RATINGS_COLUMNS,
    RETURNS_COLUMNS,
    Consolidation,
)
from .files import display_name, write_csv
from .problems import NothingDone
from .reader.model import Answer, Previous
from .rubric import Rubric

APPLICATION_ID = 0x57425448  # "WBTH"
SCHEMA_VERSION = 2
BUSY_SECONDS = 30.0  # how long a recording waits for another run's transaction to end

HISTORY_CSV = "history.csv"
HISTORY_RETURNS_CSV = "history_returns.csv"
HISTORY_PARQUET = "history.parquet"  # where pyarrow is installed, as ratings.parquet
EXPORTS = (HISTORY_CSV, HISTORY_RETURNS_CSV, HISTORY_PARQUET)

# Columns the Answer of a prefilled workbook carries, appended to ratings.csv by the reader.
ANSWER_COLUMNS = ("previous_level", "review", "followup")
HISTORY_COLUMNS = RATINGS_COLUMNS + tuple(c for c in ANSWER_COLUMNS if c not in RATINGS_COLUMNS)
HISTORY_RETURNS_COLUMNS = ("cycle", *RETURNS_COLUMNS)

T = TypeVar("T")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100

_RATINGS_FIELDS = ("cycle", "school_id", "school_name", "network", "domain_id", "indicator_id",
                   "indicator", "level", "label", "evidence", "next_steps", "priority",
                   "source_file", "previous_level", "review", "followup", "completed_by",
                   "agreement_note")
# Each column of `ratings` (schema 2: a view) from the base tables, joined as in _JOINED.
_FROM_BASE = {
    "cycle": "a.cycle", "school_id": "a.school_id", "school_name": "s.school_name",
    "network": "s.network", "domain_id": "i.domain_id", "indicator_id": "a.indicator_id",
    "indicator": "i.indicator", "level": "a.level", "label": "coalesce(l.label, '')",
    "evidence": "a.evidence", "next_steps": "a.next_steps", "priority": "a.priority",
    "source_file": "s.source_file", "previous_level": "a.previous_level",
    "review": "a.review", "followup": "a.followup", "completed_by": "s.completed_by",
    "agreement_note": "a.agreement_note"}
_JOINED = """answers a
    LEFT JOIN schools s ON s.cycle = a.cycle AND s.school_id = a.school_id
    LEFT JOIN indicators i ON i.cycle = a.cycle AND i.indicator_id = a.indicator_id
    LEFT JOIN levels l ON l.cycle = a.cycle AND l.level = a.level"""
RATINGS_VIEW = (f"CREATE VIEW ratings ({', '.join(_RATINGS_FIELDS)}) AS\n"
                f"    SELECT {', '.join(_FROM_BASE[c] for c in _RATINGS_FIELDS)}\n"
                f"    FROM {_JOINED}")

# Schema 2 keeps each fact once: the answers (11 columns, ~35 % fewer bytes a rating than
# schema 1's `ratings` table, so less to write and checkpoint), the facts of each accepted
# return in `schools` and the level labels in `levels`. The view `ratings` joins them back
# into schema 1's table, column for column, for every query written against it.
NEW_IN_2 = (
    """CREATE TABLE schools (
        cycle TEXT NOT NULL,
        school_id TEXT NOT NULL,
        school_name TEXT NOT NULL,
        network TEXT NOT NULL,
        source_file TEXT NOT NULL,
        completed_by TEXT NOT NULL,
        PRIMARY KEY (cycle, school_id))""",
    """CREATE TABLE levels (
        cycle TEXT NOT NULL,
        level INTEGER NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (cycle, level))""",
    """CREATE TABLE answers (
        cycle TEXT NOT NULL,
        school_id TEXT NOT NULL,
        indicator_id TEXT NOT NULL,
        level INTEGER,
        evidence TEXT NOT NULL,
        next_steps TEXT NOT NULL,
        priority TEXT NOT NULL,
        previous_level INTEGER,
        review TEXT NOT NULL,
        followup TEXT NOT NULL,
        agreement_note TEXT NOT NULL,
        PRIMARY KEY (cycle, school_id, indicator_id))""",
    RATINGS_VIEW,
)

# A store of schema 1 is read as it is and moved to schema 2 by the next recording, inside
# its transaction. Schema 1 did not record the rubric's levels: its `levels` are those rated.
MIGRATE_1_TO_2 = (
    *NEW_IN_2[:3],
    """INSERT INTO schools SELECT cycle, school_id, school_name, network, source_file,
        completed_by FROM ratings
        WHERE rowid IN (SELECT min(rowid) FROM ratings GROUP BY cycle, school_id)""",
    """INSERT INTO levels SELECT cycle, level, label FROM ratings
        WHERE rowid IN (SELECT min(rowid) FROM ratings WHERE level IS NOT NULL
                        GROUP BY cycle, level)""",
    """INSERT INTO answers SELECT cycle, school_id, indicator_id, level, evidence, next_steps,
        priority, previous_level, review, followup, agreement_note FROM ratings
        ORDER BY rowid""",
    "DROP TABLE ratings",
    RATINGS_VIEW,
    "PRAGMA user_version = 2",
)

SCHEMA = (
    """CREATE TABLE cycles (
        cycle TEXT PRIMARY KEY,
        recorded_at TEXT NOT NULL,
        rubric_id TEXT NOT NULL,
        rubric_version TEXT NOT NULL,
        rubric_fingerprint TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        schools_accepted INTEGER NOT NULL,
        returns INTEGER NOT NULL)""",
    """CREATE TABLE indicators (
        cycle TEXT NOT NULL,
        position INTEGER NOT NULL,
        domain_id TEXT NOT NULL,
        indicator_id TEXT NOT NULL,
        indicator TEXT NOT NULL,
        PRIMARY KEY (cycle, indicator_id))""",
    """CREATE TABLE returns (
        cycle TEXT NOT NULL,
        school_id TEXT NOT NULL,
        school_name TEXT NOT NULL,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        rated INTEGER,
        total INTEGER,
        errors INTEGER,
        warnings INTEGER)""",
    "CREATE INDEX returns_cycle ON returns (cycle, school_id)",
    *NEW_IN_2,
    """CREATE TABLE rater_ratings (
        cycle TEXT NOT NULL,
        school_id TEXT NOT NULL,
        indicator_id TEXT NOT NULL,
        rater INTEGER NOT NULL,
        rater_name TEXT NOT NULL,
        level INTEGER NOT NULL,
        PRIMARY KEY (cycle, school_id, indicator_id, rater))""",
)
# Base tables, in the order a recording fills them (their names are never from input).
TABLES = ("cycles", "indicators", "levels", "returns", "schools", "answers", "rater_ratings")

class StoreError(NothingDone):
    """The store cannot be used (not a store, damaged, newer, busy): one sentence, exit 2."""


@dataclass(frozen=True)
class CycleInfo:
    """One row of `cycles`: what `history show` lists."""

    cycle: str
    recorded_at: str  # ISO 8601, UTC: 2026-06-30T14:05:09Z
    rubric_id: str
    rubric_version: str
    rubric_fingerprint: str
    tool_version: str
    schools_accepted: int
    returns: int  # return files read (missing schools not counted)

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Recorded:
    """What recording a cycle did."""

    store: Path
    cycle: CycleInfo
    replaced: bool  # the cycle had been recorded before: its earlier record is gone


class EarlierRating(NamedTuple):
    """One rating of an earlier cycle, for the Trends sheet (a tuple: 280,000 of them for
    10,000 returns)."""

    school_id: str
    school_name: str
    domain_id: str
    indicator_id: str
    level: int | None
    label: str
    next_steps: str
    priority: str


@dataclass(frozen=True)
class EarlierCycle:
    """The ratings of the most recent cycle recorded before the one being consolidated."""

    cycle: str
    rubric_version: str
    ratings: list[EarlierRating]


# -- checking a store ---------------------------------------------------------------------

def check_store(path: str | Path) -> None:
    """Raise StoreError if `path` cannot become or be used as a store; write nothing.

    A missing or empty (0-byte) file is fine: recording creates the store there.
    """
    path = Path(path)
    if not _has_content(path):
        return
    with closing(_open_read_only(path)) as con:
        _check_markers(con, path)
        _check_intact(con, path)


def _has_content(path: Path) -> bool:
    """False for a missing or 0-byte file; StoreError for what is not a file or not SQLite."""
    if os.path.isdir(path):
        raise StoreError(f"{_name(path)} is a folder, not a history store; give a file name "
                         "such as history.sqlite")
    try:
        with open(path, "rb") as f:
            header = f.read(_HEADER_BYTES)
    except FileNotFoundError:
        if not os.path.isdir(path.parent):
            raise StoreError(f"the folder of the history store {_name(path)} does not exist; "
                             "create it first, or give another path") from None
        return False
    except OSError as exc:
        raise StoreError(f"the history store {_name(path)} cannot be read: "
                         f"{exc.strerror or exc}") from None
    if not header:
        return False
    if not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{_name(path)} is not a workbook-tool history store (it is not an "
                         "SQLite database); give the store's path, or a new file name to "
                         "start one")
    if len(header) < _HEADER_BYTES:
        raise StoreError(f"the history store {_name(path)} is damaged (it is shorter than an "
                         "SQLite header, perhaps cut off); restore it from a backup")
    return True


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that changes nothing on disk.

    Without a `-wal` file beside it the database file is the whole store, and is opened
    `immutable` (no lock, no `-shm` file made). With one, the store is open elsewhere or a
    run was killed: it is opened read-only the ordinary way, which reads the WAL's committed
    transactions and ignores an unfinished one.
    """
    wal = Path(f"{path}-wal")
    mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    uri = f"{path.absolute().as_uri()}?{mode}"
    try:
        con = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from None
    return con


def _check_markers(con: sqlite3.Connection, path: Path) -> bool:
    """True when the database is a store already, False when it is empty (no tables yet)."""
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise _sqlite_error(path, exc) from None
    if app_id == 0 and version == 0 and tables == 0:
        return False
    if app_id != APPLICATION_ID:
        raise StoreError(f"{_name(path)} is an SQLite database of another application, not a "
                         "workbook-tool history store; give another file name")
    if version > SCHEMA_VERSION:
        raise StoreError(f"the history store {_name(path)} was written by a newer "
                         f"workbook-tool (store schema {version}; this version knows up to "
                         f"{SCHEMA_VERSION}); upgrade workbook-tool to use it")
    if version < 1:
        raise _damaged(path, "it is marked as a store but has no schema version")
    return True


def _check_intact(con: sqlite3.Connection, path: Path) -> None:
    try:
        found = [row[0] for row in con.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from None
    if found != ["ok"]:
        raise _damaged(path, found[0] if found else "no answer to its integrity check")


def _damaged(path: Path, why: object) -> StoreError:
    said = " ".join(str(why).split())  # quick_check's report may span lines: one sentence
    return StoreError(f"the history store {_name(path)} is damaged (SQLite says: {said}); "
                      "restore it from a backup")


def _sqlite_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    """A store locked by another run is busy; any other SQLite error means damage."""
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
        return _busy(path)
    return _damaged(path, exc)


def _busy(path: Path) -> StoreError:
    return StoreError(f"the history store {_name(path)} is busy: another run is writing to "
                      "it; try again when it has finished")


def _name(path: Path) -> str:
    return display_name(str(path))


# -- recording a cycle --------------------------------------------------------------------

def _execute(con: sqlite3.Connection, sql: str, args: Iterable = ()) -> sqlite3.Cursor:
    """Every statement of a recording goes through here (tests fail each one in turn)."""
    return con.execute(sql, tuple(args))


def _execute_many(con: sqlite3.Connection, sql: str, rows: Iterable[tuple]) -> None:
    con.executemany(sql, rows)


def record_cycle(path: str | Path, run: Consolidation, cycle: str,
                 recorded_at: str | None = None,
                 busy_seconds: float | None = None, verify: bool = True,
                 before_commit: Callable[[], object] | None = None) -> Recorded:
    """Record the consolidation `run` as cycle `cycle`, replacing that cycle's rows only.

    One transaction: on any failure (or a killed process) the store stays as it was.
    Creates the store when `path` is missing or empty. StoreError when it cannot be used.
    `verify=False` skips the integrity check (a few tenths of a second for 10,000 returns)
    when check_store has just made it. `before_commit` is called once every row is in,
    just before COMMIT: whatever it raises rolls the recording back.
    """
    path = Path(path)
    if not cycle:
        raise ValueError("a cycle is recorded under its name: the cycle must not be empty")
    _has_content(path)  # not SQLite at all: refused before SQLite opens (and so changes) it
    when = recorded_at or now()
    try:
        con = sqlite3.connect(path, timeout=BUSY_SECONDS if busy_seconds is None
                              else busy_seconds, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"the history store {_name(path)} cannot be opened (SQLite says: "
                         f"{exc})") from None
    with closing(con):
        if _check_markers(con, path) and verify:
            _check_intact(con, path)  # never add to a damaged store
        try:
            con.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            raise _busy(path) from None
        try:
            _execute(con, "BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            raise _busy(path) from None
        try:
            info, replaced = _record(con, path, run, cycle, when)
            if before_commit is not None:
                before_commit()
            _execute(con, "COMMIT")
        except BaseException as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise _busy(path) from None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cycle '{display_name(cycle)}' could not be recorded in the "
                                 f"history store {_name(path)} (SQLite says: {exc}); the "
                                 "store is unchanged") from None
            raise
    return Recorded(path, info, replaced)


def record_alongside(path: str | Path, run: Consolidation, cycle: str,
                     work: Callable[[], T]) -> tuple[T, Recorded]:
    """Run `work()` (writing the outputs) while `run` is recorded as `cycle` in the store at
    `path`, and commit the recording only after `work` has returned.

    The rows go into the store in a second thread, which spends most of its time inside
    SQLite (where Python's lock is released), so the recording costs the run little more
    than its COMMIT. When `work` raises, nothing is recorded and its exception goes on;
    when only the recording fails, `work`'s result stands and the StoreError is raised.
    """
    done = threading.Event()
    failed = False
    outcome: dict[str, object] = {}

    def gate() -> None:
        done.wait()
        if failed:
            raise _WorkFailed

    def recording() -> None:
        try:
            outcome["recorded"] = record_cycle(path, run, cycle, verify=False,
                                               before_commit=gate)
        except _WorkFailed:
            pass
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=recording, name="workbook-tool-history", daemon=True)
    worker.start()
    try:
        result = work()
    except BaseException:
        failed = True
        raise
    finally:
        done.set()
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return result, outcome["recorded"]


class _WorkFailed(Exception):
    """The outputs were not written: the recording is rolled back."""


def _record(con: sqlite3.Connection, path: Path, run: Consolidation, cycle: str,
            when: str) -> tuple[CycleInfo, bool]:
    if not _check_markers(con, path):  # a new store (checked again: another run may be first)
        for statement in SCHEMA:
            _execute(con, statement)
        _execute(con, f"PRAGMA application_id = {APPLICATION_ID:d}")
        _execute(con, f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    elif _schema(con) == 1:
        for statement in MIGRATE_1_TO_2:
            _execute(con, statement)
    replaced = _execute(con, "SELECT count(*) FROM cycles WHERE cycle = ?",
                        (cycle,)).fetchone()[0] > 0
    for table in TABLES:  # names from the constant above, never from input
        _execute(con, f"DELETE FROM {table} WHERE cycle = ?", (cycle,))
    info = cycle_info(run, cycle, when)
    _execute(con, "INSERT INTO cycles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             (info.cycle, info.recorded_at, info.rubric_id, info.rubric_version,
              info.rubric_fingerprint, info.tool_version, info.schools_accepted,
              info.returns))
    _execute_many(con, "INSERT INTO indicators VALUES (?, ?, ?, ?, ?)",
                  ((cycle, i, ind.domain_id, ind.id, ind.title)
                   for i, ind in enumerate(run.rubric.indicators, 1)))
    _execute_many(con, "INSERT INTO levels VALUES (?, ?, ?)",
                  ((cycle, lv.level, lv.label) for lv in run.rubric.levels))
    _execute_many(con, "INSERT INTO returns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (_returns_row(cycle, row.values()) for row in run.rows))
    _execute_many(con, "INSERT INTO schools VALUES (?, ?, ?, ?, ?, ?)",
                  school_rows(run, cycle))
    _execute_many(con, ANSWERS_INSERT, store_answers(run, cycle))
    _execute_many(con, "INSERT INTO rater_ratings VALUES (?, ?, ?, ?, ?, ?)",
                  rater_rows(run, cycle))
    return info, replaced


def _schema(con: sqlite3.Connection) -> int:
    return con.execute("PRAGMA user_version").fetchone()[0]


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cycle_info(run: Consolidation, cycle: str, recorded_at: str) -> CycleInfo:
    files = sum(1 for row in run.rows if row.status != MISSING)
    rubric = run.rubric
    return CycleInfo(cycle, recorded_at, rubric.id, rubric.version, rubric.fingerprint,
                     __version__, len(run.accepted), files)


def _returns_row(cycle: str, values: list) -> tuple:
    # A missing school's counts are "" in returns.csv and NULL in the store.
    return (cycle, *values[:5], *(None if v == "" else v for v in values[5:]))


def school_rows(run: Consolidation, cycle: str) -> Iterator[tuple]:
    """The rows of `schools`: per accepted return, what every one of its ratings shares."""
    for row in run.accepted:
        school = run.school(row.school_id)
        yield (cycle, row.school_id, row.school_name, school.network if school else "",
               row.result.file, row.result.completed_by)


def store_answers(run: Consolidation, cycle: str) -> Iterator[tuple]:
    """The rows of `answers`, in the table's column order: each answer of each accepted
    return under `cycle`, an unrated level as None (NULL), then the team's agreement note."""
    # 280,000 rows for 10,000 returns: each row is one tuple built from the packed answer
    # (no per-row look-ups or conversions but the rare agreement note).
    for row in run.accepted:
        result = row.result
        head = (cycle, row.school_id)
        notes = result.team.notes if result.team is not None else {}
        for answer in _answer_rows(result.answers):
            if len(answer) == 6 and not notes:  # a plain workbook's answer, no note
                iid, level, _, evidence, next_steps, priority = answer
                yield (*head, iid, level, evidence, next_steps, priority, *_NOT_PREFILLED, "")
                continue
            iid, level, _, evidence, next_steps, priority, *prefill = answer
            yield (*head, iid, level, evidence, next_steps, priority,
                   *(prefill or _NOT_PREFILLED), notes.get(iid, ""))


_NOT_PREFILLED = (None, "", "")  # previous level, review, follow-up of a plain workbook


def _answer_rows(answers) -> Iterable[tuple]:
    """A return's answers as tuples in Answer's field order (consolidate.PackedAnswers
    holds them so; other sequences are of Answer objects)."""
    packed = getattr(answers, "rows", None)
    if packed is not None:
        return packed
    return ((a.indicator_id, a.level, a.label, a.evidence, a.next_steps, a.priority,
             a.previous_level, a.review, a.followup) for a in answers)


ANSWERS_INSERT = "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def rater_rows(run: Consolidation, cycle: str) -> Iterator[tuple]:
    """Each rating a team rater gave, in the accepted team returns (none where not rated)."""
    for row in run.accepted:
        team = row.result.team
        if team is None:
            continue
        answers = row.result.answers
        held = getattr(answers, "held_rows", None)
        ids = [r[0] for r in held] if held is not None else [a.indicator_id for a in answers]
        for indicator_id in ids:
            for k, level in enumerate(team.of(indicator_id), 1):
                if level is not None:
                    yield (cycle, row.school_id, indicator_id, k, team.names[k - 1], level)


# -- reading ------------------------------------------------------------------------------

@contextmanager
def reading(path: str | Path, must_exist: bool = True,
            verify: bool = True) -> Iterator[sqlite3.Connection | None]:
    """A checked, read-only connection to the store; None for an empty or missing file when
    `must_exist` is False (a store with nothing recorded yet). `verify=False` skips the
    integrity check, for a caller that has just run check_store."""
    path = Path(path)
    if not _has_content(path):
        if must_exist and not path.exists():
            raise StoreError(f"there is no history store at {_name(path)}; record one with "
                             "consolidate --history")
        yield None
        return
    with closing(_open_read_only(path)) as con:
        if not _check_markers(con, path):
            yield None
            return
        if verify:
            _check_intact(con, path)
        try:
            yield con
        except sqlite3.DatabaseError as exc:
            raise _sqlite_error(path, exc) from None


_ORDER = "ORDER BY c.recorded_at, c.rowid"  # recording order: the last one is the most recent


def list_cycles(path: str | Path) -> list[CycleInfo]:
    """The cycles recorded, the earliest recorded first."""
    with reading(path) as con:
        if con is None:
            return []
        rows = con.execute(
            "SELECT cycle, recorded_at, rubric_id, rubric_version, rubric_fingerprint, "
            f"tool_version, schools_accepted, returns FROM cycles c {_ORDER}").fetchall()
    return [CycleInfo(*row) for row in rows]


def export_history(path: str | Path, out: str | Path) -> dict[str, Path]:
    """history.csv and history_returns.csv (and history.parquet where pyarrow is installed)
    in folder `out`, all or none of them (staging).

    history.csv: ratings.csv's columns (then previous_level, review, followup) for every
    cycle; history_returns.csv: `cycle`, then returns.csv's columns. Cycles in the order
    they were recorded, rows in the order of their run's CSV files. history.parquet holds
    history.csv's rows typed (levels as numbers) and never escaped, like ratings.parquet.
    """
    from .staging import staged
    from .summary.exports import parquet_available, write_parquet

    with reading(path) as con, staged(out, EXPORTS) as staging:
        write_csv(staging.path(HISTORY_CSV), HISTORY_COLUMNS, history_rows(con))
        write_csv(staging.path(HISTORY_RETURNS_CSV), HISTORY_RETURNS_COLUMNS,
                  history_returns(con))
        if parquet_available() and HISTORY_COLUMNS == RATINGS_COLUMNS:
            write_parquet(staging.path(HISTORY_PARQUET), history_rows(con))
        return staging.commit()


def history_rows(con: sqlite3.Connection | None) -> Iterator[tuple]:
    """Every recorded rating of every cycle, in HISTORY_COLUMNS order (none without a
    store: `con` None)."""
    if con is None:
        return
    # Column names from the constants above; a column the store lacks is left empty.
    if _schema(con) == 1:  # `ratings` is a table
        columns = ", ".join(f"r.{c}" if c in _FROM_BASE else "''" for c in HISTORY_COLUMNS)
        yield from _plain(con.execute(
            f"SELECT {columns} FROM ratings r JOIN cycles c ON c.cycle = r.cycle "
            f"{_ORDER}, r.rowid"))
        return
    # Cycle by cycle, each one's answers in the order recorded: a cycle's rows were inserted
    # together, so they lie in one range of rowids, read in order without sorting them
    # (sorting every cycle's rows at once took longer than reading them).
    columns = ", ".join(_FROM_BASE.get(c, "''") for c in HISTORY_COLUMNS)
    cycles = con.execute(f"SELECT cycle FROM cycles c {_ORDER}").fetchall()
    for (cycle,) in cycles:
        first, last = con.execute("SELECT min(rowid), max(rowid) FROM answers WHERE cycle = ?",
                                  (cycle,)).fetchone()
        if first is not None:  # `+a.cycle`: filter only, the rowid range is the search
            yield from _plain(con.execute(
                f"SELECT {columns} FROM {_JOINED} WHERE a.rowid BETWEEN ? AND ? "
                "AND +a.cycle = ? ORDER BY a.rowid", (first, last, cycle)))


def history_returns(con: sqlite3.Connection | None) -> Iterator[tuple]:
    """Every recorded return of every cycle, in HISTORY_RETURNS_COLUMNS order."""
    if con is None:
        return
    columns = ", ".join(f"r.{c}" for c in HISTORY_RETURNS_COLUMNS)
    yield from _plain(con.execute(
        f"SELECT {columns} FROM returns r JOIN cycles c ON c.cycle = r.cycle "
        f"{_ORDER}, r.rowid"))


def _plain(rows: Iterable[tuple]) -> Iterator[list]:
    """NULL (unrated, a missing school's counts) is an empty field, as in the run's CSVs."""
    for row in rows:
        yield ["" if v is None else v for v in row]


def previous_answers(path: str | Path, rubric: Rubric, cycle: str, school_ids: Iterable[str],
                     prefill_cycle: str | None = None,
                     verify: bool = True) -> dict[str, Previous]:
    """Per school, its answers of the most recently recorded cycle other than `cycle` in
    which it has accepted ratings (or of `prefill_cycle` only). Schools with none are left
    out. A cycle recorded with another rubric is used only if it had every indicator id of
    `rubric`; else StoreError. `verify=False` after check_store (see reading)."""
    wanted = set(school_ids)
    with reading(path, verify=verify) as con:
        if con is None:
            return {}
        chosen = _chosen_cycles(con, path, cycle, prefill_cycle, wanted)
        out: dict[str, Previous] = {}
        for source, schools in _by_cycle(chosen).items():
            version = _fitting_version(con, path, source, rubric)
            out.update(_answers_of(con, source, version, schools, rubric))
    return {school_id: out[school_id] for school_id in sorted(out)}


def _chosen_cycles(con: sqlite3.Connection, path: str | Path, cycle: str,
                   prefill_cycle: str | None, wanted: set[str]) -> dict[str, str]:
    """school id -> the cycle its answers come from."""
    if prefill_cycle is not None:
        if con.execute("SELECT 1 FROM cycles WHERE cycle = ?", (prefill_cycle,)).fetchone() \
                is None:
            raise StoreError(f"the history store {_name(Path(path))} has no cycle "
                             f"'{prefill_cycle}'; `workbook-tool history show` lists the "
                             "cycles it holds")
        rows = con.execute(f"SELECT school_id, cycle FROM returns WHERE cycle = ? AND "
                           f"status IN {_ACCEPTED}", (prefill_cycle,))
    else:
        # In recording order, so the last cycle seen for a school is its most recent.
        rows = con.execute(
            "SELECT r.school_id, r.cycle FROM returns r JOIN cycles c ON c.cycle = r.cycle "
            f"WHERE r.cycle != ? AND r.status IN {_ACCEPTED} {_ORDER}", (cycle,))
    return {school_id: source for school_id, source in rows if school_id in wanted}


# A school has ratings in a cycle exactly when its return was accepted (the returns table
# is 28 times smaller than the ratings).
_ACCEPTED = f"('{ACCEPTED}', '{ACCEPTED_WITH_WARNINGS}')"


def _by_cycle(chosen: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for school_id, source in chosen.items():
        out.setdefault(source, set()).add(school_id)
    return out


def _fitting_version(con: sqlite3.Connection, path: str | Path, source: str,
                     rubric: Rubric) -> str:
    """The rubric version of cycle `source`, if its answers fit `rubric`; else StoreError."""
    fingerprint, version = con.execute(
        "SELECT rubric_fingerprint, rubric_version FROM cycles WHERE cycle = ?",
        (source,)).fetchone()
    if fingerprint == rubric.fingerprint:
        return version
    had = {row[0] for row in con.execute(
        "SELECT indicator_id FROM indicators WHERE cycle = ?", (source,))}
    lacking = [ind.id for ind in rubric.indicators if ind.id not in had]
    if lacking:
        shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more"
                                          if len(lacking) > 5 else "")
        raise StoreError(f"cycle '{source}' of the history store {_name(Path(path))} was "
                         f"recorded with rubric version {version}, which lacks indicator(s) "
                         f"{shown} of this rubric; its answers cannot prefill these workbooks")
    return version


def _answers_of(con: sqlite3.Connection, source: str, version: str, schools: set[str],
                rubric: Rubric) -> dict[str, Previous]:
    ids = {ind.id for ind in rubric.indicators}
    answers: dict[str, dict[str, Answer]] = {}
    share = sys.intern  # one copy of each id, label and priority, not one per school
    for school_id, indicator_id, level, label, evidence, next_steps, priority in \
            _prefill_rows(con, source):
        if school_id in schools and indicator_id in ids:
            answers.setdefault(school_id, {})[share(indicator_id)] = Answer(
                share(indicator_id), level, share(label), evidence, next_steps,
                share(priority))
    return {school_id: Previous(source, version, found)
            for school_id, found in answers.items()}


def _prefill_rows(con: sqlite3.Connection, source: str) -> Iterable[tuple]:
    """(school_id, indicator_id, level, label, evidence, next_steps, priority) of each
    answer of cycle `source`, by school id, then indicator id."""
    if _schema(con) == 1:
        return con.execute("SELECT school_id, indicator_id, level, label, evidence, "
                           "next_steps, priority FROM ratings WHERE cycle = ? "
                           "ORDER BY school_id, indicator_id", (source,))
    # The answers alone, labels looked up here: faster than the view's joins.
    labels = _labels(con, source)
    rows = con.execute("SELECT school_id, indicator_id, level, evidence, next_steps, priority "
                       "FROM answers WHERE cycle = ? ORDER BY school_id, indicator_id",
                       (source,))
    return ((school_id, indicator_id, level, labels.get(level, ""), evidence, next_steps,
             priority) for school_id, indicator_id, level, evidence, next_steps, priority in rows)


def _labels(con: sqlite3.Connection, source: str) -> dict[int, str]:
    """Level -> its label in cycle `source` (schema 2), one copy of each."""
    return {level: sys.intern(label) for level, label in con.execute(
        "SELECT level, label FROM levels WHERE cycle = ?", (source,))}


def earlier_cycle(path: str | Path, cycle: str, verify: bool = True) -> EarlierCycle | None:
    """The ratings of the most recently recorded cycle other than `cycle` (None when the
    store is missing, empty or holds no other cycle), by school id, then indicator id (as
    text). `verify=False` after check_store (see reading)."""
    with reading(path, must_exist=False, verify=verify) as con:
        if con is None:
            return None
        found = con.execute("SELECT cycle, rubric_version FROM cycles c WHERE cycle != ? "
                            "ORDER BY c.recorded_at DESC, c.rowid DESC LIMIT 1",
                            (cycle,)).fetchone()
        if found is None:
            return None
        source, version = found
        if _schema(con) == 1:
            return EarlierCycle(source, version, _earlier_of_schema_1(con, source))
        return EarlierCycle(source, version, _earlier_ratings(con, source))


def _earlier_ratings(con: sqlite3.Connection, source: str) -> list[EarlierRating]:
    """The ratings of cycle `source` from the answers alone: each school's name, each
    indicator's domain and each level's label looked up here (already shared), which is
    faster than the view's joins and a sys.intern per field."""
    share = sys.intern
    schools = {school_id: (share(school_id), share(name)) for school_id, name in con.execute(
        "SELECT school_id, school_name FROM schools WHERE cycle = ?", (source,))}
    indicators = {indicator_id: (share(domain_id), share(indicator_id))
                  for indicator_id, domain_id in con.execute(
                      "SELECT indicator_id, domain_id FROM indicators WHERE cycle = ?",
                      (source,))}
    labels = _labels(con, source)
    out = []
    # The primary key's order: the index gives it without sorting 280,000 rows.
    for school_id, indicator_id, level, next_steps, priority in con.execute(
            "SELECT school_id, indicator_id, level, next_steps, priority FROM answers "
            "WHERE cycle = ? ORDER BY school_id, indicator_id", (source,)):
        school_id, name = schools.get(school_id) or (share(school_id), "")
        domain_id, indicator_id = indicators.get(indicator_id) or ("", share(indicator_id))
        out.append(EarlierRating(school_id, name, domain_id, indicator_id, level,
                                 labels.get(level, ""), next_steps, share(priority)))
    return out


def _earlier_of_schema_1(con: sqlite3.Connection, source: str) -> list[EarlierRating]:
    rows = con.execute("SELECT school_id, school_name, domain_id, indicator_id, level, "
                       "label, next_steps, priority FROM ratings WHERE cycle = ? "
                       "ORDER BY school_id, indicator_id", (source,))
    return [_shared(row) for row in rows]


def _shared(row: tuple) -> EarlierRating:
    """One copy of each id, name, label and priority (SQLite makes a new string per row)."""
    share = sys.intern
    school_id, name, domain_id, indicator_id, level, label, next_steps, priority = row
    return EarlierRating(share(school_id), share(name), share(domain_id), share(indicator_id),
                         level, share(label), next_steps, share(priority))
