"""The board report (district_report.html), read back with the standard library's HTML
parser: its sections in order, the figures of a hand-made consolidation (literal values),
escaping of hostile text, and that the page asks for nothing outside itself.

The consolidation uses the small rubric: indicators 1.1, 1.2, 1.3 (domain 1), 2.1, 2.2
(domain 2); levels 1 Beginning, 2 Growing, 3 Strong Practice, so "Growing or above" is the
share the headline gives.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

from workbook_tool.consolidate import PreviousCycle, consolidate
from workbook_tool.problems import ERROR, Problem
from workbook_tool.reader.model import Answer, ReturnResult, TeamRatings
from workbook_tool.roster import School
from workbook_tool.rubric import Rubric, load_rubric
from workbook_tool.summary import report

HERE = Path(__file__).parent
IDS = ("1.1", "1.2", "1.3", "2.1", "2.2")
LABELS = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
CYCLE = "2026-27"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_EVIDENCE = "</script><script>window.__pwned=1</script>"
QUOTED_STEPS = 'Tom & Jerry\'s "plan"'
BUILT = dt.datetime(2027, 6, 30, 9, 15)
SECTIONS = ["headline", "chase", "spread", "heatmap", "priorities", "trends", "agreement",
            "scores"]


@cache
def small() -> Rubric:
    return load_rubric(HERE / "data" / "small_rubric.yaml")


def result(school_id: str, levels, *, evidence="", next_steps="", priority="", team=None,
           errors=(), sha="") -> ReturnResult:
    rubric = small()
    file = f"returns/{school_id}.xlsx"
    answers = [Answer(i, level, LABELS[level], evidence and f"{evidence} {i}",
                      next_steps and f"{next_steps} {i}", priority)
               for i, level in zip(IDS, levels, strict=True)]
    problems = [Problem(file, "invalid-rating", message, severity=ERROR) for message in errors]
    return ReturnResult(file, sha or f"sha-{school_id}-{levels}", school_id, "", CYCLE,
                        rubric.id, rubric.version, rubric.fingerprint, 2, team=team,
                        answers=answers, problems=problems)


ROSTER = [School("101", "Lincoln High", "North"), School("102", HOSTILE_NAME, "South"),
          School("103", "Oak School", "North"), School("104", "Pine School", ""),
          School("105", "Elm School", "South")]


def district(previous: PreviousCycle | None = None):
    """101 a team, 102 hostile texts, 103 rejected, 104 missing, 105 two different returns."""
    team = TeamRatings(("Ana", "Ben"), {"1.1": (1, 3), "1.2": (2, 2), "1.3": (2, 3)})
    run = consolidate([
        result("101", [1, 2, 3, None, 2], evidence="Minutes", next_steps="Plan",
               priority="High", team=team),
        result("102", [3, 3, 3, 3, 3], evidence=HOSTILE_EVIDENCE, next_steps=QUOTED_STEPS,
               priority="High"),
        result("103", [2, 2, 2, 2, 2], errors=['The rating of 1.1 is "Advanced", which is '
                                               "not one of the levels."]),
        result("105", [1, 1, 1, 1, 1]),
        result("105", [2, 2, 2, 2, 2]),
    ], small(), ROSTER, CYCLE)
    run.previous = previous
    return run


# -- an independent reading of the page -----------------------------------------------------

@dataclass
class Table:
    caption: str = ""
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Page(HTMLParser):
    """What a reader of the page sees: sections with their text and tables, every tag."""

    sections: dict[str, str] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    tags: list[tuple[str, dict]] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self._section = None
        self._text: list[str] = []
        self._table: Table | None = None
        self._cell: list[str] | None = None
        self._in = []  # open tags of interest

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self._section, self._text = attrs.get("id"), []
        elif tag == "table":
            self._table = Table()
        elif tag == "tr" and self._table is not None:
            self._table.rows.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        self._in.append(tag)

    def handle_endtag(self, tag):
        if tag == "section" and self._section:
            self.sections[self._section] = " ".join(" ".join(self._text).split())
            self._section = None
        elif tag == "table" and self._table is not None:
            self.tables[self._table.caption] = self._table
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        inside = self._in[-1] if self._in else ""
        if self._section and inside not in ("title", "style"):
            self._text.append(data)
        if inside == "caption" and self._table is not None:
            self._table.caption += data
        elif self._cell is not None:
            self._cell.append(data)
        if re.fullmatch(r"h[1-6]", inside):
            self.headings.append((int(inside[1]), data.strip()))


def read(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture
def page() -> Page:
    return read(report.build_report(district(), ["returns/"], built=BUILT))


# -- sections and figures -------------------------------------------------------------------

def test_sections_come_in_the_order_a_board_reads(page):
    assert [attrs["id"] for tag, attrs in page.tags if tag == "section"] == SECTIONS
    assert [text for level, text in page.headings if level == 2] == [
        "Headline", "Returns to chase", "The spread of levels", "Heatmap of schools",
        "Priorities and next steps", "Trends", "Team agreement", "Scores and tiers"]


def test_the_masthead_names_the_rubric_cycle_time_and_inputs(page):
    assert page.headings[0] == (1, "District self-assessment: Small Test Rubric")
    text = report.build_report(district(), ["returns/"], built=BUILT)
    assert ('<p class="meta">Cycle 2026-27 · small-test-rubric 2024-01 · built 2027-06-30 '
            '09:15 from <bdi>returns/</bdi></p>') in text


def test_the_headline_figures(page):
    assert page.sections["headline"].startswith(
        "Headline 2 of 5 schools with an accepted return 40% of the roster "
        "90% of indicators rated 9 of 10 in accepted returns "
        "89% of ratings at Growing or above 8 of 9 rated "
        "4 returns to chase 1 missing, 1 rejected, 2 in conflict")
    assert page.tables["Returns by status"].rows == [
        ["Status", "Returns"], ["accepted", "2"], ["accepted with warnings", "0"],
        ["rejected", "1"], ["duplicate", "0"], ["conflict", "2"], ["missing", "1"]]


def test_returns_to_chase_name_each_school_and_why(page):
    assert page.tables["Missing: no return received (1)"].rows == [
        ["School ID", "School", "Network"], ["104", "Pine School", ""]]
    assert page.tables["Rejected: to fix and send again (1)"].rows == [
        ["School ID", "School", "File", "Why"],
        ["103", "Oak School", "returns/103.xlsx",
         'The rating of 1.1 is "Advanced", which is not one of the levels.']]
    assert page.tables["In conflict: different returns for one school (2)"].rows == [
        ["School ID", "School", "File"], ["105", "Elm School", "returns/105.xlsx"],
        ["105", "Elm School", "returns/105.xlsx"]]


def test_nothing_to_chase_is_said_in_a_sentence():
    run = consolidate([result("101", [1, 1, 1, 1, 1])], small(), ROSTER[:1], CYCLE)
    page = read(report.build_report(run, built=BUILT))
    assert page.sections["chase"] == (
        "Returns to chase Every school on the roster has an accepted return: nothing to "
        "chase.")


def test_the_spread_counts_each_level_per_domain_and_indicator(page):
    assert page.tables["Ratings at each level, by domain"].rows == [
        ["Domain", "Beginning", "Growing", "Strong Practice", "Unrated"],
        ["D1 Leadership and Vision", "1", "1", "4", "0"],
        ["D2 Partnerships with the Community", "0", "1", "2", "1"]]
    assert page.tables["Ratings at each level, by indicator"].rows[1:] == [
        ["1.1 Shared vision", "1", "0", "1", "0"], ["1.2 Resources", "0", "1", "1", "0"],
        ["1.3 Data use", "0", "0", "2", "0"], ["2.1 Employer partners", "0", "0", "1", "1"],
        ["2.2 Family engagement", "0", "1", "1", "0"]]


def test_each_bar_has_a_title_and_counts_as_text(page):
    titles = [attrs.get("id") for tag, attrs in page.tags if tag == "title" and "id" in attrs]
    assert titles == ["t-domains", "t-indicators"]
    text = report.build_report(district(), built=BUILT)
    assert "<title>D1: 4 Strong Practice</title>" in text
    assert "<title>2.1: 1 Unrated</title>" in text
    # Counts are written in the segments wide enough to hold them (D1: 1, 1, 4 of 6).
    assert re.findall(r'class="seg">(\d+)<', text)[:5] == ["1", "1", "4", "1", "2"]


def test_the_heatmap_groups_schools_by_network_with_levels_as_text(page):
    assert page.tables["Levels in North"].rows == [
        ["School", "1.1", "1.2", "1.3", "2.1", "2.2"],
        ["Lincoln High 101", "1", "2", "3", "", "2"]]
    assert page.tables["Levels in South"].rows == [
        ["School", "1.1", "1.2", "1.3", "2.1", "2.2"],
        [f"{HOSTILE_NAME} 102", "3", "3", "3", "3", "3"]]
    cells = [attrs["class"] for tag, attrs in page.tags if tag == "td"
             and attrs.get("class", "").startswith("h")]
    assert cells[:5] == ["h1", "h2", "h3", "h0", "h2"]


def test_priorities_quote_next_steps_escaped(page):
    text = page.sections["priorities"]
    assert text.startswith("Priorities and next steps The indicators schools marked High "
                           "priority most often")
    # (the school's name is bold: the parser's text has a space before its colon)
    assert ("1.1 Shared vision High: 2 · Medium: 0 · Low: 0 schools Lincoln High : Plan 1.1 "
            f"{HOSTILE_NAME} : {QUOTED_STEPS} 1.1 1.2 Resources") in text


def test_priorities_show_five_next_steps_and_count_the_rest():
    roster = [School(f"{k:03d}", f"School {k}", "") for k in range(1, 8)]
    run = consolidate([result(s.school_id, [1, 1, 1, 1, 1], next_steps=f"Step {s.school_id}",
                              priority="High") for s in roster], small(), roster, CYCLE)
    text = read(report.build_report(run, built=BUILT)).sections["priorities"]
    first = text.split("1.2 Resources")[0]
    assert first.endswith("High: 7 · Medium: 0 · Low: 0 schools School 1 : Step 001 1.1 "
                          "School 2 : Step 002 1.1 School 3 : Step 003 1.1 School 4 : Step "
                          "004 1.1 School 5 : Step 005 1.1 and 2 more. ")


def test_sections_without_data_say_so_in_one_line(page):
    assert page.sections["trends"] == (
        "Trends No earlier cycle to compare with: record each cycle with consolidate "
        "--history, and the next report shows what moved.")
    assert page.sections["scores"] == (
        "Scores and tiers This rubric gives no points to its levels, so there are no scores "
        "or tiers.")
    run = consolidate([result("102", [3, 3, 3, 3, 3])], small(), ROSTER, CYCLE)
    alone = read(report.build_report(run, built=BUILT))
    assert alone.sections["agreement"] == (
        "Team agreement No school rated as a team this cycle (generate --raters N gives a "
        "workbook for several raters).")
    assert alone.sections["priorities"] == (
        "Priorities and next steps No school marked an indicator as a High priority.")


def test_agreement_counts_the_compared_indicators(page):
    assert page.sections["agreement"] == (
        "Team agreement 1 school(s) rated as a team. Of 3 indicators rated by two raters or "
        "more, 33% had every rater agree and 67% were within one level; 1 were 2 levels or "
        "more apart (flagged for discussion). Flagged most often: 1.1 Shared vision: 1 "
        "school(s)")


def test_trends_compare_with_the_previous_cycle():
    previous = PreviousCycle("2025-26", {
        ("101", "1.1"): (3, "Train staff", "High"), ("101", "1.2"): (1, "", ""),
        ("101", "1.3"): (3, "", ""),  # the same level: not a drop
        ("102", "1.1"): (1, "Visit", "Low"), ("103", "1.1"): (3, "Old", "High")})
    page = read(report.build_report(district(previous), built=BUILT))
    assert page.headings[[h for _, h in page.headings].index("Trends since 2025-26")][0] == 2
    assert page.tables["At Growing or above, then and now"].rows == [
        ["Indicator", "2025-26", "2026-27", "Change"],
        ["1.1 Shared vision", "67%", "50%", "-17 pts"],
        ["1.2 Resources", "0%", "100%", "+100 pts"],
        ["1.3 Data use", "100%", "100%", "0 pts"],
        ["2.1 Employer partners", "–", "100%", "–"],
        ["2.2 Family engagement", "–", "100%", "–"]]
    text = page.sections["trends"]
    assert "1 school-indicator rating(s) dropped a level or more" in text
    assert text.endswith("What became of 2025-26's 2 next steps, as the schools said: Done: "
                         "0, In progress: 0, Not started: 0, Dropped: 0, Not said: 2.")


# -- safety and accessibility ---------------------------------------------------------------

def test_hostile_text_is_text_not_markup(page):
    assert not [tag for tag, _ in page.tags if tag in ("img", "script", "iframe", "object")]
    assert f"{HOSTILE_NAME} 102" in page.sections["heatmap"]
    text = report.build_report(district(), built=BUILT)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<script" not in text
    assert "Tom &amp; Jerry&#x27;s &quot;plan&quot;" in text


def test_the_page_asks_for_nothing_outside_itself(page):
    assert not [tag for tag, _ in page.tags if tag in ("link", "script", "img", "iframe")]
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert name not in ("src", "href", "xlink:href"), (tag, name, value)
    text = report.build_report(district(), built=BUILT)
    assert "url(" not in text
    assert "@import" not in text and "http" not in text


def test_language_and_headings_in_order(page):
    html_tag = next(attrs for tag, attrs in page.tags if tag == "html")
    assert html_tag == {"lang": "en"}
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    tables = [tag for tag, _ in page.tags if tag in ("table", "caption", "thead")]
    assert tables.count("table") == tables.count("caption") == tables.count("thead")


def test_write_report_writes_utf8(tmp_path):
    path = tmp_path / "r.html"
    report.write_report(district(), path, ["returns/"])
    assert path.read_bytes().startswith(b'<!DOCTYPE html>\n<html lang="en">')
    assert HOSTILE_NAME.replace("<", "&lt;").replace(">", "&gt;").encode() in path.read_bytes()
