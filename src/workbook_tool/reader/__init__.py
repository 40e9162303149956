"""Read a return: bytes in, a ReturnResult out, never an exception.

    preflight  cheap checks on the raw bytes and the zip (size, bombs, DTDs, file kinds)
    locate     sheets, workbook-scope defined names, metadata (hidden sheet and properties)
    values     cell values through python-calamine, normalised (ratings, priorities, text)

Every input cell is found through its defined name; metadata through its key. Nothing in a
return is ever evaluated or run.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from .. import layout
from ..problems import Problem
from ..rubric import Rubric
from . import locate, values
from .model import Answer, ReturnResult
from .preflight import Limits, Rejected, open_package

__all__ = ["Answer", "Limits", "ReturnResult", "read_file", "read_return"]

from .source import read_file

_LIST_AT_MOST = 10
DEFAULT_LIMITS = Limits()


def read_return(
    data: bytes, file: str, rubric: Rubric, limits: Limits = DEFAULT_LIMITS
) -> ReturnResult:
    """Read one return from its bytes; problems are reported in the result, never raised."""
    return read_bytes(data, file, rubric, limits, hashlib.sha256(data).hexdigest())


def read_bytes(data: bytes, file: str, rubric: Rubric, limits: Limits, sha256: str) -> ReturnResult:
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


_HEADER_SEARCH = 50  # rows searched for a domain sheet's header row (it is row 2)


def _text_at(rows: list[list], row: int, col: int) -> str:
    if row < 0 or col < 0 or row >= len(rows) or col >= len(rows[row]):
        return ""
    return values.text_of(rows[row][col]).strip()


class _Reader:
    def __init__(self, data: bytes, file: str, rubric: Rubric, limits: Limits, result):
        self.data = data
        self.file = file
        self.rubric = rubric
        self.limits = limits
        self.result: ReturnResult = result
        self.sheets: values.Sheets | None = None
        self.broken: set[str] = set()  # indicators whose rating is an error, not unrated
        self.claimed: dict[tuple[str, str], str] = {}  # (sheet, cell) -> the name read there
        self.expected: dict[str, tuple[str, str, str]] = {}  # name -> (kind, indicator, domain)
        self.domain_sheets: dict[str, str] = {}  # domain id -> the sheet its names point at
        self.header_rows: dict[str, int | None] = {}  # sheet -> its header row
        self.columns = layout.DomainColumns(len(rubric.levels))

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
        self.answers(book, self.with_named_domains(book, domain_ids))

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

    def with_named_domains(self, book: locate.Book, domain_ids: list[str]) -> list[str]:
        """The listed domains, and any other whose input names the workbook has.

        The hidden sheet's domain list is editable: a shortened list must not make named,
        filled cells vanish from the return.
        """
        def named(domain) -> bool:
            return any(layout.defined_name(kind, ind.id).casefold() in book.names
                       for ind in domain.indicators for kind in layout.INPUT_KINDS)

        return [d.id for d in self.rubric.domains if d.id in domain_ids or named(d)]

    def school_cells(self, book: locate.Book, meta: locate.Metadata) -> None:
        result = self.result
        for name in layout.SCHOOL_NAMES:
            found = book.resolve(name)
            if isinstance(found, locate.Unresolved):
                self.problem(found.code, found.message)
                continue
            sheet, cell = found
            if not self.claim(name, sheet, cell, f"the {name.replace('_', ' ')}"):
                continue
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
        selected = self.rubric.select(domain_ids)
        self.expected = {layout.defined_name(kind, ind.id): (kind, ind.id, domain.id)
                         for domain in selected for ind in domain.indicators
                         for kind in layout.INPUT_KINDS}
        self.domain_sheets = self.home_sheets(book, selected)
        for domain in selected:
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
            value, sheet, cell, stored = found
            if kind == "rating":
                if isinstance(stored, int | float) and not isinstance(stored, bool):
                    # A number is judged as stored: a format showing 2.6 as "3" is no rating.
                    value = values.text_of(stored)
                rating = values.rating_of(value, self.rubric)
                level, label = rating.level, rating.label
                if rating.status == "invalid":
                    self.broken.add(ind_id)
                    shown = (f"the error value {value}" if isinstance(value, values.ErrorValue)
                             else values.quote(value, known="".join(self.rubric.labels)))
                    self.problem(
                        "invalid-rating",
                        f"{what} is {shown}, which is not one of the levels "
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
            if isinstance(value, values.ErrorValue):  # kept as the text the cell showed
                text = str(value)
                shown = (f"shows the error value {text}; it was kept as that text" if text
                         else "is marked as an error value but holds no error text; it was "
                         "read as empty")
                self.problem("error-value", f"{what} {shown}", sheet, cell)
            elif kind == "priority":
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
            too_long = values.too_long(text)
            if too_long:
                self.problem("text-too-long", f"{what} {too_long}", sheet, cell)
            texts[kind] = text
        return Answer(ind_id, level, label, **texts)

    def input_cell(self, book: locate.Book, name: str, what: str):
        """(value, sheet name, cell) of a named input cell, or None after reporting why not."""
        found = book.resolve(name)
        if isinstance(found, locate.Unresolved):
            self.problem(found.code, f"{what} cannot be read: {found.message}")
            return None
        sheet, ref = found
        if not self.in_place(name, sheet, ref, what) or not self.claim(name, sheet, ref, what):
            return None
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
        return cell.value, sheet.name, ref, cell.stored

    # -- where a name points -------------------------------------------------------------
    def claim(self, name: str, sheet: locate.SheetInfo, ref: str, what: str) -> bool:
        """False (reported) when another name this reader uses points at the same cell."""
        key = (sheet.name, ref)
        owner = self.claimed.setdefault(key, name)
        if owner == name:
            return True
        self.problem(
            "misplaced-cell",
            f"{what} cannot be read: the defined name {name} points at the same cell as "
            f"{owner}, so one answer would be read twice",
            sheet.name, ref,
        )
        return False

    def in_place(self, name: str, sheet: locate.SheetInfo, ref: str, what: str) -> bool:
        """Is the named cell on its domain's sheet, in its indicator's row and its kind's
        column? Reported when not.

        A program that inserts or deletes rows or columns without moving the names (or a
        name edited by hand) leaves a name pointing at another indicator's row or another
        field's column: reading it would put an answer in the wrong place. The row's id
        cell says which indicator a row is; the header row says which field a column is.
        """
        kind, ind_id, domain_id = self.expected[name]
        row, col = values.split(ref)
        id_col = col - self.columns.offset(kind)
        rows = self.sheets.rows(sheet)
        home = self.domain_sheets.get(domain_id)
        if home is not None and sheet.name != home:
            why = (f"it is on sheet '{sheet.name}', while the other answers of domain "
                   f"{domain_id} are on '{home}'")
        elif (heading := self.heading(sheet, rows, col)) != layout.INPUT_HEADERS[kind]:
            shown = values.quote(heading) if heading else "nothing"
            why = (f"the header of its column shows {shown}, not "
                   f"\"{layout.INPUT_HEADERS[kind]}\" (columns inserted or deleted by a program "
                   "that does not move names, or a name redefined)")
        elif (shown := _text_at(rows, row, id_col)) != ind_id:
            holds = values.quote(shown) if shown else "nothing"
            why = (f"the id cell of that row ({layout.cell_ref(row, id_col)}) shows {holds}, "
                   f"not {ind_id} (rows inserted by a program that does not move names, or a "
                   "name redefined)")
        else:
            return True
        self.problem(
            "misplaced-cell",
            f"{what} cannot be read: the defined name {name} points at {ref}, but {why}; the "
            "answer is not used so that it cannot land in the wrong place",
            sheet.name, ref,
        )
        return False

    def heading(self, sheet: locate.SheetInfo, rows: list[list], col: int) -> str:
        """The header above `col` on a domain sheet: the first row with an "ID" cell."""
        if sheet.name not in self.header_rows:
            self.header_rows[sheet.name] = next(
                (i for i, cells in enumerate(rows[:_HEADER_SEARCH])
                 if any(values.text_of(v).strip() == layout.ID_HEADER for v in cells)), None)
        header_row = self.header_rows[sheet.name]
        return "" if header_row is None else _text_at(rows, header_row, col)

    def home_sheets(self, book: locate.Book, selected) -> dict[str, str]:
        """Each domain's sheet: where most of its input names point (a sheet may be renamed,
        so its name is not known in advance; a name pointing elsewhere is misplaced)."""
        homes = {}
        for domain in selected:
            found = Counter()
            for ind in domain.indicators:
                for kind in layout.INPUT_KINDS:
                    place = book.resolve(layout.defined_name(kind, ind.id))
                    if not isinstance(place, locate.Unresolved):
                        found[place[0].name] += 1
            if found:
                homes[domain.id] = found.most_common(1)[0][0]
        return homes
