"""A workbook prefilled with an earlier cycle's answers: what each prefill cell shows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .. import layout
from ..reader.model import Answer, Previous
from ..rubric import Rubric


@dataclass(frozen=True)
class Carried:
    """An earlier cycle's answers made ready for a workbook of `rubric`.

    `answers` prefill the input cells: each level takes this rubric's label (the rating
    dropdown offers only those), a level this rubric lacks is left unrated, and last
    cycle's own review and follow-up stay behind. `shown` is what the locked "Last cycle"
    cell shows: the level's label, or the stored label of a level this rubric lacks.
    """

    cycle: str
    rubric_version: str
    answers: dict[str, Answer]
    shown: dict[str, str]

    @classmethod
    def of(cls, rubric: Rubric, previous: Previous) -> Carried:
        answers, shown = {}, {}
        for indicator in rubric.indicators:
            last = previous.answers.get(indicator.id)
            if last is None:
                continue
            level = last.level if last.level and 1 <= last.level <= len(rubric.levels) else None
            label = rubric.levels[level - 1].label if level else ""
            answers[indicator.id] = dataclasses.replace(
                last, indicator_id=indicator.id, level=level, label=label,
                previous_level=None, review="", followup="")
            shown[indicator.id] = label or (last.label if last.level else "")
        return cls(previous.cycle, previous.rubric_version, answers, shown)

    def cells(self, indicator_id: str, answer: Answer | None) -> dict[str, str]:
        """The text of an indicator's four prefill cells; `answer` is the one its input
        cells hold (carried, or given explicitly)."""
        last = self.answers.get(indicator_id)
        review = answer.review if answer is not None and answer.review else ""
        if not review and last is not None:
            review = layout.CARRIED_FORWARD
        return {
            layout.PREVIOUS_RATING: self.shown.get(indicator_id, ""),
            layout.PREVIOUS_NEXT_STEPS: last.next_steps if last is not None else "",
            layout.FOLLOWUP: answer.followup if answer is not None else "",
            layout.REVIEW: review,
        }
