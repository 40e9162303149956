"""Finding returns in folders and archives, through the CLI: one file can never stop a run.

Every input is made here: returns by the real writer (returns_kit.make_return), archives
with zipfile, the hostile parts (password flags, unknown compression, names that are not
UTF-8) by patching the bytes a zip tool would have written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from returns_kit import SMALL_RUBRIC, answers_for, make_return, small_rubric
from workbook_tool.cli import main
from workbook_tool.roster import School

CYCLE = "2024-25"
ROSTER = "school_id,school_name\nS1,Alpha School\nS2,Beta School\nS3,Gamma School\n"
NAMES = {"S1": "Alpha School", "S2": "Beta School", "S3": "Gamma School"}


def full_return(school_id: str) -> bytes:
    """A fully rated return of one roster school: `accepted` when read."""
    rubric = small_rubric()
    return make_return(rubric, School(school_id, NAMES[school_id]), CYCLE,
                       answers=answers_for(rubric))


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # two members may share a name
        with zipfile.ZipFile(out, "w", method) as z:
            for name, body in members:
                z.writestr(name, body)
    return out.getvalue()


def patch_headers(data: bytes, local_offset: int, central_offset: int, fmt: str,
                  change) -> bytes:
    """Change a field in every local header and central directory entry of a zip."""
    out = bytearray(data)
    for magic, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        at = out.find(magic)
        while at != -1:
            (value,) = struct.unpack_from(fmt, out, at + offset)
            struct.pack_into(fmt, out, at + offset, change(value))
            at = out.find(magic, at + 4)
    return bytes(out)


def password_flagged(data: bytes) -> bytes:
    """Members marked as encrypted (bit 0 of the flags), as a zip tool with a password writes."""
    return patch_headers(data, 6, 8, "<H", lambda flags: flags | 0x1)


def deflate64(data: bytes) -> bytes:
    """Members marked as Deflate64 (method 9), which Windows writes and Python cannot inflate."""
    return patch_headers(data, 8, 10, "<H", lambda _method: 9)


def consolidate(tmp_path: Path, *inputs, as_json: bool = True):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "summary"
    args = [*map(str, inputs), "--roster", str(roster), "--out", str(out),
            "--rubric", str(SMALL_RUBRIC), "--cycle", CYCLE, "--jobs", "1"]
    result = CliRunner().invoke(main, ["consolidate", *args, *(["--json"] if as_json else [])])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result, out


def csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:  # strict: every name is UTF-8
        return list(csv.DictReader(f))


def statuses(out: Path) -> list[tuple[str, str, str]]:
    """(file, school_id, status) of returns.csv, files only, in file order."""
    rows = csv_rows(out / "returns.csv")
    return sorted((r["file"], r["school_id"], r["status"]) for r in rows if r["file"])


def problems(out: Path) -> list[tuple[str, str, str]]:
    rows = csv_rows(out / "problems.csv")
    return sorted((r["file"], r["code"], r["message"]) for r in rows)


def not_read_on_overview(out: Path) -> list[tuple[str, str]]:
    """The (File, Why) rows under "Files not read" on the Overview sheet."""
    sheet = openpyxl.load_workbook(out / "district_summary.xlsx")["Overview"]
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == "Files not read":
                col, first = cell.column, cell.row + 2
                assert sheet.cell(cell.row + 1, col).value == "File"
                listed = []
                for r in range(first, sheet.max_row + 1):
                    name = sheet.cell(r, col).value
                    if name is None:
                        break
                    listed.append((name, sheet.cell(r, col + 1).value))
                return listed
    return []


IGNORED = "ignored: not a workbook (.xlsx, .xlsm, .xls, .ods) or a .zip archive"


# -- 1. one file cannot stop the run ---------------------------------------------------------

def test_password_and_deflate64_members_are_problems_and_the_run_goes_on(tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "locked.zip").write_bytes(
        password_flagged(zip_bytes([("S1.xlsx", full_return("S1"))])))
    (returns / "windows.zip").write_bytes(
        deflate64(zip_bytes([("S2.xlsx", full_return("S2"))], zipfile.ZIP_STORED)))
    (returns / "S3.xlsx").write_bytes(full_return("S3"))

    result, out = consolidate(tmp_path, returns)

    assert result.exit_code == 1
    folder = str(returns)
    assert statuses(out) == [
        (f"{folder}/S3.xlsx", "S3", "accepted"),
        (f"{folder}/locked.zip!S1.xlsx", "", "rejected"),
        (f"{folder}/windows.zip!S2.xlsx", "", "rejected"),
    ]
    assert problems(out) == [
        (f"{folder}/locked.zip!S1.xlsx", "encrypted",
         "the zip archive protects this file with a password; unzip it with the password "
         "and send the workbook itself"),
        (f"{folder}/windows.zip!S2.xlsx", "unreadable",
         "the zip archive stores this file with a compression method this tool cannot "
         "unpack (deflate64); unzip it with your usual program and send the workbook itself"),
    ]


def test_any_exception_while_reading_is_that_files_problem(tmp_path, monkeypatch):
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "S1.xlsx").write_bytes(full_return("S1"))
    (returns / "S2.xlsx").write_bytes(full_return("S2"))
    from workbook_tool.reader import source

    real_open = source._open

    def explode(path, member):
        if str(path).endswith("S1.xlsx"):
            raise LookupError("a library failed")
        return real_open(path, member)

    monkeypatch.setattr(source, "_open", explode)
    result, out = consolidate(tmp_path, returns)

    assert result.exit_code == 1
    assert statuses(out) == [(f"{returns}/S1.xlsx", "", "rejected"),
                             (f"{returns}/S2.xlsx", "S2", "accepted")]
    assert (f"{returns}/S1.xlsx", "unreadable",
            "the file could not be read (LookupError: a library failed)") in problems(out)


def test_read_file_never_raises(tmp_path, monkeypatch):
    from workbook_tool.files import Entry
    from workbook_tool.reader import read_file

    rubric = small_rubric()
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes([("S1.xlsx", full_return("S1"))]))
    cases = [
        (tmp_path, "", "unreadable", "the file could not be read (Is a directory)"),
        (archive, (Entry("S1.xlsx", 5),), "unreadable",
         "the archive changed while it was being read; run the consolidation again"),
        (archive, (Entry("other.xlsx", 0),), "unreadable",
         "the archive changed while it was being read; run the consolidation again"),
        (archive, "nope.xlsx", "unreadable",
         "the file could not be read (KeyError: \"There is no item named 'nope.xlsx' in "
         "the archive\")"),
        (archive, (Entry("S1.xlsx", 0, ("too-large", "refused")),), "too-large", "refused"),
    ]
    for path, member, code, message in cases:
        result = read_file(path, rubric, display="x", member=member)
        assert [(p.code, p.message) for p in result.problems] == [(code, message)]
        assert result.sha256 == ""

    from workbook_tool.reader import source

    def explode(path, member):
        raise LookupError("a library failed")

    monkeypatch.setattr(source, "_open", explode)
    result = read_file(archive, rubric, display="x")
    assert [(p.code, p.message) for p in result.problems] == [
        ("unreadable", "the file could not be read (LookupError: a library failed)")]


# -- 2. names that are not UTF-8 -------------------------------------------------------------

def test_names_that_are_not_utf8_reach_every_output(tmp_path):
    base = os.fsencode(tmp_path)
    folder = os.path.join(base, b"r\xe9turns")  # a folder named in Latin-1
    os.mkdir(folder)
    with open(os.path.join(folder, b"caf\xe9.xlsx"), "wb") as f:
        f.write(full_return("S1"))
    with open(os.path.join(folder, b"notes\xff.txt"), "wb") as f:
        f.write(b"not a return")
    with open(os.path.join(folder, b"~$caf\xe9.xlsx"), "wb") as f:
        f.write(b"lock")
    with open(os.path.join(base, b"b\xe8ta.xlsx"), "wb") as f:  # named on the command line
        f.write(full_return("S2"))
    (tmp_path / "ctrl.zip").write_bytes(zip_bytes([("bad\x1bname.xlsx", b"junk")]))
    args = [os.fsdecode(folder), os.fsdecode(os.path.join(base, b"b\xe8ta.xlsx")),
            tmp_path / "ctrl.zip"]

    result, out = consolidate(tmp_path, *args)

    shown = f"{tmp_path}/r\\xe9turns"
    assert result.exit_code == 1  # the junk member is rejected
    assert statuses(out) == [
        (f"{tmp_path}/b\\xe8ta.xlsx", "S2", "accepted"),
        (f"{tmp_path}/ctrl.zip!bad\\x1bname.xlsx", "", "rejected"),
        (f"{shown}/caf\\xe9.xlsx", "S1", "accepted"),
    ]
    report = json.loads(result.stdout)
    assert report["skipped"] == [{"file": f"{shown}/~$caf\\xe9.xlsx", "reason": "lock file"}]
    assert report["ignored_files"] == [f"{shown}/notes\\xff.txt"]
    assert not_read_on_overview(out) == [(f"{shown}/~$caf\\xe9.xlsx", "lock file"),
                                         (f"{shown}/notes\\xff.txt", IGNORED)]
    overview = openpyxl.load_workbook(out / "district_summary.xlsx")["Overview"]
    assert overview["A2"].value.endswith(
        f"from: {shown}, {tmp_path}/b\\xe8ta.xlsx, {tmp_path}/ctrl.zip")

    terminal, _ = consolidate(tmp_path, *args, as_json=False)
    assert f"  skipped 1 file(s): {shown}/~$caf\\xe9.xlsx (lock file)" in terminal.output
    assert f"  ignored 1 other file(s): {shown}/notes\\xff.txt" in terminal.output
    assert f"{tmp_path}/ctrl.zip!bad\\x1bname.xlsx" in terminal.output


def test_member_names_without_the_utf8_flag(tmp_path):
    """Old tools write names in UTF-8 or in the DOS code page, without the zip's UTF-8 flag."""
    written = zip_bytes([("café.xlsx", full_return("S1")), ("cafe.xlsx", full_return("S2"))])
    unflagged = patch_headers(written, 6, 8, "<H", lambda flags: flags & ~0x800)
    dos = unflagged.replace(b"cafe.xlsx", b"caf\x82.xlsx")  # 0x82 is é in code page 437
    archive = tmp_path / "old.zip"
    archive.write_bytes(dos)

    result, out = consolidate(tmp_path, archive)

    assert statuses(out) == [(f"{archive}!café.xlsx", "S1", "accepted"),
                             (f"{archive}!café.xlsx", "S2", "accepted")]
    assert result.exit_code == 0


# -- 3. each member by its own entry -----------------------------------------------------------

def test_two_members_with_one_name_are_two_returns(tmp_path):
    archive = tmp_path / "batch.zip"
    archive.write_bytes(zip_bytes([("r.xlsx", full_return("S1")),
                                   ("r.xlsx", full_return("S2"))]))

    result, out = consolidate(tmp_path, archive)

    assert statuses(out) == [(f"{archive}!r.xlsx", "S1", "accepted"),
                             (f"{archive}!r.xlsx", "S2", "accepted")]
    assert result.exit_code == 0


# -- 4. read by what it is -------------------------------------------------------------------

def test_a_workbook_is_read_by_what_it_is_not_its_extension(tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "S1.zip").write_bytes(full_return("S1"))  # a return renamed to .zip
    (returns / "S2").write_bytes(full_return("S2"))  # no extension at all
    (returns / "README").write_bytes(b"plain text, no extension")
    (returns / "broken.zip").write_bytes(b"PK\x03\x04 cut short")
    (returns / "pack.zip").write_bytes(zip_bytes([("S3.zip", full_return("S3"))]))

    result, out = consolidate(tmp_path, returns)

    assert statuses(out) == [
        (f"{returns}/S1.zip", "S1", "accepted"),
        (f"{returns}/S2", "S2", "accepted"),
        (f"{returns}/broken.zip", "", "rejected"),
        (f"{returns}/pack.zip!S3.zip", "S3", "accepted"),
    ]
    assert json.loads(result.stdout)["ignored_files"] == [f"{returns}/README"]


# -- 5. archives inside archives -------------------------------------------------------------

def test_nested_archives_are_read_with_their_chain(tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    inner = zip_bytes([("S1.xlsx", full_return("S1")), ("notes.txt", b"hi"),
                       ("README", b"no extension, not a zip"), ("S2.xlsx", full_return("S2"))])
    deeper = zip_bytes([("S3.xlsx", full_return("S3"))])
    middle = zip_bytes([("deeper.zip", deeper)])
    (returns / "outer.zip").write_bytes(
        zip_bytes([("inner.zip", inner), ("batch/middle.zip", middle)]))
    locked = password_flagged(zip_bytes([("S3.xlsx", full_return("S3"))]))
    (returns / "wrapped.zip").write_bytes(zip_bytes([("locked.zip", locked)]))

    result, out = consolidate(tmp_path, returns)

    assert statuses(out) == [
        (f"{returns}/outer.zip!batch/middle.zip!deeper.zip!S3.xlsx", "S3", "accepted"),
        (f"{returns}/outer.zip!inner.zip!S1.xlsx", "S1", "accepted"),
        (f"{returns}/outer.zip!inner.zip!S2.xlsx", "S2", "accepted"),
        (f"{returns}/wrapped.zip!locked.zip!S3.xlsx", "", "rejected"),
    ]
    assert [p[:2] for p in problems(out)] == [
        (f"{returns}/wrapped.zip!locked.zip!S3.xlsx", "encrypted")]
    assert json.loads(result.stdout)["ignored_files"] == [
        f"{returns}/outer.zip!inner.zip!README", f"{returns}/outer.zip!inner.zip!notes.txt"]


def test_nesting_depth_is_bounded(tmp_path):
    level4 = zip_bytes([("S1.xlsx", full_return("S1"))])
    level3 = zip_bytes([("d.zip", level4)])
    level2 = zip_bytes([("c.zip", level3)])
    (tmp_path / "a.zip").write_bytes(zip_bytes([("b.zip", level2), ("S2.xlsx",
                                                                     full_return("S2"))]))

    result, out = consolidate(tmp_path, tmp_path / "a.zip")

    refused = f"{tmp_path}/a.zip!b.zip!c.zip!d.zip"
    assert statuses(out) == [(f"{tmp_path}/a.zip!S2.xlsx", "S2", "accepted"),
                             (refused, "", "rejected")]
    assert (refused, "too-large", "this archive is inside 3 other archives, deeper than 3 "
            "levels are opened; unzip it and send the returns inside") in problems(out)
    assert result.exit_code == 1


def test_archives_inside_one_input_share_one_inflation_budget(tmp_path, monkeypatch):
    from workbook_tool import files

    monkeypatch.setattr(files, "NESTED_BYTES", 2**20)
    pad = bytes(range(256)) * 2400  # 614,400 bytes, stored: each archive fits, two do not
    first = zip_bytes([("S1.xlsx", full_return("S1")), ("pad.bin", pad)], zipfile.ZIP_STORED)
    second = zip_bytes([("S2.xlsx", full_return("S2")), ("pad.bin", pad)], zipfile.ZIP_STORED)
    third = zip_bytes([("S3.xlsx", full_return("S3")), ("pad.bin", pad)], zipfile.ZIP_STORED)
    (tmp_path / "a.zip").write_bytes(zip_bytes([("1.zip", first), ("2.zip", second)]))
    (tmp_path / "b.zip").write_bytes(zip_bytes([("3.zip", third)]))  # a budget of its own

    result, out = consolidate(tmp_path, tmp_path / "a.zip", tmp_path / "b.zip")

    assert statuses(out) == [(f"{tmp_path}/a.zip!1.zip!S1.xlsx", "S1", "accepted"),
                             (f"{tmp_path}/a.zip!2.zip", "", "rejected"),
                             (f"{tmp_path}/b.zip!3.zip!S3.xlsx", "S3", "accepted")]
    assert problems(out) == [(
        f"{tmp_path}/a.zip!2.zip", "too-large",
        "the archives inside this input unpack to more than 1 MiB together, so this one was "
        "not opened (it may be a zip bomb); unzip it and send the returns inside")]
    assert result.exit_code == 1


# -- 6. backslashes in member names ----------------------------------------------------------

def test_backslash_separates_folders_in_member_names(tmp_path):
    archive = tmp_path / "win.zip"
    archive.write_bytes(zip_bytes([("batch\\", b""),  # a folder entry, as Windows writes it
                                   ("batch\\S1.xlsx", full_return("S1")),
                                   ("batch\\~$S1.xlsx", b"lock"),
                                   (".svn\\S2.xlsx", full_return("S2")),
                                   ("batch\\notes.txt", b"hi")]))

    result, out = consolidate(tmp_path, archive)

    assert statuses(out) == [(f"{archive}!batch/S1.xlsx", "S1", "accepted")]
    report = json.loads(result.stdout)
    assert report["skipped"] == [
        {"file": f"{archive}!.svn/S2.xlsx", "reason": "hidden file"},
        {"file": f"{archive}!batch/~$S1.xlsx", "reason": "lock file"},
    ]
    assert report["ignored_files"] == [f"{archive}!batch/notes.txt"]


# -- 7. each physical file once --------------------------------------------------------------

def test_a_file_reached_twice_is_read_once(tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "S1.xlsx").write_bytes(full_return("S1"))
    (returns / "pack.zip").write_bytes(zip_bytes([("S2.xlsx", full_return("S2"))]))
    (returns / "notes.txt").write_bytes(b"not a return")
    link = tmp_path / "link.xlsx"
    link.symlink_to(returns / "S1.xlsx")

    result, out = consolidate(tmp_path, returns, returns / "S1.xlsx", link,
                              returns / "pack.zip", returns / "notes.txt")

    # notes.txt is ignored in the folder, but every file named on the command line is read.
    assert statuses(out) == [(f"{returns}/S1.xlsx", "S1", "accepted"),
                             (f"{returns}/notes.txt", "", "rejected"),
                             (f"{returns}/pack.zip!S2.xlsx", "S2", "accepted")]
    assert json.loads(result.stdout)["ignored_files"] == [f"{returns}/notes.txt"]
    assert json.loads(result.stdout)["skipped"] == [
        {"file": f"{returns}/S1.xlsx", "reason": f"already read as {returns}/S1.xlsx"},
        {"file": f"{link}", "reason": f"already read as {returns}/S1.xlsx"},
        {"file": f"{returns}/pack.zip", "reason": f"already read as {returns}/pack.zip"},
    ]
    assert result.exit_code == 1


# -- 8. ignored files are named --------------------------------------------------------------

def test_ignored_and_skipped_files_are_named_everywhere(tmp_path):
    returns = tmp_path / "returns"
    (returns / "sub").mkdir(parents=True)
    (returns / "S1.xlsx").write_bytes(full_return("S1"))
    (returns / ".~lock.S1.xlsx#").write_bytes(b"lock")
    for name in ("a.pdf", "b.txt", "c.docx", "d.csv", "e.png", "sub/f.jpg"):
        (returns / name).write_bytes(b"other")

    result, out = consolidate(tmp_path, returns)

    report = json.loads(result.stdout)
    ignored = [f"{returns}/{n}" for n in ("a.pdf", "b.txt", "c.docx", "d.csv", "e.png",
                                          "sub/f.jpg")]
    assert report["ignored"] == 6
    assert report["ignored_files"] == ignored
    assert not_read_on_overview(out) == [
        (f"{returns}/.~lock.S1.xlsx#", "lock file"), *[(name, IGNORED) for name in ignored]]
    overview = openpyxl.load_workbook(out / "district_summary.xlsx")["Overview"]
    figures = {row[0].value: row[1].value for row in overview.iter_rows(max_col=2)}
    assert figures["Other files ignored"] == 6
    assert figures["Files skipped (lock, hidden or already read)"] == 1

    terminal, _ = consolidate(tmp_path, returns, as_json=False)
    assert (f"  ignored 6 other file(s): {returns}/a.pdf, {returns}/b.txt, {returns}/c.docx, "
            f"{returns}/d.csv, {returns}/e.png and 1 more\n") in terminal.output
    assert f"  skipped 1 file(s): {returns}/.~lock.S1.xlsx# (lock file)\n" in terminal.output


@pytest.mark.parametrize("name, reason", [
    ("sub\\~$x.xlsx", "lock file"),
    ("sub\\.~lock.x.xlsx#", "lock file"),
    ("a\\.git\\x.xlsx", "hidden file"),
    ("./x.xlsx", ""),
    ("sub/x.xlsx", ""),
])
def test_skip_reason_parts(name, reason):
    from workbook_tool.files import skip_reason

    assert skip_reason(name) == reason
