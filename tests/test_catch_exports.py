"""The tidy exports, read back with csv and pyarrow, against literal rows."""

from __future__ import annotations

import pytest

from returns_kit import answer, consolidate_cli, csv_rows, make_return, set_named_value
from workbook_tool.roster import School

ROSTER = "school_id,school_name,network\nS1,Alpha School,North\nS2,Beta School,South\n" \
         "S3,Gamma School,\n"
ANSWERS = {"1.1": answer("1.1", 3, "-1 point", "Plan", "High"),
           "1.2": answer("1.2", None, "Nothing yet", "", ""),
           "1.3": answer("1.3", 1, "", "", "Low"),
           "2.1": answer("2.1", 2, "Ev", "", "Medium"),
           "2.2": answer("2.2", 2, "", "Later", "")}
RATINGS = [
    ["S1", "Alpha School", "North", "2024-25", "1", "1.1", "Shared vision", "3",
     "Strong Practice", "'-1 point", "Plan", "High"],
    ["S1", "Alpha School", "North", "2024-25", "1", "1.2", "Resources", "", "",
     "Nothing yet", "", ""],
    ["S1", "Alpha School", "North", "2024-25", "1", "1.3", "Data use", "1", "Beginning",
     "", "", "Low"],
    ["S1", "Alpha School", "North", "2024-25", "2", "2.1", "Employer partners", "2",
     "Growing", "Ev", "", "Medium"],
    ["S1", "Alpha School", "North", "2024-25", "2", "2.2", "Family engagement", "2",
     "Growing", "", "Later", ""],
]


# Function scope on purpose: mutmut links a test to the code its fixtures run only when
# that test runs them, so a module-scoped fixture would hide this file from most mutants.
@pytest.fixture
def exports(tmp_path_factory):
    bad = set_named_value(make_return(school=School("S2", "Beta School"), answers=ANSWERS),
                          "rating_1_1", "Great")
    files = {"s1.xlsx": make_return(school=School("S1", "Alpha School"), answers=ANSWERS),
             "s2.xlsx": bad}
    result, out = consolidate_cli(tmp_path_factory.mktemp("exports"), files, ROSTER)
    assert result.exit_code == 1, result.output
    return out


def test_ratings_csv(exports):
    rows = csv_rows(exports / "ratings.csv")
    assert list(rows[0]) == ["school_id", "school_name", "network", "cycle", "domain_id",
                             "indicator_id", "indicator", "level", "label", "evidence",
                             "next_steps", "priority", "source_file", "previous_level",
                             "review", "followup"]
    assert [list(r.values())[:12] for r in rows] == RATINGS
    assert {tuple(list(r.values())[13:]) for r in rows} == {("", "", "")}  # not prefilled
    assert {r["source_file"].rsplit("/", 1)[-1] for r in rows} == {"s1.xlsx"}


def test_returns_csv(exports):
    rows = csv_rows(exports / "returns.csv")
    assert list(rows[0]) == ["school_id", "school_name", "file", "sha256", "status", "rated",
                             "total", "errors", "warnings"]
    by_school = {r["school_id"]: r for r in rows}
    s1, s2, s3 = by_school["S1"], by_school["S2"], by_school["S3"]
    assert [s1["status"], s1["rated"], s1["total"], s1["errors"]] == [
        "accepted_with_warnings", "4", "5", "0"]
    assert int(s1["warnings"]) >= 1  # 1.2 unrated
    assert len(s1["sha256"]) == 64
    assert [s2["status"], s2["errors"]] == ["rejected", "1"]
    assert [s3["school_name"], s3["file"], s3["sha256"], s3["status"]] == [
        "Gamma School", "", "", "missing"]


def test_problems_csv(exports):
    rows = csv_rows(exports / "problems.csv")
    assert list(rows[0]) == ["file", "school_id", "sheet", "cell", "code", "severity",
                             "message"]
    invalid = [r for r in rows if r["code"] == "invalid-rating"]
    assert [(r["school_id"], r["sheet"], r["cell"], r["severity"]) for r in invalid] == [
        ("S2", "D1 Leadership", "F4", "error")]
    assert invalid[0]["file"].endswith("s2.xlsx")
    assert "Great" in invalid[0]["message"]


def test_ratings_parquet_is_typed_and_unescaped(exports):
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(exports / "ratings.parquet")
    assert table.column_names[:12] == ["school_id", "school_name", "network", "cycle",
                                       "domain_id", "indicator_id", "indicator", "level",
                                       "label", "evidence", "next_steps", "priority"]
    assert str(table.schema.field("level").type) == "int16"
    assert str(table.schema.field("evidence").type) == "string"
    assert table.column("level").to_pylist() == [3, None, 1, 2, 2]
    assert table.column("evidence").to_pylist() == ["-1 point", "Nothing yet", "", "Ev", ""]
    assert table.column("school_id").to_pylist() == ["S1"] * 5
    assert table.column("priority").to_pylist() == ["High", "", "Low", "Medium", ""]


def test_parquet_in_small_batches_keeps_every_row(tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    import workbook_tool.summary.exports as exports_module

    monkeypatch.setattr(exports_module, "PARQUET_BATCH", 2)
    files = {f"s{i}.xlsx": make_return(school=School(f"S{i}", f"School {i}"), answers=ANSWERS)
             for i in (1, 2, 3)}
    roster = "school_id,school_name\nS1,School 1\nS2,School 2\nS3,School 3\n"
    result, out = consolidate_cli(tmp_path, files, roster)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "ratings.parquet")
    assert table.num_rows == 15
    assert pq.ParquetFile(out / "ratings.parquet").metadata.num_row_groups >= 7
    assert table.column("indicator_id").to_pylist() == ["1.1", "1.2", "1.3", "2.1", "2.2"] * 3
    assert table.column("school_id").to_pylist() == ["S1"] * 5 + ["S2"] * 5 + ["S3"] * 5


def test_parquet_when_rows_fill_the_last_batch_exactly(tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    import workbook_tool.summary.exports as exports_module

    monkeypatch.setattr(exports_module, "PARQUET_BATCH", 5)
    files = {"s1.xlsx": make_return(school=School("S1", "School 1"), answers=ANSWERS)}
    result, out = consolidate_cli(tmp_path, files, "school_id,school_name\nS1,School 1\n")
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "ratings.parquet")
    assert table.column("level").to_pylist() == [3, None, 1, 2, 2]


def test_parquet_with_no_accepted_return_has_the_columns_and_no_rows(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    bad = set_named_value(make_return(school=School("S1", "School 1"), answers=ANSWERS),
                          "rating_1_1", "Great")
    result, out = consolidate_cli(tmp_path, {"s1.xlsx": bad},
                                  "school_id,school_name\nS1,School 1\n")
    assert result.exit_code == 1, result.output
    table = pq.read_table(out / "ratings.parquet")
    assert table.num_rows == 0
    assert len(table.column_names) == 16
    assert str(table.schema.field("level").type) == "int16"
    assert str(table.schema.field("previous_level").type) == "int16"
    assert str(table.schema.field("review").type) == "string"
