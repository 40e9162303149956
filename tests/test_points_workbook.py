"""Points and tiers on a generated workbook's Summary, read with openpyxl (an independent
reader): the names `points_total`, `points_max` and `tier`, their live formulas, and the
cached values every viewer shows before anything recalculates, for a blank workbook, a
filled one, a prefilled one (built and stamped), a team workbook; a rubric without points
gets none of it, and the District Framework's workbooks are byte for byte what they were.

The small rubric with points (tests/points_kit.py): levels Beginning, Growing, Strong
Practice score 0, 2, 5; tiers Bronze 6, Silver 12, Gold 20; 5 indicators (1.1-1.3 on D1,
2.1-2.2 on D2), so the maximum is 25. Its Summary: domain rows 4-5, All domains on row 6,
the points cells on rows 8-10.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

import openpyxl
import pytest

from points_kit import points_rubric
from returns_kit import make_return, members, sheet_part
from workbook_tool.generate import generate
from workbook_tool.reader import read_return
from workbook_tool.reader.model import Answer, Previous
from workbook_tool.roster import School
from workbook_tool.rubric import load_rubric
from workbook_tool.writer import Issue, build_workbook, prefill_stamp
from workbook_tool.writer.prefill_stamp import PrefillStamper
from workbook_tool.writer.stamp import Stamper

SCHOOL = School("S-7", "Lincoln High", "North")
LABELS = {1: "Beginning", 2: "Growing", 3: "Strong Practice"}
IDS = ("1.1", "1.2", "1.3", "2.1", "2.2")
NAMES = ("points_total", "points_max", "tier")


@pytest.fixture
def rubric(tmp_path):
    return points_rubric(tmp_path)


def answers(*levels: int | None) -> dict[str, Answer]:
    """Indicators 1.1.. rated at `levels` in order (None: unrated, left out)."""
    return {i: Answer(i, lv, LABELS[lv]) for i, lv in zip(IDS, levels, strict=False) if lv}


def book(data: bytes, data_only: bool = False) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)


def cached(data: bytes) -> tuple:
    """(total, maximum, tier) as cached in the file (None where the cached value is empty)."""
    sheet = book(data, data_only=True)["Summary"]
    return sheet["B8"].value, sheet["B9"].value, sheet["B10"].value


# -- names, labels, formulas ----------------------------------------------------------------

def test_the_names_point_at_the_summary_cells_beside_their_labels(rubric):
    wb = book(build_workbook(rubric, SCHOOL, "2026-27"))
    assert {n: wb.defined_names[n].attr_text for n in NAMES} == {
        "points_total": "'Summary'!$B$8", "points_max": "'Summary'!$B$9",
        "tier": "'Summary'!$B$10"}
    sheet = wb["Summary"]
    assert [sheet[f"A{r}"].value for r in (8, 9, 10)] == ["Total points", "Maximum", "Tier"]
    assert sheet["A6"].value == "All domains" and sheet["A7"].value is None


def test_the_live_formulas_and_the_maximum(rubric):
    sheet = book(build_workbook(rubric, SCHOOL, "2026-27"))["Summary"]
    # The All domains row's counts per level (D6:F6), times each level's points.
    assert sheet["B8"].value == "=0*D6+2*E6+5*F6"
    assert sheet["D6"].value == "=SUM(D4:D5)"
    assert sheet["B9"].value == 25
    assert sheet["B10"].value == (
        '=IF(B8>=20,"Gold",IF(B8>=12,"Silver",IF(B8>=6,"Bronze","")))')


def test_the_points_cells_are_locked_on_the_protected_sheet(rubric):
    sheet = book(build_workbook(rubric, SCHOOL, "2026-27"))["Summary"]
    assert sheet.protection.sheet is True
    for ref in ("A8", "B8", "B9", "B10"):
        assert sheet[ref].protection.locked is True, ref


def test_tier_names_are_quoted_in_the_formula(tmp_path):
    rubric = points_rubric(tmp_path, tiers=(("Say \"yes\"", 6), ("A & <B>", 12)))
    data = build_workbook(rubric, SCHOOL, "c", answers=answers(3, 3, 2))
    sheet = book(data)["Summary"]
    assert sheet["B10"].value == '=IF(B8>=12,"A & <B>",IF(B8>=6,"Say ""yes""",""))'
    assert cached(data) == (12, 25, "A & <B>")


# -- cached values --------------------------------------------------------------------------

def test_a_blank_workbook_caches_zero_and_no_tier(rubric):
    data = build_workbook(rubric, SCHOOL, "2026-27")
    assert cached(data) == (0, 25, None)
    # The empty tier is an empty cached value (no string type), as Excel writes "".
    xml = members(data)[sheet_part(data, "Summary")].decode()
    assert '<c r="B10" s="' in xml
    tier_cell = xml[xml.index('<c r="B10"'):]
    assert tier_cell[:tier_cell.index("</c>")].endswith("<v></v>")
    assert ' t="str"' not in tier_cell[:tier_cell.index("</c>")]


def test_a_filled_return_caches_its_total_and_tier(rubric):
    # 3, 3, 2, 1, unrated: 5 + 5 + 2 + 0 + 0 = 12, exactly Silver's min_points.
    data = make_return(rubric, SCHOOL, answers=answers(3, 3, 2, 1))
    assert cached(data) == (12, 25, "Silver")


@pytest.mark.parametrize(("levels", "expected"), [
    ((3, 2, 2, 2), (11, 25, "Bronze")),  # one below Silver
    ((3, 1, 1, 1, 1), (5, 25, None)),  # below every tier
    ((2, 2, 2), (6, 25, "Bronze")),  # exactly Bronze
    ((3, 3, 3, 3, 1), (20, 25, "Gold")),  # exactly Gold
    ((3, 3, 3, 3, 3), (25, 25, "Gold")),
    ((1, 1, 1, 1, 1), (0, 25, None)),  # every one rated, all at 0 points
])
def test_tier_boundaries_in_the_cached_values(rubric, levels, expected):
    assert cached(make_return(rubric, SCHOOL, answers=answers(*levels))) == expected


def test_a_tier_from_zero_points_is_the_tier_of_a_blank_workbook(tmp_path):
    rubric = points_rubric(tmp_path, tiers=(("Started", 0), ("Gold", 20)))
    assert cached(build_workbook(rubric, SCHOOL, "c")) == (0, 25, "Started")


def test_a_rating_text_the_formulas_do_not_count_scores_nothing(rubric):
    # The writer caches what the formulas compute: a level number or an unknown text in
    # the rating cell is not one of the labels COUNTIF looks for.
    odd = {"1.1": Answer("1.1", None, "3"), "1.2": Answer("1.2", None, "Excellent"),
           **{k: v for k, v in answers(None, None, 3).items()}}
    assert cached(make_return(rubric, SCHOOL, answers=odd)) == (5, 25, None)


def test_a_prefilled_workbook_caches_last_cycles_points(rubric):
    previous = Previous("2025-26", rubric.version, answers(3, 3, 2, 1))
    data = build_workbook(rubric, SCHOOL, Issue("2026-27"), previous=previous)
    assert cached(data) == (12, 25, "Silver")


def test_generate_caches_each_prefilled_schools_own_points(tmp_path, rubric):
    schools = [SCHOOL, School("S-8", "Rosa Parks Academy", "South"), School("S-9", "Oak")]
    previous = {"S-7": Previous("2025-26", "v", answers(3, 3, 2, 1)),  # 12 Silver
                "S-8": Previous("2025-26", "v", answers(3, 3, 3, 3, 3))}  # 25 Gold
    generate(rubric, schools, tmp_path / "out", Issue("2026-27"), previous=previous)
    files = {p.name: p.read_bytes() for p in (tmp_path / "out").glob("*.xlsx")}
    assert {name: cached(data) for name, data in files.items()} == {
        "S-7_lincoln-high.xlsx": (12, 25, "Silver"),
        "S-8_rosa-parks-academy.xlsx": (25, 25, "Gold"),
        "S-9_oak.xlsx": (0, 25, None),
    }


def test_a_workbook_of_selected_domains_has_their_maximum(rubric):
    # D1 only: 1.1-1.3, at most 3 x 5 points (as scores.csv counts a return's maximum).
    data = build_workbook(rubric, SCHOOL, "c", domain_ids=["1"], answers=answers(3, 3, 2))
    assert book(data).defined_names["points_total"].attr_text == "'Summary'!$B$7"
    sheet = book(data, data_only=True)["Summary"]
    assert [sheet[f"B{r}"].value for r in (7, 8, 9)] == [12, 15, "Silver"]


def test_a_team_workbook_has_the_points_too(rubric):
    data = build_workbook(rubric, SCHOOL, Issue("2026-27", raters=3),
                          answers=answers(3, 2, 2, 2))
    wb = book(data)
    assert wb.defined_names["tier"].attr_text == "'Summary'!$B$10"
    assert cached(data) == (11, 25, "Bronze")


def test_the_reader_accepts_a_points_workbook(rubric):
    result = read_return(make_return(rubric, SCHOOL, answers=answers(3, 3, 2, 1)), "a.xlsx",
                         rubric)
    assert [(a.indicator_id, a.level) for a in result.answers] == [
        ("1.1", 3), ("1.2", 3), ("1.3", 2), ("2.1", 1), ("2.2", None)]
    assert [p.code for p in result.problems] == ["unrated"]


# -- stamping gives the same bytes as building ----------------------------------------------

LEVEL_MIXES = [(), (3, 3, 2, 1), (3, 2, 2, 2), (2, 2, 2), (3, 3, 3, 3, 3), (None, 1, 1)]


@pytest.mark.parametrize("tiers", [(("Bronze", 6), ("Silver", 12), ("Gold", 20)),
                                   (("Started", 0), ("A & <B> \"q\"", 12)), ()])
@pytest.mark.parametrize("raters", [0, 3])
def test_stamped_prefilled_workbooks_equal_built_ones(tmp_path, monkeypatch, tiers, raters):
    rubric = points_rubric(tmp_path, tiers=tiers)
    built = []
    monkeypatch.setattr(prefill_stamp, "build_workbook",
                        lambda *a, **k: built.append(1) or build_workbook(*a, **k))
    issue = Issue("2026-27", raters=raters)
    stamper = PrefillStamper(rubric, issue)
    for levels in LEVEL_MIXES:
        previous = Previous("2025-26", "v", answers(*levels))
        assert stamper.workbook(SCHOOL, previous) == build_workbook(
            rubric, SCHOOL, issue, previous=previous), levels
    assert built == []  # every one was stamped


def test_stamped_plain_workbooks_equal_built_ones(rubric):
    filled = answers(3, 3, 2, 1)
    for given in (None, filled):
        stamper = Stamper(rubric, Issue("2026-27"), answers=given)
        assert stamper.workbook(SCHOOL) == build_workbook(rubric, SCHOOL, "2026-27", None,
                                                          given)


# -- without points -------------------------------------------------------------------------

def test_points_without_tiers_have_no_tier_cell(tmp_path):
    rubric = points_rubric(tmp_path, tiers=())
    data = build_workbook(rubric, SCHOOL, "c", answers=answers(3, 3, 2, 1))
    wb = book(data)
    assert "points_total" in wb.defined_names and "tier" not in wb.defined_names
    assert wb["Summary"]["A10"].value is None and wb["Summary"]["B10"].value is None
    assert cached(data) == (12, 25, None)


def test_a_rubric_without_points_has_no_points_cells(small_rubric):
    wb = book(make_return(small_rubric, SCHOOL, answers=answers(3, 3, 2, 1)))
    assert not set(NAMES) & set(wb.defined_names)
    assert [wb["Summary"][f"A{r}"].value for r in (7, 8, 9, 10)] == [None] * 4


def _content_hash(data: bytes) -> str:
    """sha256 over every zip member's name and uncompressed bytes (zlib's own output may
    differ between builds; the XML may not)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            digest.update(info.filename.encode() + b"\0" + archive.read(info) + b"\0")
    return digest.hexdigest()


def test_the_district_frameworks_workbooks_are_what_they_were_before_points():
    # Hashes taken from the writer before points existed (XlsxWriter 3.3.1). Adding points
    # must not move a byte of a rubric without them; an XlsxWriter upgrade that changes its
    # XML changes these too (then check the difference, and update them in a commit of
    # its own).
    framework = load_rubric()
    school = School("S-7", "Riverbend High", "North")
    label = {lv.level: lv.label for lv in framework.levels}
    previous = Previous("2025-26", framework.version, {
        "1.1": Answer("1.1", 2, label[2], "Minutes", "Plan", "High")})
    issue = Issue("2026-27")
    assert {
        "plain": _content_hash(build_workbook(framework, school, issue)),
        "answers": _content_hash(build_workbook(
            framework, school, issue, answers={"2.1": Answer("2.1", 3, label[3], "Survey")})),
        "team": _content_hash(build_workbook(framework, school, Issue("2026-27", raters=3))),
        "prefill": _content_hash(build_workbook(framework, school, issue, previous=previous)),
    } == {
        "plain": "124a9d9d5b5a2792731b87185bc1c1c2f986a735e338f589011005257fa800b9",
        "answers": "c3a6fed82448257650fae52a564dcb8f59fae52739e84daaa0a07ed4859be2fe",
        "team": "171948e1480711620859d32bbb31f4fcf818ac7a085dda28af54c00ddd9b0a2e",
        "prefill": "f303e8972b74004ca22822ca3d2fdf255e797862e4c6e6a9d07928e5e9ac391f",
    }
