"""Shared fixtures: rubrics, a roster, schools and generated workbooks."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from workbook_tool.roster import School
from workbook_tool.rubric import load_rubric

HERE = Path(__file__).parent
ROOT = HERE.parent
DATA = HERE / "data"

# xlsxwriter reports problems (a string too long, a bad range) as warnings: fail on them.
warnings.filterwarnings("error", module="xlsxwriter")


@pytest.fixture(scope="session")
def rubric():
    return load_rubric()


@pytest.fixture(scope="session")
def small_rubric():
    return load_rubric(DATA / "small_rubric.yaml")


@pytest.fixture
def school():
    return School("S-101", "Lincoln High School / Early College & Co", "North",
                  "Ana Ruiz", "ana@example.org")


@pytest.fixture
def roster_csv(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        "school_id,school_name,network\n"
        "101,Lincoln High School,North\n"
        "102,O'Keefe Academy / Arts,South\n"
        "103,École Saint-Éxupéry International,North\n",
        encoding="utf-8",
    )
    return path
