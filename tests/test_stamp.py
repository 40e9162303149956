"""The stamper's invariant: a stamped workbook is byte-for-byte build_workbook's."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile

import pytest

from workbook_tool.files import sha256_bytes
from workbook_tool.generate import generate
from workbook_tool.reader.model import Answer
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook
from workbook_tool.writer import stamp as stamp_module
from workbook_tool.writer.page import header_code
from workbook_tool.writer.stamp import Stamper

HOSTILE_NAMES = [
    "Lincoln High School",
    "O'Keefe Academy / Arts",
    'The "Quoted" School',
    "A < B > C School",
    "Smith & Jones & Co",
    "P&G Academy",  # "&G" is an image placeholder to xlsxwriter
    "x&[Picture] School",
    "École Saint-Éxupéry — Ünïcödé",
    "Rocket School 🚀🚀 of 🧪 Science",
    "Summary",  # a sheet name
    "Emerging",  # a level label, also a shared string of the workbook
    "Glossary",
    "High",
    "=1+1",
    "+SUM(A1)",
    "@cmd",
    "-negative",
    " leading and trailing spaces ",
    "Tab\there",
    "Line one\nLine two",
    "Control \x01\x02 chars",
    "Escape _x0041_ lookalike",
    "<r><t>rich</t></r>",
    "]]> <![CDATA[ x",
    "&&&&",
    "&",
    "😀" * 150,
    "A" * 300,
    "Long " * 60 + "& the rest",
    "a" * 199 + "&b",  # the 200-character cut falls inside an escaped "&&"
    "ä" * 301,
    "x" * 40000,  # longer than a cell holds: xlsxwriter truncates
    "WbtStampQz trying the placeholder",
]


def _schools() -> list[School]:
    schools = []
    for i, name in enumerate(HOSTILE_NAMES):
        network = ["North", "", "Réseau & <Sud>", name, "Emerging"][i % 5]
        schools.append(School(f"S-{i:03d}", name, network))
    schools += [
        School("S-101", "S-101"),  # the id equal to the name: one shared string
        School("<&'\">", "Ids can be hostile too", "N"),
        School("1 Emerging", "Id equal to a level heading"),
        School("x" * 300, "A long id"),
        School("Ünï 🚀", "Unicode id", "Ünï 🚀 network"),
    ]
    return schools


@pytest.mark.parametrize("issue", [Issue("2026-27"),
                                   Issue("2026 & 27 <b>", due="March 15", return_to="a@b.org")])
def test_stamped_bytes_equal_built_bytes(rubric, issue):
    stamper = Stamper(rubric, issue)
    for school in _schools():
        # A 300-character id or a 40,000-character name makes xlsxwriter warn (and truncate):
        # both paths must do the same.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built = build_workbook(rubric, school, issue)
            stamped = stamper.workbook(school)
        assert stamped == built, (school, stamper.fallback_reason(school))


def test_most_hostile_names_are_stamped_not_built(rubric):
    stamper = Stamper(rubric, Issue("2026-27"))
    reasons = {name: stamper.fallback_reason(School("S-1", name, "North"))
               for name in HOSTILE_NAMES}
    built = {name for name, why in reasons.items() if why}
    # Equal to another string of the workbook (one shared string), over-long, or holding
    # the placeholder marker, or shaped like xlsxwriter's rich-string markup. ("Summary" is
    # only a sheet name, "High" a validation item.)
    assert built == {"Emerging", "Glossary", "x" * 40000, "WbtStampQz trying the placeholder",
                     "<r><t>rich</t></r>"}
    assert "equal" in stamper.fallback_reason(School("S-1", "Same", "Same"))
    assert "equal" in stamper.fallback_reason(School("1 Emerging", "Name"))


def test_small_rubric_domains_and_password(small_rubric, rubric):
    for rb, domains in ((small_rubric, None), (rubric, ["1", "3"])):
        issue = Issue("C1", due="soon")
        stamper = Stamper(rb, issue, domains, password="s3cret&<")
        for school in _schools()[:20]:
            built = build_workbook(rb, school, issue, domains, password="s3cret&<")
            assert stamper.workbook(school) == built, school


def test_stamped_workbook_is_a_valid_zip(rubric):
    school = School("S-1", 'Quote " & <tag> 🚀', "North")
    data = Stamper(rubric, Issue("2026-27")).workbook(school)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        text = archive.read("xl/sharedStrings.xml").decode("utf-8")
    assert "Quote &quot; &amp; &lt;tag&gt; 🚀" in text or "Quote \" &amp; &lt;tag&gt; 🚀" in text


def test_header_code_escapes_and_fits():
    assert header_code("A & B") == "&L&8A && B&R&8&A"
    assert "&G" not in header_code("P&G").replace("&&&8G", "")
    long = header_code("😀" * 300)
    assert len(long.encode("utf-16-le")) // 2 <= 255
    cut = header_code("a" * 199 + "&b")
    body = cut[len("&L&8"):-len("&R&8&A")]
    assert (len(body) - len(body.rstrip("&"))) % 2 == 0


def test_unknown_placeholder_falls_back_to_building(rubric, monkeypatch):
    """A school value landing somewhere the stamper does not know disables stamping."""
    real = stamp_module._fragments

    def fewer(*args):
        return real(*args)[:-1]  # forget the custom property

    monkeypatch.setattr(stamp_module, "_fragments", fewer)
    stamper = Stamper(rubric, Issue("2026-27"))
    school = School("S-1", "Lincoln", "North")
    assert "unknown placeholder" in stamper.fallback_reason(school)
    assert stamper.workbook(school) == build_workbook(rubric, school, Issue("2026-27"))


@pytest.mark.parametrize("jobs", [1, 2])
def test_generate_manifest_matches_reference(rubric, tmp_path, jobs):
    schools = [School(f"S{i:03d}", f"School {i} {HOSTILE_NAMES[i % len(HOSTILE_NAMES)][:80]}",
                      ["North", ""][i % 2]) for i in range(70)]
    issue = Issue("2026-27")
    generate(rubric, schools, tmp_path, issue, jobs=jobs)
    with open(tmp_path / "manifest.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(schools)
    for school, row in zip(schools, rows, strict=True):
        data = (tmp_path / row["file"]).read_bytes()
        assert row["sha256"] == sha256_bytes(data)
        if int(school.school_id[1:]) % 10 == 0:  # a sample: building is the slow path
            assert data == build_workbook(rubric, school, issue)


def test_stamping_with_answers(rubric):
    answers = {
        "1.1": Answer("1.1", 2, "Developing", "Minutes & <notes>", '=HYPERLINK("x")', "High"),
        "2.3": Answer("2.3", 4, "Transforming", "Evidence " * 80, "", "Low"),
        "5.4": Answer("5.4", None, "", "", "Plan it", ""),
    }
    issue = Issue("2026-27")
    stamper = Stamper(rubric, issue, answers=answers)
    names = ["Lincoln", "Minutes & <notes>", "Developing", 'Quote "q" 🚀', "High"]
    for i, name in enumerate(names):
        school = School(f"S-{i}", name, "North" if i % 2 else "")
        assert stamper.workbook(school) == build_workbook(rubric, school, issue, answers=answers)
    assert stamper.fallback_reason(School("S-9", "Minutes & <notes>"))
