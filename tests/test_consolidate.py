"""End to end through the CLI: generate, fill like site teams do, check, consolidate."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from excel_like import fill, insert_rows, open_book, rename_sheet, save, target
from workbook_tool.cli import main
from workbook_tool.consolidate import RATINGS_COLUMNS, RETURNS_COLUMNS

CYCLE = "2026-27"
ROSTER = (
    "school_id,school_name,network\n"
    "101,Lincoln High School,North\n"
    "102,O'Keefe Academy / Arts,South\n"
    "103,École Saint-Éxupéry,North\n"
    "104,Harbor View,West\n"
    "105,Oak Grove,East\n"
    "106,Never Returned High,East\n"
)
HOSTILE = '=HYPERLINK("http://evil.example","click")'
RICH_LOOKING = "<r><t>not markup</t></r>"  # xlsxwriter would copy this into XML unescaped


def _all_ratings(rubric, label="Advancing"):
    return {f"rating_{i.name_suffix}": label for i in rubric.indicators}


@pytest.fixture(scope="module")
def district(tmp_path_factory, rubric):
    """A roster, generated workbooks and a folder of returns covering every case."""
    root = tmp_path_factory.mktemp("district")
    roster = root / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = root / "workbooks"
    result = CliRunner().invoke(main, ["generate", str(roster), "--out", str(out),
                                       "--cycle", CYCLE, "--jobs", "1"])
    assert result.exit_code == 0, result.output
    files = {row["school_id"]: out / row["file"] for row in _csv(out / "manifest.csv")}
    returns = root / "returns"
    (returns / "north").mkdir(parents=True)
    (returns / "south").mkdir()

    # 101: complete, with Unicode and formula-looking evidence; plus an identical copy.
    values = _all_ratings(rubric)
    values.update({"evidence_1_1": HOSTILE, "next_steps_1_1": "Réunion d'équipe 👩‍🏫\nsuite",
                   "priority_1_1": "High", "evidence_1_2": "@SUM(1)",
                   "next_steps_1_2": "+cmd|' /C calc'!A0", "evidence_1_3": RICH_LOOKING,
                   "next_steps_1_3": RICH_LOOKING, "priority_1_3": "High"})
    full = fill(files["101"].read_bytes(), values)
    (returns / "north" / "101.xlsx").write_bytes(full)
    (returns / "north" / "101 (copy).xlsx").write_bytes(full)

    # 102: partial and normalised ratings, a row inserted and a sheet renamed like Excel.
    book = open_book(files["102"].read_bytes())
    insert_rows(book, "D1 Leadership", 4, 2)
    rename_sheet(book, "D2 Equity & Access", "Equity (ours)")
    target(book, "rating_1_1").value = " advancing "
    target(book, "rating_1_2").value = "3 - Advancing"
    target(book, "rating_1_3").value = 2
    target(book, "rating_2_1").value = "Transforming"
    target(book, "evidence_2_1").value = "Inserted rows and renamed sheet"
    (returns / "south" / "102.xlsx").write_bytes(save(book))

    # 103: an invalid rating: rejected.
    bad = _all_ratings(rubric)
    bad["rating_3_2"] = "Advanced"
    (returns / "north" / "103.xlsx").write_bytes(fill(files["103"].read_bytes(), bad))

    # 104: two different returns: a conflict.
    (returns / "104-a.xlsx").write_bytes(fill(files["104"].read_bytes(), _all_ratings(rubric)))
    other = _all_ratings(rubric, "Emerging")
    (returns / "104-b.xlsx").write_bytes(fill(files["104"].read_bytes(), other))

    # 105 arrives in a zip with a lock file and a stray note.
    archive = root / "late.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("batch/105.xlsx", fill(files["105"].read_bytes(), _all_ratings(rubric)))
        z.writestr("batch/~$105.xlsx", b"lock")
        z.writestr("batch/notes.txt", b"see you")

    # An unknown school: 101's workbook with the school id edited everywhere.
    unknown = open_book(fill(files["101"].read_bytes(), _all_ratings(rubric)))
    for row in unknown["_workbook_tool"].iter_rows():
        if row[0].value == "school_id":
            row[1].value = "999"
    target(unknown, "school_id").value = "999"
    for prop in unknown.custom_doc_props.props:
        if prop.name == "school_id":
            prop.value = "999"
    (returns / "stray.xlsx").write_bytes(save(unknown))
    (returns / ".~lock.stray.xlsx#").write_bytes(b"lock")
    (returns / "readme.txt").write_text("not a return")
    (returns / ".hidden.xlsx").write_bytes(b"hidden")
    return {"root": root, "roster": roster, "returns": returns, "archive": archive,
            "files": files}


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def consolidated(district):
    before = _hashes(district["root"])
    out = district["root"] / "summary"
    args = ["consolidate", str(district["returns"]), str(district["archive"]),
            "--roster", str(district["roster"]), "--out", str(out), "--cycle", CYCLE,
            "--json", "--jobs", "2"]
    result = CliRunner().invoke(main, args)
    after = {k: v for k, v in _hashes(district["root"]).items() if "/summary/" not in k}
    return {"result": result, "out": out, "before": before, "after": after,
            "report": json.loads(result.stdout)}


def _csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_exit_code_and_inputs_untouched(consolidated):
    assert consolidated["result"].exit_code == 1  # rejected and conflicting returns
    assert consolidated["before"] == consolidated["after"]


def test_returns_csv_statuses(consolidated, district):
    rows = _csv(consolidated["out"] / "returns.csv")
    assert list(rows[0]) == list(RETURNS_COLUMNS)
    by_file = {Path(r["file"]).name if "!" not in r["file"] else r["file"].split("/")[-1]: r
               for r in rows if r["file"]}
    copies = sorted([by_file["101.xlsx"]["status"], by_file["101 (copy).xlsx"]["status"]])
    assert copies == ["accepted", "duplicate"]
    assert by_file["102.xlsx"]["status"] == "accepted_with_warnings"
    assert by_file["103.xlsx"]["status"] == "rejected"
    assert by_file["104-a.xlsx"]["status"] == by_file["104-b.xlsx"]["status"] == "conflict"
    assert by_file["105.xlsx"]["status"] == "accepted"
    assert by_file["stray.xlsx"]["status"] == "rejected"
    missing = [r for r in rows if r["status"] == "missing"]
    assert [(r["school_id"], r["file"], r["sha256"]) for r in missing] == [("106", "", "")]
    zipped = [r for r in rows if "!" in r["file"]]
    assert zipped[0]["file"] == f"{district['archive']}!batch/105.xlsx"
    assert by_file["102.xlsx"]["rated"] == "4" and by_file["102.xlsx"]["total"] == "28"
    for row in rows:
        if row["file"] and "!" not in row["file"]:
            data = Path(row["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row["sha256"]


def test_problems_csv_codes(consolidated):
    rows = _csv(consolidated["out"] / "problems.csv")
    codes = {(Path(r["file"].split("!")[-1]).name, r["code"], r["severity"]) for r in rows}
    assert ("103.xlsx", "invalid-rating", "error") in codes
    assert ("102.xlsx", "normalized-rating", "warning") in codes
    assert ("102.xlsx", "unrated", "warning") in codes
    assert ("104-a.xlsx", "conflict", "error") in codes
    assert {c for c in codes if c[1] == "duplicate"} <= {
        ("101 (copy).xlsx", "duplicate", "warning"), ("101.xlsx", "duplicate", "warning")}
    assert len([r for r in rows if r["code"] == "duplicate"]) == 1
    assert ("stray.xlsx", "unknown-school", "error") in codes
    invalid = next(r for r in rows if r["code"] == "invalid-rating")
    assert invalid["sheet"].startswith("D3") and invalid["cell"]
    assert invalid["school_id"] == "103"
    normalized = [r for r in rows if r["code"] == "normalized-rating"]
    assert len(normalized) == 3  # one per cell


def test_ratings_csv_rows_and_injection_escaping(consolidated):
    rows = _csv(consolidated["out"] / "ratings.csv")
    assert list(rows[0]) == list(RATINGS_COLUMNS)
    schools = sorted({r["school_id"] for r in rows})
    assert schools == ["101", "102", "105"]
    assert len(rows) == 3 * 28
    first = next(r for r in rows if r["school_id"] == "101" and r["indicator_id"] == "1.1")
    assert first["evidence"] == "'" + HOSTILE
    assert first["next_steps"] == "Réunion d'équipe 👩‍🏫\nsuite"
    assert first["level"] == "3" and first["label"] == "Advancing"
    assert first["priority"] == "High" and first["cycle"] == CYCLE
    assert first["network"] == "North" and first["domain_id"] == "1"
    second = next(r for r in rows if r["school_id"] == "101" and r["indicator_id"] == "1.2")
    assert second["evidence"] == "'@SUM(1)" and second["next_steps"].startswith("'+cmd")
    renamed = {r["indicator_id"]: r for r in rows if r["school_id"] == "102"}
    assert renamed["1.1"]["label"] == "Advancing" and renamed["1.3"]["level"] == "2"
    assert renamed["2.1"]["evidence"] == "Inserted rows and renamed sheet"
    assert renamed["1.4"]["level"] == "" and renamed["1.4"]["label"] == ""


def test_summary_workbook_sheets_and_table(consolidated):
    book = openpyxl.load_workbook(consolidated["out"] / "district_summary.xlsx")
    for name in ("Overview", "Heatmap", "Indicators", "Domains", "Priorities", "Evidence",
                 "Returns", "Problems", "Data"):
        assert name in book.sheetnames
    data = book["Data"]
    table = data.tables["Ratings"]
    assert table.ref == f"A1:P{3 * 28 + 1}"
    assert [c.value for c in data[1]] == list(RATINGS_COLUMNS)
    evidence = [c for row in data.iter_rows() for c in row if c.value == HOSTILE]
    assert evidence and all(c.data_type == "s" for c in evidence)
    texts = {c.value for name in ("Priorities", "Evidence", "Data")
             for row in book[name].iter_rows() for c in row}
    assert RICH_LOOKING in texts
    returns = book["Returns"]
    assert [c.value for c in returns[1]] == list(RETURNS_COLUMNS)
    assert returns.max_row == 1 + 9  # 8 files and the missing school


def test_json_report(consolidated):
    report = consolidated["report"]
    assert report["counts"]["missing"] == 1 and report["counts"]["conflict"] == 2
    skipped = {Path(s["file"].split("!")[-1]).name: s["reason"] for s in report["skipped"]}
    assert skipped == {"~$105.xlsx": "lock file", ".~lock.stray.xlsx#": "lock file",
                       ".hidden.xlsx": "hidden file"}
    assert report["ignored"] == 2
    assert consolidated["result"].stderr == ""


def test_check_command(district, rubric):
    runner = CliRunner()
    good = district["returns"] / "north" / "101.xlsx"
    result = runner.invoke(main, ["check", str(good)])
    assert result.exit_code == 0, result.output
    assert "ready to send" in result.output or "ok" in result.output
    bad = district["returns"] / "north" / "103.xlsx"
    result = runner.invoke(main, ["check", str(bad)])
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "invalid-rating" in x)
    assert line.startswith(f"{bad}: D3") and "[error] invalid-rating:" in line
    assert "REJECTED" in result.output
    assert "\x1b[" not in result.output  # colour only on a terminal
    coloured = runner.invoke(main, ["check", str(bad)], color=True)
    assert "\x1b[31m" in coloured.output
    result = runner.invoke(main, ["check", str(bad), str(good), "--json"])
    shown = json.loads(result.stdout)
    assert [f["ok"] for f in shown["files"]] == [False, True]


def test_output_inside_input_is_refused(district):
    result = CliRunner().invoke(main, [
        "consolidate", str(district["returns"]), "--roster", str(district["roster"]),
        "--out", str(district["returns"] / "summary")])
    assert result.exit_code == 2
    assert "inside the input folder" in result.output
    assert not (district["returns"] / "summary").exists()


def test_wrong_cycle(district, tmp_path):
    shutil.copy(district["returns"] / "north" / "101.xlsx", tmp_path / "101.xlsx")
    result = CliRunner().invoke(main, [
        "consolidate", str(tmp_path / "101.xlsx"), "--roster", str(district["roster"]),
        "--out", str(tmp_path / "out"), "--cycle", "2030-31", "--json"])
    assert result.exit_code == 1
    codes = [p["code"] for p in json.loads(result.stdout)["problems"]]
    assert "wrong-cycle" in codes


def test_bad_roster_is_usage_error(district, tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text("name\nx\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["consolidate", str(district["returns"]), "--roster",
                                       str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "missing column school_id" in result.output
    assert not (tmp_path / "o").exists()


def test_demo_runs(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "1 rejected" in result.output and "1 missing" in result.output
    assert (tmp_path / "demo" / "summary" / "district_summary.xlsx").exists()
    assert len(list((tmp_path / "demo" / "workbooks").glob("*.xlsx"))) == 12


def test_parquet_export_when_pyarrow_is_installed(consolidated):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is optional")
    table = pq.read_table(consolidated["out"] / "ratings.parquet")
    assert table.column_names == list(RATINGS_COLUMNS)
    rows = table.to_pylist()
    assert len(rows) == 3 * 28
    first = next(r for r in rows if r["school_id"] == "101" and r["indicator_id"] == "1.1")
    assert first["evidence"] == HOSTILE  # typed data: no spreadsheet escaping needed
    assert first["level"] == 3
    unrated = next(r for r in rows if r["school_id"] == "102" and r["indicator_id"] == "1.4")
    assert unrated["level"] is None
