"""Read a return: bytes in, a ReturnResult out, never an exception.

    preflight  cheap checks on the raw bytes and the zip (size, bombs, DTDs, file kinds)
    locate     sheets, workbook-scope defined names, metadata (hidden sheet and properties)
    values     cell values through python-calamine, normalised (ratings, priorities, text)

Every input cell is found through its defined name; metadata through its key. Nothing in a
return is ever evaluated or run.
"""

from __future__ import annotations

import contextlib
import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .. import layout
from ..problems import Problem
from ..rubric import Rubric
from . import locate, values
from .model import Answer, ReturnResult
from .preflight import Limits, Rejected, open_package

__all__ = ["Answer", "Limits", "ReturnResult", "read_file", "read_return"]

_LIST_AT_MOST = 10
DEFAULT_LIMITS = Limits()


def read_return(
    data: bytes, file: str, rubric: Rubric, limits: Limits = DEFAULT_LIMITS
) -> ReturnResult:
    """Read one return from its bytes; problems are reported in the result, never raised."""
    return _read(data, file, rubric, limits, hashlib.sha256(data).hexdigest())


def read_file(
    path: str | Path, rubric: Rubric, limits: Limits = DEFAULT_LIMITS, display: str | None = None,
    member: str = "",
) -> ReturnResult:
    """Read a return from disk (read once, never written); `display` names it in problems.

    With `member`, the return is that member of the zip archive at `path`. A member over the
    size limit is not inflated further (it may be a bomb), so its sha256 covers only the
    part read.
    """
    file = display if display is not None else str(path)
    digest = hashlib.sha256()
    try:
        with _open(path, member) as handle:
            data = handle.read(limits.max_file_bytes + 1)
            digest.update(data)
            oversized = len(data) > limits.max_file_bytes
            size = len(data)
            if oversized and not member:  # hash the rest without holding it
                while chunk := handle.read(2**20):
                    digest.update(chunk)
                    size += len(chunk)
    except (OSError, zipfile.BadZipFile, KeyError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        result = ReturnResult(file=file, sha256="")
        message = f"the file could not be read ({reason})"
        result.problems.append(Problem(file, "unreadable", message))
        return result
    if oversized:
        result = ReturnResult(file=file, sha256=digest.hexdigest())
        limit = f"{limits.max_file_bytes / 2**20:.1f} MiB"
        if member:
            message = f"the file is over the limit of {limit}"
        else:
            message = f"the file is {size / 2**20:.1f} MiB, over the limit of {limit}"
        result.problems.append(Problem(file, "too-large", message))
        return result
    return _read(data, file, rubric, limits, digest.hexdigest())


@contextlib.contextmanager
def _open(path: str | Path, member: str) -> Iterator[BinaryIO]:
    if not member:
        with open(path, "rb") as handle:
            yield handle
        return
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        yield handle


def _read(data: bytes, file: str, rubric: Rubric, limits: Limits, sha256: str) -> ReturnResult:
    result = ReturnResult(file=file, sha256=sha256)
    reader = _Reader(data, file, rubric, limits, result)
    try:
        reader.run()
    except Rejected as rejected:
        result.answers = []
        reader.problem(rejected.code, rejected.message, rejected.sheet, rejected.cell)
    except BaseException as exc:  # a panic in a library, a bug: a problem, never a crash
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        result.answers = []
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        reader.problem("unreadable", f"the workbook could not be read ({reason})")
    finally:
        reader.close()
    return result


class _Reader:
    def __init__(self, data: bytes, file: str, rubric: Rubric, limits: Limits, result):
        self.data = data
        self.file = file
        self.rubric = rubric
        self.limits = limits
        self.result: ReturnResult = result
        self.sheets: values.Sheets | None = None
        self.broken: set[str] = set()  # indicators whose rating is an error, not unrated

    def close(self) -> None:
        if self.sheets is not None:
            self.sheets.close()

    def problem(self, code: str, message: str, sheet: str = "", cell: str = "") -> None:
        self.result.problems.append(
            Problem(self.file, code, message, sheet=sheet, cell=cell,
                    school_id=self.result.school_id)
        )

    # -- the pipeline ----------------------------------------------------------------------
    def run(self) -> None:
        package = open_package(self.data, self.file, self.limits)
        book = locate.read_book(package)
        properties = locate.custom_properties(package)
        self.sheets = values.Sheets(package, book, self.limits)
        meta = self.metadata(book, properties)
        domain_ids = self.identify(meta)
        if domain_ids is None:
            return
        if package.has_macros:
            self.problem("macros-ignored", "the workbook holds macros; they were ignored, not run")
        self.school_cells(book, meta)
        self.answers(book, domain_ids)

    def metadata(self, book: locate.Book, properties: dict[str, str]) -> locate.Metadata:
        hidden: dict[str, str] = {}
        sheet = book.sheet(layout.DATA_SHEET)
        if sheet is not None:
            for row in self.sheets.rows(sheet):
                if len(row) < 1 or not isinstance(row[0], str):
                    continue
                key = row[0].strip()
                if key in layout.META_KEYS and key not in hidden:
                    value = row[1] if len(row) > 1 else ""
                    hidden[key] = values.text_of(value).strip()
        meta = locate.merge_metadata(hidden, properties)
        if layout.META_FORMAT not in meta.values:
            raise Rejected(
                "not-a-return",
                "this workbook was not generated by workbook-tool (no hidden "
                f"'{layout.DATA_SHEET}' sheet and no workbook-tool properties)",
            )
        return meta

    def identify(self, meta: locate.Metadata) -> list[str] | None:
        """Fill the result's identity; the domains to read, or None when the rubric is wrong."""
        result = self.result
        result.school_id = meta.get("school_id")
        result.school_name = meta.get("school_name")
        result.cycle = meta.get("cycle")
        result.rubric_id = meta.get("rubric_id")
        result.rubric_version = meta.get("rubric_version")
        result.rubric_fingerprint = meta.get("rubric_fingerprint")
        raw_format = meta.get(layout.META_FORMAT)
        version = locate.format_version(raw_format)
        result.format_version = version
        if version is None or version < 1:
            raise Rejected(
                "not-a-return",
                f"the workbook's format version {raw_format!r} is not one workbook-tool writes",
            )
        if version > layout.FORMAT_VERSION:
            raise Rejected(
                "not-a-return",
                f"the workbook was made by a newer workbook-tool (format {version}; this one "
                f"reads format {layout.FORMAT_VERSION}); update workbook-tool to read it",
            )
        rubric = self.rubric
        mine = f"'{rubric.id}' version '{rubric.version}'"
        theirs = f"'{result.rubric_id or '?'}' version '{result.rubric_version or '?'}'"
        if (result.rubric_id, result.rubric_version) != (rubric.id, rubric.version):
            self.problem(
                "wrong-rubric",
                f"the workbook was made from rubric {theirs}, not from {mine}",
            )
            return None
        fingerprint = result.rubric_fingerprint
        if fingerprint and rubric.fingerprint and fingerprint != rubric.fingerprint:
            self.problem(
                "wrong-rubric",
                f"the workbook was made from a different text of rubric {mine} (fingerprint "
                f"{fingerprint[:12]}…, expected {rubric.fingerprint[:12]}…)",
            )
            return None
        known = [d.id for d in rubric.domains]
        listed = locate.domain_list(meta.get("domains"))
        if not listed:
            return known
        unknown = [d for d in listed if d not in known]
        if unknown:
            self.problem(
                "wrong-rubric",
                f"the workbook lists domain {', '.join(unknown)}, which rubric {mine} does not "
                f"have (it has {', '.join(known)})",
            )
            return None
        return [d for d in known if d in listed]

    def school_cells(self, book: locate.Book, meta: locate.Metadata) -> None:
        result = self.result
        for name in layout.SCHOOL_NAMES:
            found = book.resolve(name)
            if isinstance(found, str):
                self.problem("missing-cell", found)
                continue
            sheet, cell = found
            text = values.text_of(self.sheets.cell(sheet, cell, formulas=False).value).strip()
            if name == "school_id":
                if result.school_id and text and text != result.school_id:
                    self.problem(
                        "school-mismatch",
                        f"the school id on the workbook says {values.quote(text)}, but the "
                        f"workbook was generated for school {values.quote(result.school_id)}",
                        sheet.name, cell,
                    )
                result.school_id = result.school_id or text
            elif name == "school_name":
                result.school_name = result.school_name or text
            elif name == "cycle":
                result.cycle = result.cycle or text
        if not result.school_id:
            self.problem("unknown-school", "the workbook does not say which school it is for")

    def answers(self, book: locate.Book, domain_ids: list[str]) -> None:
        unrated: list[str] = []
        for domain in self.rubric.select(domain_ids):
            for indicator in domain.indicators:
                answer = self.answer(book, indicator.id)
                self.result.answers.append(answer)
                if answer.level is None and answer.indicator_id not in self.broken:
                    unrated.append(indicator.id)
        if unrated:
            total = len(self.result.answers)
            listed = ", ".join(unrated[:_LIST_AT_MOST])
            if len(unrated) > _LIST_AT_MOST:
                listed += ", …"
            noun = "indicator is" if len(unrated) == 1 else "indicators are"
            self.problem("unrated", f"{len(unrated)} of {total} {noun} not rated: {listed}")

    def answer(self, book: locate.Book, ind_id: str) -> Answer:
        level, label = None, ""
        texts = {"evidence": "", "next_steps": "", "priority": ""}
        for kind in layout.INPUT_KINDS:
            what = f"the {kind.replace('_', ' ')} of {ind_id}"
            found = self.input_cell(book, layout.defined_name(kind, ind_id), what)
            if found is None:
                if kind == "rating":
                    self.broken.add(ind_id)
                continue
            value, sheet, cell = found
            if kind == "rating":
                rating = values.rating_of(value, self.rubric)
                level, label = rating.level, rating.label
                if rating.status == "invalid":
                    self.broken.add(ind_id)
                    self.problem(
                        "invalid-rating",
                        f"{what} is {values.quote(value)}, which is not one of the levels "
                        f"({', '.join(self.rubric.labels)})",
                        sheet, cell,
                    )
                elif rating.status == "normalized":
                    self.problem(
                        "normalized-rating",
                        f"{what} {values.quote(value)} was read as {rating.level} "
                        f"({rating.label})",
                        sheet, cell,
                    )
                continue
            if kind == "priority":
                text, valid = values.priority_of(value)
                if not valid:
                    self.problem(
                        "invalid-priority",
                        f"{what} is {values.quote(value)}, not one of "
                        f"{', '.join(layout.PRIORITIES)}; it was kept as typed",
                        sheet, cell,
                    )
            else:
                text = values.text_of(value)
            if len(text) > values.EXCEL_MAX_TEXT:
                self.problem(
                    "text-too-long",
                    f"{what} is {len(text):,} characters long, more than the "
                    f"{values.EXCEL_MAX_TEXT:,} Excel keeps in a cell; it was kept whole",
                    sheet, cell,
                )
            texts[kind] = text
        return Answer(ind_id, level, label, **texts)

    def input_cell(self, book: locate.Book, name: str, what: str):
        """(value, sheet name, cell) of a named input cell, or None after reporting why not."""
        found = book.resolve(name)
        if isinstance(found, str):
            self.problem("missing-cell", f"{what} cannot be read: {found}")
            return None
        sheet, ref = found
        cell = self.sheets.cell(sheet, ref)
        if cell.merged_into:
            self.problem(
                "missing-cell",
                f"{what} cannot be read: its cell is merged into {cell.merged_into}, which "
                "keeps only the first cell's value; unmerge the cells and enter it again",
                sheet.name, ref,
            )
            return None
        if cell.formula:
            self.problem(
                "formula-value",
                f"{what} is a formula; its last computed value {values.quote(cell.value)} "
                "was used",
                sheet.name, ref,
            )
        return cell.value, sheet.name, ref
