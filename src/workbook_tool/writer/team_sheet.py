"""The Team ratings sheet: each rater's own rating of every indicator, and how far they agree.

Rows and columns come from layout (TeamColumns, TEAM_*_ROW). Per indicator: rater cells with
the level dropdown, hidden helper cells turning each rater's label into its level number, and
live median / spread / "Discuss" formulas on those helpers. Under the table, a team view per
domain and overall. Every formula carries the value agreement.stats computes for the prefilled
ratings, so a viewer that never recalculates shows the truth.

Only Excel 2007 functions are used (IFERROR, MATCH, MEDIAN, COUNTIF, MID): no TEXTJOIN, which
Excel 2016 lacks; the list of flagged indicators is built with IF() and "&".
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.workbook import Workbook

from .. import layout
from ..agreement import Stats, stats
from ..reader.model import Answer, TeamRatings
from ..rubric import Domain, Indicator, Rubric
from .domain_sheet import DomainSheet, level_validation
from .formats import Formats, text_height
from .page import finish_sheet

WIDTHS = {"id": 6, "title": 28, "rater": 13, "median": 8, "spread": 8, "flag": 9,
          "agreed": 13, "note": 32, "helper": 4}
# The team view's columns (not read back by anything, so not in layout): the domain's name
# across the id and title columns, then four figures, then the flagged ids to the end.
VIEW_LABEL, VIEW_COMPARED, VIEW_EXACT, VIEW_WITHIN, VIEW_FLAGGED, VIEW_LIST = 0, 2, 3, 4, 5, 6
LONGEST_TEXT = 32767  # MID's "to the end": no cell text is longer
NOTE = (
    "Each team member types their name above a Rater column and rates every indicator on their "
    "own first. Indicators whose raters are {spread} levels or more apart are flagged "
    "\"{discuss}\": discuss them first, agree a rating and pick it in the domain sheet's Rating "
    "cell (shown here as the agreed rating). When the agreed rating is outside the raters' "
    "range, write why in the Agreement note."
)


@dataclass(frozen=True)
class _Band:
    """A domain's indicator rows on the team sheet (0-based, first..last inclusive)."""

    domain: Domain
    first: int
    last: int


def write_team_sheet(book: Workbook, fmt: Formats, rubric: Rubric, sheets: list[DomainSheet],
                     raters: int, team: TeamRatings | None, answers: dict[str, Answer],
                     header_text: str, password: str | None) -> None:
    sheet = book.add_worksheet(layout.TEAM_SHEET)
    cols = layout.TeamColumns(raters)
    team = team or TeamRatings(("",) * raters)
    _columns(sheet, cols)
    _top(book, sheet, fmt, rubric, cols, team)

    row = layout.TEAM_FIRST_ROW
    bands, found = [], {}
    for ds in sheets:
        sheet.merge_range(row, cols.id, row, cols.last, f"{ds.domain.label} {ds.domain.title}",
                          fmt.band)
        sheet.set_row(row, 20)
        row += 1
        first = row
        for indicator, (r, c) in zip(ds.domain.indicators, ds.rating_cells, strict=True):
            agreed = f"{layout.quote_sheet(ds.name)}!{layout.cell_ref(r, c, absolute=True)}"
            found[indicator.id] = _indicator_row(book, sheet, fmt, rubric, cols, row, indicator,
                                                 team, answers.get(indicator.id), agreed)
            row += 1
        bands.append(_Band(ds.domain, first, row - 1))
    _level_colors(sheet, fmt, rubric, cols, layout.TEAM_FIRST_ROW, row - 1)
    _team_view(sheet, fmt, cols, bands, found, row + 1)

    sheet.freeze_panes(layout.TEAM_FIRST_ROW, cols.title + 1)
    sheet.repeat_rows(layout.TEAM_NAME_ROW, layout.TEAM_HEADER_ROW)
    finish_sheet(sheet, header_text, password, landscape=True)


def _columns(sheet, cols: layout.TeamColumns) -> None:
    sheet.set_column(cols.id, cols.id, WIDTHS["id"])
    sheet.set_column(cols.title, cols.title, WIDTHS["title"])
    sheet.set_column(cols.rater(1), cols.rater(cols.raters), WIDTHS["rater"])
    for kind in ("median", "spread", "flag", "agreed", "note"):
        col = getattr(cols, kind)
        sheet.set_column(col, col, WIDTHS[kind])
    # The level numbers only feed the formulas: hidden, and never printed.
    sheet.set_column(cols.helper(1), cols.helper(cols.raters), WIDTHS["helper"], None,
                     {"hidden": True})


def _top(book, sheet, fmt: Formats, rubric: Rubric, cols: layout.TeamColumns,
         team: TeamRatings) -> None:
    """Title, the note, the raters' name cells and the column headers."""
    sheet.merge_range(layout.TEAM_TITLE_ROW, cols.id, layout.TEAM_TITLE_ROW, cols.last,
                      f"Team ratings: {rubric.title}", fmt.title)
    sheet.set_row(layout.TEAM_TITLE_ROW, 30)
    note = NOTE.format(spread=layout.FLAG_SPREAD, discuss=layout.DISCUSS)
    sheet.merge_range(layout.TEAM_NOTE_ROW, cols.id, layout.TEAM_NOTE_ROW, cols.last, note,
                      fmt.note)
    width = sum(WIDTHS[k] for k in ("id", "title", "median", "spread", "flag", "agreed",
                                    "note")) + WIDTHS["rater"] * cols.raters
    sheet.set_row(layout.TEAM_NOTE_ROW, text_height(note, width))

    row = layout.TEAM_NAME_ROW
    sheet.write_string(row, cols.title, "Rater's name:", fmt.label_right)
    for k in range(1, cols.raters + 1):
        name = team.names[k - 1] if k <= len(team.names) else ""
        _input(sheet, row, cols.rater(k), name, fmt.input_center)
        _define(book, layout.rater_name(k), row, cols.rater(k))

    row = layout.TEAM_HEADER_ROW
    headers = {cols.id: layout.ID_HEADER, cols.title: "Indicator", cols.median: "Median",
               cols.spread: "Spread", cols.flag: layout.DISCUSS, cols.agreed: "Agreed rating",
               cols.note: layout.NOTE_HEADER}
    headers.update({cols.rater(k): layout.rater_header(k) for k in range(1, cols.raters + 1)})
    for col in sorted(headers):
        sheet.write_string(row, col, headers[col], fmt.header)
    sheet.set_row(row, 30)


def _indicator_row(book, sheet, fmt: Formats, rubric: Rubric, cols: layout.TeamColumns,
                   row: int, indicator: Indicator, team: TeamRatings, answer: Answer | None,
                   agreed_ref: str) -> Stats:
    levels = team.of(indicator.id)
    sheet.write_string(row, cols.id, indicator.id, fmt.cell_bold)
    sheet.write_string(row, cols.title, indicator.title, fmt.cell_bold)
    for k in range(1, cols.raters + 1):
        level = levels[k - 1] if k <= len(levels) else None
        label = rubric.levels[level - 1].label if level else ""
        col = cols.rater(k)
        _input(sheet, row, col, label, fmt.input_center)
        _define(book, layout.defined_name(layout.rater_kind(k), indicator), row, col)
        sheet.write_formula(row, cols.helper(k), _level_formula(rubric, row, col), None,
                            level if level else "")
    sheet.data_validation(row, cols.rater(1), row, cols.rater(cols.raters),
                          _rater_validation(rubric, indicator))
    rated = stats(levels)
    _statistics(sheet, fmt, cols, row, rated)
    label = answer.label if answer else ""
    sheet.write_formula(row, cols.agreed, f'=IF({agreed_ref}="","",{agreed_ref})',
                        fmt.number, label)
    _input(sheet, row, cols.note, team.notes.get(indicator.id, ""), fmt.input)
    _define(book, layout.defined_name(layout.NOTE_KIND, indicator), row, cols.note)
    sheet.set_row(row, min(text_height(indicator.title, WIDTHS["title"]), 409))
    return rated


def _input(sheet, row: int, col: int, text: str, cell_format) -> None:
    # User text is always a string: a name typed as "=1+1" stays text.
    if text:
        sheet.write_string(row, col, text, cell_format)
    else:
        sheet.write_blank(row, col, None, cell_format)


def _define(book, name: str, row: int, col: int) -> None:
    ref = layout.cell_ref(row, col, absolute=True)
    book.define_name(name, f"={layout.quote_sheet(layout.TEAM_SHEET)}!{ref}")


def _level_formula(rubric: Rubric, row: int, col: int) -> str:
    """The level number of a rater cell: its label's position among the levels (MATCH is
    blind to case; TRIM forgives spaces), or a level typed as a number, or ""."""
    cell = layout.cell_ref(row, col)
    labels = ",".join('"' + label.replace('"', '""') + '"' for label in rubric.labels)
    numbers = ",".join(str(level.level) for level in rubric.levels)
    return (f"=IFERROR(MATCH(TRIM({cell}),{{{labels}}},0),"
            f'IFERROR(MATCH(VALUE(TRIM({cell})),{{{numbers}}},0),""))')


def _statistics(sheet, fmt: Formats, cols: layout.TeamColumns, row: int, rated: Stats) -> None:
    first = layout.cell_ref(row, cols.helper(1))
    last = layout.cell_ref(row, cols.helper(cols.raters))
    helpers = f"{first}:{last}"
    sheet.write_formula(row, cols.median, f'=IF(COUNT({helpers})>=1,MEDIAN({helpers}),"")',
                        fmt.number, _cached(rated.median))
    sheet.write_formula(row, cols.spread,
                        f'=IF(COUNT({helpers})>=2,MAX({helpers})-MIN({helpers}),"")',
                        fmt.number, _cached(rated.spread))
    spread = layout.cell_ref(row, cols.spread)
    sheet.write_formula(
        row, cols.flag,
        f'=IF(COUNT({helpers})<2,"",IF({spread}>={layout.FLAG_SPREAD},"{layout.DISCUSS}",""))',
        fmt.flag, layout.DISCUSS if rated.flagged else "")


def _cached(value: float | None) -> float | int | str:
    """A formula's cached value: whole numbers as ints (2, not 2.0), nothing as ""."""
    if value is None:
        return ""
    return int(value) if value == int(value) else value


def _rater_validation(rubric: Rubric, indicator: Indicator) -> dict:
    return level_validation(
        rubric, f"Your rating of {indicator.id}",
        "On your own first: pick the level whose descriptor best matches your school's "
        "practice today: ")


def _level_colors(sheet, fmt: Formats, rubric: Rubric, cols: layout.TeamColumns, first: int,
                  last: int) -> None:
    for i, level in enumerate(rubric.levels):
        label = level.label.replace('"', '""')
        sheet.conditional_format(first, cols.rater(1), last, cols.rater(cols.raters), {
            "type": "cell", "criteria": "==", "value": f'"{label}"',
            "format": fmt.level_fill[i],
        })


# -- the team view ----------------------------------------------------------------------

def _team_view(sheet, fmt: Formats, cols: layout.TeamColumns, bands: list[_Band],
               found: dict[str, Stats], row: int) -> None:
    """Per domain and for all domains: how many indicators were compared (rated by two
    raters or more), the share where all agree exactly, the share within one level, how
    many are flagged, and which."""
    sheet.merge_range(row, cols.id, row, cols.last, "Team view", fmt.heading)
    sheet.set_row(row, 20)
    row += 1
    note = ("Only indicators rated by two raters or more are compared. All agree: every rater "
            "gave the same level. Within one level: the raters are at most one level apart.")
    sheet.merge_range(row, cols.id, row, cols.last, note, fmt.note)
    sheet.set_row(row, 28)
    row += 1
    headers = {VIEW_LABEL: "Domain", VIEW_COMPARED: "Compared", VIEW_EXACT: "All agree",
               VIEW_WITHIN: "Within one level", VIEW_FLAGGED: "Flagged",
               VIEW_LIST: "Flagged indicators"}
    _view_row(sheet, fmt.header, fmt.header, cols, row, headers)
    sheet.set_row(row, 30)
    row += 1
    first_view = row
    for band in bands:
        _domain_view(sheet, fmt, cols, band, found, row)
        row += 1
    _all_view(sheet, fmt, cols, bands, found, first_view, row)


def _view_row(sheet, fmt_label, fmt_list, cols, row: int, cells: dict[int, object]) -> None:
    """Write one team-view row; the label spans id and title, the list runs to the end."""
    sheet.merge_range(row, VIEW_LABEL, row, VIEW_COMPARED - 1, "", fmt_label)
    sheet.merge_range(row, VIEW_LIST, row, cols.last, "", fmt_list)
    for col, value in cells.items():
        if isinstance(value, tuple):  # (formula, format, cached value)
            sheet.write_formula(row, col, *value)
        else:
            sheet.write_string(row, col, value, fmt_label)


def _domain_view(sheet, fmt: Formats, cols: layout.TeamColumns, band: _Band,
                 found: dict[str, Stats], row: int) -> None:
    rated = [found[ind.id] for ind in band.domain.indicators]
    spreads = _range(band, cols.spread)
    compared = layout.cell_ref(row, VIEW_COMPARED)
    flagged_ids = [ind.id for ind in band.domain.indicators if found[ind.id].flagged]
    terms = "&".join(_flagged_id(cols, r) for r in range(band.first, band.last + 1))
    label = f"{band.domain.label} {band.domain.title}"
    sheet.set_row(row, text_height(label, WIDTHS["id"] + WIDTHS["title"]))
    _view_row(sheet, fmt.cell_bold, fmt.cell, cols, row, {
        VIEW_LABEL: label,
        VIEW_COMPARED: (f"=COUNT({spreads})", fmt.number, _count(rated, "compared")),
        VIEW_EXACT: (_share(compared, f"COUNTIF({spreads},0)"), fmt.percent,
                     _share_value(rated, "exact")),
        VIEW_WITHIN: (_share(compared, f'COUNTIF({spreads},"<=1")'), fmt.percent,
                      _share_value(rated, "within_one")),
        VIEW_FLAGGED: (f'=COUNTIF({spreads},">={layout.FLAG_SPREAD}")', fmt.number,
                       _count(rated, "flagged")),
        VIEW_LIST: (f"=MID({terms},3,{LONGEST_TEXT})", fmt.cell, ", ".join(flagged_ids)),
    })


def _all_view(sheet, fmt: Formats, cols: layout.TeamColumns, bands: list[_Band],
              found: dict[str, Stats], first: int, row: int) -> None:
    rated = list(found.values())
    last = row - 1

    def column(col: int) -> str:
        return f"{layout.cell_ref(first, col)}:{layout.cell_ref(last, col)}"

    def counts(criterion: str) -> str:
        return "+".join(f"COUNTIF({_range(band, cols.spread)},{criterion})" for band in bands)

    compared = layout.cell_ref(row, VIEW_COMPARED)
    lists = "&".join(
        f'IF({layout.cell_ref(r, VIEW_LIST)}="","",", "&{layout.cell_ref(r, VIEW_LIST)})'
        for r in range(first, row))
    flagged_ids = [ind_id for ind_id, s in found.items() if s.flagged]
    _view_row(sheet, fmt.cell_bold, fmt.cell_bold, cols, row, {
        VIEW_LABEL: "All domains",
        VIEW_COMPARED: (f"=SUM({column(VIEW_COMPARED)})", fmt.cell_center,
                        _count(rated, "compared")),
        VIEW_EXACT: (_share(compared, f"({counts('0')})"), fmt.percent,
                     _share_value(rated, "exact")),
        VIEW_WITHIN: (_share(compared, f'({counts(chr(34) + "<=1" + chr(34))})'), fmt.percent,
                      _share_value(rated, "within_one")),
        VIEW_FLAGGED: (f"=SUM({column(VIEW_FLAGGED)})", fmt.cell_center,
                       _count(rated, "flagged")),
        VIEW_LIST: (f"=MID({lists},3,{LONGEST_TEXT})", fmt.cell_bold, ", ".join(flagged_ids)),
    })


def _flagged_id(cols: layout.TeamColumns, row: int) -> str:
    """`, 1.3` when the indicator of `row` is flagged, else nothing."""
    flag, ind_id = layout.cell_ref(row, cols.flag), layout.cell_ref(row, cols.id)
    return f'IF({flag}="{layout.DISCUSS}",", "&{ind_id},"")'


def _range(band: _Band, col: int) -> str:
    return f"{layout.cell_ref(band.first, col)}:{layout.cell_ref(band.last, col)}"


def _share(compared: str, count: str) -> str:
    return f'=IF({compared}=0,"",{count}/{compared})'


def _count(rated: list[Stats], what: str) -> int:
    return sum(1 for s in rated if getattr(s, what))


def _share_value(rated: list[Stats], what: str) -> float | str:
    compared = _count(rated, "compared")
    return _count(rated, what) / compared if compared else ""
