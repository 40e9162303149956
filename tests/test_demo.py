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
        ("109", "accepted_with_warnings"), ("110", "accepted"), ("111", "accepted"),
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
