"""Building a school's rating workbook with xlsxwriter.

`build_workbook` is a pure function of (rubric, school, issue, domains, answers, team): the
same inputs give the same bytes, which the tests and the manifest's sha256 rely on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

from .. import layout
from ..reader.model import Answer, Previous, TeamRatings
from ..roster import School
from ..rubric import Rubric
from ..xlsx import BOOK_OPTIONS as TEXT_ONLY
from ..xlsx import SafeWorkbook
from .domain_sheet import write_domain_sheet, write_later
from .formats import Formats
from .prefill import Carried
from .reference import metadata, write_glossary_sheet, write_metadata
from .start import Issue, write_start_sheet
from .summary import write_summary_sheet
from .team_sheet import write_team_sheet

__all__ = ["Issue", "build_workbook", "header_text"]

# A fixed creation date keeps the output byte-for-byte reproducible.
FIXED_DATE = dt.datetime(2021, 9, 1, tzinfo=dt.UTC)

BOOK_OPTIONS = {**TEXT_ONLY, "in_memory": True}


def build_workbook(
    rubric: Rubric,
    school: School,
    issue: Issue | str = "",
    domain_ids: list[str] | None = None,
    answers: dict[str, Answer] | None = None,
    password: str | None = None,
    *,
    team: TeamRatings | None = None,
    completed_by: str = "",
    previous: Previous | None = None,
) -> bytes:
    """The .xlsx bytes of one school's workbook, optionally pre-filled with `answers`.

    With raters (`issue.raters`, or `team.raters` when a team is given) it has a Team
    ratings sheet; `team` pre-fills its rater names, rater levels and agreement notes.
    `completed_by` pre-fills the "Completed by" cell.

    `previous` (an earlier cycle's answers) makes a prefilled workbook: its answers fill
    the input cells (an answer in `answers` wins over it), and each domain sheet has the
    Last cycle, Last cycle's next steps, Follow-up and Review columns.
    """
    return build_book(rubric, school, issue, domain_ids, answers, password, team=team,
                      completed_by=completed_by, previous=previous)[0]


def header_text(rubric: Rubric, school: School, issue: Issue) -> str:
    """The text of every visible sheet's page header (before header-code escaping)."""
    return f"{school.school_name} · {rubric.title} · {issue.cycle}".strip(" ·")


def build_book(
    rubric: Rubric,
    school: School,
    issue: Issue | str = "",
    domain_ids: list[str] | None = None,
    answers: dict[str, Answer] | None = None,
    password: str | None = None,
    *,
    team: TeamRatings | None = None,
    completed_by: str = "",
    header: str | None = None,
    subtitle_height: float | None = None,
    previous: Previous | None = None,
    carried: Carried | None = None,
) -> tuple[bytes, SafeWorkbook]:
    """`build_workbook`, also returning the closed xlsxwriter Workbook (its string table).

    `header` and `subtitle_height` override the values derived from the school, and
    `carried` the prefill made from `previous`; the stampers (writer/stamp.py,
    writer/prefill_stamp.py) use them to build a template with placeholder values.
    """
    if isinstance(issue, str):
        issue = Issue(cycle=issue)
    raters = team.raters if team is not None else issue.raters
    if raters and not layout.MIN_RATERS <= raters <= layout.MAX_RATERS:
        raise ValueError(f"a team workbook has {layout.MIN_RATERS} to {layout.MAX_RATERS} "
                         f"raters, not {raters}")
    issue = dataclasses.replace(issue, raters=raters)
    if carried is None and previous is not None:
        carried = Carried.of(rubric, previous)
    answers = {**(carried.answers if carried else {}), **(answers or {})}
    domains = rubric.select(domain_ids)
    buffer = io.BytesIO()
    book = SafeWorkbook(buffer, BOOK_OPTIONS)
    fmt = Formats(book, len(rubric.levels))
    if header is None:
        header = header_text(rubric, school, issue)
    _properties(book, rubric, school, issue)

    # Sheets are created in tab order; the start sheet's progress line and the summary
    # reference each other, so the start sheet is written first and completed last.
    names = [layout.domain_sheet_name(d) for d in domains]
    # A prefilled workbook's answers are written last (see write_domain_sheet).
    later: list | None = [] if carried is not None else None
    total = sum(len(d.indicators) for d in domains)
    progress_row, progress_col = write_start_sheet(
        book, fmt, rubric, school, issue, names, total, header, password, subtitle_height,
        completed_by, carried,
    )
    start = book.get_worksheet_by_name(layout.START_SHEET)
    sheets = [
        write_domain_sheet(book, fmt, rubric, d, answers, header, password, carried, later)
        for d in domains
    ]
    if raters:
        write_team_sheet(book, fmt, rubric, sheets, raters, team, answers, header, password)
    rated_ref, rated = write_summary_sheet(book, fmt, rubric, sheets, answers, header, password)
    start.write_formula(
        progress_row, progress_col,
        f'={rated_ref}&" of {total} indicators rated"',
        fmt.value, f"{rated} of {total} indicators rated",
    )
    write_glossary_sheet(book, fmt, rubric, header, password)
    meta = metadata(rubric, school.school_id, school.school_name, issue.cycle,
                    [d.id for d in domains], raters, carried)
    write_metadata(book, fmt, meta, password)
    if later:
        write_later(later)
    book.close()
    return buffer.getvalue(), book


def document_properties(rubric: Rubric, school: School, issue: Issue) -> dict:
    return {
        "title": f"{rubric.title} self-assessment: {school.school_name}",
        "subject": f"{rubric.title} {rubric.version}",
        "author": "workbook-tool",
        "company": rubric.publisher,
        "comments": "Generated by workbook-tool. Fill in the yellow cells and return as .xlsx.",
        "keywords": f"{rubric.id}, {school.school_id}, {issue.cycle}",
        "created": FIXED_DATE,
    }


def _properties(book: SafeWorkbook, rubric: Rubric, school: School, issue: Issue) -> None:
    book.set_properties(document_properties(rubric, school, issue))
