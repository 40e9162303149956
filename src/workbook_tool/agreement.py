"""How far a team's raters agree on one indicator: the statistics the workbook shows live,
`check` lists and `agreement.csv` holds. Plain functions of the raters' levels, so the
writer's cached formula values and the consolidation's figures are one computation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .layout import FLAG_SPREAD


@dataclass(frozen=True)
class Stats:
    """Statistics of the raters who rated an indicator (levels that are not None)."""

    levels: tuple[int, ...]  # the levels given, in rater order

    @property
    def raters(self) -> int:
        return len(self.levels)

    @property
    def median(self) -> float | None:
        """The middle level; the mean of the two middle ones for an even count (2.5)."""
        if not self.levels:
            return None
        ordered = sorted(self.levels)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return float(ordered[middle])
        return (ordered[middle - 1] + ordered[middle]) / 2

    @property
    def spread(self) -> int | None:
        """Highest minus lowest level, once at least two raters rated."""
        if len(self.levels) < 2:
            return None
        return max(self.levels) - min(self.levels)

    @property
    def compared(self) -> bool:
        """Rated by at least two raters: the only indicators agreement is measured on."""
        return self.spread is not None

    @property
    def exact(self) -> bool:
        return self.spread == 0

    @property
    def within_one(self) -> bool:
        return self.spread is not None and self.spread <= 1

    @property
    def flagged(self) -> bool:
        return self.spread is not None and self.spread >= FLAG_SPREAD

    @property
    def lowest(self) -> int | None:
        return min(self.levels) if self.levels else None

    @property
    def highest(self) -> int | None:
        return max(self.levels) if self.levels else None


def stats(levels: Iterable[int | None]) -> Stats:
    """Statistics of one indicator from rater 1..N's levels (None: not rated)."""
    return Stats(tuple(level for level in levels if level is not None))


def median_text(median: float | None) -> str:
    """`2`, `2.5`, or "" for no median: as agreement.csv writes it."""
    if median is None:
        return ""
    return str(int(median)) if median == int(median) else str(median)


def outside_range(agreed: int | None, rated: Stats) -> bool:
    """Is the agreed level below the lowest or above the highest rater's level?"""
    if agreed is None or not rated.levels:
        return False
    return agreed < rated.lowest or agreed > rated.highest
