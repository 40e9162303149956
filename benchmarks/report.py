"""Benchmark: the board report (district_report.html) at 100 and 2,000 schools.

    python benchmarks/report.py [--n 100,2000] [--repeat 3] [--no-naive]

The consolidation is built in memory (28 indicators, evidence and next steps of one to three
sentences, priorities, schools in four networks and none, one school in twenty missing), so
only the report is measured. Figures for each N:

- `size_mb`: the file's size (targets: 100 schools under 1.5 MB, 2,000 under 10 MB);
- `write_seconds`: build_report + writing the file, best of `--repeat` (target under 2 s at
  2,000);
- `load_seconds`: headless Chromium (tests/browser.py) from navigating to the load event
  (target under 5 s at 2,000), and `shot_seconds`, the screenshot of the top screen after
  it (the first picture a reader sees);
- `pdf_seconds`: html_to_pdf, what `consolidate --pdf` runs, and the PDF's pages and size.

`naive` is a baseline built in the same run by the report's own functions with its design
choices undone: one ungrouped heatmap table (no networks, no content-visibility), every
High-priority indicator with every next step quoted whole, no cap on the returns to chase.
It shows what the grouping and the caps buy. The load average is recorded before and after
(the machine is shared). Results go to benchmarks/results/<date>-<host>-report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from bench import packed_run, save_results, schools

from workbook_tool import pdf
from workbook_tool.consolidate import Consolidation
from workbook_tool.rubric import load_rubric
from workbook_tool.summary import report

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tests"))
from browser import chromium, open_page  # noqa: E402  (the tests' real-browser harness)

CYCLE = "2026-27"
SETS = 16  # distinct answer sets, round-robin over the schools
MISSING_EVERY = 20  # one school in twenty never returns: the chase list has rows
TARGETS = {100: {"size_mb": 1.5}, 2000: {"size_mb": 10.0, "write_seconds": 2.0,
                                          "load_seconds": 5.0}}
VISIT_TIMEOUT = 600.0  # s: the naive page may take long, it must still be measured


def build_run(n: int, networks: bool = True) -> Consolidation:
    """n schools on the roster, all but one in MISSING_EVERY returned, packed as a run holds
    them; without networks every school is in none (one heatmap table)."""
    rubric = load_rubric()
    roster = schools(n)
    if not networks:
        roster = [replace(s, network="") for s in roster]
    return packed_run(rubric, roster, CYCLE, SETS,
                      returned=lambda i: i % MISSING_EVERY != MISSING_EVERY - 1)


UNLIMITED = 10**9
GROUPING_CSS = re.compile(r"\.net\{\{?content-visibility:auto;contain-intrinsic-size:[^}]*\}")


@contextmanager
def naive_design():
    """The report's functions with its caps raised and the heatmap's lazy blocks gone."""
    caps = ("TOP_PRIORITIES", "STEPS_SHOWN", "STEP_CHARS", "CHASE_SHOWN")
    saved = {name: getattr(report, name) for name in caps}
    css = report._css
    try:
        for name in caps:
            setattr(report, name, UNLIMITED)
        report._css = lambda levels: GROUPING_CSS.sub("", css(levels))
        if report._css(4) == css(4):
            raise RuntimeError("the report's CSS changed: update GROUPING_CSS")
        yield
    finally:
        for name, value in saved.items():
            setattr(report, name, value)
        report._css = css


def best_write(run: Consolidation, path: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        report.write_report(run, path, ["returns/"])
        best = min(best, time.perf_counter() - start)
    return best


def visit(html: Path) -> dict:
    """Chromium's time to the load event, then to the first screenshot of the top."""
    with open_page(html, width=1280, height=800, timeout=VISIT_TIMEOUT) as page:
        start = time.perf_counter()
        page.screenshot(width=1280, height=800)
        shot = time.perf_counter() - start
        rows = page.evaluate("document.querySelectorAll('#heatmap tbody tr').length")
        blocks = page.evaluate("document.querySelectorAll('#heatmap .net').length")
        errors = page.errors()
    return {"load_seconds": round(page.load_seconds, 2), "shot_seconds": round(shot, 2),
            "heatmap_rows": rows, "heatmap_blocks": blocks, "errors": errors}


def printed(html: Path) -> dict:
    out = html.with_suffix(".pdf")
    start = time.perf_counter()
    try:
        pdf.html_to_pdf(html, out)
    except pdf.PdfError as exc:
        return {"pdf_error": str(exc)}
    found = {"pdf_seconds": round(time.perf_counter() - start, 2),
             "pdf_mb": round(out.stat().st_size / 2**20, 2)}
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
        if match := re.search(r"^Pages:\s+(\d+)", info, re.M):
            found["pdf_pages"] = int(match.group(1))
    return found


def measure(run: Consolidation, html: Path, repeat: int) -> dict:
    seconds = best_write(run, html, repeat)
    figures = {"size_mb": round(html.stat().st_size / 2**20, 2),
               "write_seconds": round(seconds, 3)}
    if chromium():
        figures.update(visit(html))
        figures.update(printed(html))
    return figures


def verdicts(n: int, figures: dict) -> dict:
    return {f"{name}_under_{limit}": figures.get(name, float("inf")) < limit
            for name, limit in TARGETS.get(n, {}).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default="100,2000", help="school counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="writes timed, best kept")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    args = parser.parse_args()
    if not chromium():
        print("report: Chromium is not installed; only sizes and write times are measured",
              file=sys.stderr)
    results = {"load_average_before": os.getloadavg(), "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="wbt-report-") as tmp:
        for n in (int(x) for x in args.n.split(",")):
            start = time.perf_counter()
            run = build_run(n)
            print(f"built {n} schools in memory in {time.perf_counter() - start:.1f} s",
                  file=sys.stderr)
            figures = measure(run, Path(tmp) / f"report-{n}.html", args.repeat)
            figures["targets_met"] = verdicts(n, figures)
            if not args.no_naive:
                with naive_design():
                    figures["naive"] = measure(build_run(n, networks=False),
                                               Path(tmp) / f"naive-{n}.html", args.repeat)
            results["sizes"][str(n)] = figures
            print(f"{n} schools: {json.dumps(figures)}", file=sys.stderr)
    save_results("report", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
