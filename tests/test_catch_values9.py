"""values.text_of at the edge of exact integers and for a value of no listed type (mutation
run 9). Expected texts are literals."""

from __future__ import annotations

import datetime as dt

import pytest

from workbook_tool.reader.values import text_of


@pytest.mark.parametrize(("value", "expected"), [
    (999999999999999.0, "999999999999999"),
    (-999999999999999.0, "-999999999999999"),
    # From 10^15 on, shown as Python writes the double (with ".0"), not as an integer: the
    # cut-off of the integer rule is pinned here.
    (1e15, "1000000000000000.0"),
    (-1e15, "-1000000000000000.0"),
    (1000000000000001.0, "1000000000000001.0"),
])
def test_floats_are_integers_only_below_ten_to_the_fifteenth(value, expected):
    assert text_of(value) == expected


def test_a_duration_is_shown_as_python_writes_it():
    # calamine gives a duration cell as a timedelta, a type text_of has no rule for.
    assert text_of(dt.timedelta(hours=1, minutes=30)) == "1:30:00"
