"""xlsxwriter set up so user text can only ever be text."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

# Never turn user text into formulas, links or numbers, whichever write call is used.
BOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


class SafeWorksheet(Worksheet):
    """A worksheet whose strings are always escaped.

    xlsxwriter copies a string that starts with "<r>" and ends with "</r>" into the shared
    strings part unescaped, taking it for a pre-built rich string; a school name or evidence
    written that way could break the file. Such text is written as rich string runs,
    which xlsxwriter escapes, and show exactly the same characters.
    """

    def _write_string(self, row, col, string, cell_format=None):
        if string.startswith("<r>") and string.endswith("</r>"):
            # xlsxwriter wants more than two arguments; three runs show the same text.
            runs = [string[:1], string[1:2], string[2:]]
            if cell_format is not None:
                runs = [arg for run in runs for arg in (cell_format, run)] + [cell_format]
            return self._write_rich_string(row, col, *runs)
        return super()._write_string(row, col, string, cell_format)


class SafeWorkbook(Workbook):
    def add_worksheet(self, name=None, worksheet_class=None):
        return super().add_worksheet(name, worksheet_class or SafeWorksheet)
