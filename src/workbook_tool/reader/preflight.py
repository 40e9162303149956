"""Cheap checks on the raw bytes of a return, before any spreadsheet library sees them.

Everything here distrusts the file: sizes declared in zip headers are checked against
limits before anything is decompressed, every XML part is decompressed with a bounded read
(a part that inflates past its declared size is a zip bomb), and checked for DTDs and
entities. What survives is a `Package`: the zip's XML parts, decompressed and safe to parse.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

MIB = 2**20
RATIO_MIN_SIZE = MIB  # members smaller than this are never a bomb, whatever their ratio
MAX_MEMBERS = 10_000  # a generated return has a few dozen parts

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
CONTENT_TYPES = "[Content_Types].xml"
WORKBOOK = "xl/workbook.xml"
_XML_SUFFIXES = (".xml", ".rels")
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_ENCRYPTION_STREAMS = ("EncryptionInfo", "EncryptedPackage")
_UNIQUE_COUNT = re.compile(rb"""uniqueCount\s*=\s*["']\s*\+?([0-9]+)""")
_SAVE_AS = 'open it and save it as "Excel Workbook (.xlsx)"'


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MIB  # file size
    max_unzipped_bytes: int = 200 * MIB  # sum of uncompressed member sizes
    max_ratio: int = 200  # compression ratio of any member over 1 MiB
    max_cells: int = 2_000_000  # sheet dimension rows*cols on a sheet we read


class Rejected(Exception):
    """The return cannot be read; `code` is a problems.CODES key."""

    def __init__(self, code: str, message: str, sheet: str = "", cell: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.sheet = sheet
        self.cell = cell


@dataclass
class Package:
    """A zip that passed preflight, with its XML parts decompressed (bounded)."""

    data: bytes
    names: list[str]
    xml: dict[str, bytes] = field(default_factory=dict)
    has_macros: bool = False

    def part(self, name: str) -> bytes | None:
        """An XML part by its zip name (exact, else case-insensitive), or None."""
        found = self.xml.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        for key, value in self.xml.items():
            if key.lower() == lowered:
                return value
        return None


def open_package(data: bytes, file: str, limits: Limits) -> Package:
    """Return the checked package or raise Rejected with the first reason it cannot be read."""
    if not data:
        raise Rejected("not-xlsx", "the file is empty (0 bytes)")
    base = PurePosixPath(file.replace("\\", "/")).name
    if base.startswith(("~$", ".~lock")):
        raise Rejected(
            "not-xlsx",
            "this is a lock file that Excel or LibreOffice leaves while a workbook is open, "
            "not a workbook; close the workbook and send the real file",
        )
    if data[:8] == CFB_MAGIC:
        if _cfb_encrypted(data):
            raise Rejected(
                "encrypted",
                "the workbook is protected with a password to open; remove the password "
                "and send it again",
            )
        raise Rejected(
            "not-xlsx",
            f"this is a legacy Excel 97-2003 .xls file (or another old Office file); {_SAVE_AS}",
        )
    if data[:4] not in ZIP_MAGICS:
        raise Rejected("not-xlsx", f"this is not an Excel workbook: it looks like {_sniff(data)}")
    if len(data) > limits.max_file_bytes:
        raise Rejected(
            "too-large",
            f"the file is {_mib(len(data))}, over the limit of {_mib(limits.max_file_bytes)}",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # BadZipFile, struct.error, ValueError, ... on a damaged directory
        raise Rejected(
            "not-xlsx", "the file is damaged or truncated (its zip structure is incomplete)"
        ) from None
    with archive:
        return _check_archive(data, archive, infos, limits)


def _check_archive(data: bytes, archive: zipfile.ZipFile, infos, limits: Limits) -> Package:
    if len(infos) > MAX_MEMBERS:
        raise Rejected("too-large", f"the file holds {len(infos)} parts (a workbook has dozens)")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise Rejected("not-xlsx", "the file is damaged (two parts share one name)")
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_unzipped_bytes:
        raise Rejected(
            "too-large",
            f"the workbook unpacks to {_mib(declared)}, over the limit of "
            f"{_mib(limits.max_unzipped_bytes)}",
        )
    for info in infos:
        if info.file_size > RATIO_MIN_SIZE:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise Rejected(
                    "too-large",
                    f"the part {info.filename} compresses {ratio:.0f} to 1 (limit "
                    f"{limits.max_ratio}): a zip bomb, not a workbook",
                )
    if "mimetype" in names:
        mime = _read_member(data, archive.getinfo("mimetype"))
        if mime.startswith(b"application/vnd.oasis.opendocument"):
            kind = "an OpenDocument spreadsheet (.ods)" if mime.startswith(ODS_MIME) else (
                "an OpenDocument file"
            )
            raise Rejected("not-xlsx", f"this is {kind}; {_SAVE_AS}")
    if CONTENT_TYPES not in names:
        raise Rejected("not-xlsx", f"this zip file is not an Excel workbook (no {CONTENT_TYPES})")
    if WORKBOOK not in names:
        raise Rejected("not-xlsx", f"this zip file is not an Excel workbook (no {WORKBOOK})")
    package = Package(data, names)
    for info in infos:
        lowered = info.filename.lower()
        if lowered.endswith("vbaproject.bin"):
            package.has_macros = True
        if not lowered.endswith(_XML_SUFFIXES) or info.is_dir():
            continue
        body = _read_member(data, info)
        if has_dtd(body):
            raise Rejected(
                "unsafe-xml",
                f"the part {info.filename} declares a DTD or entities, which this tool never "
                "reads",
            )
        package.xml[info.filename] = body
        if lowered.endswith("sharedstrings.xml"):
            _check_string_count(info.filename, body)
    if STRICT_NS in package.xml[WORKBOOK]:
        raise Rejected(
            "not-xlsx",
            'the workbook is saved as "Strict Open XML Spreadsheet"; open it and save it as '
            '"Excel Workbook (.xlsx)"',
        )
    return package


def _read_member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, decompressed from the raw stream without trusting its headers."""
    damaged = Rejected("not-xlsx", f"the file is damaged (part {info.filename} is broken)")
    if info.flag_bits & 0x1:
        raise Rejected("encrypted", "the parts of this zip file are encrypted with a password")
    offset = info.header_offset
    if offset < 0 or offset + 30 > len(data):
        raise damaged
    signature, name_len, extra_len = struct.unpack_from("<4s22xHH", data, offset)
    if signature != b"PK\x03\x04":
        raise damaged
    start = offset + 30 + name_len + extra_len
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) < info.compress_size:
        raise damaged
    size = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        body = bytes(raw)
        if len(body) != size:
            raise damaged
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            body = inflater.decompress(raw, size + 1)
        except zlib.error:
            raise damaged from None
        if len(body) > size:
            # A flipped bit also inflates past the declared size, then breaks off; a bomb
            # keeps going. Look one MiB further to tell them apart.
            try:
                more = inflater.decompress(inflater.unconsumed_tail, MIB)
            except zlib.error:
                raise damaged from None
            if len(more) < MIB:
                raise damaged
            raise Rejected(
                "too-large",
                f"the part {info.filename} unpacks to more than its declared "
                f"{size} bytes: a zip bomb, not a workbook",
            )
        if len(body) != size or not inflater.eof:
            raise damaged
    else:
        raise Rejected(
            "not-xlsx",
            f"the part {info.filename} uses a compression method Excel does not write; "
            f"{_SAVE_AS}",
        )
    if zlib.crc32(body) != info.CRC:
        raise damaged
    return body


def _check_string_count(name: str, body: bytes) -> None:
    """calamine reserves memory for the declared uniqueCount before reading any string:
    a forged count would make it allocate gigabytes and abort the process."""
    match = _UNIQUE_COUNT.search(body)
    if match and int(match.group(1)) > len(body) // 4 + 64:  # an entry takes >= 5 bytes
        raise Rejected(
            "unreadable",
            f"the part {name} is damaged (it declares {int(match.group(1)):,} strings in "
            f"{len(body):,} bytes)",
        )


def has_dtd(body: bytes) -> bool:
    head = body[:2]
    # What makes expat read UTF-16: a byte-order mark, else a NUL byte among the first two
    # (first: big-endian, second: little-endian), whatever the characters are.
    if head in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16"
    elif head[:1] == b"\x00":
        codec = "utf-16-be"
    elif head[1:2] == b"\x00":
        codec = "utf-16-le"
    else:
        codec = ""
    if codec:
        try:
            body = body.decode(codec).encode("utf-8")
        except UnicodeDecodeError:
            return True  # undecodable UTF-16 XML: refuse rather than guess
    return b"<!" in body and any(marker in body for marker in _DTD_MARKERS)


def _cfb_encrypted(data: bytes) -> bool:
    """Does the compound file's directory hold the streams of an encrypted OOXML package?

    Directory entries are 128 bytes, 128-aligned after the 512-byte header (4096 for v4):
    64 bytes of UTF-16LE name, then the name's byte length including the terminator.
    """
    for stream in _ENCRYPTION_STREAMS:
        encoded = stream.encode("utf-16-le") + b"\x00\x00"
        pos = data.find(encoded, 512)
        while pos != -1:
            if pos % 128 == 0 and data[pos + 64 : pos + 66] == struct.pack("<H", len(encoded)):
                return True
            pos = data.find(encoded, pos + 1)
    return False


def _sniff(data: bytes) -> str:
    head = data[:1024]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML); download the workbook as .xlsx instead"
    if stripped.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in data[:8192]:
            return "an XML Spreadsheet 2003 file; " + _SAVE_AS
        return "an XML file"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "an image"
    if head.startswith(b"\x09\x08") or head.startswith(b"\x09\x04"):
        return "a very old Excel file; " + _SAVE_AS
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start <= len(head) - 4:  # a 4-byte character there fits: not a cut
                return "binary data of an unknown kind"
        if b"," in head or b"\t" in head or b";" in head:
            return "a text or CSV file; " + _SAVE_AS
        return "a text file"
    return "binary data of an unknown kind"


def _mib(size: int) -> str:
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    return f"{size / 1024:.1f} KiB"
