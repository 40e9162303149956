"""Points and tiers in a real LibreOffice: Calc recalculates the Summary's total and tier.

A blank workbook of the small rubric with points (tests/points_kit.py: Beginning 0,
Growing 2, Strong Practice 5; Bronze 6, Silver 12, Gold 20; maximum 25) is opened in a
headless soffice through UNO; ratings are set in stages through their defined names (as
a person types), Calc recalculates everything after each stage, and the `points_total`,
`points_max` and `tier` cells are read through their names. The last stage is saved as
xlsx; openpyxl reads the values Calc cached, and `workbook-tool consolidate` reads the
file back as an accepted return with exactly those ratings.

The driver is tests/lo_uno.py's (its private soffice, profile and watchdog), run with the
system Python that has `uno`; skips as test_libreoffice.py does (a failure under CI=true).
"""

from __future__ import annotations

import json
import subprocess

import openpyxl
import pytest

import test_libreoffice as lo
from points_kit import points_rubric
from returns_kit import csv_rows
from workbook_tool.roster import School
from workbook_tool.writer import build_workbook

pytestmark = lo.pytestmark

SCHOOL = School("S-7", "Lincoln High", "North")
ROSTER = "school_id,school_name,network\nS-7,Lincoln High,North\n"
# What each stage sets; every stage's values stay until a later stage changes them.
STAGES = [
    {},  # the workbook as generated
    {"rating_1_1": "Strong Practice", "rating_1_2": "Strong Practice",
     "rating_1_3": "Growing", "rating_2_1": "Beginning"},  # 5+5+2+0 = 12: Silver, exactly
    {"rating_1_2": "Growing", "rating_2_2": "Growing"},  # 5+2+2+0+2 = 11: Bronze
    {"rating_1_2": "strong practice", "rating_2_2": "Excellent"},  # 5+5+2+0+0 = 12: Silver
    {"rating_1_2": "Strong Practice", "rating_2_2": ""},  # 12 again, 2.2 unrated: saved
]

# Run by the system Python: lo_uno.py's Office and named_cell, then explicit recalculation.
SCRIPT = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import lo_uno

src, dst, profile = Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
stages = json.loads(sys.argv[5])
seen = []
with lo_uno.Office(profile, 90.0) as office:
    doc = office.load(src)
    try:
        for stage in stages:
            for name, text in stage.items():
                lo_uno.named_cell(doc, name)[0].setString(text)
            doc.calculateAll()
            total = lo_uno.named_cell(doc, "points_total")[0]
            seen.append({
                "total": total.getValue(), "total_text": total.getString(),
                "total_formula": total.getFormula(),
                "max": lo_uno.named_cell(doc, "points_max")[0].getValue(),
                "tier": lo_uno.named_cell(doc, "tier")[0].getString(),
            })
        doc.storeToURL(dst.resolve().as_uri(),
                       lo_uno.props(FilterName=lo_uno.XLSX_FILTER, Overwrite=True))
    finally:
        doc.close(True)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory):
    """A private LibreOffice user profile for this module (never the user's own)."""
    return tmp_path_factory.mktemp("lo_profile")


@pytest.fixture(scope="module")
def rubric(tmp_path_factory):
    return points_rubric(tmp_path_factory.mktemp("rubric"))


@pytest.fixture(scope="module")
def calc(tmp_path_factory, lo_profile, rubric):
    """(what Calc showed after each stage, the saved file)."""
    folder = tmp_path_factory.mktemp("points")
    src = folder / "S-7_lincoln-high.xlsx"
    src.write_bytes(build_workbook(rubric, SCHOOL, "2026-27"))
    out = folder / "S-7_saved.xlsx"
    result = subprocess.run(
        [lo.SYSTEM_PYTHON, "-c", SCRIPT, str(lo.HERE), str(src), str(out), str(lo_profile),
         json.dumps(STAGES)],
        capture_output=True, text=True, timeout=lo.TIMEOUT, env=lo._clean_env(), check=False)
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout.strip().splitlines()[-1]), out


def test_calc_recalculates_the_total_and_the_tier(calc):
    seen, _ = calc
    assert [(s["total"], s["max"], s["tier"]) for s in seen] == [
        (0.0, 25.0, ""),
        (12.0, 25.0, "Silver"),
        (11.0, 25.0, "Bronze"),
        (12.0, 25.0, "Silver"),
        (12.0, 25.0, "Silver"),
    ]
    assert seen[-1]["total_text"] == "12"
    assert seen[0]["total_formula"] == "=0*D6+2*E6+5*F6"


def test_the_saved_file_caches_what_calc_computed(calc):
    sheet = openpyxl.load_workbook(calc[1], data_only=True)["Summary"]
    assert [sheet[ref].value for ref in ("A8", "B8", "A9", "B9", "A10", "B10")] == [
        "Total points", 12, "Maximum", 25, "Tier", "Silver"]


def test_consolidate_reads_the_saved_ratings_back(calc, rubric, tmp_path):
    from click.testing import CliRunner

    from workbook_tool.cli import main

    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "s7.xlsx").write_bytes(calc[1].read_bytes())
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "consolidate", str(returns), "--roster", str(roster), "--out", str(out),
        "--rubric", rubric.path, "--jobs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert [(r["status"], r["rated"], r["total"]) for r in csv_rows(out / "returns.csv")] == [
        ("accepted_with_warnings", "4", "5")]
    assert [(r["indicator_id"], r["level"], r["label"])
            for r in csv_rows(out / "ratings.csv")] == [
        ("1.1", "3", "Strong Practice"), ("1.2", "3", "Strong Practice"),
        ("1.3", "2", "Growing"), ("2.1", "1", "Beginning"), ("2.2", "", "")]
