"""Where things are in a return: its sheets, its workbook-scope names, its metadata.

Only small parts are parsed here (workbook.xml, its relationships, docProps/custom.xml). They
are parsed with the standard library's C parser, which is several times faster than
defusedxml's, and safe here: no DTD can reach it, because `preflight` refused every part that
holds one and `parse_xml` checks again. Cell values are read in `values`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from xml.etree.ElementTree import XML, Element, ParseError

from .. import layout
from .preflight import WORKBOOK, Package, Rejected, has_dtd

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CUSTOM_REL = "/custom-properties"
DEFAULT_CUSTOM = "docProps/custom.xml"
_NUMERIC_TYPES = {"i1", "i2", "i4", "i8", "int", "ui1", "ui2", "ui4", "ui8", "uint", "r4", "r8",
                  "decimal"}


@dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # "visible", "hidden" or "veryHidden"
    path: str  # the worksheet part in the zip, "" when its relationship is missing


@dataclass(frozen=True)
class Unresolved:
    """Why a defined name gives no cell to read: the problem code and a sentence."""

    code: str  # "missing-cell" or "misplaced-cell"
    message: str


@dataclass
class Book:
    sheets: list[SheetInfo] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # casefolded name -> formula text
    # casefolded name -> every other formula text it was also defined as (a name defined
    # twice is ambiguous: Excel refuses to open such a file, other programs pick one)
    redefined: dict[str, list[str]] = field(default_factory=dict)
    # What resolve() found per name: the reader asks for most names twice (where a
    # domain's names point, then each cell).
    _resolved: dict[str, tuple[SheetInfo, str] | Unresolved] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def sheet(self, name: str) -> SheetInfo | None:
        """A sheet by name; Excel compares sheet names case-insensitively."""
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        folded = name.casefold()
        for sheet in self.sheets:
            if sheet.name.casefold() == folded:
                return sheet
        return None

    def resolve(self, name: str) -> tuple[SheetInfo, str] | Unresolved:
        """(sheet, "G3") for a workbook-scope name, or why it gives no cell to read."""
        found = self._resolved.get(name)
        if found is None:
            found = self._resolved[name] = self._resolve(name)
        return found

    def _resolve(self, name: str) -> tuple[SheetInfo, str] | Unresolved:
        key = name.casefold()
        text = self.names.get(key)
        if text is None:
            return Unresolved("missing-cell",
                              f"the defined name {name} is missing (it was deleted or renamed)")
        others = self.redefined.get(key)
        if others:
            return Unresolved(
                "misplaced-cell",
                f"the defined name {name} is defined more than once ({_short(text)} and "
                f"{_short(others[0])}), so it is not clear which cell holds the answer",
            )
        if "#REF!" in text.upper():
            return Unresolved("missing-cell",
                              f"the defined name {name} points at a deleted cell (#REF!)")
        ref = _parse_ref(text)
        if ref is None:
            return Unresolved(
                "missing-cell",
                f"the defined name {name} does not point at a single cell ({_short(text)})",
            )
        sheet = self.sheet(ref[0])
        if sheet is None:
            return Unresolved(
                "missing-cell",
                f"the defined name {name} points at sheet '{ref[0]}', which no longer exists",
            )
        return sheet, ref[1]


def _same_target(one: str, other: str) -> bool:
    return one == other or (_parse_ref(one) is not None and _parse_ref(one) == _parse_ref(other))


@lru_cache(maxsize=4096)
def _parse_ref(text: str) -> tuple[str, str] | None:
    return layout.parse_ref(text)


def parse_xml(package: Package, part: str) -> Element:
    body = package.part(part)
    if body is None:
        raise Rejected("unreadable", f"the workbook part {part} is missing")
    if has_dtd(body):  # never expected: preflight refuses such parts first
        raise Rejected("unsafe-xml", f"the part {part} declares a DTD or entities")
    try:
        return XML(body)
    except (ParseError, ValueError, UnicodeError):
        raise Rejected("unreadable", f"the workbook part {part} is damaged (invalid XML)") from None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def read_book(package: Package) -> Book:
    root = parse_xml(package, WORKBOOK)
    if local(root.tag) != "workbook" or _namespace(root.tag) != MAIN_NS:
        raise Rejected(
            "not-xlsx",
            'the workbook part is not in the usual Excel format; open it and save it as '
            '"Excel Workbook (.xlsx)"',
        )
    targets = _relationships(package, "xl/_rels/workbook.xml.rels", base="xl")
    book = Book()
    for element in root.iter():
        kind = local(element.tag)
        if kind == "sheet":
            rid = next((v for k, v in element.attrib.items() if local(k) == "id"), "")
            book.sheets.append(
                SheetInfo(
                    name=element.get("name", ""),
                    state=element.get("state", "visible"),
                    path=targets.get(rid, ""),
                )
            )
        elif kind == "definedName":
            name = element.get("name", "")
            if element.get("localSheetId") is not None or not name:
                continue  # sheet-scope names are not ours
            key, text = name.casefold(), element.text or ""
            first = book.names.setdefault(key, text)
            if not _same_target(first, text):
                book.redefined.setdefault(key, []).append(text)
    return book


def _relationships(package: Package, part: str, base: str) -> dict[str, str]:
    """Relationship id -> zip path of its target (internal targets only)."""
    if package.part(part) is None:
        return {}
    out = {}
    for element in parse_xml(package, part).iter():
        if local(element.tag) != "Relationship" or element.get("TargetMode") == "External":
            continue
        target = element.get("Target", "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(base, target))
        out[element.get("Id", "")] = path
        out.setdefault("type:" + element.get("Type", ""), path)
    return out


def related_part(package: Package, rels: str, base: str, kind: str) -> str | None:
    """The zip path of the part a relationships part names for a type ending in `kind`."""
    found = None
    for key, path in _relationships(package, rels, base).items():
        if key.startswith("type:") and key.endswith(kind):
            found = path
    return found


def custom_properties(package: Package) -> dict[str, str]:
    """Custom document properties, name -> text (numbers normalised: 1.0 -> "1")."""
    part = DEFAULT_CUSTOM
    if package.part(part) is None:  # where every writer puts it; else ask the package
        part = related_part(package, "_rels/.rels", "", CUSTOM_REL) or part
    if package.part(part) is None:
        return {}
    out: dict[str, str] = {}
    for prop in parse_xml(package, part):
        if local(prop.tag) != "property" or not len(prop):
            continue
        value = prop[0]
        text = (value.text or "").strip()
        if local(value.tag) in _NUMERIC_TYPES:
            text = number_text(text)
        out.setdefault(prop.get("name", ""), text)
    return out


def number_text(text: str) -> str:
    """ "1.0" -> "1", "2.5" -> "2.5"; anything else unchanged."""
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return text


@dataclass
class Metadata:
    values: dict[str, str]  # META_KEYS present, hidden sheet first, then properties
    from_sheet: bool
    from_properties: bool

    def get(self, key: str) -> str:
        return self.values.get(key, "")


def merge_metadata(sheet: dict[str, str], properties: dict[str, str]) -> Metadata:
    """The hidden sheet wins wherever it has a value; properties fill the gaps."""
    folded = {k.casefold(): v for k, v in properties.items()}
    values: dict[str, str] = {}
    for key in layout.META_KEYS:
        value = sheet.get(key, "").strip() or folded.get(key.casefold(), "").strip()
        if value:
            values[key] = value
    has_props = any(key.casefold() in folded for key in layout.META_KEYS)
    return Metadata(values, from_sheet=bool(sheet), from_properties=has_props)


def format_version(text: str) -> int | None:
    """ "1", "1.0" -> 1; None when it is not a whole number."""
    normalised = number_text(text.strip())
    return int(normalised) if re.fullmatch(r"-?[0-9]{1,9}", normalised) else None


def rater_count(text: str) -> int | None:
    """The `raters` key: "" or "0" -> 0 (no rater columns), "3" / "3.0" -> 3; None when it
    is anything else (the writer only ever writes 0 or MIN_RATERS..MAX_RATERS)."""
    number = format_version(text) if text.strip() else 0
    if number == 0 or (number is not None
                       and layout.MIN_RATERS <= number <= layout.MAX_RATERS):
        return number
    return None


def domain_list(text: str) -> list[str]:
    """ "1,3" / "1, 3" / "1;3" -> ["1", "3"] (numbers normalised: "1.0" -> "1")."""
    return [number_text(part.strip()) for part in re.split(r"[,;]", text) if part.strip()]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
