"""Preflight of a zip, case by case (mutation run 9): the members it reads and keeps, each
limit at its boundary, the damaged and forged headers it refuses, and every message word
for word. The zips are hand-made with `zipfile` and, where a header has to lie, patched
byte by byte."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zipfile
import zlib

import pytest

from returns_kit import central_entry, declare_size, patch_both, zip_of
from workbook_tool.reader import read_return
from workbook_tool.reader.preflight import Limits, Package, Rejected, has_dtd, open_package

MIB = 2**20
SAVE_AS = 'open it and save it as "Excel Workbook (.xlsx)"'
DAMAGED = "the file is damaged (part {} is broken)"
# The two parts every workbook must hold; their text is never parsed by preflight.
BASE = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def rejected(data: bytes, limits: Limits | None = None) -> tuple[str, str]:
    with pytest.raises(Rejected) as caught:
        open_package(data, "r.xlsx", limits or Limits())
    return caught.value.code, caught.value.message


def declare_compressed(data: bytes, member: str, size: int) -> bytes:
    return patch_both(data, member, 18, 20, "<I", size)


# -- Package.part ------------------------------------------------------------------------------

def test_a_part_found_by_its_exact_name_wins_over_another_case():
    package = Package(b"", [], {"XL/Workbook.xml": b"other case", "xl/workbook.xml": b"exact"})
    assert package.part("xl/workbook.xml") == b"exact"
    assert package.part("XL/Workbook.xml") == b"other case"


def test_a_part_is_found_in_another_case_else_none():
    package = Package(b"", [], {"a.xml": b"a", "xl/Workbook.xml": b"w"})
    assert package.part("XL/WORKBOOK.XML") == b"w"
    assert package.part("xl/workbook.xml") == b"w"
    assert package.part("xl/styles.xml") is None


# -- what open_package keeps ------------------------------------------------------------------

def test_only_xml_and_rels_parts_are_kept_and_every_one_after_a_binary_part():
    parts = {**BASE, "xl/media/image1.png": b"\x89PNG not xml", "xl/_rels/workbook.xml.rels":
             b"<Relationships/>", "xl/styles.xml": b"<styleSheet/>"}
    data = zip_of(parts)
    package = open_package(data, "r.xlsx", Limits())
    assert package.data == data
    assert package.names == list(parts)
    assert package.xml == {name: body for name, body in parts.items() if "media" not in name}
    assert package.has_macros is False


def test_a_dtd_after_a_binary_part_is_still_refused():
    data = zip_of({**BASE, "xl/media/a.bin": b"\x00", "xl/sharedStrings.xml": b"<!DOCTYPE x>"})
    assert rejected(data) == (
        "unsafe-xml",
        "the part xl/sharedStrings.xml declares a DTD or entities, which this tool never reads")


# -- the number of parts -----------------------------------------------------------------------

def many_parts(count: int) -> bytes:
    parts = dict(BASE)
    parts.update((f"m/{i}.bin", b"") for i in range(count - len(BASE)))
    return zip_of(parts, zipfile.ZIP_STORED)


def test_ten_thousand_parts_are_allowed_one_more_is_too_large():
    assert len(open_package(many_parts(10_000), "r.xlsx", Limits()).names) == 10_000
    assert rejected(many_parts(10_001)) == (
        "too-large", "the file holds 10001 parts (a workbook has dozens)")


def test_two_parts_with_one_name_are_damaged():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        data = zip_of({**BASE, "xl/styles.xml": b"<a/>"})
        out = io.BytesIO(data)
        with zipfile.ZipFile(out, "a") as archive:
            archive.writestr("xl/styles.xml", b"<b/>")
    assert rejected(out.getvalue()) == (
        "not-xlsx", "the file is damaged (two parts share one name)")


# -- sizes: the unzipped total and the compression ratio ---------------------------------------

def test_the_unzipped_total_may_equal_its_limit():
    data = zip_of({**BASE, "m.bin": bytes(1000)})
    total = sum(len(body) for body in BASE.values()) + 1000
    assert open_package(data, "r.xlsx", Limits(max_unzipped_bytes=total)).names
    assert rejected(data, Limits(max_unzipped_bytes=total - 1))[0] == "too-large"


def test_a_member_of_exactly_one_mib_is_never_a_bomb():
    # 1 MiB of zeros deflates far past 200 to 1, but only members over 1 MiB are checked.
    data = zip_of({**BASE, "m.bin": bytes(MIB)})
    assert open_package(data, "r.xlsx", Limits()).names[-1] == "m.bin"
    code, message = rejected(zip_of({**BASE, "m.bin": bytes(MIB + 1)}))
    assert code == "too-large"
    assert message.startswith("the part m.bin compresses ")


def test_a_ratio_equal_to_the_limit_is_allowed():
    # Stored, so 1 to 1 exactly: a limit of 1 is met, not exceeded.
    noise = random.Random(9).randbytes(MIB + 1)
    data = zip_of({**BASE, "m.bin": noise}, zipfile.ZIP_STORED)
    assert open_package(data, "r.xlsx", Limits(max_ratio=1)).names[-1] == "m.bin"


def test_an_incompressible_member_over_one_mib_is_no_bomb():
    noise = random.Random(9).randbytes(2 * MIB)
    data = zip_of({**BASE, "m.bin": noise})
    assert open_package(data, "r.xlsx", Limits()).names[-1] == "m.bin"


def test_a_member_declared_with_nothing_compressed_counts_as_one_byte():
    # A forged header: 1 MiB + 2 bytes from 0 compressed bytes is a ratio of 1,048,578.
    data = declare_size(zip_of({**BASE, "m.bin": b""}, zipfile.ZIP_STORED), "m.bin", MIB + 2)
    assert rejected(data, Limits(max_ratio=1_000_000)) == (
        "too-large",
        "the part m.bin compresses 1048578 to 1 (limit 1000000): a zip bomb, not a workbook")


# -- OpenDocument files ------------------------------------------------------------------------

@pytest.mark.parametrize(("mime", "kind"), [
    (b"application/vnd.oasis.opendocument.spreadsheet", "an OpenDocument spreadsheet (.ods)"),
    (b"application/vnd.oasis.opendocument.text", "an OpenDocument file"),
])
def test_an_opendocument_file_is_named(mime, kind):
    data = zip_of({"mimetype": mime, "content.xml": b"<office:document-content/>"})
    assert rejected(data) == ("not-xlsx", f"this is {kind}; {SAVE_AS}")


# -- damaged and forged members ----------------------------------------------------------------

def test_a_member_with_a_wrong_checksum_is_damaged():
    data = zip_of(BASE)
    data = patch_both(data, "xl/workbook.xml", 14, 16, "<I", zlib.crc32(b"other") & 0xFFFFFFFF)
    assert rejected(data) == ("not-xlsx", DAMAGED.format("xl/workbook.xml"))


def test_a_member_flagged_as_encrypted_is_refused():
    data = patch_both(zip_of(BASE), "xl/workbook.xml", 6, 8, "<H", 0x1)
    assert rejected(data) == (
        "encrypted", "the parts of this zip file are encrypted with a password")


def test_a_local_header_past_the_end_of_the_file_is_damaged():
    data = zip_of(BASE)
    for offset in (len(data) - 10, len(data) - 29):
        forged = bytearray(data)
        struct.pack_into("<I", forged, central_entry(data, "xl/workbook.xml") + 42, offset)
        assert rejected(bytes(forged)) == ("not-xlsx", DAMAGED.format("xl/workbook.xml"))


def test_a_local_header_that_ends_the_file_is_read():
    # An empty stored member whose 30-byte local header is the last 30 bytes of the file
    # (in the archive comment): it is read, as an empty part.
    parts = {**BASE, "docProps/app.xml": b""}
    data = zip_of(parts, zipfile.ZIP_STORED, comment=bytes(30))
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("docProps/app.xml")
    header = data[info.header_offset : info.header_offset + 30]
    forged = bytearray(data[:-30] + header[:26] + b"\x00\x00\x00\x00")  # no name, no extra
    struct.pack_into("<I", forged, central_entry(data, "docProps/app.xml") + 42, len(data) - 30)
    package = open_package(bytes(forged), "r.xlsx", Limits())
    assert package.xml["docProps/app.xml"] == b""


@pytest.mark.parametrize("extra_size", [8, 40_000])
def test_a_local_extra_field_is_skipped(extra_size):
    # An extra field of 40,000 bytes has a length over 32,767: read as unsigned.
    info = zipfile.ZipInfo("xl/styles.xml")
    info.compress_type = zipfile.ZIP_DEFLATED
    info.extra = struct.pack("<HH", 0xCAFE, extra_size - 4) + bytes(extra_size - 4)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in BASE.items():
            archive.writestr(name, body)
        archive.writestr(info, b"<styleSheet>" + b"x" * 200 + b"</styleSheet>")
    package = open_package(out.getvalue(), "r.xlsx", Limits())
    assert package.xml["xl/styles.xml"] == b"<styleSheet>" + b"x" * 200 + b"</styleSheet>"


def test_a_member_that_inflates_to_less_than_declared_is_damaged():
    # The stream ends (and its checksum is right) before the declared size is reached.
    data = declare_size(zip_of({**BASE, "xl/styles.xml": b"<a/>" * 25}), "xl/styles.xml", 200)
    assert rejected(data) == ("not-xlsx", DAMAGED.format("xl/styles.xml"))


def test_a_bomb_is_told_from_a_flipped_bit_exactly_one_mib_past_the_declared_size():
    # Declared 100 bytes; the stream inflates to 101 + 1 MiB: a full MiB past the first byte
    # too many, so a bomb.
    data = declare_size(zip_of({**BASE, "xl/styles.xml": bytes(101 + MIB)}), "xl/styles.xml", 100)
    assert rejected(data) == (
        "too-large",
        "the part xl/styles.xml unpacks to more than its declared 100 bytes: a zip bomb, "
        "not a workbook")
    # One byte less past it: a stream that breaks off, so damaged.
    data = declare_size(zip_of({**BASE, "xl/styles.xml": bytes(100 + MIB)}), "xl/styles.xml", 100)
    assert rejected(data) == ("not-xlsx", DAMAGED.format("xl/styles.xml"))


def test_a_compression_method_excel_does_not_write_is_named():
    data = zip_of(BASE, zipfile.ZIP_BZIP2)
    assert rejected(data) == (
        "not-xlsx",
        f"the part [Content_Types].xml uses a compression method Excel does not write; {SAVE_AS}")


# -- the shared strings' declared count --------------------------------------------------------

def strings_part(count: int, size: int) -> bytes:
    head = f'<sst uniqueCount="{count}">'.encode()
    tail = b"</sst>"
    return head + b" " * (size - len(head) - len(tail)) + tail


def test_a_string_count_up_to_a_quarter_of_the_size_plus_64_is_allowed():
    # 4,000 bytes: at most 4000 // 4 + 64 = 1,064 strings.
    data = zip_of({**BASE, "xl/sharedStrings.xml": strings_part(1064, 4000)})
    assert open_package(data, "r.xlsx", Limits()).xml["xl/sharedStrings.xml"].startswith(b"<sst")
    data = zip_of({**BASE, "xl/sharedStrings.xml": strings_part(1065, 4000)})
    assert rejected(data) == (
        "unreadable",
        "the part xl/sharedStrings.xml is damaged (it declares 1,065 strings in 4,000 bytes)")


def test_a_string_count_checked_on_a_small_part():
    # 400 bytes: 164 allowed; a count of 150 is far under (a fifth of the size would refuse it).
    data = zip_of({**BASE, "xl/sharedStrings.xml": strings_part(150, 400)})
    assert open_package(data, "r.xlsx", Limits()).names[-1] == "xl/sharedStrings.xml"
    data = zip_of({**BASE, "xl/sharedStrings.xml": strings_part(165, 400)})
    assert rejected(data)[0] == "unreadable"


# -- has_dtd -----------------------------------------------------------------------------------

DOCTYPE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'


def _utf16(text: str, form: str) -> bytes:
    return {
        "le": text.encode("utf-16-le"),  # no byte-order mark: a NUL second
        "be": text.encode("utf-16-be"),  # no byte-order mark: a NUL first
        "be-bom": b"\xfe\xff" + text.encode("utf-16-be"),
        "le-bom": b"\xff\xfe" + text.encode("utf-16-le"),
    }[form]


# A real bug found by this run: expat reads a part as UTF-16 whenever one of its first two
# bytes is NUL, with or without an XML declaration, but has_dtd only decoded little-endian
# text that began "<?" (and decoded big-endian text without a byte-order mark as
# little-endian), so these DTDs reached the standard library's parser, which expands
# entities.
@pytest.mark.parametrize("form", ["le", "be", "be-bom", "le-bom"])
@pytest.mark.parametrize("text", [
    DOCTYPE,
    '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',  # no XML declaration
    '\n<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',  # a blank line first
], ids=["declared", "no-declaration", "blank-line-first"])
def test_a_dtd_in_utf16_is_found(form, text):
    assert has_dtd(_utf16(text, form)) is True
    assert has_dtd(_utf16(text.replace("!", ""), form)) is False


def test_a_dtd_in_a_big_endian_workbook_part_is_refused():
    workbook = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w [<!ENTITY n "S">]>'
                '<workbook><sheets><sheet name="&n;"/></sheets></workbook>')
    data = zip_of({**BASE, "xl/workbook.xml": workbook.encode("utf-16-be")})
    assert rejected(data) == (
        "unsafe-xml",
        "the part xl/workbook.xml declares a DTD or entities, which this tool never reads")


def test_undecodable_utf16_is_refused():
    assert has_dtd(b"\xff\xfe<\x00x\x00/\x00>\x00\x00") is True  # an odd byte at the end


def test_cdata_is_not_a_dtd():
    assert has_dtd(b"<x><![CDATA[a]]></x>") is False
    assert has_dtd(b"<x><!-- a comment --></x>") is False


# -- Rejected, and the messages of open_package --------------------------------------------------

def test_a_rejection_carries_its_code_message_and_place():
    plain = Rejected("not-xlsx", "why")
    assert (plain.code, plain.message, plain.sheet, plain.cell, str(plain)) == (
        "not-xlsx", "why", "", "", "why")
    placed = Rejected("unreadable", "why", "Sheet 1", "B2")
    assert (placed.sheet, placed.cell) == ("Sheet 1", "B2")


def test_a_return_refused_by_preflight_has_a_problem_without_a_place(small_rubric):
    result = read_return(b"", "r.xlsx", small_rubric)
    assert [(p.file, p.code, p.message, p.sheet, p.cell) for p in result.problems] == [
        ("r.xlsx", "not-xlsx", "the file is empty (0 bytes)", "", "")]


LOCK = ("this is a lock file that Excel or LibreOffice leaves while a workbook is open, not a "
        "workbook; close the workbook and send the real file")


@pytest.mark.parametrize("file", ["~$r.xlsx", "folder\\~$r.xlsx", "a\\b/.~lock.r.xlsx#"])
def test_a_lock_file_is_named_after_windows_or_posix_folders(file):
    with pytest.raises(Rejected) as caught:
        open_package(b"PK\x03\x04", file, Limits())
    assert (caught.value.code, caught.value.message) == ("not-xlsx", LOCK)


def test_an_empty_file_and_a_broken_zip_are_named():
    assert rejected(b"") == ("not-xlsx", "the file is empty (0 bytes)")
    assert rejected(b"PK\x03\x04" + bytes(40)) == (
        "not-xlsx", "the file is damaged or truncated (its zip structure is incomplete)")


def test_a_file_of_exactly_the_size_limit_is_read():
    data = zip_of(BASE)
    assert open_package(data, "r.xlsx", Limits(max_file_bytes=len(data))).names == list(BASE)
    assert rejected(data, Limits(max_file_bytes=len(data) - 1))[0] == "too-large"


def test_a_strict_open_xml_workbook_is_named():
    workbook = b'<workbook xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"/>'
    assert rejected(zip_of({**BASE, "xl/workbook.xml": workbook})) == (
        "not-xlsx",
        'the workbook is saved as "Strict Open XML Spreadsheet"; open it and save it as '
        '"Excel Workbook (.xlsx)"')
