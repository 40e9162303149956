"""The Start Here sheet: who, what for, how to rate, how to return, the team and progress."""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.workbook import Workbook

from .. import layout
from ..roster import School
from ..rubric import Rubric
from .formats import Formats, text_height
from .page import finish_sheet
from .prefill import Carried

LABEL_WIDTH = 24
VALUE_WIDTH = 30
WIDE = LABEL_WIDTH + 3 * VALUE_WIDTH
TEAM_ROWS = 8


@dataclass(frozen=True)
class Issue:
    """What the coordinator says about this round, the same for every school."""

    cycle: str
    due: str = ""
    return_to: str = ""
    raters: int = 0  # rater columns on a Team ratings sheet (2 to 8), 0 for none


def write_start_sheet(book: Workbook, fmt: Formats, rubric: Rubric, school: School, issue: Issue,
                      sheet_names: list[str], total: int, header_text: str,
                      password: str | None,
                      subtitle_height: float | None = None,
                      completed_by: str = "",
                      carried: Carried | None = None) -> tuple[int, int]:
    """Write the sheet; return the (row, col) of the progress cell for the Summary to fill."""
    sheet = book.add_worksheet(layout.START_SHEET)
    sheet.set_column(0, 0, LABEL_WIDTH)
    sheet.set_column(1, 3, VALUE_WIDTH)
    sheet.merge_range(0, 0, 0, 3, f"{rubric.title}: self-assessment", fmt.title)
    sheet.set_row(0, 32)
    sheet.merge_range(1, 0, 1, 3, school.school_name, fmt.subtitle)
    if subtitle_height is None:
        subtitle_height = subtitle_row_height(school.school_name)
    sheet.set_row(1, subtitle_height)

    row = 3
    fields = [
        ("School", "school_name", school.school_name),
        ("School ID", "school_id", school.school_id),
        ("Assessment cycle", "cycle", issue.cycle),
    ]
    for label, name, value in fields:
        sheet.write_string(row, 0, label, fmt.cell_bold)
        sheet.merge_range(row, 1, row, 3, "", fmt.value)
        sheet.write_string(row, 1, value, fmt.value)
        ref = layout.cell_ref(row, 1, absolute=True)
        book.define_name(name, f"={layout.quote_sheet(layout.START_SHEET)}!{ref}")
        row += 1
    for label, value in (("Network", school.network), ("Return by", issue.due),
                         ("Return to", issue.return_to)):
        if value:
            sheet.write_string(row, 0, label, fmt.cell_bold)
            sheet.merge_range(row, 1, row, 3, "", fmt.value)
            sheet.write_string(row, 1, value, fmt.value)
            row += 1
    # Who filled it in: `workbook-tool team` names each rater after it.
    sheet.write_string(row, 0, layout.COMPLETED_BY_LABEL, fmt.cell_bold)
    sheet.merge_range(row, 1, row, 3, "", fmt.input)
    if completed_by:
        sheet.write_string(row, 1, completed_by, fmt.input)
    ref = layout.cell_ref(row, 1, absolute=True)
    book.define_name(layout.COMPLETED_BY, f"={layout.quote_sheet(layout.START_SHEET)}!{ref}")
    row += 1
    sheet.write_string(row, 0, "Progress", fmt.cell_bold)
    sheet.merge_range(row, 1, row, 3, "", fmt.value)
    progress = (row, 1)
    row += 2

    if carried is not None:  # first thing a returning team reads
        row = _paragraphs(sheet, fmt, row, "Last cycle's answers", _carried(rubric, carried))
    row = _paragraphs(sheet, fmt, row, "What this assessment is for", _purpose(rubric))
    row = _levels(sheet, fmt, rubric, row)
    row = _paragraphs(sheet, fmt, row, "How to fill it in", _how_to(rubric, sheet_names, total))
    if issue.raters >= layout.MIN_RATERS:
        row = _paragraphs(sheet, fmt, row, "Rating as a team", _as_team(issue.raters))
    row = _paragraphs(sheet, fmt, row, "Returning the workbook", _returning(issue))
    row = _team(sheet, fmt, row)
    for section in rubric.about:
        row = _paragraphs(sheet, fmt, row, section.heading, list(section.paragraphs))

    finish_sheet(sheet, header_text, password)
    sheet.activate()
    return progress


def subtitle_row_height(school_name: str) -> float:
    """Height of the row showing the school's name under the title."""
    return text_height(school_name, WIDE, 12)


def _purpose(rubric: Rubric) -> list[str]:
    return [
        f"Your school team uses this workbook to rate where your practice stands today on each "
        f"indicator of the {rubric.title}, to note the evidence behind each rating and the next "
        "steps you plan. The district brings every school's workbook together to see where "
        "schools are strong, where they need support, and what to plan next.",
        "There are no right answers: an honest rating with clear evidence helps more than a "
        "high one.",
    ]


def _carried(rubric: Rubric, carried: Carried) -> list[str]:
    cycle = f"cycle {carried.cycle}" if carried.cycle else "the last cycle"
    version = carried.rubric_version
    if version and version != rubric.version:
        source = f"{cycle} (rubric version {version}; this workbook uses version {rubric.version})"
    elif version:
        source = f"{cycle} (rubric version {version})"
    else:
        source = cycle
    headers = layout.PREFILL_HEADERS
    last, steps = headers[layout.PREVIOUS_RATING], headers[layout.PREVIOUS_NEXT_STEPS]
    review, followup = headers[layout.REVIEW], headers[layout.FOLLOWUP]
    return [
        f"This workbook starts from your school's answers of {source}: each indicator's "
        "rating, evidence, next steps and priority are already filled in, and the grey "
        f"\"{last}\" and \"{steps}\" columns keep what you said then.",
        "Review every indicator as a team. Where practice has moved, change the rating (and "
        f"the evidence, next steps and priority). Once the team has looked at an indicator, "
        f"set its {review} cell from \"{layout.CARRIED_FORWARD}\" to \"{layout.REVIEWED}\", "
        "even when the rating stays the same: the district sees how many ratings were "
        "carried forward without review.",
        f"In {followup}, say what became of last cycle's next steps: "
        + ", ".join(layout.FOLLOWUP_CHOICES[:-1]) + f" or {layout.FOLLOWUP_CHOICES[-1]}.",
    ]


def _how_to(rubric: Rubric, sheet_names: list[str], total: int) -> list[str]:
    return [
        f"Each domain has its own sheet ({', '.join(sheet_names)}); {total} indicators in all. "
        "Read the four descriptors of an indicator side by side and discuss as a team which one "
        "best describes your practice today.",
        "Rating: pick a level from the dropdown in the yellow Rating cell. The chosen level's "
        "descriptor is highlighted. Leave the rating empty if the team cannot agree yet.",
        "Evidence: note what shows the practice is in place (documents, data, meetings, "
        "examples), briefly and concretely.",
        "Next steps: what the team will do to move to the next level, and who leads it. "
        "Priority: High, Medium or Low, so the district knows where to focus support.",
        "Only the yellow cells can be edited; the Summary sheet updates as you rate. Each "
        "domain sheet ends with the domain's introduction, questions to reflect on and "
        "foundational steps.",
    ]


def _as_team(raters: int) -> list[str]:
    return [
        f"The {layout.TEAM_SHEET} sheet has a column for each of {raters} team members. Each "
        "member types their name above a Rater column, then rates every indicator in that "
        "column on their own first, before looking at the others' ratings.",
        "For each indicator the sheet shows the raters' median and spread (highest minus "
        f"lowest level), and flags it \"{layout.DISCUSS}\" when the raters are two levels or "
        "more apart. The Team view under the table shows how often the team agrees.",
        f"Then meet as a team: look first at the indicators flagged \"{layout.DISCUSS}\", talk "
        "through the evidence and agree one rating. Pick the agreed rating in the domain "
        "sheet's Rating cell: that is the rating the district receives. When it is outside "
        "the raters' range (lower or higher than every rater's), write why in the Agreement "
        f"note on the {layout.TEAM_SHEET} sheet.",
    ]


def _returning(issue: Issue) -> list[str]:
    where = f" to {issue.return_to}" if issue.return_to else " to the district coordinator"
    when = f" by {issue.due}" if issue.due else ""
    return [
        f"Save the workbook as Excel Workbook (.xlsx) and send it{where}{when}. Keep the file "
        "name and the sheets as they are; you may rename the file if you must.",
        "Working in Google Sheets or LibreOffice is fine: download or save as .xlsx. Please do "
        "not add a password to open the file. If your team can, run `workbook-tool check` on "
        "the file before sending it.",
    ]


def _paragraphs(sheet, fmt: Formats, row: int, heading: str, paragraphs: list[str]) -> int:
    sheet.merge_range(row, 0, row, 3, "", fmt.heading)
    sheet.write_string(row, 0, heading, fmt.heading)
    sheet.set_row(row, 20)
    row += 1
    for text in paragraphs:
        sheet.merge_range(row, 0, row, 3, "", fmt.text)
        sheet.write_string(row, 0, text, fmt.text)
        sheet.set_row(row, text_height(text, WIDE))
        row += 1
    return row + 1


def _levels(sheet, fmt: Formats, rubric: Rubric, row: int) -> int:
    sheet.merge_range(row, 0, row, 3, "", fmt.heading)
    sheet.write_string(row, 0, "The levels", fmt.heading)
    row += 1
    for i, level in enumerate(rubric.levels):
        sheet.write_string(row, 0, f"{level.level} {level.label}", fmt.level_cell[i])
        sheet.merge_range(row, 1, row, 3, "", fmt.cell)
        sheet.write_string(row, 1, level.definition or level.label, fmt.cell)
        sheet.set_row(row, text_height(level.definition, 3 * VALUE_WIDTH))
        row += 1
    return row + 1


def _team(sheet, fmt: Formats, row: int) -> int:
    sheet.merge_range(row, 0, row, 3, "", fmt.heading)
    sheet.write_string(row, 0, "Your team", fmt.heading)
    row += 1
    sheet.write_string(row, 0, "Name", fmt.header)
    sheet.merge_range(row, 1, row, 3, "", fmt.header)
    sheet.write_string(row, 1, "Role", fmt.header)
    row += 1
    for _ in range(TEAM_ROWS):
        sheet.write_blank(row, 0, None, fmt.input)
        sheet.merge_range(row, 1, row, 3, "", fmt.input)
        row += 1
    return row + 1
