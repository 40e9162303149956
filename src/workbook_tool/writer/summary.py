"""The Summary sheet: live counts per domain and level, with a chart.

Formulas carry correct cached values, so viewers that never recalculate (previews, some
web viewers, our own reader) show the truth.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from .. import layout
from ..reader.model import Answer
from ..rubric import Domain, Rubric
from .domain_sheet import DomainSheet
from .formats import Formats, level_colors
from .page import finish_sheet

FIRST_ROW = 3


def write_summary_sheet(book: Workbook, fmt: Formats, rubric: Rubric, sheets: list[DomainSheet],
                        answers: dict[str, Answer], header_text: str,
                        password: str | None) -> tuple[str, int]:
    """Write the sheet; return (reference of the rated-total cell, its cached value)."""
    sheet = book.add_worksheet(layout.SUMMARY_SHEET)
    n = len(rubric.levels)
    last_col = 3 + n
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, last_col, 13)
    sheet.merge_range(0, 0, 0, last_col, "", fmt.title)
    sheet.write_string(0, 0, "Summary: indicators rated, by level", fmt.title)
    sheet.set_row(0, 30)
    sheet.merge_range(1, 0, 1, last_col, "", fmt.note)
    sheet.write_string(1, 0, "Counts update as ratings are chosen on the domain sheets.", fmt.note)

    headers = ["Domain", "Indicators", "Rated"] + [lv.label for lv in rubric.levels] + ["% rated"]
    for col, text in enumerate(headers):
        sheet.write_string(FIRST_ROW - 1, col, text, fmt.header)
    sheet.set_row(FIRST_ROW - 1, 30)

    cached = cached_values(rubric, [ds.domain for ds in sheets], answers)
    row = FIRST_ROW
    for ds in sheets:
        _domain_row(sheet, fmt, rubric, ds, row, cached)
        row += 1
    total_row = row
    _total_row(sheet, fmt, n, FIRST_ROW, total_row, cached)
    cells = points_cells(rubric, len(sheets))
    count = sum(len(ds.domain.indicators) for ds in sheets)
    _points(book, sheet, fmt, rubric, cells, total_row, cached, count)
    _chart(book, sheet, rubric, FIRST_ROW, total_row - 1, len(cells) + 1 if cells else 0)
    sheet.freeze_panes(FIRST_ROW, 1)
    finish_sheet(sheet, header_text, password, landscape=True)
    ref = f"{layout.quote_sheet(layout.SUMMARY_SHEET)}!{layout.cell_ref(total_row, 2, True)}"
    return ref, cached[total_row, 2]


def _level(answers: dict[str, Answer], indicator_id: str) -> int | None:
    answer = answers.get(indicator_id)
    return answer.level if answer else None


def cached_values(rubric: Rubric, domains: list[Domain],
                  answers: dict[str, Answer]) -> dict[tuple[int, int], int | float | str]:
    """(row, col) -> cached value of every formula cell of the sheet (the stamper uses it
    too): per domain row and the total row, Rated, one count per level and % rated; with
    points, the total points and the tier (a name, "" below every tier)."""
    n = len(rubric.levels)
    cached: dict[tuple[int, int], int | float] = {}
    rows = [[_level(answers, ind.id) for ind in d.indicators] for d in domains]
    everything = [lv for levels in rows for lv in levels]
    for row, levels in enumerate([*rows, everything], start=FIRST_ROW):
        rated = sum(1 for lv in levels if lv is not None)
        cached[row, 2] = rated
        for k in range(1, n + 1):
            cached[row, 2 + k] = sum(1 for lv in levels if lv == k)
        cached[row, 3 + n] = rated / len(levels) if levels else 0
    cached[FIRST_ROW + len(domains), 1] = len(everything)
    cells = points_cells(rubric, len(domains))
    if cells:
        total = sum(rubric.points_of(lv) for lv in everything)
        cached[cells[layout.POINTS_TOTAL]] = total
        if layout.TIER in cells:
            cached[cells[layout.TIER]] = rubric.tier_of(total)
    return cached


def points_cells(rubric: Rubric, domain_count: int) -> dict[str, tuple[int, int]]:
    """name -> (row, col) of the points cells (none without points): in column B, below
    the All domains row after a blank row, labels in column A."""
    first = FIRST_ROW + domain_count + 2
    return {name: (first + i, 1) for i, name in enumerate(layout.points_names(rubric))}


def _domain_row(sheet, fmt, rubric: Rubric, ds: DomainSheet, row: int, cached) -> None:
    n = len(rubric.levels)
    indicators = ds.domain.indicators
    sheet.write_string(row, 0, f"{ds.domain.label} {ds.domain.title}", fmt.cell_bold)
    sheet.write_number(row, 1, len(indicators), fmt.number)
    for i, level in enumerate(rubric.levels):
        label = level.label.replace('"', '""')
        sheet.write_formula(row, 3 + i, f'=COUNTIF({ds.rating_range},"{label}")', fmt.number,
                            cached[row, 3 + i])
    first, last = layout.cell_ref(row, 3), layout.cell_ref(row, 2 + n)
    sheet.write_formula(row, 2, f"=SUM({first}:{last})", fmt.number, cached[row, 2])
    sheet.write_formula(row, 3 + n, f"=IF(B{row + 1}=0,0,C{row + 1}/B{row + 1})", fmt.percent,
                        cached[row, 3 + n])


def _total_row(sheet, fmt, n: int, first: int, total_row: int, cached) -> None:
    sheet.write_string(total_row, 0, "All domains", fmt.cell_bold)
    for col in range(1, 3 + n):
        letter = layout.col_letter(col)
        formula = f"=SUM({letter}{first + 1}:{letter}{total_row})"
        sheet.write_formula(total_row, col, formula, fmt.cell_center, cached[total_row, col])
    r = total_row + 1
    sheet.write_formula(total_row, 3 + n, f"=IF(B{r}=0,0,C{r}/B{r})", fmt.percent,
                        cached[total_row, 3 + n])


def _points(book: Workbook, sheet, fmt, rubric: Rubric, cells: dict[str, tuple[int, int]],
            total_row: int, cached, count: int) -> None:
    """The points cells: total and tier as live formulas over the All domains row's
    counts (so a rating scores what the Summary counts it as: the level whose label it
    is, in any case; anything else, or nothing, scores 0), the maximum as a number: the
    top level's points times the `count` indicators of the workbook (as in scores.csv;
    rubric.max_points unless domains were selected)."""
    if not cells:
        return
    for name, (row, col) in cells.items():
        sheet.write_string(row, col - 1, layout.POINTS_LABELS[name], fmt.cell_bold)
        ref = f"{layout.quote_sheet(layout.SUMMARY_SHEET)}!{layout.cell_ref(row, col, True)}"
        book.define_name(name, f"={ref}")
    row, col = cells[layout.POINTS_TOTAL]
    terms = [f"{lv.points}*{layout.cell_ref(total_row, 3 + i)}"
             for i, lv in enumerate(rubric.levels)]
    sheet.write_formula(row, col, "=" + "+".join(terms), fmt.cell_center, cached[row, col])
    top = max(lv.points or 0 for lv in rubric.levels)
    sheet.write_number(*cells[layout.POINTS_MAX], top * count, fmt.cell_center)
    if layout.TIER in cells:
        total = layout.cell_ref(row, col)
        tier_row, tier_col = cells[layout.TIER]
        sheet.write_formula(tier_row, tier_col, tier_formula(rubric, total), fmt.cell_center,
                            cached[tier_row, tier_col])


def tier_formula(rubric: Rubric, total: str) -> str:
    """`=IF(B12>=20,"Gold",IF(B12>=12,"Silver",IF(B12>=6,"Bronze","")))`: the highest
    tier whose min_points `total` reaches, "" below all (a later tier wins a tie, as in
    Rubric.tier_of)."""
    formula = '""'
    for tier in rubric.tiers:
        name = tier.name.replace('"', '""')
        formula = f'IF({total}>={tier.min_points},"{name}",{formula})'
    return "=" + formula


def _chart(book: Workbook, sheet, rubric: Rubric, first: int, last: int,
           below: int = 0) -> None:
    """The chart, `below` more rows down (the points cells' rows)."""
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    name = layout.quote_sheet(layout.SUMMARY_SHEET)
    colors = level_colors(len(rubric.levels))
    for i, level in enumerate(rubric.levels):
        col = layout.col_letter(3 + i)
        chart.add_series({
            "name": level.label,
            "categories": f"={name}!$A${first + 1}:$A${last + 1}",
            "values": f"={name}!${col}${first + 1}:${col}${last + 1}",
            "fill": {"color": colors[i]},
            "border": {"color": "#7F7F7F"},
        })
    chart.set_title({"name": "Indicators by level", "name_font": {"size": 12}})
    chart.set_x_axis({"name": "Indicators", "min": 0, "major_unit": 1, "num_format": "0",
                      "major_gridlines": {"visible": True}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 60 * (last - first + 1) + 140})
    sheet.insert_chart(last + 4 + below, 0, chart)
