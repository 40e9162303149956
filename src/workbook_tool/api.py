"""The public Python API: what the CLI does, as functions that return plain Python values.

Everything here is re-exported by `workbook_tool` (see its `__all__`), which loads this
module on first use. The heavy libraries (python-calamine, XlsxWriter, pyarrow, pandas) are
imported inside the functions that need them, so `import workbook_tool` stays instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .problems import NothingDone, Problem
from .roster import RosterError, School
from .rubric import Rubric, RubricError

if TYPE_CHECKING:
    import pandas

__all__ = ["CheckResult", "Consolidated", "History", "NothingDone", "Problem", "RosterError",
           "RubricError", "check_workbook", "consolidate_returns", "generate_workbooks",
           "load_roster", "load_rubric", "read_history"]

PathLike = str | Path

_LEVEL_COLUMNS = ("level", "previous_level")  # numbers (None where unrated)
_COUNT_COLUMNS = ("rated", "total", "errors", "warnings", "schools_accepted", "returns")


def load_rubric(path: PathLike | None = None) -> Rubric:
    """Load and validate a rubric YAML file; without a path, the packaged District Framework.

    The rubric's `id`, `version`, `title`, `labels` (level labels in level order),
    `domains` and `indicators` are read-only attributes. Raises RubricError listing every
    problem (`exc.problems`).

    Example:
        >>> rubric = load_rubric()
        >>> rubric.labels
        ('Emerging', 'Developing', 'Advancing', 'Transforming')
    """
    from .rubric import load_rubric as load

    return load(path)


def load_roster(path: PathLike) -> list[School]:
    """The schools of a roster (CSV or XLSX with columns school_id and school_name).

    Each school has `school_id`, `school_name`, `network`, `contact_name` and
    `contact_email`. Raises RosterError listing every problem with its row (`exc.problems`).

    Example:
        >>> schools = load_roster("samples/roster.csv")
        >>> schools[0].school_id
        '101'
    """
    from .roster import load_roster as load

    return load(path)


def generate_workbooks(roster: PathLike | list[School], out: PathLike, *,
             rubric: PathLike | Rubric | None = None, cycle: str | None = None,
             domains: list[str] | None = None, due: str | None = None,
             return_to: str | None = None, password: str | None = None,
             raters: int | None = None, prefill: PathLike | None = None,
             prefill_cycle: str | None = None, jobs: int | None = None) -> list[dict]:
    """Write one workbook per school and manifest.csv into `out`, as `workbook-tool generate`.

    `roster` is a roster file or the list load_roster returns; `rubric` a file, a loaded
    rubric or None for the packaged one. `domains` (e.g. ["1", "3"]) limits the workbook to
    those domains, `raters` (2 to 8) adds a Team ratings sheet, and `prefill` (a history
    store, needs `cycle`) prefills each school's answers of its most recent other cycle
    there (or of `prefill_cycle`). Returns the manifest's rows: dicts with school_id,
    school_name, file (the name in `out`) and sha256.

    Example:
        >>> written = generate_workbooks("samples/roster.csv", "workbooks", cycle="2026-27")
        >>> written[0]["file"]
        '101_lincoln-high-school.xlsx'
    """
    from .generate import default_jobs
    from .generate import generate as run
    from .writer import Issue

    loaded = _rubric(rubric)
    schools = _roster(roster)
    if domains:
        try:
            loaded.select(list(domains))
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
    if raters is not None and not 2 <= raters <= 8:
        raise ValueError(f"raters must be from 2 to 8 (one rating column per team member), "
                         f"not {raters}")
    cycle = (cycle or "").strip()
    issue = Issue(cycle=cycle, due=(due or "").strip(), return_to=(return_to or "").strip(),
                  raters=raters or 0)
    previous = _previous(prefill, prefill_cycle, loaded, cycle, schools)
    made = run(loaded, schools, out, issue, list(domains) if domains else None, password,
               jobs or default_jobs(), previous=previous)
    return [{"school_id": g.school.school_id, "school_name": g.school.school_name,
             "file": g.file, "sha256": g.sha256} for g in made]


def _previous(store: PathLike | None, prefill_cycle: str | None, rubric: Rubric, cycle: str,
              schools: list[School]) -> dict:
    """Each school's answers of an earlier cycle, from the store `prefill` names."""
    if store is None:
        if prefill_cycle is not None:
            raise ValueError("prefill_cycle chooses a cycle of a history store: give prefill too")
        return {}
    if not cycle:
        raise ValueError("prefill carries an earlier cycle into a new one: give cycle too")
    from .history import check_store, previous_answers

    check_store(store)
    return previous_answers(store, rubric, cycle, [s.school_id for s in schools],
                            prefill_cycle.strip() if prefill_cycle else None, verify=False)


@dataclass(frozen=True)
class CheckResult:
    """What `check_workbook` found in one filled workbook.

    `ok` is True when the district would accept it (warnings allowed). `answers` holds one
    dict per indicator (indicator_id, level, label, evidence, next_steps, priority; level
    is None where unrated), `problems` the Problem records, in the order found.
    """

    file: str
    sha256: str
    school_id: str
    school_name: str
    cycle: str
    ok: bool
    rated: int
    total: int
    errors: int
    warnings: int
    answers: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check_workbook(path: PathLike, *, rubric: PathLike | Rubric | None = None) -> CheckResult:
    """Read one filled workbook as `workbook-tool check` does; never raises for a bad file.

    Example:
        >>> found = check_workbook("returns/101_lincoln-high-school.xlsx")
        >>> found.ok, found.rated, found.total
        (True, 28, 28)
        >>> [p.code for p in found.problems]
        []
    """
    from .reader import read_file

    result = read_file(str(path), _rubric(rubric))
    answers = [{"indicator_id": a.indicator_id, "level": a.level, "label": a.label,
                "evidence": a.evidence, "next_steps": a.next_steps, "priority": a.priority}
               for a in result.answers]
    return CheckResult(result.file, result.sha256, result.school_id, result.school_name,
                       result.cycle, result.ok, result.rated, result.total, result.errors,
                       result.warnings, answers, list(result.problems))


@dataclass(frozen=True)
class Consolidated:
    """The result of `consolidate_returns`: the rows of returns.csv, problems.csv and ratings.csv.

    `returns`: one dict per file read and per missing school, with the columns of
    returns.csv (rated, total, errors and warnings are ints, None for a missing school).
    `ratings`: one dict per indicator of every accepted return, with the columns of
    ratings.csv (level and previous_level are ints, None where unrated). `problems`: the
    Problem records of every file. `counts`: status -> number of rows. `outputs`: output
    name -> path of what was written (empty without `out`). `labels`: the rubric's level
    labels in level order.
    """

    cycle: str
    labels: tuple[str, ...]
    counts: dict[str, int]
    returns: list[dict]
    problems: list[Problem]
    ratings: list[dict]
    outputs: dict[str, Path] = field(default_factory=dict)

    def ratings_frame(self) -> pandas.DataFrame:
        """The ratings as a DataFrame: levels Int16, label an ordered categorical of the
        rubric's labels, text columns string dtype (needs pandas)."""
        from .frames import ratings_frame

        return ratings_frame(self.ratings, _ratings_columns(), self.labels)

    def returns_frame(self) -> pandas.DataFrame:
        """The returns as a DataFrame: status a categorical, counts Int64 (needs pandas)."""
        from .frames import returns_frame

        return returns_frame(self.returns, _returns_columns())

    def problems_frame(self) -> pandas.DataFrame:
        """The problems as a DataFrame, one string column per field (needs pandas)."""
        from .frames import problems_frame

        return problems_frame(self.problems)


def consolidate_returns(inputs: PathLike | Iterable[PathLike], *, roster: PathLike | list[School],
                out: PathLike | None = None, rubric: PathLike | Rubric | None = None,
                cycle: str | None = None, history: PathLike | None = None,
                jobs: int | None = None) -> Consolidated:
    """Read and validate every return in `inputs` (files, folders, zip archives) against
    `roster`, as `workbook-tool consolidate` does.

    With `out`, the same outputs as the CLI are written there (district_summary.xlsx,
    district_report.html, the CSV files). With `history` (needs `out` and `cycle`), the
    cycle is also recorded in that store. Without `cycle`, returns of several cycles raise
    NothingDone, as in the CLI. `jobs`: worker processes (default: the machine's cores).

    Example:
        >>> result = consolidate_returns("returns/", roster="roster.csv", cycle="2026-27")
        >>> result.counts["accepted"], result.ratings[0]["level"]
        (9, 3)
    """
    paths = [str(inputs)] if isinstance(inputs, str | Path) else [str(p) for p in inputs]
    cycle = (cycle or "").strip()
    store = _store(history, out, cycle)
    loaded = _rubric(rubric)
    schools = _roster(roster)
    if out is None:
        run, outputs = _decide(paths, loaded, schools, cycle, jobs), {}
    else:
        from .pipeline import run_consolidation

        _check_out(Path(out), paths)
        report = run_consolidation(loaded, schools, paths, Path(out), cycle, jobs=jobs,
                                   quiet=True, history=store)
        run, outputs = report.run, report.outputs
    from .summary.exports import ratings_rows, returns_rows

    return Consolidated(run.cycle, loaded.labels, run.counts(),
                        [_typed(row, _returns_columns()) for row in returns_rows(run)],
                        list(run.problems),
                        [_typed(row, _ratings_columns()) for row in ratings_rows(run)],
                        outputs)


def _decide(paths: list[str], rubric: Rubric, schools: list[School], cycle: str,
            jobs: int | None):
    """Read and give statuses, writing nothing (consolidate_returns without `out`)."""
    from .consolidate import consolidate as decide
    from .consolidate import read_all
    from .files import discover
    from .generate import default_jobs
    from .reader import Limits

    found = discover(paths)
    results = list(read_all(found.sources, rubric, Limits(), jobs or default_jobs()))
    return decide(results, rubric, schools, cycle, found)


def _store(history: PathLike | None, out: PathLike | None, cycle: str) -> Path | None:
    """The history store to record in, checked before anything is read or written."""
    if history is None:
        return None
    if out is None or not cycle:
        raise ValueError("history records a cycle alongside its outputs: give out and cycle "
                         "too")
    from .history import check_store

    check_store(history)
    return Path(history)


def _check_out(out: Path, inputs: list[str]) -> None:
    from .files import is_inside
    from .summary import recover_outputs

    for arg in inputs:
        if Path(arg).is_dir() and is_inside(out, Path(arg)):
            raise ValueError(f"the output folder {out} is inside the input folder {arg}; "
                             "choose an output folder outside the returns")
    if out.is_dir():  # an interrupted run's commit is finished (or undone) first
        recover_outputs(out)


@dataclass(frozen=True)
class History:
    """What a history store holds: `cycles` (dicts: cycle, recorded_at, rubric_id,
    rubric_version, rubric_fingerprint, tool_version, schools_accepted, returns), the
    earliest recorded first; `ratings` (dicts with the columns of ratings.csv, every cycle)
    and `returns` (dicts: cycle, then the columns of returns.csv)."""

    cycles: list[dict]
    ratings: list[dict]
    returns: list[dict]

    def ratings_frame(self) -> pandas.DataFrame:
        """Every cycle's ratings as a DataFrame, typed as Consolidated.ratings_frame; the
        label categories are the labels found, in level order (needs pandas)."""
        from .frames import ratings_frame
        from .history import HISTORY_COLUMNS

        return ratings_frame(self.ratings, HISTORY_COLUMNS, _labels_in_level_order(self.ratings))

    def returns_frame(self) -> pandas.DataFrame:
        """Every cycle's returns as a DataFrame, typed as Consolidated.returns_frame
        (needs pandas)."""
        from .frames import returns_frame
        from .history import HISTORY_RETURNS_COLUMNS

        return returns_frame(self.returns, HISTORY_RETURNS_COLUMNS)


def read_history(store: PathLike) -> History:
    """Read every cycle recorded in a history store (`consolidate --history`).

    Raises NothingDone (a StoreError) when there is no store there or it cannot be used.

    Example:
        >>> history = read_history("history.sqlite")
        >>> [c["cycle"] for c in history.cycles]
        ['2025-26', '2026-27']
    """
    from .history import (
        HISTORY_COLUMNS,
        HISTORY_RETURNS_COLUMNS,
        history_returns,
        history_rows,
        list_cycles,
        reading,
    )

    cycles = [info.to_json() for info in list_cycles(store)]
    with reading(store) as con:
        ratings = [_typed(row, HISTORY_COLUMNS) for row in history_rows(con)]
        returns = [_typed(row, HISTORY_RETURNS_COLUMNS) for row in history_returns(con)]
    return History(cycles, ratings, returns)


# -- helpers ------------------------------------------------------------------------------

def _rubric(rubric: PathLike | Rubric | None) -> Rubric:
    return rubric if isinstance(rubric, Rubric) else load_rubric(rubric)


def _roster(roster: PathLike | list[School]) -> list[School]:
    return load_roster(roster) if isinstance(roster, str | Path) else list(roster)


def _returns_columns() -> tuple[str, ...]:
    from .consolidate import RETURNS_COLUMNS

    return RETURNS_COLUMNS


def _ratings_columns() -> tuple[str, ...]:
    from .consolidate import RATINGS_COLUMNS

    return RATINGS_COLUMNS


def _typed(row: Iterable[Any], columns: Iterable[str]) -> dict:
    """A CSV row as a dict: levels and counts as ints, None where the CSV has ""."""
    out = dict(zip(columns, row, strict=True))
    for name in (*_LEVEL_COLUMNS, *_COUNT_COLUMNS):
        if name in out:
            out[name] = None if out[name] in ("", None) else int(out[name])
    return out


def _labels_in_level_order(ratings: list[dict]) -> tuple[str, ...]:
    """The labels that occur, ordered by their level (a label's lowest level first)."""
    lowest: dict[str, int] = {}
    for row in ratings:
        if row["label"] and row["level"] is not None:
            lowest[row["label"]] = min(row["level"], lowest.get(row["label"], row["level"]))
    return tuple(sorted(lowest, key=lambda label: (lowest[label], label)))
