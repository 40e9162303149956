"""A whole consolidation run: discover, read, give statuses, write outputs, report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from .consolidate import (
    ACCEPTED,
    ACCEPTED_WITH_WARNINGS,
    CONFLICT,
    MISSING,
    REJECTED,
    Consolidation,
    PreviousCycle,
    consolidate,
    read_all,
)
from .files import discover, display_name
from .generate import default_jobs
from .history import Recorded, StoreError, earlier_cycle, record_alongside
from .reader import Limits
from .roster import School
from .rubric import Rubric
from .summary import preload_exports, write_outputs

_SHOWN_AT_MOST = 12
_NAMED_AT_MOST = 5  # skipped and ignored files named on the terminal


@dataclass
class Report:
    run: Consolidation
    outputs: dict[str, Path] = field(default_factory=dict)
    recorded: Recorded | None = None  # the cycle as recorded in the history store

    def to_json(self) -> dict:
        run = self.run
        return {
            "rubric": {"id": run.rubric.id, "version": run.rubric.version,
                       "fingerprint": run.rubric.fingerprint},
            "cycle": run.cycle,
            "counts": run.counts(),
            "returns": [dict(zip(("school_id", "school_name", "file", "sha256", "status",
                                  "rated", "total", "errors", "warnings"), row.values(),
                                 strict=True)) for row in run.rows],
            "problems": [p.to_dict() for p in run.problems],
            "skipped": [{"file": s.display, "reason": s.reason} for s in run.discovery.skipped],
            "ignored": run.discovery.ignored,
            "ignored_files": list(run.discovery.ignored_files),
            "outputs": {name: display_name(str(path)) for name, path in self.outputs.items()},
            **({"history": _recorded_json(self.recorded)} if self.recorded else {}),
        }

    def render(self) -> str:
        run = self.run
        counts = run.counts()
        lines = [", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no returns"]
        for row in run.rows:
            if row.status in (REJECTED, CONFLICT):
                first = next((p for p in row.result.problems if p.is_error), None)
                why = f": {first.code}: {first.message}" if first else ""
                lines.append(f"  {row.status:9} {row.file}{why}")
        missing = [r for r in run.rows if r.status == MISSING]
        if missing:
            names = ", ".join(f"{r.school_id} {r.school_name}" for r in missing[:_SHOWN_AT_MOST])
            extra = len(missing) - _SHOWN_AT_MOST
            more = f" and {extra} more" if extra > 0 else ""
            lines.append(f"  missing   {names}{more}")
        warned = sum(1 for r in run.rows if r.status == ACCEPTED_WITH_WARNINGS)
        if warned:
            lines.append(f"  {warned} accepted return(s) have warnings: see problems.csv")
        skipped = run.discovery.skipped
        if skipped:
            named = [f"{s.display} ({s.reason})" for s in skipped]
            lines.append(f"  skipped {len(skipped)} file(s): {_first_few(named)}")
        ignored = run.discovery.ignored_files
        if ignored:
            lines.append(f"  ignored {len(ignored)} other file(s): {_first_few(ignored)}")
        accepted = counts[ACCEPTED] + counts[ACCEPTED_WITH_WARNINGS]
        lines.append(f"{accepted} of {len(run.roster)} schools consolidated. Wrote:")
        lines.extend(f"  {display_name(str(path))}" for path in self.outputs.values())
        if self.recorded:
            lines.append(_recorded_line(self.recorded))
        return "\n".join(lines)


def _recorded_line(recorded: Recorded) -> str:
    info = recorded.cycle
    again = ", replacing its earlier record" if recorded.replaced else ""
    return (f"Recorded cycle {display_name(info.cycle)} in the history store "
            f"{display_name(str(recorded.store))}{again} ({info.schools_accepted} school(s) "
            f"accepted, {info.returns} return(s)).")


def _recorded_json(recorded: Recorded) -> dict:
    return {"store": display_name(str(recorded.store)), "recorded": True,
            "replaced": recorded.replaced, **recorded.cycle.to_json()}


def _first_few(names: list[str], at_most: int = _NAMED_AT_MOST) -> str:
    extra = len(names) - at_most
    return ", ".join(names[:at_most]) + (f" and {extra} more" if extra > 0 else "")


def run_consolidation(rubric: Rubric, roster: list[School], inputs: list[str], out: Path,
                      cycle: str = "", limits: Limits | None = None, jobs: int | None = None,
                      quiet: bool = True, history: Path | None = None,
                      pdf: Callable[[Path, Path], None] | None = None) -> Report:
    """Read, consolidate and write the outputs; with `history` (and a cycle), also record
    the cycle in that store (history.check_store should have been called before); with
    `pdf` (html path, pdf path), also print the board report to PDF."""
    limits = limits or Limits()
    found = discover(inputs)
    show = not quiet and sys.stderr.isatty() and len(found.sources) > 1
    jobs = jobs or default_jobs()
    if show:
        with click.progressbar(length=len(found.sources), label="Reading returns",
                               file=sys.stderr) as bar:
            results = list(read_all(found.sources, rubric, limits, jobs, bar.update,
                                    preload_exports))
    else:
        results = list(read_all(found.sources, rubric, limits, jobs,
                                while_reading=preload_exports))
    run = consolidate(results, rubric, roster, cycle, found)
    if history is not None:
        run.previous = previous_cycle(history, cycle)
    report = Report(run)
    if history is None:
        report.outputs = write_outputs(run, out, inputs, pdf)
    else:
        report.outputs, report.recorded = _record(
            history, run, cycle, out, lambda: write_outputs(run, out, inputs, pdf))
    return report


def previous_cycle(history: Path, cycle: str) -> PreviousCycle | None:
    """The most recent cycle the store holds other than `cycle`, for the Trends sheet."""
    earlier = earlier_cycle(history, cycle, verify=False)  # the CLI checked the store
    if earlier is None:
        return None
    return PreviousCycle(earlier.cycle, {
        (r.school_id, r.indicator_id): (r.level, r.next_steps or "", r.priority or "")
        for r in earlier.ratings})


def _record(history: Path, run: Consolidation, cycle: str, out: Path,
            write: Callable[[], dict[str, Path]]) -> tuple[dict[str, Path], Recorded]:
    """Write the outputs while the cycle is recorded; the store commits after them."""
    try:
        # The CLI checked the store's integrity before reading: not again.
        return record_alongside(history, run, cycle, write)
    except StoreError as exc:
        # The outputs are in place: say so, and that running again records the cycle.
        raise StoreError(f"{exc} (the outputs in {display_name(str(out))} were written, but "
                         f"cycle {display_name(cycle)} was not recorded: run again to record "
                         "it)") from None


__all__ = ["ACCEPTED", "Report", "run_consolidation"]
