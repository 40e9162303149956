"""Many returns + the roster -> statuses, problems and tidy rows for the district.

Reading happens in worker processes, one return at a time, so memory stays flat however
many returns there are; only the small ReturnResults come back.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import sys
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace

from .agreement import median_text, stats
from .files import Discovery, Source
from .problems import ERROR, NothingDone, Problem
from .reader import Limits, read_file
from .reader.model import Answer, ReturnResult, TeamRatings
from .reader.values import quote
from .roster import School
from .rubric import Rubric

ACCEPTED = "accepted"
ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
REJECTED = "rejected"
DUPLICATE = "duplicate"
CONFLICT = "conflict"
MISSING = "missing"
STATUSES = (ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED, DUPLICATE, CONFLICT, MISSING)

RETURNS_COLUMNS = ("school_id", "school_name", "file", "sha256", "status", "rated", "total",
                   "errors", "warnings")
RATINGS_COLUMNS = ("school_id", "school_name", "network", "cycle", "domain_id", "indicator_id",
                   "indicator", "level", "label", "evidence", "next_steps", "priority",
                   "source_file", "previous_level", "review", "followup")
PROBLEMS_COLUMNS = ("file", "school_id", "sheet", "cell", "code", "severity", "message")
SCORES_COLUMNS = ("school_id", "school_name", "network", "cycle", "points", "max_points", "rated",
                  "total", "tier")
AGREEMENT_COLUMNS = ("school_id", "school_name", "cycle", "indicator_id", "raters", "ratings",
                     "median", "spread", "exact", "within_one", "flagged", "agreed_level",
                     "agreement_note")


@dataclass
class Row:
    """One row of returns.csv: a return with its status, or a missing school."""

    school_id: str
    school_name: str
    status: str
    result: ReturnResult | None = None

    @property
    def file(self) -> str:
        return self.result.file if self.result else ""

    def values(self) -> list:
        r = self.result
        if r is None:
            return [self.school_id, self.school_name, "", "", MISSING, "", "", "", ""]
        return [self.school_id, self.school_name, r.file, r.sha256, self.status, r.rated,
                r.total, r.errors, r.warnings]


@dataclass(frozen=True)
class PreviousCycle:
    """An earlier cycle's accepted answers (from the history store), which the Trends sheet
    compares this cycle with."""

    cycle: str
    # (school_id, indicator_id) -> (level or None, next steps, priority)
    answers: dict[tuple[str, str], tuple[int | None, str, str]] = field(default_factory=dict)


@dataclass
class Consolidation:
    rubric: Rubric
    roster: list[School]
    rows: list[Row] = field(default_factory=list)
    discovery: Discovery = field(default_factory=Discovery)
    cycle: str = ""
    previous: PreviousCycle | None = None  # set when a history store holds an earlier cycle

    @property
    def accepted(self) -> list[Row]:
        return [r for r in self.rows if r.status in (ACCEPTED, ACCEPTED_WITH_WARNINGS)]

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rows if r.result for p in r.result.problems]

    @property
    def has_errors(self) -> bool:
        return any(r.status in (REJECTED, CONFLICT) for r in self.rows)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            out[row.status] += 1
        return out

    def school(self, school_id: str) -> School | None:
        return self._by_id.get(school_id)

    def compared(self, result: ReturnResult) -> list[Compared]:
        """compared(result) for a result of this run, worked out once: agreement.csv, the
        Agreement sheet (twice) and the report each go over every team return."""
        found = self._compared.get(id(result))
        if found is None or found[0] is not result:  # the result held: its id stays its own
            found = self._compared[id(result)] = (result, list(compared(result)))
        return found[1]

    def __post_init__(self) -> None:
        self._by_id = {s.school_id: s for s in self.roster}
        self._compared: dict[int, tuple[ReturnResult, list[Compared]]] = {}


# -- reading ------------------------------------------------------------------------

_worker: dict = {}


def _init_worker(rubric: Rubric, limits: Limits) -> None:
    _worker["rubric"], _worker["limits"] = rubric, limits


def _read(source: Source) -> ReturnResult:
    return read_one(source, _worker["rubric"], _worker["limits"])


def read_one(source: Source, rubric: Rubric, limits: Limits) -> ReturnResult:
    """Read one source; an unreadable file becomes a problem, never an exception
    (read_file turns whatever goes wrong with one file into that file's problem)."""
    return read_file(source.path, rubric, limits, display=source.display, member=source.member)


def read_all(sources: list[Source], rubric: Rubric, limits: Limits, jobs: int = 1,
             progress: Callable[[int], None] | None = None,
             while_reading: Callable[[], None] | None = None) -> Iterator[ReturnResult]:
    """Results in input order, read over `jobs` processes.

    `while_reading`, when reading runs in worker processes, is called in a thread of this
    process once the workers have started (this process mostly waits meanwhile).
    """
    spill = TextSpill()
    if jobs <= 1 or len(sources) < 8:
        for source in sources:
            yield _share_strings(read_one(source, rubric, limits), spill)
            if progress:
                progress(1)
        return
    helper = None

    def started() -> None:
        nonlocal helper
        if while_reading is not None and helper is None:
            helper = threading.Thread(target=while_reading, daemon=True)
            helper.start()

    def settled() -> None:  # no thread may be mid-import when a new pool forks
        if helper is not None:
            helper.join()

    for result in _pooled(sources, rubric, limits, jobs, started, settled):
        yield _share_strings(result, spill)
        if progress:
            progress(1)
    if helper is not None:
        helper.join()


def _pooled(sources: list[Source], rubric: Rubric, limits: Limits, jobs: int,
            started: Callable[[], None], settled: Callable[[], None]) -> Iterator[ReturnResult]:
    """Results in input order from worker processes, whatever a file does to a worker.

    A file that kills its worker (a crash in a native library) breaks the whole pool. The
    rest is then read again one file at a time in a single worker, which tells exactly
    which file it was: that file becomes an `unreadable` problem and reading goes on at
    full speed.
    """
    fast = (jobs, max(1, min(16, len(sources) // (jobs * 8))))
    workers, chunk = fast
    done = 0
    while done < len(sources):
        try:
            with ProcessPoolExecutor(workers, initializer=_init_worker,
                                     initargs=(rubric, limits)) as pool:
                # map() submits every task: the worker processes are all forked when it
                # returns, so a thread started now cannot be caught mid-import by a fork.
                results = pool.map(_read, sources[done:], chunksize=chunk)
                started()
                for result in results:
                    yield result
                    done += 1
        except BrokenProcessPool:
            settled()
            if (workers, chunk) != (1, 1):
                workers, chunk = 1, 1
                continue
            yield _crashed(sources[done])
            done += 1
            workers, chunk = fast


def _crashed(source: Source) -> ReturnResult:
    result = ReturnResult(file=source.display, sha256="")
    result.problems.append(Problem(
        source.display, "unreadable",
        "the reader's worker process stopped while reading this file (a crash in a library "
        "it uses); the file may be damaged: save it again from Excel or LibreOffice"))
    return result


def _share_strings(result: ReturnResult, spill: TextSpill | None = None) -> ReturnResult:
    """Hold the answers compactly for the rest of the run (see PackedAnswers); the team's
    ratings stay a TeamRatings, with one copy of each indicator id and level tuple."""
    result.answers = PackedAnswers(result.answers, spill)  # type: ignore[assignment]
    if result.team is not None:
        result.team = _shared_team(result.team)
    return result


# Rater level tuples repeat across returns ((3, 3, 2) ...): one copy of each is held. The
# cap bounds what the process keeps after a run (8 raters of 4 levels make 390,625 tuples).
_LEVEL_TUPLES: dict[tuple, tuple] = {}
_SHARED_AT_MOST = 20_000


def _shared_team(team: TeamRatings) -> TeamRatings:
    """The same ratings, their ids interned and level tuples shared: every unpickled result
    brings its own copies, a few MB per thousand team returns."""
    levels = {sys.intern(ind_id): _shared_levels(levels)
              for ind_id, levels in team.levels.items()}
    return TeamRatings(team.names, levels, team.notes)


def _shared_levels(levels: tuple) -> tuple:
    if len(_LEVEL_TUPLES) < _SHARED_AT_MOST:
        return _LEVEL_TUPLES.setdefault(levels, levels)
    return _LEVEL_TUPLES.get(levels, levels)


class TextSpill:
    """Evidence and next steps past a memory budget, kept in an unnamed temporary file.

    A run holds every accepted return's texts until the outputs are written: about 11 KB a
    return. Up to `budget` characters stay in memory, so ordinary runs never touch the disk;
    past it each return's texts go to the file in one record, read back when a row needs
    them. Memory then stays near the budget however many returns there are.
    """

    # Measured at 10,000 returns: 8M characters kept the main process at 214 MB, 4M at 208,
    # 1M at 204 (none: 269), with no measurable change in time.
    BUDGET = 4_000_000  # characters

    def __init__(self, budget: int | None = None):
        self.budget = self.BUDGET if budget is None else budget
        self.kept = 0
        self.file = None
        # The history store's recording reads texts back while the outputs are written
        # (history.record_alongside): one reader at a time on the shared file position.
        self._reading = threading.Lock()

    def hold(self, texts: tuple[str, ...]) -> tuple[int, int] | None:
        """None when the texts stay in memory, else where they were written."""
        size = sum(map(len, texts))
        if self.kept + size <= self.budget:
            self.kept += size
            return None
        if self.file is None:
            # Open for the whole run; closed (and so deleted) when the spill is collected.
            self.file = tempfile.TemporaryFile(prefix="workbook-tool-texts-")  # noqa: SIM115
        data = pickle.dumps(texts, protocol=pickle.HIGHEST_PROTOCOL)
        offset = self.file.seek(0, io.SEEK_END)
        self.file.write(data)
        return offset, len(data)

    def load(self, where: tuple[int, int]) -> tuple[str, ...]:
        offset, length = where
        with self._reading:
            self.file.seek(offset)
            data = self.file.read(length)
        return pickle.loads(data)


def _packed(a: Answer) -> tuple:
    """An answer as a tuple in Answer's field order; the three fields of a prefilled
    workbook only where it has them (most answers: six fields, less memory)."""
    share = sys.intern
    row = (share(a.indicator_id), a.level, share(a.label), a.evidence, a.next_steps,
           share(a.priority))
    if a.previous_level is None and not a.review and not a.followup:
        return row
    return (*row, a.previous_level, share(a.review), share(a.followup))


class PackedAnswers(Sequence[Answer]):
    """A return's answers as plain tuples, one copy of each id, label and priority.

    Consolidation holds every accepted return until the outputs are written. An Answer
    object costs about 350 bytes, a tuple 100, and every unpickled result brings its own
    copies of the short strings: at 10,000 returns (280,000 answers) that is ~110 MB.
    Answer objects are made on access; `rows` gives the tuples themselves, `held_rows` the
    tuples as held, where evidence and next steps are empty if a TextSpill took them.
    """

    __slots__ = ("_held", "_spill", "_where", "rated")

    def __init__(self, answers: Iterable[Answer], spill: TextSpill | None = None):
        rows = [_packed(a) for a in answers]
        self.rated = sum(1 for row in rows if row[1] is not None)
        self._where = None
        if spill is not None:
            self._where = spill.hold(tuple(t for r in rows for t in (r[3], r[4])))
        self._spill = spill if self._where is not None else None
        if self._where is None:
            self._held = tuple(rows)
        else:
            self._held = tuple((*r[:3], "", "", *r[5:]) for r in rows)

    @property
    def rows(self) -> tuple[tuple, ...]:
        """(indicator_id, level, label, evidence, next_steps, priority) per answer, then
        (previous_level, review, followup) for an answer of a prefilled workbook."""
        if self._where is None:
            return self._held
        texts = self._spill.load(self._where)
        return tuple((*r[:3], texts[2 * i], texts[2 * i + 1], *r[5:])
                     for i, r in enumerate(self._held))

    @property
    def held_rows(self) -> tuple[tuple, ...]:
        """The rows without reading the disk: evidence and next steps may be empty."""
        return self._held

    def __len__(self) -> int:
        return len(self._held)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [Answer(*row) for row in self.rows[index]]
        return Answer(*self.rows[index])

    def __iter__(self) -> Iterator[Answer]:
        for row in self.rows:
            yield Answer(*row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))


# -- statuses -----------------------------------------------------------------------

class SeveralCycles(NothingDone):
    """Without --cycle the returns must agree on one cycle: nothing is consolidated."""

    def __init__(self, files_per_cycle: dict[str, int]):
        self.files_per_cycle = files_per_cycle
        listed = ", ".join(f"{_cycle_name(c)}: {n} file{'s' if n != 1 else ''}"
                           for c, n in sorted(files_per_cycle.items()))
        super().__init__(
            f"the returns belong to {len(files_per_cycle)} cycles ({listed}); choose the one "
            "to consolidate with --cycle"
        )


def _cycle_name(cycle: str, prefix: str = "") -> str:
    """'2025-26', with characters that show nothing spelled out (<U+200B>): two cycles that
    look alike are told apart."""
    return f"{prefix}'{quote(cycle, limit=40)[1:-1]}'" if cycle else "no cycle"


def _names_a_school(result: ReturnResult) -> bool:
    """Did reading get as far as a return's own identity (a workbook of this tool)?"""
    return bool(result.school_id) and result.format_version is not None and not any(
        p.code == "not-a-return" for p in result.problems)


def cycles_of(results: Iterable[ReturnResult]) -> dict[str, int]:
    """How many returns name each cycle (the empty cycle included)."""
    counted: dict[str, int] = defaultdict(int)
    for result in results:
        if _names_a_school(result):
            counted[result.cycle] += 1
    return dict(counted)


def consolidate(results: list[ReturnResult], rubric: Rubric, roster: list[School],
                cycle: str = "", discovery: Discovery | None = None) -> Consolidation:
    """Give every return its status and add the roster's missing schools.

    Without `cycle`, the returns must all name one cycle, else SeveralCycles is raised
    before anything is decided.
    """
    if not cycle:
        found = cycles_of(results)
        if len(found) > 1:
            raise SeveralCycles(found)
    run = Consolidation(rubric, roster, discovery=discovery or Discovery(), cycle=cycle)
    for result in results:
        _check_against_roster(result, run, cycle)
    # Versions of one school's return for this cycle: a rejected one counts too, so that a
    # school's later, broken version never leaves the earlier one silently accepted.
    by_school: dict[str, list[ReturnResult]] = defaultdict(list)
    for result in results:
        if _names_a_school(result) and (not cycle or result.cycle == cycle):
            by_school[result.school_id].append(result)
    status = {id(r): _status(r) for r in results}
    for school_id, group in by_school.items():
        _copies_and_conflicts(school_id, group, status)
    seen: set[str] = set()
    for result in results:
        _name_school_in_problems(result)
        school = run.school(result.school_id)
        name = school.school_name if school else result.school_name
        run.rows.append(Row(result.school_id, name, status[id(result)], result))
        seen.add(result.school_id)
    for school in roster:
        if school.school_id not in seen:
            run.rows.append(Row(school.school_id, school.school_name, MISSING))
    return run


def _name_school_in_problems(result: ReturnResult) -> None:
    """Problems found before the reader knew the school (preflight) get its id too."""
    if result.school_id:
        result.problems = [p if p.school_id else replace(p, school_id=result.school_id)
                           for p in result.problems]


def _status(result: ReturnResult) -> str:
    if not result.ok:
        return REJECTED
    return ACCEPTED_WITH_WARNINGS if result.warnings else ACCEPTED


def _check_against_roster(result: ReturnResult, run: Consolidation, cycle: str) -> None:
    if not _names_a_school(result):
        return
    if run.school(result.school_id) is None:
        result.problems.append(Problem(
            result.file, "unknown-school",
            f"School id '{result.school_id}' ({result.school_name}) is not on the roster.",
            school_id=result.school_id,
        ))
    if cycle and result.cycle != cycle:
        result.problems.append(Problem(
            result.file, "wrong-cycle",
            f"The workbook is for {_cycle_name(result.cycle, 'cycle ')}, this consolidation "
            f"is for cycle '{cycle}'.",
            school_id=result.school_id,
        ))


# Problems that say where a copy was found, not what the school answered.
_NOT_CONTENT = frozenset({"macros-ignored", "duplicate", "conflict"})


def _content_key(result: ReturnResult) -> str:
    """Returns with the same answers (and the same problems in them) are copies of one
    return, whatever their bytes: a copy saved again by a spreadsheet program differs in
    bytes only. A return whose answers were never read is compared by its bytes."""
    answers = [(a.indicator_id, a.level, a.label, a.evidence, a.next_steps, a.priority)
               for a in result.answers]
    if not answers:
        return "bytes:" + result.sha256
    found = sorted((p.code, p.sheet, p.cell, p.message) for p in result.problems
                   if p.code not in _NOT_CONTENT)
    team = result.team
    # A rater's level, a rater's name or an agreement note is part of what the school sent.
    raters = None if team is None else (
        team.names, sorted(team.levels.items()), sorted(team.notes.items()))
    text = repr((result.cycle, answers, found, result.completed_by, raters))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _copies_and_conflicts(school_id: str, group: list[ReturnResult], status: dict) -> None:
    if len(group) < 2:
        return
    keys = {_content_key(r) for r in group}
    if len(keys) == 1:
        # Identical copies: the first that can be accepted is used (copies differ at most in
        # where they were found), the others are duplicates of it.
        used = next((r for r in group if r.ok), group[0])
        for copy in group:
            if copy is used:
                continue
            fate = "that one is used" if used.ok else "that one is reported"
            copy.problems.append(Problem(
                copy.file, "duplicate",
                f"An identical copy of {used.file} for school '{school_id}'; {fate}.",
                school_id=school_id,
            ))
            status[id(copy)] = DUPLICATE
        return
    files = ", ".join(r.file for r in group)
    for result in group:
        result.problems.append(Problem(
            result.file, "conflict",
            f"{len(group)} different returns for school '{school_id}' ({files}); none is used "
            "until only one remains.",
            severity=ERROR, school_id=school_id,
        ))
        status[id(result)] = CONFLICT


# -- team agreement -----------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """How far the raters agree on one indicator, as agreement.csv, the Agreement sheet and
    `check` give it (see agreement.Stats)."""

    ratings: str  # rater 1..N's levels joined by ';', empty for one who did not rate: `2;;4`
    raters: int  # how many rated
    median: str  # agreement.median_text: `2`, `2.5`
    spread: int | None  # None when fewer than 2 rated
    exact: bool
    within_one: bool
    flagged: bool


@functools.lru_cache(maxsize=20_000)
def figures(levels: tuple[int | None, ...]) -> Figures:
    """The figures of rater 1..N's levels (None: not rated). Teams give the same few level
    tuples again and again: each is worked out once, not once per school and indicator."""
    rated = stats(levels)
    return Figures(";".join("" if level is None else str(level) for level in levels),
                   rated.raters, median_text(rated.median), rated.spread, rated.exact,
                   rated.within_one, rated.flagged)


@dataclass(frozen=True, slots=True)  # slots: a run keeps one per compared indicator
class Compared:
    """One indicator of a team return that at least two raters rated."""

    indicator_id: str
    figures: Figures
    agreed: int | None  # the team's agreed level, None where unrated


def has_team(result: ReturnResult | None) -> bool:
    return result is not None and result.team is not None


def compared(result: ReturnResult) -> Iterator[Compared]:
    """The indicators of a return its raters compared (rated by 2 or more), in its order."""
    team = result.team
    if team is None:
        return
    answers = result.answers
    held = getattr(answers, "held_rows", None)  # packed answers: no Answer objects made
    agreed = ((r[0], r[1]) for r in held) if held is not None else (
        (a.indicator_id, a.level) for a in answers)
    # team.of(), without a call per indicator
    levels, unrated = team.levels, (None,) * team.raters
    for indicator_id, level in agreed:
        found = figures(levels.get(indicator_id, unrated))
        if found.spread is not None:
            yield Compared(indicator_id, found, level)


# -- points and tiers (a rubric whose levels score points) ----------------------------------

@dataclass(frozen=True)
class Score:
    """One accepted return's points, as scores.csv gives them."""

    school_id: str
    school_name: str
    network: str
    cycle: str
    points: int
    max_points: int  # the top level's points times the indicators in the workbook
    rated: int
    total: int
    tier: str  # "" when the total reaches no tier

    def values(self) -> list:
        return [self.school_id, self.school_name, self.network, self.cycle, self.points,
                self.max_points, self.rated, self.total, self.tier]


def scores(run: Consolidation) -> Iterator[Score]:
    """The score of every accepted return, in returns order (none without points). An
    unrated indicator scores 0 and counts in `total`, not in `rated`."""
    rubric = run.rubric
    if not rubric.has_points:
        return
    top = max(lv.points for lv in rubric.levels)
    for row in run.accepted:
        result = row.result
        answers = result.answers
        held = getattr(answers, "held_rows", None)  # packed: no Answer objects made
        levels = [r[1] for r in held] if held is not None else [a.level for a in answers]
        points = sum(rubric.points_of(level) for level in levels)
        school = run.school(row.school_id)
        yield Score(row.school_id, row.school_name, school.network if school else "",
                    result.cycle, points, top * len(levels),
                    sum(1 for level in levels if level is not None), len(levels),
                    rubric.tier_of(points))
