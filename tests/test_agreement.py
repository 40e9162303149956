"""The raters' statistics for hand-made cases, with the figures written out by hand."""

from workbook_tool.agreement import median_text, outside_range, stats


def test_all_raters_agree():
    s = stats([3, 3, 3])
    assert (s.raters, s.median, s.spread) == (3, 3.0, 0)
    assert (s.exact, s.within_one, s.flagged) == (True, True, False)
    assert median_text(s.median) == "3"


def test_two_raters_one_level_apart_have_a_half_level_median():
    s = stats([2, 3])
    assert (s.median, s.spread) == (2.5, 1)
    assert (s.exact, s.within_one, s.flagged) == (False, True, False)
    assert median_text(s.median) == "2.5"


def test_a_spread_of_two_levels_or_more_is_flagged():
    s = stats([1, 4])
    assert (s.median, s.spread, s.flagged, s.within_one) == (2.5, 3, True, False)
    assert stats([1, 3]).flagged is True
    assert stats([1, 2]).flagged is False


def test_a_rater_who_did_not_rate_is_left_out():
    s = stats([None, 2, 4, None])
    assert (s.raters, s.levels, s.median, s.spread, s.flagged) == (2, (2, 4), 3.0, 2, True)


def test_one_rater_has_a_median_but_nothing_to_compare():
    s = stats([None, 4])
    assert (s.raters, s.median, s.spread, s.compared) == (1, 4.0, None, False)
    assert (s.exact, s.within_one, s.flagged) == (False, False, False)


def test_nobody_rated():
    s = stats([None, None])
    assert (s.raters, s.median, s.spread) == (0, None, None)
    assert median_text(s.median) == ""


def test_median_of_an_odd_and_an_even_count():
    assert stats([4, 1, 2]).median == 2.0
    assert stats([1, 2, 4, 4]).median == 3.0
    assert stats([1, 1, 2, 4]).median == 1.5


def test_agreed_rating_outside_the_raters_range():
    rated = stats([2, 3])
    assert outside_range(1, rated) is True
    assert outside_range(4, rated) is True
    assert outside_range(2, rated) is False
    assert outside_range(3, rated) is False
    assert outside_range(None, rated) is False
    assert outside_range(1, stats([None, None])) is False
