"""The district summary workbook: what district staff open after a consolidation.

Every sheet is derived from the rubric and the tidy rows, so another rubric consolidates
without code changes. User text is always written as a string.

The long sheets (one row per rating, school or problem) are streamed: xlsxwriter writes
their frame and `StreamedRows` their rows (see stream.py), so time and memory stay small
at tens of thousands of returns. The tidy rows are never held in a list: each sheet
iterates them again, which costs far less than holding them.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..consolidate import (
    PROBLEMS_COLUMNS,
    RATINGS_COLUMNS,
    RETURNS_COLUMNS,
    STATUSES,
    Consolidation,
    Figures,
    has_team,
)
from ..files import IGNORED_WHY, display_name
from ..writer.formats import ACCENT, level_colors
from ..xlsx import BOOK_OPTIONS as TEXT_ONLY
from ..xlsx import SafeWorkbook
from .exports import any_team, problems_rows, ratings_rows, returns_rows
from .scores import write_scores
from .stream import StreamedRows
from .trends import write_trends

SUMMARY_XLSX = "district_summary.xlsx"
BOOK_OPTIONS = {**TEXT_ONLY, "nan_inf_to_errors": True}


def proficient_level(level_count: int) -> int:
    """The level from which practice counts as established: Advancing of four levels."""
    return level_count // 2 + 1


class _Styles:
    def __init__(self, book: SafeWorkbook, level_count: int):
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
        self.warning = book.add_format({**base, "bold": True, "font_color": "#C00000"})
        self.number = book.add_format({**base, "align": "center"})
        self.decimal = book.add_format({**base, "align": "center", "num_format": "0.0"})
        self.percent = book.add_format({**base, "align": "center", "num_format": "0%"})
        self.levels = [book.add_format({"bg_color": c, "align": "center"})
                       for c in level_colors(level_count)]


def write_summary_workbook(run: Consolidation, path: Path, inputs: list[str]) -> None:
    """Write the workbook to `path` (a staging file the caller renames into place)."""
    frame = io.BytesIO()
    book = SafeWorkbook(frame, {**BOOK_OPTIONS, "in_memory": True})
    styles = _Styles(book, len(run.rubric.levels))
    stream = StreamedRows()

    def rows() -> Iterator[list]:  # for the passes that read no evidence or next steps
        return ratings_rows(run, texts=False)

    def full_rows() -> Iterator[list]:
        return ratings_rows(run)

    _overview(book, styles, run, rows, inputs)
    _heatmap(book, styles, stream, run, rows)
    _indicators(book, styles, run, rows)
    _domains(book, styles, stream, run, rows)
    write_trends(book, styles, run, _title)
    _agreement(book, styles, stream, run)
    write_scores(book, styles, run, _title)
    _priorities(book, styles, stream, run, full_rows)
    _evidence(book, styles, stream, run, full_rows)
    _listing(book, styles, stream, "Returns", RETURNS_COLUMNS, len(run.rows),
             lambda: returns_rows(run), [14, 34, 50, 18, 22, 8, 8, 8, 9])
    _listing(book, styles, stream, "Problems", PROBLEMS_COLUMNS, len(run.problems),
             lambda: problems_rows(run), [50, 12, 18, 8, 18, 9, 90])
    _data(book, stream, run, full_rows)
    _clipped_note(book.get_worksheet_by_name("Overview"), styles, stream.clipped,
                  _cut_texts(run))
    book.set_properties({"title": f"District summary: {run.rubric.title}",
                         "author": "workbook-tool"})
    book.close()
    stream.save(frame.getvalue(), path)


def _clipped_note(overview, styles: _Styles, clipped: list[tuple[str, int, int]],
                  cut_texts: int = 0) -> None:
    """Say plainly what this workbook could not hold: rows past Excel's row limit, and
    texts past the 32,767 characters (UTF-16 units) of a cell."""
    notes = []
    if clipped:
        parts = [f"{name} shows {kept:,} of {total:,} rows" for name, total, kept in clipped]
        notes.append("Excel's row limit: " + "; ".join(parts)
                     + ". ratings.csv, problems.csv and ratings.parquet have every row.")
    if cut_texts:
        texts = "1 text is" if cut_texts == 1 else f"{cut_texts:,} texts are"
        notes.append(
            f"{texts} longer than the 32,767 characters an Excel cell holds: this workbook "
            "shows the first 32,767 of each, and ratings.csv and ratings.parquet have them "
            "whole (Problems lists each as text-too-long).")
    if notes:
        overview.write_string(3, 0, " ".join(notes), styles.warning)


def _cut_texts(run: Consolidation) -> int:
    """How many texts of accepted returns are too long for a cell: the reader warned about
    each with text-too-long, and only accepted returns reach the sheets that cut them."""
    return sum(1 for row in run.accepted for p in row.result.problems
               if p.code == "text-too-long")


def _rating_count(run: Consolidation) -> int:
    return sum(len(r.result.answers) for r in run.accepted)


COL = {name: i for i, name in enumerate(RATINGS_COLUMNS)}
Rows = Callable[[], Iterator[list]]  # the tidy rows, afresh at each call


def _title(sheet, styles: _Styles, text: str, width: int) -> None:
    sheet.merge_range(0, 0, 0, max(width - 1, 1), "", styles.title)
    sheet.write_string(0, 0, text, styles.title)
    sheet.set_row(0, 28)
    sheet.hide_gridlines(2)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _overview(book, styles, run: Consolidation, rows: Rows, inputs: list[str]) -> None:
    sheet = book.add_worksheet("Overview")
    rubric = run.rubric
    n = len(rubric.levels)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, n + 3, 13)
    _title(sheet, styles, f"District summary: {rubric.title} {rubric.version}", n + 4)
    built = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    named = ", ".join(display_name(arg) for arg in inputs)
    sheet.write_string(1, 0, f"Built {built} by workbook-tool from: {named}", styles.note)
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
    rated = sum(1 for r in rows() if r[COL["level"]] != "")
    total = _rating_count(run)
    figures = [
        ("Schools on the roster", schools, styles.number),
        ("Schools with an accepted return", len(accepted_ids), styles.number),
        ("Share of schools accepted", len(accepted_ids) / schools if schools else 0,
         styles.percent),
        ("Indicators rated in accepted returns", rated, styles.number),
        ("Share of indicators rated", rated / total if total else 0, styles.percent),
        ("Files skipped (lock, hidden, already read, linked folders)", len(run.discovery.skipped),
         styles.number),
        ("Other files ignored", run.discovery.ignored, styles.number),
    ]
    for label, value, fmt in figures:
        sheet.write_string(row, 0, label, styles.text)
        sheet.write_number(row, 1, value, fmt)
        row += 1
    # Every file not read, by name, beside the figures (the chart below them floats over
    # the rows, so a long list goes to the right).
    files = [(s.display, s.reason) for s in run.discovery.skipped]
    files += [(name, IGNORED_WHY) for name in run.discovery.ignored_files]
    if files:
        col = n + 5
        sheet.set_column(col, col, 60)
        sheet.set_column(col + 1, col + 1, 36)
        sheet.write_string(4, col, "Files not read", styles.heading)
        sheet.write_string(5, col, "File", styles.header)
        sheet.write_string(5, col + 1, "Why", styles.header)
        for i, (name, why) in enumerate(files, start=6):
            sheet.write_string(i, col, name, styles.wrap)
            sheet.write_string(i, col + 1, why, styles.wrap)
    row += 1
    _level_distribution(book, sheet, styles, run, rows, row)


def _level_distribution(book, sheet, styles, run: Consolidation, rows: Rows,
                        row: int) -> None:
    rubric = run.rubric
    n = len(rubric.levels)
    sheet.write_string(row, 0, "Levels by domain (accepted returns)", styles.heading)
    row += 1
    headers = ["Domain", *rubric.labels, "Unrated"]
    for col, text in enumerate(headers):
        sheet.write_string(row, col, text, styles.header)
    first = row + 1
    by_domain: dict[str, Counter] = defaultdict(Counter)
    for r in rows():
        by_domain[r[COL["domain_id"]]][r[COL["level"]]] += 1
    for domain in rubric.domains:
        row += 1
        counter = by_domain[domain.id]
        sheet.write_string(row, 0, f"{domain.label} {domain.title}", styles.text)
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


def _heatmap(book, styles, stream: StreamedRows, run: Consolidation, rows: Rows) -> None:
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
    networks = {s.school_id: s.network for s in run.roster}
    schools = _school_levels(rows())

    def heat_rows() -> Iterator[list]:
        for (school_id, name), levels in schools.items():
            yield [school_id, name, networks.get(school_id, ""),
                   *(levels.get(ind.id, "") for ind in indicators)]

    count = stream.add(sheet, header + 1, len(schools), last_col + 1, heat_rows,
                       [styles.text] * fixed + [styles.number] * len(indicators))
    row = header + count
    if row > header:
        for k, fmt in enumerate(styles.levels, start=1):
            sheet.conditional_format(header + 1, fixed, row, last_col, {
                "type": "cell", "criteria": "==", "value": k, "format": fmt})
    sheet.autofilter(header, 0, max(row, header), last_col)
    sheet.freeze_panes(header + 1, fixed)
    legend = ", ".join(f"{lv.level} = {lv.label}" for lv in run.rubric.levels)
    sheet.write_string(row + 2, 1, f"Levels: {legend}. Empty: unrated.", styles.note)


def _indicators(book, styles, run: Consolidation, rows: Rows) -> None:
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
    sheet.set_row(1, 30)  # the share's header wraps onto two lines
    levels_by: dict[str, list] = defaultdict(list)
    for r in rows():
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
        sheet.write_string(row, 0, run.rubric.domain(ind.domain_id).label, styles.text)
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


def _domains(book, styles, stream: StreamedRows, run: Consolidation, rows: Rows) -> None:
    sheet = book.add_worksheet("Domains")
    _title(sheet, styles, "Domains: rated indicators and average level per school", 6)
    headers = ["School ID", "School", "Domain", "Rated", "Indicators", "Average level"]
    widths = [10, 36, 36, 8, 10, 12]
    for col, (text, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(1, col, text, styles.header)
    grouped: dict[tuple, list] = defaultdict(list)
    for r in rows():
        grouped[(r[COL["school_id"]], r[COL["school_name"]], r[COL["domain_id"]])].append(
            r[COL["level"]])
    titles = {d.id: f"{d.label} {d.short_title}" for d in run.rubric.domains}

    def domain_rows() -> Iterator[list]:
        for (school_id, name, domain_id), levels in grouped.items():
            rated = [v for v in levels if v != ""]
            yield [school_id, name, titles[domain_id], len(rated), len(levels),
                   sum(rated) / len(rated) if rated else None]

    count = stream.add(sheet, 2, len(grouped), len(headers), domain_rows,
                       [styles.text] * 3 + [styles.number] * 2 + [styles.decimal])
    sheet.autofilter(1, 0, 1 + count, len(headers) - 1)
    sheet.freeze_panes(2, 2)


AGREEMENT_SHEET = "Agreement"
AGREEMENT_NOTE = (
    "Team returns only. An indicator is compared when at least 2 of a school's raters rated "
    "it. Exact: every rater gave the same level. Within one: highest minus lowest level is "
    "1 or less. Flagged: 2 levels or more apart, for the team to discuss.")
AGREEMENT_SCHOOL_HEADERS = ("School ID", "School", "Network", "Raters who rated",
                            "Indicators compared", "Share exact", "Share within one",
                            "Flagged", "Flagged indicators")


@dataclass
class _Tally:
    """Agreement counted over compared indicators (of a school, an indicator, the district)."""

    compared: int = 0
    exact: int = 0
    within_one: int = 0
    flagged: int = 0

    def add(self, rated: Figures) -> None:
        self.compared += 1
        self.exact += rated.exact
        self.within_one += rated.within_one
        self.flagged += rated.flagged

    def figures(self) -> list:
        """compared, share exact, share within one (None: nothing compared), flagged."""
        if not self.compared:
            return [0, None, None, 0]
        return [self.compared, self.exact / self.compared, self.within_one / self.compared,
                self.flagged]


def _agreement(book, styles, stream: StreamedRows, run: Consolidation) -> None:
    """How far raters agreed: district totals, per indicator, then per school (streamed,
    one row per team return). No sheet when no accepted return has raters."""
    if not any_team(run):
        return
    sheet = book.add_worksheet(AGREEMENT_SHEET)
    _title(sheet, styles, "Agreement: how closely each school's raters agreed", 9)
    for col, width in enumerate([10, 40, 16, 12, 12, 12, 12, 9, 40]):
        sheet.set_column(col, col, width)
    sheet.write_string(1, 0, AGREEMENT_NOTE, styles.note)
    district = _Tally()
    by_indicator: dict[str, _Tally] = defaultdict(_Tally)
    schools = together = 0  # team returns; those where 2 raters or more rated something
    for row in run.accepted:
        if has_team(row.result):
            schools += 1
            rated_together = False
            for one in run.compared(row.result):
                rated_together = True
                district.add(one.figures)
                by_indicator[one.indicator_id].add(one.figures)
            together += rated_together
    row = _agreement_district(sheet, styles, together, district, 3)
    row = _agreement_indicators(sheet, styles, run, by_indicator, row + 1)
    sheet.write_string(row + 1, 0, "Per school", styles.heading)
    header = row + 2
    for col, text in enumerate(AGREEMENT_SCHOOL_HEADERS):
        sheet.write_string(header, col, text, styles.header)
    sheet.set_row(header, 30)
    networks = {s.school_id: s.network for s in run.roster}

    def school_rows() -> Iterator[list]:
        for accepted in run.accepted:
            result = accepted.result
            if not has_team(result):
                continue
            tally = _Tally()
            flagged = []
            for one in run.compared(result):
                tally.add(one.figures)
                if one.figures.flagged:
                    flagged.append(one.indicator_id)
            yield [accepted.school_id, accepted.school_name,
                   networks.get(accepted.school_id, ""), _raters_who_rated(result),
                   *tally.figures(), ", ".join(flagged)]

    count = stream.add(sheet, header + 1, schools, len(AGREEMENT_SCHOOL_HEADERS), school_rows,
                       [styles.text] * 3 + [styles.number] * 2 + [styles.percent] * 2
                       + [styles.number, styles.wrap])
    sheet.autofilter(header, 0, header + max(count, 1), len(AGREEMENT_SCHOOL_HEADERS) - 1)


def _agreement_district(sheet, styles, schools: int, district: _Tally, row: int) -> int:
    """The district's figures as label | value rows from `row`; returns the next free row."""
    compared_, exact, within_one, flagged = district.figures()
    sheet.write_string(row, 0, "District", styles.heading)
    figures = [
        ("Schools where 2 raters or more rated (accepted returns)", schools, styles.number),
        ("Indicators compared (all schools)", compared_, styles.number),
        ("Share exact", exact, styles.percent),
        ("Share within one level", within_one, styles.percent),
        ("Flagged (2 levels or more apart)", flagged, styles.number),
    ]
    for label, value, fmt in figures:
        row += 1
        sheet.merge_range(row, 0, row, 1, "", styles.text)
        sheet.write_string(row, 0, label, styles.text)
        if value is not None:
            sheet.write_number(row, 2, value, fmt)
    return row + 1


def _agreement_indicators(sheet, styles, run: Consolidation,
                          by_indicator: dict[str, _Tally], row: int) -> int:
    """Per indicator across schools, in rubric order from `row`; returns the next free row."""
    sheet.write_string(row, 0, "Per indicator (across schools)", styles.heading)
    row += 1
    headers = ["ID", "Indicator", "Schools compared", "Share exact", "Share within one",
               "Flagged"]
    for col, text in enumerate(headers):
        sheet.write_string(row, col, text, styles.header)
    sheet.set_row(row, 30)
    formats = [styles.number, styles.percent, styles.percent, styles.number]
    for ind in run.rubric.indicators:
        row += 1
        sheet.write_string(row, 0, ind.id, styles.text)
        sheet.write_string(row, 1, ind.title, styles.text)
        for col, (value, fmt) in enumerate(
                zip(by_indicator[ind.id].figures(), formats, strict=True), start=2):
            if value is not None:
                sheet.write_number(row, col, value, fmt)
    return row + 1


def _raters_who_rated(result) -> int:
    """Raters of a team return who rated at least one indicator."""
    team = result.team
    return sum(1 for k in range(team.raters)
               if any(levels[k] is not None for levels in team.levels.values()))


def _priorities(book, styles, stream: StreamedRows, run: Consolidation, rows: Rows) -> None:
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
    high = []
    for r in rows():
        counts[r[COL["indicator_id"]]][r[COL["priority"]]] += 1
        if r[COL["priority"]] == "High":
            high.append((r[COL["indicator_id"]], r[COL["school_name"]], r[COL["next_steps"]],
                         r[COL["school_id"]]))
    ordered = sorted(run.rubric.indicators, key=lambda i: -counts[i.id]["High"])
    # Beside the counts, what schools plan for their High priorities, most-marked first.
    rank = {ind.id: i for i, ind in enumerate(ordered)}
    high.sort(key=lambda h: (rank[h[0]], h[3]))

    def priority_rows() -> Iterator[list]:
        for i in range(max(len(ordered), len(high))):
            left: list = ["", "", None, None, None]
            if i < len(ordered):
                ind = ordered[i]
                left = [ind.id, ind.title,
                        *(counts[ind.id][level] for level in ("High", "Medium", "Low"))]
            right = list(high[i][:3]) if i < len(high) else ["", "", ""]
            yield [*left, "", *right]

    stream.add(sheet, 2, max(len(ordered), len(high)), len(widths), priority_rows,
               [styles.text] * 2 + [styles.number] * 3 + [None, styles.text, styles.text,
                                                          styles.wrap])
    sheet.freeze_panes(2, 0)


def _evidence(book, styles, stream: StreamedRows, run: Consolidation, rows: Rows) -> None:
    sheet = book.add_worksheet("Evidence")
    _title(sheet, styles, "Evidence and next steps, per school and indicator", 8)
    columns = [("School ID", "school_id", 10), ("School", "school_name", 30),
               ("ID", "indicator_id", 6), ("Indicator", "indicator", 30),
               ("Rating", "label", 13), ("Evidence", "evidence", 60),
               ("Next steps", "next_steps", 50), ("Priority", "priority", 9)]
    for col, (title, _key, width) in enumerate(columns):
        sheet.set_column(col, col, width, styles.wrap if width >= 30 else None)
        sheet.write_string(1, col, title, styles.header)
    keys = [COL[key] for _title_text, key, _w in columns]

    def evidence_rows() -> Iterator[list]:
        for r in rows():
            yield [r[k] for k in keys]  # all text

    count = stream.add(sheet, 2, _rating_count(run), len(columns), evidence_rows)
    sheet.autofilter(1, 0, 1 + count, len(columns) - 1)
    sheet.freeze_panes(2, 2)


def _listing(book, styles, stream: StreamedRows, name: str, columns, count: int,
             values: Rows, widths: list[int]) -> None:
    sheet = book.add_worksheet(name)
    for col, (text, width) in enumerate(zip(columns, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, text, styles.header)

    def listing_rows() -> Iterator[list]:
        for record in values():
            yield [_cell_value(v) for v in record]

    count = stream.add(sheet, 1, count, len(columns), listing_rows)
    sheet.autofilter(0, 0, count, len(columns) - 1)
    sheet.freeze_panes(1, 0)


def _cell_value(value) -> int | str:
    """An int is a number; anything else is text ("" or None: an empty cell)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return "" if value is None else str(value)


def _data(book, stream: StreamedRows, run: Consolidation, rows: Rows) -> None:
    """The tidy ratings as an Excel table: pivot-ready, filterable, evidence included."""
    sheet = book.add_worksheet("Data")
    widths = [10, 30, 16, 10, 8, 8, 36, 6, 13, 50, 40, 9, 40]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    # The tidy rows hold text and level numbers ("" where unrated) only.
    count = stream.add(sheet, 1, _rating_count(run), len(RATINGS_COLUMNS), rows)
    sheet.add_table(0, 0, 1, len(RATINGS_COLUMNS) - 1, {
        "name": "Ratings",
        "style": "Table Style Light 9",
        "columns": [{"header": c} for c in RATINGS_COLUMNS],
    })
    stream.grow_table(sheet, count)  # the header row and `count` rows (at least one)
    sheet.freeze_panes(1, 0)
