"""Read a return: bytes in, a ReturnResult out, never an exception.

    preflight  cheap checks on the raw bytes and the zip (size, bombs, DTDs, file kinds)
    locate     sheets, workbook-scope defined names, metadata (hidden sheet and properties)
    values     cell values through python-calamine, normalised (ratings, priorities, text)

Every input cell is found through its defined name; metadata through its key. Nothing in a
return is ever evaluated or run.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import replace

from .. import agreement, layout
from ..problems import Problem
from ..rubric import Rubric
from . import locate, values
from .model import Answer, ReturnResult, TeamRatings
from .preflight import Limits, Rejected, open_package

__all__ = ["Answer", "Limits", "ReturnResult", "read_file", "read_return"]

from .source import read_file

_LIST_AT_MOST = 10
_TEAM_NAMES_LISTED = 5  # unreadable team cells named in the one team-cell-missing warning
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
        result.answers, result.team = [], None
        reader.problem(rejected.code, rejected.message, rejected.sheet, rejected.cell)
    except BaseException as exc:  # a panic in a library, a bug: a problem, never a crash
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        result.answers, result.team = [], None
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        reader.problem("unreadable", f"the workbook could not be read ({reason})")
    finally:
        reader.close()
    return result


# A name of rater K's cells (K from 1 to MAX_RATERS, one digit): rater_name_K, or rater_K_
# followed by more.
_K = f"([1-{layout.MAX_RATERS}])"
_RATER_NAME = re.compile(rf"rater_(?:name_{_K}\Z|{_K}_)")
_HEADERS = {**layout.INPUT_HEADERS, **layout.PREFILL_HEADERS}  # a domain sheet column's header
_HEADER_SEARCH = 50  # rows searched for a domain sheet's header row (it is row 2)


def _listed(items: list[str], at_most: int) -> str:
    """The first `at_most` items for a message, "…" after them when there are more."""
    listed = ", ".join(items[:at_most])
    return listed + ", …" if len(items) > at_most else listed


def _choice(text: str, choices: tuple[str, ...]) -> str:
    """One of a dropdown's choices as the list spells it, whatever the case and spaces;
    anything else as typed."""
    folded = values.fold(text)
    return next((choice for choice in choices if values.fold(choice) == folded), text)


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
        self.headings: dict[tuple[str, int], str] = {}  # (sheet, column) -> heading()
        self.columns = layout.DomainColumns(len(rubric.levels))
        self.rating_cells: dict[str, tuple[str, str]] = {}  # indicator -> its rating's cell
        self.team_home: str | None = None  # the sheet most team names point at
        self.team_columns = layout.TeamColumns(0)
        self.team_checks: dict[str, tuple[int, str]] = {}  # kind -> (offset from id, header)
        self.ratings: dict[tuple[type, object], values.Rating] = {}  # rating_of, remembered

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
        if self.prefilled(book):
            self.columns = layout.DomainColumns(len(self.rubric.levels), prefill=True)
        self.answers(book, self.with_named_domains(book, domain_ids))
        if self.columns.prefill:
            self.carried_forward(meta.get("previous_cycle"))
        # After the answers, so that a team cell never takes a cell an answer is read from.
        self.team(book, meta)
        self.completed_by(book)

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
        kinds = layout.INPUT_KINDS + (layout.PREFILL_KINDS if self.columns.prefill else ())
        self.expected = {layout.defined_name(kind, ind.id): (kind, ind.id, domain.id)
                         for domain in selected for ind in domain.indicators
                         for kind in kinds}
        self.domain_sheets = self.home_sheets(book, selected)
        lost: list[str] = []  # prefill cells that could not be read
        for domain in selected:
            for indicator in domain.indicators:
                answer = self.answer(book, indicator.id)
                if self.columns.prefill:
                    answer = self.with_prefill(book, answer, lost)
                self.result.answers.append(answer)
                if answer.level is None and answer.indicator_id not in self.broken:
                    unrated.append(indicator.id)
        if lost:
            self.prefill_lost(lost)
        if unrated:
            total = len(self.result.answers)
            listed = _listed(unrated, _LIST_AT_MOST)
            verb = "is" if len(unrated) == 1 else "are"
            self.problem("unrated",
                         f"{len(unrated)} of {total} indicators {verb} not rated: {listed}")

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
                self.rating_cells[ind_id] = (sheet, cell)
                rating, value = self.rating_in(value, stored)
                level, label = rating.level, rating.label
                if rating.status == "invalid":
                    self.broken.add(ind_id)
                    self.problem(
                        "invalid-rating",
                        f"{what} is {self.shown(value)}, which is not one of the levels "
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
            if isinstance(value, values.ErrorValue):
                text = self.error_text(value, what, sheet, cell)
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
            self.check_length(text, what, sheet, cell)
            texts[kind] = text
        return Answer(ind_id, level, label, **texts)

    def error_text(self, value: values.ErrorValue, what: str, sheet: str, cell: str) -> str:
        """An error value in a text cell: kept as the text the cell showed, and reported."""
        text = str(value)
        shown = (f"shows the error value {text}; it was kept as that text" if text
                 else "is marked as an error value but holds no error text; it was "
                 "read as empty")
        self.problem("error-value", f"{what} {shown}", sheet, cell)
        return text

    def check_length(self, text: str, what: str, sheet: str, cell: str) -> None:
        too_long = values.too_long(text)
        if too_long:
            self.problem("text-too-long", f"{what} {too_long}", sheet, cell)

    def text_cell(self, value: object, what: str, sheet: str, cell: str) -> str:
        """A free-text cell's value as the person saw it, with evidence's fidelity rules."""
        if isinstance(value, values.ErrorValue):
            text = self.error_text(value, what, sheet, cell)
        else:
            text = values.text_of(value)
        self.check_length(text, what, sheet, cell)
        return text

    def rating_in(self, value, stored) -> tuple[values.Rating, object]:
        """(the rating a rating or rater cell holds, the value judged).

        A number is judged as stored: a format showing 2.6 as "3" is no rating.
        """
        if isinstance(stored, int | float) and not isinstance(stored, bool):
            value = values.text_of(stored)
        # A team return holds a few hundred rating cells, most of them one of a few texts.
        key = (value.__class__, value)
        rating = self.ratings.get(key)
        if rating is None:
            rating = self.ratings[key] = values.rating_of(value, self.rubric)
        return rating, value

    def shown(self, value) -> str:
        """A rating cell's value as a message shows it."""
        if isinstance(value, values.ErrorValue):
            return f"the error value {value}"
        return values.quote(value, known="".join(self.rubric.labels))

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
        return self.value_of(cell, what, sheet.name, ref)

    def value_of(self, cell: values.CellValue, what: str, sheet: str, ref: str):
        """(value, sheet name, cell, stored) of a cell read; a formula is reported."""
        if cell.formula:
            self.problem(
                "formula-value",
                f"{what} is a formula; its last computed value {values.quote(cell.value)} "
                "was used",
                sheet, ref,
            )
        return cell.value, sheet, ref, cell.stored

    # -- cycles: a workbook prefilled with last cycle's answers -----------------------------
    def prefilled(self, book: locate.Book) -> bool:
        """Prefilled workbooks have Review cells; their names say so even when the hidden
        sheet's keys were edited."""
        prefix = f"{layout.REVIEW}_"
        return any(name.startswith(prefix) for name in book.names)

    def with_prefill(self, book: locate.Book, answer: Answer, lost: list[str]) -> Answer:
        """The answer with last cycle's level, the Review choice and the follow-up."""
        ind_id = answer.indicator_id
        found = {kind: self.prefill_text(book, kind, ind_id, lost)
                 for kind in (layout.PREVIOUS_RATING, layout.REVIEW, layout.FOLLOWUP)}
        # Read for its place only: last cycle's next steps are the store's to keep.
        self.prefill_text(book, layout.PREVIOUS_NEXT_STEPS, ind_id, lost)
        previous = self.rating_in(found[layout.PREVIOUS_RATING], None)[0].level
        return replace(answer, previous_level=previous,
                       review=_choice(found[layout.REVIEW], layout.REVIEW_CHOICES),
                       followup=_choice(found[layout.FOLLOWUP], layout.FOLLOWUP_CHOICES))

    def prefill_text(self, book: locate.Book, kind: str, ind_id: str, lost: list[str]) -> str:
        """A prefill cell's text; "" (and its name in `lost`) when it cannot be read: gone,
        not where the layout puts it, another name's cell, or merged away."""
        name = layout.defined_name(kind, ind_id)
        found = book.resolve(name)
        if isinstance(found, locate.Unresolved) or not self.prefill_place(name, *found):
            lost.append(name)
            return ""
        sheet, ref = found
        cell = self.sheets.cell(sheet, ref)
        if cell.merged_into:
            lost.append(name)
            return ""
        what = f"the {layout.PREFILL_HEADERS[kind].lower()} of {ind_id}"
        value = self.value_of(cell, what, sheet.name, ref)[0]
        return self.text_cell(value, what, sheet.name, ref).strip()

    def prefill_place(self, name: str, sheet: locate.SheetInfo, ref: str) -> bool:
        """in_place's check, without its error: a prefill cell never rejects a return. Its
        domain must have a home sheet (the answers' names show which)."""
        domain_id = self.expected[name][2]
        return (self.domain_sheets.get(domain_id) is not None
                and not self.misplaced(name, sheet, ref)
                and self.claimed.setdefault((sheet.name, ref), name) == name)

    def prefill_lost(self, lost: list[str]) -> None:
        listed = _listed(lost, _TEAM_NAMES_LISTED)
        what = "of last cycle's answers, follow-up or review could not be read and"
        if len(lost) == 1:
            told = (f"1 cell {what} was left empty ({listed}): the defined name is gone or "
                    "does not point at its place")
        else:
            told = (f"{len(lost)} cells {what} were left empty ({listed}): the defined names "
                    "are gone or do not point at their places")
        self.problem("prefill-cell-missing", told)

    def carried_forward(self, previous_cycle: str) -> None:
        """One warning naming the ratings still last cycle's and not reviewed."""
        carried = [a.indicator_id for a in self.result.answers
                   if a.level is not None and a.level == a.previous_level
                   and a.review == layout.CARRIED_FORWARD]
        if not carried:
            return
        listed = _listed(carried, _LIST_AT_MOST)
        total = len(self.result.answers)
        source = f" ({previous_cycle})" if previous_cycle else ""
        verb = "is" if len(carried) == 1 else "are"
        self.problem(
            "carried-forward",
            f"{len(carried)} of {total} ratings {verb} still last cycle's{source} with Review "
            f"still \"{layout.CARRIED_FORWARD}\": {listed}; they count as this cycle's "
            f"ratings (set Review to \"{layout.REVIEWED}\" once the team has looked again)",
        )

    # -- format 2: who filled it in, and the team's raters ---------------------------------
    def completed_by(self, book: locate.Book) -> None:
        """The "Completed by" cell, trimmed. A format 1 workbook has none; in format 2 a
        name that is gone or points elsewhere only means there is no name to read."""
        found = book.resolve(layout.COMPLETED_BY)
        if isinstance(found, locate.Unresolved):
            return
        sheet, ref = found
        row, col = values.split(ref)
        # Its label is left of it; a cell another name is read from is never a person's name.
        if (_text_at(self.sheets.rows(sheet), row, col - 1) != layout.COMPLETED_BY_LABEL
                or self.claimed.setdefault((sheet.name, ref), layout.COMPLETED_BY)
                != layout.COMPLETED_BY):
            return
        cell = self.sheets.cell(sheet, ref, formulas=False)
        what = f"the \"{layout.COMPLETED_BY_LABEL}\" name"
        self.result.completed_by = self.text_cell(cell.value, what, sheet.name, ref).strip()

    def team(self, book: locate.Book, meta: locate.Metadata) -> None:
        """The raters' names, levels and the agreement notes, when the workbook has raters.

        Nothing here rejects a return: the agreed ratings are the return, and a rater cell
        that cannot be read is left out (one team-cell-missing warning) so the statistics
        use the rest.
        """
        raw = meta.get("raters")
        raters = locate.rater_count(raw)
        named = self.named_raters(book)
        if raters is None and named:  # a garbled key: the names say how many raters
            raters = named
        if raters is None:
            self.problem(
                "team-cell-missing",
                f"the workbook's number of raters is {values.quote(raw)}, not a number from "
                f"{layout.MIN_RATERS} to {layout.MAX_RATERS}, so its rater columns could not "
                "be read; the agreed ratings were read as usual",
            )
            return
        raters = max(raters, named)
        if not raters:
            return
        indicators = [answer.indicator_id for answer in self.result.answers]
        self.team_columns = layout.TeamColumns(raters)
        kinds = layout.team_kinds(raters)
        self.team_checks = {kind: (self.team_columns.offset(kind), self.team_columns.header(kind))
                            for kind in kinds}
        # Every team name is spelled once: a 5-rater return has 173 of them.
        cell_names = {ind_id: [layout.defined_name(kind, ind_id) for kind in kinds]
                      for ind_id in indicators}
        self.team_home = self.team_sheet(book, raters, cell_names)
        lost: list[str] = []  # the team names whose cells could not be read
        names = tuple(self.rater_name(book, k, lost) for k in range(1, raters + 1))
        who = [f"rater {k} ({values.quote(name, limit=40)[1:-1]})" if name else f"rater {k}"
               for k, name in enumerate(names, 1)]
        levels: dict[str, tuple[int | None, ...]] = {}
        notes: dict[str, str] = {}
        unread_notes: set[str] = set()
        for ind_id, (*rater_names, note_name) in cell_names.items():
            levels[ind_id] = tuple(self.rater_level(book, k, ind_id, who[k - 1], lost, name)
                                   for k, name in enumerate(rater_names, 1))
            note = self.agreement_note(book, ind_id, lost, note_name)
            if note is None:
                unread_notes.add(ind_id)
            elif note.strip():
                notes[ind_id] = note
        self.result.team = TeamRatings(names, levels, notes)
        if lost:
            listed = _listed(lost, _TEAM_NAMES_LISTED)
            if len(lost) == 1:
                told = (f"1 team cell could not be read and was left out ({listed}): its "
                        "defined name is gone or does not point at its place")
            else:
                told = (f"{len(lost)} team cells could not be read and were left out "
                        f"({listed}): their defined names are gone or do not point at their "
                        "places")
            self.problem(
                "team-cell-missing",
                f"{told} on the '{layout.TEAM_SHEET}' sheet; the team statistics use the rest",
            )
        self.not_agreed(levels)
        self.outside_range(levels, notes, unread_notes)

    def named_raters(self, book: locate.Book) -> int:
        """How many raters the workbook's names show (0 below MIN_RATERS): the `raters` key
        is editable on the hidden sheet, and a lowered count must not make a rater's filled,
        named cells vanish."""
        # rater_K_ is decided by a name's first 8 characters: a team's 140 rating names
        # come down to a few to match.
        candidates = {name if name.startswith("rater_name_") else name[:8]
                      for name in book.names if name.startswith("rater_")}
        highest = max((int(match.group(1) or match.group(2)) for name in candidates
                       if (match := _RATER_NAME.match(name))), default=0)
        return highest if highest >= layout.MIN_RATERS else 0

    def rater_name(self, book: locate.Book, k: int, lost: list[str]) -> str:
        name, what = layout.rater_name(k), f"the name of rater {k}"
        # right above "Rater K"
        found = self.team_cell(book, name, what, (1, 0, layout.rater_header(k), None))
        if found is None:
            lost.append(name)
            return ""
        value, sheet, ref, _stored = found
        return self.text_cell(value, what, sheet, ref).strip()

    def rater_level(self, book: locate.Book, k: int, ind_id: str, who: str,
                    lost: list[str], name: str) -> int | None:
        """Rater k's level of an indicator (its cell's defined name: `name`); None when not
        rated, not a level or unreadable. `who` names the rater in messages: "rater 2 (Ana
        Ruiz)"."""
        what = f"the rating of {ind_id} by {who}"
        found = self.team_cell(book, name, what, self.team_place(layout.rater_kind(k), ind_id))
        if found is None:
            lost.append(name)
            return None
        value, sheet, ref, stored = found
        rating, value = self.rating_in(value, stored)
        if rating.status == "invalid":
            self.problem(
                "invalid-rater-rating",
                f"{what} is {self.shown(value)}, which is not one of the levels "
                f"({', '.join(self.rubric.labels)}); it is left out of the team's statistics",
                sheet, ref,
            )
        return rating.level

    def agreement_note(self, book: locate.Book, ind_id: str, lost: list[str],
                       name: str) -> str | None:
        """The note as typed ("" when blank); None when its cell could not be read. `name`
        is its cell's defined name."""
        what = f"the agreement note of {ind_id}"
        found = self.team_cell(book, name, what, self.team_place(layout.NOTE_KIND, ind_id))
        if found is None:
            lost.append(name)
            return None
        value, sheet, ref, _stored = found
        return self.text_cell(value, what, sheet, ref)

    def team_place(self, kind: str, ind_id: str) -> tuple[int, int, str, str]:
        """The position check of a team input cell (see team_cell): in its indicator's row
        (the id cell says which) and under its column's header ("Rater K", "Agreement
        note")."""
        offset, header = self.team_checks[kind]
        return 0, offset, ind_id, header

    def team_cell(self, book: locate.Book, name: str, what: str,
                  place: tuple[int, int, str, str | None]):
        """(value, sheet name, cell, stored) of a team input cell, or None when it cannot be
        read: its name is gone or broken, it is not on the team sheet where `place` says,
        another name is read from the same cell, or it is merged away.

        `place` is (down, left, text, header): the cell `down` rows below and `left`
        columns left of it shows `text`, and the header of its column is `header` (None:
        not checked). Data, not a function: a 5-rater return reads 173 team cells.
        """
        found = book.resolve(name)
        if isinstance(found, locate.Unresolved) or found[0].name != self.team_home:
            return None
        sheet, ref = found
        row, col = values.split(ref)
        down, left, text, header = place
        rows = self.sheets.rows(sheet)
        if _text_at(rows, row + down, col - left) != text or (
                header is not None and self.heading(sheet, rows, col) != header):
            return None
        if self.claimed.setdefault((sheet.name, ref), name) != name:
            return None  # an answer's cell (or another team cell): never read as this one
        cell = self.sheets.cell_at(sheet, row, col)
        if cell.merged_into:
            return None
        return self.value_of(cell, what, sheet.name, ref)

    def team_sheet(self, book: locate.Book, raters: int,
                   cell_names: dict[str, list[str]]) -> str | None:
        """The team sheet: where most team names point (it may have been renamed).
        `cell_names` holds each indicator's team names (rater 1..N, then the note)."""
        team_names = [layout.rater_name(k) for k in range(1, raters + 1)]
        team_names += [name for names in cell_names.values() for name in names]
        places = map(book.resolve, team_names)
        found = Counter(place[0].name for place in places
                        if not isinstance(place, locate.Unresolved))
        return found.most_common(1)[0][0] if found else None

    def not_agreed(self, levels: dict[str, tuple[int | None, ...]]) -> None:
        """One warning naming the indicators raters rated but the team did not agree on."""
        agreed = {answer.indicator_id: answer.level for answer in self.result.answers}
        open_ids = [ind_id for ind_id, given in levels.items()
                    if agreed.get(ind_id) is None and ind_id not in self.broken
                    and any(level is not None for level in given)]
        if not open_ids:
            return
        listed = _listed(open_ids, _LIST_AT_MOST)
        if len(open_ids) == 1:
            told = "1 indicator was rated by raters but has no agreed rating, so it counts"
        else:
            told = (f"{len(open_ids)} indicators were rated by raters but have no agreed "
                    "rating, so they count")
        self.problem("not-agreed", f"{told} as unrated: {listed}")

    def outside_range(self, levels: dict[str, tuple[int | None, ...]], notes: dict[str, str],
                      unread_notes: set[str]) -> None:
        """An agreed rating outside the raters' lowest..highest needs a note saying why.
        A note whose cell could not be read is not known to be empty: no warning then."""
        labels = {lv.level: lv.label for lv in self.rubric.levels}
        for answer in self.result.answers:
            ind_id = answer.indicator_id
            rated = agreement.stats(levels.get(ind_id, ()))
            if (not agreement.outside_range(answer.level, rated) or ind_id in notes
                    or ind_id in unread_notes):
                continue
            low, high = rated.lowest, rated.highest
            given = (f"{low} ({labels[low]})" if low == high
                     else f"{low} to {high} ({labels[low]} to {labels[high]})")
            sheet, cell = self.rating_cells[ind_id]
            self.problem(
                "agreed-outside-range",
                f"the agreed rating of {ind_id} is {answer.level} ({answer.label}), but the "
                f"raters rated it {given} and its agreement note is empty; write in the note "
                "why the team agreed on this rating",
                sheet, cell,
            )

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
        why = self.misplaced(name, sheet, ref)
        if not why:
            return True
        self.problem(
            "misplaced-cell",
            f"{what} cannot be read: the defined name {name} points at {ref}, but {why}; the "
            "answer is not used so that it cannot land in the wrong place",
            sheet.name, ref,
        )
        return False

    def misplaced(self, name: str, sheet: locate.SheetInfo, ref: str) -> str:
        """Why the named cell is not where the layout puts it (see in_place); "" if it is."""
        kind, ind_id, domain_id = self.expected[name]
        row, col = values.split(ref)
        id_col = col - self.columns.offset(kind)
        rows = self.sheets.rows(sheet)
        home = self.domain_sheets.get(domain_id)
        if home is not None and sheet.name != home:
            return (f"it is on sheet '{sheet.name}', while the other answers of domain "
                    f"{domain_id} are on '{home}'")
        if (heading := self.heading(sheet, rows, col)) != _HEADERS[kind]:
            shown = values.quote(heading) if heading else "nothing"
            return (f"the header of its column shows {shown}, not "
                    f"\"{_HEADERS[kind]}\" (columns inserted or deleted by a program "
                    "that does not move names, or a name redefined)")
        if id_col < 0:  # a name moved left of where its row's id cell could be
            return (f"its row has no id cell {self.columns.offset(kind)} columns to its left, "
                    "where the id of its indicator belongs (a name redefined)")
        if (shown := _text_at(rows, row, id_col)) != ind_id:
            holds = values.quote(shown) if shown else "nothing"
            return (f"the id cell of that row ({layout.cell_ref(row, id_col)}) shows {holds}, "
                    f"not {ind_id} (rows inserted by a program that does not move names, or a "
                    "name redefined)")
        return ""

    def heading(self, sheet: locate.SheetInfo, rows: list[list], col: int) -> str:
        """The header above `col` on a domain sheet: the first row with an "ID" cell.
        Remembered per column: every team cell's column is checked, 6 cells a row."""
        key = (sheet.name, col)
        found = self.headings.get(key)
        if found is None:
            found = self.headings[key] = self.header_text(sheet, rows, col)
        return found

    def header_text(self, sheet: locate.SheetInfo, rows: list[list], col: int) -> str:
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
