"""Points and tiers in a rubric file: every problem `rubric check` reports, with its place
(exit 1), what it accepts (a tier exactly on the maximum), and `rubric show` with points.

Every rubric here is the small test rubric (5 indicators, levels 1-3) with points and tiers
written into it by points_kit.points_yaml; its default points are 0, 2, 5 (maximum 25) and
its tiers Bronze 6, Silver 12, Gold 20.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from points_kit import points_yaml
from workbook_tool.cli import main


def check(tmp_path, text: str):
    path = tmp_path / "points_rubric.yaml"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["rubric", "check", str(path)])


def problems(result) -> list[str]:
    """The problem lines of `rubric check`, without the file name and the count line."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[-1] == f"points_rubric.yaml: {len(lines) - 1} problem(s)"
    return [line.removeprefix("points_rubric.yaml: ") for line in lines[:-1]]


BAD = {
    "points on some levels only": (
        points_yaml(points={1: 0, 3: 5}),
        ["levels: points are given on some levels only: levels[1] has none (give points on "
         "every level or on none)"]),
    "points on one level only": (
        points_yaml(points={2: 2}, tiers=()),
        ["levels: points are given on some levels only: levels[0], levels[2] have none (give "
         "points on every level or on none)"]),
    "negative points": (
        points_yaml(points={1: -1, 2: 2, 3: 5}),
        ["levels[0].points: expected a whole number of 0 or more, found -1"]),
    "points in words": (
        points_yaml(points={1: 0, 2: "two", 3: 5}),
        ["levels[1].points: expected a whole number of 0 or more, found 'two'"]),
    "points with a fraction": (
        points_yaml(points={1: 0, 2: 2.5, 3: 5}),
        ["levels[1].points: expected a whole number of 0 or more, found 2.5"]),
    "points descending": (
        points_yaml(points={1: 0, 2: 5, 3: 3}, tiers=()),
        ["levels[2].points: 3 is not more than levels[1].points (5): a higher level must "
         "score more points"]),
    "equal points": (
        points_yaml(points={1: 0, 2: 2, 3: 2}, tiers=()),
        ["levels[2].points: 2 is not more than levels[1].points (2): a higher level must "
         "score more points"]),
    "tiers without points": (
        points_yaml(points={}),
        ["tiers: a rubric with tiers needs points on every level"]),
    "thresholds not ascending": (
        points_yaml(tiers=(("Bronze", 6), ("Silver", 20), ("Gold", 12))),
        ["tiers[2].min_points: 12 is not more than tiers[1].min_points (20): list tiers from "
         "the lowest to the highest"]),
    "equal thresholds": (
        points_yaml(tiers=(("Bronze", 6), ("Silver", 6))),
        ["tiers[1].min_points: 6 is not more than tiers[0].min_points (6): list tiers from "
         "the lowest to the highest"]),
    "a threshold above the maximum": (
        points_yaml(tiers=(("Bronze", 6), ("Silver", 12), ("Gold", 26))),
        ["tiers[2].min_points: 26 is more than the 25 points a return can score"]),
    "a negative threshold": (
        points_yaml(tiers=(("Bronze", -1), ("Gold", 20))),
        ["tiers[0].min_points: expected a whole number of 0 or more, found -1"]),
    "tier names repeated in another case": (
        points_yaml(tiers=(("gold", 6), ("Silver", 12), ("GOLD", 20))),
        ["tiers[2].name: 'GOLD' is used by two tiers"]),
    "an empty tiers list": (
        points_yaml(tiers=()) + "tiers: []\n",
        ["tiers: is empty (leave the key out for a rubric without tiers)"]),
    "a tiers key with nothing": (
        points_yaml(tiers=()) + "tiers:\n",
        ["tiers: is empty (leave the key out for a rubric without tiers)"]),
    "a tier without its threshold": (
        points_yaml(tiers=()) + "tiers:\n  - name: Gold\n",
        ["tiers[0]: missing field 'min_points'"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_problem_with_its_place(tmp_path, case):
    text, expected = BAD[case]
    assert problems(check(tmp_path, text)) == expected


def test_every_problem_at_once(tmp_path):
    text = points_yaml(points={1: 0, 2: 5, 3: 3},
                       tiers=(("Gold", 6), ("Silver", 4), ("gold", 90)))
    assert problems(check(tmp_path, text)) == [
        "levels[2].points: 3 is not more than levels[1].points (5): a higher level must score "
        "more points",
        "tiers[1].min_points: 4 is not more than tiers[0].min_points (6): list tiers from the "
        "lowest to the highest",
        "tiers[2].name: 'gold' is used by two tiers",
        "tiers[2].min_points: 90 is more than the 25 points a return can score",
    ]


def test_a_tier_exactly_on_the_maximum_is_fine(tmp_path):
    result = check(tmp_path, points_yaml(tiers=(("Bronze", 0), ("Gold", 25))))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "points_rubric.yaml: ok: Small Test Rubric 2024-01, 2 domains, 5 indicators, 3 levels, "
        "at most 25 points, 2 tiers (fingerprint ")


def test_points_without_tiers_are_fine(tmp_path):
    result = check(tmp_path, points_yaml(tiers=()))
    assert result.exit_code == 0, result.output
    assert ", 3 levels, at most 25 points (fingerprint " in result.stdout


def show(tmp_path, text: str, *options: str):
    path = tmp_path / "points_rubric.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "show", "--rubric", str(path), *options])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_show_json_gives_points_and_tiers(tmp_path):
    shown = json.loads(show(tmp_path, points_yaml(), "--json"))
    assert shown["levels"] == [
        {"level": 1, "label": "Beginning", "definition": "Just starting.", "points": 0},
        {"level": 2, "label": "Growing", "definition": "Under way.", "points": 2},
        {"level": 3, "label": "Strong Practice", "definition": "Established and shared.",
         "points": 5},
    ]
    assert shown["tiers"] == [{"name": "Bronze", "min_points": 6},
                              {"name": "Silver", "min_points": 12},
                              {"name": "Gold", "min_points": 20}]
    assert list(shown) == ["id", "version", "title", "fingerprint", "levels", "tiers",
                           "domains"]


def test_show_json_without_points_has_no_points_and_no_tiers(tmp_path):
    shown = json.loads(show(tmp_path, points_yaml(points={}, tiers=()), "--json"))
    assert shown["levels"][0] == {"level": 1, "label": "Beginning",
                                  "definition": "Just starting."}
    assert shown["tiers"] == []


def test_show_mentions_points_and_tiers(tmp_path):
    lines = show(tmp_path, points_yaml()).splitlines()
    assert lines[:4] == [
        "Small Test Rubric (small-test-rubric 2024-01)",
        "Levels: 1 Beginning, 2 Growing, 3 Strong Practice",
        "Points: Beginning 0, Growing 2, Strong Practice 5 (a return scores at most 25)",
        "Tiers: Bronze from 6, Silver from 12, Gold from 20",
    ]
    assert lines[5] == "D1 Leadership and Vision"


def test_show_without_points_says_nothing_of_them(tmp_path):
    lines = show(tmp_path, points_yaml(points={}, tiers=())).splitlines()
    assert lines[2:4] == ["", "D1 Leadership and Vision"]


def test_at_most_64_tiers(tmp_path):
    # Points 0, 100, 200: a return can score 1,000; thresholds 1, 2, ... stay reachable.
    many = tuple((f"T{k}", k) for k in range(1, 66))
    result = check(tmp_path, points_yaml(points={1: 0, 2: 100, 3: 200}, tiers=many))
    assert result.exit_code == 1
    assert problems(result) == ["tiers: 65 given, a rubric has at most 64"]
    fine = check(tmp_path, points_yaml(points={1: 0, 2: 100, 3: 200}, tiers=many[:64]))
    assert fine.exit_code == 0, fine.output
