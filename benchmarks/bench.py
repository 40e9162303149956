"""Benchmark: generate, fill and consolidate N workbooks; naive openpyxl baselines; the floor.

    python benchmarks/bench.py [--n 100,1000] [--big] [--jobs N] [--keep]

For each N: generate() writes N blank workbooks (stamping), a fast filler writes N filled
returns (stamping with answers; reported separately), run_consolidation() consolidates them
(summary included). Baselines, run on a sample of min(N, 100) and extrapolated to N:
openpyxl building an equivalent-looking workbook cell by cell, and openpyxl (read-only)
loading each return and reading its named cells. The floor: unzipping every generated
file and writing the same members to a new zip. Each stage runs in its own process, so
its peak memory (its process plus its worker processes, sampled from /proc) is its own.
Data goes to a temporary folder under /tmp; results to benchmarks/results/<date>-<host>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from workbook_tool import layout
from workbook_tool.files import write_atomic
from workbook_tool.generate import default_jobs, file_names, generate
from workbook_tool.reader.model import Answer
from workbook_tool.roster import School, load_roster
from workbook_tool.rubric import Rubric, load_rubric
from workbook_tool.writer import Issue
from workbook_tool.writer.stamp import Stamper

HERE = Path(__file__).parent
RESULTS = HERE / "results"
CYCLE = "2026-27"
SAMPLE = 100
ANSWER_SETS = 16
NETWORKS = ["North", "South", "East", "West", ""]
PREFIXES = ["Lincoln", "O'Keefe", "École Saint-Éxupéry", "Washington", "Rosa Parks", "Nguyễn",
            "Smith & Jones", "Riverside", "Mountain View", "Ōkubo"]
KINDS = ["High School", "Middle School", "Academy", "Early College", "Elementary School"]


# -- data ---------------------------------------------------------------------------------

def schools(n: int) -> list[School]:
    return [School(f"S{i:05d}", f"{PREFIXES[i % len(PREFIXES)]} {KINDS[i % len(KINDS)]} #{i}",
                   NETWORKS[i % len(NETWORKS)]) for i in range(n)]


def write_roster(path: Path, roster: list[School]) -> None:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["school_id", "school_name", "network"])
        for s in roster:
            writer.writerow([s.school_id, s.school_name, s.network])


def answer_set(rubric: Rubric, k: int) -> dict[str, Answer]:
    """A plausible filled return; most indicators rated, evidence of a sentence or three."""
    rng = random.Random(k)
    answers = {}
    for ind in rubric.indicators:
        level = rng.choice([None, 1, 2, 2, 3, 3, 3, 4])
        label = rubric.levels[level - 1].label if level else ""
        evidence = " ".join(rng.choice([
            f"Minutes of the {ind.title.lower()} meetings since September (set {k}).",
            "Walkthrough notes from three classrooms & the team's data review.",
            f"Survey of {rng.randint(20, 140)} students and families; results attached.",
            "Master schedule and the pathway course sequence for next year.",
        ]) for _ in range(rng.randint(1, 3)))
        next_steps = rng.choice(["Agree on owners and dates at the next team meeting.",
                                 f"Pilot with one pathway by {rng.choice(['March', 'May'])}.",
                                 ""])
        priority = rng.choice(["High", "Medium", "Low", ""])
        answers[ind.id] = Answer(ind.id, level, label, evidence, next_steps, priority)
    return answers


_fill: dict = {}


def _fill_init(rubric: Rubric, folder: str) -> None:
    issue = Issue(CYCLE)
    _fill["stampers"] = [Stamper(rubric, issue, answers=answer_set(rubric, k))
                         for k in range(ANSWER_SETS)]
    _fill["folder"] = Path(folder)


def _fill_one(task: tuple[int, School, str]) -> None:
    i, school, name = task
    data = _fill["stampers"][i % ANSWER_SETS].workbook(school)
    write_atomic(_fill["folder"] / name, data)


# -- measuring ----------------------------------------------------------------------------

def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS")),
                              0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


class PeakMemory:
    """Samples the RSS of this process and its children every 20 ms in a thread."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))
            self._stop.wait(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))


def _stage_result(seconds: float, count: int, peak: PeakMemory, jobs: int, **extra) -> dict:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": round(seconds, 3),
        "count": count,
        "per_second": round(count / seconds, 1) if seconds else None,
        "peak_mb_sampled": round(peak.peak_kb / 1024, 1),  # main + children, sampled
        # An upper bound without sampling: main's peak + jobs x the largest child's peak.
        "peak_mb_bound": round((self_kb + (child_kb * jobs if child_kb else 0)) / 1024, 1),
        "jobs": jobs,
        **extra,
    }


# -- stages (each runs in its own process: `bench.py --stage NAME ...`) -------------------

def stage_generate(n: int, root: Path, jobs: int) -> dict:
    rubric = load_rubric()
    roster = schools(n)
    write_roster(root / "roster.csv", roster)
    with PeakMemory() as peak:
        t = time.perf_counter()
        generate(rubric, roster, root / "blank", Issue(CYCLE), jobs=jobs)
        seconds = time.perf_counter() - t
    return _stage_result(seconds, n, peak, jobs)


def stage_fill(n: int, root: Path, jobs: int) -> dict:
    rubric = load_rubric()
    roster = schools(n)
    names = file_names(roster)
    folder = root / "returns"
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(i, s, names[s.school_id]) for i, s in enumerate(roster)]
    with PeakMemory() as peak:
        t = time.perf_counter()
        if jobs <= 1:
            _fill_init(rubric, str(folder))
            for task in tasks:
                _fill_one(task)
        else:
            with ProcessPoolExecutor(jobs, initializer=_fill_init,
                                     initargs=(rubric, str(folder))) as pool:
                list(pool.map(_fill_one, tasks, chunksize=max(1, min(64, n // (jobs * 4)))))
        seconds = time.perf_counter() - t
    return _stage_result(seconds, n, peak, jobs, answer_sets=ANSWER_SETS)


def stage_consolidate(n: int, root: Path, jobs: int) -> dict:
    from workbook_tool.pipeline import run_consolidation

    rubric = load_rubric()
    roster = load_roster(root / "roster.csv")
    with PeakMemory() as peak:
        t = time.perf_counter()
        report = run_consolidation(rubric, roster, [str(root / "returns")], root / "out",
                                   jobs=jobs)
        seconds = time.perf_counter() - t
    counts = {k: v for k, v in report.run.counts().items() if v}
    size = (root / "out" / "district_summary.xlsx").stat().st_size
    return _stage_result(seconds, n, peak, jobs, counts=counts,
                         summary_mb=round(size / 2**20, 1))


def _rezip(path: str) -> int:
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            dst.writestr(info, data)
    out = path + ".rezip"
    with open(out, "wb") as f:
        f.write(buffer.getvalue())
    os.remove(out)
    return len(members)


def stage_floor(n: int, root: Path, jobs: int) -> dict:
    files = sorted(str(p) for p in (root / "blank").glob("*.xlsx"))
    with PeakMemory() as peak:
        t = time.perf_counter()
        if jobs <= 1:
            for f in files:
                _rezip(f)
        else:
            with ProcessPoolExecutor(jobs) as pool:
                list(pool.map(_rezip, files, chunksize=max(1, min(64, n // (jobs * 4)))))
        seconds = time.perf_counter() - t
    return _stage_result(seconds, len(files), peak, jobs)


def openpyxl_workbook(rubric: Rubric, school: School, path: Path) -> None:
    """A naive equivalent: the same sheets, texts, styles, names, validations, cell by cell."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    thin = Side(style="thin", color="A6A6A6")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    head = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="1F4E79")
    input_fill = PatternFill("solid", fgColor="FFFDE7")
    book = Workbook()
    start = book.active
    start.title = layout.START_SHEET
    start["A1"] = f"{rubric.title}: self-assessment"
    start["A1"].font = Font(bold=True, size=16, color="FFFFFF")
    start["A1"].fill = head_fill
    start.merge_cells("A1:D1")
    start["A2"] = school.school_name
    for row, (label, name, value) in enumerate(
            [("School", "school_name", school.school_name),
             ("School ID", "school_id", school.school_id), ("Assessment cycle", "cycle", CYCLE)],
            start=4):
        start.cell(row, 1, label).font = Font(bold=True)
        start.cell(row, 2, value).border = box
        book.defined_names[name] = DefinedName(name, attr_text=f"'{layout.START_SHEET}'!$B${row}")
    for row, level in enumerate(rubric.levels, start=10):
        start.cell(row, 1, f"{level.level} {level.label}")
        start.cell(row, 2, level.definition).alignment = wrap
    start.protection.sheet = True
    for domain in rubric.domains:
        sheet = book.create_sheet(layout.domain_sheet_name(domain))
        cols = layout.DomainColumns(len(rubric.levels))
        for col, width in zip("ABCDEFGHIJK", [6, 22, 34, 34, 34, 34, 15, 40, 34, 11], strict=False):
            sheet.column_dimensions[col].width = width
        sheet.cell(1, 1, f"Domain {domain.id}: {domain.title}").font = Font(bold=True, size=16)
        headers = ["ID", "Indicator", *(f"{lv.level} {lv.label}" for lv in rubric.levels),
                   "Rating", "Evidence", "Next steps", "Priority"]
        for col, text in enumerate(headers, start=1):
            cell = sheet.cell(2, col, text)
            cell.font, cell.fill, cell.alignment = head, head_fill, wrap
        ratings = DataValidation(type="list", formula1='"' + ",".join(rubric.labels) + '"')
        priorities = DataValidation(type="list", formula1='"High,Medium,Low"')
        sheet.add_data_validation(ratings)
        sheet.add_data_validation(priorities)
        row = 3
        for section in domain.sections:
            sheet.cell(row, 1, section.title).font = Font(bold=True)
            row += 1
            for ind in section.indicators:
                sheet.cell(row, 1, ind.id).border = box
                sheet.cell(row, 2, ind.title).border = box
                for level in rubric.levels:
                    cell = sheet.cell(row, 2 + level.level, ind.descriptors[level.level].text)
                    cell.border, cell.alignment = box, wrap
                for kind in layout.INPUT_KINDS:
                    col = cols.of(kind) + 1
                    cell = sheet.cell(row, col)
                    cell.fill, cell.border = input_fill, box
                    cell.protection = Protection(locked=False)
                    ref = f"'{sheet.title}'!${layout.col_letter(col - 1)}${row}"
                    name = layout.defined_name(kind, ind)
                    book.defined_names[name] = DefinedName(name, attr_text=ref)
                ratings.add(f"{layout.col_letter(cols.rating)}{row}")
                priorities.add(f"{layout.col_letter(cols.priority)}{row}")
                sheet.row_dimensions[row].height = 90
                row += 1
        sheet.protection.sheet = True
        sheet.freeze_panes = "A3"
    summary = book.create_sheet(layout.SUMMARY_SHEET)
    for row, domain in enumerate(rubric.domains, start=4):
        summary.cell(row, 1, f"D{domain.id} {domain.title}")
        summary.cell(row, 2, len(domain.indicators))
        for i, level in enumerate(rubric.levels):
            rng = f"'{layout.domain_sheet_name(domain)}'!$G$4:$G$40"
            summary.cell(row, 4 + i, f'=COUNTIF({rng},"{level.label}")')
    glossary = book.create_sheet(layout.GLOSSARY_SHEET)
    for row, entry in enumerate(rubric.glossary, start=3):
        glossary.cell(row, 1, entry.term)
        glossary.cell(row, 2, entry.definition).alignment = wrap
    meta = book.create_sheet(layout.DATA_SHEET)
    values = {layout.META_FORMAT: layout.FORMAT_VERSION, "rubric_id": rubric.id,
              "rubric_version": rubric.version, "rubric_fingerprint": rubric.fingerprint,
              "school_id": school.school_id, "school_name": school.school_name,
              "cycle": CYCLE, "domains": ",".join(d.id for d in rubric.domains)}
    for row, (key, value) in enumerate(values.items(), start=2):
        meta.cell(row, 1, key)
        meta.cell(row, 2, value)
    meta.sheet_state = "hidden"
    book.save(path)


def stage_openpyxl_generate(n: int, root: Path, jobs: int) -> dict:
    rubric = load_rubric()
    sample = schools(n)[:min(n, SAMPLE)]
    folder = root / "openpyxl"
    folder.mkdir(exist_ok=True)
    with PeakMemory() as peak:
        t = time.perf_counter()
        for school in sample:
            openpyxl_workbook(rubric, school, folder / f"{school.school_id}.xlsx")
        seconds = time.perf_counter() - t
    shutil.rmtree(folder)
    extrapolated = seconds / len(sample) * n
    return _stage_result(extrapolated, n, peak, 1, sample=len(sample),
                         sample_seconds=round(seconds, 3), extrapolated=True)


def stage_openpyxl_read(n: int, root: Path, jobs: int) -> dict:
    import openpyxl

    rubric = load_rubric()
    files = sorted((root / "returns").glob("*.xlsx"))[:min(n, SAMPLE)]
    names = layout.expected_names(rubric)
    with PeakMemory() as peak:
        t = time.perf_counter()
        for path in files:
            book = openpyxl.load_workbook(path, read_only=True)
            values = {}
            for name in names:
                sheet, cell = layout.parse_ref(book.defined_names[name].attr_text)
                values[name] = book[sheet][cell].value
            book.close()
        seconds = time.perf_counter() - t
    extrapolated = seconds / len(files) * n
    return _stage_result(extrapolated, n, peak, 1, sample=len(files),
                         sample_seconds=round(seconds, 3), extrapolated=True)


STAGES = {
    "generate": stage_generate,
    "fill": stage_fill,
    "consolidate": stage_consolidate,
    "floor": stage_floor,
    "openpyxl_generate": stage_openpyxl_generate,
    "openpyxl_read": stage_openpyxl_read,
}


def run_stage(name: str, n: int, root: Path, jobs: int) -> dict:
    """Run a stage in a fresh process so its peak memory is its own."""
    cmd = [sys.executable, __file__, "--stage", name, "--n", str(n), "--root", str(root),
           "--jobs", str(jobs)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------

def packed_run(rubric: Rubric, roster: list[School], cycle: str, sets: int = 16,
               returned=lambda i: True):
    """A consolidation built in memory, as a real run holds it (answers packed, texts past
    the budget spilled), with the `sets` answer sets round-robin over the schools for which
    `returned(i)` is true: for timing what comes after reading."""
    from workbook_tool.consolidate import TextSpill, _share_strings, consolidate
    from workbook_tool.reader.model import ReturnResult

    answers = [list(answer_set(rubric, k).values()) for k in range(sets)]
    spill = TextSpill()
    results = []
    for i, school in enumerate(roster):
        if not returned(i):
            continue
        result = ReturnResult(f"returns/{school.school_id}.xlsx", f"{i:064x}",
                              school.school_id, school.school_name, cycle, rubric.id,
                              rubric.version, rubric.fingerprint, 2,
                              completed_by=f"Team of {school.school_id}",
                              answers=answers[i % sets])
        results.append(_share_strings(result, spill))
    return consolidate(results, rubric, roster, cycle)


def save_results(name: str, figures: dict) -> Path:
    """Add the load average and the machine to `figures`, print them (without the machine)
    and write them to benchmarks/results/<date>-<host>-<name>.json."""
    figures["load_average"] = os.getloadavg()
    figures["machine"] = machine()
    stem = f"{dt.date.today()}-{socket.gethostname()}-{name}"
    out = Path(__file__).parent / "results" / f"{stem}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in figures.items() if k != "machine"}, indent=2))
    print(f"results: {out}", file=sys.stderr)
    return out


def machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "hostname": socket.gethostname(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: version(p) for p in ("workbook-tool", "XlsxWriter", "python-calamine",
                                             "openpyxl")},
    }


def table(results: list[dict]) -> str:
    lines = [f"{'N':>6}  {'stage':<26}{'wall s':>9}{'per s':>9}{'peak MB':>9}  note"]
    for res in results:
        n = res["n"]
        for name, label in (("generate", "generate (stamping)"), ("floor", "floor: unzip + rezip"),
                            ("openpyxl_generate", "openpyxl generate*"),
                            ("fill", "fill (stamping+answers)"),
                            ("consolidate", "consolidate (+summary)"),
                            ("openpyxl_read", "openpyxl read*")):
            s = res["stages"][name]
            note = f"jobs={s['jobs']}"
            if s.get("extrapolated"):
                note = f"1 process, {s['sample']} sampled ({s['sample_seconds']} s), extrapolated"
            lines.append(f"{n:>6}  {label:<26}{s['seconds']:>9.2f}{s['per_second']:>9.1f}"
                         f"{s['peak_mb_sampled']:>9.1f}  {note}")
        r = res["ratios"]
        lines.append(f"{'':>6}  generate vs openpyxl: {r['generate_speedup_vs_openpyxl']}x faster; "
                     f"vs floor: {r['generate_vs_floor']}x the floor's time; "
                     f"reading+consolidating vs openpyxl reading: "
                     f"{r['consolidate_speedup_vs_openpyxl_read']}x faster")
    lines.append("* openpyxl baselines: one process, a sample of min(N, 100), extrapolated to N.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="100,1000", help="comma-separated sizes")
    parser.add_argument("--big", action="store_true", help="add N = 10,000")
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(STAGES[args.stage](int(args.n), Path(args.root), args.jobs)))
        return
    sizes = [int(x) for x in args.n.split(",") if x.strip()]
    if args.big and 10_000 not in sizes:
        sizes.append(10_000)
    base = Path(tempfile.mkdtemp(prefix="wbt-bench-", dir="/tmp"))
    results = []
    try:
        for n in sizes:
            root = base / f"n{n}"
            root.mkdir()
            stages = {}
            for name in ("generate", "floor", "openpyxl_generate", "fill", "consolidate",
                         "openpyxl_read"):
                print(f"N={n}: {name} ...", file=sys.stderr, flush=True)
                stages[name] = run_stage(name, n, root, args.jobs)
            ratios = {
                "generate_speedup_vs_openpyxl": round(
                    stages["openpyxl_generate"]["seconds"] / stages["generate"]["seconds"], 1),
                "generate_vs_floor": round(
                    stages["generate"]["seconds"] / stages["floor"]["seconds"], 2),
                "consolidate_speedup_vs_openpyxl_read": round(
                    stages["openpyxl_read"]["seconds"] / stages["consolidate"]["seconds"], 1),
            }
            results.append({"n": n, "stages": stages, "ratios": ratios})
            if not args.keep:
                shutil.rmtree(root)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    text = table(results)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%d")
    out = RESULTS / f"{stamp}-{socket.gethostname()}.json"
    out.write_text(json.dumps({"date": dt.datetime.now().isoformat(timespec="seconds"),
                               "machine": machine(), "results": results, "table": text},
                              indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}" + (f"; data kept in {base}" if args.keep else ""))


if __name__ == "__main__":
    main()
