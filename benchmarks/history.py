"""Benchmark: what `consolidate --history` adds to a run of N returns (28 indicators each).

    python benchmarks/history.py [--n 10000] [--naive-returns 100]

The consolidation is built in memory (read returns as the reader gives them, packed as a
real run holds them, with evidence and next steps of one to three sentences), so only the
store is timed. Figures, each in this one process:

- `check`: check_store on the store before the run (quick_check included);
- `record_new`: record_cycle into a new store (verify=False, as consolidate calls it: the
  check before the run made the integrity check);
- `record_replace`: record_cycle of the same cycle again into a store that already holds
  it and an earlier cycle (its rows deleted, the new ones inserted);
- `read_earlier`: earlier_cycle, the previous cycle's ratings the Trends sheet compares
  with (consolidate --history reads them before writing the summary);
- `read_prefill`: previous_answers for every school (generate --prefill);
- `record_memory`: the same recording into an in-memory database (every table, index and
  the view, no disk): record_new less the file's writes and checkpoint;
- `floor`: a fixed reference workload, the 280,000 rows of schema 1's 18-column `ratings`
  table built and inserted into an in-memory table without indexes (no disk); it does not
  change with the store's schema, so the ratio record_new / floor compares schemas and
  varies less with the machine's load than the seconds do;
- `naive`: a baseline, one INSERT and one COMMIT per row into the same tables, run on the
  first `--naive-returns` returns and extrapolated to N.

- `outputs` and `outputs_recorded`: write_outputs of the run alone, and with the cycle
  recorded alongside into a new store (history.record_alongside, as consolidate --history
  does), alternated `--repeat` times, best of each: their difference is what recording
  really adds to a consolidation (`added_alongside_seconds`).

"Added" is check + record (+ read_earlier when the store holds an earlier cycle), each step
alone; the target is under 3 s for 10,000 returns. Peak memory is the process's RSS sampled every
20 ms (bench.PeakMemory) during each step, next to the RSS before it. Results go to
benchmarks/results/<date>-<host>-history.json.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench import PeakMemory, packed_run, save_results, schools

from workbook_tool import history
from workbook_tool.consolidate import Consolidation
from workbook_tool.rubric import load_rubric
from workbook_tool.summary import write_outputs

HERE = Path(__file__).parent
CYCLE, EARLIER = "2026-27", "2025-26"
SETS = 16  # distinct answer sets, round-robin over the schools


def build_run(n: int, cycle: str) -> Consolidation:
    return packed_run(load_rubric(), schools(n), cycle, SETS)


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        pages = int(f.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def timed(step) -> dict:
    before = rss_mb()
    with PeakMemory() as peak:
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "rss_before_mb": before,
            "peak_mb": round(peak.peak_kb / 1024, 1)}


def naive(path: Path, run: Consolidation, count: int) -> dict:
    """One INSERT and one COMMIT per row, for the first `count` returns' rows."""
    sample = Consolidation(run.rubric, run.roster, run.rows[:count], cycle=run.cycle)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    for statement in history.SCHEMA:
        con.execute(statement)
    rows = 0

    def insert_all() -> None:
        nonlocal rows
        for row in history.store_answers(sample, CYCLE):
            con.execute("BEGIN")
            con.execute(history.ANSWERS_INSERT, row)
            con.execute("COMMIT")
            rows += 1
        for row in history.school_rows(sample, CYCLE):
            con.execute("BEGIN")
            con.execute("INSERT INTO schools VALUES (?, ?, ?, ?, ?, ?)", row)
            con.execute("COMMIT")
            rows += 1
        for row in sample.rows:
            con.execute("BEGIN")
            con.execute("INSERT INTO returns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        history._returns_row(CYCLE, row.values()))
            con.execute("COMMIT")
            rows += 1

    found = timed(insert_all)
    con.close()
    found["rows"] = rows
    found["returns"] = count
    return found


SCHEMA_1_RATINGS = """CREATE TABLE ratings (cycle TEXT NOT NULL, school_id TEXT NOT NULL,
    school_name TEXT NOT NULL, network TEXT NOT NULL, domain_id TEXT NOT NULL,
    indicator_id TEXT NOT NULL, indicator TEXT NOT NULL, level INTEGER, label TEXT NOT NULL,
    evidence TEXT NOT NULL, next_steps TEXT NOT NULL, priority TEXT NOT NULL,
    source_file TEXT NOT NULL, previous_level INTEGER, review TEXT NOT NULL,
    followup TEXT NOT NULL, completed_by TEXT NOT NULL, agreement_note TEXT NOT NULL)"""


def schema_1_rows(run: Consolidation):
    """The rows of schema 1's `ratings` table (one tuple per rating, as it built them)."""
    shown = {ind.id: (ind.domain_id, ind.id, ind.title) for ind in run.rubric.indicators}
    for row in run.accepted:
        result = row.result
        school = run.school(row.school_id)
        head = (CYCLE, row.school_id, row.school_name, school.network if school else "")
        for iid, level, label, evidence, next_steps, priority, *_ in result.answers.rows:
            yield (*head, *shown[iid], level, label, evidence, next_steps, priority,
                   result.file, None, "", "", result.completed_by, "")


def floor(run: Consolidation) -> None:
    """Schema 1's ratings rows into an in-memory table without indexes, no disk: a fixed
    workload, what SQLite and row building cost at the least on this machine (its load
    included), whatever the store's schema."""
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute(SCHEMA_1_RATINGS)
    con.execute("BEGIN")
    con.executemany(f"INSERT INTO ratings VALUES ({', '.join('?' * 18)})", schema_1_rows(run))
    con.execute("COMMIT")
    con.close()


def record_memory(run: Consolidation) -> None:
    """The whole recording (schema, every table and index) into an in-memory database."""
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute("BEGIN")
    history._record(con, Path("memory"), run, CYCLE, history.now())
    con.execute("COMMIT")
    con.close()


def alongside(root: Path, run: Consolidation, repeat: int) -> dict:
    """The outputs written alone and with the recording alongside, alternated; best of each."""
    found: dict[str, dict] = {}
    for k in range(repeat):
        plain = timed(lambda: write_outputs(run, root / "out", []))
        store = root / f"alongside-{k}.sqlite"
        recorded = timed(lambda store=store: history.record_alongside(
            store, run, CYCLE, lambda: write_outputs(run, root / "out", [])))
        store.unlink()
        for name, figure in (("outputs", plain), ("outputs_recorded", recorded)):
            if name not in found or figure["seconds"] < found[name]["seconds"]:
                found[name] = figure
    found["added_alongside_seconds"] = round(found["outputs_recorded"]["seconds"]
                                             - found["outputs"]["seconds"], 3)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--naive-returns", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    n = args.n
    start = time.perf_counter()
    run, earlier = build_run(n, CYCLE), build_run(n, EARLIER)
    print(f"built {n} returns ({n * 28} ratings) in memory in "
          f"{time.perf_counter() - start:.1f} s; RSS {rss_mb()} MB", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="wbt-history-") as tmp:
        root = Path(tmp)
        new = root / "new.sqlite"
        figures = {"n": n, "ratings": n * 28}
        figures["check_missing"] = timed(lambda: history.check_store(new))
        figures["record_new"] = timed(lambda: history.record_cycle(new, run, CYCLE, verify=False))
        figures["store_mb"] = round(new.stat().st_size / 2**20, 1)
        figures["check"] = timed(lambda: history.check_store(new))
        history.record_cycle(new, earlier, EARLIER)
        figures["record_replace"] = timed(
            lambda: history.record_cycle(new, run, CYCLE, verify=False))
        figures["store_two_cycles_mb"] = round(new.stat().st_size / 2**20, 1)
        figures["read_earlier"] = timed(
            lambda: history.earlier_cycle(new, CYCLE, verify=False))
        figures["read_prefill"] = timed(lambda: history.previous_answers(
            new, run.rubric, "2027-28", [s.school_id for s in run.roster], verify=False))
        sample = naive(root / "naive.sqlite", run, min(args.naive_returns, n))
        per_row = sample["seconds"] / max(sample["rows"], 1)
        sample["extrapolated_seconds"] = round(per_row * (n * 28 + n), 1)
        figures["naive"] = sample
        figures.update(alongside(root, run, args.repeat))
    figures["record_memory"] = timed(lambda: record_memory(run))
    figures["floor"] = timed(lambda: floor(run))
    figures["added_new_seconds"] = round(figures["check_missing"]["seconds"]
                                         + figures["record_new"]["seconds"], 3)
    figures["added_replace_seconds"] = round(figures["check"]["seconds"]
                                             + figures["record_replace"]["seconds"], 3)
    figures["record_new_over_floor"] = round(figures["record_new"]["seconds"]
                                             / figures["floor"]["seconds"], 2)
    save_results("history", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
