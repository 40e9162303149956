"""Rubrics of other shapes through the whole pipeline: the shipped examples
(rubric/examples/) are generated, filled like site teams do, checked and consolidated
through the CLI, and letter-prefixed domain ids (CC1) are validated.

classroom_shaped.yaml: 3 domains CC1-CC3 of 4 indicators each, titled Awareness,
Exploration, Preparation, Participation in every domain; levels Beginning, Building, Strong,
Leading. certification.yaml: 2 domains, 6 indicators, levels Not Yet 0, Started 1,
In Place 2, Model 3 points; tiers Bronze 6, Silver 10, Gold 14.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import DATA, ROOT
from excel_like import fill, open_book
from workbook_tool.cli import main

EXAMPLES = ROOT / "rubric" / "examples"
CLASSROOM = EXAMPLES / "classroom_shaped.yaml"
CERTIFICATION = EXAMPLES / "certification.yaml"
CYCLE = "2026-27"
ROSTER = ("school_id,school_name,network\n"
          "101,Lincoln High,North\n"
          "102,Oak Grove,South\n"
          "103,Harbor View,South\n"
          "104,Never Returned,North\n"
          "105,Pine Ridge,West\n")


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("example, expected", [
    (CLASSROOM, "classroom_shaped.yaml: ok: Example Classroom Readiness Rubric example-1, "
                "3 domains, 12 indicators, 4 levels (fingerprint "),
    (CERTIFICATION, "certification.yaml: ok: Example Pathway Certification example-1, "
                    "2 domains, 6 indicators, 4 levels, at most 18 points, 3 tiers "
                    "(fingerprint "),
])
def test_the_examples_load(example, expected):
    result = _run("rubric", "check", str(example))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(expected)


def test_the_examples_say_they_are_not_official_text():
    for example in (CLASSROOM, CERTIFICATION):
        text = example.read_text(encoding="utf-8")
        assert text.startswith("# EXAMPLE ONLY: a made-up ")
        assert "not official text" in " ".join(yaml.safe_load(text)["notes"])


def _pipeline(root: Path, rubric: Path, values: dict[str, dict[str, object]]):
    """Generate a workbook per school, fill each school's named cells with `values`, and
    return (generated files by school, returns folder)."""
    roster = root / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    made = root / "workbooks"
    result = _run("generate", str(roster), "--out", str(made), "--rubric", str(rubric),
                  "--cycle", CYCLE, "--jobs", "1")
    assert result.exit_code == 0, result.output
    files = {row["school_id"]: made / row["file"] for row in _csv(made / "manifest.csv")}
    returns = root / "returns"
    returns.mkdir()
    for school_id, cells in values.items():
        (returns / f"{school_id}.xlsx").write_bytes(fill(files[school_id].read_bytes(), cells))
    return files, returns


def _consolidate(root: Path, rubric: Path, returns: Path) -> Path:
    out = root / "summary"
    result = _run("consolidate", str(returns), "--roster", str(root / "roster.csv"),
                  "--out", str(out), "--rubric", str(rubric), "--cycle", CYCLE, "--jobs", "1",
                  "--quiet")
    assert result.exit_code == 0, result.output
    return out


# -- the Classroom-shaped rubric ---------------------------------------------------------

CC_IDS = [f"CC{d}.{n}" for d in (1, 2, 3) for n in (1, 2, 3, 4)]
CC_LABELS = ("Beginning", "Building", "Strong", "Leading")
CC_VALUES = {
    # 101: every indicator rated, the levels cycling 1, 2, 3, 4, 1, ...
    "101": {f"rating_{i.replace('.', '_')}": CC_LABELS[k % 4] for k, i in enumerate(CC_IDS)}
    | {"evidence_CC2_3": "Planned assignments in every unit", "priority_CC2_3": "High"},
    # 102: two ratings, typed the way people type them.
    "102": {"rating_CC2_3": " strong ", "rating_CC3_1": 4},
    # 103: nothing rated at all.
    "103": {"evidence_CC1_1": "We have not started yet"},
}


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    root = tmp_path_factory.mktemp("classroom")
    files, returns = _pipeline(root, CLASSROOM, CC_VALUES)
    return {"files": files, "returns": returns, "out": _consolidate(root, CLASSROOM, returns)}


def test_classroom_defined_names_point_at_their_rows(classroom):
    book = open_book(classroom["files"]["101"].read_bytes())
    assert book.sheetnames == ["Start Here", "CC1 Careers", "CC2 College and Training",
                               "CC3 Work and Life Skills", "Summary", "Glossary",
                               "_workbook_tool"]
    names = {name: book.defined_names[name].attr_text
             for name in ("rating_CC1_1", "rating_CC2_3", "evidence_CC3_4", "priority_CC1_4")}
    assert names == {"rating_CC1_1": "'CC1 Careers'!$G$4",
                     "rating_CC2_3": "'CC2 College and Training'!$G$6",
                     "evidence_CC3_4": "'CC3 Work and Life Skills'!$H$7",
                     "priority_CC1_4": "'CC1 Careers'!$J$7"}
    # The row a name points at is its indicator's row: same id, same (repeated) title.
    sheet = book["CC2 College and Training"]
    assert [sheet["A6"].value, sheet["B6"].value] == ["CC2.3", "Preparation"]
    sheet = book["CC3 Work and Life Skills"]
    assert [sheet["A7"].value, sheet["B7"].value] == ["CC3.4", "Participation"]


def test_classroom_returns_pass_check(classroom):
    paths = [str(classroom["returns"] / f"{school}.xlsx") for school in ("101", "102", "103")]
    result = _run("check", *paths, "--rubric", str(CLASSROOM))
    assert result.exit_code == 0, result.output
    assert "REJECTED" not in result.output


def test_classroom_returns_are_accepted(classroom):
    rows = {r["school_id"]: r for r in _csv(classroom["out"] / "returns.csv")}
    assert {k: (r["status"], r["rated"], r["total"]) for k, r in rows.items()} == {
        "101": ("accepted", "12", "12"), "102": ("accepted_with_warnings", "2", "12"),
        "103": ("accepted_with_warnings", "0", "12"), "104": ("missing", "", ""),
        "105": ("missing", "", "")}
    problems = [(Path(r["file"]).name, r["sheet"], r["cell"], r["code"], r["message"])
                for r in _csv(classroom["out"] / "problems.csv")]
    assert problems == [
        ("102.xlsx", "CC2 College and Training", "G6", "normalized-rating",
         'the rating of CC2.3 " strong " was read as 3 (Strong)'),
        ("102.xlsx", "CC3 Work and Life Skills", "G4", "normalized-rating",
         'the rating of CC3.1 "4" was read as 4 (Leading)'),
        ("102.xlsx", "", "", "unrated", "10 of 12 indicators are not rated: CC1.1, CC1.2, "
         "CC1.3, CC1.4, CC2.1, CC2.2, CC2.4, CC3.2, CC3.3, CC3.4"),
        ("103.xlsx", "", "", "unrated", "12 of 12 indicators are not rated: CC1.1, CC1.2, "
         "CC1.3, CC1.4, CC2.1, CC2.2, CC2.3, CC2.4, CC3.1, CC3.2, …"),
    ]


def test_classroom_ratings_rows_keep_ids_and_repeated_titles(classroom):
    rows = _csv(classroom["out"] / "ratings.csv")
    assert len(rows) == 3 * 12
    ids = [r["indicator_id"] for r in rows if r["school_id"] == "101"]
    assert ids == CC_IDS
    titles = [r["indicator"] for r in rows if r["school_id"] == "101"]
    assert titles == ["Awareness", "Exploration", "Preparation", "Participation"] * 3
    picked = [(r["school_id"], r["domain_id"], r["indicator_id"], r["indicator"], r["level"],
               r["label"], r["evidence"], r["priority"])
              for r in rows if r["indicator_id"] in ("CC2.3", "CC3.1")]
    assert picked == [
        ("101", "CC2", "CC2.3", "Preparation", "3", "Strong",
         "Planned assignments in every unit", "High"),
        ("101", "CC3", "CC3.1", "Awareness", "1", "Beginning", "", ""),
        ("102", "CC2", "CC2.3", "Preparation", "3", "Strong", "", ""),
        ("102", "CC3", "CC3.1", "Awareness", "4", "Leading", "", ""),
        ("103", "CC2", "CC2.3", "Preparation", "", "", "", ""),
        ("103", "CC3", "CC3.1", "Awareness", "", "", "", ""),
    ]


def test_classroom_domains_can_be_chosen_by_id(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    result = _run("generate", str(roster), "--out", str(tmp_path / "wb"), "--rubric",
                  str(CLASSROOM), "--domains", "cc2,CC3", "--jobs", "1")
    assert result.exit_code == 0, result.output
    made = sorted((tmp_path / "wb").glob("101_*.xlsx"))[0]
    assert open_book(made.read_bytes()).sheetnames[1:3] == [
        "CC2 College and Training", "CC3 Work and Life Skills"]


# -- the certification rubric -------------------------------------------------------------

def _ratings(*labels: str | None) -> dict[str, object]:
    ids = ("1_1", "1_2", "1_3", "2_1", "2_2", "2_3")
    return {f"rating_{i}": label for i, label in zip(ids, labels, strict=True) if label}


# Points (Not Yet 0, Started 1, In Place 2, Model 3; maximum 18): 101 scores 18 (Gold),
# 102 14 (Gold, exactly on its min_points), 103 6 of 3 rated (Bronze, exactly on its
# min_points: a partial return), 105 5 (below every tier).
CERT_VALUES = {
    "101": _ratings("Model", "Model", "Model", "Model", "Model", "Model"),
    "102": _ratings("Model", "Model", "In Place", "Model", "Not Yet", "Model"),
    "103": _ratings("In Place", "Model", None, "Started", None, None),
    "105": _ratings("Started", "Started", "Not Yet", "Started", "Started", "Started"),
}


@pytest.fixture(scope="module")
def certification(tmp_path_factory):
    root = tmp_path_factory.mktemp("certification")
    files, returns = _pipeline(root, CERTIFICATION, CERT_VALUES)
    return {"files": files, "returns": returns,
            "out": _consolidate(root, CERTIFICATION, returns)}


def test_certification_returns_are_accepted(certification):
    rows = {r["school_id"]: r for r in _csv(certification["out"] / "returns.csv")}
    assert {k: (r["status"], r["rated"], r["total"]) for k, r in rows.items()} == {
        "101": ("accepted", "6", "6"), "102": ("accepted", "6", "6"),
        "103": ("accepted_with_warnings", "3", "6"), "104": ("missing", "", ""),
        "105": ("accepted", "6", "6")}


def test_certification_ratings(certification):
    rows = _csv(certification["out"] / "ratings.csv")
    levels = {}
    for r in rows:
        levels.setdefault(r["school_id"], []).append(r["level"])
    assert levels == {"101": ["4"] * 6, "102": ["4", "4", "3", "4", "1", "4"],
                      "103": ["3", "4", "", "2", "", ""],
                      "105": ["2", "2", "1", "2", "2", "2"]}


def test_certification_returns_pass_check(certification):
    paths = [str(certification["returns"] / f"{school}.xlsx")
             for school in ("101", "102", "103", "105")]
    result = _run("check", *paths, "--rubric", str(CERTIFICATION))
    assert result.exit_code == 0, result.output


def test_certification_scores(certification):
    rows = _csv(certification["out"] / "scores.csv")
    assert [(r["school_id"], r["points"], r["max_points"], r["rated"], r["total"], r["tier"])
            for r in rows] == [("101", "18", "18", "6", "6", "Gold"),
                               ("102", "14", "18", "6", "6", "Gold"),
                               ("103", "6", "18", "3", "6", "Bronze"),
                               ("105", "5", "18", "6", "6", "")]


# -- letter-prefixed domain ids in the loader ---------------------------------------------

def _small_with_ids(tmp_path: Path, domain_id: str, indicator_id: str) -> Path:
    data = yaml.safe_load((DATA / "small_rubric.yaml").read_text("utf-8"))
    data["domains"][1]["id"] = domain_id
    for k, ind in enumerate(data["domains"][1]["sections"][0]["indicators"], 1):
        ind["id"] = indicator_id.replace("N", str(k))
    path = tmp_path / "ids.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("domain_id", ["CC2", "ABCD12", "2", "LD2", "Z9"])
def test_domain_ids_with_up_to_four_capitals(tmp_path, domain_id):
    result = _run("rubric", "check", str(_small_with_ids(tmp_path, domain_id, f"{domain_id}.N")))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("domain_id, indicator_id, problem", [
    ("cc2", "cc2.N", "domains[1].id: 'cc2' must be digits, optionally after up to 4 capital "
                     "letters not starting with D (1, 12, CC1)"),
    ("ABCDE2", "ABCDE2.N", "domains[1].id: 'ABCDE2' must be digits, optionally after up to 4 "
                           "capital letters not starting with D (1, 12, CC1)"),
    ("CC", "CC.N", "domains[1].id: 'CC' must be digits, optionally after up to 4 capital "
                   "letters not starting with D (1, 12, CC1)"),
    ("C-2", "C-2.N", "domains[1].id: 'C-2' must be digits, optionally after up to 4 capital "
                     "letters not starting with D (1, 12, CC1)"),
    ("2C", "2C.N", "domains[1].id: '2C' must be digits, optionally after up to 4 capital "
                   "letters not starting with D (1, 12, CC1)"),
    ("D2", "D2.N", "domains[1].id: 'D2' must be digits, optionally after up to 4 capital "
                   "letters not starting with D (1, 12, CC1)"),
    ("DL2", "DL2.N", "domains[1].id: 'DL2' must be digits, optionally after up to 4 capital "
                     "letters not starting with D (1, 12, CC1)"),
    ("CC2", "2.N", "domains[1].sections[0].indicators[0].id: '2.1' must be 'CC2.<number>'"),
])
def test_bad_domain_ids(tmp_path, domain_id, indicator_id, problem):
    result = _run("rubric", "check", str(_small_with_ids(tmp_path, domain_id, indicator_id)))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"ids.yaml: {problem}"


def test_classroom_team_workbook(classroom, tmp_path):
    """Rater cells are named from the letter-prefixed ids too (rater_2_CC2_3)."""
    ana = classroom["returns"] / "101.xlsx"
    ben = tmp_path / "ben.xlsx"
    ben.write_bytes(fill(ana.read_bytes(), {"rating_CC2_3": "Beginning", "completed_by": "Ben"}))
    team = tmp_path / "team.xlsx"
    result = _run("team", str(ana), str(ben), "--out", str(team), "--rubric", str(CLASSROOM))
    assert result.exit_code == 0, result.output
    assert "Discuss first (1 indicators two levels or more apart): CC2.3 (ratings 3;1)." in (
        result.stdout)
    book = open_book(team.read_bytes())
    names = {name: book.defined_names[name].attr_text
             for name in ("rater_1_CC1_1", "rater_2_CC2_3", "agreement_note_CC3_4")}
    assert names == {"rater_1_CC1_1": "'Team ratings'!$C$7",
                     "rater_2_CC2_3": "'Team ratings'!$D$14",
                     "agreement_note_CC3_4": "'Team ratings'!$I$20"}
    sheet = book["Team ratings"]
    assert [sheet["A14"].value, sheet["B14"].value, sheet["D14"].value] == [
        "CC2.3", "Preparation", "Beginning"]
