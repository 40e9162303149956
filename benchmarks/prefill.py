"""Benchmark: `generate --prefill` against plain `generate`, in the same run.

    python benchmarks/prefill.py [--n 1000] [--jobs N] [--rounds 2]

Each school's last-cycle answers come from the benchmark's answer sets (16 distinct
returns, round-robin), as `history.previous_answers` would hand them to `generate`. Plain
and prefilled generation alternate for `--rounds` rounds; the best of each is compared.
The target is prefilled / plain of 1.5 or less. Results go to
benchmarks/results/<date>-<host>-prefill.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from bench import answer_set, machine, schools

from workbook_tool.generate import default_jobs, generate
from workbook_tool.reader.model import Previous
from workbook_tool.rubric import load_rubric
from workbook_tool.writer import Issue

HERE = Path(__file__).parent
SETS = 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rubric = load_rubric()
    roster = schools(args.n)
    sets = [answer_set(rubric, k) for k in range(SETS)]
    previous = {s.school_id: Previous("2025-26", rubric.version, sets[i % SETS])
                for i, s in enumerate(roster)}
    issue = Issue("2026-27")
    seconds: dict[str, list[float]] = {"plain": [], "prefilled": []}
    for _ in range(args.rounds):
        for label, given in (("plain", None), ("prefilled", previous)):
            out = tempfile.mkdtemp(prefix="wbt-prefill-bench-", dir="/tmp")
            try:
                start = time.perf_counter()
                generate(rubric, roster, out, issue, jobs=args.jobs, previous=given)
                seconds[label].append(round(time.perf_counter() - start, 2))
            finally:
                shutil.rmtree(out, ignore_errors=True)
    best = {label: min(found) for label, found in seconds.items()}
    ratio = round(best["prefilled"] / best["plain"], 2)
    text = (f"N={args.n}, jobs={args.jobs}, load average {os.getloadavg()[0]:.1f}\n"
            f"generate plain      best {best['plain']:.2f} s  (runs {seconds['plain']})\n"
            f"generate prefilled  best {best['prefilled']:.2f} s  (runs {seconds['prefilled']})\n"
            f"    prefilled / plain = {ratio} (target 1.5 or less)")
    print(text)
    stamp = dt.datetime.now().strftime("%Y-%m-%d")
    out = HERE / "results" / f"{stamp}-{socket.gethostname()}-prefill.json"
    out.write_text(json.dumps({"date": dt.datetime.now().isoformat(timespec="seconds"),
                               "machine": machine(), "n": args.n, "jobs": args.jobs,
                               "seconds": seconds, "ratio": ratio, "table": text},
                              indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
