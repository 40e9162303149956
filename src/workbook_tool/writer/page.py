"""What every visible sheet shares: print setup, gridlines and protection."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

# What a site team may still do on a protected sheet: resize rows and columns so long
# evidence stays readable, and select any cell to copy the rubric text.
PROTECT_OPTIONS = {
    "format_cells": False,
    "format_columns": True,
    "format_rows": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}

LETTER = 1


def header_escape(text: str) -> str:
    """Excel header/footer codes start with '&'; a literal ampersand is '&&'."""
    return text.replace("&", "&&")


def finish_sheet(sheet: Worksheet, header_text: str, password: str | None,
                 landscape: bool = False) -> None:
    sheet.hide_gridlines(2)
    sheet.set_paper(LETTER)
    if landscape:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_header(f"&L&8{header_escape(header_text)[:200]}&R&8&A")
    sheet.set_footer("&C&8Page &P of &N")
    sheet.protect(password or "", PROTECT_OPTIONS)
