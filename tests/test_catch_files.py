"""File names made from school names and ids, as literals."""

from __future__ import annotations

import pytest

from workbook_tool.files import safe_stem, slugify


@pytest.mark.parametrize(("text", "slug"), [
    ("École Saint-Jean / Nord", "ecole-saint-jean-nord"),
    ("  Lincoln High  ", "lincoln-high"),
    ("--O'Keefe Academy--", "o-keefe-academy"),
    ("Ünïcödé & Co.", "unicode-co"),
    ("東京", "school"),
    ("", "school"),
    ("---", "school"),
    ("a" * 70, "a" * 60),
    ("b" * 59 + " c", "b" * 59),  # cut at 60 leaves a trailing dash: dropped
])
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_slugify_max_length():
    assert slugify("alpha beta gamma", max_length=6) == "alpha"
    assert slugify("alpha beta gamma", max_length=11) == "alpha-beta"


@pytest.mark.parametrize(("text", "stem"), [
    ("S-101", "S-101"),
    ("X-Ray 7", "X-Ray-7"),
    ("XRay X", "XRay-X"),
    ("101/202", "101-202"),
    ("..hidden.", "hidden"),
    ("  padded  ", "padded"),
    ("a.b_c-d", "a.b_c-d"),
    ("École", "cole"),
    ("CON", "CON-"),
    ("lpt1", "lpt1-"),
    ("com0", "com0-"),
    ("prn.", "prn-"),
    ("console", "console"),
    ("", "school"),
    ("...", "school"),
    ("//", "school"),
    ("9" * 45, "9" * 40),
])
def test_safe_stem(text, stem):
    assert safe_stem(text) == stem
