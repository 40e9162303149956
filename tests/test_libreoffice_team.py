"""A team workbook in a real LibreOffice: raters fill their columns, Calc recalculates.

The rater cells are set through UNO (tests/lo_uno.py, by their defined names, with
setString as a person types), Calc's autocalc updates the formulas that depend on them, and
the document is saved as xlsx. The values Calc computed are then read back from the file with
openpyxl (data_only: the cached values Calc wrote) and compared with literals worked out by
hand; the reader reads the raters' levels back. Reuses test_libreoffice.py's skip logic.
"""

from __future__ import annotations

import json
import re

import openpyxl
import pytest

import test_libreoffice as lo
from workbook_tool.reader import read_file
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook

pytestmark = lo.pytestmark

SCHOOL = School("S-7", "Riverbend High", "North")

# District Framework (Emerging, Developing, Advancing, Transforming), three raters.
FILL = {
    "rater_name_1": "Ana",
    "rater_name_2": "Ben O'Hara",
    "rater_name_3": "Chris",
    "rater_1_1_1": "Developing", "rater_2_1_1": "Developing", "rater_3_1_1": "Developing",
    "rater_1_1_2": "Developing", "rater_2_1_2": "Advancing",
    "rater_1_1_3": "Emerging", "rater_2_1_3": "Transforming",
    "rater_2_1_5": "Advancing",
    "rater_1_1_6": "Emerging", "rater_2_1_6": "Developing", "rater_3_1_6": "Transforming",
    "rater_1_1_7": "Emerging", "rater_3_1_7": "Advancing",
    "rater_1_2_1": "Transforming", "rater_2_2_1": "Emerging", "rater_3_2_1": "Emerging",
    "rating_1_3": "Developing",
    "agreement_note_1_3": "We read the minutes together.",
}


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory):
    """A private LibreOffice user profile for this module (never the user's own)."""
    return tmp_path_factory.mktemp("lo_profile")


@pytest.fixture(scope="module")
def filled(tmp_path_factory, lo_profile, rubric):
    folder = tmp_path_factory.mktemp("team")
    src = folder / "S-7_team.xlsx"
    src.write_bytes(build_workbook(rubric, SCHOOL, Issue("2026-27", raters=3)))
    values = folder / "values.json"
    values.write_text(json.dumps(FILL, ensure_ascii=False), encoding="utf-8")
    out = folder / "S-7_filled.xlsx"
    report = lo.run_uno(lo_profile, "fill", str(src), str(out), str(values))
    return out, report


@pytest.fixture(scope="module")
def computed(filled):
    """The Team ratings sheet as Calc computed it (the cached values it saved)."""
    return openpyxl.load_workbook(filled[0], data_only=True)["Team ratings"]


def _shown(value):
    return None if value == "" else value  # Calc saves an empty text result as ""


def test_every_team_cell_was_set_under_protection(filled):
    _, report = filled
    assert report["refused"] == {}
    assert set(report["set"]) == set(FILL)
    for name, seen in report["set"].items():
        assert seen["protected"] and not seen["locked"], name


# Row: (median, spread, flag, agreed rating), as Calc computed them.
COMPUTED = {
    7: (2, 0, None, None),  # 1.1: all agree
    8: (2.5, 1, None, None),  # 1.2: 2;3
    9: (2.5, 3, "Discuss", "Developing"),  # 1.3: 1;4, agreed Developing
    10: (None, None, None, None),  # 1.4: nobody rated
    11: (3, None, None, None),  # 1.5: one rater only
    12: (2, 3, "Discuss", None),  # 1.6: 1;2;4
    13: (2, 2, "Discuss", None),  # 1.7: 1;3, two levels apart
    16: (1, 3, "Discuss", None),  # 2.1: 4;1;1
}


@pytest.mark.parametrize("row", sorted(COMPUTED))
def test_calc_computes_median_spread_and_flag(computed, row):
    assert tuple(_shown(computed[f"{c}{row}"].value) for c in "FGHI") == COMPUTED[row]


def test_calc_computes_the_team_view(computed):
    assert computed["A43"].value == "D1 Leadership Commitment and Accountability"
    assert computed["A48"].value == "All domains"
    rows = {r: tuple(_shown(computed[f"{c}{r}"].value) for c in "CDEFG") for r in (43, 44, 45, 48)}
    assert rows == {
        43: (5, 0.2, 0.4, 3, "1.3, 1.6, 1.7"),  # D1: 1.1 1.2 1.3 1.6 1.7 compared
        44: (1, 0, 0, 1, "2.1"),  # D2
        45: (0, None, None, 0, None),  # D3: nobody rated
        48: (6, pytest.approx(1 / 6), pytest.approx(2 / 6), 4, "1.3, 1.6, 1.7, 2.1"),
    }


def test_rater_cells_hold_the_labels(filled):
    sheet = openpyxl.load_workbook(filled[0])["Team ratings"]
    assert [sheet[f"{c}4"].value for c in "CDE"] == ["Ana", "Ben O'Hara", "Chris"]
    assert [sheet[f"{c}9"].value for c in "CDE"] == ["Emerging", "Transforming", None]
    assert [sheet[f"{c}16"].value for c in "CDE"] == ["Transforming", "Emerging", "Emerging"]
    assert sheet["J9"].value == "We read the minutes together."
    assert sheet["C9"].data_type == "s"


def test_the_reader_reads_the_raters_back(filled, rubric):
    result = read_file(filled[0], rubric)
    team = result.team
    assert team.names == ("Ana", "Ben O'Hara", "Chris")
    assert team.levels["1.1"] == (2, 2, 2)
    assert team.levels["1.2"] == (2, 3, None)
    assert team.levels["1.3"] == (1, 4, None)
    assert team.levels["1.5"] == (None, 3, None)
    assert team.levels["1.6"] == (1, 2, 4)
    assert team.levels["1.7"] == (1, None, 3)
    assert team.levels["2.1"] == (4, 1, 1)
    assert team.levels["3.1"] == (None, None, None)
    assert team.notes == {"1.3": "We read the minutes together."}
    assert not [p for p in result.problems if p.code == "team-cell-missing"]


def test_six_raters_print_one_page_wide(tmp_path, lo_profile, rubric):
    """The Team ratings sheet of a team of six, printed: landscape, every column on the page."""
    if missing := lo._pdf_tools_missing("pdftotext", "pdfinfo"):
        pytest.skip(missing)
    src = tmp_path / "six.xlsx"
    src.write_bytes(build_workbook(rubric, SCHOOL, Issue("2026-27", raters=6)))
    pdf = lo.convert(lo_profile, src, "pdf", tmp_path / "pdf")
    texts = lo._page_texts(pdf)
    pages = [n for n, t in enumerate(texts, 1) if "Team ratings: District Framework" in t
             or re.search(r"Rater 6\s+Median", t)]
    assert pages
    for n in pages:  # the header rows repeat, and all columns fit the width
        text = texts[n - 1]
        assert all(h in text for h in ("Rater 1", "Rater 6", "Median", "Spread",
                                        "Agreed rating", "Agreement")), n
        width, height = lo._page_size(pdf, n)
        assert width > height, n
    assert len(pages) <= 3, pages
    assert any(re.search(r"^\s*5\.4\s", texts[n - 1], re.M) for n in pages)
