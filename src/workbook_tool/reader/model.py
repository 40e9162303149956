"""What reading one return produces: its identity, its answers and its problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..problems import Problem, counts


@dataclass(frozen=True)
class Answer:
    """One indicator of a return as the site team left it."""

    indicator_id: str
    level: int | None  # None where unrated
    label: str  # the rubric's label for `level`, "" where unrated
    evidence: str = ""
    next_steps: str = ""
    priority: str = ""
    # A workbook prefilled with last cycle's answers (empty / None otherwise): last cycle's
    # level as the workbook shows it, the Review choice and the follow-up of last cycle's
    # next steps.
    previous_level: int | None = None
    review: str = ""
    followup: str = ""


@dataclass(frozen=True)
class Previous:
    """A school's answers of an earlier cycle, to prefill its next workbook with."""

    cycle: str
    rubric_version: str
    answers: dict[str, Answer] = field(default_factory=dict)  # indicator id -> answer


@dataclass(frozen=True)
class TeamRatings:
    """The raters' side of a team workbook (generated with raters).

    `levels[indicator_id]` holds rater 1..N's levels in order, None where a rater did not
    rate, gave a value that is not a level, or whose cell could not be read. `notes` holds
    the agreement notes that are not empty. Writing a workbook with a TeamRatings prefills
    the rater cells; reading one fills it from the rater cells.
    """

    names: tuple[str, ...]  # rater_name_1..N, "" where blank; len() is the number of raters
    levels: dict[str, tuple[int | None, ...]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def raters(self) -> int:
        return len(self.names)

    def of(self, indicator_id: str) -> tuple[int | None, ...]:
        """Rater 1..N's levels for one indicator (all None if none rated it)."""
        return self.levels.get(indicator_id, (None,) * self.raters)


@dataclass
class ReturnResult:
    file: str  # the path as found: a named file, folder/inside.xlsx or archive.zip!inside.xlsx
    sha256: str
    school_id: str = ""
    school_name: str = ""
    cycle: str = ""
    rubric_id: str = ""
    rubric_version: str = ""
    rubric_fingerprint: str = ""
    format_version: int | None = None
    completed_by: str = ""  # format 2: who filled the workbook in
    team: TeamRatings | None = None  # workbooks generated with raters
    answers: list[Answer] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.answers)

    @property
    def rated(self) -> int:
        known = getattr(self.answers, "rated", None)  # packed answers count once
        if known is not None:
            return known
        return sum(1 for a in self.answers if a.level is not None)

    @property
    def errors(self) -> int:
        return counts(self.problems)[0]

    @property
    def warnings(self) -> int:
        return counts(self.problems)[1]

    @property
    def ok(self) -> bool:
        return self.errors == 0
