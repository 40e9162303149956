"""Preflight on raw bytes: what a file that is not a workbook is said to be, sizes in the
messages, and where the directory of a compound file is looked for."""

from __future__ import annotations

import struct

import pytest

from workbook_tool.reader.preflight import Limits, Rejected, open_package

MIB = 2**20
SAVE_AS = 'open it and save it as "Excel Workbook (.xlsx)"'


def _rejected(data: bytes, limits: Limits | None = None) -> Rejected:
    with pytest.raises(Rejected) as caught:
        open_package(data, "r.xlsx", limits or Limits())
    return caught.value


def _looks_like(data: bytes) -> str:
    rejected = _rejected(data)
    assert rejected.code == "not-xlsx"
    prefix = "this is not an Excel workbook: it looks like "
    assert rejected.message.startswith(prefix)
    return rejected.message[len(prefix):]


# -- what a file that is not a workbook looks like --------------------------------------------

def test_a_pdf_is_named_a_pdf():
    assert _looks_like(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj") == "a PDF document"


WEB_PAGE = "a web page (HTML); download the workbook as .xlsx instead"


@pytest.mark.parametrize("data", [
    b"<html><body><table></table></body></html>",
    b"<HTML><BODY>",
    b"\xef\xbb\xbf<!DOCTYPE html><html>",  # a byte-order mark in front
    b"\xef\xbb\xbf\r\n  \t<html lang='en'>",  # a BOM, then blank lines and indentation
])
def test_a_web_page_is_named_a_web_page(data):
    assert _looks_like(data) == WEB_PAGE


def test_only_leading_blanks_are_skipped_before_the_html_tag():
    # "X" is not a blank: this text merely mentions a tag.
    assert _looks_like(b"X<html> is a tag") == "a text file"


def test_only_the_first_kib_is_looked_at():
    # The comma, the NUL byte and a broken UTF-8 byte sit just past the first 1024 bytes.
    assert _looks_like(b"a" * 1024 + b",b,c") == "a text file"
    assert _looks_like(b"a" * 1024 + b"\x00\x00") == "a text file"
    assert _looks_like(b"a" * 1020 + b",\xff" + b"a" * 10) == "a text or CSV file; " + SAVE_AS


# -- sizes in messages -------------------------------------------------------------------------

@pytest.mark.parametrize(("limit", "size", "message"), [
    (102_400, 102_401, "the file is 100.0 KiB, over the limit of 100.0 KiB"),
    (MIB, MIB + 1, "the file is 1.0 MiB, over the limit of 1.0 MiB"),
    (3 * MIB, 7 * MIB // 2, "the file is 3.5 MiB, over the limit of 3.0 MiB"),
])
def test_a_file_over_the_limit_says_both_sizes(limit, size, message):
    data = b"PK\x03\x04" + bytes(size - 4)
    rejected = _rejected(data, Limits(max_file_bytes=limit))
    assert (rejected.code, rejected.message) == ("too-large", message)


# -- compound files: encrypted workbook or legacy .xls ----------------------------------------

ENCRYPTED = ("the workbook is protected with a password to open; remove the password and send "
             "it again")
LEGACY = ("this is a legacy Excel 97-2003 .xls file (or another old Office file); " + SAVE_AS)


def _name(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\x00\x00"


def _entry(name: str, length: int | None = None) -> bytes:
    """A 128-byte directory entry: the UTF-16LE name, then its byte length."""
    encoded = _name(name)
    entry = bytearray(128)
    entry[: len(encoded)] = encoded
    struct.pack_into("<HB", entry, 64, len(encoded) if length is None else length, 2)
    return bytes(entry)


def _compound(body: bytes, header_tail: bytes = b"") -> bytes:
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[128 : 128 + len(header_tail)] = header_tail
    return bytes(header) + body


def _verdict(data: bytes) -> str:
    rejected = _rejected(data)
    return {ENCRYPTED: "encrypted", LEGACY: "legacy"}[rejected.message]


def test_the_directory_right_after_the_header_is_found():
    assert _verdict(_compound(_entry("EncryptionInfo") + bytes(384))) == "encrypted"
    assert _verdict(_compound(_entry("EncryptedPackage") + bytes(384))) == "encrypted"


def test_the_header_itself_is_not_the_directory():
    # The bytes of an entry inside the 512-byte header (at a 128-byte boundary) are not
    # a directory entry: this is an ordinary .xls.
    data = _compound(_entry("Workbook") + bytes(384), header_tail=_entry("EncryptionInfo"))
    assert _verdict(data) == "legacy"


def test_a_name_needs_both_an_aligned_entry_and_its_length():
    unaligned = bytes(3) + _entry("EncryptionInfo") + bytes(125)
    assert _verdict(_compound(unaligned)) == "legacy"
    wrong_length = _entry("EncryptionInfo", length=8) + bytes(128)
    assert _verdict(_compound(wrong_length)) == "legacy"


def test_every_place_the_name_appears_is_looked_at():
    # The name first inside some stream data (not aligned), then in a real entry, then in
    # stream data again: the real entry in the middle is found.
    stray = bytes(6) + _name("EncryptionInfo") + bytes(90)
    body = _entry("Root Entry") + stray + bytes(128 - len(stray) % 128) + _entry("EncryptionInfo")
    body += bytes(10) + _name("EncryptionInfo") + bytes(100)
    assert (512 + body.index(_entry("EncryptionInfo"))) % 128 == 0
    assert _verdict(_compound(body)) == "encrypted"


def test_the_first_of_two_entries_is_enough():
    # A real entry, then the name again in data further on (not an entry).
    body = _entry("EncryptionInfo") + bytes(128) + bytes(5) + _name("EncryptionInfo") + bytes(60)
    assert _verdict(_compound(body)) == "encrypted"


XML_2003 = b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'


@pytest.mark.parametrize(("data", "kind"), [
    (XML_2003, "an XML Spreadsheet 2003 file; " + SAVE_AS),
    (b'<?xml version="1.0"?>\n<root/>', "an XML file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "an image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "an image"),
    (b"GIF89a\x01\x00\x01\x00", "an image"),
    (b"\x09\x08\x10\x00\x00\x06\x05\x00", "a very old Excel file; " + SAVE_AS),
    (b"\x09\x04\x06\x00\x00\x00\x10\x00", "a very old Excel file; " + SAVE_AS),
    (b"\x01\x00\x02\x00\x03", "binary data of an unknown kind"),
    (b"\xfe\xfd\xfc plain bytes", "binary data of an unknown kind"),
    (b"id;name\n1;Alpha\n", "a text or CSV file; " + SAVE_AS),
    (b"id\tname\n1\tAlpha\n", "a text or CSV file; " + SAVE_AS),
    (b"id,name\n1,Alpha\n", "a text or CSV file; " + SAVE_AS),
    (b"just some words\n", "a text file"),
])
def test_what_a_non_workbook_looks_like(data, kind):
    assert _looks_like(data) == kind


def test_the_xml_spreadsheet_marker_is_looked_for_in_the_first_8_kib():
    marker = b"urn:schemas-microsoft-com:office:spreadsheet"
    head = b'<?xml version="1.0"?>'
    data = head + b" " * (8193 - len(head) - len(marker)) + marker  # ends at byte 8193
    assert _looks_like(data) == "an XML file"
    assert _looks_like(data.replace(b"  ", b" ", 1)) == "an XML Spreadsheet 2003 file; " + SAVE_AS


def test_a_broken_byte_well_before_the_end_of_the_first_kib_is_binary():
    # Five bytes before the end of the first KiB is not a character cut at the boundary.
    assert _looks_like(b"a" * 1019 + b"\xff" + b"a" * 10) == "binary data of an unknown kind"
    # Four bytes before the end, a 4-byte character would fit whole: a bad byte is binary.
    assert _looks_like(b"a" * 1020 + b"\xff" + b"a" * 10) == "binary data of an unknown kind"
    # A character cut by the 1 KiB boundary is text.
    assert _looks_like(b"a" * 1022 + "€".encode() + b"a") == "a text file"
