"""The public Python API, used as a district analyst would: `import workbook_tool as wt`.

Returns are built with tests/returns_kit.py (the real writer); everything else goes through
the names in `workbook_tool.__all__` only.
"""

from __future__ import annotations

import csv
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import workbook_tool as wt
from returns_kit import SMALL_RUBRIC, answers_for, make_return
from workbook_tool.cli import main

ROOT = Path(__file__).resolve().parents[1]
ROSTER = "school_id,school_name,network\nS1,Alpha School,North\nS2,Beta School,South\n" \
         "S3,Gamma School,North\n"


def school_returns(folder: Path, cycle: str = "2024-25") -> None:
    """S1 fully rated, S3 with 2.2 unrated, S2 never returns; a note beside them."""
    rubric = wt.load_rubric(SMALL_RUBRIC)
    schools = {s.school_id: s for s in wt.load_roster(folder.parent / "roster.csv")}
    folder.mkdir()
    full = answers_for(rubric)
    (folder / "S1.xlsx").write_bytes(make_return(rubric, schools["S1"], cycle, answers=full))
    partial = {k: v for k, v in full.items() if k != "2.2"}
    (folder / "S3.xlsx").write_bytes(make_return(rubric, schools["S3"], cycle,
                                                 answers=partial))
    (folder / "notes.txt").write_text("call Beta School\n", encoding="utf-8")


@pytest.fixture
def district(tmp_path, monkeypatch):
    """A working folder with roster.csv and returns/, as the current directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    school_returns(tmp_path / "returns")
    return tmp_path


# -- rubric, roster -------------------------------------------------------------------------

def test_load_rubric_default_and_file():
    assert wt.load_rubric().labels == ("Emerging", "Developing", "Advancing", "Transforming")
    small = wt.load_rubric(SMALL_RUBRIC)
    assert small.id == "small-test-rubric"
    assert [ind.id for ind in small.indicators] == ["1.1", "1.2", "1.3", "2.1", "2.2"]


def test_load_rubric_error_lists_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: 1\nid: x\n", encoding="utf-8")
    with pytest.raises(wt.RubricError) as caught:
        wt.load_rubric(bad)
    assert caught.value.problems  # one sentence per problem, as the CLI prints them


def test_load_roster_and_its_errors(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    schools = wt.load_roster(path)
    assert [(s.school_id, s.school_name, s.network) for s in schools] == [
        ("S1", "Alpha School", "North"), ("S2", "Beta School", "South"),
        ("S3", "Gamma School", "North")]
    path.write_text("school_id,school_name\nS1,A\nS1,B\n", encoding="utf-8")
    with pytest.raises(wt.RosterError) as caught:
        wt.load_roster(path)
    assert len(caught.value.problems) == 1
    assert "S1" in caught.value.problems[0]


# -- generate, check ------------------------------------------------------------------------

def test_generate_returns_the_manifest_rows(district):
    written = wt.generate_workbooks("roster.csv", "out", rubric=SMALL_RUBRIC, cycle="2024-25",
                          domains=["2"], jobs=1)
    assert [(w["school_id"], w["school_name"], w["file"]) for w in written] == [
        ("S1", "Alpha School", "S1_alpha-school.xlsx"),
        ("S2", "Beta School", "S2_beta-school.xlsx"),
        ("S3", "Gamma School", "S3_gamma-school.xlsx")]
    assert all(re.fullmatch("[0-9a-f]{64}", w["sha256"]) for w in written)
    with open("out/manifest.csv", newline="", encoding="utf-8") as f:
        assert [row["sha256"] for row in csv.DictReader(f)] == [w["sha256"] for w in written]
    fresh = wt.check_workbook("out/S2_beta-school.xlsx", rubric=SMALL_RUBRIC)
    assert (fresh.school_id, fresh.cycle, fresh.rated, fresh.total) == ("S2", "2024-25", 0, 2)
    assert [a["indicator_id"] for a in fresh.answers] == ["2.1", "2.2"]


def test_generate_refuses_bad_options_before_writing(district):
    with pytest.raises(ValueError, match="unknown domain 7"):
        wt.generate_workbooks("roster.csv", "out", rubric=SMALL_RUBRIC, domains=["7"])
    with pytest.raises(ValueError, match="from 2 to 8"):
        wt.generate_workbooks("roster.csv", "out", rubric=SMALL_RUBRIC, raters=9)
    with pytest.raises(ValueError, match="give cycle too"):
        wt.generate_workbooks("roster.csv", "out", rubric=SMALL_RUBRIC, prefill="history.sqlite")
    assert not Path("out").exists()


def test_check_gives_answers_and_typed_problems(district):
    found = wt.check_workbook("returns/S3.xlsx", rubric=SMALL_RUBRIC)
    assert (found.file, found.school_id, found.school_name, found.cycle) == (
        "returns/S3.xlsx", "S3", "Gamma School", "2024-25")
    assert (found.ok, found.rated, found.total, found.errors, found.warnings) == (
        True, 4, 5, 0, 1)
    assert found.answers[0] == {"indicator_id": "1.1", "level": 1, "label": "Beginning",
                                "evidence": "Evidence for 1.1", "next_steps": "Next for 1.1",
                                "priority": "High"}
    assert found.answers[4]["level"] is None
    assert found.problems == [wt.Problem(
        file="returns/S3.xlsx", code="unrated", severity="warning", school_id="S3",
        message="1 of 5 indicators is not rated: 2.2")]


def test_check_a_file_that_is_not_a_workbook(district):
    Path("notes.xlsx").write_text("not a workbook", encoding="utf-8")
    found = wt.check_workbook("notes.xlsx")
    assert (found.ok, found.errors, found.rated) == (False, 1, 0)
    assert [(p.code, p.severity) for p in found.problems] == [("not-xlsx", "error")]


# -- consolidate ----------------------------------------------------------------------------

def test_consolidate_in_memory_writes_nothing(district):
    before = sorted(p.name for p in district.iterdir())
    result = wt.consolidate_returns("returns", roster="roster.csv", rubric=SMALL_RUBRIC, jobs=1)
    assert sorted(p.name for p in district.iterdir()) == before
    assert result.outputs == {}
    assert result.cycle == ""
    assert result.labels == ("Beginning", "Growing", "Strong Practice")
    assert result.counts == {"accepted": 1, "accepted_with_warnings": 1, "rejected": 0,
                             "duplicate": 0, "conflict": 0, "missing": 1}
    assert [(r["school_id"], r["file"], r["status"], r["rated"], r["total"], r["warnings"])
            for r in result.returns] == [
        ("S1", "returns/S1.xlsx", "accepted", 5, 5, 0),
        ("S3", "returns/S3.xlsx", "accepted_with_warnings", 4, 5, 1),
        ("S2", "", "missing", None, None, None)]
    assert [(p.school_id, p.code) for p in result.problems] == [("S3", "unrated")]
    assert len(result.ratings) == 10
    assert result.ratings[0] == {
        "school_id": "S1", "school_name": "Alpha School", "network": "North",
        "cycle": "2024-25", "domain_id": "1", "indicator_id": "1.1",
        "indicator": "Shared vision", "level": 1, "label": "Beginning",
        "evidence": "Evidence for 1.1", "next_steps": "Next for 1.1", "priority": "High",
        "source_file": "returns/S1.xlsx", "previous_level": None, "review": "",
        "followup": ""}
    assert [(r["school_id"], r["indicator_id"], r["level"], r["label"])
            for r in result.ratings[7:]] == [
        ("S3", "1.3", 3, "Strong Practice"), ("S3", "2.1", 1, "Beginning"),
        ("S3", "2.2", None, "")]


def test_consolidate_with_out_writes_what_the_cli_writes(district):
    result = wt.consolidate_returns(["returns"], roster=wt.load_roster("roster.csv"),
                            rubric=wt.load_rubric(SMALL_RUBRIC), out="summary",
                            cycle="2024-25", jobs=1)
    assert sorted(result.outputs) == ["district_report.html", "district_summary.xlsx",
                                      "problems.csv", "ratings.csv", "ratings.parquet",
                                      "returns.csv"]
    assert all(path.is_file() for path in result.outputs.values())
    with open("summary/returns.csv", newline="", encoding="utf-8") as f:
        assert [row["status"] for row in csv.DictReader(f)] == [
            "accepted", "accepted_with_warnings", "missing"]


def test_consolidate_refuses_an_output_folder_inside_the_returns(district):
    with pytest.raises(ValueError, match="inside the input folder"):
        wt.consolidate_returns("returns", roster="roster.csv", rubric=SMALL_RUBRIC,
                       out="returns/summary")


def test_consolidate_several_cycles_needs_a_cycle(district):
    rubric = wt.load_rubric(SMALL_RUBRIC)
    school = wt.load_roster("roster.csv")[1]
    Path("returns/S2-old.xlsx").write_bytes(make_return(rubric, school, "2023-24"))
    with pytest.raises(wt.NothingDone, match="2 cycles"):
        wt.consolidate_returns("returns", roster="roster.csv", rubric=rubric, jobs=1)
    result = wt.consolidate_returns("returns", roster="roster.csv", rubric=rubric, cycle="2024-25",
                            jobs=1)
    assert [(r["school_id"], r["status"]) for r in result.returns] == [
        ("S1", "accepted"), ("S2", "rejected"), ("S3", "accepted_with_warnings")]


# -- the history store ----------------------------------------------------------------------

def test_history_records_and_reads_two_cycles(district):
    for cycle in ("2023-24", "2024-25"):
        shutil.rmtree("returns")
        school_returns(district / "returns", cycle)
        wt.consolidate_returns("returns", roster="roster.csv", rubric=SMALL_RUBRIC,
                               out=f"out-{cycle}", cycle=cycle, history="history.sqlite",
                               jobs=1)
    history = wt.read_history("history.sqlite")
    assert [(c["cycle"], c["rubric_id"], c["schools_accepted"], c["returns"])
            for c in history.cycles] == [("2023-24", "small-test-rubric", 2, 2),
                                         ("2024-25", "small-test-rubric", 2, 2)]
    assert len(history.ratings) == 20
    assert [(r["cycle"], r["school_id"], r["indicator_id"], r["level"])
            for r in history.ratings[9:11]] == [("2023-24", "S3", "2.2", None),
                                                ("2024-25", "S1", "1.1", 1)]
    assert [(r["cycle"], r["school_id"], r["status"], r["rated"]) for r in history.returns] == [
        ("2023-24", "S1", "accepted", 5), ("2023-24", "S3", "accepted_with_warnings", 4),
        ("2023-24", "S2", "missing", None), ("2024-25", "S1", "accepted", 5),
        ("2024-25", "S3", "accepted_with_warnings", 4), ("2024-25", "S2", "missing", None)]


def test_history_needs_out_and_cycle(district):
    with pytest.raises(ValueError, match="give out and cycle too"):
        wt.consolidate_returns("returns", roster="roster.csv", history="history.sqlite")
    with pytest.raises(ValueError, match="give out and cycle too"):
        wt.consolidate_returns("returns", roster="roster.csv", out="out", history="history.sqlite")
    assert not Path("history.sqlite").exists()
    with pytest.raises(wt.NothingDone, match="no history store"):
        wt.read_history("history.sqlite")


# -- the CLI and the API agree --------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "output" / "demo"
    ran = CliRunner().invoke(main, ["demo", "--out", str(out), "--quiet"])
    assert ran.exit_code == 0, ran.output
    return out


def _csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _as_csv(rows: list[dict]) -> list[dict]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def test_cli_and_api_give_the_same_results_on_the_demo(demo):
    result = wt.consolidate_returns(demo / "returns", roster=ROOT / "samples" / "roster.csv",
                            cycle="2026-27", jobs=1)
    cli_returns = _csv_rows(demo / "summary" / "returns.csv")
    cli_ratings = _csv_rows(demo / "summary" / "ratings.csv")
    assert _as_csv(result.returns) == cli_returns
    assert _as_csv(result.ratings) == cli_ratings
    assert len(cli_ratings) == 280  # 10 accepted returns of 28 indicators
    assert [(p.file, p.code) for p in result.problems] == [
        (row["file"], row["code"]) for row in _csv_rows(demo / "summary" / "problems.csv")]
    assert result.counts == {"accepted": 5, "accepted_with_warnings": 5, "rejected": 1,
                             "duplicate": 1, "conflict": 0, "missing": 1}


# -- the README example and the reference ---------------------------------------------------

def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use from Python", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs(demo, monkeypatch, capsys):
    pytest.importorskip("pandas")
    folder = demo.parent.parent  # holds output/demo, as after `workbook-tool demo`
    (folder / "samples").mkdir(exist_ok=True)
    shutil.copy(ROOT / "samples" / "roster.csv", folder / "samples" / "roster.csv")
    monkeypatch.chdir(folder)
    exec(compile(readme_example(), "README.md", "exec"), {"__name__": "readme"})
    shown = capsys.readouterr().out
    assert "{'accepted': 5, 'accepted_with_warnings': 5, 'rejected': 1" in shown
    assert "['2025-26', '2026-27']" in shown
    assert "101 2\n" in shown


def documented_signatures() -> dict[str, str]:
    """`name(...)` lines of the ```python blocks in docs/api.md, by name."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    found = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        for line in block.split("\n"):
            match = re.match(r"(?:wt\.)?([A-Za-z_][\w.]*)(\(.*\).*)$", line.strip())
            if match:
                found[match.group(1)] = match.group(2)
    return found


def _public_callables() -> dict[str, object]:
    out = {}
    for name in wt.__all__:
        value = getattr(wt, name)
        if inspect.isfunction(value):
            out[name] = value
        elif name in ("Consolidated", "History"):
            for method in ("ratings_frame", "returns_frame", "problems_frame"):
                if hasattr(value, method):
                    out[f"{name}.{method}"] = getattr(value, method)
    return out


def test_api_reference_matches_the_real_signatures():
    documented = documented_signatures()
    real = _public_callables()
    assert sorted(documented) == sorted(real)  # none missing, none stale
    for name, function in real.items():
        signature = str(inspect.signature(function)).replace("'", "")
        assert documented[name] == signature, name
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for name in wt.__all__:
        assert f"`{name}`" in text or f"{name}(" in text, name


def test_public_names_are_the_documented_few():
    assert sorted(wt.__all__) == [
        "CheckResult", "Consolidated", "History", "NothingDone", "Problem", "RosterError",
        "RubricError", "__version__", "check_workbook", "consolidate_returns",
        "generate_workbooks", "load_roster", "load_rubric", "read_history"]
    for name in wt.__all__:
        assert getattr(wt, name) is not None
    with pytest.raises(AttributeError):
        _ = wt.run_consolidation
    # A public name that is also a module of the package would be replaced by that module
    # as soon as it is imported (as `from workbook_tool import consolidate` does).
    modules = {p.stem for p in (ROOT / "src" / "workbook_tool").iterdir()}
    assert not modules & set(wt.__all__)


# -- import time ----------------------------------------------------------------------------

def test_import_loads_no_heavy_library():
    code = ("import sys, workbook_tool; heavy = ['pandas', 'pyarrow', 'xlsxwriter', "
            "'python_calamine', 'yaml']; print([m for m in heavy if m in sys.modules])")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=env).stdout
    assert shown.strip() == "[]"
