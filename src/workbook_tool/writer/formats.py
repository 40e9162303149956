"""Cell formats and colours of a generated workbook, created once per workbook."""

from __future__ import annotations

import math

from xlsxwriter.workbook import Workbook

FONT = "Calibri"
INK = "#1F2937"
ACCENT = "#1F4E79"
BAND = "#DCE6F1"
INPUT_FILL = "#FFFDE7"
BORDER = "#A6A6A6"
CARRIED_FILL = "#EDEDED"  # last cycle's answers, shown beside this cycle's inputs

# Level colours, lightest (first level) to strongest (last), chosen per level count so a
# 3-level rubric still spans the whole scale.
_PALETTE = ["#F8CBAD", "#FFE699", "#C6E0B4", "#8FC1E3", "#B4A7D6"]
_PALETTES = {3: [0, 1, 2], 4: [0, 1, 2, 3], 5: [0, 1, 2, 3, 4]}


def level_colors(count: int) -> list[str]:
    return [_PALETTE[i] for i in _PALETTES.get(count, range(count))]


class Formats:
    """Every format the sheets use; xlsxwriter wants them made once per workbook."""

    def __init__(self, book: Workbook, level_count: int):
        base = {"font_name": FONT, "font_size": 10, "font_color": INK, "valign": "top"}
        boxed = {**base, "border": 1, "border_color": BORDER, "text_wrap": True}

        def fmt(**extra):
            return book.add_format({**base, **extra})

        self.title = fmt(bold=True, font_size=16, font_color="#FFFFFF", bg_color=ACCENT,
                         valign="vcenter", indent=1)
        self.subtitle = fmt(bold=True, font_size=12, font_color=ACCENT)
        self.heading = fmt(bold=True, font_size=11, font_color=ACCENT, bottom=2,
                           bottom_color=ACCENT)
        self.header = fmt(bold=True, font_color="#FFFFFF", bg_color=ACCENT, text_wrap=True,
                          border=1, border_color="#FFFFFF", valign="vcenter")
        self.band = fmt(bold=True, font_size=11, bg_color=BAND, font_color=ACCENT,
                        valign="vcenter", border=1, border_color=BORDER)
        self.text = fmt(text_wrap=True)
        self.label = fmt(bold=True, text_wrap=True)
        self.label_right = fmt(bold=True, align="right", valign="vcenter")
        self.cell = book.add_format(boxed)
        self.cell_bold = book.add_format({**boxed, "bold": True})
        self.cell_center = book.add_format({**boxed, "bold": True, "align": "center"})
        self.bold = book.add_format({**base, "bold": True})
        self.plain = book.add_format({**base})
        # Input cells are text-formatted ("@"): what a person types (1.10, 87%, Mar-25, 00123)
        # stays the text they typed instead of becoming a number or a date. A rating typed
        # as "3" stays the text "3", which the reader normalises as before.
        entry = {**boxed, "locked": False, "bg_color": INPUT_FILL, "num_format": "@"}
        self.input = book.add_format(entry)
        self.input_center = book.add_format({**entry, "align": "center", "bold": True})
        self.value = book.add_format({**boxed, "bold": True})
        self.number = book.add_format({**boxed, "align": "center"})
        self.percent = book.add_format({**boxed, "align": "center", "num_format": "0%"})
        self.note = fmt(italic=True, font_color="#595959", text_wrap=True)
        # The team sheet's "Discuss" flag: dark red, so a printed copy shows it too.
        self.flag = book.add_format({**boxed, "bold": True, "align": "center",
                                     "font_color": "#9C0006"})
        colors = level_colors(level_count)
        self.level_fill = [
            book.add_format({"bg_color": c, "bold": True}) for c in colors
        ]
        self.level_cell = [
            book.add_format({**boxed, "bg_color": c, "bold": True, "align": "center"})
            for c in colors
        ]
        # Conditional formats may only set fills, fonts and borders.
        self.level_highlight = [
            book.add_format({"bg_color": c, "border": 2, "border_color": ACCENT}) for c in colors
        ]
        self.level_colors = colors
        self._book, self._boxed = book, boxed
        self._carried: list = []

    # Made only when a workbook is prefilled, so a plain workbook's styles stay as they were.
    @property
    def carried(self):
        """Last cycle's next steps: locked, greyed, wrapped text."""
        return self._carried_formats()[0]

    @property
    def carried_center(self):
        """Last cycle's level: locked, greyed, centred."""
        return self._carried_formats()[1]

    def _carried_formats(self) -> list:
        if not self._carried:
            grey = {**self._boxed, "bg_color": CARRIED_FILL, "font_color": "#404040"}
            self._carried = [self._book.add_format(grey),
                             self._book.add_format({**grey, "align": "center", "bold": True})]
        return self._carried


def text_height(text: str, width: float, font_size: float = 10, min_lines: int = 1) -> float:
    """Row height in points that shows `text` wrapped in a column `width` characters wide.

    An estimate (fonts vary), erring towards a little extra room rather than cut-off text.
    """
    chars_per_line = max(width * 1.2 * 10 / font_size, 4)
    lines = 0
    for paragraph in text.split("\n"):
        lines += max(1, math.ceil(len(paragraph) / chars_per_line))
    return max(lines, min_lines) * font_size * 1.3 + 6
