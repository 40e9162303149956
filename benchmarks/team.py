"""Benchmark: team rating against plain workbooks, in the same run on the same machine.

    python benchmarks/team.py [--n 1000] [--raters 5] [--jobs N]

Four stages, each in its own process (so its peak memory is its own), plain then team:
generate N blank workbooks (`generate`, as `workbook-tool generate [--raters R]` does), and
consolidate N filled returns (written first by stamping prefilled answers, and for the team
case R raters' ratings and notes, outside the timing). The figure the issue asks for is the
ratio team / plain of each; the target is 1.5 or less. Results go to
benchmarks/results/<date>-<host>-team.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import PeakMemory, _stage_result, answer_set, machine, schools, write_roster

from workbook_tool.files import write_atomic
from workbook_tool.generate import default_jobs, file_names, generate
from workbook_tool.reader.model import TeamRatings
from workbook_tool.roster import load_roster
from workbook_tool.rubric import Rubric, load_rubric
from workbook_tool.writer import Issue
from workbook_tool.writer.stamp import Stamper

HERE = Path(__file__).parent
CYCLE = "2026-27"
SETS = 16  # distinct filled returns, stamped round-robin over the schools


def team_set(rubric: Rubric, k: int, raters: int) -> TeamRatings:
    """Raters' ratings around the team's agreed rating of answer set k, as a team that then
    agrees produces them: most raters give the agreed level, some one level off, about one
    indicator in ten is flagged (a rater 2 levels away), and one agreed rating per return is
    outside the raters' range with a note saying why. Indicators the team did not agree on
    were still rated (one not-agreed warning per return)."""
    rng = random.Random(f"team-{k}")
    top = len(rubric.levels)
    agreed = answer_set(rubric, k)
    levels, notes = {}, {}
    outside = rng.choice([ind.id for ind in rubric.indicators if agreed[ind.id].level])
    for ind in rubric.indicators:
        level = agreed[ind.id].level or rng.randint(1, top)
        given = [level] + [min(top, max(1, level + rng.choice([0, 0, 0, 1, -1])))
                           for _ in range(raters - 1)]
        if rng.random() < 0.1:
            given[-1] = level - 2 if level > 2 else level + 2
        if rng.random() < 0.05:
            given[rng.randrange(1, raters)] = None  # a rater who did not rate it
        if ind.id == outside:
            given = [level + 1 if level < top else level - 1] * raters
            notes[ind.id] = "Agreed after reviewing the evidence together."
        levels[ind.id] = tuple(given)
    names = tuple(f"Member {i + 1}" for i in range(raters))
    return TeamRatings(names, levels, notes)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stage_generate(n: int, root: Path, jobs: int, raters: int) -> dict:
    rubric = load_rubric()
    roster = schools(n)
    with PeakMemory() as peak:
        start, cpu = time.perf_counter(), cpu_seconds()
        generate(rubric, roster, root / f"blank-{raters}", Issue(CYCLE, raters=raters),
                 jobs=jobs)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {**_stage_result(seconds, n, peak, jobs), "cpu_seconds": round(cpu, 2)}


def fill(n: int, root: Path, raters: int) -> Path:
    rubric = load_rubric()
    roster = schools(n)
    write_roster(root / "roster.csv", roster)
    issue = Issue(CYCLE, raters=raters)
    stampers = [Stamper(rubric, issue, answers=answer_set(rubric, k),
                        team=team_set(rubric, k, raters) if raters else None)
                for k in range(SETS)]
    folder = root / f"returns-{raters}"
    folder.mkdir(parents=True, exist_ok=True)
    names = file_names(roster)
    for i, school in enumerate(roster):
        write_atomic(folder / names[school.school_id], stampers[i % SETS].workbook(school))
    return folder


def stage_consolidate(n: int, root: Path, jobs: int, raters: int) -> dict:
    from workbook_tool.pipeline import run_consolidation

    folder = fill(n, root, raters)
    rubric = load_rubric()
    roster = load_roster(root / "roster.csv")
    with PeakMemory() as peak:
        start, cpu = time.perf_counter(), cpu_seconds()
        report = run_consolidation(rubric, roster, [str(folder)], root / f"out-{raters}",
                                   jobs=jobs)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    counts = {k: v for k, v in report.run.counts().items() if v}
    warnings = Counter(p.code for p in report.run.problems)
    return {**_stage_result(seconds, n, peak, jobs, counts=counts, problems=dict(warnings)),
            "cpu_seconds": round(cpu, 2)}


STAGES = {"generate": stage_generate, "consolidate": stage_consolidate}


def run_stage(name: str, n: int, root: Path, jobs: int, raters: int) -> dict:
    cmd = [sys.executable, __file__, "--stage", name, "--n", str(n), "--root", str(root),
           "--jobs", str(jobs), "--raters", str(raters)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--raters", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(STAGES[args.stage](args.n, Path(args.root), args.jobs, args.raters)))
        return
    load = os.getloadavg()[0]  # other work on the machine makes wall times noisy
    root = Path(tempfile.mkdtemp(prefix="wbt-team-bench-", dir="/tmp"))
    rows = {}
    try:
        for name in ("generate", "consolidate"):
            for raters in (0, args.raters):
                print(f"{name}, raters={raters} ...", file=sys.stderr, flush=True)
                rows[f"{name}-{raters}"] = run_stage(name, args.n, root, args.jobs, raters)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lines = [f"N={args.n}, jobs={args.jobs}, load average before {load:.1f}",
             f"{'stage':<28}{'wall s':>9}{'cpu s':>9}{'per s':>9}{'peak MB':>9}"]
    ratios = {}
    for name in ("generate", "consolidate"):
        plain, team = rows[f"{name}-0"], rows[f"{name}-{args.raters}"]
        for label, row in (("plain", plain), (f"{args.raters} raters", team)):
            lines.append(f"{name + ' ' + label:<28}{row['seconds']:>9.2f}"
                         f"{row['cpu_seconds']:>9.2f}{row['per_second']:>9.1f}"
                         f"{row['peak_mb_sampled']:>9.1f}")
        ratios[name] = round(team["seconds"] / plain["seconds"], 2)
        cpu_ratio = round(team["cpu_seconds"] / plain["cpu_seconds"], 2)
        ratios[f"{name}_cpu"] = cpu_ratio
        lines.append(f"{'':<4}{name}: team / plain = {ratios[name]} wall, {cpu_ratio} CPU "
                     "(target 1.5 or less)")
        if name == "consolidate":  # warnings cost time too: say how many the returns gave
            for label, row in (("plain", plain), ("team", team)):
                lines.append(f"{'':<4}problems, {label}: " + ", ".join(
                    f"{code} {count}" for code, count in sorted(row["problems"].items())))
    text = "\n".join(lines)
    print(text)
    stamp = dt.datetime.now().strftime("%Y-%m-%d")
    out = HERE / "results" / f"{stamp}-{socket.gethostname()}-team.json"
    out.write_text(json.dumps({"date": dt.datetime.now().isoformat(timespec="seconds"),
                               "machine": machine(), "n": args.n, "raters": args.raters,
                               "stages": rows, "ratios": ratios, "table": text},
                              indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
