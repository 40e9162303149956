"""Files: names made from school names and ids, names as shown, regular files only, and
what discover() finds in folders and archives, as literals."""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from workbook_tool import files
from workbook_tool.files import (
    Entry,
    Skipped,
    Source,
    discover,
    display_name,
    not_a_file,
    open_regular,
    safe_stem,
    slugify,
)


@pytest.mark.parametrize(("text", "slug"), [
    ("École Saint-Jean / Nord", "ecole-saint-jean-nord"),
    ("  Lincoln High  ", "lincoln-high"),
    ("--O'Keefe Academy--", "o-keefe-academy"),
    ("Ünïcödé & Co.", "unicode-co"),
    ("東京", "school"),
    ("", "school"),
    ("---", "school"),
    ("a" * 70, "a" * 60),
    ("b" * 59 + " c", "b" * 59),  # cut at 60 leaves a trailing dash: dropped
])
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_slugify_max_length():
    assert slugify("alpha beta gamma", max_length=6) == "alpha"
    assert slugify("alpha beta gamma", max_length=11) == "alpha-beta"


@pytest.mark.parametrize(("text", "stem"), [
    ("S-101", "S-101"),
    ("X-Ray 7", "X-Ray-7"),
    ("XRay X", "XRay-X"),
    ("101/202", "101-202"),
    ("..hidden.", "hidden"),
    ("  padded  ", "padded"),
    ("a.b_c-d", "a.b_c-d"),
    ("École", "cole"),
    ("CON", "CON-"),
    ("lpt1", "lpt1-"),
    ("com0", "com0-"),
    ("prn.", "prn-"),
    ("console", "console"),
    ("", "school"),
    ("...", "school"),
    ("//", "school"),
    ("9" * 45, "9" * 40),
])
def test_safe_stem(text, stem):
    assert safe_stem(text) == stem


# -- names as shown: display_name --------------------------------------------------------

@pytest.mark.parametrize(("text", "shown"), [
    ("caf\udce9.xlsx", "caf\\xe9.xlsx"),  # an undecodable byte, kept by surrogateescape
    ("\udc80\udcff", "\\x80\\xff"),  # the first and last of those bytes
    ("\udd00", "\\udd00"),  # a lone surrogate that is no byte
    ("\ud800x", "\\ud800x"),
    ("a\u2028b", "a\\u2028b"),  # line separator
    ("a\u2029b", "a\\u2029b"),  # paragraph separator
    ("\x00\x1b\x7f", "\\x00\\x1b\\x7f"),
    ("\ufdd0|\ufdef", "\\ufdd0|\\ufdef"),  # non-characters, not allowed in XML
    ("\ufdcf\ufdf0\x07", "\ufdcf\ufdf0\\x07"),  # their neighbours are characters
    ("\ufffe\uffff", "\\ufffe\\uffff"),
    ("\U0001fffe\U0010ffff", "\\u1fffe\\u10ffff"),
    ("Āb\x01", "Āb\\x01"),
    ("École Nord.xlsx", "École Nord.xlsx"),
])
def test_display_name(text, shown):
    assert display_name(text) == shown


# -- regular files only -------------------------------------------------------------------

def test_a_missing_file_is_not_called_something_else(tmp_path):
    gone = tmp_path / "gone.xlsx"
    assert not_a_file(gone) == ""  # opening it says why
    with pytest.raises(FileNotFoundError):
        open_regular(gone)
    (tmp_path / "link.xlsx").symlink_to(gone)
    assert not_a_file(tmp_path / "link.xlsx") == (
        f"this is a link to {gone}, which does not exist")
    assert not_a_file(tmp_path) == "this is not a regular file (a folder)"


def test_a_kind_of_file_without_a_name_is_not_a_file():
    # Linux has no such file type (stat follows links); a Solaris door or a BSD whiteout is.
    assert files._special_kind(stat.S_IFLNK | 0o777) == "not a file"


def test_open_regular_gives_a_blocking_file(tmp_path):
    path = tmp_path / "S1.xlsx"
    path.write_bytes(b"PK\x03\x04 data")
    with open_regular(path) as f:
        assert os.get_blocking(f.fileno())  # opened without waiting, then read as usual
        assert f.read() == b"PK\x03\x04 data"


# -- discover(): the sources, skipped and ignored files, as literals ------------------------

WORKBOOK = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def zip_of(members: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, body in items:
            z.writestr(name, body)
    return out.getvalue()


def set_flags(data: bytes, change) -> bytes:
    """Change the general purpose flags of every local header and central directory entry."""
    out = bytearray(data)
    for magic, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(magic)
        while at != -1:
            (flags,) = struct.unpack_from("<H", out, at + offset)
            struct.pack_into("<H", out, at + offset, change(flags))
            at = out.find(magic, at + 4)
    return bytes(out)


def found(*inputs) -> tuple[list[Source], list[Skipped], list[str]]:
    result = discover([str(i) for i in inputs])
    return result.sources, result.skipped, result.ignored_files


def test_members_are_read_by_what_they_are(tmp_path):
    """A member without a suffix is looked inside; a `.zip` member that is no zip is a return
    (reading it says it is damaged); folder entries are neither returns nor other files."""
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_of([
        ("batch/", b""),  # a folder entry
        ("batch/S1.xlsx", b"x"),
        ("2024.25\\alpha", zip_of(WORKBOOK)),  # a workbook without a suffix, Windows names
        ("inner", zip_of({"S2.xlsx": b"y", "notes.txt": b"z"})),  # an archive, no suffix
        ("broken.zip", b"not a zip at all"),
        ("Beta .xlsx", b"w"),  # a space before the suffix
        ("dir/notes.xlsx/.", b"text"),  # the last part is '.': no suffix
        ("README", b"plain text"),
    ]))
    path = str(archive)

    sources, skipped, ignored = found(archive)

    assert sources == [
        Source(f"{path}!2024.25/alpha", path, (Entry("2024.25\\alpha", 2),)),
        Source(f"{path}!Beta .xlsx", path, (Entry("Beta .xlsx", 5),)),
        Source(f"{path}!batch/S1.xlsx", path, (Entry("batch/S1.xlsx", 1),)),
        Source(f"{path}!broken.zip", path, (Entry("broken.zip", 4),)),
        Source(f"{path}!inner!S2.xlsx", path, (Entry("inner", 3), Entry("S2.xlsx", 0))),
    ]
    assert skipped == []
    assert ignored == [f"{path}!README", f"{path}!dir/notes.xlsx/.", f"{path}!inner!notes.txt"]


def test_a_zip_holding_a_workbook_is_a_return(tmp_path):
    """Windows tools may write the parts' names with backslashes; an OpenDocument
    spreadsheet needs only its mimetype and content.xml."""
    returns = tmp_path / "returns"
    returns.mkdir()
    (returns / "S1.zip").write_bytes(zip_of({"[Content_Types].xml": b"<Types/>",
                                             "XL\\Workbook.xml": b"<workbook/>"}))
    (returns / "S2").write_bytes(zip_of({"mimetype": b"application/vnd.oasis."
                                                     b"opendocument.spreadsheet",
                                         "content.xml": b"<office:document-content/>"}))
    (returns / "S3.zip").write_bytes(zip_of({"mimetype": b"x", "content.xml": b"y",
                                             "notes.txt": b"z"}))
    (returns / "pack.zip").write_bytes(zip_of({"mimetype": b"x", "S4.xlsx": b"y"}))

    sources, skipped, ignored = found(returns)

    assert sources == [
        Source(f"{returns}/S1.zip", str(returns / "S1.zip")),
        Source(f"{returns}/S2", str(returns / "S2")),
        Source(f"{returns}/S3.zip", str(returns / "S3.zip")),
        Source(f"{returns}/pack.zip!S4.xlsx", str(returns / "pack.zip"),
               (Entry("S4.xlsx", 1),)),
    ]
    assert (skipped, ignored) == ([], [f"{returns}/pack.zip!mimetype"])


def test_a_nested_member_that_cannot_be_inflated_is_a_return(tmp_path):
    """Encrypted (or damaged, or compressed in an unknown way): reading it says which."""
    archive = tmp_path / "wrapped.zip"
    inner = zip_of({"S1.xlsx": b"x"})
    archive.write_bytes(set_flags(zip_of({"inner.zip": inner, "inner": inner}),
                                  lambda flags: flags | 0x1))
    path = str(archive)

    assert found(archive) == ([
        Source(f"{path}!inner", path, (Entry("inner", 1),)),
        Source(f"{path}!inner.zip", path, (Entry("inner.zip", 0),)),
    ], [], [])


def test_member_names_are_decoded_by_their_flag(tmp_path):
    """With the UTF-8 flag a name is UTF-8 even if it looks like code page 437 mojibake;
    without it, UTF-8 bytes are shown as UTF-8 whatever the other flags (here: encrypted)."""
    flagged = tmp_path / "flagged.zip"
    flagged.write_bytes(zip_of({"├⌐cole.xlsx": b"x"}))  # 'é' in UTF-8, read as code page 437
    unflagged = tmp_path / "unflagged.zip"
    unflagged.write_bytes(set_flags(zip_of({"école.xlsx": b"x"}),
                                    lambda flags: (flags & ~0x800) | 0x1))

    sources, _, _ = found(flagged, unflagged)

    assert [s.display for s in sources] == [f"{flagged}!├⌐cole.xlsx",
                                             f"{unflagged}!école.xlsx"]


def test_an_archive_of_exactly_the_budget_left_is_opened(tmp_path, monkeypatch):
    inner = zip_of({"S1.xlsx": b"x" * 100})
    monkeypatch.setattr(files, "NESTED_BYTES", len(inner))
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_of({"1.zip": inner, "2.zip": zip_of({"S2.xlsx": b"y"})}))
    path = str(archive)
    over = ("the archives inside this input unpack to more than 0 MiB together, so this one "
            "was not opened (it may be a zip bomb); unzip it and send the returns inside")

    assert found(archive) == ([
        Source(f"{path}!1.zip!S1.xlsx", path, (Entry("1.zip", 0), Entry("S1.xlsx", 0))),
        Source(f"{path}!2.zip", path, (Entry("2.zip", 1, ("too-large", over)),)),
    ], [], [])


def test_an_archive_nested_too_deep_is_refused_by_its_entry(tmp_path):
    level4 = zip_of({"S1.xlsx": b"x"})
    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_of({"notes.txt": b"n", "b.zip": zip_of(
        {"c.zip": zip_of({"README": b"r", "d.zip": level4})})}))
    path = str(archive)
    deep = ("this archive is inside 3 other archives, deeper than 3 levels are opened; "
            "unzip it and send the returns inside")

    assert found(archive) == ([Source(f"{path}!b.zip!c.zip!d.zip", path, (
        Entry("b.zip", 1), Entry("c.zip", 0), Entry("d.zip", 1, ("too-large", deep))))],
        [], [f"{path}!b.zip!c.zip!README", f"{path}!notes.txt"])


def test_a_file_is_shown_as_named(tmp_path, monkeypatch):
    (tmp_path / "S1.xlsx").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert found("./S1.xlsx", f"{tmp_path}//S1.xlsx") == (
        [Source("./S1.xlsx", "S1.xlsx")],
        [Skipped(f"{tmp_path}//S1.xlsx", "already read as ./S1.xlsx")], [])


def test_a_file_ignored_in_a_folder_then_named_twice_is_read_once(tmp_path):
    returns = tmp_path / "returns"
    returns.mkdir()
    data = returns / "data.bin"
    data.write_bytes(b"not a zip")

    assert found(returns, data, data) == (
        [Source(str(data), str(data))],
        [Skipped(str(data), f"already read as {data}")],
        [str(data)])


def test_a_folder_that_cannot_be_opened_is_a_source_of_its_own(tmp_path, monkeypatch):
    returns = tmp_path / "returns"
    (returns / "locked").mkdir(parents=True)
    (returns / "locked" / "S1.xlsx").write_bytes(b"x")
    (returns / "S2.xlsx").write_bytes(b"y")
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    why = "the folder could not be opened (Permission denied); the returns in it were not read"

    assert found(returns) == ([
        Source(f"{returns}/S2.xlsx", str(returns / "S2.xlsx")),
        Source(f"{returns}/locked", str(returns / "locked"),
               (Entry("", 0, ("unreadable", why)),)),
    ], [], [])


def test_a_listing_error_without_a_file_name_is_the_folders_own(tmp_path, monkeypatch):
    def scandir(path="."):
        raise OSError("cannot list")  # no errno, no file name

    monkeypatch.setattr(os, "scandir", scandir)
    why = "the folder could not be opened (cannot list); the returns in it were not read"

    assert found(tmp_path) == (
        [Source(str(tmp_path), str(tmp_path), (Entry("", 0, ("unreadable", why)),))], [], [])


# -- write_csv: UTF-8 whatever the locale ---------------------------------------------------

def test_write_csv_is_utf8_in_an_ascii_locale(tmp_path):
    """Windows' locale is cp1252, a bare Linux one ASCII: the CSV is UTF-8 in every one."""
    out = tmp_path / "out.csv"
    package = Path(files.__file__).parent.parent  # the copy under test, in the child too
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0",
           "PYTHONPATH": os.pathsep.join([str(package), os.environ.get("PYTHONPATH", "")])}
    code = ("import sys; from workbook_tool.files import write_csv; "
            "write_csv(sys.argv[1], ('school', 'note'), [['\\u00c9cole Nord', '\\u2192 ok']])")
    subprocess.run([sys.executable, "-c", code, str(out)], env=env, check=True,
                   capture_output=True)
    assert out.read_bytes() == "school,note\nÉcole Nord,→ ok\n".encode()
