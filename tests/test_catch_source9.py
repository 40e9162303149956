"""Reading a return from disk or from a zip member at exactly the size limit (mutation run 9):
a file or member of exactly `max_file_bytes` is read like any other, one byte more is
too large."""

from __future__ import annotations

import hashlib
import io
import zipfile

from returns_kit import answers_for, make_return, small_rubric
from workbook_tool.reader import source
from workbook_tool.reader.preflight import Limits


def _return() -> bytes:
    rubric = small_rubric()
    return make_return(rubric, answers=answers_for(rubric))


def _summary(result) -> tuple:
    # The small rubric has 5 indicators, every one answered.
    return (result.file, result.school_id, len(result.answers),
            [(p.code, p.message) for p in result.problems])


def test_a_file_of_exactly_the_limit_is_read(tmp_path):
    data = _return()
    path = tmp_path / "r.xlsx"
    path.write_bytes(data)
    result = source.read_file(path, small_rubric(), Limits(max_file_bytes=len(data)),
                              display="r.xlsx")
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert _summary(result) == ("r.xlsx", "S1", 5, [])
    over = source.read_file(path, small_rubric(), Limits(max_file_bytes=len(data) - 1),
                            display="r.xlsx")
    assert [p.code for p in over.problems] == ["too-large"]


def test_a_member_of_exactly_the_limit_is_read(tmp_path):
    data = _return()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("r.xlsx", data)
    path = tmp_path / "a.zip"
    path.write_bytes(out.getvalue())
    result = source.read_file(path, small_rubric(), Limits(max_file_bytes=len(data)),
                              display="a.zip!r.xlsx", member="r.xlsx")
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert _summary(result) == ("a.zip!r.xlsx", "S1", 5, [])
    over = source.read_file(path, small_rubric(), Limits(max_file_bytes=len(data) - 1),
                            display="a.zip!r.xlsx", member="r.xlsx")
    assert [p.code for p in over.problems] == ["too-large"]
    assert over.sha256 == hashlib.sha256(data[:-1]).hexdigest()
