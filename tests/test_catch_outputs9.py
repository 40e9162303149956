"""summary.write_outputs and recover_outputs: what goes into the staged set and what the
printer is handed (mutation run 9). Expected names and bytes are literals."""

from __future__ import annotations

from pathlib import Path

from returns_kit import SCHOOL, answers_for, make_return, read, small_rubric
from workbook_tool.consolidate import consolidate
from workbook_tool.summary import recover_outputs, write_outputs


def _run():
    rubric = small_rubric()
    result = read(make_return(answers=answers_for(rubric)), rubric, file="alpha.xlsx")
    return consolidate([result], rubric, [SCHOOL])


def test_the_printer_gets_the_staged_report_and_its_output_joins_the_set(tmp_path):
    out = tmp_path / "out"
    calls = []

    def printer(html: Path, pdf: Path) -> None:
        calls.append((html.name, html.parent.name, pdf.name, pdf.parent == html.parent))
        assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        pdf.write_bytes(b"%PDF-1.7 printed")

    written = write_outputs(_run(), out, ["returns-folder"], pdf=printer)
    assert calls == [("district_report.html", ".workbook-tool-staging",
                      "district_report.pdf", True)]
    assert (out / "district_report.pdf").read_bytes() == b"%PDF-1.7 printed"
    assert written["district_report.pdf"] == out / "district_report.pdf"


def test_without_a_printer_no_pdf_is_written(tmp_path):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "district_report.pdf").write_bytes(b"last run's")
    written = write_outputs(_run(), out, ["returns-folder"])
    # The last run's PDF would describe other returns: it goes with the rest of that set.
    assert "district_report.pdf" not in written
    assert not (out / "district_report.pdf").exists()


def test_the_report_names_the_inputs(tmp_path):
    out = tmp_path / "out"
    write_outputs(_run(), out, ["returns-folder", "late.zip"])
    text = (out / "district_report.html").read_text(encoding="utf-8")
    assert " from <bdi>returns-folder, late.zip</bdi></p></header>" in text


def test_recover_outputs_removes_hidden_temporaries_of_every_output(tmp_path):
    names = [".district_summary.xlsx.k3j.tmp", ".ratings.csv.x.tmp",
             ".district_report.pdf.1.tmp"]
    for name in names:
        (tmp_path / name).write_bytes(b"left by an old version")
    (tmp_path / ".notes.txt.1.tmp").write_bytes(b"not ours")
    assert recover_outputs(tmp_path) == ""  # no interrupted run: nothing to say
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.txt.1.tmp"]
