"""The district summary workbook: what district staff open after a consolidation.

Every sheet is derived from the rubric and the tidy rows, so another rubric consolidates
without code changes. User text is always written as a string.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from xlsxwriter.workbook import Workbook

from ..consolidate import (
    PROBLEMS_COLUMNS,
    RATINGS_COLUMNS,
    RETURNS_COLUMNS,
    STATUSES,
    Consolidation,
)
from ..writer.formats import ACCENT, BAND, level_colors
from .exports import problems_rows, ratings_rows, returns_rows

SUMMARY_XLSX = "district_summary.xlsx"
BOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False, "nan_inf_to_errors": True}


def proficient_level(level_count: int) -> int:
    """The level from which practice counts as established: Advancing of four levels."""
    return level_count // 2 + 1


class _Styles:
    def __init__(self, book: Workbook, level_count: int):
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        self.title = book.add_format({**base, "bold": True, "font_size": 16,
                                      "font_color": "#FFFFFF", "bg_color": ACCENT})
        self.heading = book.add_format({**base, "bold": True, "font_size": 11,
                                        "font_color": ACCENT, "bottom": 2})
        self.header = book.add_format({**base, "bold": True, "font_color": "#FFFFFF",
                                       "bg_color": ACCENT, "text_wrap": True, "border": 1})
        self.text = book.add_format({**base})
        self.wrap = book.add_format({**base, "text_wrap": True})
        self.note = book.add_format({**base, "italic": True, "font_color": "#595959"})
        self.bold = book.add_format({**base, "bold": True})
        self.band = book.add_format({**base, "bold": True, "bg_color": BAND})
        self.number = book.add_format({**base, "align": "center"})
        self.decimal = book.add_format({**base, "align": "center", "num_format": "0.0"})
        self.percent = book.add_format({**base, "align": "center", "num_format": "0%"})
        self.levels = [book.add_format({"bg_color": c, "align": "center"})
                       for c in level_colors(level_count)]


def write_summary_workbook(run: Consolidation, path: Path, inputs: list[str]) -> None:
    """Write the workbook to `path` (a staging file the caller renames into place)."""
    book = Workbook(str(path), BOOK_OPTIONS)
    styles = _Styles(book, len(run.rubric.levels))
    rows = list(ratings_rows(run))
    _overview(book, styles, run, rows, inputs)
    _heatmap(book, styles, run, rows)
    _indicators(book, styles, run, rows)
    _domains(book, styles, run, rows)
    _priorities(book, styles, run, rows)
    _evidence(book, styles, rows)
    _listing(book, styles, "Returns", RETURNS_COLUMNS, returns_rows(run),
             [14, 34, 50, 18, 22, 8, 8, 8, 9])
    _listing(book, styles, "Problems", PROBLEMS_COLUMNS, problems_rows(run),
             [50, 12, 18, 8, 18, 9, 90])
    _data(book, rows)
    book.set_properties({"title": f"District summary: {run.rubric.title}",
                         "author": "workbook-tool"})
    book.close()


COL = {name: i for i, name in enumerate(RATINGS_COLUMNS)}


def _title(sheet, styles: _Styles, text: str, width: int) -> None:
    sheet.merge_range(0, 0, 0, max(width - 1, 1), "", styles.title)
    sheet.write_string(0, 0, text, styles.title)
    sheet.set_row(0, 28)
    sheet.hide_gridlines(2)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _overview(book, styles, run: Consolidation, rows, inputs: list[str]) -> None:
    sheet = book.add_worksheet("Overview")
    rubric = run.rubric
    n = len(rubric.levels)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, n + 3, 13)
    _title(sheet, styles, f"District summary: {rubric.title} {rubric.version}", n + 4)
    built = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    sheet.write_string(1, 0, f"Built {built} by workbook-tool from: {', '.join(inputs)}",
                       styles.note)
    if run.cycle:
        sheet.write_string(2, 0, f"Cycle: {run.cycle}", styles.note)

    row = 4
    sheet.write_string(row, 0, "Returns by status", styles.heading)
    row += 1
    counts = run.counts()
    for status in STATUSES:
        sheet.write_string(row, 0, status, styles.text)
        sheet.write_number(row, 1, counts[status], styles.number)
        row += 1
    row += 1
    sheet.write_string(row, 0, "Completion", styles.heading)
    row += 1
    schools = len(run.roster)
    accepted_ids = {r.school_id for r in run.accepted if run.school(r.school_id)}
    rated = sum(1 for r in rows if r[COL["level"]] != "")
    figures = [
        ("Schools on the roster", schools, styles.number),
        ("Schools with an accepted return", len(accepted_ids), styles.number),
        ("Share of schools accepted", len(accepted_ids) / schools if schools else 0,
         styles.percent),
        ("Indicators rated in accepted returns", rated, styles.number),
        ("Share of indicators rated", rated / len(rows) if rows else 0, styles.percent),
        ("Files skipped (lock or hidden files)", len(run.discovery.skipped), styles.number),
        ("Other files ignored", run.discovery.ignored, styles.number),
    ]
    for label, value, fmt in figures:
        sheet.write_string(row, 0, label, styles.text)
        sheet.write_number(row, 1, value, fmt)
        row += 1
    row += 1
    _level_distribution(book, sheet, styles, run, rows, row)


def _level_distribution(book, sheet, styles, run: Consolidation, rows, row: int) -> None:
    rubric = run.rubric
    n = len(rubric.levels)
    sheet.write_string(row, 0, "Levels by domain (accepted returns)", styles.heading)
    row += 1
    headers = ["Domain", *rubric.labels, "Unrated"]
    for col, text in enumerate(headers):
        sheet.write_string(row, col, text, styles.header)
    first = row + 1
    by_domain: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        by_domain[r[COL["domain_id"]]][r[COL["level"]]] += 1
    for domain in rubric.domains:
        row += 1
        counter = by_domain[domain.id]
        sheet.write_string(row, 0, f"D{domain.id} {domain.title}", styles.text)
        for k in range(1, n + 1):
            sheet.write_number(row, k, counter[k], styles.number)
        sheet.write_number(row, n + 1, counter[""], styles.number)
    chart = book.add_chart({"type": "bar", "subtype": "percent_stacked"})
    for k, color in enumerate(level_colors(n), start=1):
        chart.add_series({
            "name": ["Overview", first - 1, k],
            "categories": ["Overview", first, 0, row, 0],
            "values": ["Overview", first, k, row, k],
            "fill": {"color": color}, "border": {"color": "#7F7F7F"},
        })
    chart.set_title({"name": "Share of ratings at each level, by domain",
                     "name_font": {"size": 12}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 820, "height": 90 + 55 * len(rubric.domains)})
    sheet.insert_chart(row + 2, 0, chart)


def _school_levels(rows) -> dict[tuple[str, str], dict[str, int | str]]:
    """(school_id, school_name) -> indicator id -> level, in row order."""
    out: dict[tuple[str, str], dict[str, int | str]] = {}
    for r in rows:
        key = (r[COL["school_id"]], r[COL["school_name"]])
        out.setdefault(key, {})[r[COL["indicator_id"]]] = r[COL["level"]]
    return out


def _heatmap(book, styles, run: Consolidation, rows) -> None:
    sheet = book.add_worksheet("Heatmap")
    indicators = run.rubric.indicators
    fixed = 3
    last_col = fixed + len(indicators) - 1
    _title(sheet, styles, "Levels by school and indicator (accepted returns)", 12)
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 2, 16)
    sheet.set_column(fixed, last_col, 5.5)
    header = 1
    for col, text in enumerate(["School ID", "School", "Network"]):
        sheet.write_string(header, col, text, styles.header)
    for i, ind in enumerate(indicators):
        sheet.write_string(header, fixed + i, ind.id, styles.header)
    row = header
    networks = {s.school_id: s.network for s in run.roster}
    for (school_id, name), levels in _school_levels(rows).items():
        row += 1
        sheet.write_string(row, 0, school_id, styles.text)
        sheet.write_string(row, 1, name, styles.text)
        sheet.write_string(row, 2, networks.get(school_id, ""), styles.text)
        for i, ind in enumerate(indicators):
            level = levels.get(ind.id, "")
            if level != "":
                sheet.write_number(row, fixed + i, level, styles.number)
    if row > header:
        for k, fmt in enumerate(styles.levels, start=1):
            sheet.conditional_format(header + 1, fixed, row, last_col, {
                "type": "cell", "criteria": "==", "value": k, "format": fmt})
    sheet.autofilter(header, 0, max(row, header), last_col)
    sheet.freeze_panes(header + 1, fixed)
    legend = ", ".join(f"{lv.level} = {lv.label}" for lv in run.rubric.levels)
    sheet.write_string(row + 2, 1, f"Levels: {legend}. Empty: unrated.", styles.note)


def _indicators(book, styles, run: Consolidation, rows) -> None:
    rubric = run.rubric
    n = len(rubric.levels)
    good = proficient_level(n)
    sheet = book.add_worksheet("Indicators")
    _title(sheet, styles, "Indicators: the ones that need most attention first", n + 7)
    headers = ["Domain", "ID", "Indicator", *rubric.labels, "Unrated", "Median level",
               f"Share at {rubric.levels[good - 1].label} or above"]
    sheet.set_column(0, 1, 8)
    sheet.set_column(2, 2, 44)
    sheet.set_column(3, len(headers) - 1, 12)
    for col, text in enumerate(headers):
        sheet.write_string(1, col, text, styles.header)
    levels_by: dict[str, list] = defaultdict(list)
    for r in rows:
        levels_by[r[COL["indicator_id"]]].append(r[COL["level"]])
    stats = []
    for ind in rubric.indicators:
        values = levels_by[ind.id]
        rated = [v for v in values if v != ""]
        share = sum(1 for v in rated if v >= good) / len(rated) if rated else None
        stats.append((ind, Counter(values), rated, share))
    stats.sort(key=lambda s: (s[3] is None, s[3] if s[3] is not None else 0,
                              rubric.indicators.index(s[0])))
    row = 1
    for ind, counter, rated, share in stats:
        row += 1
        sheet.write_string(row, 0, f"D{ind.domain_id}", styles.text)
        sheet.write_string(row, 1, ind.id, styles.text)
        sheet.write_string(row, 2, ind.title, styles.text)
        for k in range(1, n + 1):
            sheet.write_number(row, 2 + k, counter[k], styles.number)
        sheet.write_number(row, 3 + n, counter[""], styles.number)
        if rated:
            sheet.write_number(row, 4 + n, statistics.median(rated), styles.decimal)
            sheet.write_number(row, 5 + n, share, styles.percent)
    sheet.autofilter(1, 0, row, len(headers) - 1)
    sheet.freeze_panes(2, 3)
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    for k, color in enumerate(level_colors(n), start=1):
        chart.add_series({
            "name": ["Indicators", 1, 2 + k],
            "categories": ["Indicators", 2, 1, row, 1],
            "values": ["Indicators", 2, 2 + k, row, 2 + k],
            "fill": {"color": color}, "border": {"color": "#7F7F7F"},
        })
    chart.set_title({"name": "Schools at each level, by indicator", "name_font": {"size": 12}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 120 + 22 * len(stats)})
    sheet.insert_chart(1, len(headers) + 1, chart)


def _domains(book, styles, run: Consolidation, rows) -> None:
    sheet = book.add_worksheet("Domains")
    _title(sheet, styles, "Domains: rated indicators and average level per school", 6)
    headers = ["School ID", "School", "Domain", "Rated", "Indicators", "Average level"]
    widths = [10, 36, 36, 8, 10, 12]
    for col, (text, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(1, col, text, styles.header)
    grouped: dict[tuple, list] = defaultdict(list)
    for r in rows:
        grouped[(r[COL["school_id"]], r[COL["school_name"]], r[COL["domain_id"]])].append(
            r[COL["level"]])
    titles = {d.id: f"D{d.id} {d.short_title}" for d in run.rubric.domains}
    row = 1
    for (school_id, name, domain_id), levels in grouped.items():
        row += 1
        rated = [v for v in levels if v != ""]
        sheet.write_string(row, 0, school_id, styles.text)
        sheet.write_string(row, 1, name, styles.text)
        sheet.write_string(row, 2, titles[domain_id], styles.text)
        sheet.write_number(row, 3, len(rated), styles.number)
        sheet.write_number(row, 4, len(levels), styles.number)
        if rated:
            sheet.write_number(row, 5, sum(rated) / len(rated), styles.decimal)
    sheet.autofilter(1, 0, row, len(headers) - 1)
    sheet.freeze_panes(2, 2)


def _priorities(book, styles, run: Consolidation, rows) -> None:
    sheet = book.add_worksheet("Priorities")
    _title(sheet, styles, "Priorities: indicators schools marked High most often", 6)
    widths = [8, 44, 9, 9, 9, 3, 8, 30, 80]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    headers = ["ID", "Indicator", "High", "Medium", "Low", "", "ID", "School",
               "Next steps (High priority)"]
    for col, text in enumerate(headers):
        if text:
            sheet.write_string(1, col, text, styles.header)
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        counts[r[COL["indicator_id"]]][r[COL["priority"]]] += 1
    ordered = sorted(run.rubric.indicators, key=lambda i: -counts[i.id]["High"])
    for row, ind in enumerate(ordered, start=2):
        sheet.write_string(row, 0, ind.id, styles.text)
        sheet.write_string(row, 1, ind.title, styles.text)
        for col, level in enumerate(("High", "Medium", "Low"), start=2):
            sheet.write_number(row, col, counts[ind.id][level], styles.number)
    # Beside the counts, what schools plan for their High priorities, most-marked first.
    rank = {ind.id: i for i, ind in enumerate(ordered)}
    high = sorted((r for r in rows if r[COL["priority"]] == "High"),
                  key=lambda r: (rank[r[COL["indicator_id"]]], r[COL["school_id"]]))
    for row, r in enumerate(high, start=2):
        sheet.write_string(row, 6, r[COL["indicator_id"]], styles.text)
        sheet.write_string(row, 7, r[COL["school_name"]], styles.text)
        sheet.write_string(row, 8, r[COL["next_steps"]], styles.wrap)
    sheet.freeze_panes(2, 0)


def _evidence(book, styles, rows) -> None:
    sheet = book.add_worksheet("Evidence")
    _title(sheet, styles, "Evidence and next steps, per school and indicator", 8)
    columns = [("School ID", "school_id", 10), ("School", "school_name", 30),
               ("ID", "indicator_id", 6), ("Indicator", "indicator", 30),
               ("Rating", "label", 13), ("Evidence", "evidence", 60),
               ("Next steps", "next_steps", 50), ("Priority", "priority", 9)]
    for col, (title, _key, width) in enumerate(columns):
        sheet.set_column(col, col, width, styles.wrap if width >= 30 else None)
        sheet.write_string(1, col, title, styles.header)
    row = 1
    for r in rows:
        row += 1
        for col, (_title_text, key, _w) in enumerate(columns):
            value = r[COL[key]]
            if value != "":
                sheet.write_string(row, col, str(value))
    sheet.autofilter(1, 0, row, len(columns) - 1)
    sheet.freeze_panes(2, 2)


def _listing(book, styles, name: str, columns, values, widths: list[int]) -> None:
    sheet = book.add_worksheet(name)
    for col, (text, width) in enumerate(zip(columns, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, text, styles.header)
    row = 0
    for record in values:
        row += 1
        for col, value in enumerate(record):
            _write_value(sheet, row, col, value)
    sheet.autofilter(0, 0, row, len(columns) - 1)
    sheet.freeze_panes(1, 0)


def _write_value(sheet, row: int, col: int, value) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        sheet.write_number(row, col, value)
    elif value != "" and value is not None:
        sheet.write_string(row, col, str(value))


def _data(book, rows) -> None:
    """The tidy ratings as an Excel table: pivot-ready, filterable, evidence included."""
    sheet = book.add_worksheet("Data")
    widths = [10, 30, 16, 10, 8, 8, 36, 6, 13, 50, 40, 9, 40]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    last = max(len(rows), 1)
    sheet.add_table(0, 0, last, len(RATINGS_COLUMNS) - 1, {
        "name": "Ratings",
        "style": "Table Style Light 9",
        "columns": [{"header": c} for c in RATINGS_COLUMNS],
    })
    for i, record in enumerate(rows, start=1):
        for col, value in enumerate(record):
            _write_value(sheet, i, col, value)
    sheet.freeze_panes(1, 0)
