"""Finding returns in folders and archives, through the CLI: one file can never stop a run.

Every input is made here: returns by the real writer (returns_kit.make_return), archives
with zipfile, the hostile parts (password flags, unknown compression, names that are not
UTF-8) by patching the bytes a zip tool would have written.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import socket
import struct
import threading
import warnings
import zipfile
from contextlib import contextmanager, suppress
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
        (tmp_path, "", "unreadable", "this is not a regular file (a folder)"),
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
    """Old tools write names in UTF-8 or in the DOS code page, without the zip's UTF-8 flag:
    UTF-8 when the bytes are UTF-8, else code page 437, as the zip format defines."""
    written = zip_bytes([("café.xlsx", full_return("S1")), ("ecole.xlsx", full_return("S2")),
                         ("cafe.xlsx", full_return("S3"))])
    unflagged = patch_headers(written, 6, 8, "<H", lambda flags: flags & ~0x800)
    dos = unflagged.replace(b"ecole.xlsx", b"\x82cole.xlsx")  # 0x82 is é in code page 437
    latin1 = dos.replace(b"cafe.xlsx", b"caf\xe9.xlsx")  # é in Latin-1, Θ in code page 437
    archive = tmp_path / "old.zip"
    archive.write_bytes(latin1)

    result, out = consolidate(tmp_path, archive)

    assert statuses(out) == [(f"{archive}!café.xlsx", "S1", "accepted"),
                             (f"{archive}!cafΘ.xlsx", "S3", "accepted"),
                             (f"{archive}!école.xlsx", "S2", "accepted")]
    assert result.exit_code == 0


# -- 3. each member by its own entry -----------------------------------------------------------

def test_two_members_with_one_name_are_two_returns_told_apart(tmp_path):
    """Members with one name are two returns, in the archive's order, each shown by its path
    as found (the contract's `file`); their sha256 tells them apart."""
    written = zip_bytes([("r.xlsx", full_return("S2")),
                         ("sub\\r.xlsx", b"junk"),  # shown as sub/r.xlsx
                         ("r.xlsx", full_return("S1")),
                         ("sub/r.xlsx", full_return("S3")),
                         ("café.txt", b"a"),  # é in UTF-8, once unflagged
                         ("cafe.txt", b"b"),  # é in code page 437, below
                         ("notes.txt", b"c")])
    unflagged = patch_headers(written, 6, 8, "<H", lambda flags: flags & ~0x800)
    archive = tmp_path / "batch.zip"
    archive.write_bytes(unflagged.replace(b"cafe.txt", b"caf\x82.txt"))

    result, out = consolidate(tmp_path, archive)

    rows = [(r["file"], r["school_id"], r["status"], r["sha256"])
            for r in csv_rows(out / "returns.csv") if r["file"]]
    assert [row[:3] for row in rows] == [(f"{archive}!r.xlsx", "S2", "accepted"),
                                         (f"{archive}!r.xlsx", "S1", "accepted"),
                                         (f"{archive}!sub/r.xlsx", "", "rejected"),
                                         (f"{archive}!sub/r.xlsx", "S3", "accepted")]
    assert [row[3] for row in rows] == [hashlib.sha256(full_return(s)).hexdigest() if s else
                                        hashlib.sha256(b"junk").hexdigest()
                                        for s in ("S2", "S1", "", "S3")]
    assert [p[:2] for p in problems(out)] == [(f"{archive}!sub/r.xlsx", "not-xlsx")]
    assert json.loads(result.stdout)["ignored_files"] == [
        f"{archive}!café.txt", f"{archive}!café.txt", f"{archive}!notes.txt"]
    assert result.exit_code == 1


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


def test_a_link_to_a_folder_is_named_not_followed(tmp_path):
    returns = tmp_path / "returns"
    (returns / "north").mkdir(parents=True)
    (returns / "north" / "S1.xlsx").write_bytes(full_return("S1"))
    (returns / "loop").symlink_to(returns)  # a loop, which a walk that follows never ends
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "S2.xlsx").write_bytes(full_return("S2"))
    (returns / "south").symlink_to(elsewhere)

    result, out = consolidate(tmp_path, returns)

    assert statuses(out) == [(f"{returns}/north/S1.xlsx", "S1", "accepted")]
    why = "link to a folder, not followed (name the folder itself to read it)"
    assert json.loads(result.stdout)["skipped"] == [
        {"file": f"{returns}/loop", "reason": why},
        {"file": f"{returns}/south", "reason": why},
    ]


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
    assert figures["Files skipped (lock, hidden, already read, linked folders)"] == 1

    terminal, _ = consolidate(tmp_path, returns, as_json=False)
    assert (f"  ignored 6 other file(s): {returns}/a.pdf, {returns}/b.txt, {returns}/c.docx, "
            f"{returns}/d.csv, {returns}/e.png and 1 more\n") in terminal.output
    assert f"  skipped 1 file(s): {returns}/.~lock.S1.xlsx# (lock file)\n" in terminal.output


# -- 9. only regular files are opened ---------------------------------------------------------

@contextmanager
def fifos_released_after(seconds: float = 5.0):
    """Yields (pipes to watch, pipes released). Should the code under test open a watched
    named pipe and wait for a writer, a writer comes after `seconds`, leaves at once and is
    listed as released: the test fails instead of hanging."""
    stop = threading.Event()
    waiting: list[Path] = []
    released: list[str] = []

    def release() -> None:
        if stop.wait(seconds):
            return
        while not stop.is_set():
            for fifo in waiting:
                with suppress(OSError):  # OSError: nobody is reading it
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                    released.append(fifo.name)
            stop.wait(0.05)

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield waiting, released
    finally:
        stop.set()
        thread.join()


def test_check_never_opens_a_named_pipe(tmp_path):
    fifo = tmp_path / "S1.xlsx"
    os.mkfifo(fifo)
    (tmp_path / "S2.xlsx").write_bytes(full_return("S2"))

    with fifos_released_after() as (waiting, released):
        waiting.append(fifo)
        result = CliRunner().invoke(main, ["check", str(fifo), "/dev/null",
                                           str(tmp_path / "S2.xlsx"), "--rubric",
                                           str(SMALL_RUBRIC)])

    assert released == []
    assert result.exit_code == 1
    assert result.output.splitlines()[:4] == [
        f"{fifo}: [error] unreadable: this is not a regular file (a named pipe)",
        f"{fifo}: REJECTED: 1 error(s), 0 warning(s); fix the errors above and check again.",
        "/dev/null: [error] unreadable: this is not a regular file (a device)",
        "/dev/null: REJECTED: 1 error(s), 0 warning(s); fix the errors above and check again."]
    assert result.output.splitlines()[4].startswith(f"{tmp_path}/S2.xlsx: ok")


def test_pipes_sockets_and_dangling_links_are_named_never_opened(tmp_path):
    returns = tmp_path / "returns"
    (returns / "sub").mkdir(parents=True)
    (returns / "S1.xlsx").write_bytes(full_return("S1"))
    for name in ("fifo.xlsx", "fifo.zip", "fifo"):
        os.mkfifo(returns / name)
    os.mkfifo(tmp_path / "named")  # named on the command line, no suffix
    (returns / "sub" / "dangling.xlsx").symlink_to(tmp_path / "gone" / "S2.xlsx")
    (returns / "sub" / "dangling.txt").symlink_to(tmp_path / "gone" / "notes.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(returns / "sock.xlsx"))

    with fifos_released_after() as (waiting, released):
        waiting += [returns / "fifo.xlsx", returns / "fifo.zip", returns / "fifo",
                    tmp_path / "named"]
        result, out = consolidate(tmp_path, returns, tmp_path / "named")
    server.close()

    assert released == []  # no pipe was opened to wait on

    pipe = "this is not a regular file (a named pipe)"
    assert problems(out) == [
        (f"{tmp_path}/named", "unreadable", pipe),
        (f"{returns}/fifo.xlsx", "unreadable", pipe),
        (f"{returns}/fifo.zip", "unreadable", pipe),
        (f"{returns}/sock.xlsx", "unreadable", "this is not a regular file (a socket)"),
        (f"{returns}/sub/dangling.xlsx", "unreadable",
         f"this is a link to {tmp_path}/gone/S2.xlsx, which does not exist"),
    ]
    assert statuses(out) == [
        (f"{tmp_path}/named", "", "rejected"),
        (f"{returns}/S1.xlsx", "S1", "accepted"),
        (f"{returns}/fifo.xlsx", "", "rejected"),
        (f"{returns}/fifo.zip", "", "rejected"),
        (f"{returns}/sock.xlsx", "", "rejected"),
        (f"{returns}/sub/dangling.xlsx", "", "rejected"),
    ]
    assert json.loads(result.stdout)["ignored_files"] == [f"{returns}/fifo",
                                                          f"{returns}/sub/dangling.txt"]
    assert result.exit_code == 1


def test_open_regular_looks_again_at_what_it_opened(tmp_path, monkeypatch):
    """The file may become a pipe between the look and the open: it is opened without
    waiting, and refused."""
    from workbook_tool import files

    fifo = tmp_path / "S1.xlsx"
    os.mkfifo(fifo)
    monkeypatch.setattr(files, "not_a_file", lambda path: "")
    with fifos_released_after() as (waiting, released):
        waiting.append(fifo)
        with pytest.raises(files.NotRegularFile) as refused:
            files.open_regular(fifo)
    assert str(refused.value) == "this is not a regular file (a named pipe)"
    assert released == []


def test_a_folder_that_cannot_be_opened_is_a_rejected_row(tmp_path, monkeypatch):
    """Tests run as root, whom chmod 000 does not stop: the folder's listing fails here as
    it does for a user without the permission."""
    returns = tmp_path / "returns"
    for folder in ("locked", "open", ".cache"):
        (returns / folder).mkdir(parents=True)
    (returns / "locked" / "S2.xlsx").write_bytes(full_return("S2"))
    (returns / "open" / "S1.xlsx").write_bytes(full_return("S1"))
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name in ("locked", ".cache"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result, out = consolidate(tmp_path, returns)

    assert result.exit_code == 1
    assert statuses(out) == [(f"{returns}/locked", "", "rejected"),
                             (f"{returns}/open/S1.xlsx", "S1", "accepted")]
    assert problems(out) == [(f"{returns}/locked", "unreadable",
                              "the folder could not be opened (Permission denied); the returns "
                              "in it were not read")]
    missing = [r["school_id"] for r in csv_rows(out / "returns.csv") if r["status"] == "missing"]
    assert missing == ["S2", "S3"]
    assert json.loads(result.stdout)["skipped"] == [
        {"file": f"{returns}/.cache", "reason": "hidden file"}]


def test_an_oversized_file_is_hashed_but_never_held(tmp_path, monkeypatch):
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"a" * 2**20 + b"b" * 2**19)  # 1.5 MiB
    first_mib = hashlib.sha256(b"a" * 2**20).hexdigest()

    def check(*files):
        result = CliRunner().invoke(main, ["check", *map(str, files), "--json",
                                           "--max-size", "1", "--rubric", str(SMALL_RUBRIC)])
        assert result.exit_code == 1
        return [(f["sha256"], [(p["code"], p["message"]) for p in f["problems"]])
                for f in json.loads(result.stdout)["files"]]

    # On disk its size is known: it is hashed whole (never held), so returns.csv names it.
    whole = hashlib.sha256(b"a" * 2**20 + b"b" * 2**19).hexdigest()
    assert check(big) == [(whole, [
        ("too-large", "the file is 1.5 MiB, over the limit of 1.0 MiB")])]

    # In an archive: the size is not known without inflating it all (it may be a bomb).
    archive = tmp_path / "pack.zip"
    archive.write_bytes(zip_bytes([("big.xlsx", big.read_bytes())]))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    result = CliRunner().invoke(main, [
        "consolidate", str(archive), "--roster", str(roster), "--out", str(tmp_path / "out"),
        "--rubric", str(SMALL_RUBRIC), "--cycle", CYCLE, "--jobs", "1", "--max-size", "1"])
    assert result.exit_code == 1
    assert problems(tmp_path / "out") == [(
        f"{archive}!big.xlsx", "too-large", "the file is over the limit of 1.0 MiB, so it was "
        "read no further and its sha256 covers only its first 1.0 MiB")]
    assert [(r["file"], r["sha256"]) for r in csv_rows(tmp_path / "out" / "returns.csv")
            if r["file"]] == [(f"{archive}!big.xlsx", first_mib)]

    # A file that keeps growing while it is read (a log, a download): it must not be read on.
    from workbook_tool.reader import source

    class Growing(io.RawIOBase):
        def __init__(self, path):
            self.fd = os.open(path, os.O_RDONLY)  # for the size the disk gives
            self.given = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.given > 3 * 2**20:
                raise AssertionError("read on past the limit")
            buffer[:] = b"a" * len(buffer)
            self.given += len(buffer)
            return len(buffer)

        def fileno(self):
            return self.fd

        def close(self):
            if not self.closed:
                os.close(self.fd)
            super().close()

    monkeypatch.setattr(source, "open_regular", lambda path: io.BufferedReader(Growing(path)))
    # Hashed as far as the size the disk gave when it was opened, and no further.
    as_opened = hashlib.sha256(b"a" * (2**20 + 2**19)).hexdigest()
    assert check(big) == [(as_opened, [
        ("too-large", "the file is 1.5 MiB, over the limit of 1.0 MiB")])]


@pytest.mark.parametrize("name, reason", [
    ("sub\\~$x.xlsx", "lock file"),
    ("sub\\.~lock.x.xlsx#", "lock file"),
    ("a\\.git\\x.xlsx", "hidden file"),
    ("./x.xlsx", ""),
    ("sub/x.xlsx", ""),
    ("../x.xlsx", ""),  # '..' is no hidden folder
    ("..", ""),
    ("", ""),
])
def test_skip_reason_parts(name, reason):
    from workbook_tool.files import skip_reason

    assert skip_reason(name) == reason
