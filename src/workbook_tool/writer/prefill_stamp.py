"""Fast generation of prefilled workbooks: the plain stamper's idea, for many cells.

A prefilled workbook differs from another school's in its school values (as for the plain
stamper, writer/stamp.py) and in eight cells per indicator (rating, evidence, next steps,
priority, last cycle's level and next steps, follow-up, review), which also move the
indicator's row height, the Summary's cached counts and its chart's cache, the progress
line and, with raters, the team sheet's cached agreed ratings.

`PrefillStamper` builds a template per (network or not, subtitle height, previous cycle,
previous rubric version) with `build_book`, every per-school cell holding a unique token.
A prefilled workbook writes those cells' texts after everything else, so their shared
strings all come after the rubric's, which keep their numbers. Per school the stamper
replaces the school values in place (as the plain stamper does), numbers the school's
texts after the rubric's exactly as xlsxwriter would have (equal strings merged, also with
a rubric string; empty cells written blank), rewrites those cells, the row heights and the
cached values, and writes the zip as the plain stamper does.

The result is byte-for-byte `build_workbook(..., previous=)` (the tests check it over
hostile values); a school whose values the template cannot carry is built instead.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import layout
from ..reader.model import Answer, Previous
from ..roster import School
from ..rubric import Rubric
from . import Issue, build_book, build_workbook, header_text
from .domain_sheet import input_values, row_height, rubric_height
from .prefill import Carried
from .stamp import (
    MARK,
    TOKEN_HEADER,
    TOKEN_ID,
    TOKEN_NAME,
    TOKEN_NETWORK,
    XLSX_STRING_MAX,
    StampError,
    _fragments,
    _Member,
    _parse_zip,
    _shared_string,
    _write_zip,
    _xml_data,
    school_unsafe,
    school_values,
)
from .start import subtitle_row_height
from .summary import FIRST_ROW, cached_values, points_cells

__all__ = ["PrefillStamper"]

# The per-indicator cells, in a fixed order: the input kinds, then the prefill kinds.
CELL_KINDS = layout.INPUT_KINDS + layout.PREFILL_KINDS
DEFAULT_ROW_PIXELS = 20  # xlsxwriter leaves a row of the default height without "ht"

_STRING_CELL = re.compile(rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?) t="s"><v>([0-9]+)</v></c>')
_TOKEN_FORMULA = re.compile(
    rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?) t="str">(<f>[^<]*</f>)<v>(' + MARK.encode()
    + rb'[A-Za-z0-9]*)</v></c>')
_FORMULA_VALUE = re.compile(rb'<c r="([A-Z]+[0-9]+)"(?: s="[0-9]+")?><f>[^<]*</f><v>([^<]*)</v>')
_NUM_CACHE = re.compile(rb"<c:numCache>.*?</c:numCache>", re.S)
_CACHE_VALUE = re.compile(rb"<c:v>([^<]*)</c:v>")
_SST_HEAD = re.compile(rb'^(.*?<sst [^>]*?)count="([0-9]+)" uniqueCount="([0-9]+)">', re.S)
_SI = re.compile(rb"<si>.*?</si>", re.S)


def _token(index: int, kind: str) -> str:
    """The placeholder of indicator number `index`'s cell of `kind` (fixed width: no token
    is part of another)."""
    return f"{MARK}{index:05d}{CELL_KINDS.index(kind)}"


# -- a member as fixed chunks and slots ----------------------------------------------------

# Slot keys: ("s", cell prefix, answer string number), ("str", cell prefix, formula,
# indicator index, kind), ("ht", indicator index), ("sum", row, col), ("tier", cell prefix,
# formula, row, col), ("chart", series, point), ("progress",).
Slot = tuple


@dataclass
class _Slotted:
    """A member's text cut into fixed chunks around the slots a school fills in."""

    chunks: list[bytes]
    slots: list[Slot]

    def render(self, fill: Callable[[Slot], bytes]) -> bytes:
        out = [self.chunks[0]]
        for slot, chunk in zip(self.slots, self.chunks[1:], strict=True):
            out.append(fill(slot))
            out.append(chunk)
        return b"".join(out)


def _cut(data: bytes, spans: list[tuple[int, int, Slot]]) -> _Slotted:
    chunks, slots, pos = [], [], 0
    for start, end, slot in sorted(spans, key=lambda s: s[0]):
        if start < pos:
            raise StampError("overlapping slots")
        chunks.append(data[pos:start])
        slots.append(slot)
        pos = end
    chunks.append(data[pos:])
    return _Slotted(chunks, slots)


@dataclass
class _Template:
    members: list[_Member]
    eocd: bytes
    fragments: list[bytes]  # the placeholder school's fragments, as in stamp._fragments
    slotted: dict[str, _Slotted]  # member name -> its slots (members a school changes)
    sst_head: bytes  # xl/sharedStrings.xml up to its count attributes
    sst_fixed: bytes  # the <si> elements of the rubric's strings (and the school's)
    sst_tail: bytes
    fixed: dict[str, int]  # the rubric's strings -> their numbers
    cells: list[tuple[int, str]]  # the answer strings, in order: (indicator index, kind)
    count: int  # the template's number of string cells
    total: int  # indicators in the workbook


@dataclass
class PrefillStamper:
    """Writes the prefilled workbooks of one generation round (rubric, issue, domains,
    password): `workbook(school, previous)` gives the bytes of
    `build_workbook(rubric, school, issue, domain_ids, None, password, previous=previous)`."""

    rubric: Rubric
    issue: Issue
    domain_ids: list[str] | None = None
    password: str | None = None
    templates: dict[tuple, _Template | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.issue, str):
            self.issue = Issue(cycle=self.issue)
        self.indicators = [ind for d in self.rubric.select(self.domain_ids)
                           for ind in d.indicators]
        self.bases = [rubric_height(ind) for ind in self.indicators]

    def prepare(self, pairs: list[tuple[School, Previous]]) -> None:
        """Build every template these schools need (before sending the stamper to workers)."""
        for school, previous in pairs:
            if not school_unsafe(self.rubric, self.issue, school):
                self._template(school, previous)

    def workbook(self, school: School, previous: Previous) -> bytes:
        carried = Carried.of(self.rubric, previous)
        values = self._values(carried)
        template = None
        if not self._unsafe(school, previous, values):
            template = self._template(school, previous)
        if template is not None and not any(v in template.fixed for v in school_values(school)):
            try:
                return self._stamp(template, school, carried, values)
            except StampError:
                pass  # a row of the default height, say: build it
        return build_workbook(self.rubric, school, self.issue, self.domain_ids, None,
                              self.password, previous=previous)

    # -- per school ---------------------------------------------------------------------

    def _values(self, carried: Carried) -> list[dict[str, str]]:
        """Per indicator, the text of its eight cells, as the writer writes them."""
        out = []
        for indicator in self.indicators:
            answer = carried.answers.get(indicator.id)
            out.append({**input_values(answer), **carried.cells(indicator.id, answer)})
        return out

    def _unsafe(self, school: School, previous: Previous,
                values: list[dict[str, str]]) -> str:
        if school_unsafe(self.rubric, self.issue, school):
            return "a school value"
        values_ = school_values(school)
        if len(set(values_)) != len(values_):
            return "two equal school values (one shared string)"
        for text in (previous.cycle, previous.rubric_version):
            if MARK in text:
                return "a placeholder"
        for cells in values:
            for text in cells.values():
                if MARK in text or len(text) > XLSX_STRING_MAX:
                    return "a placeholder or an over-long value"
                if text.startswith("<r>") and text.endswith("</r>"):
                    return "text shaped like rich-string markup (written as rich runs)"
        return ""

    def _stamp(self, template: _Template, school: School, carried: Carried,
               values: list[dict[str, str]]) -> bytes:
        news = [f.encode("utf-8") for f in _fragments(
            self.rubric, school, header_text(self.rubric, school, self.issue), self.issue)]
        remap, sst = self._strings(template, school, values, news)
        answers = carried.answers
        cached = cached_values(self.rubric, self.rubric.select(self.domain_ids), answers)
        heights = [row_height(ind, answers.get(ind.id), cells, base)
                   for ind, cells, base in zip(self.indicators, values, self.bases,
                                               strict=True)]
        rated = cached[FIRST_ROW + len(self.rubric.select(self.domain_ids)), 2]

        def fill(slot: Slot) -> bytes:
            kind = slot[0]
            if kind == "s":
                new = remap[slot[2]]
                if new is None:
                    return slot[1] + b"/>"
                return b'%s t="s"><v>%d</v></c>' % (slot[1], new)
            if kind == "str":
                text = values[slot[3]][slot[4]]
                kind_attr = b' t="str"' if text else b""
                return (slot[1] + kind_attr + b">" + slot[2] + b"<v>"
                        + _xml_data(text).encode("utf-8") + b"</v></c>")
            if kind == "ht":
                return _height(heights[slot[1]])
            if kind == "sum":
                return str(cached[slot[1], slot[2]]).encode("ascii")
            if kind == "tier":
                return _tier_cell(slot[1], slot[2], str(cached[slot[3], slot[4]]))
            if kind == "chart":
                return str(cached[FIRST_ROW + slot[2], 3 + slot[1]]).encode("ascii")
            if kind == "progress":
                return f"{rated} of {template.total} indicators rated".encode("ascii")
            raise StampError(f"unknown slot {kind}")

        parts: list[tuple[_Member, bytes | None]] = []
        for member in template.members:
            if member.name == "xl/sharedStrings.xml":
                parts.append((member, sst))
                continue
            slotted = template.slotted.get(member.name)
            data = slotted.render(fill) if slotted is not None else member.data
            if data is not None:
                for i in member.slots:
                    data = data.replace(template.fragments[i], news[i])
            parts.append((member, data))
        return _write_zip(parts, template.eocd)

    def _strings(self, template: _Template, school: School, values: list[dict[str, str]],
                 news: list[bytes]) -> tuple[list[int | None], bytes]:
        """The new number of each answer string (None: its cell is now blank), and the
        new shared string table.

        xlsxwriter numbers strings in the order they are first written and merges equal
        ones: an answer equal to a rubric or school string takes its number, one equal
        to an earlier answer takes that one's, any other the next number."""
        school_index = {school.school_id: template.fixed[TOKEN_ID],
                        school.school_name: template.fixed[TOKEN_NAME]}
        if school.network:
            school_index[school.network] = template.fixed[TOKEN_NETWORK]
        fixed, seen = template.fixed, {}
        first = len(fixed)
        remap: list[int | None] = []
        entries: list[bytes] = []
        count = template.count
        for i, kind in template.cells:
            value = values[i][kind]
            if not value:
                remap.append(None)
                count -= 1
                continue
            new = school_index.get(value)
            if new is None:
                new = fixed.get(value)
            if new is None:
                new = seen.get(value)
            if new is None:
                new = seen[value] = first + len(entries)
                entries.append(_shared_string(value).encode("utf-8"))
            remap.append(new)
        fixed_part = template.sst_fixed
        for i in range(3):
            if template.fragments[i]:
                fixed_part = fixed_part.replace(template.fragments[i], news[i])
        head = template.sst_head + b'count="%d" uniqueCount="%d">' % (
            count, first + len(entries))
        return remap, head + fixed_part + b"".join(entries) + template.sst_tail

    # -- templates ----------------------------------------------------------------------

    def _key(self, school: School, previous: Previous) -> tuple:
        return (bool(school.network), subtitle_row_height(school.school_name),
                previous.cycle, previous.rubric_version)

    def _template(self, school: School, previous: Previous) -> _Template | None:
        key = self._key(school, previous)
        if key not in self.templates:
            try:
                self.templates[key] = self._build_template(*key)
            except StampError:
                self.templates[key] = None  # every school of this key is built
        return self.templates[key]

    def _build_template(self, has_network: bool, height: float, cycle: str,
                        version: str) -> _Template:
        token_school = School(TOKEN_ID, TOKEN_NAME, TOKEN_NETWORK if has_network else "",
                              f"{MARK}Contact", f"{MARK}Email")
        answers, last, shown = {}, {}, {}
        tokens: dict[str, tuple[int, str]] = {}  # token -> (indicator index, kind)
        for i, ind in enumerate(self.indicators):
            tok = {kind: _token(i, kind) for kind in CELL_KINDS}
            tokens.update({t: (i, kind) for kind, t in tok.items()})
            answers[ind.id] = Answer(ind.id, None, tok["rating"], tok["evidence"],
                                     tok["next_steps"], tok["priority"],
                                     review=tok[layout.REVIEW], followup=tok[layout.FOLLOWUP])
            last[ind.id] = Answer(ind.id, None, "", "", tok[layout.PREVIOUS_NEXT_STEPS], "")
            shown[ind.id] = tok[layout.PREVIOUS_RATING]
        carried = Carried(cycle, version, last, shown)
        blob, book = build_book(self.rubric, token_school, self.issue, self.domain_ids,
                                answers, self.password, header=TOKEN_HEADER,
                                subtitle_height=height, carried=carried)
        strings = list(book.str_table.string_array)
        first = len(strings) - len(tokens)
        if first < 0 or any(t in tokens for t in strings[:first]) \
                or any(t not in tokens for t in strings[first:]):
            raise StampError("the answers' strings are not the last ones")
        fixed = {text: i for i, text in enumerate(strings[:first])}
        members, eocd = _parse_zip(blob)
        fragments = [f.encode("utf-8") for f in
                     _fragments(self.rubric, token_school, TOKEN_HEADER, self.issue)]
        sheets = {ws.name: f"xl/worksheets/sheet{i}.xml"
                  for i, ws in enumerate(book.worksheets(), start=1)}
        rows = self._indicator_rows(book, sheets)
        slotted: dict[str, _Slotted] = {}
        sst = b""
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for member in members:
                data = archive.read(member.name)
                if member.name == "xl/sharedStrings.xml":
                    sst = data
                    continue
                spans = self._spans(member.name, data, sheets, rows, first, tokens)
                if spans:
                    slotted[member.name] = _cut(data, spans)
                member.slots = tuple(i for i, f in enumerate(fragments)
                                     if i >= 3 and f and f in data)
                if spans or member.slots:
                    member.data = data
                self._check(member.name, data, spans, fragments)
        head = _SST_HEAD.match(sst)
        found = list(_SI.finditer(sst))
        if (head is None or len(found) != len(strings) or int(head.group(3)) != len(strings)
                or (found and found[0].start() != head.end())):
            raise StampError("unexpected shared string table")
        fixed_end = found[first - 1].end() if first else head.end()
        cells = [tokens[t] for t in strings[first:]]
        return _Template(members, eocd, fragments, slotted, head.group(1),
                         sst[head.end():fixed_end], sst[found[-1].end():], fixed, cells,
                         int(head.group(2)), len(self.indicators))

    def _indicator_rows(self, book, sheets: dict[str, str]) -> dict[str, dict[int, int]]:
        """member -> {1-based row: indicator index}, from the rating names."""
        rows: dict[str, dict[int, int]] = {}
        defined = {name: ref for name, _, ref, _ in book.defined_names}
        for i, ind in enumerate(self.indicators):
            found = layout.parse_ref(defined[layout.defined_name("rating", ind)])
            if found is None or found[0] not in sheets:
                raise StampError(f"no rating cell of {ind.id}")
            row, _ = layout.split_cell(found[1])
            rows.setdefault(sheets[found[0]], {})[row + 1] = i
        return rows

    def _spans(self, name: str, data: bytes, sheets: dict[str, str],
               rows: dict[str, dict[int, int]], first: int,
               tokens: dict[str, tuple[int, str]]) -> list:
        spans: list[tuple[int, int, Slot]] = []
        if name.startswith("xl/worksheets/sheet"):
            for m in _STRING_CELL.finditer(data):
                old = int(m.group(2))
                if old >= first:  # an answer's cell; the rubric's keep their numbers
                    spans.append((m.start(), m.end(), ("s", m.group(1), old - first)))
            for m in _TOKEN_FORMULA.finditer(data):
                i, kind = tokens[m.group(3).decode("ascii")]
                spans.append((m.start(), m.end(), ("str", m.group(1), m.group(2), i, kind)))
            for row, i in rows.get(name, {}).items():
                m = re.search(rb'<row r="%d" [^>]*?ht="([^"]*)"' % row, data)
                if m is None:
                    raise StampError(f"no height on row {row}")
                spans.append((m.start(1), m.end(1), ("ht", i)))
        if name == sheets.get(layout.SUMMARY_SHEET):
            tier = self._tier_span(data)
            spans.extend(tier)
            for m in _FORMULA_VALUE.finditer(data):
                row, col = layout.split_cell(m.group(1).decode("ascii"))
                if row >= FIRST_ROW and not any(s[2][3:] == (row, col) for s in tier):
                    spans.append((m.start(2), m.end(2), ("sum", row, col)))
        if name == sheets.get(layout.START_SHEET):
            progress = f"<v>0 of {len(self.indicators)} indicators rated</v>".encode("ascii")
            if data.count(progress) != 1:
                raise StampError("no progress line")
            at = data.index(progress) + 3
            spans.append((at, at + len(progress) - 7, ("progress",)))
        if name.startswith("xl/charts/"):
            for series, cache in enumerate(_NUM_CACHE.finditer(data)):
                for point, m in enumerate(_CACHE_VALUE.finditer(cache.group(0))):
                    start = cache.start() + m.start(1)
                    spans.append((start, start + len(m.group(1)), ("chart", series, point)))
        return spans

    def _tier_span(self, data: bytes) -> list:
        """The tier cell's span (none without tiers): the whole cell, because a tier name
        makes it a string cell (t="str") and "" below every tier does not."""
        cells = points_cells(self.rubric, len(self.rubric.select(self.domain_ids)))
        if layout.TIER not in cells:
            return []
        row, col = cells[layout.TIER]
        ref = layout.cell_ref(row, col).encode("ascii")
        found = list(re.finditer(rb'(<c r="%s"(?: s="[0-9]+")?)(?: t="str")?>(<f>[^<]*</f>)'
                                 rb"<v>[^<]*</v></c>" % ref, data))
        if len(found) != 1:
            raise StampError("no tier cell")
        m = found[0]
        return [(m.start(), m.end(), ("tier", m.group(1), m.group(2), row, col))]

    @staticmethod
    def _check(name: str, data: bytes, spans: list, fragments: list[bytes]) -> None:
        """No placeholder may be left outside the slots and fragments."""
        rest, pos = [], 0
        for start, end, _ in sorted(spans, key=lambda s: s[0]):
            rest.append(data[pos:start])
            pos = end
        rest.append(data[pos:])
        text = b"".join(rest)
        for fragment in fragments:
            if fragment:
                text = text.replace(fragment, b"")
        if MARK.encode("ascii") in text:
            raise StampError(f"an unknown placeholder in {name}")


def _tier_cell(prefix: bytes, formula: bytes, tier: str) -> bytes:
    """The tier cell as xlsxwriter writes a formula whose cached value is `tier`."""
    if tier.startswith("#"):  # an error code's name would be written as an error (t="e")
        raise StampError("a tier named like an error value")
    kind = b' t="str"' if tier else b""
    return prefix + kind + b">" + formula + b"<v>" + _xml_data(tier).encode("utf-8") + b"</v></c>"


def _height(points: float) -> bytes:
    """A row's ht attribute value as xlsxwriter writes it for set_row(points)."""
    pixels = int(points * 4.0 / 3.0 + 0.5)
    if pixels == DEFAULT_ROW_PIXELS:  # written without ht at all
        raise StampError("a row of the default height")
    return f"{pixels * 0.75:.16g}".encode("ascii")
