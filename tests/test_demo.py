"""The demo shows a newcomer the whole loop, a messy returns folder included."""

from __future__ import annotations

import csv

import openpyxl
from click.testing import CliRunner

from workbook_tool.cli import main


def test_demo_statuses_and_files_not_read(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out / "summary" / "returns.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    statuses = [(r["school_id"], r["status"]) for r in rows]
    assert statuses == [
        ("101", "accepted"), ("102", "accepted"), ("103", "accepted"),
        ("104", "accepted_with_warnings"), ("105", "accepted_with_warnings"),
        ("106", "accepted_with_warnings"), ("107", "accepted"), ("108", "rejected"),
        ("109", "accepted_with_warnings"), ("110", "accepted_with_warnings"),
        ("111", "accepted"),
        ("107", "duplicate"), ("112", "missing"),
    ]
    inside = "!resent/107_dr-martin-luther-king-jr-high-school.xlsx"
    assert rows[11]["file"] == str(out / "returns" / "late-returns.zip") + inside
    assert "skipped 1 file(s): " in result.output
    assert "~$101_lincoln-high-school.xlsx (lock file)" in result.output
    assert "notes from the schools.txt" in result.output
    overview = openpyxl.load_workbook(out / "summary" / "district_summary.xlsx")["Overview"]
    texts = {str(c.value) for row in overview.iter_rows() for c in row if c.value is not None}
    assert any(t.endswith("notes from the schools.txt") for t in texts)
    assert any(t.endswith("~$101_lincoln-high-school.xlsx") for t in texts)


def test_demo_has_a_school_rating_as_a_team(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "School 103 rated as a team of 3" in result.output
    members = sorted(p.name for p in (out / "team" / "members").iterdir())
    assert members == ["103_aisha.xlsx", "103_james.xlsx", "103_maria.xlsx"]
    gathered = openpyxl.load_workbook(out / "team" / "103_team.xlsx")
    names = [gathered.defined_names[f"rater_name_{k}"] for k in (1, 2, 3)]
    shown = []
    for name in names:
        sheet, ref = next(name.destinations)
        shown.append(gathered[sheet][ref.replace("$", "")].value)
    assert shown == ["Maria Lopez", "James Chen", "Aisha Patel"]

    with open(out / "summary" / "agreement.csv", encoding="utf-8", newline="") as f:
        rows = {r["indicator_id"]: r for r in csv.DictReader(f)}
    assert len(rows) == 28 and {r["school_id"] for r in rows.values()} == {"103"}
    flagged = [i for i, r in rows.items() if r["flagged"] == "1"]
    assert flagged == ["1.3"]
    assert (rows["1.3"]["ratings"], rows["1.3"]["median"], rows["1.3"]["agreed_level"]) == \
        ("1;3;2", "2", "2")
    assert (rows["2.1"]["ratings"], rows["2.1"]["agreed_level"]) == ("2;2;2", "3")
    assert rows["2.1"]["agreement_note"].startswith("The raters had not seen the spring")
    with open(out / "summary" / "problems.csv", encoding="utf-8", newline="") as f:
        assert not [r for r in csv.DictReader(f) if r["school_id"] == "103"]
    summary = openpyxl.load_workbook(out / "summary" / "district_summary.xlsx")
    assert "Agreement" in summary.sheetnames


def test_demo_runs_two_cycles_with_a_history_store(tmp_path):
    import sqlite3

    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "11 prefilled with last cycle's answers; school 111 is new" in result.output
    with sqlite3.connect(out / "history.sqlite") as con:
        cycles = con.execute("SELECT cycle, schools_accepted, returns FROM cycles "
                             "ORDER BY recorded_at").fetchall()
    assert cycles == [("2025-26", 11, 11), ("2026-27", 10, 12)]
    books = out / "workbooks"
    new = openpyxl.load_workbook(books / "111_westside-international-newcomer-high-school.xlsx")
    assert "review_1_1" not in new.defined_names
    carried = openpyxl.load_workbook(books / "110_eastlake-public-service-law-academy.xlsx")
    assert "review_1_1" in carried.defined_names
    with open(out / "summary" / "problems.csv", encoding="utf-8", newline="") as f:
        warned = [(r["school_id"], r["message"][:39]) for r in csv.DictReader(f)
                  if r["code"] == "carried-forward"]
    assert warned == [("110", "14 of 28 ratings are still last cycle's")]
    summary = openpyxl.load_workbook(out / "summary" / "district_summary.xlsx")
    trends = summary["Trends"]
    assert trends["A1"].value == "Trends: 2025-26 to 2026-27"
    rows = [[c.value for c in row[:7]] for row in trends.iter_rows()]
    dropped = rows.index(["Dropped a level or more", None, None, None, None, None, None])
    slipped = [r for r in rows[dropped + 2:] if r[0] == "105"]
    assert len(slipped) >= 10 and {r[6] for r in slipped} == {-1}


def test_demo_scores_the_sample_schools_on_the_example_certification(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = out / "certification" / "summary"
    with open(summary / "scores.csv", encoding="utf-8", newline="") as f:
        scores = {r["school_id"]: r for r in csv.DictReader(f)}
    with open(summary / "ratings.csv", encoding="utf-8", newline="") as f:
        ratings = list(csv.DictReader(f))
    # The example's points: Not Yet 0, Started 1, In Place 2, Model 3 (level - 1); tiers
    # Bronze from 6, Silver from 10, Gold from 14; 6 indicators, at most 18.
    totals: dict[str, int] = {}
    for row in ratings:
        totals[row["school_id"]] = totals.get(row["school_id"], 0) + int(row["level"]) - 1
    assert len(scores) == 12
    for school_id, total in totals.items():
        tier = next((name for name, least in (("Gold", 14), ("Silver", 10), ("Bronze", 6))
                     if total >= least), "")
        row = scores[school_id]
        assert (row["points"], row["max_points"], row["rated"], row["total"], row["tier"]) == (
            str(total), "18", "6", "6", tier), school_id
    assert "Points and tiers: the example rubric Example Pathway Certification" in result.output
    assert "2 Gold, 4 Silver, 2 Bronze, 4 below every tier" in result.output
