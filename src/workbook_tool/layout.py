"""Where everything lives in a generated workbook.

The writer and the reader both import this module and nothing else decides a sheet name,
a defined name, a column or a metadata key. The reader never relies on positions: it finds
input cells through the defined names made from `defined_name()`, and metadata by its keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rubric import Domain, Indicator, Rubric

# 2: a `completed_by` cell in every workbook, and optional rater columns (`raters` > 0).
# Format 1 workbooks are still read.
FORMAT_VERSION = 2

START_SHEET = "Start Here"
SUMMARY_SHEET = "Summary"
GLOSSARY_SHEET = "Glossary"
TEAM_SHEET = "Team ratings"  # only in workbooks generated with raters
DATA_SHEET = "_workbook_tool"  # hidden: metadata that survives editors dropping properties

PRIORITIES = ("High", "Medium", "Low")
INPUT_KINDS = ("rating", "evidence", "next_steps", "priority")
# Domain sheet headers: the reader checks an input cell's column by its header.
ID_HEADER = "ID"
INPUT_HEADERS = {"rating": "Rating", "evidence": "Evidence", "next_steps": "Next steps",
                 "priority": "Priority"}

# Metadata keys, in the order they appear on the hidden sheet and as custom properties.
META_FORMAT = "workbook_tool_format"
META_KEYS = (
    META_FORMAT,
    "rubric_id",
    "rubric_version",
    "rubric_fingerprint",
    "school_id",
    "school_name",
    "cycle",
    "domains",
    "raters",
    # Only in a workbook prefilled with an earlier cycle's answers: that cycle and the
    # version of the rubric its answers were given under.
    "previous_cycle",
    "previous_rubric_version",
)
# The prefill keys: written (hidden sheet and custom properties) only in prefilled workbooks.
PREFILL_META_KEYS = ("previous_cycle", "previous_rubric_version")
# The custom document properties the interface contract names.
PROPERTY_KEYS = (
    META_FORMAT, "rubric_id", "rubric_version", "rubric_fingerprint", "school_id", "cycle",
    "raters",
)

# Workbook-scope names for the school fields on the start sheet.
SCHOOL_NAMES = ("school_id", "school_name", "cycle")
# The Summary's points cells, only in a workbook of a rubric with points: the total (a live
# formula), the maximum (a number) and the tier (a live formula; only when there are tiers).
# Workbook-scope names, each with its label in the cell to its left.
POINTS_TOTAL = "points_total"
POINTS_MAX = "points_max"
TIER = "tier"
POINTS_LABELS = {POINTS_TOTAL: "Total points", POINTS_MAX: "Maximum", TIER: "Tier"}


def points_names(rubric: Rubric) -> tuple[str, ...]:
    """The Summary's points names a workbook of `rubric` has, top to bottom."""
    if not rubric.has_points:
        return ()
    return (POINTS_TOTAL, POINTS_MAX, *((TIER,) if rubric.tiers else ()))


# Who filled the workbook in: a cell on the start sheet (format 2 and later).
COMPLETED_BY = "completed_by"
COMPLETED_BY_LABEL = "Completed by"

# -- team rating (format 2): the Team ratings sheet ------------------------------------
# Each rater rates every indicator in a column of their own; the agreed rating stays the
# domain sheet's `rating_D_N`, and `agreement_note_D_N` on the team sheet says why.
MIN_RATERS = 2
MAX_RATERS = 8
FLAG_SPREAD = 2  # a spread of this many levels or more flags an indicator for discussion
NOTE_KIND = "agreement_note"
NOTE_HEADER = "Agreement note"
DISCUSS = "Discuss"  # what the flag cell shows
# Team sheet rows (0-based): title, a note, the raters' names, the column headers.
TEAM_TITLE_ROW = 0
TEAM_NOTE_ROW = 1
TEAM_NAME_ROW = 3  # rater K's name sits right above the "Rater K" header
TEAM_HEADER_ROW = 4
TEAM_FIRST_ROW = 5

# -- cycles (format 2): workbooks prefilled with last cycle's answers -------------------
# Right of Priority on each domain sheet: last cycle's level label and next steps (locked),
# what became of those next steps (follow-up) and whether the team reviewed the carried
# rating. The input cells rating/evidence/next_steps/priority hold last cycle's answers.
PREVIOUS_RATING = "previous_rating"
PREVIOUS_NEXT_STEPS = "previous_next_steps"
FOLLOWUP = "followup"
REVIEW = "review"
PREFILL_KINDS = (PREVIOUS_RATING, PREVIOUS_NEXT_STEPS, FOLLOWUP, REVIEW)
PREFILL_HEADERS = {PREVIOUS_RATING: "Last cycle", PREVIOUS_NEXT_STEPS: "Last cycle's next steps",
                   FOLLOWUP: "Follow-up", REVIEW: "Review"}
CARRIED_FORWARD = "Carried forward"
REVIEWED = "Reviewed"
REVIEW_CHOICES = (CARRIED_FORWARD, REVIEWED)
FOLLOWUP_CHOICES = ("Done", "In progress", "Not started", "Dropped")

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def defined_name(kind: str, indicator: Indicator | str) -> str:
    """`rating_1_1`, `evidence_5_4`, ... (kind is one of INPUT_KINDS)."""
    ind_id = indicator if isinstance(indicator, str) else indicator.id
    return f"{kind}_{ind_id.replace('.', '_')}"


def rater_kind(k: int) -> str:
    """`rater_3`: the kind of rater 3's rating cells (`rater_3_1_1`, ...), K from 1."""
    return f"rater_{k}"


def rater_header(k: int) -> str:
    return f"Rater {k}"


def rater_name(k: int) -> str:
    """`rater_name_3`: the cell where rater 3 types their name."""
    return f"rater_name_{k}"


def team_kinds(raters: int) -> tuple[str, ...]:
    """The kinds of a team sheet's per-indicator input cells."""
    return (*(rater_kind(k) for k in range(1, raters + 1)), NOTE_KIND)


def domain_sheet_name(domain: Domain) -> str:
    name = _SHEET_FORBIDDEN.sub("-", f"{domain.label} {domain.short_title}").strip("'")
    return name[:31].rstrip()


@dataclass(frozen=True)
class DomainColumns:
    """Columns of a domain sheet (0-based) for a rubric with `levels` levels; `prefill`
    adds the four columns of a prefilled workbook right of Priority (PREFILL_KINDS order)."""

    levels: int
    prefill: bool = False

    id: int = 0
    title: int = 1

    def descriptor(self, level: int) -> int:
        return self.title + level

    @property
    def rating(self) -> int:
        return self.title + self.levels + 1

    @property
    def evidence(self) -> int:
        return self.rating + 1

    @property
    def next_steps(self) -> int:
        return self.rating + 2

    @property
    def priority(self) -> int:
        return self.rating + 3

    @property
    def last(self) -> int:
        return self.priority + len(PREFILL_KINDS) if self.prefill else self.priority

    def offset(self, kind: str) -> int:
        """How far right of its indicator's id cell an input cell of `kind` is."""
        return self.of(kind) - self.id

    def of(self, kind: str) -> int:
        """The column of an input kind, or of a prefill kind (of a prefilled sheet)."""
        if kind in PREFILL_KINDS:
            if not self.prefill:
                raise KeyError(kind)
            return self.priority + 1 + PREFILL_KINDS.index(kind)
        return {
            "rating": self.rating,
            "evidence": self.evidence,
            "next_steps": self.next_steps,
            "priority": self.priority,
        }[kind]


@dataclass(frozen=True)
class TeamColumns:
    """Columns of the team sheet (0-based) for `raters` raters.

    Visible: id, indicator, one rating column per rater, median, spread, the discuss flag,
    the agreed rating (a formula showing the domain sheet's rating cell) and the agreement
    note. Hidden, right of those: one helper column per rater holding the level number its
    rating stands for, which the statistics formulas use.
    """

    raters: int

    id: int = 0
    title: int = 1

    def rater(self, k: int) -> int:
        return self.title + k

    @property
    def median(self) -> int:
        return self.title + self.raters + 1

    @property
    def spread(self) -> int:
        return self.median + 1

    @property
    def flag(self) -> int:
        return self.median + 2

    @property
    def agreed(self) -> int:
        return self.median + 3

    @property
    def note(self) -> int:
        return self.median + 4

    @property
    def last(self) -> int:
        """The last visible column."""
        return self.note

    def helper(self, k: int) -> int:
        return self.note + k

    def of(self, kind: str) -> int:
        """Column of a team input kind: `rater_K` or `agreement_note`."""
        if kind == NOTE_KIND:
            return self.note
        return self.rater(int(kind.removeprefix("rater_")))

    def header(self, kind: str) -> str:
        if kind == NOTE_KIND:
            return NOTE_HEADER
        return rater_header(int(kind.removeprefix("rater_")))

    def offset(self, kind: str) -> int:
        return self.of(kind) - self.id


# Domain sheet rows (0-based): a title bar and the column headers stay frozen on screen.
DOMAIN_TITLE_ROW = 0
DOMAIN_HEADER_ROW = 1
DOMAIN_FIRST_ROW = 2


def col_letter(col: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    if col < 0:  # would never end below
        raise ValueError(f"no column {col}")
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int, absolute: bool = False) -> str:
    """A1-style reference of a 0-based (row, col)."""
    dollar = "$" if absolute else ""
    return f"{dollar}{col_letter(col)}{dollar}{row + 1}"


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


_REF = re.compile(
    r"\s*=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Za-z]{1,3})\$?([0-9]+)"
    r"(?::\$?([A-Za-z]{1,3})\$?([0-9]+))?\s*"
)


def parse_ref(ref: str) -> tuple[str, str] | None:
    """`'D1 Leadership'!$G$3` -> ("D1 Leadership", "G3"); None unless it names one cell.

    A range of one cell (`$G$3:$G$3`, as some programs write a name) is that cell.
    """
    match = _REF.fullmatch(ref)
    if not match:
        return None
    sheet = (match.group(1) or "").replace("''", "'") or match.group(2)
    cell = f"{match.group(3).upper()}{int(match.group(4))}"
    if match.group(5) is not None and f"{match.group(5).upper()}{int(match.group(6))}" != cell:
        return None
    if int(match.group(4)) < 1:
        return None
    return sheet, cell


def split_cell(cell: str) -> tuple[int, int]:
    """`G3` -> (2, 6), 0-based (row, col)."""
    match = re.fullmatch(r"([A-Z]{1,3})([0-9]+)", cell)
    if not match:
        raise ValueError(cell)
    col = 0
    for ch in match.group(1):
        col = col * 26 + (ord(ch) - 64)
    return int(match.group(2)) - 1, col - 1


def expected_names(rubric: Rubric, domain_ids: list[str] | None = None,
                   raters: int = 0) -> list[str]:
    """Every workbook-scope name a workbook of these domains (and raters) has."""
    names = [*SCHOOL_NAMES, COMPLETED_BY]
    names.extend(rater_name(k) for k in range(1, raters + 1))
    kinds = INPUT_KINDS + (team_kinds(raters) if raters else ())
    for domain in rubric.select(domain_ids):
        for ind in domain.indicators:
            names.extend(defined_name(kind, ind) for kind in kinds)
    return names
