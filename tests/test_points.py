"""Points and tiers in the rubric model: what a level scores, the maximum, the tier of a
total (boundaries exactly on min_points), and that a rubric without points is unchanged."""

from __future__ import annotations

from points_kit import points_rubric
from workbook_tool.rubric import Tier, load_rubric


def test_levels_and_tiers_are_loaded(tmp_path):
    rubric = points_rubric(tmp_path)
    assert [lv.points for lv in rubric.levels] == [0, 2, 5]
    assert rubric.tiers == (Tier("Bronze", 6), Tier("Silver", 12), Tier("Gold", 20))
    assert rubric.has_points is True
    assert rubric.max_points == 25


def test_what_a_rating_scores(tmp_path):
    rubric = points_rubric(tmp_path)
    assert [rubric.points_of(level) for level in (None, 1, 2, 3)] == [0, 0, 2, 5]


def test_the_tier_of_a_total_boundaries_included(tmp_path):
    rubric = points_rubric(tmp_path)
    totals = [0, 5, 6, 11, 12, 19, 20, 25]
    assert [rubric.tier_of(t) for t in totals] == [
        "", "", "Bronze", "Bronze", "Silver", "Silver", "Gold", "Gold"]


def test_points_without_tiers(tmp_path):
    rubric = points_rubric(tmp_path, tiers=())
    assert rubric.tiers == ()
    assert rubric.max_points == 25
    assert rubric.tier_of(25) == ""


def test_a_rubric_without_points_scores_nothing_and_keeps_its_fingerprint(small_rubric):
    assert small_rubric.has_points is False
    assert small_rubric.max_points == 0
    assert small_rubric.points_of(3) == 0
    framework = load_rubric()
    assert framework.has_points is False
    # The District Framework's fingerprint as it was before points existed.
    assert framework.fingerprint.startswith("2600c46fab13")


def test_points_are_part_of_the_fingerprint(tmp_path, small_rubric):
    with_points = points_rubric(tmp_path)
    other = points_rubric(tmp_path, points={1: 0, 2: 3, 3: 5})
    assert len({small_rubric.fingerprint, with_points.fingerprint, other.fingerprint}) == 3
