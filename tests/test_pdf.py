"""The PDF engine of `consolidate --pdf` (workbook_tool.pdf): headless Chromium.

A hand-written three-section page is printed by the real Chromium and checked with poppler
(pages, landscape, page images, one heading per page); those tests skip with the reason where
Chromium or poppler-utils is missing (with CI=true the skip fails, tests/conftest.py). Small
shell scripts stand in for Chromium to show each sentence district staff get when printing
cannot work, and what Chromium is asked to do.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from browser import hide_chromium
from browser import missing as chromium_missing
from workbook_tool import pdf as pdf_module
from workbook_tool.pdf import PdfError, find_engine, html_to_pdf
from workbook_tool.problems import NothingDone

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Board report</title>
<style>
@page { size: A4 landscape; margin: 12mm }
section { break-before: page }
section:first-of-type { break-before: auto }
</style></head>
<body>
<section><h1>Headline figures</h1><p>41 of 45 schools returned.</p></section>
<section><h2>Returns to chase</h2><p>4 schools.</p></section>
<section><h2>Spread of levels</h2><p>Domain 1.</p></section>
</body></html>
"""


def _real_tools_missing() -> str:
    if why := chromium_missing():
        return why
    absent = [tool for tool in ("pdfinfo", "pdftoppm", "pdftotext") if shutil.which(tool) is None]
    return f"poppler-utils ({', '.join(absent)}) is missing" if absent else ""


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    if why := _real_tools_missing():
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("pdf")
    html = folder / "report.html"
    html.write_text(PAGE, encoding="utf-8")
    start = time.monotonic()
    html_to_pdf(html, folder / "report.pdf")
    assert time.monotonic() - start < 30
    return folder / "report.pdf"


def test_the_pdf_has_one_landscape_a4_page_per_section(printed):
    info = subprocess.run(["pdfinfo", str(printed)], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert re.search(r"^Pages:\s+3$", info, re.M)
    assert re.search(r"^Page size:\s+841.92 x 594.96 pts \(A4\)$", info, re.M)  # wide
    assert not list(printed.parent.glob(".*.part"))


def test_each_section_heading_is_on_its_own_page(printed):
    pages = []
    for n in (1, 2, 3):
        pages.append(subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout",
                                     str(printed), "-"], capture_output=True, text=True,
                                    check=True, timeout=60).stdout)
    headings = ("Headline figures", "Returns to chase", "Spread of levels")
    for page, heading in zip(pages, headings, strict=True):
        assert [h for h in headings if h in page] == [heading]
    # No header or footer of the browser's own (date, file URL, page numbers).
    assert "file://" not in "".join(pages) and "1/3" not in pages[0]


def test_the_pdf_renders_to_three_landscape_page_images(printed, tmp_path):
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(printed), str(tmp_path / "page")],
                   check=True, timeout=60)
    images = sorted(tmp_path.glob("page-*.png"))
    assert [image.name for image in images] == ["page-1.png", "page-2.png", "page-3.png"]
    for image in images:
        data = image.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (351, 248)  # A4 landscape at 30 dpi


# -- finding the engine --------------------------------------------------------------------

def test_without_chromium_the_sentence_says_what_to_install(monkeypatch, tmp_path):
    hide_chromium(monkeypatch, tmp_path)
    html = tmp_path / "report.html"
    html.write_text(PAGE, encoding="utf-8")
    with pytest.raises(NothingDone) as caught:  # the CLI's exit 2
        html_to_pdf(html, tmp_path / "report.pdf")
    assert str(caught.value) == (
        "no PDF engine is installed: install Chromium (Debian/Ubuntu: apt install chromium) "
        "or set WORKBOOK_TOOL_CHROMIUM to its path")
    assert not (tmp_path / "report.pdf").exists()


def test_a_setting_that_names_no_program_is_said(monkeypatch, tmp_path):
    hide_chromium(monkeypatch, tmp_path)
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(PdfError) as caught:
        find_engine()
    assert str(caught.value) == (
        f"WORKBOOK_TOOL_CHROMIUM is set to {tmp_path}/no-such-chromium, which is not a "
        "program; point it at Chromium, or unset it and install Chromium (Debian/Ubuntu: "
        "apt install chromium)")


def test_the_engine_is_found_on_path_in_order(monkeypatch, tmp_path):
    hide_chromium(monkeypatch, tmp_path)
    folder = tmp_path / "empty"
    for name in ("google-chrome", "chromium-browser"):
        _script(folder / name, "exit 0")
    assert find_engine() == f"{folder}/chromium-browser"
    _script(folder / "chromium", "exit 0")
    assert find_engine() == f"{folder}/chromium"
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", "google-chrome")  # a name on PATH will do
    assert find_engine() == f"{folder}/google-chrome"


# -- a stand-in engine ---------------------------------------------------------------------

def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _engine(monkeypatch, tmp_path, body: str) -> Path:
    html = tmp_path / "report.html"
    html.write_text(PAGE, encoding="utf-8")
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", str(_script(tmp_path / "fake-chromium", body)))
    return html


def test_a_failing_engine_gives_its_last_words(monkeypatch, tmp_path):
    html = _engine(monkeypatch, tmp_path,
                   'echo "[12:34:1201/023250.302846:ERROR:dbus/bus.cc:405] Failed to connect '
                   'to the bus" >&2\n'
                   'echo "[12:12:1201/023250.4:ERROR:headless/x.cc:9] cannot open display" >&2\n'
                   'echo "[12:34:1201/023250.5:ERROR:dbus/bus.cc:405] no bus either" >&2\n'
                   "echo >&2\nexit 1")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 the previous one")
    with pytest.raises(PdfError) as caught:
        html_to_pdf(html, tmp_path / "report.pdf")
    assert str(caught.value) == ("Chromium failed to print the report (exit code 1): "
                                 "cannot open display")
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF-1.4 the previous one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-chromium", "report.html",
                                                           "report.pdf"]


def test_an_engine_that_writes_nothing_is_said(monkeypatch, tmp_path):
    html = _engine(monkeypatch, tmp_path, 'echo "$0: 9: [: 1: unexpected operator" >&2')
    with pytest.raises(PdfError) as caught:
        html_to_pdf(html, tmp_path / "report.pdf")
    assert str(caught.value) == "Chromium wrote no PDF of the report: it gave no reason"
    assert not (tmp_path / "report.pdf").exists()


def test_an_engine_that_writes_no_pdf_is_said(monkeypatch, tmp_path):
    body = ('for a; do case "$a" in --print-to-pdf=*) echo "<html>" > "${a#*=}";; esac; done\n'
            'echo "[1:1:1201/0.1:ERROR:headless/h.cc:403] Page load failed: net::ERR_FAILED" >&2')
    html = _engine(monkeypatch, tmp_path, body)
    with pytest.raises(PdfError) as caught:
        html_to_pdf(html, tmp_path / "report.pdf")
    assert str(caught.value) == ("Chromium wrote no PDF of the report: Page load failed: "
                                 "net::ERR_FAILED")
    assert not (tmp_path / "report.pdf").exists()
    assert not (tmp_path / ".report.pdf.part").exists()


def test_a_stale_part_file_never_passes_for_the_pdf(monkeypatch, tmp_path):
    html = _engine(monkeypatch, tmp_path, "exit 0")
    (tmp_path / ".report.pdf.part").write_bytes(b"%PDF-1.4 from a killed run")
    with pytest.raises(PdfError) as caught:
        html_to_pdf(html, tmp_path / "report.pdf")
    assert str(caught.value) == "Chromium wrote no PDF of the report: it gave no reason"


@pytest.mark.parametrize(("euid", "sandbox"), [(0, ["--no-sandbox"]), (1000, [])])
def test_what_chromium_is_asked(monkeypatch, tmp_path, euid, sandbox):
    body = ('for a; do echo "$a"; case "$a" in --print-to-pdf=*) printf "%%PDF-1.4 x" '
            '> "${a#*=}";; esac; done > "$(dirname "$0")/args.txt"')
    html = _engine(monkeypatch, tmp_path, body)
    monkeypatch.setattr(pdf_module.os, "geteuid", lambda: euid)
    html_to_pdf(html, tmp_path / "report.pdf")
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF-1.4 x"
    args = (tmp_path / "args.txt").read_text(encoding="utf-8").splitlines()
    profile = [a for a in args if a.startswith("--user-data-dir=")]
    assert len(profile) == 1 and "workbook-tool-pdf-" in profile[0]
    assert [a for a in args if not a.startswith("--user-data-dir=")] == [
        *sandbox, "--headless", "--no-first-run", "--no-default-browser-check",
        "--disable-extensions", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-gpu",
        "--no-pdf-header-footer", "--generate-pdf-document-outline",
        f"--print-to-pdf={tmp_path}/.report.pdf.part", f"file://{tmp_path}/report.html"]
    assert not Path(profile[0].split("=", 1)[1]).exists()  # the profile is thrown away


def test_an_engine_that_hangs_is_killed_with_its_children(monkeypatch, tmp_path):
    body = 'echo "working" >&2\nsleep 60 &\necho $! > "$(dirname "$0")/child.txt"\nwait'
    html = _engine(monkeypatch, tmp_path, body)
    start = time.monotonic()
    with pytest.raises(PdfError) as caught:
        html_to_pdf(html, tmp_path / "report.pdf", timeout=1)
    assert time.monotonic() - start < 10
    assert str(caught.value) == ("Chromium did not finish printing the report within 1 "
                                 "seconds: working")
    child = int((tmp_path / "child.txt").read_text())
    assert _gone(child), "the engine's child process outlived the timeout"


def _gone(pid: int) -> bool:
    """Whether pid has ended (a zombie waiting for init to reap it counts as ended)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_a_missing_html_file_is_said(monkeypatch, tmp_path):
    _engine(monkeypatch, tmp_path, "exit 0")
    with pytest.raises(PdfError) as caught:
        html_to_pdf(tmp_path / "gone.html", tmp_path / "report.pdf")
    assert str(caught.value) == "cannot print gone.html to PDF: the file is missing"


def test_an_engine_that_cannot_start_is_said(monkeypatch, tmp_path):
    html = _engine(monkeypatch, tmp_path, "exit 0")
    bad = tmp_path / "not-a-program"
    bad.write_bytes(b"\x7fELF broken")
    bad.chmod(0o755)
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", str(bad))
    with pytest.raises(PdfError) as caught:
        html_to_pdf(html, tmp_path / "report.pdf")
    assert str(caught.value) == f"could not start Chromium ({bad}): Exec format error"
