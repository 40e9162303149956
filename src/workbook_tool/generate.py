"""Generating one workbook per school of a roster, in parallel, with a manifest."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_path, safe_stem, sha256_bytes, slugify, write_atomic, write_csv
from .reader.model import Previous
from .roster import School
from .rubric import Rubric
from .writer import Issue
from .writer.prefill_stamp import PrefillStamper
from .writer.stamp import Stamper

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("school_id", "school_name", "file", "sha256")


@dataclass(frozen=True)
class Generated:
    school: School
    file: str  # name inside the output folder
    sha256: str


def file_names(schools: Iterable[School]) -> dict[str, str]:
    """school_id -> file name, unique even on case-insensitive file systems."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for school in schools:
        stem = f"{safe_stem(school.school_id)}_{slugify(school.school_name)}"
        name, n = f"{stem}.xlsx", 2
        while name.lower() in taken:
            name, n = f"{stem}-{n}.xlsx", n + 1
        taken.add(name.lower())
        names[school.school_id] = name
    return names


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def generate(
    rubric: Rubric,
    schools: list[School],
    out_dir: str | Path,
    issue: Issue,
    domain_ids: list[str] | None = None,
    password: str | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    previous: dict[str, Previous] | None = None,
) -> list[Generated]:
    """Write every school's workbook and manifest.csv into `out_dir`.

    With `issue.raters` (2 to 8) every workbook has a Team ratings sheet with that many
    rater columns. `previous` maps a school id to that school's answers of an earlier
    cycle: its workbook is prefilled with them; a school without one gets a plain workbook.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rubric.select(domain_ids)  # unknown domains fail before anything is written
    names = file_names(schools)
    # The rubric part is built once per template; each school's values are stamped in.
    previous = previous or {}
    plain = [s for s in schools if s.school_id not in previous]
    stamper = Stamper(rubric, issue, domain_ids, password)
    stamper.prepare(plain)
    prefiller = PrefillStamper(rubric, issue, domain_ids, password)
    prefiller.prepare([(s, previous[s.school_id]) for s in schools if s.school_id in previous])
    stampers = (stamper, prefiller)
    tasks = [(s, str(out / names[s.school_id]), previous.get(s.school_id)) for s in schools]
    results: list[Generated] = []
    for generated in _run(stampers, tasks, jobs):
        results.append(generated)
        if progress:
            progress(1)
    write_manifest(out / MANIFEST, results)
    return results


# Stamping takes a few milliseconds per workbook: processes pay off for large rosters only.
_PARALLEL_FROM = 64

_worker: dict = {}


def _init_worker(stampers: tuple[Stamper, PrefillStamper]) -> None:
    """Each worker process receives the stampers, templates included, once."""
    _worker["stamper"] = stampers


def _run(stampers: tuple[Stamper, PrefillStamper], tasks: list[tuple],
         jobs: int) -> Iterator[Generated]:
    if jobs <= 1 or len(tasks) < _PARALLEL_FROM:
        for task in tasks:
            yield _write_one(stampers, task)
        return
    chunk = max(1, min(64, len(tasks) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                             initargs=(stampers,)) as pool:
        yield from pool.map(_write_in_worker, tasks, chunksize=chunk)


def _write_in_worker(task: tuple) -> Generated:
    return _write_one(_worker["stamper"], task)


def _write_one(stampers: tuple[Stamper, PrefillStamper], task: tuple) -> Generated:
    school, path, last = task
    stamper, prefiller = stampers
    data = stamper.workbook(school) if last is None else prefiller.workbook(school, last)
    write_atomic(path, data)
    return Generated(school, Path(path).name, sha256_bytes(data))


def write_manifest(path: Path, results: list[Generated]) -> None:
    rows = ([g.school.school_id, g.school.school_name, g.file, g.sha256] for g in results)
    with atomic_path(path) as tmp:
        write_csv(tmp, MANIFEST_COLUMNS, rows)
