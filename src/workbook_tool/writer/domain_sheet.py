"""One sheet per domain: indicators with their descriptors side by side and the inputs."""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import layout
from ..reader.model import Answer
from ..rubric import Descriptor, Domain, Indicator, Rubric
from .formats import Formats, text_height
from .page import finish_sheet
from .prefill import Carried

WIDTHS = {"id": 5, "title": 20, "descriptor": 32, "rating": 14, "evidence": 34,
          "next_steps": 30, "priority": 10}
# The columns of a prefilled workbook, right of Priority.
PREFILL_WIDTHS = {layout.PREVIOUS_RATING: 14, layout.PREVIOUS_NEXT_STEPS: 30,
                  layout.FOLLOWUP: 13, layout.REVIEW: 15}


@dataclass(frozen=True)
class DomainSheet:
    """Where a domain's rating cells ended up, for the Summary formulas."""

    name: str
    domain: Domain
    rating_cells: tuple[tuple[int, int], ...]  # (row, col), 0-based

    @property
    def rating_range(self) -> str:
        rows = [r for r, _ in self.rating_cells]
        col = self.rating_cells[0][1]
        first = layout.cell_ref(min(rows), col, absolute=True)
        last = layout.cell_ref(max(rows), col, absolute=True)
        return f"{layout.quote_sheet(self.name)}!{first}:{last}"


def write_domain_sheet(
    book: Workbook,
    fmt: Formats,
    rubric: Rubric,
    domain: Domain,
    answers: dict[str, Answer],
    header_text: str,
    password: str | None,
    carried: Carried | None = None,
    later: list | None = None,
) -> DomainSheet:
    """Write the sheet; with `carried` (a prefilled workbook) it has the prefill columns.

    With `later`, the input and prefill cells' texts are not written but added to it, for
    `write_later` once every sheet is written: their shared strings then come after all
    the rubric's, which lets the prefill stamper (writer/prefill_stamp.py) leave the
    rubric's strings where they are."""
    name = layout.domain_sheet_name(domain)
    sheet = book.add_worksheet(name)
    cols = layout.DomainColumns(len(rubric.levels), prefill=carried is not None)
    _columns(sheet, cols, len(rubric.levels))
    _title_and_header(sheet, fmt, rubric, domain, cols)

    row = layout.DOMAIN_FIRST_ROW
    rating_cells = []
    for section in domain.sections:
        sheet.merge_range(row, 0, row, cols.last, section.title, fmt.band)
        sheet.set_row(row, 20)
        row += 1
        for indicator in section.indicators:
            _indicator_row(book, sheet, fmt, rubric, indicator, row, cols, name,
                           answers.get(indicator.id), carried, later)
            rating_cells.append((row, cols.rating))
            row += 1
    last_row = row - 1
    _conditional_formats(sheet, fmt, rubric, cols, last_row)
    _about_domain(sheet, fmt, domain, row + 1, cols)

    sheet.freeze_panes(layout.DOMAIN_FIRST_ROW, 0)
    sheet.repeat_rows(layout.DOMAIN_TITLE_ROW, layout.DOMAIN_HEADER_ROW)
    finish_sheet(sheet, header_text, password, landscape=True)
    return DomainSheet(name, domain, tuple(rating_cells))


def _columns(sheet: Worksheet, cols: layout.DomainColumns, levels: int) -> None:
    sheet.set_column(cols.id, cols.id, WIDTHS["id"])
    sheet.set_column(cols.title, cols.title, WIDTHS["title"])
    sheet.set_column(cols.descriptor(1), cols.descriptor(levels), WIDTHS["descriptor"])
    for kind in layout.INPUT_KINDS:
        sheet.set_column(cols.of(kind), cols.of(kind), WIDTHS[kind])
    if cols.prefill:
        for kind in layout.PREFILL_KINDS:
            sheet.set_column(cols.of(kind), cols.of(kind), PREFILL_WIDTHS[kind])


def _title_and_header(sheet, fmt: Formats, rubric: Rubric, domain: Domain, cols) -> None:
    title = f"Domain {domain.id}: {domain.title}"
    sheet.merge_range(layout.DOMAIN_TITLE_ROW, 0, layout.DOMAIN_TITLE_ROW, cols.last, title,
                      fmt.title)
    sheet.set_row(layout.DOMAIN_TITLE_ROW, 30)
    row = layout.DOMAIN_HEADER_ROW
    sheet.write_string(row, cols.id, layout.ID_HEADER, fmt.header)
    sheet.write_string(row, cols.title, "Indicator", fmt.header)
    for level in rubric.levels:
        sheet.write_string(row, cols.descriptor(level.level), f"{level.level} {level.label}",
                           fmt.header)
    for kind in layout.INPUT_KINDS:
        sheet.write_string(row, cols.of(kind), layout.INPUT_HEADERS[kind], fmt.header)
    if cols.prefill:
        for kind in layout.PREFILL_KINDS:
            sheet.write_string(row, cols.of(kind), layout.PREFILL_HEADERS[kind], fmt.header)
    sheet.set_row(row, 30)


def _indicator_row(book, sheet, fmt: Formats, rubric: Rubric, indicator: Indicator, row: int,
                   cols, sheet_name: str, answer: Answer | None,
                   carried: Carried | None, later: list | None) -> None:
    sheet.write_string(row, cols.id, indicator.id, fmt.cell_bold)
    sheet.write_string(row, cols.title, indicator.title, fmt.cell_bold)
    for level in rubric.levels:
        descriptor = indicator.descriptors[level.level]
        _write_descriptor(sheet, fmt, row, cols.descriptor(level.level), descriptor)
    _inputs(book, sheet, fmt, rubric, indicator, row, cols, sheet_name, answer, later)
    cells = carried.cells(indicator.id, answer) if carried is not None else None
    if cells is not None:
        _prefill_cells(book, sheet, fmt, indicator, row, cols, sheet_name, cells, later)
    sheet.set_row(row, row_height(indicator, answer, cells))


def rubric_height(indicator: Indicator) -> float:
    """Height of an indicator's row for its title and descriptors alone."""
    height = text_height(indicator.title, WIDTHS["title"])
    for descriptor in indicator.descriptors.values():
        height = max(height, text_height(descriptor.text, WIDTHS["descriptor"]))
    return height


def row_height(indicator: Indicator, answer: Answer | None,
               prefill: dict[str, str] | None = None, base: float | None = None) -> float:
    """Height of an indicator's row: room for its longest text (the stamper uses it too,
    with `base`, the indicator's rubric_height, worked out once)."""
    height = rubric_height(indicator) if base is None else base
    if answer is not None:
        for kind, text in (("evidence", answer.evidence), ("next_steps", answer.next_steps)):
            height = max(height, text_height(text, WIDTHS[kind]))
    if prefill is not None:
        text = prefill[layout.PREVIOUS_NEXT_STEPS]
        height = max(height, text_height(text, PREFILL_WIDTHS[layout.PREVIOUS_NEXT_STEPS]))
    return min(height, 409)


def _write_descriptor(sheet, fmt: Formats, row: int, col: int, descriptor: Descriptor) -> None:
    text = descriptor.text
    fragments = _rich_fragments(text, descriptor.emphasis, fmt)
    if fragments is None:
        sheet.write_string(row, col, text, fmt.cell)
    else:
        sheet.write_rich_string(row, col, *fragments, fmt.cell)


def _rich_fragments(text: str, phrases: tuple[str, ...], fmt: Formats) -> list | None:
    """Split `text` into plain and bold runs for write_rich_string; None if nothing is bold."""
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        start = text.find(phrase)
        while start != -1:
            end = start + len(phrase)
            if all(end <= s or start >= e for s, e in spans):
                spans.append((start, end))
            start = text.find(phrase, end)
    if not spans:
        return None
    fragments: list = []
    pos = 0
    # Every run gets an explicit format: a bare run would fall back to Calibri 11 in black.
    for start, end in sorted(spans):
        if start > pos:
            fragments.extend([fmt.plain, text[pos:start]])
        fragments.extend([fmt.bold, text[start:end]])
        pos = end
    if pos < len(text):
        fragments.extend([fmt.plain, text[pos:]])
    return fragments


def _inputs(book, sheet, fmt: Formats, rubric: Rubric, indicator: Indicator, row: int, cols,
            sheet_name: str, answer: Answer | None, later: list | None) -> None:
    values = input_values(answer)
    for kind in layout.INPUT_KINDS:
        col = cols.of(kind)
        cell_format = fmt.input_center if kind in ("rating", "priority") else fmt.input
        # User text is always a string: "=HYPERLINK(...)" typed as evidence stays text.
        _text(sheet, row, col, values[kind], cell_format, later)
        ref = f"{layout.quote_sheet(sheet_name)}!{layout.cell_ref(row, col, absolute=True)}"
        book.define_name(layout.defined_name(kind, indicator), f"={ref}")
    sheet.data_validation(row, cols.rating, row, cols.rating, _rating_validation(rubric, indicator))
    sheet.data_validation(row, cols.priority, row, cols.priority, _priority_validation(indicator))


def _prefill_cells(book, sheet, fmt: Formats, indicator: Indicator, row: int, cols,
                   sheet_name: str, cells: dict[str, str], later: list | None) -> None:
    """Last cycle's rating and next steps (locked), the Follow-up and Review inputs."""
    formats = {layout.PREVIOUS_RATING: fmt.carried_center, layout.PREVIOUS_NEXT_STEPS:
               fmt.carried, layout.FOLLOWUP: fmt.input_center, layout.REVIEW: fmt.input_center}
    for kind in layout.PREFILL_KINDS:
        col = cols.of(kind)
        # Text from the store is written as a string, never as a formula or a number.
        _text(sheet, row, col, cells[kind], formats[kind], later)
        ref = f"{layout.quote_sheet(sheet_name)}!{layout.cell_ref(row, col, absolute=True)}"
        book.define_name(layout.defined_name(kind, indicator), f"={ref}")
    for kind, validation in ((layout.FOLLOWUP, _followup_validation(indicator)),
                             (layout.REVIEW, _review_validation(indicator))):
        sheet.data_validation(row, cols.of(kind), row, cols.of(kind), validation)


def _followup_validation(indicator: Indicator) -> dict:
    choices = ", ".join(layout.FOLLOWUP_CHOICES)
    return {
        "validate": "list",
        "source": list(layout.FOLLOWUP_CHOICES),
        "input_title": f"Follow-up of {indicator.id}"[:32],
        "input_message": f"What became of last cycle's next steps? {choices}.",
        "error_type": "stop",
        "error_title": "Pick a follow-up from the list",
        "error_message": f"A follow-up must be one of: {choices}.",
    }


def _review_validation(indicator: Indicator) -> dict:
    return {
        "validate": "list",
        "source": list(layout.REVIEW_CHOICES),
        "input_title": f"Review of {indicator.id}"[:32],
        "input_message": (f'Set to "{layout.REVIEWED}" once the team has looked at this '
                          "indicator again, even if the rating stays the same."),
        "error_type": "stop",
        "error_title": "Pick a review from the list",
        "error_message": (f'A review must be "{layout.CARRIED_FORWARD}" or '
                          f'"{layout.REVIEWED}".'),
    }


def _text(sheet, row: int, col: int, text: str, cell_format, later: list | None) -> None:
    if not text:
        sheet.write_blank(row, col, None, cell_format)
    elif later is None:
        sheet.write_string(row, col, text, cell_format)
    else:
        later.append((sheet, row, col, text, cell_format))


def write_later(later: list) -> None:
    """Write the texts `write_domain_sheet` put aside, in the order it met them."""
    for sheet, row, col, text, cell_format in later:
        sheet.write_string(row, col, text, cell_format)


def input_values(answer: Answer | None) -> dict[str, str]:
    """The text of an indicator's input cells, by kind ("" where empty)."""
    if answer is None:
        return dict.fromkeys(layout.INPUT_KINDS, "")
    return {"rating": answer.label, "evidence": answer.evidence,
            "next_steps": answer.next_steps, "priority": answer.priority}


def _rating_validation(rubric: Rubric, indicator: Indicator) -> dict:
    return level_validation(
        rubric, f"Rate {indicator.id}",
        "Pick the level whose descriptor best matches your practice today: ")


def level_validation(rubric: Rubric, title: str, prompt: str) -> dict:
    """The dropdown of the rubric's levels (stop alert) of a rating or rater cell."""
    return {
        "validate": "list",
        "source": list(rubric.labels),
        "input_title": title[:32],
        "input_message": (prompt + ", ".join(rubric.labels) + ".")[:255],
        "error_type": "stop",
        "error_title": "Pick a level from the list",
        "error_message": ("A rating must be one of: " + ", ".join(rubric.labels) + ".")[:255],
    }


def _priority_validation(indicator: Indicator) -> dict:
    return {
        "validate": "list",
        "source": list(layout.PRIORITIES),
        "input_title": f"Priority of {indicator.id}"[:32],
        "input_message": "How urgent is work on this indicator for your school?",
        "error_type": "stop",
        "error_title": "Pick a priority from the list",
        "error_message": "A priority must be High, Medium or Low.",
    }


def _conditional_formats(sheet, fmt: Formats, rubric: Rubric, cols, last_row: int) -> None:
    first = layout.DOMAIN_FIRST_ROW
    rating_col = layout.col_letter(cols.rating)
    for i, level in enumerate(rubric.levels):
        label = level.label.replace('"', '""')
        sheet.conditional_format(first, cols.rating, last_row, cols.rating, {
            "type": "cell", "criteria": "==", "value": f'"{label}"',
            "format": fmt.level_fill[i],
        })
        if cols.prefill:  # last cycle's level in its level's colour too
            col = cols.of(layout.PREVIOUS_RATING)
            sheet.conditional_format(first, col, last_row, col, {
                "type": "cell", "criteria": "==", "value": f'"{label}"',
                "format": fmt.level_fill[i],
            })
        col = cols.descriptor(level.level)
        sheet.conditional_format(first, col, last_row, col, {
            "type": "formula", "criteria": f'=${rating_col}{first + 1}="{label}"',
            "format": fmt.level_highlight[i],
        })


def _about_domain(sheet, fmt: Formats, domain: Domain, row: int, cols) -> None:
    """The domain's introduction, reflection questions and first steps, under the table."""
    last = cols.last
    width = sum(WIDTHS.values()) + WIDTHS["descriptor"] * 2
    blocks = [("About this domain", list(domain.introduction), False),
              ("Reflect on Your Practice", list(domain.reflect), True),
              ("Foundational Steps", list(domain.foundational_steps), True)]
    for heading, paragraphs, bullets in blocks:
        if not paragraphs:
            continue
        sheet.merge_range(row, 0, row, last, heading, fmt.heading)
        sheet.set_row(row, 20)
        row += 1
        for text in paragraphs:
            shown = f"• {text}" if bullets else text
            sheet.merge_range(row, 0, row, last, shown, fmt.text)
            sheet.set_row(row, text_height(shown, width))
            row += 1
        row += 1
