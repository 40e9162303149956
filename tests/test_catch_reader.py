"""The reader's edges: long defined-name texts in messages, files over the size limit,
archives inside archives over their limit, and exceptions turned into problems."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile

from returns_kit import make_return, small_rubric
from workbook_tool.files import Entry
from workbook_tool.reader import source
from workbook_tool.reader.locate import Book, Unresolved
from workbook_tool.reader.preflight import Limits
from workbook_tool.roster import School

MIB = 2**20

# -- a defined name's text in a message is cut at 60 characters --------------------------------

A60 = "'" + "A" * 49 + "'!$G$4:$H9"  # 60 characters


def _not_a_single_cell(text: str) -> str:
    found = Book(names={"rating_1_1": text}).resolve("rating_1_1")
    assert isinstance(found, Unresolved)
    assert found.code == "missing-cell"
    prefix = "the defined name rating_1_1 does not point at a single cell ("
    assert found.message.startswith(prefix) and found.message.endswith(")")
    return found.message[len(prefix):-1]


def test_a_text_of_60_characters_is_shown_whole():
    assert len(A60) == 60
    assert _not_a_single_cell(A60) == A60


def test_a_longer_text_is_cut_to_59_characters_and_an_ellipsis():
    text = "'" + "B" * 50 + "'!$G$4:$H$99"  # 62 characters
    assert _not_a_single_cell(text[:61]) == "'" + "B" * 50 + "'!$G$4:$…"
    assert _not_a_single_cell(text) == "'" + "B" * 50 + "'!$G$4:$…"


# -- a file on disk over the limit ---------------------------------------------------------------

def test_a_file_two_bytes_over_the_limit_is_hashed_whole(tmp_path):
    body = b"PK\x03\x04" + bytes(range(256)) * 4  # 1028 bytes
    path = tmp_path / "big.xlsx"
    path.write_bytes(body)
    result = source.read_file(path, small_rubric(), Limits(max_file_bytes=1026), display="big.xlsx")
    assert result.file == "big.xlsx"
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    ((file, code, message),) = [(p.file, p.code, p.message) for p in result.problems]
    assert (file, code) == ("big.xlsx", "too-large")
    assert message == "the file is 0.0 MiB, over the limit of 0.0 MiB"


class _Shrinking:
    """A handle whose file was cut short while it was read: its size (fstat) says more than
    the reads give."""

    def __init__(self, real, parts: list[bytes]):
        self.real, self.parts = real, parts

    def fileno(self) -> int:
        return self.real.fileno()

    def read(self, size: int) -> bytes:
        return self.parts.pop(0) if self.parts else b""


def test_a_file_cut_short_while_hashed_gets_no_sha256(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(bytes(2000))
    with open(path, "rb") as real:
        # 1000 bytes read first, 999 more, then the end: one byte short of its size
        result = source._oversized_file("big.xlsx", _Shrinking(real, [bytes(999)]), bytes(1000),
                                        1000)
    assert result.sha256 == ""
    assert [p.code for p in result.problems] == ["too-large"]


# -- archives inside an archive ------------------------------------------------------------------

def _zip(name: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr(name, body)
    return out.getvalue()


def _nested(tmp_path, inner: bytes):
    path = tmp_path / "outer.zip"
    path.write_bytes(_zip("inner.zip", inner))
    chain = (Entry("inner.zip", 0), Entry("r.xlsx", 0))
    return source.read_file(path, small_rubric(), display="outer.zip!inner.zip!r.xlsx",
                            member=chain)


def test_an_inner_archive_over_its_limit_is_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(source, "NESTED_BYTES", MIB)
    source._last_inner.clear()
    inner = _zip("r.xlsx", make_return() + bytes(MIB))
    result = _nested(tmp_path, inner)
    assert result.sha256 == ""
    assert [(p.file, p.code, p.message) for p in result.problems] == [(
        "outer.zip!inner.zip!r.xlsx", "too-large",
        "the archive holding this file unpacks to more than 1 MiB; unzip it and send the "
        "returns inside")]


def test_an_inner_archive_of_exactly_its_limit_is_read(tmp_path, monkeypatch):
    workbook = make_return()
    inner = _zip("r.xlsx", workbook)
    monkeypatch.setattr(source, "NESTED_BYTES", len(inner))
    source._last_inner.clear()
    result = _nested(tmp_path, inner)
    assert [p.code for p in result.problems] == ["unrated"]  # read: a blank return
    assert result.sha256 == hashlib.sha256(workbook).hexdigest()
    assert (result.school_id, result.cycle) == ("S1", "2024-25")


# -- an exception's reason in a problem ----------------------------------------------------------

def test_an_exception_without_a_message_is_named_by_its_type():
    assert source._reason(ValueError()) == "ValueError"
    assert source._reason(ValueError("  \n ")) == "ValueError"


def test_an_exception_message_gives_its_first_line_cut_at_160_characters():
    assert source._reason(KeyError("x")) == "KeyError: 'x'"
    assert source._reason(ValueError("first line\nsecond")) == "ValueError: first line"
    assert source._reason(ValueError("y" * 200)) == "ValueError: " + "y" * 160


def test_a_reading_error_without_a_message_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError

    monkeypatch.setattr(source, "_read", broken)
    result = source.read_file(tmp_path / "r.xlsx", small_rubric(), display="r.xlsx")
    assert [(p.code, p.message) for p in result.problems] == [
        ("unreadable", "the file could not be read (RuntimeError)")]


def _one_member_zip(path, body: bytes, method: int | None = None) -> None:
    data = bytearray(_zip("r.xlsx", body))
    if method is not None:  # a compression method written by some other program
        struct.pack_into("<H", data, 8, method)  # local header
        central = data.rindex(b"PK\x01\x02")
        struct.pack_into("<H", data, central + 10, method)
    path.write_bytes(bytes(data))


def test_a_member_with_an_unknown_compression_method_is_named_by_its_number(tmp_path):
    path = tmp_path / "a.zip"
    _one_member_zip(path, make_return(), method=95)
    result = source.read_file(path, small_rubric(), display="a.zip!r.xlsx",
                              member=(Entry("r.xlsx", 0),))
    assert [(p.code, p.message) for p in result.problems] == [(
        "unreadable", "the zip archive stores this file with a compression method this tool "
        "cannot unpack (method 95); unzip it with your usual program and send the workbook "
        "itself")]


def test_a_member_past_the_end_of_the_archive_means_it_changed(tmp_path):
    path = tmp_path / "a.zip"
    _one_member_zip(path, make_return())
    result = source.read_file(path, small_rubric(), display="a.zip!r.xlsx",
                              member=(Entry("r.xlsx", 1),))
    assert [(p.code, p.message) for p in result.problems] == [(
        "unreadable", "the archive changed while it was being read; run the consolidation again")]


def _outer(path, inner: bytes, pad: int) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("inner.zip", inner)
        z.writestr("pad.txt", bytes(pad))
    path.write_bytes(out.getvalue())


def test_two_archives_alike_in_size_and_time_are_not_mixed_up(tmp_path):
    one = _zip("r.xlsx", make_return(school=School("S1", "Alpha School")))
    two = _zip("r.xlsx", make_return(school=School("S2", "Alpha School")))
    widest = max(len(one), len(two))
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    _outer(first, one, 10 + widest - len(one))
    _outer(second, two, 10 + widest - len(two))
    assert first.stat().st_size == second.stat().st_size
    os.utime(second, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns))
    source._last_inner.clear()
    chain = (Entry("inner.zip", 0), Entry("r.xlsx", 0))
    ids = [source.read_file(path, small_rubric(), member=chain).school_id
           for path in (first, second)]
    assert ids == ["S1", "S2"]


def test_members_of_one_inner_archive_inflate_it_once(tmp_path, monkeypatch):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.xlsx", make_return(school=School("S1", "Alpha School")))
        z.writestr("b.xlsx", make_return(school=School("S2", "Beta School")))
    path = tmp_path / "outer.zip"
    path.write_bytes(_zip("inner.zip", inner.getvalue()))
    inflated = []
    real = source._nested_bytes

    def counted(archive, entry):
        inflated.append(entry)
        return real(archive, entry)

    monkeypatch.setattr(source, "_nested_bytes", counted)
    source._last_inner.clear()
    ids = [source.read_file(path, small_rubric(),
                            member=(Entry("inner.zip", 0), Entry(name, i))).school_id
           for i, name in enumerate(["a.xlsx", "b.xlsx"])]
    assert ids == ["S1", "S2"]
    assert inflated == [Entry("inner.zip", 0)]
