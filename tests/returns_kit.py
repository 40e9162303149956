"""Building and tampering with returns in tests (no binary fixtures: everything is made here).

Returns come from the real writer (`workbook_tool.writer.build_workbook`); they are changed
the way people and programs change them: with openpyxl (as a spreadsheet program would) or
by rewriting zip members (for what no spreadsheet program writes).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import openpyxl

from workbook_tool.reader import Answer
from workbook_tool.roster import School
from workbook_tool.rubric import Rubric, load_rubric
from workbook_tool.writer import build_workbook

SMALL_RUBRIC = Path(__file__).parent / "data" / "small_rubric.yaml"
SCHOOL = School("S1", "Alpha School")
CYCLE = "2024-25"


@cache
def small_rubric() -> Rubric:
    return load_rubric(SMALL_RUBRIC)


def answers_for(rubric: Rubric, domain_ids: list[str] | None = None) -> dict[str, Answer]:
    """Every indicator rated, levels cycling, with evidence, next steps and a priority."""
    out = {}
    for i, ind in enumerate(ind for d in rubric.select(domain_ids) for ind in d.indicators):
        level = rubric.levels[i % len(rubric.levels)]
        priority = ("High", "Medium", "Low")[i % 3]
        out[ind.id] = Answer(ind.id, level.level, level.label, f"Evidence for {ind.id}",
                             f"Next for {ind.id}", priority)
    return out


def make_return(rubric: Rubric | None = None, school: School = SCHOOL, cycle: str = CYCLE,
                domain_ids: list[str] | None = None,
                answers: dict[str, Answer] | None = None) -> bytes:
    rubric = rubric or small_rubric()
    return build_workbook(rubric, school, cycle, domain_ids, answers)


# -- zip members ----------------------------------------------------------------------------

def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def rezip(parts: dict[str, bytes]) -> bytes:
    return zip_of(parts)


def zip_of(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED, comment: bytes = b"",
           stored: tuple[str, ...] = ()) -> bytes:
    """A zip of `parts` in order; the members named in `stored` are not compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, body in parts.items():
            archive.writestr(name, body, zipfile.ZIP_STORED if name in stored else None)
        archive.comment = comment
    return out.getvalue()


def central_entry(data: bytes, member: str) -> int:
    """The offset of a member's central directory header."""
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46 : pos + 46 + name_len] == member.encode():
            return pos
        pos = data.find(b"PK\x01\x02", pos + 46 + name_len + extra_len + comment_len)
    raise AssertionError(f"no {member}")


def patch_both(data: bytes, member: str, local_at: int, central_at: int, fmt: str,
               value: int) -> bytes:
    """Write `value` into a field of the member's local header and of its central entry."""
    out = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    struct.pack_into(fmt, out, info.header_offset + local_at, value)
    struct.pack_into(fmt, out, central_entry(data, member) + central_at, value)
    return bytes(out)


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """A member's uncompressed size rewritten in its local header and central entry."""
    return patch_both(data, member, 22, 24, "<I", size)


def edit_member(data: bytes, name: str, edit: Callable[[bytes], bytes]) -> bytes:
    parts = members(data)
    parts[name] = edit(parts[name])
    return rezip(parts)


def sheet_part(data: bytes, sheet: str) -> str:
    """The zip member of a sheet, from workbook.xml and its relationships."""
    parts = members(data)
    workbook = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}" [^>]*r:id="([^"]+)"', workbook).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels)
    path = target.group(1) or target.group(2)
    return path.lstrip("/") if path.startswith("/") else f"xl/{path}"


def named_cell(data: bytes, name: str) -> tuple[str, str]:
    """(sheet, "F4") of a workbook-scope defined name."""
    workbook = members(data)["xl/workbook.xml"].decode()
    text = re.search(rf'<definedName name="{name}">([^<]+)</definedName>', workbook).group(1)
    match = re.fullmatch(r"'?(.+?)'?!\$([A-Z]+)\$([0-9]+)", text.replace("&amp;", "&"))
    return match.group(1).replace("''", "'"), f"{match.group(2)}{match.group(3)}"


def set_cell_xml(data: bytes, sheet: str, ref: str, cell_xml: str) -> bytes:
    """Replace the <c> element of `ref` (it must exist, as input cells always do)."""
    # The attributes are matched lazily so that an empty cell (`<c r="G4" s="3"/>`) ends at
    # its own "/>": a greedy match ran on to the next "</c>" and deleted the cells between.
    pattern = re.compile(rf'<c r="{ref}"(?:\s[^>]*?)?(?:/>|>.*?</c>)'.encode(), re.S)

    def edit(xml: bytes) -> bytes:
        new, count = pattern.subn(cell_xml.encode(), xml, count=1)
        assert count == 1, f"no cell {ref} in {sheet}"
        return new

    return edit_member(data, sheet_part(data, sheet), edit)


# -- openpyxl edits (what a spreadsheet program does) ----------------------------------------

def with_openpyxl(data: bytes, edit: Callable[[openpyxl.Workbook], None]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def set_named_value(data: bytes, name: str, value) -> bytes:
    sheet, ref = named_cell(data, name)

    def edit(book):
        book[sheet][ref] = value

    return with_openpyxl(data, edit)


def fill(data: bytes, cells: dict[str, object]) -> bytes:
    """Type values into named cells in one openpyxl pass (None empties a cell)."""
    places = {name: named_cell(data, name) for name in cells}

    def edit(book):
        for name, value in cells.items():
            sheet, ref = places[name]
            book[sheet][ref] = value

    return with_openpyxl(data, edit)


def read(data: bytes, rubric: Rubric, file: str = "return.xlsx", limits=None):
    """read_return, asserting every problem has a known code and names the file."""
    from workbook_tool.problems import CODES
    from workbook_tool.reader import Limits, read_return

    result = read_return(data, file, rubric, limits or Limits())
    for problem in result.problems:
        assert problem.code in CODES, problem
        assert problem.file == file
    return result


def codes(result) -> list[str]:
    return [p.code for p in result.problems]


# -- a consolidation through the CLI, outputs read back independently ------------------------

def answer(ind_id: str, level: int | None, evidence: str = "", next_steps: str = "",
           priority: str = "") -> Answer:
    """One answer of the small rubric (levels 1 Beginning, 2 Growing, 3 Strong Practice)."""
    labels = {None: "", 1: "Beginning", 2: "Growing", 3: "Strong Practice"}
    return Answer(ind_id, level, labels[level], evidence, next_steps, priority)


def consolidate_cli(folder: Path, files: dict[str, bytes], roster: str, *extra: str):
    """Write `files` into folder/returns, run `workbook-tool consolidate` on them with the
    small rubric, and return (CliRunner result, output folder)."""
    from click.testing import CliRunner

    from workbook_tool.cli import main

    returns = folder / "returns"
    returns.mkdir(parents=True)
    for name, body in files.items():
        (returns / name).write_bytes(body)
    roster_path = folder / "roster.csv"
    roster_path.write_text(roster, encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(main, [
        "consolidate", str(returns), "--roster", str(roster_path), "--out", str(out),
        "--rubric", str(SMALL_RUBRIC), "--jobs", "1", "--quiet", *extra])
    return result, out


def csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# The four prefill columns of the small rubric's domain sheets (Rating F, Evidence G, Next
# steps H, Priority I come first), with their headers and the kinds of their names.
PREFILL_HEADERS = {"J": "Last cycle", "K": "Last cycle's next steps", "L": "Follow-up",
                   "M": "Review"}
PREFILL_KINDS = {"J": "previous_rating", "K": "previous_next_steps", "L": "followup",
                 "M": "review"}


def prefilled_return(prefill: dict[str, tuple[str, str, str, str]],
                     names: dict[str, str | None] | None = None, edit=None) -> bytes:
    """A plain return of the small rubric with the four prefill columns filled and named by
    hand (openpyxl): `prefill` maps an indicator to (last cycle's label, last cycle's next
    steps, follow-up, review); `names` then repoints names (None deletes one), and `edit`
    edits the book last."""
    from openpyxl.workbook.defined_name import DefinedName

    data = make_return(answers=answers_for(small_rubric()))
    rows = {ind: named_cell(data, f"rating_{ind.replace('.', '_')}") for ind in prefill}

    def change(book):
        for sheet_name in {sheet for sheet, _ in rows.values()}:
            for col, header in PREFILL_HEADERS.items():
                book[sheet_name][f"{col}2"] = header
        for ind, (sheet_name, ref) in rows.items():
            row = ref[1:]
            for col, value in zip(PREFILL_HEADERS, prefill[ind], strict=True):
                book[sheet_name][f"{col}{row}"] = value
                name = f"{PREFILL_KINDS[col]}_{ind.replace('.', '_')}"
                book.defined_names[name] = DefinedName(
                    name, attr_text=f"'{sheet_name}'!${col}${row}")
        for name, ref in (names or {}).items():
            if ref is None:
                del book.defined_names[name]
            else:
                book.defined_names[name] = DefinedName(name, attr_text=ref)
        if edit is not None:
            edit(book)

    return with_openpyxl(data, change)
