"""The reader's edges: long defined-name texts in messages, files over the size limit,
archives inside archives over their limit, and exceptions turned into problems."""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zipfile

import pytest

from returns_kit import (
    CYCLE,
    SCHOOL,
    answers_for,
    edit_member,
    make_return,
    named_cell,
    read,
    set_cell_xml,
    set_named_value,
    small_rubric,
    with_openpyxl,
)
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



# -- the answer cells' messages: what, sheet and cell of each problem ------------------------

def _answers_damaged() -> bytes:
    data = make_return(answers=answers_for(small_rubric()))
    cells = {
        "F4": '<c r="F4" t="e"><v>#N/A</v></c>',  # rating of 1.1
        "F5": '<c r="F5" t="inlineStr"><is><t>growing</t></is></c>',  # rating of 1.2
        "F7": '<c r="F7" t="inlineStr"><is><t>Gr\u043ewing</t></is></c>',  # 1.3, Cyrillic o
        "G4": '<c r="G4" t="e"><v>#DIV/0!</v></c>',  # evidence of 1.1
        "H4": '<c r="H4" t="e"><v></v></c>',  # next steps of 1.1
        "I4": '<c r="I4" t="inlineStr"><is><t>Urgent</t></is></c>',  # priority of 1.1
        "G5": '<c r="G5" t="inlineStr"><is><t>' + "x" * 32800 + "</t></is></c>",  # 1.2
    }
    for ref, xml in cells.items():
        data = set_cell_xml(data, "D1 Leadership", ref, xml)

    def drop(xml: bytes) -> bytes:
        for name in ("evidence_2_1", "next_steps_2_1", "priority_2_1", "rating_2_2"):
            xml, count = re.subn(rf'<definedName name="{name}">[^<]*</definedName>'.encode(),
                                 b"", xml)
            assert count == 1
        return xml

    return edit_member(data, "xl/workbook.xml", drop)


def test_answer_problems_name_what_sheet_and_cell():
    result = read(_answers_damaged(), small_rubric())
    got = [(p.code, p.message, p.sheet, p.cell) for p in result.problems]
    d1 = "D1 Leadership"
    levels = "(Beginning, Growing, Strong Practice)"
    assert got == [
        ("invalid-rating", f"the rating of 1.1 is the error value #N/A, which is not one of the "
         f"levels {levels}", d1, "F4"),
        ("error-value", "the evidence of 1.1 shows the error value #DIV/0!; it was kept as that "
         "text", d1, "G4"),
        ("error-value", "the next steps of 1.1 is marked as an error value but holds no error "
         "text; it was read as empty", d1, "H4"),
        ("invalid-priority", 'the priority of 1.1 is "Urgent", not one of High, Medium, Low; it '
         "was kept as typed", d1, "I4"),
        ("normalized-rating", 'the rating of 1.2 "growing" was read as 2 (Growing)', d1, "F5"),
        ("text-too-long", "the evidence of 1.2 is 32,800 characters long as Excel counts them, "
         "more than the 32,767 an Excel cell holds: district_summary.xlsx shows its first "
         "32,767, and ratings.csv and ratings.parquet keep it whole", d1, "G5"),
        ("invalid-rating", 'the rating of 1.3 is "Gr<U+043E>wing", which is not one of the '
         f"levels {levels}", d1, "F7"),
        ("missing-cell", "the evidence of 2.1 cannot be read: the defined name evidence_2_1 is "
         "missing (it was deleted or renamed)", "", ""),
        ("missing-cell", "the next steps of 2.1 cannot be read: the defined name next_steps_2_1 "
         "is missing (it was deleted or renamed)", "", ""),
        ("missing-cell", "the priority of 2.1 cannot be read: the defined name priority_2_1 is "
         "missing (it was deleted or renamed)", "", ""),
        ("missing-cell", "the rating of 2.2 cannot be read: the defined name rating_2_2 is "
         "missing (it was deleted or renamed)", "", ""),
    ]
    # each problem carries the id of the school the workbook was read as
    assert {p.school_id for p in result.problems} == {"S1"}
    answers = {a.indicator_id: a for a in result.answers}
    assert (answers["1.1"].evidence, answers["1.1"].next_steps, answers["1.1"].priority) == (
        "#DIV/0!", "", "Urgent")
    assert answers["1.2"].evidence == "x" * 32800
    # a cell whose name is gone reads as empty, and so does an unreadable rating's label
    assert (answers["2.1"].evidence, answers["2.1"].next_steps, answers["2.1"].priority) == (
        "", "", "")
    assert (answers["2.2"].level, answers["2.2"].label) == (None, "")


# -- the school cells: read when the metadata does not say, checked, claimed once -----------

def _without_school_metadata(data: bytes) -> bytes:
    """The hidden sheet's and the properties' school id, school name and cycle removed."""
    def edit(book):
        for row in book["_workbook_tool"].iter_rows():
            if row[0].value in ("school_id", "school_name", "cycle"):
                row[1].value = None

    data = with_openpyxl(data, edit)

    def drop(xml: bytes) -> bytes:
        for key in ("school_id", "school_name", "cycle"):
            xml = re.sub(rf'<property name="{key}" [^>]*>.*?</property>'.encode(), b"", xml)
        return xml

    return edit_member(data, "docProps/custom.xml", drop)


def test_school_cells_are_read_when_the_metadata_does_not_say():
    result = read(_without_school_metadata(make_return()), small_rubric())
    assert (result.school_id, result.school_name, result.cycle) == ("S1", "Alpha School",
                                                                    "2024-25")
    assert [p.code for p in result.problems] == ["unrated"]


def test_a_workbook_naming_no_school_is_unknown_school():
    data = set_named_value(_without_school_metadata(make_return()), "school_id", None)
    result = read(data, small_rubric())
    assert (result.school_id, result.school_name, result.cycle) == ("", "Alpha School",
                                                                    "2024-25")
    got = [(p.code, p.message, p.sheet, p.cell) for p in result.problems]
    assert got[0] == ("unknown-school", "the workbook does not say which school it is for",
                      "", "")


def test_a_school_cell_after_a_missing_name_is_still_read():
    def drop(xml: bytes) -> bytes:
        xml, count = re.subn(rb'<definedName name="school_id">[^<]*</definedName>', b"", xml)
        assert count == 1
        return xml

    data = edit_member(_without_school_metadata(make_return()), "xl/workbook.xml", drop)
    result = read(data, small_rubric())
    assert (result.school_name, result.cycle) == ("Alpha School", "2024-25")


def test_school_cells_sharing_a_cell_and_a_school_mismatch_name_the_cell():
    def point(xml: bytes) -> bytes:
        for name in ("school_name", "cycle"):
            xml, count = re.subn(rf'<definedName name="{name}">[^<]*</definedName>'.encode(),
                                 f"<definedName name=\"{name}\">'Start Here'!$B$5"
                                 "</definedName>".encode(), xml)
            assert count == 1
        return xml

    data = edit_member(set_named_value(make_return(), "school_id", "S9"), "xl/workbook.xml",
                       point)
    result = read(data, small_rubric())
    got = [(p.code, p.message, p.sheet, p.cell) for p in result.problems]
    assert got[:3] == [
        ("school-mismatch", 'the school id on the workbook says "S9", but the workbook was '
         'generated for school "S1"', "Start Here", "B5"),
        ("misplaced-cell", "the school name cannot be read: the defined name school_name points "
         "at the same cell as school_id, so one answer would be read twice", "Start Here",
         "B5"),
        ("misplaced-cell", "the cycle cannot be read: the defined name cycle points at the same "
         "cell as school_id, so one answer would be read twice", "Start Here", "B5"),
    ]
    assert result.school_id == "S1"


def test_an_answer_name_at_a_school_cell_is_claimed_once():
    """school_id pointing at the rating cell of 1.1: the rating is not read twice."""
    def point(xml: bytes) -> bytes:
        xml, count = re.subn(rb'<definedName name="school_id">[^<]*</definedName>',
                             b"<definedName name=\"school_id\">'D1 Leadership'!$F$4"
                             b"</definedName>", xml)
        assert count == 1
        return xml

    data = edit_member(make_return(answers=answers_for(small_rubric())), "xl/workbook.xml", point)
    result = read(data, small_rubric())
    got = [(p.code, p.message, p.sheet, p.cell) for p in result.problems
           if p.code == "misplaced-cell"]
    assert got == [
        ("misplaced-cell", "the rating of 1.1 cannot be read: the defined name rating_1_1 points "
         "at the same cell as school_id, so one answer would be read twice", "D1 Leadership",
         "F4"),
    ]
    # 1.1 is left unrated (never read from the school's cell), the others read as usual
    assert [(a.indicator_id, a.level, a.label) for a in result.answers] == [
        ("1.1", None, ""), ("1.2", 2, "Growing"), ("1.3", 3, "Strong Practice"),
        ("2.1", 1, "Beginning"), ("2.2", 2, "Growing")]
    assert [(p.code, p.sheet, p.cell) for p in result.problems] == [
        ("school-mismatch", "D1 Leadership", "F4"), ("misplaced-cell", "D1 Leadership", "F4")]


# -- the unrated warning: counted, listed up to ten, "indicator is" for one -----------------

def _district():
    from pathlib import Path

    from workbook_tool.rubric import load_rubric

    return load_rubric(Path(__file__).parent.parent / "rubric" / "district_framework.yaml")


def _unrated(rubric, domain_ids, rated: list[str]) -> list[tuple[str, str]]:
    answers = {k: v for k, v in answers_for(rubric, domain_ids).items() if k in rated}
    result = read(make_return(rubric, domain_ids=domain_ids, answers=answers), rubric)
    return [(p.code, p.message) for p in result.problems]


def test_eleven_unrated_are_listed_ten_and_an_ellipsis():
    assert _unrated(_district(), ["1", "2"], ["2.4"]) == [
        ("unrated", "11 of 12 indicators are not rated: 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, "
         "2.1, 2.2, …"),
    ]


def test_ten_unrated_are_all_listed():
    assert _unrated(_district(), ["1", "2"], ["2.3", "2.4"]) == [
        ("unrated", "10 of 12 indicators are not rated: 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, "
         "2.1, 2.2"),
    ]


def test_one_unrated_is_an_indicator_is():
    assert _unrated(small_rubric(), None, ["1.1", "1.2", "1.3", "2.1"]) == [
        ("unrated", "1 of 5 indicators is not rated: 2.2"),
    ]


# -- team cells: their messages name what, sheet and cell ------------------------------------

TEAM = "Team ratings"
TOO_LONG = ("is 32,800 characters long as Excel counts them, more than the 32,767 an Excel cell "
            "holds: district_summary.xlsx shows its first 32,767, and ratings.csv and "
            "ratings.parquet keep it whole")


def _team(rubric=None, raters: int = 3) -> bytes:
    from workbook_tool.writer import Issue, build_workbook

    return build_workbook(rubric or small_rubric(), SCHOOL, Issue(CYCLE, raters=raters))


def test_team_cell_problems_name_what_sheet_and_cell():
    data = _team()
    for ref, xml in {
        "C4": '<c r="C4" t="e"><v>#REF!</v></c>',  # name of rater 1
        "D4": '<c r="D4" t="inlineStr"><is><t>' + "y" * 32800 + "</t></is></c>",  # rater 2
        "E4": '<c r="E4" t="str"><f>"Ana"&amp;" Ruiz"</f><v>Ana Ruiz</v></c>',  # rater 3
        "C7": '<c r="C7" t="inlineStr"><is><t>Gr\u043ewing</t></is></c>',  # 1.1 by rater 1
        "J7": '<c r="J7" t="str"><f>"see"&amp;" notes"</f><v>see notes</v></c>',  # note 1.1
        "J8": '<c r="J8" t="e"><v>#NAME?</v></c>',  # note of 1.2
    }.items():
        data = set_cell_xml(data, TEAM, ref, xml)
    result = read(data, small_rubric())
    got = [(p.code, p.message, p.sheet, p.cell) for p in result.problems if p.code != "unrated"]
    assert got == [
        ("error-value", "the name of rater 1 shows the error value #REF!; it was kept as that "
         "text", TEAM, "C4"),
        ("text-too-long", f"the name of rater 2 {TOO_LONG}", TEAM, "D4"),
        ("formula-value", 'the name of rater 3 is a formula; its last computed value "Ana Ruiz" '
         "was used", TEAM, "E4"),
        ("invalid-rater-rating", 'the rating of 1.1 by rater 1 (#REF!) is "Gr<U+043E>wing", '
         "which is not one of the levels (Beginning, Growing, Strong Practice); it is left out "
         "of the team's statistics", TEAM, "C7"),
        ("formula-value", 'the agreement note of 1.1 is a formula; its last computed value "see '
         'notes" was used', TEAM, "J7"),
        ("error-value", "the agreement note of 1.2 shows the error value #NAME?; it was kept as "
         "that text", TEAM, "J8"),
    ]
    assert result.team.names == ("#REF!", "y" * 32800, "Ana Ruiz")
    assert result.team.notes == {"1.1": "see notes", "1.2": "#NAME?"}


def test_one_rater_name_elsewhere_does_not_move_the_team_sheet():
    """rater_name_1, the first team name, points at another sheet: the team sheet is still
    where most team names point, and only that name is lost."""
    def point(xml: bytes) -> bytes:
        xml, count = re.subn(rb'<definedName name="rater_name_1">[^<]*</definedName>',
                             b"<definedName name=\"rater_name_1\">'Start Here'!$D$20"
                             b"</definedName>", xml)
        assert count == 1
        return xml

    data = set_cell_xml(_team(), TEAM, "D4", '<c r="D4" t="inlineStr"><is><t>Bo</t></is></c>')
    data = set_cell_xml(data, TEAM, "C7", '<c r="C7" t="inlineStr"><is><t>Growing</t></is></c>')
    result = read(edit_member(data, "xl/workbook.xml", point), small_rubric())
    assert result.team.names == ("", "Bo", "")
    assert result.team.levels["1.1"] == (2, None, None)
    got = [(p.code, p.message) for p in result.problems if p.code == "team-cell-missing"]
    assert got == [("team-cell-missing", "1 team cell could not be read and was left out "
                    "(rater_name_1): its defined name is gone or does not point at its place "
                    "on the 'Team ratings' sheet; the team statistics use the rest")]


def _not_agreed(rated: list[str]) -> list[str]:
    rubric = _district()
    data = _team(rubric, raters=2)
    places = {ind: named_cell(data, f"rater_1_{ind.replace('.', '_')}") for ind in rated}

    def edit(book):
        for sheet, ref in places.values():
            book[sheet][ref] = 2

    result = read(with_openpyxl(data, edit), rubric)
    return [p.message for p in result.problems if p.code == "not-agreed"]


def test_eleven_not_agreed_are_listed_ten_and_an_ellipsis():
    ids = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "2.1", "2.2", "2.3"]
    assert _not_agreed(ids) == [
        "11 indicators were rated by raters but have no agreed rating, so they count as "
        "unrated: 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 2.1, 2.2, …"]


def test_ten_not_agreed_are_all_listed():
    ids = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "2.1", "2.2"]
    assert _not_agreed(ids) == [
        "10 indicators were rated by raters but have no agreed rating, so they count as "
        "unrated: 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 2.1, 2.2"]


# -- names pointing above or below a sheet's rows ------------------------------------------

def _pointed(data: bytes, targets: dict[str, str]) -> bytes:
    def edit(xml: bytes) -> bytes:
        for name, target in targets.items():
            xml, count = re.subn(rf'<definedName name="{name}">[^<]*</definedName>'.encode(),
                                 f'<definedName name="{name}">{target}</definedName>'.encode(),
                                 xml)
            assert count == 1
        return xml

    return edit_member(data, "xl/workbook.xml", edit)


def test_answer_names_at_the_first_row_or_past_the_last_show_what_the_id_cell_holds():
    data = _pointed(make_return(), {"rating_1_1": "'D1 Leadership'!$F$1",
                                    "rating_1_2": "'D1 Leadership'!$F$300"})
    result = read(data, small_rubric())
    got = [(p.code, p.message, p.sheet, p.cell) for p in result.problems]
    tail = ("(rows inserted by a program that does not move names, or a name redefined); the "
            "answer is not used so that it cannot land in the wrong place")
    assert got[:2] == [
        ("misplaced-cell", "the rating of 1.1 cannot be read: the defined name rating_1_1 points "
         'at F1, but the id cell of that row (A1) shows "Domain 1: Leadership and Vision", not '
         f"1.1 {tail}", "D1 Leadership", "F1"),
        ("misplaced-cell", "the rating of 1.2 cannot be read: the defined name rating_1_2 points "
         f"at F300, but the id cell of that row (A300) shows nothing, not 1.2 {tail}",
         "D1 Leadership", "F300"),
    ]


def test_a_rater_name_at_the_last_row_of_the_team_sheet_is_lost_not_a_crash():
    # The Team sheet's last row is 19 (the "All domains" totals): a name there has no row
    # below it to hold its "Rater 1" header.
    result = read(_pointed(_team(), {"rater_name_1": "'Team ratings'!$C$19"}), small_rubric())
    got = [(p.code, p.message) for p in result.problems if p.code != "unrated"]
    assert got == [("team-cell-missing", "1 team cell could not be read and was left out "
                    "(rater_name_1): its defined name is gone or does not point at its place "
                    "on the 'Team ratings' sheet; the team statistics use the rest")]


# -- the team sheet is where most team names point, rater names counted too ----------------

def _lost_message(result) -> list[str]:
    return [p.message for p in result.problems if p.code == "team-cell-missing"]


def test_rater_names_tip_the_count_of_team_names():
    """11 of the 20 rating and note names point at 'Start Here'; the 9 others and the 3 rater
    names (12) keep the team sheet where it is."""
    moved = [f"{kind}_{ind}" for ind in ("1_1", "1_2", "1_3")
             for kind in ("rater_1", "rater_2", "rater_3", "agreement_note")][:11]
    data = _pointed(_team(), {name: f"'Start Here'!$Z${i}" for i, name in enumerate(moved, 1)})
    data = set_cell_xml(data, TEAM, "C4", '<c r="C4" t="inlineStr"><is><t>Ana</t></is></c>')
    result = read(data, small_rubric())
    assert result.team.names == ("Ana", "", "")
    assert _lost_message(result) == [
        "11 team cells could not be read and were left out (rater_1_1_1, rater_2_1_1, "
        "rater_3_1_1, agreement_note_1_1, rater_1_1_2, …): their defined names are gone or do "
        "not point at their places on the 'Team ratings' sheet; the team statistics use the "
        "rest"]


def test_rater_names_elsewhere_are_outvoted_by_the_rating_names():
    names = ("rater_name_1", "rater_name_2", "rater_name_3")
    data = _pointed(_team(), {name: f"'Start Here'!$Z${i}" for i, name in enumerate(names, 1)})
    data = set_cell_xml(data, TEAM, "C7", '<c r="C7" t="inlineStr"><is><t>Growing</t></is></c>')
    result = read(data, small_rubric())
    assert result.team.levels["1.1"] == (2, None, None)
    assert _lost_message(result) == [
        "3 team cells could not be read and were left out (rater_name_1, rater_name_2, "
        "rater_name_3): their defined names are gone or do not point at their places on the "
        "'Team ratings' sheet; the team statistics use the rest"]


# -- merged and formula input cells, and the "Completed by" cell -----------------------------

def test_merged_and_formula_cells_and_completed_by_name_what_sheet_and_cell():
    def merge(book):
        book["D1 Leadership"].merge_cells("F4:G4")  # the evidence of 1.1 merged into F4

    data = with_openpyxl(_team(), merge)
    data = set_cell_xml(data, "D1 Leadership", "F5",
                        '<c r="F5" t="str"><f>"Gro"&amp;"wing"</f><v>Growing</v></c>')
    data = set_cell_xml(data, "Start Here", "B7", '<c r="B7" t="e"><v>#N/A</v></c>')
    result = read(data, small_rubric())
    got = [(p.code, p.message, p.sheet, p.cell) for p in result.problems if p.code != "unrated"]
    assert got == [
        ("missing-cell", "the evidence of 1.1 cannot be read: its cell is merged into F4:G4, which "
         "keeps only the first cell's value; unmerge the cells and enter it again",
         "D1 Leadership", "G4"),
        ("formula-value", 'the rating of 1.2 is a formula; its last computed value "Growing" was '
         "used", "D1 Leadership", "F5"),
        ("error-value", 'the "Completed by" name shows the error value #N/A; it was kept as that '
         "text", "Start Here", "B7"),
    ]
    assert result.completed_by == "#N/A"


def test_a_completed_by_name_at_the_first_column_has_no_label_to_its_left():
    """Pointed at A7 (the label itself): nothing is left of it, so nothing is read, even
    when the row's last cell (D7) shows the label's text."""
    def edit(book):
        sheet = book["Start Here"]
        for merged in [str(r) for r in sheet.merged_cells.ranges if "B7" in r]:
            sheet.unmerge_cells(merged)  # B7:D7, the name's cell
        sheet["B7"] = "Ana Ruiz"
        sheet["D7"] = "Completed by"

    data = _pointed(with_openpyxl(_team(), edit), {"completed_by": "'Start Here'!$A$7"})
    result = read(data, small_rubric())
    assert result.completed_by == ""
    assert [p.code for p in result.problems] == ["unrated"]


def test_rater_1_name_counts_in_a_close_vote():
    """Raters 2 and 3's names and 9 rating and note names point at 'Start Here' (11); rater
    1's name and the 11 other rating and note names (12) keep the team sheet."""
    cells = [f"{kind}_{ind}" for ind in ("1_1", "1_2", "1_3")
             for kind in ("rater_1", "rater_2", "rater_3", "agreement_note")]
    moved = ["rater_name_2", "rater_name_3", *cells[:9]]
    data = _pointed(_team(), {name: f"'Start Here'!$Z${i}" for i, name in enumerate(moved, 1)})
    data = set_cell_xml(data, TEAM, "C4", '<c r="C4" t="inlineStr"><is><t>Ana</t></is></c>')
    result = read(data, small_rubric())
    assert result.team.names == ("Ana", "", "")
    assert _lost_message(result) == [
        "11 team cells could not be read and were left out (rater_name_2, rater_name_3, "
        "rater_1_1_1, rater_2_1_1, rater_3_1_1, …): their defined names are gone or do not "
        "point at their places on the 'Team ratings' sheet; the team statistics use the rest"]


@pytest.mark.parametrize(("names", "expected"), [
    ({"rater_name_3"}, 3),
    ({"rater_2_1_1", "rater_name_1"}, 2),
    ({"rater_name_8", "xrater_5_1", "rating_1_1"}, 8),
    ({"rater_1_1_1", "rater_name_1"}, 0),  # one rater is no team
    ({"rater_9_1_1", "rater_name_9", "rater_name_31", "rater_10_1"}, 0),  # not a rater 1-8
    ({"rater_name_4x", "rater_3", "rater_name_"}, 0),
    (set(), 0),
])
def test_named_raters_is_the_highest_rater_the_names_show(names, expected):
    from workbook_tool.reader import _Reader

    class Names:  # only the names of a workbook, folded as the reader keeps them
        def __init__(self):
            self.names = dict.fromkeys(names, "'Team ratings'!$C$7")

    reader = _Reader(b"", "x.xlsx", small_rubric(), Limits(), None)
    assert reader.named_raters(Names()) == expected
