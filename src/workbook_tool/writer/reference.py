"""The Glossary sheet (terms, industry sectors, references) and the hidden metadata sheet."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from .. import layout
from ..rubric import Rubric
from .formats import Formats, text_height
from .page import finish_sheet
from .prefill import Carried

TERM_WIDTH = 30
DEFINITION_WIDTH = 100


def write_glossary_sheet(book: Workbook, fmt: Formats, rubric: Rubric, header_text: str,
                         password: str | None) -> None:
    sheet = book.add_worksheet(layout.GLOSSARY_SHEET)
    sheet.set_column(0, 0, TERM_WIDTH)
    sheet.set_column(1, 1, DEFINITION_WIDTH)
    sheet.merge_range(0, 0, 0, 1, "", fmt.title)
    sheet.write_string(0, 0, "Glossary", fmt.title)
    sheet.set_row(0, 30)
    row = 2
    if rubric.glossary:
        sheet.write_string(row, 0, "Term", fmt.header)
        sheet.write_string(row, 1, "Definition", fmt.header)
        row += 1
        for entry in rubric.glossary:
            sheet.write_string(row, 0, entry.term, fmt.cell_bold)
            sheet.write_string(row, 1, entry.definition, fmt.cell)
            sheet.set_row(row, text_height(entry.definition, DEFINITION_WIDTH))
            row += 1
        row += 1
    for heading, items in (("Industry sectors", rubric.sectors),
                           ("References", rubric.references)):
        if not items:
            continue
        sheet.merge_range(row, 0, row, 1, "", fmt.heading)
        sheet.write_string(row, 0, heading, fmt.heading)
        row += 1
        for item in items:
            sheet.merge_range(row, 0, row, 1, "", fmt.text)
            sheet.write_string(row, 0, item, fmt.text)
            sheet.set_row(row, text_height(item, TERM_WIDTH + DEFINITION_WIDTH))
            row += 1
        row += 1
    sheet.freeze_panes(1, 0)
    finish_sheet(sheet, header_text, password)


def metadata(rubric: Rubric, school_id: str, school_name: str, cycle: str,
             domain_ids: list[str], raters: int = 0,
             previous: Carried | None = None) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        layout.META_FORMAT: layout.FORMAT_VERSION,
        "rubric_id": rubric.id,
        "rubric_version": rubric.version,
        "rubric_fingerprint": rubric.fingerprint,
        "school_id": school_id,
        "school_name": school_name,
        "cycle": cycle,
        "domains": ",".join(domain_ids),
        "raters": raters,
    }
    if previous is not None:  # a plain workbook has no prefill keys at all
        meta["previous_cycle"] = previous.cycle
        meta["previous_rubric_version"] = previous.rubric_version
    return meta


def write_metadata(book: Workbook, fmt: Formats, meta: dict[str, str | int],
                   password: str | None) -> None:
    """Hidden sheet and custom properties carry the same facts; readers trust the sheet."""
    sheet = book.add_worksheet(layout.DATA_SHEET)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 70)
    sheet.write_string(0, 0, "key", fmt.bold)
    sheet.write_string(0, 1, "value", fmt.bold)
    # A key the workbook has no value for (previous_cycle of a workbook not prefilled) is
    # left out, not written empty.
    present = [key for key in layout.META_KEYS if key in meta]
    for row, key in enumerate(present, start=1):
        sheet.write_string(row, 0, key)
        value = meta[key]
        if isinstance(value, int):
            sheet.write_number(row, 1, value)
        else:
            sheet.write_string(row, 1, value)
    sheet.hide()
    sheet.protect(password or "")
    prefill = tuple(key for key in layout.PREFILL_META_KEYS if key in meta)
    for key in layout.PROPERTY_KEYS + prefill:
        value = meta[key]
        if isinstance(value, int):
            book.set_custom_property(key, value, "number_int")
        else:  # every property the contract names, even an empty cycle
            book.set_custom_property(key, value, "text")
