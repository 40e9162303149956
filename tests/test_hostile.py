"""Hostile and broken files: each is built here by code, and each gets its problem code.

No case may raise, hang or exhaust memory; the mutation test at the end corrupts a valid
return ~200 ways (fixed seed) and requires a ReturnResult every time, quickly.
"""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from returns_kit import (
    answers_for,
    codes,
    declare_size,
    edit_member,
    make_return,
    members,
    named_cell,
    read,
    rezip,
    set_cell_xml,
    sheet_part,
    small_rubric,
    zip_of,
)
from workbook_tool import layout
from workbook_tool.problems import CODES
from workbook_tool.reader import Limits, read_return

MIB = 2**20


@pytest.fixture(scope="module")
def rubric():
    return small_rubric()


@pytest.fixture(scope="module")
def valid(rubric):
    return make_return(rubric, answers=answers_for(rubric))


# -- builders ---------------------------------------------------------------------------------

def cfb(names: list[str]) -> bytes:
    """A minimal compound file (the container of .xls and of encrypted .xlsx): a 512-byte
    header and one directory sector holding entries with these names."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 0)  # first directory sector
    directory = bytearray(512)
    for i, name in enumerate(["Root Entry", *names][:4]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[: len(encoded)] = encoded
        struct.pack_into("<HB", entry, 64, len(encoded), 5 if i == 0 else 2)
        directory[i * 128 : (i + 1) * 128] = entry
    return bytes(header + directory + bytes(512))


def bomb(size: int) -> bytes:
    """A zip whose one member inflates to `size` bytes of zeros, built in 1 MiB steps."""
    out = io.BytesIO()
    chunk = bytes(MIB)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(size // MIB):
                member.write(chunk)
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>
"""


def replace_ns(xml: bytes) -> bytes:
    return xml.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                       b"http://purl.oclc.org/ooxml/spreadsheetml/main")


def data_sheet(data: bytes) -> str:
    return sheet_part(data, layout.DATA_SHEET)


def add_cell(data: bytes, cell_xml: bytes) -> bytes:
    """Append a row with a cell to the hidden data sheet."""
    return edit_member(data, data_sheet(data),
                       lambda xml: xml.replace(b"</sheetData>", cell_xml + b"</sheetData>"))


# -- the corpus -------------------------------------------------------------------------------

def cases(valid: bytes) -> list[tuple[str, str, bytes, str, str]]:
    """(id, file name, bytes, expected code, a phrase of the message)."""
    parts = members(valid)
    docx = {"[Content_Types].xml": parts["[Content_Types].xml"], "word/document.xml": b"<w/>"}
    ods = {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
           "content.xml": b"<office:document-content/>"}
    no_types = dict(parts)
    del no_types["[Content_Types].xml"]
    lock = bytes([5]) + b"alice".ljust(53, b" ") + "alice".encode("utf-16-le").ljust(107, b" ")
    return [
        ("empty", "r.xlsx", b"", "not-xlsx", "empty"),
        ("text", "r.xlsx", b"school_id,rating\nS1,3\n", "not-xlsx", "text"),
        ("pdf", "r.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not-xlsx", "PDF"),
        ("html", "r.xlsx", b"<!DOCTYPE html><html><body>Sign in</body></html>", "not-xlsx",
         "web page"),
        ("truncated-half", "r.xlsx", valid[: len(valid) // 2], "not-xlsx", "truncated"),
        ("truncated-tail", "r.xlsx", valid[:-30], "not-xlsx", "truncated"),
        ("xls", "r.xls", cfb(["Workbook", "SummaryInformation"]), "not-xlsx", ".xls"),
        ("encrypted", "r.xlsx", cfb(["EncryptionInfo", "EncryptedPackage"]), "encrypted",
         "password"),
        ("ods", "r.ods", zip_of(ods, stored=("mimetype",)), "not-xlsx", ".ods"),
        ("plain-zip", "r.xlsx", zip_of({"notes.txt": b"hello"}), "not-xlsx",
         "[Content_Types].xml"),
        ("no-content-types", "r.xlsx", rezip(no_types), "not-xlsx", "[Content_Types].xml"),
        ("docx", "r.xlsx", zip_of(docx), "not-xlsx", "xl/workbook.xml"),
        ("strict", "r.xlsx", edit_member(valid, "xl/workbook.xml", replace_ns), "not-xlsx",
         "Strict"),
        ("billion-laughs", "r.xlsx",
         edit_member(valid, "xl/sharedStrings.xml", lambda _: BILLION_LAUGHS), "unsafe-xml",
         "DTD"),
        ("entity-in-properties", "r.xlsx",
         edit_member(valid, "docProps/custom.xml",
                     lambda x: x.replace(b"?>", b'?><!ENTITY x SYSTEM "file:///etc/passwd">', 1)),
         "unsafe-xml", "docProps/custom.xml"),
        ("utf16-doctype", "r.xlsx",
         edit_member(valid, "docProps/custom.xml",
                     lambda _: '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x []><x/>'
                     .encode("utf-16")),
         "unsafe-xml", "DTD"),
        ("excel-lock", "~$r.xlsx", lock, "not-xlsx", "lock file"),
        ("libreoffice-lock", ".~lock.r.xlsx#", b",alice,host,01.01.2024 10:00,file:///x;",
         "not-xlsx", "lock file"),
        ("ratio", "r.xlsx", zip_of({**parts, "xl/media/pad.bin": bytes(4 * MIB)}), "too-large",
         "compresses"),
        ("lying-size", "r.xlsx",
         declare_size(zip_of({**parts, "xl/pad.xml": bytes(3 * MIB)}), "xl/pad.xml", 1000),
         "too-large", "more than its declared"),
    ]


def _sub_dimension(xml: bytes, ref: bytes) -> bytes:
    start = xml.index(b'<dimension ref="') + len(b'<dimension ref="')
    return xml[:start] + ref + xml[xml.index(b'"', start):]


def test_a_huge_declared_dimension_and_an_empty_last_row_are_not_too_large(rubric, valid):
    """calamine sizes a sheet from its cells: a declared A1:XFD1048576 and an empty row
    1048576 (LibreOffice writes both after a row is deleted) allocate nothing."""
    def far(xml):
        xml = _sub_dimension(xml, b"A1:XFD1048576")
        return xml.replace(b"</sheetData>", b'<row r="1048576" hidden="1"/></sheetData>')

    result = read(edit_member(valid, data_sheet(valid), far), rubric)
    assert result.problems == []
    assert result.school_id == "S1"


def test_hostile_corpus(rubric, valid):
    for case, file, data, code, phrase in cases(valid):
        start = time.perf_counter()
        result = read(data, rubric, file=file)
        assert time.perf_counter() - start < 2, case
        assert codes(result) == [code], (case, result.problems)
        assert phrase.lower() in result.problems[0].message.lower(), (case, result.problems)
        assert result.answers == [] and not result.ok, case


def test_zip_bomb_over_the_unzipped_limit(rubric):
    data = bomb(201 * MIB)
    assert len(data) < 2 * MIB
    result = read(data, rubric)
    assert codes(result) == ["too-large"]
    assert "unpacks to" in result.problems[0].message


def test_limits_are_options(rubric, valid):
    assert codes(read(valid, rubric, limits=Limits(max_file_bytes=1000))) == ["too-large"]
    assert codes(read(valid, rubric, limits=Limits(max_unzipped_bytes=10_000))) == ["too-large"]
    assert codes(read(valid, rubric, limits=Limits(max_cells=10))) == ["too-large"]


def test_duplicate_member_names(rubric, valid):
    out = io.BytesIO(valid)
    with zipfile.ZipFile(out, "a") as z, pytest.warns(UserWarning, match="Duplicate"):
        z.writestr("xl/workbook.xml", b"<workbook/>")
    assert codes(read(out.getvalue(), rubric)) == ["not-xlsx"]


def test_xlsm_with_macros_is_read_and_never_run(rubric, valid):
    def content_types(xml):
        return xml.replace(b"</Types>", b'<Default Extension="bin" ContentType='
                           b'"application/vnd.ms-office.vbaProject"/></Types>')

    parts = members(edit_member(valid, "[Content_Types].xml", content_types))
    parts["xl/vbaProject.bin"] = cfb(["VBA", "PROJECT"])
    result = read(rezip(parts), rubric, file="r.xlsm")
    assert codes(result) == ["macros-ignored"]
    assert result.ok and result.rated == 5


def test_text_over_excel_limit_is_kept_with_warning(rubric, valid):
    sheet, ref = named_cell(valid, "evidence_1_1")
    text = "x" * 40_000
    cell = f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    result = read(set_cell_xml(valid, sheet, ref, cell), rubric)
    assert codes(result) == ["text-too-long"]
    assert result.answers[0].evidence == text
    assert result.ok


# Cases where calamine itself would abort the whole process (a Rust allocation failure is not
# an exception): run in a child with a memory cap so a regression fails here, not the run.
CHILD = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    from workbook_tool.reader import read_return
    from workbook_tool.rubric import load_rubric
    rubric = load_rubric(sys.argv[1])
    for path in sys.argv[2:]:
        result = read_return(open(path, "rb").read(), path, rubric)
        print(",".join(p.code for p in result.problems))
""")


def test_allocation_bombs_are_refused_before_calamine(tmp_path, rubric, valid):
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    quoted = b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>"
    wrapped = b'<row r="9"><c r="ZZZZZZZZ9"><v>1</v></c></row>'
    loose = b'<row r="1048576">' + b"<c/>" * 50 + b'<c r="XFD1048576"/><c><v>1</v></c></row>'

    def forged_count(xml):
        return xml.replace(b"uniqueCount=\"", b"uniqueCount=\"4000000000", 1)

    corpus = {
        "far": add_cell(valid, far),
        "quoted": add_cell(valid, quoted),
        "wrapped": add_cell(valid, wrapped),
        "loose": add_cell(valid, loose),
        "count": edit_member(valid, "xl/sharedStrings.xml", forged_count),
    }
    paths = []
    for name, data in corpus.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        paths.append(str(path))
    src = Path(__file__).resolve().parents[1] / "src"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(rubric.path), *paths],
        capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(src)},
    )
    assert child.returncode == 0, child.stderr[-2000:]
    lines = child.stdout.splitlines()
    assert lines == ["too-large", "too-large", "too-large", "too-large", "unreadable"], lines


# -- mutations -----------------------------------------------------------------------------

JUNK = [b"<", b">", b"&", b'"', b"'", b"\x00", b"\xff\xfe", b"</row>", b"<c r=\"A0\">",
        b'<c r="XFD1048576"><v>1</v></c>', b"<f>1</f>", b"<![CDATA[", b"]]>", b"&#0;",
        b"<!-- ", b"99999999999", b"<row>", b"<c>", b"xmlns:x=\"y\"", b"<definedName>"]


def mutate(rng: random.Random, valid: bytes, parts: dict[str, bytes]) -> bytes:
    kind = rng.random()
    if kind < 0.3:  # flip bytes anywhere
        data = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind < 0.45:  # truncate
        return valid[: rng.randrange(len(valid))]
    # mangle one XML member and rezip it (checksums stay valid: the XML itself is broken)
    name = rng.choice([n for n in parts if n.endswith((".xml", ".rels"))])
    xml = bytearray(parts[name])
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(xml) + 1)
        action = rng.random()
        if action < 0.35:
            del xml[at : at + rng.randint(1, 40)]
        elif action < 0.7:
            xml[at:at] = rng.choice(JUNK)
        elif action < 0.85:
            xml[at:at] = xml[at : at + rng.randint(1, 200)]
        else:
            xml[at : at + 1] = bytes([rng.randrange(32, 127)])
    return rezip({**parts, name: bytes(xml)})


def test_mutations_never_raise(rubric, valid):
    rng = random.Random(20240901)
    parts = members(valid)
    seen: set[str] = set()
    slowest = 0.0
    for i in range(200):
        data = mutate(rng, valid, parts)
        start = time.perf_counter()
        result = read_return(data, f"mutant-{i}.xlsx", rubric)
        slowest = max(slowest, time.perf_counter() - start)
        assert result.sha256 and result.file == f"mutant-{i}.xlsx"
        for problem in result.problems:
            assert problem.code in CODES, (i, problem)
            seen.add(problem.code)
        if result.ok:
            assert result.total == 5, i
    assert slowest < 1.0
    assert {"not-xlsx", "unreadable"} <= seen, seen  # the corpus does reach the deep paths
