"""Recovery removes the hidden temporary copies that older versions left, of the set's files
only."""

from __future__ import annotations

from workbook_tool.staging import recover


def test_recover_removes_old_temporaries_of_the_named_outputs_only(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in (".summary.xlsx.a1b2.tmp", ".status.csv.77.tmp", ".notes.txt.1.tmp",
                 "summary.xlsx", ".summary.xlsx.keep"):
        (out / name).write_bytes(b"x")
    assert recover(out, ["summary.xlsx", "status.csv"]) == ""
    assert sorted(p.name for p in out.iterdir()) == [
        ".notes.txt.1.tmp", ".summary.xlsx.keep", "summary.xlsx"]
