"""The board report: `district_report.html`, one self-contained page for leadership.

Sections in the order a board reads them: the headline, the returns still to chase, the
spread of levels per domain and indicator, the heatmap of schools, the priorities and
their next steps, then trends, team agreement and scores when the data has them (a short
line says so when it has not). Charts are inline SVG with a title; levels are drawn in
shades from light to dark, so they stay apart in grayscale print, and every shade comes
with text (counts in the bars, the level number in each heatmap cell, a legend). Every
text that came from a school, a roster or a file name is HTML-escaped. Nothing is
fetched: styles and charts are in the file.

The figures are taken from the same tidy rows as the summary workbook, in two passes
(levels without texts, then the next steps of the top priorities only), so the report
stays small and quick at thousands of schools.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__, layout
from ..consolidate import (
    ACCEPTED_WITH_WARNINGS,
    CONFLICT,
    MISSING,
    RATINGS_COLUMNS,
    REJECTED,
    Consolidation,
    has_team,
)
from ..files import display_name
from ..problems import ERROR
from ..writer.formats import ACCENT, INK
from . import scores as score_figures
from .exports import ratings_rows
from .scores import NO_NETWORK
from .workbook import proficient_level

REPORT_HTML = "district_report.html"
REPORT_PDF = "district_report.pdf"

TOP_PRIORITIES = 8  # indicators shown in the priorities section
STEPS_SHOWN = 5  # next steps quoted per priority indicator; the rest are counted
STEP_CHARS = 400  # a quoted next step is cut here (the workbook has it whole)
CHASE_SHOWN = 200  # returns listed per kind in "Returns to chase"; the rest are counted

_COL = {name: i for i, name in enumerate(RATINGS_COLUMNS)}
_UNRATED = "Unrated"


def esc(text: object) -> str:
    """Text from a school, a roster or a file, as HTML text or an attribute value."""
    return html.escape(str(text), quote=True)


def bdi(text: object) -> str:
    """A name or text typed by someone, escaped and isolated for direction: an Arabic name,
    or a stray right-to-left mark in one, cannot reorder the text around it."""
    return f"<bdi>{esc(text)}</bdi>"


# -- the figures -------------------------------------------------------------------------

@dataclass
class Facts:
    """What every section needs, gathered in one pass over the accepted ratings."""

    run: Consolidation
    # indicator id -> level (or "" unrated) -> count
    by_indicator: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_domain: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # school id -> indicator id -> level ("" unrated)
    schools: dict[str, dict[str, int | str]] = field(default_factory=dict)
    priorities: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    followup: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def rubric(self):
        return self.run.rubric

    @property
    def good(self) -> int:
        return proficient_level(len(self.rubric.levels))


def gather(run: Consolidation) -> Facts:
    facts = Facts(run)
    col = _COL
    for r in ratings_rows(run, texts=False):
        level, indicator = r[col["level"]], r[col["indicator_id"]]
        facts.by_indicator[indicator][level] += 1
        facts.by_domain[r[col["domain_id"]]][level] += 1
        facts.schools.setdefault(r[col["school_id"]], {})[indicator] = level
        if r[col["priority"]]:
            facts.priorities[indicator][r[col["priority"]]] += 1
        facts.followup[(r[col["school_id"]], indicator)] = r[col["followup"]]
    return facts


def share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


# -- the page ----------------------------------------------------------------------------

def build_report(run: Consolidation, inputs: Iterable[str] = (),
                 built: dt.datetime | None = None) -> str:
    """The whole report as one HTML document."""
    facts = gather(run)
    rubric = run.rubric
    title = f"District self-assessment: {rubric.title}"
    built = built or dt.datetime.now().astimezone()
    parts = [_HEAD.format(title=esc(title), css=_css(len(rubric.levels))),
             _masthead(run, title, built, inputs)]
    parts += [section(facts) for section in SECTIONS]
    parts.append(f'<footer><p>Written by workbook-tool {esc(__version__)}. The figures come '
                 f'from the accepted returns; district_summary.xlsx has every rating, '
                 f'evidence and problem.</p></footer></main>\n</body>\n</html>\n')
    return "".join(parts)


def write_report(run: Consolidation, path: Path, inputs: Iterable[str] = ()) -> None:
    """Write the report to `path` (a staging file the caller renames into place)."""
    path.write_text(build_report(run, inputs), encoding="utf-8", newline="\n")


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
"""


def _masthead(run: Consolidation, title: str, built: dt.datetime, inputs) -> str:
    rubric = run.rubric
    cycle = f"Cycle {esc(run.cycle)} · " if run.cycle else ""
    named = ", ".join(display_name(arg) for arg in inputs)
    source = f" from {bdi(named)}" if named else ""
    return (f'<header><h1>{esc(title)}</h1>\n<p class="meta">{cycle}'
            f'{esc(rubric.id)} {esc(rubric.version)} · built {built:%Y-%m-%d %H:%M}{source}'
            f'</p></header>\n')


def _section(key: str, heading: str, body: str) -> str:
    return (f'<section id="{key}" aria-labelledby="{key}-h">\n<h2 id="{key}-h">{heading}</h2>\n'
            f"{body}</section>\n")


def _absent(key: str, heading: str, why: str) -> str:
    return _section(key, heading, f'<p class="absent">{why}</p>\n')


# -- headline ----------------------------------------------------------------------------

def headline(facts: Facts) -> str:
    run = facts.run
    counts = run.counts()
    schools = len(run.roster)
    accepted = len({r.school_id for r in run.accepted if run.school(r.school_id)})
    rated = sum(n for c in facts.by_indicator.values() for k, n in c.items() if k != "")
    total = sum(sum(c.values()) for c in facts.by_indicator.values())
    at_good = sum(n for c in facts.by_indicator.values() for k, n in c.items()
                  if k != "" and k >= facts.good)
    good_label = facts.rubric.levels[facts.good - 1].label
    chase = counts[MISSING] + counts[REJECTED] + counts[CONFLICT]
    cards = [
        (f"{accepted} of {schools}", "schools with an accepted return",
         share(accepted, schools) + " of the roster"),
        (share(rated, total), "of indicators rated", f"{rated} of {total} in accepted returns"),
        (share(at_good, rated), f"of ratings at {esc(good_label)} or above",
         f"{at_good} of {rated} rated"),
        (str(chase), "returns to chase",
         f"{counts[MISSING]} missing, {counts[REJECTED]} rejected, {counts[CONFLICT]} in "
         "conflict"),
    ]
    body = '<div class="cards">\n' + "".join(
        f'<div class="card"><p class="big">{big}</p><p>{what}</p><p class="small">{note}</p>'
        f'</div>\n' for big, what, note in cards) + "</div>\n"
    body += _status_table(counts)
    return _section("headline", "Headline", body)


def _status_table(counts: dict[str, int]) -> str:
    rows = "".join(f"<tr><th scope=\"row\">{esc(status.replace('_', ' '))}</th>"
                   f"<td class=\"num\">{n}</td></tr>\n" for status, n in counts.items())
    return ('<table class="narrow"><caption>Returns by status</caption>\n'
            '<thead><tr><th scope="col">Status</th><th scope="col">Returns</th></tr></thead>\n'
            f"<tbody>\n{rows}</tbody></table>\n")


# -- returns to chase --------------------------------------------------------------------

def chase(facts: Facts) -> str:
    run = facts.run
    networks = {s.school_id: s.network for s in run.roster}
    missing = [r for r in run.rows if r.status == MISSING]
    rejected = [r for r in run.rows if r.status == REJECTED]
    conflicts = [r for r in run.rows if r.status == CONFLICT]
    warned = sum(1 for r in run.rows if r.status == ACCEPTED_WITH_WARNINGS)
    if not run.roster and not run.rows:
        body = "<p>The roster has no school, and no return was read.</p>\n"
    elif not (missing or rejected or conflicts):
        body = "<p>Every school on the roster has an accepted return: nothing to chase.</p>\n"
    else:
        body = ""
        body += _chase_table("Missing: no return received", ["School ID", "School", "Network"],
                             [[r.school_id, r.school_name, networks.get(r.school_id, "")]
                              for r in missing])
        body += _chase_table("Rejected: to fix and send again", ["School ID", "School", "File",
                                                                "Why"],
                             [[r.school_id, r.school_name, r.file, _first_error(r)]
                              for r in rejected])
        body += _chase_table("In conflict: different returns for one school",
                             ["School ID", "School", "File"],
                             [[r.school_id, r.school_name, r.file] for r in conflicts])
    if warned:
        body += (f'<p class="small">{warned} accepted return(s) have warnings: see the '
                 "Problems sheet of district_summary.xlsx.</p>\n")
    return _section("chase", "Returns to chase", body)


def _first_error(row) -> str:
    errors = [p for p in row.result.problems if p.severity == ERROR] if row.result else []
    if not errors:
        return ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0].message + more


def _chase_table(caption: str, headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    shown = rows[:CHASE_SHOWN]
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>\n"
                   for row in shown)
    rest = (f'<p class="small">and {len(rows) - len(shown)} more in returns.csv.</p>\n'
            if len(rows) > len(shown) else "")
    return (f"<table><caption>{esc(caption)} ({len(rows)})</caption>\n"
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>\n{rest}")


# -- the spread of levels ----------------------------------------------------------------

def spread(facts: Facts) -> str:
    rubric = facts.rubric
    domains = [(d.label, d.title, facts.by_domain[d.id]) for d in rubric.domains]
    indicators = [(ind.id, ind.title, facts.by_indicator[ind.id])
                  for ind in rubric.indicators]
    if not facts.schools:
        return _absent("spread", "The spread of levels",
                       "No accepted return yet: there are no levels to show.")
    body = _legend(rubric)
    body += _bars("domains", "Ratings at each level, by domain (accepted returns)", domains,
                  rubric)
    body += _counts_table("Ratings at each level, by domain", "Domain", domains, rubric)
    body += _bars("indicators", "Ratings at each level, by indicator (accepted returns)",
                  indicators, rubric)
    body += _counts_table("Ratings at each level, by indicator", "Indicator", indicators,
                          rubric)
    return _section("spread", "The spread of levels", body)


# Shades of one hue, light to dark, per level count: ordered like the levels, and apart in
# grayscale. (SVG patterns would also do, but Chromium takes seconds to print them.)
SHADES = {3: ("#DEEBF7", "#6BAED6", "#08519C"),
          4: ("#DEEBF7", "#9ECAE1", "#4292C6", "#08519C"),
          5: ("#EFF3FF", "#BDD7E7", "#6BAED6", "#3182BD", "#08519C")}
UNRATED_FILL = "#FFFFFF"


def shades(level_count: int) -> tuple[str, ...]:
    return SHADES[level_count]


def _legend(rubric) -> str:
    swatch = ('<li><svg width="22" height="14" aria-hidden="true"><rect width="22" '
              'height="14" fill="{}" stroke="#555"/></svg> {}</li>')
    keys = "".join(swatch.format(color, f"{lv.level} {esc(lv.label)}")
                   for lv, color in zip(rubric.levels, shades(len(rubric.levels)),
                                        strict=True))
    keys += swatch.format(UNRATED_FILL, _UNRATED)
    return f'<ul class="legend" aria-label="Levels">{keys}</ul>\n'


def _bars(key: str, title: str, rows: list[tuple[str, str, Counter]], rubric) -> str:
    """Horizontal bars, one per row, split by level as shares of the row's ratings."""
    label_w, bar_w, row_h = 300, 620, 26
    keys = [lv.level for lv in rubric.levels] + [""]
    colors = shades(len(rubric.levels))
    height = row_h * len(rows) + 8
    out = [f'<figure><svg role="img" viewBox="0 0 {label_w + bar_w + 10} {height}" '
           f'width="100%" aria-labelledby="t-{key}"><title id="t-{key}">'
           f'{esc(title)}</title>\n']
    for i, (key, name, counts) in enumerate(rows):
        y = 4 + i * row_h
        total = sum(counts.values())
        text = esc(_cut(f"{key} {name}", 38))
        out.append(f'<text x="0" y="{y + 17}" class="lbl">{text}</text>')
        x = float(label_w)
        for level in keys:
            n = counts.get(level, 0)
            if not n or not total:
                continue
            w = bar_w * n / total
            what = _UNRATED if level == "" else rubric.levels[level - 1].label
            fill = UNRATED_FILL if level == "" else colors[level - 1]
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" '
                       f'fill="{fill}" stroke="#555" stroke-width="0.5">'
                       f'<title>{esc(key)}: {n} {esc(what)}</title></rect>')
            if w >= 22:
                out.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" class="seg">{n}</text>')
            x += w
        out.append("\n")
    out.append(f"</svg><figcaption>{esc(title)}. Numbers in the bars are counts of "
               "ratings.</figcaption></figure>\n")
    return "".join(out)


def _counts_table(caption: str, what: str, rows: list[tuple[str, str, Counter]], rubric) -> str:
    head = (f'<th scope="col">{esc(what)}</th>'
            + "".join(f'<th scope="col">{esc(lv.label)}</th>' for lv in rubric.levels)
            + f'<th scope="col">{_UNRATED}</th>')
    body = "".join(
        f'<tr><th scope="row">{esc(key)} {esc(name)}</th>'
        + "".join(f'<td class="num">{counts.get(lv.level, 0)}</td>' for lv in rubric.levels)
        + f'<td class="num">{counts.get("", 0)}</td></tr>\n'
        for key, name, counts in rows)
    return (f"<table><caption>{esc(caption)}</caption>\n<thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}</tbody></table>\n")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- heatmap -----------------------------------------------------------------------------

def heatmap(facts: Facts) -> str:
    run = facts.run
    if not facts.schools:
        return _absent("heatmap", "Heatmap of schools",
                       "No accepted return yet: there is no school to show.")
    indicators = facts.rubric.indicators
    by_network: dict[str, list[str]] = defaultdict(list)
    for school_id in sorted(facts.schools):
        school = run.school(school_id)
        # Blank networks are grouped as "No network", as the scores count them.
        by_network[(school.network if school else "") or NO_NETWORK].append(school_id)
    head = ('<thead><tr><th scope="col">School</th>'
            + "".join(f'<th scope="col" title="{esc(ind.title)}">{esc(ind.id)}</th>'
                      for ind in indicators) + "</tr></thead>\n")
    names = {r.school_id: r.school_name for r in run.accepted}
    body = [_legend_line(facts.rubric)]
    for network in sorted(by_network, key=lambda n: (n == NO_NETWORK, n.casefold())):
        ids = by_network[network]
        name = esc(network)  # a heading and a caption: blocks isolate their direction
        rows = []
        for school_id in ids:
            levels = facts.schools[school_id]
            cells = "".join(_heat_cell(levels.get(ind.id, "")) for ind in indicators)
            rows.append(f'<tr><th scope="row">{esc(names.get(school_id, school_id))}'
                        f'<span class="id"> {esc(school_id)}</span></th>{cells}</tr>\n')
        body.append(f'<div class="net"><h3>{name} <span class="small">({len(ids)} '
                    f'school{"s" if len(ids) != 1 else ""})</span></h3>\n'
                    f'<table class="heat"><caption>Levels in {name}</caption>\n{head}'
                    f"<tbody>\n{''.join(rows)}</tbody></table></div>\n")
    return _section("heatmap", "Heatmap of schools", "".join(body))


def _legend_line(rubric) -> str:
    keys = ", ".join(f'<span class="h{lv.level}">{lv.level}</span> {esc(lv.label)}'
                     for lv in rubric.levels)
    return (f'<p class="small">Each cell is the level as a number: {keys}; an empty cell is '
            "unrated. Schools are grouped by network.</p>\n")


def _heat_cell(level: int | str) -> str:
    if level == "":
        return '<td class="h0"></td>'
    return f'<td class="h{level}">{level}</td>'


# -- priorities --------------------------------------------------------------------------

def priorities(facts: Facts) -> str:
    run = facts.run
    ranked = sorted((ind for ind in facts.rubric.indicators
                     if facts.priorities[ind.id]["High"]),
                    key=lambda ind: -facts.priorities[ind.id]["High"])[:TOP_PRIORITIES]
    if not ranked:
        return _absent("priorities", "Priorities and next steps",
                       "No school marked an indicator as a High priority.")
    steps = _next_steps(run, {ind.id for ind in ranked})
    body = ['<p>The indicators schools marked High priority most often, with what they plan '
            'to do (the Priorities sheet of district_summary.xlsx has every one).</p>\n<ol>\n']
    for ind in ranked:
        counts = facts.priorities[ind.id]
        quoted = steps.get(ind.id, [])
        items = "".join(f"<li><strong>{bdi(name)}</strong>: {bdi(_cut(text, STEP_CHARS))}</li>"
                        for name, text in quoted[:STEPS_SHOWN])
        rest = len(quoted) - STEPS_SHOWN
        more = f'<p class="small">and {rest} more.</p>' if rest > 0 else ""
        body.append(f'<li><h3>{esc(ind.id)} {esc(ind.title)}</h3>\n<p>High: {counts["High"]}'
                    f' · Medium: {counts["Medium"]} · Low: {counts["Low"]} schools</p>\n'
                    + (f'<ul class="steps">{items}</ul>{more}\n' if items else
                       '<p class="small">No next steps written.</p>\n') + "</li>\n")
    body.append("</ol>\n")
    return _section("priorities", "Priorities and next steps", "".join(body))


def _next_steps(run: Consolidation, wanted: set[str]) -> dict[str, list[tuple[str, str]]]:
    """(school name, next steps) of High-priority ratings of the wanted indicators."""
    col = _COL
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in ratings_rows(run):
        indicator = r[col["indicator_id"]]
        if indicator in wanted and r[col["priority"]] == "High" and r[col["next_steps"]].strip():
            out[indicator].append((r[col["school_name"]], r[col["next_steps"]]))
    return out


# -- trends, agreement, scores: when the data has them ------------------------------------

def trends(facts: Facts) -> str:
    run = facts.run
    previous = run.previous
    if previous is None:
        return _absent("trends", "Trends", "No earlier cycle to compare with: record each "
                       "cycle with consolidate --history, and the next report shows what moved.")
    good = facts.good
    then: dict[str, Counter] = defaultdict(Counter)
    for (_school, indicator), (level, _steps, _priority) in previous.answers.items():
        then[indicator]["rated" if level is not None else "unrated"] += 1
        if level is not None and level >= good:
            then[indicator]["good"] += 1
    rows = []
    for ind in facts.rubric.indicators:
        now = facts.by_indicator[ind.id]
        rated_now = sum(n for k, n in now.items() if k != "")
        good_now = sum(n for k, n in now.items() if k != "" and k >= good)
        before = then[ind.id]
        rows.append((ind, before["good"], before["rated"], good_now, rated_now))
    good_label = esc(facts.rubric.levels[good - 1].label)
    cycle_now = esc(run.cycle or "this cycle")
    head = (f'<thead><tr><th scope="col">Indicator</th><th scope="col">{esc(previous.cycle)}'
            f'</th><th scope="col">{cycle_now}</th><th scope="col">Change</th></tr></thead>\n')
    body_rows = "".join(
        f'<tr><th scope="row">{esc(ind.id)} {esc(ind.title)}</th>'
        f'<td class="num">{share(g0, r0)}</td><td class="num">{share(g1, r1)}</td>'
        f'<td class="num">{_points(g0, r0, g1, r1)}</td></tr>\n'
        for ind, g0, r0, g1, r1 in rows)
    dropped = _dropped(facts)
    body = (f"<p>Share of rated indicators at {good_label} or above, {esc(previous.cycle)} "
            f"and {cycle_now}. {dropped} school-indicator rating(s) dropped a level or more "
            "(the Trends sheet lists them).</p>\n"
            f"<table><caption>At {good_label} or above, then and now</caption>\n{head}"
            f"<tbody>\n{body_rows}</tbody></table>\n{_followup(facts)}")
    return _section("trends", f"Trends since {esc(previous.cycle)}", body)


def _points(g0: int, r0: int, g1: int, r1: int) -> str:
    if not r0 or not r1:
        return "–"
    change = round(100 * g1 / r1) - round(100 * g0 / r0)
    return f"{change:+d} pts" if change else "0 pts"


def _dropped(facts: Facts) -> int:
    answers = facts.run.previous.answers
    count = 0
    for school_id, levels in facts.schools.items():
        for indicator, level in levels.items():
            before = answers.get((school_id, indicator), (None,))[0]
            if level != "" and before is not None and level < before:
                count += 1
    return count


def _followup(facts: Facts) -> str:
    previous = facts.run.previous
    tally: Counter = Counter()
    for key, (_level, steps, _priority) in previous.answers.items():
        if steps.strip() and key in facts.followup:
            said = facts.followup[key]
            tally[said if said in layout.FOLLOWUP_CHOICES else "Not said"] += 1
    total = sum(tally.values())
    if not total:
        return ""
    parts = ", ".join(f"{choice}: {tally[choice]}"
                      for choice in (*layout.FOLLOWUP_CHOICES, "Not said"))
    return (f"<p>What became of {esc(previous.cycle)}'s {total} next steps, as the schools "
            f"said: {parts}.</p>\n")


def agreement(facts: Facts) -> str:
    run = facts.run
    teams = [r for r in run.accepted if has_team(r.result)]
    if not teams:
        return _absent("agreement", "Team agreement", "No school rated as a team this cycle "
                       "(generate --raters N gives a workbook for several raters).")
    compared_n = exact = within = 0
    flagged: Counter = Counter()
    for row in teams:
        for one in run.compared(row.result):
            compared_n += 1
            exact += one.figures.exact
            within += one.figures.within_one
            if one.figures.flagged:
                flagged[one.indicator_id] += 1
    titles = {ind.id: ind.title for ind in facts.rubric.indicators}
    most = "".join(f"<li>{esc(i)} {esc(titles.get(i, ''))}: {n} school(s)</li>"
                   for i, n in flagged.most_common(5))
    body = (f"<p>{len(teams)} school(s) rated as a team. Of {compared_n} indicators rated by "
            f"two raters or more, {share(exact, compared_n)} had every rater agree and "
            f"{share(within, compared_n)} were within one level; {sum(flagged.values())} were "
            "2 levels or more apart (flagged for discussion).</p>\n")
    if most:
        body += f"<p>Flagged most often:</p><ul>{most}</ul>\n"
    return _section("agreement", "Team agreement", body)


def scores(facts: Facts) -> str:
    run = facts.run
    rubric = facts.rubric
    if not rubric.has_points:
        return _absent("scores", "Scores and tiers",
                       "This rubric gives no points to its levels, so there are no scores or "
                       "tiers.")
    found = score_figures.ranked(run)
    if not found:
        return _absent("scores", "Scores and tiers", "No accepted return yet: no school has "
                       "a score.")
    tiers = score_figures.tier_names(run)
    per_tier = {tier: [s for s in found if (s.tier or score_figures.NO_TIER) == tier]
                for tier in tiers}
    thresholds = ", ".join(f"{esc(t.name)} from {t.min_points}" for t in rubric.tiers)
    body = [f"<p>A full return scores up to {rubric.max_points} points"
            + (f"; tiers: {thresholds}" if thresholds else "") + ". An unrated indicator "
            "scores 0.</p>\n", _tier_table(per_tier), _network_table(found, tiers)]
    for tier, schools in per_tier.items():
        if not schools:
            continue
        shown = ", ".join(f"{bdi(s.school_name)} ({s.points})" for s in schools[:CHASE_SHOWN])
        rest = (f" and {len(schools) - CHASE_SHOWN} more (scores.csv has every school)"
                if len(schools) > CHASE_SHOWN else "")
        body.append(f"<h3>{esc(tier)}: {len(schools)} school(s)</h3>\n<p>{shown}{rest}</p>\n")
    return _section("scores", "Scores and tiers", "".join(body))


def _tier_table(per_tier: dict[str, list]) -> str:
    rows = "".join(f'<tr><th scope="row">{esc(tier)}</th><td class="num">{len(schools)}</td>'
                   "</tr>\n" for tier, schools in per_tier.items())
    return ('<table class="narrow"><caption>Schools per tier</caption>\n<thead><tr>'
            '<th scope="col">Tier</th><th scope="col">Schools</th></tr></thead>\n'
            f"<tbody>\n{rows}</tbody></table>\n")


def _network_table(found: list, tiers: list[str]) -> str:
    counts = score_figures.by_network(found)
    head = ('<th scope="col">Network</th>'
            + "".join(f'<th scope="col">{esc(t)}</th>' for t in tiers))
    rows = "".join(f'<tr><th scope="row">{esc(network)}</th>'
                   + "".join(f'<td class="num">{counter[t]}</td>' for t in tiers) + "</tr>\n"
                   for network, counter in counts.items())
    return (f"<table><caption>Tiers by network</caption>\n<thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{rows}</tbody></table>\n")


SECTIONS: tuple[Callable[[Facts], str], ...] = (
    headline, chase, spread, heatmap, priorities, trends, agreement, scores)


# -- style -------------------------------------------------------------------------------

def _css(level_count: int) -> str:
    colors = shades(level_count)
    # The darker half of the shades takes white text.
    heat = "".join(f".h{k}{{background:{c}{';color:#fff' if k > level_count / 2 else ''}}}"
                   for k, c in enumerate(colors, start=1))
    return f"""
:root{{--ink:{INK};--accent:{ACCENT}}}
body{{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--ink);margin:0;background:#fff}}
main{{max-width:1100px;margin:0 auto;padding:1.5rem}}
header h1{{color:#fff;background:var(--accent);padding:.6rem 1rem;margin:0;font-size:1.6rem}}
.meta{{color:#444;margin:.3rem 0 1rem}}
h2{{color:var(--accent);border-bottom:2px solid var(--accent);margin-top:2rem}}
h3{{margin:1rem 0 .3rem;font-size:1.05rem}}
section{{margin-bottom:2rem}}
.cards{{display:flex;flex-wrap:wrap;gap:.8rem}}
.card{{border:1px solid #999;border-left:6px solid var(--accent);padding:.5rem .8rem;
min-width:12rem;flex:1}}
.card p{{margin:.1rem 0}}.big{{font-size:1.8rem;font-weight:700}}
.small{{font-size:.85rem;color:#444}}.absent{{font-style:italic;color:#444}}
table{{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}}
caption{{text-align:left;font-weight:600;padding:.2rem 0}}
th,td{{border:1px solid #999;padding:.2rem .4rem;text-align:left;vertical-align:top}}
thead th{{background:var(--accent);color:#fff}}
td.num{{text-align:right}}
.legend{{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}}
.legend svg{{vertical-align:middle}}
svg.defs{{position:absolute}}
figure{{margin:.5rem 0}}figcaption{{font-size:.85rem;color:#444}}
.lbl{{font-size:13px;fill:#1F2937}}.seg{{font-size:12px;text-anchor:middle;fill:#000;
font-weight:700;paint-order:stroke;stroke:#fff;stroke-width:3px}}
.net{{content-visibility:auto;contain-intrinsic-size:auto 600px}}
table.heat{{font-size:.78rem}}table.heat td{{text-align:center;min-width:1.6em;padding:.1rem}}
table.heat th[scope=row]{{font-weight:400;white-space:nowrap;max-width:24em;overflow:hidden;
text-overflow:ellipsis}}
.id{{color:#555;font-size:.75rem}}
{heat}.h0{{background:#fff}}
span[class^=h]{{padding:0 .3rem;border:1px solid #999}}
.steps li{{margin:.2rem 0}}
footer{{margin-top:2rem;font-size:.85rem;color:#444}}
@page{{size:A4 landscape;margin:12mm}}
@media print{{
body{{font-size:11pt}}main{{max-width:none;padding:0}}
section{{break-before:page}}section#headline{{break-before:auto}}
thead{{display:table-header-group}}tr,figure{{break-inside:avoid}}
.net{{content-visibility:visible}}
*{{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
}}
"""
