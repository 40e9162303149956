"""Next year's workbooks from the history store: `generate --prefill`, then the untouched
prefilled return read back (carried-forward), all through the CLI."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner

from returns_kit import SMALL_RUBRIC, answer, consolidate_cli, csv_rows, make_return, named_cell
from workbook_tool.cli import main

ROSTER = "school_id,school_name\nS1,Alpha School\nS2,Beta School\n"
LAST = {"1.1": answer("1.1", 3, "Plan on file", "Write the vision", "High"),
        "1.2": answer("1.2", 1, "", "", "Low")}


def recorded_store(tmp_path):
    """A store holding cycle 2024-25: S1 returned (1.1 Strong Practice, 1.2 Beginning)."""
    store = tmp_path / "history.sqlite"
    result, _out = consolidate_cli(
        tmp_path / "last", {"s1.xlsx": make_return(cycle="2024-25", answers=LAST)}, ROSTER,
        "--cycle", "2024-25", "--history", str(store))
    assert result.exit_code == 0, result.output
    return store


def generate(tmp_path, *extra: str):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "next"
    result = CliRunner().invoke(main, ["generate", str(roster), "--out", str(out), "--rubric",
                                       str(SMALL_RUBRIC), "--jobs", "1", *extra])
    return result, out


def test_generate_prefills_the_schools_the_store_holds(tmp_path):
    store = recorded_store(tmp_path)
    result, out = generate(tmp_path, "--cycle", "2025-26", "--prefill", str(store))
    assert result.exit_code == 0, result.output
    assert result.output == (f"Wrote 2 workbooks, 1 of them prefilled from the history store "
                             f"and manifest.csv to {out}\n")
    s1 = openpyxl.load_workbook(out / "S1_alpha-school.xlsx")
    sheet = s1["D1 Leadership"]
    assert [sheet[ref].value for ref in ("F4", "G4", "H4", "I4", "J4", "K4", "L4", "M4")] == [
        "Strong Practice", "Plan on file", "Write the vision", "High", "Strong Practice",
        "Write the vision", None, "Carried forward"]
    s2 = openpyxl.load_workbook(out / "S2_beta-school.xlsx")
    assert "review_1_1" not in s2.defined_names
    assert s2["D1 Leadership"]["F4"].value is None


def test_the_untouched_prefilled_return_warns_carried_forward(tmp_path):
    store = recorded_store(tmp_path)
    _result, out = generate(tmp_path, "--cycle", "2025-26", "--prefill", str(store))
    data = (out / "S1_alpha-school.xlsx").read_bytes()
    assert named_cell(data, "review_1_2") == ("D1 Leadership", "M5")
    result, summary = consolidate_cli(tmp_path / "now", {"s1.xlsx": data}, ROSTER,
                                      "--cycle", "2025-26", "--history", str(store))
    assert result.exit_code == 0, result.output
    problems = [(r["code"], r["message"]) for r in csv_rows(summary / "problems.csv")
                if r["code"] == "carried-forward"]
    assert problems == [(
        "carried-forward",
        '2 of 5 ratings are still last cycle\'s (2024-25) with Review still "Carried '
        'forward": 1.1, 1.2; they count as this cycle\'s ratings (set Review to "Reviewed" '
        "once the team has looked again)")]
    rows = csv_rows(summary / "ratings.csv")
    assert [(r["indicator_id"], r["level"], r["previous_level"], r["review"])
            for r in rows][:3] == [
        ("1.1", "3", "3", "Carried forward"), ("1.2", "1", "1", "Carried forward"),
        ("1.3", "", "", "Carried forward")]  # unrated then: nothing carried, not reviewed


def test_prefill_needs_a_cycle_and_prefill_cycle_needs_a_store(tmp_path):
    store = recorded_store(tmp_path)
    result, _out = generate(tmp_path, "--prefill", str(store))
    assert result.exit_code == 2
    assert result.output == ("Error: --prefill carries an earlier cycle into a new one: give "
                             "--cycle too, e.g. --cycle 2027-28\n")
    result, _out = generate(tmp_path, "--cycle", "2025-26", "--prefill-cycle", "2024-25")
    assert result.exit_code == 2
    assert result.output == ("Error: --prefill-cycle chooses a cycle of a history store: give "
                             "--prefill STORE too\n")


def test_a_file_that_is_no_store_is_refused_and_nothing_written(tmp_path):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_bytes(b"these are my notes, not a database" * 40)
    result, out = generate(tmp_path, "--cycle", "2025-26", "--prefill", str(bogus))
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert not out.exists()
    assert bogus.read_bytes() == b"these are my notes, not a database" * 40
