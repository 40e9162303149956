"""Regenerate samples/returns/: filled returns of a few sample schools, in the current format.

    python scripts/make_samples.py

They are made by the demo's simulated site teams (the generator's own pre-fill), so they never
drift from what `generate` writes; tests/test_samples.py fails when they are out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbook_tool.demo import ISSUE, sample_roster, simulated_answers
from workbook_tool.generate import file_names
from workbook_tool.rubric import load_rubric
from workbook_tool.writer import build_workbook

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "returns"
# A school that is well along, one that has just begun with gaps, and one with a mistake.
SCHOOLS = ("102", "109", "108")


def sample_returns() -> dict[str, bytes]:
    rubric = load_rubric()
    schools = [s for s in sample_roster() if s.school_id in SCHOOLS]
    names = file_names(schools)
    return {
        names[s.school_id]: build_workbook(rubric, s, ISSUE, answers=simulated_answers(rubric, s))
        for s in schools
    }


def main() -> int:
    SAMPLES.mkdir(parents=True, exist_ok=True)
    for name, data in sample_returns().items():
        (SAMPLES / name).write_bytes(data)
        print(f"wrote {SAMPLES / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
