"""The Trends sheet: this cycle against the previous one recorded in the history store.

Four tables, in the order a district reads them: how many schools sit at each level per
indicator then and now; each school's average level per domain then, now and the change;
every school and indicator that dropped a level; and what became of last cycle's next
steps (the Follow-up the schools chose), by last cycle's priority. A school counts in a
cycle's figures only where it has an accepted return of that cycle.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from statistics import mean

from .. import layout
from ..consolidate import RATINGS_COLUMNS, Consolidation, PreviousCycle
from .exports import ratings_rows

TRENDS_SHEET = "Trends"
NOT_SAID = "Not said"  # a follow-up left empty, or typed as something else
NO_PRIORITY = "No priority"

_COL = {name: i for i, name in enumerate(RATINGS_COLUMNS)}
Now = dict[tuple[str, str], tuple[int | None, str]]  # (school, indicator) -> (level, followup)


def write_trends(book, styles, run: Consolidation, title: Callable) -> None:
    """Add the Trends sheet when the run has a previous cycle to compare with."""
    previous = run.previous
    if previous is None:
        return
    now = _this_cycle(run)
    sheet = book.add_worksheet(TRENDS_SHEET)
    levels = run.rubric.levels
    title(sheet, styles, f"Trends: {previous.cycle} to {run.cycle or 'this cycle'}",
          2 + 2 * len(levels) + 3)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 2 + 2 * len(levels) + 3, 13)
    sheet.write_string(
        1, 0, f"This cycle's accepted returns against {previous.cycle}'s, as the history "
        "store recorded them. A school counts in a cycle only where it has an accepted "
        "return of that cycle.", styles.note)
    row = _per_indicator(sheet, styles, run, previous, now, 3)
    row = _per_domain(sheet, styles, run, previous, now, row + 1)
    row = _dropped(sheet, styles, run, previous, now, row + 1)
    _followup(sheet, styles, previous, now, row + 1)


def _this_cycle(run: Consolidation) -> Now:
    level, indicator, school = _COL["level"], _COL["indicator_id"], _COL["school_id"]
    followup = _COL["followup"]
    return {(r[school], r[indicator]): (r[level] if r[level] != "" else None, r[followup])
            for r in ratings_rows(run, texts=False)}


def _header(sheet, styles, row: int, texts: list[str]) -> None:
    for col, text in enumerate(texts):
        sheet.write_string(row, col, text, styles.header)
    sheet.set_row(row, 30)


def _number(sheet, row: int, col: int, value: float | None, fmt) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_number(row, col, value, fmt)


def _average(levels: list[int]) -> float | None:
    return round(mean(levels), 2) if levels else None


def _change(then: float | None, now: float | None) -> float | None:
    return None if then is None or now is None else round(now - then, 2)


def _per_indicator(sheet, styles, run: Consolidation, previous: PreviousCycle, now: Now,
                   row: int) -> int:
    sheet.write_string(row, 0, "Per indicator: schools at each level", styles.heading)
    labels = [lv.label for lv in run.rubric.levels]
    then_name, now_name = previous.cycle, run.cycle or "now"
    _header(sheet, styles, row + 1,
            ["ID", "Indicator", *(f"{label} {then_name}" for label in labels),
             *(f"{label} {now_name}" for label in labels),
             f"Average {then_name}", f"Average {now_name}", "Change"])
    then_levels = _levels_by_indicator(previous.answers)
    now_levels = _levels_by_indicator(now)
    row += 2
    for ind in run.rubric.indicators:
        sheet.write_string(row, 0, ind.id, styles.text)
        sheet.write_string(row, 1, ind.title, styles.wrap)
        col = 2
        for found in (then_levels[ind.id], now_levels[ind.id]):
            counts = Counter(found)
            for level in run.rubric.levels:
                sheet.write_number(row, col, counts[level.level], styles.number)
                col += 1
        then, later = _average(then_levels[ind.id]), _average(now_levels[ind.id])
        for value, fmt in ((then, styles.decimal), (later, styles.decimal),
                           (_change(then, later), styles.decimal)):
            _number(sheet, row, col, value, fmt)
            col += 1
        row += 1
    return row


def _levels_by_indicator(answers: dict) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for (_school, indicator), (level, *_rest) in answers.items():
        if level is not None:
            found[indicator].append(level)
    return found


def _per_domain(sheet, styles, run: Consolidation, previous: PreviousCycle, now: Now,
                row: int) -> int:
    sheet.write_string(row, 0, "Per school and domain: average level", styles.heading)
    _header(sheet, styles, row + 1, ["School ID", "School", "Domain",
                                     f"Average {previous.cycle}",
                                     f"Average {run.cycle or 'now'}", "Change"])
    domain_of = {ind.id: ind.domain_id for ind in run.rubric.indicators}
    then_levels = _levels_by_school_domain(previous.answers, domain_of)
    now_levels = _levels_by_school_domain(now, domain_of)
    names = {s.school_id: s.school_name for s in run.roster}
    schools = sorted({school for school, _ in then_levels} | {school for school, _ in now_levels})
    row += 2
    for school in schools:
        for domain in run.rubric.domains:
            then = _average(then_levels.get((school, domain.id), []))
            later = _average(now_levels.get((school, domain.id), []))
            if then is None and later is None:
                continue
            sheet.write_string(row, 0, school, styles.text)
            sheet.write_string(row, 1, names.get(school, ""), styles.text)
            sheet.write_string(row, 2, f"{domain.id} {domain.short_title}", styles.text)
            _number(sheet, row, 3, then, styles.decimal)
            _number(sheet, row, 4, later, styles.decimal)
            _number(sheet, row, 5, _change(then, later), styles.decimal)
            row += 1
    return row


def _levels_by_school_domain(answers: dict, domain_of: dict[str, str]):
    found: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (school, indicator), (level, *_rest) in answers.items():
        if level is not None and indicator in domain_of:
            found[(school, domain_of[indicator])].append(level)
    return found


def _dropped(sheet, styles, run: Consolidation, previous: PreviousCycle, now: Now,
             row: int) -> int:
    sheet.write_string(row, 0, "Dropped a level or more", styles.heading)
    _header(sheet, styles, row + 1, ["School ID", "School", "ID", "Indicator",
                                     previous.cycle, run.cycle or "now", "Change"])
    labels = {lv.level: lv.label for lv in run.rubric.levels}
    titles = {ind.id: ind.title for ind in run.rubric.indicators}
    names = {s.school_id: s.school_name for s in run.roster}
    order = {ind.id: i for i, ind in enumerate(run.rubric.indicators)}
    row += 2
    first = row
    for (school, indicator), (level, _followup) in sorted(
            now.items(), key=lambda item: (item[0][0], order.get(item[0][1], len(order)))):
        then = previous.answers.get((school, indicator), (None,))[0]
        if level is None or then is None or level >= then:
            continue
        for col, text in enumerate([school, names.get(school, ""), indicator,
                                    titles.get(indicator, ""), labels.get(then, str(then)),
                                    labels.get(level, str(level))]):
            sheet.write_string(row, col, text, styles.text)
        sheet.write_number(row, 6, level - then, styles.number)
        row += 1
    if row == first:
        sheet.write_string(row, 0, "No school dropped a level on any indicator.", styles.note)
        row += 1
    return row


def _followup(sheet, styles, previous: PreviousCycle, now: Now, row: int) -> int:
    sheet.write_string(row, 0, f"Follow-up of {previous.cycle}'s next steps", styles.heading)
    choices = [*layout.FOLLOWUP_CHOICES, NOT_SAID]
    _header(sheet, styles, row + 1, ["Priority", "Next steps", *choices])
    tally: dict[str, Counter] = defaultdict(Counter)
    for key, (_level, next_steps, priority) in previous.answers.items():
        if not next_steps.strip() or key not in now:
            continue  # no next steps then, or no return now to say what became of them
        said = now[key][1]
        tally[priority or NO_PRIORITY][said if said in layout.FOLLOWUP_CHOICES else NOT_SAID] += 1
    row += 2
    for priority in (*layout.PRIORITIES, NO_PRIORITY):
        counts = tally.get(priority, Counter())
        sheet.write_string(row, 0, priority, styles.text)
        sheet.write_number(row, 1, sum(counts.values()), styles.number)
        for col, choice in enumerate(choices, start=2):
            sheet.write_number(row, col, counts[choice], styles.number)
        row += 1
    return row
