"""Regenerate the README pictures from a real workbook, printed by LibreOffice.

    python3 scripts/render_pictures.py [--out docs/images]
    python3 scripts/render_pictures.py --xlsx FILE --find TEXT --png OUT.png   # any workbook

Builds a sample school workbook with a few answers filled in, prints it to PDF with a
headless LibreOffice (a private, temporary user profile), finds the page of each sheet and
writes it as a PNG about 1400 px wide, cropped to the printed area (page header and footer
left out). Needs `soffice`, poppler's `pdftoppm`, `pdftotext` and `pdfinfo`, and the Carlito
font (Calibri's metric twin) for faithful line breaks; no Python imaging library.

`render_page()` works on any xlsx, so the district summary picture can be added later with
one call, e.g. render_page(out / "district_summary.xlsx", images / "district-summary.png",
find="Overview").

The board report's two pictures come from the demo's district_report.html and Chromium (the
engine of `consolidate --pdf`): report-html.png, the top of the page as a browser shows it
(REPORT_WINDOW), and report-pdf.png, the PDF's page with the spread of levels, drawn by
pdftoppm. Without Chromium those two are left out with a warning; the others are still made.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from workbook_tool import layout, pdf
from workbook_tool.demo import TEAM_SCHOOL, run_demo
from workbook_tool.reader.model import Answer
from workbook_tool.roster import School
from workbook_tool.rubric import load_rubric
from workbook_tool.summary import report
from workbook_tool.writer import Issue, build_workbook

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
WIDTH = 1400  # px of every picture
TIMEOUT = 120  # s for one LibreOffice conversion
PROBE_DPI = 36  # resolution of the quick render that finds the printed area
BAND = 0.5  # in: page header and footer bands left out of the crop
PAD = 0.08  # in: white space kept around the printed area
REPORT_WINDOW = (1200, 900)  # CSS px of the board report's screenshot: its top screen
REPORT_PAGE = "The spread of levels"  # the PDF page shown: the board's first chart
REPORT_WIDTH = 1200  # px of the PDF page's picture: small enough for the README

SCHOOL = School("101", "Lincoln High School", "North", "Ana Ruiz", "ana@example.org")
ISSUE = Issue("2026-27", due="Friday, March 15, 2027", return_to="pathways@district.example.org")
ANSWERS = [
    Answer("1.1", 3, "Advancing", "Board minutes (Sept, Jan); graduate profile adopted 2025.",
           "Publish the graduate profile on every school's website.", "Medium"),
    Answer("1.2", 2, "Developing", "Communication plan draft; two family nights held.",
           "Add a stakeholder survey in spring.", "High"),
    Answer("1.3", 1, "Emerging", "", "Form a cross-district leadership team.", "High"),
    Answer("1.4", 3, "Advancing", "Board policy 6120 on pathways.", "", "Low"),
]


# ---------------------------------------------------------------- rendering any workbook


class Renderer:
    """Prints workbooks to PDF with one private LibreOffice profile, and pages to PNG."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.profile = workdir / "lo_profile"
        self._pdfs: dict[Path, Path] = {}

    def pdf(self, xlsx: Path) -> Path:
        xlsx = xlsx.resolve()
        if xlsx not in self._pdfs:
            outdir = self.workdir / hashlib.sha1(str(xlsx).encode()).hexdigest()[:12]
            outdir.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["soffice", f"-env:UserInstallation={self.profile.as_uri()}", "--headless",
                 "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir",
                 str(outdir), str(xlsx)],
                check=True, timeout=TIMEOUT, capture_output=True,
            )
            self._pdfs[xlsx] = outdir / f"{xlsx.stem}.pdf"
        return self._pdfs[xlsx]

    def find_page(self, pdf: Path, text: str) -> int:
        """The first page whose header line holds `text` (our page headers print the sheet
        name), else the first page that holds it anywhere."""
        wanted = " ".join(text.split())
        texts = [" ".join(t.split()) for t in _page_texts(pdf)]
        heads = [next((" ".join(line.split()) for line in t.splitlines() if line.strip()), "")
                 for t in _page_texts(pdf, layout=True)]
        for candidates in (heads, texts):
            for number, found in enumerate(candidates, 1):
                if wanted in found:
                    return number
        raise LookupError(f"no page of {pdf.name} shows {text!r}")

    def png(self, pdf: Path, page: int, out: Path, width: int = WIDTH,
            crop: bool = True) -> Path:
        """Write `page` of `pdf` as a PNG `width` px wide, cropped to the printed area."""
        page_w, page_h = _page_size(pdf, page)  # points
        left, top, right, bottom = (
            self._printed_area(pdf, page, page_w, page_h) if crop
            else (0.0, 0.0, page_w / 72, page_h / 72))
        dpi = width / (right - left)
        out.parent.mkdir(parents=True, exist_ok=True)
        root = self.workdir / f"final-{page}"
        subprocess.run(
            ["pdftoppm", "-png", "-singlefile", "-f", str(page), "-l", str(page),
             "-r", f"{dpi:.3f}", "-x", str(round(left * dpi)), "-y", str(round(top * dpi)),
             "-W", str(width), "-H", str(round((bottom - top) * dpi)), "-aa", "yes",
             "-aaVector", "yes", str(pdf), str(root)],
            check=True, timeout=TIMEOUT,
        )
        shutil.move(f"{root}.png", out)
        return out

    def _printed_area(self, pdf: Path, page: int, page_w: float,
                      page_h: float) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in inches of the non-white area between header and footer."""
        root = self.workdir / f"probe-{page}"
        subprocess.run(["pdftoppm", "-singlefile", "-gray", "-r", str(PROBE_DPI), "-f", str(page),
                        "-l", str(page), str(pdf), str(root)], check=True, timeout=TIMEOUT)
        width, height, pixels = _read_pgm(Path(f"{root}.pgm"))
        band = round(BAND * PROBE_DPI)
        rows = [y for y in range(band, height - band)
                if min(pixels[y * width:(y + 1) * width]) < 245]
        if not rows:
            return 0.0, 0.0, page_w / 72, page_h / 72
        cols = [x for x in range(width)
                if min(pixels[y * width + x] for y in range(rows[0], rows[-1] + 1)) < 245]
        left = max(0.0, cols[0] / PROBE_DPI - PAD)
        right = min(page_w / 72, (cols[-1] + 1) / PROBE_DPI + PAD)
        top = max(0.0, rows[0] / PROBE_DPI - PAD)
        bottom = min(page_h / 72, (rows[-1] + 1) / PROBE_DPI + PAD)
        return left, top, right, bottom


def render_page(xlsx: Path, out: Path, *, find: str | None = None, page: int | None = None,
                width: int = WIDTH, renderer: Renderer | None = None) -> Path:
    """Print any xlsx with LibreOffice and write one page as a PNG: the first page that shows
    `find` (a sheet name: LibreOffice prints it in our page headers; or any title text on the
    page), or page number `page`."""
    if renderer is None:
        with tempfile.TemporaryDirectory(prefix="render_pictures_") as tmp:
            return render_page(xlsx, out, find=find, page=page, width=width,
                               renderer=Renderer(Path(tmp)))
    pdf = renderer.pdf(xlsx)
    if page is None:
        page = renderer.find_page(pdf, find) if find else 1
    return renderer.png(pdf, page, out, width)


# ---------------------------------------------------------------- small helpers


def _page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def _page_texts(pdf: Path, layout: bool = False) -> list[str]:
    """The text of every page (form feeds separate pages in pdftotext's output)."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:_page_count(pdf)]


def _page_size(pdf: Path, page: int) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)],
                          capture_output=True, text=True, check=True).stdout
    match = re.search(r"Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+)", info)
    return float(match.group(1)), float(match.group(2))


def _read_pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and 8-bit grey pixels of a binary PGM (P5) as pdftoppm writes it."""
    data = path.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not fields:
        raise ValueError(f"{path} is not a binary PGM")
    width, height = int(fields.group(1)), int(fields.group(2))
    return width, height, data[fields.end():fields.end() + width * height]


def check_font() -> None:
    """Warn when Calibri (the workbook's font) would be drawn with a wider stand-in."""
    if shutil.which("fc-match") is None:
        return
    found = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True).stdout
    if not re.search(r"calibri|carlito", found, re.I):
        print(f"render_pictures: Calibri is drawn as {found.strip()!r}; install Carlito "
              "(fonts-crosextra-carlito), its metric twin, for faithful pictures",
              file=sys.stderr)


def demo_report(workdir: Path) -> Path:
    """The demo's report, run again under a relative folder name: the report prints the
    returns folder and file paths as given, so the picture shows "district/returns/..."
    rather than a random temporary folder."""
    with contextlib.chdir(workdir):
        run_demo(Path("district"), quiet=True)
    return workdir / "district" / "summary" / report.REPORT_HTML


def report_screenshot(html: Path, out: Path, workdir: Path) -> Path:
    """The top of the report as Chromium shows it in a REPORT_WINDOW window."""
    engine = pdf.find_engine()
    flags = ["--headless", f"--user-data-dir={workdir / 'chromium_profile'}", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-gpu",
             "--disable-background-networking", "--hide-scrollbars",
             f"--window-size={REPORT_WINDOW[0]},{REPORT_WINDOW[1]}", f"--screenshot={out}"]
    if os.geteuid() == 0:  # Chromium refuses to start as root with its sandbox on
        flags.insert(0, "--no-sandbox")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # only a picture this run wrote counts
    subprocess.run([engine, *flags, html.resolve().as_uri()], check=True, timeout=TIMEOUT,
                   capture_output=True, stdin=subprocess.DEVNULL)
    if not out.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot of {html.name}")
    return out


def report_pdf_page(html: Path, out: Path, renderer: Renderer) -> Path:
    """The page of the report's PDF (printed as --pdf prints it) that shows REPORT_PAGE."""
    printed = renderer.workdir / "district_report.pdf"
    pdf.html_to_pdf(html, printed)
    page = renderer.find_page(printed, REPORT_PAGE)
    # Uncropped: Chromium prints no header or footer, and the page's margins frame it.
    return renderer.png(printed, page, out, width=REPORT_WIDTH, crop=False)


def sample_workbook(path: Path) -> Path:
    rubric = load_rubric()
    answers = {a.indicator_id: a for a in ANSWERS}
    path.write_bytes(build_workbook(rubric, SCHOOL, ISSUE, answers=answers))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the README pictures")
    parser.add_argument("--xlsx", type=Path, help="render a page of this workbook instead")
    parser.add_argument("--find", help="with --xlsx: text on the wanted page (a sheet name)")
    parser.add_argument("--page", type=int, help="with --xlsx: the page number")
    parser.add_argument("--png", type=Path, help="with --xlsx: the picture to write")
    parser.add_argument("--width", type=int, default=WIDTH)
    args = parser.parse_args(argv)
    for tool in ("soffice", "pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            print(f"render_pictures: {tool} is not installed", file=sys.stderr)
            return 2
    check_font()
    if args.xlsx:
        if not args.png:
            parser.error("--xlsx needs --png")
        print(render_page(args.xlsx, args.png, find=args.find, page=args.page, width=args.width))
        return 0
    rubric = load_rubric()
    with tempfile.TemporaryDirectory(prefix="render_pictures_") as tmp:
        renderer = Renderer(Path(tmp))
        book = sample_workbook(Path(tmp) / f"{SCHOOL.school_id}_sample.xlsx")
        first_domain = layout.domain_sheet_name(rubric.domains[0])
        for find, name in ((layout.START_SHEET, "start-here.png"),
                           (first_domain, "domain-sheet.png")):
            print(render_page(book, args.out / name, find=find, width=args.width,
                              renderer=renderer))
        run_demo(Path(tmp) / "demo", quiet=True)
        summary = Path(tmp) / "demo" / "summary" / "district_summary.xlsx"
        print(render_page(summary, args.out / "district-summary.png", find="Returns by status",
                          width=args.width, renderer=renderer))
        team = next((Path(tmp) / "demo" / "returns").glob(f"{TEAM_SCHOOL}_*_team.xlsx"))
        print(render_page(team, args.out / "team-ratings.png", find="Team ratings:",
                          width=args.width, renderer=renderer))
        if (Path(tmp) / "demo" / "summary" / "agreement.csv").exists():
            print(render_page(summary, args.out / "agreement.png", find="Agreement",
                              width=args.width, renderer=renderer))
        try:
            pdf.find_engine()
        except pdf.PdfError as exc:
            print(f"render_pictures: no board report pictures: {exc}", file=sys.stderr)
            return 0
        html = demo_report(Path(tmp))
        print(report_screenshot(html, args.out / "report-html.png", Path(tmp)))
        print(report_pdf_page(html, args.out / "report-pdf.png", renderer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
