"""`workbook-tool demo`: the whole loop on the packaged sample roster, in a few seconds.

Site teams are simulated with the generator's own pre-fill (the same code that writes every
workbook), so the demo exercises the product, not a toy: plausible, deterministic ratings,
evidence and next steps; some schools ahead, some behind; one return with a typed rating the
dropdown would have refused; one school that never returns; and a returns folder as messy as
a real one (a lock file, a note, a zip holding a copy of a return).
"""

from __future__ import annotations

import random
import shutil
import zipfile
from importlib import resources
from pathlib import Path

from .generate import file_names, generate
from .pipeline import run_consolidation
from .reader.model import Answer
from .roster import School, load_roster
from .rubric import Indicator, Rubric, load_rubric
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


def write_returns(rubric: Rubric, schools: list[School], folder: Path) -> list[Path]:
    """The filled workbooks the sample site teams send back."""
    folder.mkdir(parents=True, exist_ok=True)
    names = file_names(schools)
    paths = []
    for school in schools:
        if school.school_id == NEVER_RETURNED:
            continue
        path = folder / names[school.school_id]
        path.write_bytes(build_workbook(rubric, school, ISSUE,
                                        answers=simulated_answers(rubric, school)))
        paths.append(path)
    return paths


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


def run_demo(out: Path, quiet: bool = False) -> str:
    rubric = load_rubric()
    schools = sample_roster()
    for sub in ("workbooks", "returns"):
        shutil.rmtree(out / sub, ignore_errors=True)
    generated = generate(rubric, schools, out / "workbooks", ISSUE, jobs=1)
    returns = write_returns(rubric, schools, out / "returns")
    messy_mailbox(out / "returns", returns, schools)
    report = run_consolidation(rubric, schools, [str(out / "returns")], out / "summary", CYCLE,
                               jobs=1, quiet=True)
    lines = [
        f"Generated {len(generated)} workbooks in {out / 'workbooks'} (manifest.csv beside them).",
        f"Simulated {len(returns)} site teams filling them in {out / 'returns'} "
        f"(school {NEVER_RETURNED} never returned; school {RESENT} sent its return again in a "
        "zip; the folder also holds a lock file and a note).",
        "",
        returns_table(report),
        "",
        "Consolidated:",
        report.render(),
        "",
        f"Open {out / 'summary' / 'district_summary.xlsx'} to see the district summary.",
    ]
    return "\n".join(lines)
