"""Shared fixtures: rubrics, a roster, schools and generated workbooks."""

from __future__ import annotations

import os
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


# -- CI allows no skipped test ---------------------------------------------------------
# Locally a test whose tool is missing (LibreOffice, poppler, Carlito, pyarrow...) is
# skipped with its reason. In CI that would hide a real-client test that never ran, so with
# CI=true every skip, whether a skip mark, pytest.skip() or importorskip, in a test or at
# module level, fails instead. CI installs everything the tests need: no skip is allowed.

def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _why(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _no_skip_in_ci(report) -> None:
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (f"skipped in CI: {_why(report)}. With CI=true no test may skip: "
                           "install what it needs (see .ci/run).")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _no_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _no_skip_in_ci(outcome.get_result())


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


@pytest.fixture
def spill_loads(monkeypatch) -> list:
    """Where each read of texts spilled to disk (consolidate.TextSpill.load) went, in order:
    for tests that check which outputs read spilled texts back."""
    from workbook_tool.consolidate import TextSpill

    loads = []
    real_load = TextSpill.load

    def counted(self, where):
        loads.append(where)
        return real_load(self, where)

    monkeypatch.setattr(TextSpill, "load", counted)
    return loads
