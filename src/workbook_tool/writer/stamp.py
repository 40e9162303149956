"""Fast generation: build the rubric part once, stamp only what differs per school.

A school's workbook differs from another school's of the same round only in a few strings
(school id, name and network) and in the height of the row showing the school's name.
`Stamper` builds a *template* with `build_book` for placeholder schools whose values are
unique tokens, finds every XML fragment that holds a token (shared strings, the page
header of every visible sheet, the core and custom document properties), and per school
replaces those fragments with the same fragments rendered for the real school by
xlsxwriter's own escaping code, then writes the zip itself: members without a token keep
their already-compressed bytes, the few with one are compressed again exactly as
xlsxwriter (Python's zipfile) does.

The result is byte-for-byte the output of `build_workbook` for the same inputs; the tests
check that over many hostile school names. Schools whose values would make xlsxwriter do
something different (a value equal to another string of the workbook, which the shared
string table would merge; an over-long value it would truncate; a header it would refuse)
are built with `build_workbook`, so the invariant holds for every school.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.xmlwriter import XMLwriter

from ..reader.model import Answer, TeamRatings
from ..roster import School
from ..rubric import Rubric
from . import Issue, build_book, build_workbook, document_properties, header_text
from .page import header_code
from .start import subtitle_row_height

__all__ = ["Stamper"]

# Placeholder values: plain ASCII (no escaping applies), found nowhere else in a workbook.
MARK = "WbtStampQz"
TOKEN_ID = f"{MARK}SchoolId"
TOKEN_NAME = f"{MARK}SchoolName"
TOKEN_NETWORK = f"{MARK}Network"
TOKEN_HEADER = f"{MARK}Header"

XLSX_STRING_MAX = 32767  # xlsxwriter truncates longer cell strings (with a warning)
HEADER_MAX_UTF16 = 255  # xlsxwriter refuses longer page headers (with a warning)
PROPERTY_MAX_UTF16 = 255  # xlsxwriter warns about longer text properties

_LOCAL_SIG = b"PK\x03\x04"
_CENTRAL_SIG = b"PK\x01\x02"
_END_SIG = b"PK\x05\x06"


class StampError(Exception):
    """The template is not what the stamper expects; generation falls back to building."""


# -- rendering fragments exactly as xlsxwriter writes them ----------------------------

def _xml_data(text: str) -> str:
    """`text` as the content of an XML data element (page header, document property)."""
    writer = XMLwriter()
    fh = io.StringIO()
    writer._set_filehandle(fh)
    writer._xml_data_element("x", text)
    return fh.getvalue()[3:-4]


def _shared_string(text: str) -> str:
    """The <si> element of `text` in xl/sharedStrings.xml."""
    writer = SharedStrings()
    fh = io.StringIO()
    writer._set_filehandle(fh)
    writer._write_si(text)
    return fh.getvalue()


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fragments(rubric: Rubric, school: School, header: str, issue: Issue) -> list[str]:
    """Every XML fragment holding a school value, most specific first, in a fixed order.

    The template's fragments (placeholder school) and a real school's line up by position.
    """
    props = document_properties(rubric, school, issue)
    return [
        _shared_string(school.school_name),
        _shared_string(school.school_id),
        _shared_string(school.network) if school.network else "",
        _xml_data(header_code(header)),
        f"<dc:title>{_xml_data(props['title'])}</dc:title>",
        f"<cp:keywords>{_xml_data(props['keywords'])}</cp:keywords>",
        f"<vt:lpwstr>{_xml_data(school.school_id)}</vt:lpwstr>",
    ]


def school_values(school: School) -> list[str]:
    """The school's values a workbook shows (the network only when there is one)."""
    return [school.school_id, school.school_name, *([school.network] if school.network else [])]


def school_unsafe(rubric: Rubric, issue: Issue, school: School) -> str:
    """Why the school's values cannot be stamped into a template; "" when they can."""
    values = school_values(school)
    if not all(values):
        return "an empty value"
    if any(MARK in v or len(v) > XLSX_STRING_MAX for v in values):
        return "a placeholder or an over-long value"
    if any(v.startswith("<r>") and v.endswith("</r>") for v in values):
        return "text shaped like rich-string markup (written as rich runs)"
    code = header_code(header_text(rubric, school, issue))
    if "&G" in code.replace("&[Picture]", "&G") or _utf16_len(code) > HEADER_MAX_UTF16:
        return "a page header xlsxwriter refuses"
    if _utf16_len(school.school_id) > PROPERTY_MAX_UTF16:
        return "a school id longer than a document property allows"
    return ""


# -- the zip container ------------------------------------------------------------------

@dataclass
class _Member:
    name: str
    local: bytes  # local file header (name and extra field included)
    payload: bytes  # compressed bytes as in the template
    central: bytes  # central directory entry
    data: bytes | None = None  # uncompressed, only for members holding a placeholder
    slots: tuple[int, ...] = ()  # indices of the fragments found in `data`


def _parse_zip(blob: bytes) -> tuple[list[_Member], bytes]:
    """Members of a small zip written by zipfile (no zip64, no comment) and its end record."""
    end = blob.rfind(_END_SIG)
    if end < 0 or len(blob) - end != 22:
        raise StampError("unexpected zip end record")
    eocd = blob[end:]
    _, _, _, count, cd_size, cd_offset, _ = struct.unpack("<4HLLH", eocd[4:])
    members = []
    pos = cd_offset
    for _ in range(count):
        if blob[pos:pos + 4] != _CENTRAL_SIG:
            raise StampError("unexpected central directory entry")
        (method, _crc, csize, usize, nlen, xlen, clen, offset) = struct.unpack(
            "<H4xLLLHHH8xL", blob[pos + 10:pos + 46])
        central = blob[pos:pos + 46 + nlen + xlen + clen]
        name = central[46:46 + nlen].decode("utf-8")
        if method != zlib.DEFLATED or xlen or 0xFFFFFFFF in (csize, usize, offset):
            raise StampError(f"unexpected zip member {name}")
        if blob[offset:offset + 4] != _LOCAL_SIG:
            raise StampError("unexpected local header")
        lnlen, lxlen = struct.unpack("<HH", blob[offset + 26:offset + 30])
        start = offset + 30 + lnlen + lxlen
        members.append(_Member(name, blob[offset:start], blob[start:start + csize], central))
        pos += len(central)
    if pos != cd_offset + cd_size:
        raise StampError("unexpected central directory size")
    return members, eocd


def _deflate(data: bytes) -> bytes:
    # What zipfile does for ZIP_DEFLATED at the default level.
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _write_zip(parts: list[tuple[_Member, bytes | None]], eocd: bytes) -> bytes:
    """The zip of `parts`: (member, new uncompressed data or None to keep the template's)."""
    out = bytearray()
    central = bytearray()
    for member, data in parts:
        offset = len(out)
        if data is None:
            out += member.local
            out += member.payload
            entry = member.central
        else:
            payload = _deflate(data)
            sizes = struct.pack("<LLL", zlib.crc32(data), len(payload), len(data))
            out += member.local[:14] + sizes + member.local[26:]
            out += payload
            entry = member.central[:16] + sizes + member.central[28:]
        central += entry[:42] + struct.pack("<L", offset) + entry[46:]
    cd_offset = len(out)
    out += central
    out += eocd[:12] + struct.pack("<LL", len(central), cd_offset) + eocd[20:]
    return bytes(out)


# -- templates --------------------------------------------------------------------------

@dataclass
class _Template:
    members: list[_Member]
    eocd: bytes
    fragments: list[bytes]  # the placeholder school's fragments, as in _fragments
    strings: frozenset[str]  # every other string of the shared string table


@dataclass
class Stamper:
    """Writes the workbooks of one generation round (rubric, issue, domains, password).

    `answers`, when given, pre-fill every school's workbook with the same answers (test
    data and benchmarks); generate() leaves them empty. With `issue.raters` every workbook
    gets the Team ratings sheet, which holds no school value, so it is stamped like the
    rest; `team`, when given, pre-fills the same raters' ratings into every workbook.
    """

    rubric: Rubric
    issue: Issue
    domain_ids: list[str] | None = None
    password: str | None = None
    answers: dict[str, Answer] | None = None
    team: TeamRatings | None = None
    templates: dict[tuple[bool, float], _Template] = field(default_factory=dict)
    broken: str = ""  # why templates cannot be used (then every school is built)

    def __post_init__(self) -> None:
        if isinstance(self.issue, str):
            self.issue = Issue(cycle=self.issue)

    def workbook(self, school: School) -> bytes:
        """The same bytes as build_workbook(rubric, school, issue, domain_ids, answers,
        password)."""
        if self.fallback_reason(school):
            return build_workbook(self.rubric, school, self.issue, self.domain_ids,
                                  self.answers, self.password, team=self.team)
        template = self.templates[self._key(school)]
        news = [f.encode("utf-8") for f in _fragments(
            self.rubric, school, header_text(self.rubric, school, self.issue), self.issue)]
        parts: list[tuple[_Member, bytes | None]] = []
        for member in template.members:
            data = member.data
            if data is not None:
                for i in member.slots:
                    data = data.replace(template.fragments[i], news[i])
            parts.append((member, data))
        return _write_zip(parts, template.eocd)

    def prepare(self, schools: list[School]) -> None:
        """Build every template these schools need (before sending the stamper to workers)."""
        for school in schools:
            self.fallback_reason(school)

    def fallback_reason(self, school: School) -> str:
        """Why `school` must be built rather than stamped; "" when it can be stamped."""
        values = school_values(school)
        if all(values) and len(set(values)) != len(values):
            return "two equal values (one shared string)"
        unsafe = school_unsafe(self.rubric, self.issue, school)
        if unsafe:
            return unsafe
        template = self._template(school)
        if template is None:
            return self.broken
        if any(v in template.strings for v in values):
            return "a value equal to another string of the workbook"
        return ""

    @staticmethod
    def _key(school: School) -> tuple[bool, float]:
        return bool(school.network), subtitle_row_height(school.school_name)

    def _template(self, school: School) -> _Template | None:
        if self.broken:
            return None
        key = self._key(school)
        if key not in self.templates:
            try:
                self.templates[key] = self._build_template(*key)
            except StampError as exc:
                self.broken = f"no template ({exc})"
                return None
        return self.templates[key]

    def _build_template(self, has_network: bool, height: float) -> _Template:
        # The contact fields are not in a workbook today: as tokens, any future use of them
        # shows up as an unknown placeholder, and generation falls back to building.
        token = School(TOKEN_ID, TOKEN_NAME, TOKEN_NETWORK if has_network else "",
                       f"{MARK}Contact", f"{MARK}Email")
        blob, book = build_book(self.rubric, token, self.issue, self.domain_ids,
                                self.answers, self.password, team=self.team,
                                header=TOKEN_HEADER,
                                subtitle_height=height)
        fragments = [f.encode("utf-8")
                     for f in _fragments(self.rubric, token, TOKEN_HEADER, self.issue)]
        tokens = {TOKEN_ID, TOKEN_NAME, TOKEN_NETWORK}
        strings = frozenset(s for s in book.str_table.string_array if s not in tokens)
        members, eocd = _parse_zip(blob)
        mark = MARK.encode("ascii")
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in members:
                data = archive.read(member.name)
                if mark not in data:
                    continue
                slots = tuple(i for i, f in enumerate(fragments) if f and f in data)
                rest = data
                for i in slots:
                    rest = rest.replace(fragments[i], b"")
                if mark in rest:  # a school value landed somewhere the stamper does not know
                    raise StampError(f"an unknown placeholder in {member.name}")
                member.data, member.slots = data, slots
        return _Template(members, eocd, fragments, strings)
