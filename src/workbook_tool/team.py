"""`workbook-tool team`: the members' own returns of one school, gathered into a team workbook.

Each member fills an ordinary copy of the school's workbook on their own. This reads every
copy exactly as `check` does and writes a new workbook for the school in which rater K is
the K-th input: its ratings fill the rater K column of the Team ratings sheet and its
"Completed by" names the rater. The team then meets, discusses the indicators flagged
"Discuss" and picks the agreed ratings itself: nothing is agreed for it.

What the members wrote as evidence and next steps is carried into the team workbook, each
line headed by the member's name, so that nothing typed is lost; the team edits it down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import layout
from .consolidate import figures
from .files import display_name, write_atomic
from .problems import NothingDone
from .reader import DEFAULT_LIMITS, Limits, read_file
from .reader.model import Answer, ReturnResult, TeamRatings
from .reader.values import EXCEL_MAX_TEXT, excel_length
from .roster import School
from .rubric import Rubric
from .writer import Issue, build_workbook


@dataclass
class Flagged:
    """An indicator whose raters are two levels or more apart."""

    indicator_id: str
    levels: tuple[int | None, ...]

    @property
    def ratings(self) -> str:
        """`1;;4`: rater 1..N's levels, empty where a rater did not rate."""
        return figures(self.levels).ratings


@dataclass
class TeamWorkbook:
    """What `gather` read and, when every input could be used, the workbook it wrote."""

    results: list[ReturnResult]
    out: Path
    written: bool = False
    school: School | None = None
    cycle: str = ""
    names: tuple[str, ...] = ()
    flagged: list[Flagged] = field(default_factory=list)
    compared: int = 0  # indicators rated by two raters or more

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def gather(paths: list[str], rubric: Rubric, out: str | Path, limits: Limits = DEFAULT_LIMITS,
           overwrite: bool = False) -> TeamWorkbook:
    """Read the members' returns and write the team workbook to `out`.

    Raises NothingDone (nothing written) for a usage error: fewer than 2 or more than
    MAX_RATERS inputs, `out` being an input or an existing file (unless `overwrite`),
    inputs of different schools, rubrics, cycles or domains. Inputs with errors are
    reported in the result and nothing is written.
    """
    out = Path(out)
    _check_arguments(paths, out, overwrite)
    results = [read_file(path, rubric, limits) for path in paths]
    team = TeamWorkbook(results, out)
    _check_distinct(results)
    _check_same([r for r in results if r.school_id])
    if not team.ok:
        return team
    first = results[0]
    team.school = School(first.school_id, first.school_name)
    team.cycle = first.cycle
    team.names = tuple(_rater_name(r, path) for r, path in zip(results, paths, strict=True))
    ratings = TeamRatings(team.names, _levels(results))
    for ind_id, levels in ratings.levels.items():
        found = figures(levels)
        team.compared += found.spread is not None
        if found.flagged:
            team.flagged.append(Flagged(ind_id, levels))
    data = build_workbook(
        rubric, team.school, Issue(cycle=team.cycle, raters=len(results)),
        _domain_ids(first, rubric), _answers(results, team.names), team=ratings,
    )
    write_atomic(out, data)
    team.written = True
    return team


def _check_arguments(paths: list[str], out: Path, overwrite: bool) -> None:
    if len(paths) < layout.MIN_RATERS:
        raise NothingDone(f"a team needs at least {layout.MIN_RATERS} members' returns; "
                          f"got {len(paths)}")
    if len(paths) > layout.MAX_RATERS:
        raise NothingDone(f"a team workbook holds at most {layout.MAX_RATERS} raters; got "
                          f"{len(paths)} returns")
    for path in paths:
        if _same_file(Path(path), out):
            raise NothingDone(f"the output {display_name(str(out))} is one of the inputs; "
                              "choose a new file name for the team workbook")
    if out.exists() and not overwrite:
        raise NothingDone(f"{display_name(str(out))} already exists; choose another name, or "
                          "give --force to replace it")


def _check_distinct(results: list[ReturnResult]) -> None:
    """One member, one return: the same file twice (or a copy of it) would count one
    person's ratings as two raters who agree; a team workbook's raters would be lost."""
    seen: dict[str, str] = {}
    for result in results:
        if result.sha256 in seen:
            raise NothingDone(f"{result.file} is the same return as {seen[result.sha256]}; "
                              "give each member's own return once")
        seen[result.sha256] = result.file
        if result.team is not None and any(any(level is not None for level in levels)
                                           for levels in result.team.levels.values()):
            raise NothingDone(f"{result.file} is a team workbook with raters' ratings; give "
                              "the members' own returns, one each")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _check_same(results: list[ReturnResult]) -> None:
    """Every input must be a return of one school, rubric, cycle and set of domains."""
    facts = {
        "schools": lambda r: r.school_id,
        "rubrics": lambda r: f"{r.rubric_id} {r.rubric_version}".strip(),
        "cycles": lambda r: r.cycle,
        "sets of indicators": lambda r: ",".join(a.indicator_id for a in r.answers),
    }
    for what, fact in facts.items():
        seen: dict[str, list[str]] = {}
        for result in results:
            if result.answers or what != "sets of indicators":  # a rejected one has none
                seen.setdefault(fact(result), []).append(result.file)
        if len(seen) > 1:
            if what == "sets of indicators":
                listed = "; ".join(", ".join(files) for files in seen.values())
            else:
                listed = "; ".join(f"{value or '(none)'}: {', '.join(files)}"
                                   for value, files in seen.items())
            raise NothingDone(f"the returns are of different {what} ({listed}); a team "
                              "workbook gathers the returns of one school, rubric and cycle")


def _rater_name(result: ReturnResult, path: str) -> str:
    """The member's "Completed by", or the file's name without its extension."""
    return result.completed_by or display_name(Path(path).stem)


def _levels(results: list[ReturnResult]) -> dict[str, tuple[int | None, ...]]:
    by_input = [{a.indicator_id: a.level for a in r.answers} for r in results]
    ids = [a.indicator_id for a in results[0].answers]
    return {ind_id: tuple(levels.get(ind_id) for levels in by_input) for ind_id in ids}


def _domain_ids(result: ReturnResult, rubric: Rubric) -> list[str]:
    answered = {a.indicator_id for a in result.answers}
    return [d.id for d in rubric.domains if any(i.id in answered for i in d.indicators)]


def _answers(results: list[ReturnResult], names: tuple[str, ...]) -> dict[str, Answer]:
    """Each indicator's members' evidence and next steps, headed by their names; the
    agreed rating and the priority are left to the team."""
    members = [{a.indicator_id: a for a in r.answers} for r in results]
    answers = {}
    for answer in results[0].answers:
        ind_id = answer.indicator_id
        per_member = [member[ind_id] for member in members]
        evidence = _joined(names, [a.evidence for a in per_member], ind_id, "evidence")
        next_steps = _joined(names, [a.next_steps for a in per_member], ind_id, "next steps")
        if evidence or next_steps:
            answers[ind_id] = Answer(ind_id, None, "", evidence, next_steps, "")
    return answers


def _joined(names: tuple[str, ...], texts: list[str], ind_id: str, what: str) -> str:
    # A member's own line breaks are indented, so no line of theirs reads as another
    # member's ("Ana: ...").
    lines = [f"{name}: " + text.replace("\n", "\n    ")
             for name, text in zip(names, texts, strict=True) if text.strip()]
    joined = "\n".join(lines)
    if excel_length(joined) > EXCEL_MAX_TEXT:
        raise NothingDone(f"the members' {what} of {ind_id} together are longer than an Excel "
                          "cell holds; shorten them in the members' workbooks and try again")
    return joined
