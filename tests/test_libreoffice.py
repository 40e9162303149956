"""What a real LibreOffice does to a generated workbook: fill it, save it, print it.

A site team may fill its workbook in LibreOffice Calc. These tests drive a headless soffice
through UNO (`tests/lo_uno.py`, run by Debian's /usr/bin/python3, which has the `uno` module)
and its command line (`--convert-to`), then check the result with openpyxl and our reader.
They are skipped, with the reason shown, where soffice, python3-uno, poppler-utils or the
Carlito font is missing; with CI=true every such skip fails instead (tests/conftest.py).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from workbook_tool import layout
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook

HERE = Path(__file__).parent
LO_UNO = HERE / "lo_uno.py"
SYSTEM_PYTHON = "/usr/bin/python3"
TIMEOUT = 120  # seconds for one soffice run; lo_uno.py's own watchdog fires at 90


def _missing() -> str:
    """Why these tests cannot run here, or "" when they can."""
    if shutil.which("soffice") is None:
        return "LibreOffice (soffice) is not on PATH"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} (with python3-uno) is missing"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True,
                           env=_clean_env(), timeout=30, check=False)
    if probe.returncode != 0:
        return f"{SYSTEM_PYTHON} cannot `import uno` (install python3-uno)"
    return ""


def _clean_env() -> dict[str, str]:
    """The environment without this interpreter's Python settings, for the system Python."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _pdf_tools_missing(*tools: str) -> str:
    """Why the PDF checks cannot run here (poppler's tools, Carlito), or "" when they can."""
    absent = [tool for tool in tools if shutil.which(tool) is None]
    if absent:
        return f"poppler-utils ({', '.join(absent)}) is missing"
    # Calibri, the workbooks' font, is drawn as Carlito, its metric twin; another stand-in
    # breaks lines and pages elsewhere (the README's pictures need it too).
    match = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True,
                           check=False) if shutil.which("fc-match") else None
    if match is None or not re.search(r"carlito|calibri", match.stdout, re.I):
        return "the Carlito font (fonts-crosextra-carlito) is missing"
    return ""


MISSING = _missing()
pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(bool(MISSING), reason=MISSING)]

# About ten indicators across three sheets, with the texts a site team really types.
FILL = {
    "rating_1_1": "Advancing",
    "evidence_1_1": "Minutes of 3 meetings — Ωmega café, 学校, Zoë",
    "next_steps_1_1": "Draft O'Keefe's plan\nthen review it in May",
    "priority_1_1": "High",
    "rating_1_2": "Emerging",
    "evidence_1_2": '=HYPERLINK("http://x")',
    "priority_1_2": "Low",
    "rating_1_3": "Developing",
    "evidence_1_3": "+SUM(A1:A3) and -1 and @name",
    "rating_1_8": "Transforming",
    "next_steps_1_8": "Tab\tinside, then 'quotes' and \"double quotes\"",
    "rating_2_1": "Developing",
    "priority_2_1": "Medium",
    "rating_2_4": "Transforming",
    "evidence_2_4": "Survey: 87% of students",
    "rating_5_1": "Emerging",
    "evidence_5_1": "x" * 2000,
    "rating_5_4": "Advancing",
}
FILLED_INDICATORS = sorted({name.split("_", 1)[1].replace("_", ".")
                            for name in FILL if name.startswith("rating_")})


# ---------------------------------------------------------------- helpers and fixtures


@pytest.fixture(scope="session")
def lo_profile(tmp_path_factory) -> Path:
    """One private LibreOffice user profile for this test session (never the user's own)."""
    return tmp_path_factory.mktemp("lo_profile")


def run_uno(profile: Path, *args: str) -> dict:
    result = subprocess.run(
        [SYSTEM_PYTHON, str(LO_UNO), *args, "--profile", str(profile)],
        capture_output=True, text=True, timeout=TIMEOUT, env=_clean_env(), check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def convert(profile: Path, src: Path, fmt: str, outdir: Path) -> Path:
    """`soffice --headless --convert-to FMT`; the path of the file it wrote."""
    outdir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless",
         "--norestore", "--nolockcheck", "--convert-to", fmt, "--outdir", str(outdir),
         str(src)],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    out = outdir / f"{src.stem}.{fmt}"
    assert result.returncode == 0 and out.exists(), result.stderr + result.stdout
    return out


def target(book, name: str):
    defined = book.defined_names.get(name)
    assert defined is not None, f"defined name {name} is gone"
    ref = layout.parse_ref(defined.attr_text)
    assert ref is not None, f"{name} does not point at one cell: {defined.attr_text}"
    return book[ref[0]][ref[1]]


def progress_of(book) -> str:
    """The Start Here progress line (its label sits in the column left of the school fields)."""
    sheet = book[layout.START_SHEET]
    for row in sheet.iter_rows(max_col=2):
        if row[0].value == "Progress":
            return row[1].value
    raise AssertionError("no Progress row on the start sheet")


def validation_of(cell):
    return [dv for dv in cell.parent.data_validations.dataValidation
            if cell.coordinate in dv.sqref]


@pytest.fixture(scope="module")
def school() -> School:
    return School("S-101", "O'Keefe Academy / École Saint-Éxupéry", "North")


@pytest.fixture(scope="module")
def generated(tmp_path_factory, rubric, school) -> Path:
    path = tmp_path_factory.mktemp("generated") / "S-101_okeefe.xlsx"
    path.write_bytes(build_workbook(rubric, school, Issue("2026-27", due="March 15")))
    return path


@pytest.fixture(scope="module")
def filled(tmp_path_factory, lo_profile, generated) -> tuple[Path, dict]:
    """The generated workbook filled through LibreOffice and saved as xlsx, and the report."""
    folder = tmp_path_factory.mktemp("filled")
    values = folder / "values.json"
    values.write_text(json.dumps(FILL, ensure_ascii=False), encoding="utf-8")
    out = folder / "S-101_filled.xlsx"
    report = run_uno(lo_profile, "fill", str(generated), str(out), str(values))
    return out, report


@pytest.fixture(scope="module")
def filled_book(filled):
    return openpyxl.load_workbook(filled[0])


@pytest.fixture(scope="module")
def pdf(tmp_path_factory, lo_profile, generated) -> Path:
    return convert(lo_profile, generated, "pdf", tmp_path_factory.mktemp("pdf"))


# ---------------------------------------------------------------- what LibreOffice sees


def test_libreoffice_sees_names_validations_and_metadata(lo_profile, generated, rubric):
    seen = run_uno(lo_profile, "inspect", str(generated))
    expected = layout.expected_names(rubric)
    assert set(expected) <= set(seen["names"])
    assert all(seen["names"][n]["single_cell"] for n in expected)
    for ind in rubric.indicators:
        rating = seen["validations"][layout.defined_name("rating", ind)]
        assert rating["type"] == "LIST" and rating["error_style"] == "STOP"
        assert rating["formula1"] == ";".join(f'"{label}"' for label in rubric.labels)
        priority = seen["validations"][layout.defined_name("priority", ind)]
        assert priority["formula1"] == '"High";"Medium";"Low"'
        assert seen["cells"][layout.defined_name("evidence", ind)]["locked"] is False
    sheets = {s["name"]: s for s in seen["sheets"]}
    assert sheets[layout.DATA_SHEET]["visible"] is False
    assert all(s["protected"] for s in seen["sheets"])
    props = seen["properties"]
    assert props["workbook_tool_format"] == {"value": 2, "python_type": "int"}
    assert props["raters"] == {"value": 0, "python_type": "int"}
    assert props["rubric_fingerprint"]["value"] == rubric.fingerprint
    assert seen["data_sheet"]["rubric_fingerprint"]["string"] == rubric.fingerprint


# ---------------------------------------------------------------- filled in LibreOffice


def test_fill_sets_strings_under_protection(filled):
    _, report = filled
    assert report["refused"] == {}
    assert set(report["set"]) == set(FILL)
    for name, seen in report["set"].items():
        # Unlocked cells of protected sheets take setString; no unprotecting needed.
        assert seen["protected"] and not seen["locked"], name
        assert seen["read_back"] == FILL[name], name
        assert seen["cell_type"] == "TEXT", name  # setString, never a formula


def test_names_still_point_at_one_cell_each(filled_book, rubric):
    for name in layout.expected_names(rubric):
        target(filled_book, name)  # asserts the name exists and names one cell


def test_typed_values_come_back_exactly_as_strings(filled, filled_book, rubric):
    for name, text in FILL.items():
        cell = target(filled_book, name)
        assert cell.value == text, name
        assert cell.data_type == "s", name  # a string, never a formula
    for ind in rubric.indicators:
        for kind in layout.INPUT_KINDS:
            cell = target(filled_book, layout.defined_name(kind, ind))
            assert cell.protection.locked is False, (kind, ind.id)  # still editable
    with zipfile.ZipFile(filled[0]) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if "worksheets/sheet" in n)
    assert "HYPERLINK" not in xml  # the text lives in sharedStrings, not in an <f>
    assert not re.search(r"<f[^>]*>[^<]*SUM\(A1", xml)


def test_untouched_inputs_stay_empty(filled_book, rubric):
    for ind in rubric.indicators:
        for kind in layout.INPUT_KINDS:
            name = layout.defined_name(kind, ind)
            if name not in FILL:
                assert target(filled_book, name).value in (None, ""), name


def test_dropdowns_survive(filled_book, rubric):
    for ind in rubric.indicators:
        for kind, values in (("rating", rubric.labels), ("priority", layout.PRIORITIES)):
            cell = target(filled_book, layout.defined_name(kind, ind))
            matches = validation_of(cell)
            assert len(matches) == 1, (kind, ind.id)
            dv = matches[0]
            assert dv.type == "list" and dv.showErrorMessage
            assert dv.errorStyle in (None, "stop")
            assert dv.formula1 == '"' + ",".join(values) + '"'


def test_hidden_sheet_protection_and_properties_survive(filled_book, rubric, school):
    assert filled_book[layout.DATA_SHEET].sheet_state == "hidden"
    assert all(filled_book[n].sheet_state == "visible"
               for n in filled_book.sheetnames if n != layout.DATA_SHEET)
    assert all(ws.protection.sheet for ws in filled_book.worksheets)
    meta = {r[0]: r[1] for r in filled_book[layout.DATA_SHEET].iter_rows(min_row=2,
                                                                          values_only=True)}
    assert meta["workbook_tool_format"] == layout.FORMAT_VERSION
    assert meta["rubric_fingerprint"] == rubric.fingerprint
    assert meta["school_name"] == school.school_name
    assert meta["domains"] == "1,2,3,4,5"
    props = {p.name: p for p in filled_book.custom_doc_props.props}
    assert set(layout.PROPERTY_KEYS) <= set(props)
    # Observed with LibreOffice 7.4: the integer comes back as a double (vt:r8), 1.0.
    fmt = props["workbook_tool_format"]
    assert fmt.value == layout.FORMAT_VERSION
    assert type(fmt).__name__ in ("FloatProperty", "IntProperty")
    assert props["rubric_fingerprint"].value == rubric.fingerprint
    assert props["school_id"].value == school.school_id
    assert props["cycle"].value == "2026-27"


def test_view_and_print_settings_survive(filled_book, rubric):
    # True when the document has a view, as in a user's session (lo_uno.py loads it so);
    # `--convert-to xlsx` drops the frozen panes and shows gridlines again.
    sheet = filled_book[layout.domain_sheet_name(rubric.domains[0])]
    assert sheet.freeze_panes == "A3"
    assert not sheet.sheet_view.showGridLines
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$1:$2"
    assert "O'Keefe Academy" in sheet.oddHeader.left.text


def test_conditional_formats_and_rich_text_survive(filled, filled_book, rubric):
    sheet = filled_book[layout.domain_sheet_name(rubric.domains[0])]
    formulas = " ".join(f for cf in sheet.conditional_formatting for r in cf.rules
                        for f in (r.formula or []))
    for label in rubric.labels:
        assert f'"{label}"' in formulas
    with zipfile.ZipFile(filled[0]) as z:
        shared = z.read("xl/sharedStrings.xml").decode()
    assert "<b/>" in shared or '<b val="true"/>' in shared  # bold phrases in descriptors


def test_formulas_are_recalculated_with_cached_values(filled):
    # lo_uno.py never asks for a recalculation: LibreOffice's autocalc updates the formulas
    # that depend on the edited cells, as in a user's session, and saves their new values.
    cached = openpyxl.load_workbook(filled[0], data_only=True)
    assert progress_of(cached) == f"{len(FILLED_INDICATORS)} of 28 indicators rated"
    summary = {r[0]: r for r in cached[layout.SUMMARY_SHEET].iter_rows(values_only=True) if r[0]}
    assert summary["All domains"][2] == len(FILLED_INDICATORS)
    live = openpyxl.load_workbook(filled[0])
    assert str(live[layout.SUMMARY_SHEET]["D4"].value).startswith("=COUNTIF(")


def test_reader_reads_the_libreoffice_file(filled, rubric, school):
    from workbook_tool.reader import read_file

    result = read_file(filled[0], rubric)
    assert result.errors == 0, [p.message for p in result.problems]
    assert (result.school_id, result.school_name) == (school.school_id, school.school_name)
    assert result.rubric_fingerprint == rubric.fingerprint
    assert result.format_version == layout.FORMAT_VERSION
    answers = {a.indicator_id: a for a in result.answers}
    assert len(answers) == 28 and result.rated == len(FILLED_INDICATORS)
    levels = {lv.label: lv.level for lv in rubric.levels}
    for ind in rubric.indicators:
        key = ind.id.replace(".", "_")
        answer = answers[ind.id]
        label = FILL.get(f"rating_{key}", "")
        assert (answer.label, answer.level) == (label, levels.get(label)), ind.id
        assert answer.evidence == FILL.get(f"evidence_{key}", ""), ind.id
        assert answer.next_steps == FILL.get(f"next_steps_{key}", ""), ind.id
        assert answer.priority == FILL.get(f"priority_{key}", ""), ind.id


def test_consolidate_reads_back_exactly_what_was_typed(filled, rubric, school, tmp_path):
    """The district's command on the LibreOffice-saved return: every typed value, as typed."""
    import csv

    from click.testing import CliRunner

    from workbook_tool.cli import main

    roster = tmp_path / "roster.csv"
    roster.write_text(f"school_id,school_name\n{school.school_id},Roster Name\n",
                      encoding="utf-8")
    out = tmp_path / "summary"
    result = CliRunner().invoke(main, ["consolidate", str(filled[0]), "--roster", str(roster),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out / "returns.csv", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["status"] == "accepted_with_warnings"  # the unrated indicators
    assert row["rated"] == str(len(FILLED_INDICATORS)) and row["errors"] == "0"
    with open(out / "ratings.csv", encoding="utf-8") as f:
        ratings = {r["indicator_id"]: r for r in csv.DictReader(f)}
    for ind in rubric.indicators:
        key = ind.id.replace(".", "_")
        row = ratings[ind.id]
        assert row["label"] == FILL.get(f"rating_{key}", ""), ind.id
        for kind in ("evidence", "next_steps", "priority"):
            typed = FILL.get(f"{kind}_{key}", "")
            # CSV text a spreadsheet would run as a formula carries a leading apostrophe.
            escaped = "'" + typed if typed[:1] in ("=", "+", "-", "@", "\t", "\r") else typed
            assert row[kind] == escaped, (ind.id, kind)


# ---------------------------------------------------------------- command-line conversions


def test_xlsx_round_trip_keeps_names_and_validations(tmp_path, lo_profile, generated, rubric):
    out = convert(lo_profile, generated, "xlsx", tmp_path / "xlsx")
    book = openpyxl.load_workbook(out)
    for ind in rubric.indicators:
        rating = target(book, layout.defined_name("rating", ind))
        dv = validation_of(rating)
        assert len(dv) == 1 and dv[0].type == "list", ind.id
        assert dv[0].formula1 == '"' + ",".join(rubric.labels) + '"'
    for name in layout.expected_names(rubric):
        target(book, name)
    assert book[layout.DATA_SHEET].sheet_state == "hidden"
    again = openpyxl.load_workbook(io.BytesIO(out.read_bytes()), data_only=True)
    assert progress_of(again) == "0 of 28 indicators rated"


def _page_texts(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
            for n in range(1, pages + 1)]


def _page_size(pdf: Path, page: int) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)],
                          capture_output=True, text=True, check=True).stdout
    match = re.search(r"Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+)", info)
    return float(match.group(1)), float(match.group(2))


def test_pdf_prints_each_domain_landscape_with_all_columns(pdf, rubric):
    assert pdf.read_bytes().startswith(b"%PDF")
    if missing := _pdf_tools_missing("pdftotext", "pdfinfo"):
        pytest.skip(missing)
    texts = _page_texts(pdf)
    # Start Here, 5 domains, Summary and Glossary: not one page per column.
    assert len(rubric.domains) + 3 <= len(texts) <= 3 * (len(rubric.domains) + 3)
    assert not any(layout.DATA_SHEET in t for t in texts)  # the hidden sheet is not printed
    headers = ["Indicator", *(f"{lv.level} {lv.label}" for lv in rubric.levels),
               "Rating", "Evidence", "Next steps", "Priority"]
    for domain in rubric.domains:
        title = f"Domain {domain.id}: {domain.title}"
        pages = [n for n, t in enumerate(texts, 1) if title in " ".join(t.split())]
        assert pages, title
        for n in pages:  # title rows repeat; every column fits the page width
            text = texts[n - 1]
            assert all(h in text for h in headers), (title, n)
            width, height = _page_size(pdf, n)
            assert width > height, (title, n)  # landscape
        assert len(pages) <= 2, (title, pages)
        for ind in domain.indicators:
            assert any(re.search(rf"^\s*{re.escape(ind.id)}\s", texts[n - 1], re.M)
                       for n in pages), ind.id


def test_pdf_renders_to_page_images(tmp_path, pdf):
    if missing := _pdf_tools_missing("pdftoppm"):
        pytest.skip(missing)
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "2", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == 2
    for image in images:
        data = image.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5_000, image.name
