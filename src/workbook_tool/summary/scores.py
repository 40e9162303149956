"""Points and tiers in the district outputs: the Scores sheet and the figures the board
report shows. Only for a rubric whose levels score points (rubric.has_points).

A school's score is the points of its accepted return; an unrated indicator scores 0 and
counts in `total`, not in `rated`, so a partial return shows as partial.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from ..consolidate import Consolidation, Score, scores
from ..rubric import NO_TIER

SCORES_SHEET = "Scores"
NO_NETWORK = "No network"
SCHOOL_HEADERS = ("School ID", "School", "Network", "Points", "Maximum", "Rated", "Total",
                  "Tier")


def ranked(run: Consolidation) -> list[Score]:
    """Every accepted return's score, highest points first (then by school id)."""
    return sorted(scores(run), key=lambda s: (-s.points, s.school_id))


def tier_names(run: Consolidation) -> list[str]:
    """The tiers from the highest down, then NO_TIER (a total below every threshold)."""
    return [tier.name for tier in reversed(run.rubric.tiers)] + [NO_TIER]


def by_network(found: list[Score]) -> dict[str, Counter]:
    """network (NO_NETWORK when blank) -> tier (NO_TIER when none) -> schools."""
    out: dict[str, Counter] = defaultdict(Counter)
    for score in found:
        out[score.network or NO_NETWORK][score.tier or NO_TIER] += 1
    return dict(sorted(out.items(), key=lambda item: (item[0] == NO_NETWORK,
                                                      item[0].casefold())))


def write_scores(book, styles, run: Consolidation, title: Callable) -> None:
    """Add the Scores sheet when the rubric gives points."""
    if not run.rubric.has_points:
        return
    found = ranked(run)
    tiers = tier_names(run)
    sheet = book.add_worksheet(SCORES_SHEET)
    width = max(len(SCHOOL_HEADERS), len(tiers) + 2)
    title(sheet, styles, "Scores: points and tiers of the accepted returns", width)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, width, 12)
    sheet.write_string(1, 0, _note(run), styles.note)
    row = _networks(sheet, styles, found, tiers, 3)
    _schools(sheet, styles, found, row + 1)


def _note(run: Consolidation) -> str:
    rubric = run.rubric
    points = ", ".join(f"{lv.label} {lv.points}" for lv in rubric.levels)
    tiers = ", ".join(f"{t.name} from {t.min_points}" for t in rubric.tiers) or "none"
    return (f"Points per rating: {points}; an unrated indicator scores 0. Tiers: {tiers}. "
            f"A full return of this rubric can score {rubric.max_points}.")


def _header(sheet, styles, row: int, texts) -> None:
    for col, text in enumerate(texts):
        sheet.write_string(row, col, text, styles.header)


def _networks(sheet, styles, found: list[Score], tiers: list[str], row: int) -> int:
    sheet.write_string(row, 0, "Schools in each tier, by network", styles.heading)
    _header(sheet, styles, row + 1, ["Network", *tiers, "Schools"])
    row += 2
    counts = by_network(found)
    totals: Counter = Counter()
    for network, counter in counts.items():
        sheet.write_string(row, 0, network, styles.text)
        for col, tier in enumerate(tiers, start=1):
            sheet.write_number(row, col, counter[tier], styles.number)
        sheet.write_number(row, len(tiers) + 1, sum(counter.values()), styles.number)
        totals.update(counter)
        row += 1
    sheet.write_string(row, 0, "District", styles.header)
    for col, tier in enumerate(tiers, start=1):
        sheet.write_number(row, col, totals[tier], styles.number)
    sheet.write_number(row, len(tiers) + 1, sum(totals.values()), styles.number)
    return row + 1


def _schools(sheet, styles, found: list[Score], row: int) -> None:
    sheet.write_string(row, 0, "Schools, highest points first", styles.heading)
    header = row + 1
    _header(sheet, styles, header, SCHOOL_HEADERS)
    row = header + 1
    for score in found:
        for col, text in enumerate((score.school_id, score.school_name, score.network)):
            sheet.write_string(row, col, text, styles.text)
        for col, value in enumerate((score.points, score.max_points, score.rated,
                                     score.total), start=3):
            sheet.write_number(row, col, value, styles.number)
        sheet.write_string(row, 7, score.tier or NO_TIER, styles.text)
        row += 1
    sheet.autofilter(header, 0, max(row - 1, header), len(SCHOOL_HEADERS) - 1)
