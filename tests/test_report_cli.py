"""`consolidate` writes the board report, and `--pdf` prints it, through click's CliRunner
with real returns of the small rubric. The PDF is read back with poppler-utils (pdfinfo,
pdftotext, pdftoppm); those tests skip where Chromium or poppler is missing (a failure
with CI=true, see tests/conftest.py)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from browser import hide_chromium
from browser import missing as chromium_missing
from returns_kit import answers_for, consolidate_cli, make_return, small_rubric

ROSTER = "school_id,school_name,network\nS1,Alpha School,North\nS2,Beta <b>School</b>,South\n"
SECTIONS = ["Headline", "Returns to chase", "The spread of levels", "Heatmap of schools",
            "Priorities and next steps", "Trends", "Team agreement", "Scores and tiers"]


def filled() -> bytes:
    return make_return(answers=answers_for(small_rubric()))


def test_every_consolidation_writes_the_report(tmp_path):
    result, out = consolidate_cli(tmp_path, {"a.xlsx": filled()}, ROSTER, "--json")
    assert result.exit_code == 0, result.output
    outputs = json.loads(result.stdout)["outputs"]
    assert list(outputs)[:2] == ["district_summary.xlsx", "district_report.html"]
    assert outputs["district_report.html"] == str(out / "district_report.html")
    text = (out / "district_report.html").read_text(encoding="utf-8")
    assert "<h1>District self-assessment: Small Test Rubric</h1>" in text
    # The missing school's name, from the roster, is text (its tags escaped).
    assert "<td>Beta &lt;b&gt;School&lt;/b&gt;</td>" in text
    assert "<b>" not in text


def test_pdf_without_chromium_stops_before_anything_is_written(tmp_path, monkeypatch):
    hide_chromium(monkeypatch, tmp_path)
    store = tmp_path / "h.sqlite"
    result, out = consolidate_cli(tmp_path, {"a.xlsx": filled()}, ROSTER, "--pdf",
                                  "--cycle", "2024-25", "--history", str(store))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: no PDF engine is installed: install Chromium (Debian/Ubuntu: apt install "
        "chromium) or set WORKBOOK_TOOL_CHROMIUM to its path\n")
    assert not out.exists()
    assert not store.exists()


def test_a_failing_pdf_engine_leaves_the_previous_outputs(tmp_path, monkeypatch):
    first, out = consolidate_cli(tmp_path / "one", {"a.xlsx": filled()}, ROSTER)
    assert first.exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    engine = tmp_path / "fake-chromium"
    engine.write_text("#!/bin/sh\necho 'Aw, Snap!' >&2\nexit 3\n", encoding="utf-8")
    engine.chmod(0o755)
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", str(engine))
    from click.testing import CliRunner

    from returns_kit import SMALL_RUBRIC
    from workbook_tool.cli import main

    result = CliRunner().invoke(main, [
        "consolidate", str(tmp_path / "one" / "returns"), "--roster",
        str(tmp_path / "one" / "roster.csv"), "--out", str(out), "--rubric", str(SMALL_RUBRIC),
        "--jobs", "1", "--quiet", "--pdf"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: Chromium failed to print the report (exit code 3): "
                             "Aw, Snap!\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _poppler_missing() -> str:
    if why := chromium_missing():
        return why
    tools = [t for t in ("pdfinfo", "pdftotext", "pdftoppm") if shutil.which(t) is None]
    return f"poppler-utils missing ({', '.join(tools)})" if tools else ""


@pytest.mark.browser
def test_pdf_starts_each_section_on_a_new_landscape_page(tmp_path):
    if why := _poppler_missing():
        pytest.skip(why)
    result, out = consolidate_cli(tmp_path, {"a.xlsx": filled()}, ROSTER, "--pdf")
    assert result.exit_code == 0, result.output
    pdf = out / "district_report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert "Page size:       841.92 x 594.96 pts (A4)" in info
    count = int(next(line.split()[1] for line in info.splitlines()
                     if line.startswith("Pages:")))
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout.split("\f")[:count]
    firsts = [next((line.strip() for line in page.splitlines() if line.strip()), "")
              for page in pages]
    # The title page holds the headline; every other section begins a page of its own
    # (a long one goes on over the next pages, whose first line is not a heading).
    assert firsts[0] == "District self-assessment: Small Test Rubric"
    assert [first for first in firsts if first in SECTIONS] == SECTIONS[1:]
    assert 8 <= count <= 10
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == count


def test_the_report_is_in_the_demo_and_its_path_is_printed(tmp_path):
    from click.testing import CliRunner

    from workbook_tool.cli import main

    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = out / "summary" / "district_report.html"
    assert report.is_file()
    assert f"Open {report} in a browser for the board report" in result.output
