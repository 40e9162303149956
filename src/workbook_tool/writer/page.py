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


HEADER_TEXT_MAX = 200  # characters of header text shown
HEADER_CODE_MAX = 255  # Excel's limit for a header code, in UTF-16 units (xlsxwriter refuses more)
_LEFT, _RIGHT = "&L&8", "&R&8&A"


def header_code(header_text: str) -> str:
    """The page-header code of a sheet: the text on the left, the sheet name on the right."""
    text = header_escape(header_text)
    # xlsxwriter counts "&G" (and "&[Picture]") as image placeholders, even after "&&": a
    # repeated font-size code keeps a literal "&" apart from the letter.
    text = text.replace("&&G", "&&&8G").replace("&&[Picture]", "&&&8[Picture]")
    budget = HEADER_CODE_MAX - _utf16_len(_LEFT + _RIGHT)
    kept, used = [], 0
    for ch in text[:HEADER_TEXT_MAX]:
        used += _utf16_len(ch)
        if used > budget:
            break
        kept.append(ch)
    text = "".join(kept)
    if (len(text) - len(text.rstrip("&"))) % 2:  # never cut an escaped "&&" in half
        text = text[:-1]
    return f"{_LEFT}{text}{_RIGHT}"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def finish_sheet(sheet: Worksheet, header_text: str, password: str | None,
                 landscape: bool = False) -> None:
    sheet.hide_gridlines(2)
    sheet.set_paper(LETTER)
    if landscape:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_header(header_code(header_text))
    sheet.set_footer("&C&8Page &P of &N")
    sheet.protect(password or "", PROTECT_OPTIONS)
