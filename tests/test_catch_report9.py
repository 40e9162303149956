"""The board report (district_report.html) byte for byte on a tiny hand-made district
(mutation run 9): every section's HTML as a literal, worked out by hand, plus the cases the
page of tests/test_report.py does not reach (no cycle, no inputs, an empty roster, only
rejected returns, 200 and 201 schools to chase, labels at the 38-character cut, a bar
segment exactly 22 wide, spilled texts, a default encoding that is not UTF-8).

The small rubric: 1.1 Shared vision, 1.2 Resources, 1.3 Data use (D1 Leadership and
Vision); 2.1 Employer partners, 2.2 Family engagement (D2 Partnerships with the Community);
levels 1 Beginning, 2 Growing, 3 Strong Practice, so "Growing or above" is the good share.

The district, cycle 2026-27 (previous cycle 2025-26):

    school  network  status                  1.1 1.2 1.3 2.1 2.2  on 1.1
    A1 Ash    north    accepted with warnings  1   2   3   -   2    High, "Plan A", follow-up Done
    B2 Birch  Beta     accepted                3   3   3   3   3    High, no next steps
    C3 Cedar  (blank)  accepted                2   2   2   2   2    Medium, "Plan C"
    D4 Dune   Delta    missing
    E5 Elm    (blank)  rejected: two errors, "Bad one." and "Bad two."

    Ratings: 15, rated 14 (93%), at Growing or above 13 of 14 (93%).
    D1: Beginning 1, Growing 4, Strong Practice 4, unrated 0 (9).
    D2: Beginning 0, Growing 3, Strong Practice 2, unrated 1 (6).
    2025-26: A1 1.1 was 2 (next steps "Old plan", High), A1 2.1 was 3, B2 1.1 was 3
    (next steps "Keep", Low), C3 1.2 was 3. Drops: A1 1.1 (2 to 1), C3 1.2 (3 to 2).

Bar widths are 620 x count / the row's ratings, x starts at 300 and each count is written
at the middle of a segment 22 or more wide (one decimal).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib
from pathlib import Path

import pytest

from points_kit import points_rubric
from returns_kit import SMALL_RUBRIC, small_rubric
from workbook_tool.consolidate import PreviousCycle, TextSpill, _share_strings, consolidate
from workbook_tool.problems import ERROR, WARNING, Problem
from workbook_tool.reader.model import Answer, ReturnResult, TeamRatings
from workbook_tool.roster import School
from workbook_tool.rubric import Rubric, load_rubric
from workbook_tool.summary import report

HERE = Path(__file__).parent
IDS = ("1.1", "1.2", "1.3", "2.1", "2.2")
LABELS = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
CYCLE = "2026-27"
BUILT = dt.datetime(2027, 6, 30, 9, 15)
VERSION = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"]["version"]
ROSTER = [School("A1", "Ash School", "north"), School("B2", "Birch School", "Beta"),
          School("C3", "Cedar School", ""), School("D4", "Dune School", "Delta"),
          School("E5", "Elm School", "")]


def _return(school_id: str, levels, first: tuple[str, str, str] = ("", "", ""),
            problems: tuple[tuple[str, str], ...] = (), rubric: Rubric | None = None,
            ids=IDS) -> ReturnResult:
    """first: (priority, next steps, follow-up) of the first indicator; problems:
    (severity, message)."""
    rubric = rubric or small_rubric()
    file = f"returns/{school_id}.xlsx"
    answers = [Answer(i, level, LABELS[level], "Evidence", next_steps=first[1] if k == 0 else "",
                      priority=first[0] if k == 0 else "", followup=first[2] if k == 0 else "")
               for k, (i, level) in enumerate(zip(ids, levels, strict=True))]
    found = [Problem(file, "some-problem", message, severity=severity)
             for severity, message in problems]
    return ReturnResult(file, f"sha-{school_id}", school_id, "", CYCLE, rubric.id,
                        rubric.version, rubric.fingerprint, 2, answers=answers,
                        problems=found)


def _district(spill: TextSpill | None = None):
    returns = [
        _return("A1", [1, 2, 3, None, 2], ("High", "Plan A", "Done"),
                ((WARNING, "A warning."),)),
        _return("B2", [3, 3, 3, 3, 3], ("High", "", "")),
        _return("C3", [2, 2, 2, 2, 2], ("Medium", "Plan C", "")),
        _return("E5", [1, 1, 1, 1, 1], problems=((ERROR, "Bad one."), (ERROR, "Bad two."))),
    ]
    if spill is not None:
        returns = [_share_strings(r, spill) for r in returns]
    run = consolidate(returns, small_rubric(), ROSTER, CYCLE)
    run.previous = PreviousCycle("2025-26", {
        ("A1", "1.1"): (2, "Old plan", "High"), ("A1", "2.1"): (3, "", ""),
        ("B2", "1.1"): (3, "Keep", "Low"), ("C3", "1.2"): (3, "", "")})
    return run


def _section(key: str, heading: str, body: str) -> str:
    return (f'<section id="{key}" aria-labelledby="{key}-h">\n<h2 id="{key}-h">{heading}</h2>\n'
            f"{body}</section>\n")


def _absent(key: str, heading: str, why: str) -> str:
    return _section(key, heading, f'<p class="absent">{why}</p>\n')


# -- the page, section by section -----------------------------------------------------------

HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>District self-assessment: Small Test Rubric</title>
<style>
:root{--ink:"""

BODY_START = "\n</style>\n</head>\n<body>\n<main>\n"

MASTHEAD = ('<header><h1>District self-assessment: Small Test Rubric</h1>\n<p class="meta">'
            "Cycle 2026-27 · small-test-rubric 2024-01 · built 2027-06-30 09:15 from "
            "<bdi>returns/, late.zip</bdi></p></header>\n")

HEADLINE = _section("headline", "Headline", """<div class="cards">
<div class="card"><p class="big">3 of 5</p><p>schools with an accepted return</p><p class="small">60% of the roster</p></div>
<div class="card"><p class="big">93%</p><p>of indicators rated</p><p class="small">14 of 15 in accepted returns</p></div>
<div class="card"><p class="big">93%</p><p>of ratings at Growing or above</p><p class="small">13 of 14 rated</p></div>
<div class="card"><p class="big">2</p><p>returns to chase</p><p class="small">1 missing, 1 rejected, 0 in conflict</p></div>
</div>
<table class="narrow"><caption>Returns by status</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Returns</th></tr></thead>
<tbody>
<tr><th scope="row">accepted</th><td class="num">2</td></tr>
<tr><th scope="row">accepted with warnings</th><td class="num">1</td></tr>
<tr><th scope="row">rejected</th><td class="num">1</td></tr>
<tr><th scope="row">duplicate</th><td class="num">0</td></tr>
<tr><th scope="row">conflict</th><td class="num">0</td></tr>
<tr><th scope="row">missing</th><td class="num">1</td></tr>
</tbody></table>
""")  # noqa: E501 (one line of HTML per line of the page)

MISSING_D4 = """<table><caption>Missing: no return received (1)</caption>
<thead><tr><th scope="col">School ID</th><th scope="col">School</th><th scope="col">Network</th></tr></thead>
<tbody>
<tr><td>D4</td><td>Dune School</td><td>Delta</td></tr>
</tbody></table>
"""  # noqa: E501

REJECTED_HEAD = ('<thead><tr><th scope="col">School ID</th><th scope="col">School</th>'
                 '<th scope="col">File</th><th scope="col">Why</th></tr></thead>\n')

CHASE = _section("chase", "Returns to chase", MISSING_D4 + (
    "<table><caption>Rejected: to fix and send again (1)</caption>\n" + REJECTED_HEAD
    + "<tbody>\n<tr><td>E5</td><td>Elm School</td><td>returns/E5.xlsx</td>"
    "<td>Bad one. (and 1 more)</td></tr>\n</tbody></table>\n"
    '<p class="small">1 accepted return(s) have warnings: see the Problems sheet of '
    "district_summary.xlsx.</p>\n"))

SWATCH = ('<li><svg width="22" height="14" aria-hidden="true"><rect width="22" height="14" '
          'fill="{}" stroke="#555"/></svg> {}</li>')
LEGEND = ('<ul class="legend" aria-label="Levels">'
          + SWATCH.format("#DEEBF7", "1 Beginning") + SWATCH.format("#6BAED6", "2 Growing")
          + SWATCH.format("#08519C", "3 Strong Practice") + SWATCH.format("#FFFFFF", "Unrated")
          + "</ul>\n")
FILL = {1: "#DEEBF7", 2: "#6BAED6", 3: "#08519C", None: "#FFFFFF"}
WHAT = {**LABELS, None: "Unrated"}


def _label(y: int, text: str) -> str:
    return f'<text x="0" y="{y}" class="lbl">{text}</text>'


def _rect(x: str, y: int, w: str, level, title: str, seg: str = "", n: int = 1) -> str:
    """One segment; `seg` is the x of its count, "" when it is narrower than 22."""
    out = (f'<rect x="{x}" y="{y}" width="{w}" height="20" fill="{FILL[level]}" stroke="#555" '
           f'stroke-width="0.5"><title>{title}: {n} {WHAT[level]}</title></rect>')
    return out + (f'<text x="{seg}" y="{y + 15}" class="seg">{n}</text>' if seg else "")


def _figure(key: str, title: str, height: int, rows: list[str]) -> str:
    return (f'<figure><svg role="img" viewBox="0 0 930 {height}" width="100%" '
            f'aria-labelledby="t-{key}"><title id="t-{key}">{title}</title>\n'
            + "".join(row + "\n" for row in rows)
            + f"</svg><figcaption>{title}. Numbers in the bars are counts of ratings."
            "</figcaption></figure>\n")


def _table(caption: str, what: str, rows: list[tuple[str, list[int]]]) -> str:
    head = "".join(f'<th scope="col">{h}</th>' for h in
                   (what, "Beginning", "Growing", "Strong Practice", "Unrated"))
    body = "".join(f'<tr><th scope="row">{name}</th>'
                   + "".join(f'<td class="num">{n}</td>' for n in counts) + "</tr>\n"
                   for name, counts in rows)
    return (f"<table><caption>{caption}</caption>\n<thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}</tbody></table>\n")


# D1: 1, 4, 4 of 9: widths 68.9, 275.6, 275.6; D2: 0, 3, 2, 1 of 6: 310, 206.7, 103.3.
DOMAIN_BARS = _figure("domains", "Ratings at each level, by domain (accepted returns)", 60, [
    _label(21, "D1 Leadership and Vision")
    + _rect("300.0", 4, "68.9", 1, "D1", "334.4")
    + _rect("368.9", 4, "275.6", 2, "D1", "506.7", 4)
    + _rect("644.4", 4, "275.6", 3, "D1", "782.2", 4),
    _label(47, "D2 Partnerships with the Community")
    + _rect("300.0", 30, "310.0", 2, "D2", "455.0", 3)
    + _rect("610.0", 30, "206.7", 3, "D2", "713.3", 2)
    + _rect("816.7", 30, "103.3", None, "D2", "868.3")])

# Thirds (206.7) and two thirds (413.3) of 620, from x 300.
INDICATOR_BARS = _figure("indicators", "Ratings at each level, by indicator (accepted returns)",
                         138, [
    _label(21, "1.1 Shared vision") + _rect("300.0", 4, "206.7", 1, "1.1", "403.3")
    + _rect("506.7", 4, "206.7", 2, "1.1", "610.0")
    + _rect("713.3", 4, "206.7", 3, "1.1", "816.7"),
    _label(47, "1.2 Resources") + _rect("300.0", 30, "413.3", 2, "1.2", "506.7", 2)
    + _rect("713.3", 30, "206.7", 3, "1.2", "816.7"),
    _label(73, "1.3 Data use") + _rect("300.0", 56, "206.7", 2, "1.3", "403.3")
    + _rect("506.7", 56, "413.3", 3, "1.3", "713.3", 2),
    _label(99, "2.1 Employer partners") + _rect("300.0", 82, "206.7", 2, "2.1", "403.3")
    + _rect("506.7", 82, "206.7", 3, "2.1", "610.0")
    + _rect("713.3", 82, "206.7", None, "2.1", "816.7"),
    _label(125, "2.2 Family engagement") + _rect("300.0", 108, "413.3", 2, "2.2", "506.7", 2)
    + _rect("713.3", 108, "206.7", 3, "2.2", "816.7")])

SPREAD = _section("spread", "The spread of levels", LEGEND + DOMAIN_BARS + _table(
    "Ratings at each level, by domain", "Domain",
    [("D1 Leadership and Vision", [1, 4, 4, 0]),
     ("D2 Partnerships with the Community", [0, 3, 2, 1])]) + INDICATOR_BARS + _table(
    "Ratings at each level, by indicator", "Indicator",
    [("1.1 Shared vision", [1, 1, 1, 0]), ("1.2 Resources", [0, 2, 1, 0]),
     ("1.3 Data use", [0, 1, 2, 0]), ("2.1 Employer partners", [0, 1, 1, 1]),
     ("2.2 Family engagement", [0, 2, 1, 0])]))

HEAT_HEAD = ('<thead><tr><th scope="col">School</th>'
             '<th scope="col" title="Shared vision">1.1</th>'
             '<th scope="col" title="Resources">1.2</th>'
             '<th scope="col" title="Data use">1.3</th>'
             '<th scope="col" title="Employer partners">2.1</th>'
             '<th scope="col" title="Family engagement">2.2</th></tr></thead>\n')


def _net(name: str, school: str, school_id: str, cells: str) -> str:
    return (f'<div class="net"><h3>{name} <span class="small">(1 school)</span></h3>\n'
            f'<table class="heat"><caption>Levels in {name}</caption>\n{HEAT_HEAD}<tbody>\n'
            f'<tr><th scope="row">{school}<span class="id"> {school_id}</span></th>{cells}'
            "</tr>\n</tbody></table></div>\n")


# Networks without regard to case (Beta before north), the blank network last.
HEATMAP = _section("heatmap", "Heatmap of schools", (
    '<p class="small">Each cell is the level as a number: <span class="h1">1</span> '
    'Beginning, <span class="h2">2</span> Growing, <span class="h3">3</span> Strong Practice; '
    "an empty cell is unrated. Schools are grouped by network.</p>\n")
    + _net("Beta", "Birch School", "B2", '<td class="h3">3</td>' * 5)
    + _net("north", "Ash School", "A1", '<td class="h1">1</td><td class="h2">2</td>'
           '<td class="h3">3</td><td class="h0"></td><td class="h2">2</td>')
    + _net("No network", "Cedar School", "C3", '<td class="h2">2</td>' * 5))

# B2's High has no next steps and C3's next steps are Medium: only A1 is quoted.
PRIORITIES = _section("priorities", "Priorities and next steps", (
    "<p>The indicators schools marked High priority most often, with what they plan to do "
    "(the Priorities sheet of district_summary.xlsx has every one).</p>\n<ol>\n"
    "<li><h3>1.1 Shared vision</h3>\n<p>High: 2 · Medium: 1 · Low: 0 schools</p>\n"
    '<ul class="steps"><li><strong><bdi>Ash School</bdi></strong>: <bdi>Plan A</bdi></li>'
    "</ul>\n</li>\n</ol>\n"))


def _share_row(name: str, then: str, now: str, change: str) -> str:
    return (f'<tr><th scope="row">{name}</th><td class="num">{then}</td>'
            f'<td class="num">{now}</td><td class="num">{change}</td></tr>\n')


# Then: 1.1 2 of 2 (A1 2, B2 3), 1.2 1 of 1, 2.1 1 of 1; now 1.1 2 of 3 (67%), the rest all.
TRENDS = _section("trends", "Trends since 2025-26", (
    "<p>Share of rated indicators at Growing or above, 2025-26 and 2026-27. 2 "
    "school-indicator rating(s) dropped a level or more (the Trends sheet lists them).</p>\n"
    "<table><caption>At Growing or above, then and now</caption>\n"
    '<thead><tr><th scope="col">Indicator</th><th scope="col">2025-26</th>'
    '<th scope="col">2026-27</th><th scope="col">Change</th></tr></thead>\n<tbody>\n'
    + _share_row("1.1 Shared vision", "100%", "67%", "-33 pts")
    + _share_row("1.2 Resources", "100%", "100%", "0 pts")
    + _share_row("1.3 Data use", "–", "100%", "–")
    + _share_row("2.1 Employer partners", "100%", "100%", "0 pts")
    + _share_row("2.2 Family engagement", "–", "100%", "–")
    + "</tbody></table>\n"
    "<p>What became of 2025-26's 2 next steps, as the schools said: Done: 1, In progress: 0, "
    "Not started: 0, Dropped: 0, Not said: 1.</p>\n"))

AGREEMENT = _absent("agreement", "Team agreement", "No school rated as a team this cycle "
                    "(generate --raters N gives a workbook for several raters).")
SCORES = _absent("scores", "Scores and tiers", "This rubric gives no points to its levels, "
                 "so there are no scores or tiers.")
FOOTER = (f"<footer><p>Written by workbook-tool {VERSION}. The figures come from the accepted "
          "returns; district_summary.xlsx has every rating, evidence and problem.</p>"
          "</footer></main>\n</body>\n</html>\n")


@pytest.fixture
def page() -> str:
    return report.build_report(_district(), ["returns/", "late.zip"], built=BUILT)


def test_the_head_and_the_style(page):
    assert page.startswith(HEAD)
    style = page[len(HEAD) - len(":root{--ink:"):page.index(BODY_START)]
    # Three levels: the darker half (levels 2 and 3) take white text.
    assert (".h1{background:#DEEBF7}.h2{background:#6BAED6;color:#fff}"
            ".h3{background:#08519C;color:#fff}.h0{background:#fff}") in style
    assert page.index(BODY_START) + len(BODY_START) == page.index(MASTHEAD)


@pytest.mark.parametrize("name, expected", [
    ("headline", HEADLINE), ("chase", CHASE), ("spread", SPREAD), ("heatmap", HEATMAP),
    ("priorities", PRIORITIES), ("trends", TRENDS), ("agreement", AGREEMENT),
    ("scores", SCORES)])
def test_each_section_byte_for_byte(page, name, expected):
    start = page.index(f'<section id="{name}"')
    assert page[start:page.index("</section>\n", start) + len("</section>\n")] == expected


def test_the_page_is_its_parts_in_order(page):
    assert page.endswith(MASTHEAD + HEADLINE + CHASE + SPREAD + HEATMAP + PRIORITIES + TRENDS
                         + AGREEMENT + SCORES + FOOTER)


# -- the cases the district does not reach ---------------------------------------------------

def _page(returns, roster, cycle=CYCLE, inputs=(), rubric=None) -> str:
    run = consolidate(returns, rubric or small_rubric(), roster, cycle)
    return report.build_report(run, inputs, built=BUILT)


def _part(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}"')
    return page[start:page.index("</section>\n", start) + len("</section>\n")]


def test_no_cycle_and_no_inputs_leave_the_masthead_short():
    page = _page([_return("A1", [1, 1, 1, 1, 1])], ROSTER[:1], cycle="")
    assert ('<p class="meta">small-test-rubric 2024-01 · built 2027-06-30 09:15</p>'
            "</header>\n") in page


def test_an_empty_roster_and_no_return():
    page = _page([], [])
    assert _part(page, "chase") == _section(
        "chase", "Returns to chase", "<p>The roster has no school, and no return was read.</p>\n")
    assert _part(page, "spread") == _absent(
        "spread", "The spread of levels", "No accepted return yet: there are no levels to show.")
    assert _part(page, "heatmap") == _absent(
        "heatmap", "Heatmap of schools", "No accepted return yet: there is no school to show.")


def test_only_missing_schools_list_only_the_missing_table():
    page = _page([], ROSTER[3:4])
    assert _part(page, "chase") == _section("chase", "Returns to chase", MISSING_D4)


def test_only_a_rejected_return_of_a_school_off_an_empty_roster():
    page = _page([_return("Z9", [1, 1, 1, 1, 1], problems=((ERROR, "Bad."),))], [])
    assert _part(page, "chase") == _section("chase", "Returns to chase", (
        "<table><caption>Rejected: to fix and send again (1)</caption>\n" + REJECTED_HEAD
        + "<tbody>\n<tr><td>Z9</td><td></td><td>returns/Z9.xlsx</td><td>Bad. (and 1 more)"
        "</td></tr>\n</tbody></table>\n"))


def test_200_schools_to_chase_are_all_listed_and_201_say_one_more():
    roster = [School(f"S{k:03d}", f"School {k}", "") for k in range(1, 202)]
    chase = _part(_page([], roster[:200]), "chase")
    assert chase.count("<tr><td>") == 200
    assert ("<tbody>\n<tr><td>S001</td><td>School 1</td><td></td></tr>\n"
            "<tr><td>S002</td><td>School 2</td><td></td></tr>\n<tr><td>S003</td>") in chase
    assert "more in returns.csv" not in chase
    chase = _part(_page([], roster), "chase")
    assert chase.count("<tr><td>") == 200
    assert chase.endswith("<tr><td>S200</td><td>School 200</td><td></td></tr>\n</tbody></table>\n"
                          '<p class="small">and 1 more in returns.csv.</p>\n</section>\n')
    assert "<caption>Missing: no return received (201)</caption>" in chase


def _titled(tmp_path, titles: dict[str, str]) -> Rubric:
    text = SMALL_RUBRIC.read_text(encoding="utf-8")
    for old, new in titles.items():
        text = text.replace(f"title: {old}\n", f"title: {new}\n")
    path = tmp_path / "titled.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rubric(path)


def test_bar_labels_are_cut_after_38_characters(tmp_path):
    # "1.1 " + 34 characters is 38: kept; "1.2 " + 35 is 39: the first 37 and an ellipsis.
    rubric = _titled(tmp_path, {"Shared vision": "A" * 30 + "BCDE",
                                "Resources": "F" * 30 + "GHIJK"})
    page = _page([_return("A1", [1, 1, 1, 1, 1], rubric=rubric)], ROSTER[:1], rubric=rubric)
    assert _label(21, "1.1 " + "A" * 30 + "BCDE") in page
    assert _label(47, "1.2 " + "F" * 30 + "GHI…") in page


def test_a_segment_exactly_22_wide_shows_its_count():
    """11 of 310 ratings of 1.1 at Beginning: 620 x 11 / 310 = 22.0."""
    roster = [School(f"S{k:03d}", f"School {k}", "") for k in range(1, 311)]
    returns = [_return(s.school_id, [1 if k < 11 else 3, 3, 3, 3, 3])
               for k, s in enumerate(roster)]
    page = _page(returns, roster)
    assert (_label(21, "1.1 Shared vision") + _rect("300.0", 4, "22.0", 1, "1.1", "311.0", 11)
            + _rect("322.0", 4, "598.0", 3, "1.1", "621.0", 299) + "\n") in page


def test_the_report_reads_spilled_texts_only_for_the_priorities(spill_loads):
    """Only the quoted next steps need the texts spilled to disk: A1's return holds the one
    High priority with next steps, B2's a High one without; C3's none is High."""
    run = _district(TextSpill(budget=0))
    page = report.build_report(run, ["returns/", "late.zip"], built=BUILT)
    assert _part(page, "priorities") == PRIORITIES
    assert len(spill_loads) == 3  # the three accepted returns, once, for the next steps
    spill_loads.clear()
    spill = TextSpill(budget=0)  # no High priority: nothing is read back at all
    returns = [_share_strings(_return(s.school_id, [2, 2, 2, 2, 2], ("Low", "Go", "")), spill)
               for s in ROSTER[:3]]
    run = consolidate(returns, small_rubric(), ROSTER[:3], CYCLE)
    report.build_report(run, [], built=BUILT)
    assert spill_loads == []


def test_write_report_writes_utf8_whatever_the_default_encoding(tmp_path, monkeypatch):
    """As on a system whose default encoding is ASCII: the "·" of the masthead needs UTF-8."""
    real = io.text_encoding
    monkeypatch.setattr(io, "text_encoding",
                        lambda encoding, stacklevel=2: real(encoding) if encoding else "ascii")
    path = tmp_path / "district_report.html"
    report.write_report(_district(), path, ["returns/", "late.zip"])
    text = path.read_bytes().decode("utf-8")
    assert "</h1>\n<p class=\"meta\">Cycle 2026-27 · small-test-rubric 2024-01 · built " in text
    assert " from <bdi>returns/, late.zip</bdi></p></header>\n" in text
    assert "\r" not in text


def test_the_scores_tables_byte_for_byte(tmp_path):
    rubric = points_rubric(tmp_path)  # levels score 0, 2, 5; Bronze 6, Silver 12, Gold 20
    returns = [_return("A1", [3, 3, 3, 3, 3], rubric=rubric),
               _return("B2", [2, 2, 2, 1, 1], rubric=rubric)]
    scores = _part(_page(returns, ROSTER[:2], rubric=rubric), "scores")
    assert ('<table class="narrow"><caption>Schools per tier</caption>\n<thead><tr>'
            '<th scope="col">Tier</th><th scope="col">Schools</th></tr></thead>\n<tbody>\n'
            '<tr><th scope="row">Gold</th><td class="num">1</td></tr>\n'
            '<tr><th scope="row">Silver</th><td class="num">0</td></tr>\n'
            '<tr><th scope="row">Bronze</th><td class="num">1</td></tr>\n'
            '<tr><th scope="row">No tier</th><td class="num">0</td></tr>\n'
            "</tbody></table>\n"
            "<table><caption>Tiers by network</caption>\n<thead><tr>"
            '<th scope="col">Network</th><th scope="col">Gold</th><th scope="col">Silver</th>'
            '<th scope="col">Bronze</th><th scope="col">No tier</th></tr></thead>\n<tbody>\n'
            '<tr><th scope="row">Beta</th><td class="num">0</td><td class="num">0</td>'
            '<td class="num">1</td><td class="num">0</td></tr>\n'
            '<tr><th scope="row">north</th><td class="num">1</td><td class="num">0</td>'
            '<td class="num">0</td><td class="num">0</td></tr>\n'
            "</tbody></table>\n") in scores


# -- sections with more than the district has ------------------------------------------------

def test_a_partial_return_and_a_network_of_two_schools_in_the_heatmap():
    """A1 returned domain 1 only (its domain-2 cells are empty); A1 and F6 share north."""
    roster = [ROSTER[0], School("F6", "Fir School", "north")]
    returns = [_return("A1", [1, 2, 3], ids=IDS[:3]), _return("F6", [3, 3, 3, 3, 3])]
    heatmap = _part(_page(returns, roster), "heatmap")
    assert ('<div class="net"><h3>north <span class="small">(2 schools)</span></h3>\n'
            '<table class="heat"><caption>Levels in north</caption>\n' + HEAT_HEAD
            + '<tbody>\n<tr><th scope="row">Ash School<span class="id"> A1</span></th>'
            '<td class="h1">1</td><td class="h2">2</td><td class="h3">3</td>'
            '<td class="h0"></td><td class="h0"></td></tr>\n'
            '<tr><th scope="row">Fir School<span class="id"> F6</span></th>'
            + '<td class="h3">3</td>' * 5 + "</tr>\n</tbody></table></div>\n") in heatmap


def _priority_return(school_id: str, priorities: dict[str, tuple[str, str]]) -> ReturnResult:
    """priorities: indicator -> (priority, next steps)."""
    rubric = small_rubric()
    answers = [Answer(i, 2, "Growing", "", *priorities.get(i, ("", ""))[::-1]) for i in IDS]
    return ReturnResult(f"returns/{school_id}.xlsx", f"sha-{school_id}", school_id, "", CYCLE,
                        rubric.id, rubric.version, rubric.fingerprint, 2, answers=answers)


def test_priorities_most_high_first_with_low_counts_and_the_steps_cut_at_five():
    """2.2 High at 6 schools (6 next steps: 5 quoted, 1 counted), 1.2 High at 5 (5 quoted,
    none counted) and Low at 1, 2.1 High at 1 without next steps."""
    roster = [School(f"S{k}", f"School {k}", "") for k in range(1, 8)]
    returns = []
    for k in range(1, 8):
        marked = {}
        if k <= 6:
            marked["2.2"] = ("High", f"Do {k}")
        if k <= 5:
            marked["1.2"] = ("High", f"Try {k}")
        if k == 7:
            marked["1.2"] = ("Low", "")
            marked["2.1"] = ("High", "")
        returns.append(_priority_return(f"S{k}", marked))
    priorities = _part(_page(returns, roster), "priorities")

    def quoted(word: str, count: int) -> str:
        return "".join(f"<li><strong><bdi>School {k}</bdi></strong>: <bdi>{word} {k}</bdi></li>"
                       for k in range(1, count + 1))

    assert priorities == _section("priorities", "Priorities and next steps", (
        "<p>The indicators schools marked High priority most often, with what they plan to do "
        "(the Priorities sheet of district_summary.xlsx has every one).</p>\n<ol>\n"
        "<li><h3>2.2 Family engagement</h3>\n<p>High: 6 · Medium: 0 · Low: 0 schools</p>\n"
        f'<ul class="steps">{quoted("Do", 5)}</ul><p class="small">and 1 more.</p>\n</li>\n'
        "<li><h3>1.2 Resources</h3>\n<p>High: 5 · Medium: 0 · Low: 1 schools</p>\n"
        f'<ul class="steps">{quoted("Try", 5)}</ul>\n</li>\n'
        "<li><h3>2.1 Employer partners</h3>\n<p>High: 1 · Medium: 0 · Low: 0 schools</p>\n"
        '<p class="small">No next steps written.</p>\n</li>\n</ol>\n'))


def test_trends_without_a_cycle_with_unrated_answers_then_and_no_next_steps():
    """Last cycle: A1 rated 1.1 3 (now 2: a drop) and left 1.2 unrated; no next steps. The
    run has no cycle of its own, so the report says "this cycle"."""
    run = consolidate([_return("A1", [2, 2, 2, 2, 2])], small_rubric(), ROSTER[:1])
    run.previous = PreviousCycle("2025-26", {("A1", "1.1"): (3, "", ""),
                                             ("A1", "1.2"): (None, "", "")})
    trends = _part(report.build_report(run, built=BUILT), "trends")
    assert trends == _section("trends", "Trends since 2025-26", (
        "<p>Share of rated indicators at Growing or above, 2025-26 and this cycle. 1 "
        "school-indicator rating(s) dropped a level or more (the Trends sheet lists them).</p>\n"
        "<table><caption>At Growing or above, then and now</caption>\n"
        '<thead><tr><th scope="col">Indicator</th><th scope="col">2025-26</th>'
        '<th scope="col">this cycle</th><th scope="col">Change</th></tr></thead>\n<tbody>\n'
        + _share_row("1.1 Shared vision", "100%", "100%", "0 pts")
        + _share_row("1.2 Resources", "–", "100%", "–")
        + _share_row("1.3 Data use", "–", "100%", "–")
        + _share_row("2.1 Employer partners", "–", "100%", "–")
        + _share_row("2.2 Family engagement", "–", "100%", "–")
        + "</tbody></table>\n"))


def test_agreement_lists_the_five_indicators_flagged_most_often(rubric):
    """The District Framework (28 indicators): two team returns, raters 1 and 3 (flagged)
    on six indicators and the second on two of those, so they are flagged twice: 8 of 56
    (48 of 56 agree, 86%)."""
    ids = [ind.id for ind in rubric.indicators]
    titles = {ind.id: ind.title for ind in rubric.indicators}

    def team_return(school_id: str, flagged: list[str]) -> ReturnResult:
        levels = {i: (1, 3) if i in flagged else (2, 2) for i in ids}
        answers = [Answer(i, 2, rubric.levels[1].label) for i in ids]
        return ReturnResult(f"returns/{school_id}.xlsx", f"sha-{school_id}", school_id, "",
                            CYCLE, rubric.id, rubric.version, rubric.fingerprint, 2,
                            team=TeamRatings(("Ana", "Ben"), levels), answers=answers)

    run = consolidate([team_return("A1", ids[:6]), team_return("B2", ids[4:6])], rubric,
                      ROSTER[:2], CYCLE)
    agreement = _part(report.build_report(run, built=BUILT), "agreement")
    most = "".join(f"<li>{i} {titles[i]}: {n} school(s)</li>"
                   for i, n in [(ids[4], 2), (ids[5], 2), (ids[0], 1), (ids[1], 1),
                                (ids[2], 1)])
    assert agreement == _section("agreement", "Team agreement", (
        "<p>2 school(s) rated as a team. Of 56 indicators rated by two raters or more, 86% had "
        "every rater agree and 86% were within one level; 8 were 2 levels or more apart "
        "(flagged for discussion).</p>\n"
        f"<p>Flagged most often:</p><ul>{most}</ul>\n"))


def test_scores_section_whole_and_without_tiers(tmp_path):
    rubric = points_rubric(tmp_path)  # levels score 0, 2, 5; Bronze 6, Silver 12, Gold 20
    returns = [_return("A1", [3, 3, 3, 3, 3], rubric=rubric),
               _return("B2", [2, 2, 2, 1, 1], rubric=rubric)]
    scores = _part(_page(returns, ROSTER[:2], rubric=rubric), "scores")
    # Silver has no school: its heading is left out, and Bronze still follows.
    assert scores.startswith(
        '<section id="scores" aria-labelledby="scores-h">\n<h2 id="scores-h">Scores and tiers'
        "</h2>\n<p>A full return scores up to 25 points; tiers: Bronze from 6, Silver from 12, "
        "Gold from 20. An unrated indicator scores 0.</p>\n")
    assert scores.endswith(
        "</tbody></table>\n<h3>Gold: 1 school(s)</h3>\n<p><bdi>Ash School</bdi> (25)</p>\n"
        "<h3>Bronze: 1 school(s)</h3>\n<p><bdi>Birch School</bdi> (6)</p>\n</section>\n")
    bare = points_rubric(tmp_path / "..", tiers=None)
    returns = [_return("A1", [3, 3, 3, 3, 3], rubric=bare)]
    scores = _part(_page(returns, ROSTER[:1], rubric=bare), "scores")
    assert "<p>A full return scores up to 25 points. An unrated indicator scores 0.</p>\n" in (
        scores)


def test_scores_without_an_accepted_return(tmp_path):
    rubric = points_rubric(tmp_path)
    assert _part(_page([], ROSTER[:1], rubric=rubric), "scores") == _absent(
        "scores", "Scores and tiers", "No accepted return yet: no school has a score.")


@pytest.mark.parametrize("count, rest", [
    (200, ""), (201, " and 1 more (scores.csv has every school)")])
def test_a_tier_names_200_schools_and_counts_the_rest(tmp_path, count, rest):
    rubric = points_rubric(tmp_path)
    roster = [School(f"S{k:03d}", f"School {k}", "") for k in range(1, count + 1)]
    page = _page([_return(s.school_id, [3, 3, 3, 3, 3], rubric=rubric) for s in roster],
                 roster, rubric=rubric)
    shown = ", ".join(f"<bdi>School {k}</bdi> (25)" for k in range(1, 201))
    assert f"<h3>Gold: {count} school(s)</h3>\n<p>{shown}{rest}</p>\n" in page


def test_four_levels_give_white_text_to_the_darker_half_only(tmp_path):
    """Levels 3 and 4 of 4 are dark; 2 of 4 is not."""
    text = SMALL_RUBRIC.read_text(encoding="utf-8").replace(
        "    definition: Established and shared.\n",
        "    definition: Established and shared.\n  - level: 4\n    label: Four\n"
        "    definition: d4.\n")
    text = re.sub(r'(3: "[^"]*")\}', r'\1, 4: "four"}', text)
    text = text.replace('emphasis: ["co-design"]\n',
                        'emphasis: ["co-design"]\n              4: four\n')
    path = tmp_path / "four.yaml"
    path.write_text(text, encoding="utf-8")
    rubric = load_rubric(path)
    run = consolidate([], rubric, [], CYCLE)
    assert (".h1{background:#DEEBF7}.h2{background:#9ECAE1}.h3{background:#4292C6;color:#fff}"
            ".h4{background:#08519C;color:#fff}.h0{background:#fff}") in report.build_report(
        run, built=BUILT)
