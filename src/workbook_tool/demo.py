"""`workbook-tool demo`: the whole loop on the packaged sample roster, in a few seconds.

Site teams are simulated with the generator's own pre-fill (the same code that writes every
workbook), so the demo exercises the product, not a toy: plausible, deterministic ratings,
evidence and next steps; some schools ahead, some behind; one return with a typed rating the
dropdown would have refused; one school that never returns; a returns folder as messy as
a real one (a lock file, a note, a zip holding a copy of a return); and one school that rates
as a team: three members rate on their own, `workbook-tool team` gathers them, and the team's
agreed return (one indicator flagged and discussed, one agreed rating outside the raters'
range with a note) goes in with the others. It runs two cycles: last year's returns are
recorded in a history store, this year's workbooks are prefilled from it and reviewed by
the teams (one school leaves half its ratings carried forward), and the summary has a
Trends sheet.
"""

from __future__ import annotations

import random
import shutil
import zipfile
from collections import Counter
from dataclasses import replace
from importlib import resources
from pathlib import Path

from . import layout
from .consolidate import scores
from .generate import file_names, generate
from .history import previous_answers
from .pipeline import run_consolidation
from .reader.model import Answer, Previous, TeamRatings
from .roster import School, load_roster
from .rubric import NO_TIER, Indicator, Rubric, load_rubric
from .summary.scores import tier_names
from .team import gather
from .writer import Issue, build_workbook

CYCLE = "2026-27"
ISSUE = Issue(cycle=CYCLE, due="March 13, 2027",
              return_to="College & Career Readiness Office, ccr@district.example.org")

# How far along each sample school is (average level), and how complete its return is.
PROFILES = {"101": (3.2, 1.0), "102": (3.6, 1.0), "103": (2.6, 1.0), "104": (2.9, 0.93),
            "105": (1.8, 1.0), "106": (2.3, 0.86), "107": (2.0, 1.0), "108": (2.7, 1.0),
            "109": (1.5, 0.75), "110": (2.2, 1.0), "111": (1.9, 1.0)}
NEVER_RETURNED = "112"
TYPED_RATING = ("108", "2.3", "Advanced")  # typed past the dropdown: rejected, fix and resend
NUMBER_RATING = ("105", "1.2", "2")  # a level number: accepted with a warning

EVIDENCE = [
    "Agendas and minutes from the {month} leadership meetings show {topic} discussed and "
    "owners named.",
    "Our {month} staff survey (n={n}) and two pathway walk-throughs point to {topic} in "
    "place for most pathways.",
    "{topic}: a written plan exists and was shared with the site council in {month}; "
    "follow-up is uneven across pathways.",
    "Examples: the {month} advisory board notes, the pathway course catalog and the data "
    "dashboard page on {topic}.",
    "Little written evidence yet; {topic} depends on a few committed teachers.",
]
NEXT_STEPS = [
    "Pathway leads draft a one-page plan for {topic} by {month}; the principal reviews it "
    "with the district CCR team.",
    "Add {topic} to the monthly leadership agenda and track two measures on the dashboard.",
    "Visit a district school rated higher on {topic} and bring back one practice to pilot.",
    "Ask the district for coaching support on {topic}; name a teacher leader to coordinate.",
]
MONTHS = ["September", "October", "November", "January", "February"]


def sample_roster() -> list[School]:
    return load_roster(Path(str(resources.files("workbook_tool") / "data" / "roster.csv")))


def simulated_answers(rubric: Rubric, school: School) -> dict[str, Answer]:
    """A plausible, deterministic return for one sample school."""
    base, completeness = PROFILES.get(school.school_id, (2.5, 1.0))
    rng = random.Random(f"{rubric.fingerprint}:{school.school_id}")
    top = len(rubric.levels)
    answers = {}
    for ind in rubric.indicators:
        if rng.random() > completeness:
            continue
        level = min(top, max(1, round(base + rng.uniform(-1.1, 1.1))))
        answers[ind.id] = _answer(rubric, ind, level, rng)
    _scripted_mistakes(rubric, school, answers)
    return answers


def _answer(rubric: Rubric, ind: Indicator, level: int, rng: random.Random) -> Answer:
    topic = ind.title.lower() if ind.title.isupper() else ind.title
    words = {"topic": topic, "month": rng.choice(MONTHS),
             "n": rng.randint(24, 140)}
    evidence = rng.choice(EVIDENCE[:4] if level > 1 else EVIDENCE[3:]).format(**words)
    next_steps = rng.choice(NEXT_STEPS).format(**{**words, "month": rng.choice(MONTHS)})
    priority = "High" if level == 1 else rng.choice(["High", "Medium", "Medium", "Low"])
    return Answer(ind.id, level, rubric.levels[level - 1].label, evidence, next_steps, priority)


def _scripted_mistakes(rubric: Rubric, school: School, answers: dict[str, Answer]) -> None:
    for school_id, ind_id, typed in (TYPED_RATING, NUMBER_RATING):
        if school.school_id == school_id and ind_id in answers:
            old = answers[ind_id]
            answers[ind_id] = Answer(ind_id, None, typed, old.evidence, old.next_steps,
                                     old.priority)


def write_returns(rubric: Rubric, schools: list[School], folder: Path,
                  previous: dict[str, Previous]) -> list[Path]:
    """The filled workbooks the sample site teams send back (the team school's is written
    by `team_return`): this cycle's workbooks, prefilled with last cycle's answers where the
    school returned last cycle, reviewed by the teams."""
    folder.mkdir(parents=True, exist_ok=True)
    names = file_names(schools)
    paths = []
    for school in schools:
        if school.school_id in (NEVER_RETURNED, TEAM_SCHOOL):
            continue
        last = previous.get(school.school_id)
        answers = simulated_answers(rubric, school)
        if last is not None:
            answers = reviewed(rubric, school, answers, last)
        path = folder / names[school.school_id]
        path.write_bytes(build_workbook(rubric, school, ISSUE, answers=answers,
                                        previous=last))
        paths.append(path)
    return paths


# -- two cycles: last year's returns in a history store, this year's workbooks prefilled ---

LAST_CYCLE = "2025-26"
LAST_ISSUE = Issue(cycle=LAST_CYCLE)
NEW_SCHOOL = "111"  # opened this year: no record last cycle, so a plain workbook
SLIPPED = "105"  # rated itself higher last year than this year
CARRIED = "110"  # sent its prefilled workbook back with many ratings not reviewed


def last_year_answers(rubric: Rubric, school: School) -> dict[str, Answer]:
    """Last cycle's return: most schools a level lower on some indicators, one higher."""
    rng = random.Random(f"{rubric.fingerprint}:{LAST_CYCLE}:{school.school_id}")
    top = len(rubric.levels)
    answers = {}
    for ind_id, answer in simulated_answers(rubric, school).items():
        if answer.level is None:
            continue
        step = 1 if school.school_id == SLIPPED else -rng.choice([0, 0, 1])
        answers[ind_id] = _relevel(rubric, answer, min(top, max(1, answer.level + step)))
    return answers


def reviewed(rubric: Rubric, school: School, answers: dict[str, Answer],
             last: Previous) -> dict[str, Answer]:
    """This cycle's answers of a prefilled workbook: each indicator reviewed, and what
    became of last cycle's next steps said. School CARRIED reviewed only half: the rest
    stays as last cycle left it, Review still "Carried forward"."""
    rng = random.Random(f"{rubric.fingerprint}:followup:{school.school_id}")
    out = {}
    for i, (ind_id, answer) in enumerate(answers.items()):
        before = last.answers.get(ind_id)
        followup = rng.choice(layout.FOLLOWUP_CHOICES) if before and before.next_steps else ""
        if school.school_id == CARRIED and i % 2 and before and before.level is not None:
            out[ind_id] = replace(before, review=layout.CARRIED_FORWARD, followup=followup)
        else:
            out[ind_id] = replace(answer, review=layout.REVIEWED, followup=followup)
    return out


def last_cycle(rubric: Rubric, schools: list[School], out: Path, store: Path) -> None:
    """Last year's returns, consolidated into the history store."""
    folder = out / "last-year" / "returns"
    folder.mkdir(parents=True, exist_ok=True)
    names = file_names(schools)
    for school in schools:
        if school.school_id == NEW_SCHOOL:
            continue
        (folder / names[school.school_id]).write_bytes(build_workbook(
            rubric, school, LAST_ISSUE, answers=last_year_answers(rubric, school)))
    run_consolidation(rubric, [s for s in schools if s.school_id != NEW_SCHOOL],
                      [str(folder)], out / "last-year" / "summary", LAST_CYCLE, jobs=1,
                      quiet=True, history=store)


# -- one school rates as a team ----------------------------------------------------------

TEAM_SCHOOL = "103"
TEAM_MEMBERS = ("Maria Lopez", "James Chen", "Aisha Patel")
FLAGGED = ("1.3", (1, 3, 2))  # two levels apart: the team discusses it first
OUTSIDE = ("2.1", (2, 2, 2), 3)  # the team agrees one level higher than every rater, and why
OUTSIDE_NOTE = ("The raters had not seen the spring advisory-board survey; after reviewing it "
                "together the team agreed Advancing.")


def member_levels(rubric: Rubric, agreed: dict[str, Answer]) -> dict[str, tuple]:
    """Each member's own level per indicator: near the agreed one, at most a level apart,
    except the scripted flagged and outside-range indicators."""
    rng = random.Random(f"{rubric.fingerprint}:team:{TEAM_SCHOOL}")
    top = len(rubric.levels)
    levels = {}
    for ind_id, answer in agreed.items():
        base = answer.level
        step = rng.choice((-1, 1))
        other = base + step if 1 <= base + step <= top else base - step
        own = [base] + [rng.choice((base, base, other)) for _ in TEAM_MEMBERS[1:]]
        rng.shuffle(own)  # someone gave the agreed level: it is inside the raters' range
        levels[ind_id] = tuple(own)
    levels[FLAGGED[0]] = FLAGGED[1]
    levels[OUTSIDE[0]] = OUTSIDE[1]
    return levels


def team_school(rubric: Rubric, schools: list[School], out: Path, returns: Path) -> Path:
    """The team school's three members' own workbooks, the team workbook `workbook-tool
    team` gathers from them (before the meeting), and the agreed return (after it)."""
    school = next(s for s in schools if s.school_id == TEAM_SCHOOL)
    agreed = simulated_answers(rubric, school)
    agreed[FLAGGED[0]] = _relevel(rubric, agreed[FLAGGED[0]], 2)
    agreed[OUTSIDE[0]] = _relevel(rubric, agreed[OUTSIDE[0]], OUTSIDE[2])
    levels = member_levels(rubric, agreed)
    members = out / "team" / "members"
    shutil.rmtree(out / "team", ignore_errors=True)
    members.mkdir(parents=True)
    paths = []
    for k, name in enumerate(TEAM_MEMBERS):
        own = {ind_id: _relevel(rubric, answer, levels[ind_id][k], keep_texts=k == 0)
               for ind_id, answer in agreed.items()}
        path = members / f"{TEAM_SCHOOL}_{name.split()[0].lower()}.xlsx"
        path.write_bytes(build_workbook(rubric, school, ISSUE, answers=own, completed_by=name))
        paths.append(str(path))
    gather(paths, rubric, out / "team" / f"{TEAM_SCHOOL}_team.xlsx")
    team = TeamRatings(TEAM_MEMBERS, levels, {OUTSIDE[0]: OUTSIDE_NOTE})
    path = returns / f"{file_names([school])[school.school_id][:-5]}_team.xlsx"
    path.write_bytes(build_workbook(rubric, school, ISSUE, answers=agreed, team=team,
                                    completed_by=", ".join(TEAM_MEMBERS)))
    return path


def _relevel(rubric: Rubric, answer: Answer, level: int, keep_texts: bool = True) -> Answer:
    evidence, next_steps = (answer.evidence, answer.next_steps) if keep_texts else ("", "")
    return Answer(answer.indicator_id, level, rubric.levels[level - 1].label, evidence,
                  next_steps, answer.priority if keep_texts else "")


RESENT = "107"  # sends its return again inside a zip: the copy is a duplicate
LOCK_OWNER = "101"  # its Excel left a lock file beside the return


def messy_mailbox(folder: Path, returns: list[Path], schools: list[School]) -> None:
    """What a real returns folder also holds: a lock file, a note, a zip with a copy.

    Consolidation skips the lock file, names the note as not read, opens the zip and marks
    the copy inside it a duplicate: the demo shows how nothing is silently dropped.
    """
    names = file_names(schools)
    (folder / f"~${names[LOCK_OWNER]}").write_bytes(b"\x00" * 162)  # as Excel leaves it
    (folder / "notes from the schools.txt").write_text(
        "107 sent its return twice; 112 said it would be late.\n", encoding="utf-8")
    resent = next(p for p in returns if p.name == names[RESENT])
    with zipfile.ZipFile(folder / "late-returns.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"resent/{resent.name}", resent.read_bytes())


def returns_table(report) -> str:
    """returns.csv as a few readable lines."""
    lines = [f"{'school':<8}{'name':<46}{'status':<24}rated"]
    for row in report.run.rows:
        rated = f"{row.result.rated}/{row.result.total}" if row.result else ""
        lines.append(f"{row.school_id:<8}{row.school_name[:44]:<46}{row.status:<24}{rated}")
    return "\n".join(lines)


# -- points and tiers: the packaged example certification rubric ---------------------------

def certification_rubric() -> Rubric:
    return load_rubric(Path(str(resources.files("workbook_tool") / "data"
                                / "certification.yaml")))


def certified_answers(rubric: Rubric, school: School) -> dict[str, Answer]:
    """Every indicator rated around the school's usual level (no mistakes: the point here is
    the scores)."""
    base, _completeness = PROFILES.get(school.school_id, (2.5, 1.0))
    rng = random.Random(f"{rubric.fingerprint}:{school.school_id}")
    top = len(rubric.levels)
    return {ind.id: _answer(rubric, ind, min(top, max(1, round(base + rng.uniform(-1, 1)))),
                            rng)
            for ind in rubric.indicators}


def certification(schools: list[School], out: Path):
    """Workbooks of the example certification rubric for every sample school, returned
    filled, consolidated into out/certification/summary (scores.csv, a Scores sheet and the
    report's scores section)."""
    rubric = certification_rubric()
    folder = out / "certification"
    shutil.rmtree(folder, ignore_errors=True)
    returns = folder / "returns"
    returns.mkdir(parents=True)
    names = file_names(schools)
    for school in schools:
        (returns / names[school.school_id]).write_bytes(
            build_workbook(rubric, school, ISSUE, answers=certified_answers(rubric, school)))
    return run_consolidation(rubric, schools, [str(returns)], folder / "summary", CYCLE,
                             jobs=1, quiet=True)


def _tiers_line(report) -> str:
    counts = Counter(score.tier or NO_TIER for score in scores(report.run))
    shown = [f"{counts[tier]} {tier}" for tier in tier_names(report.run) if tier != NO_TIER]
    below = counts[NO_TIER]
    return ", ".join(shown + ([f"{below} below every tier"] if below else []))


def run_demo(out: Path, quiet: bool = False) -> str:
    rubric = load_rubric()
    schools = sample_roster()
    for sub in ("workbooks", "returns", "last-year"):
        shutil.rmtree(out / sub, ignore_errors=True)
    store = out / "history.sqlite"
    for stale in (store, store.with_name(store.name + "-wal"),
                  store.with_name(store.name + "-shm")):
        stale.unlink(missing_ok=True)
    last_cycle(rubric, schools, out, store)
    previous = previous_answers(store, rubric, CYCLE, [s.school_id for s in schools])
    generated = generate(rubric, schools, out / "workbooks", ISSUE, jobs=1, previous=previous)
    returns = write_returns(rubric, schools, out / "returns", previous)
    team_path = team_school(rubric, schools, out, out / "returns")
    messy_mailbox(out / "returns", returns, schools)
    report = run_consolidation(rubric, schools, [str(out / "returns")], out / "summary", CYCLE,
                               jobs=1, quiet=True, history=store)
    certified = certification(schools, out)
    lines = [
        f"Last cycle ({LAST_CYCLE}): {len(schools) - 1} schools' returns consolidated into "
        f"{out / 'last-year' / 'summary'} and recorded in the history store {store}.",
        f"Generated {len(generated)} workbooks for {CYCLE} in {out / 'workbooks'} "
        f"(manifest.csv beside them): {len(previous)} prefilled with last cycle's answers; "
        f"school {NEW_SCHOOL} is new and got a plain one.",
        f"Simulated {len(returns) + 1} site teams filling them in {out / 'returns'} "
        f"(school {NEVER_RETURNED} never returned; school {RESENT} sent its return again in a "
        "zip; the folder also holds a lock file and a note).",
        f"School {TEAM_SCHOOL} rated as a team of {len(TEAM_MEMBERS)}: their own workbooks are "
        f"in {out / 'team' / 'members'}, `workbook-tool team` gathered them into "
        f"{out / 'team' / (TEAM_SCHOOL + '_team.xlsx')} ({FLAGGED[0]} flagged to discuss), "
        f"and the team's agreed return is {team_path.name}.",
        "",
        returns_table(report),
        "",
        "Consolidated:",
        report.render(),
        "",
        f"Open {out / 'summary' / 'district_summary.xlsx'} to see the district summary "
        f"(its Trends sheet compares {CYCLE} with {LAST_CYCLE}; school {CARRIED} left ratings "
        "carried forward without review).",
        f"Open {out / 'summary' / 'district_report.html'} in a browser for the board report "
        "(what to send to leadership; `consolidate --pdf` also prints it to PDF).",
        f"Points and tiers: the example rubric {certified.run.rubric.title} (made up, "
        f"rubric/examples/certification.yaml) scored the {len(schools)} sample schools in "
        f"{out / 'certification' / 'summary'}: {_tiers_line(certified)} (scores.csv, the "
        "Scores sheet and the report's scores section).",
    ]
    return "\n".join(lines)
