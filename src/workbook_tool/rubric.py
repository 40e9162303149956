"""The rubric model: levels, domains, sections, indicators and their descriptors.

Loading validates the whole file and reports every problem at once with its place in
the file, so a district editing its own rubric fixes everything in one pass. This module
knows nothing about Excel.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SCHEMA_VERSION = 1
MIN_LEVELS, MAX_LEVELS = 3, 5
MAX_LABEL_LENGTH = 40
MAX_SHORT_TITLE = 24
NO_TIER = "No tier"  # the outputs' name for a total below every tier
MAX_TIERS = 64  # Excel nests at most 64 functions: the Summary's tier formula
BULLET = "• "
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Digits, optionally after up to four capital letters: "1" (the District Framework) or
# "CC1" (the Classroom Framework). Capitals only, because `--domains` is matched in capitals;
# never a leading D, because "D1" is how domain 1 is shown and typed (`--domains D1`): a
# domain "D1" or "DL1" could not be told apart from, or chosen beside, domain "1" or "L1".
_DOMAIN_ID_RE = re.compile(r"^(?:[A-CE-Z][A-Z]{0,3})?[0-9]+$")


class RubricError(Exception):
    """A rubric file that cannot be used; `problems` lists every reason."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


@dataclass(frozen=True)
class Block:
    kind: str  # "p" (a paragraph) or "ul" (a bulleted list)
    items: tuple[str, ...]

    @property
    def text(self) -> str:
        if self.kind == "ul":
            return "\n".join(BULLET + item for item in self.items)
        return self.items[0]


@dataclass(frozen=True)
class Descriptor:
    blocks: tuple[Block, ...]
    emphasis: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)


@dataclass(frozen=True)
class Correction:
    field: str
    original: str
    reason: str


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    domain_id: str
    section: str
    descriptors: dict[int, Descriptor]
    corrections: tuple[Correction, ...] = ()

    @property
    def name_suffix(self) -> str:
        """The id as it appears in defined names: 1.1 -> 1_1."""
        return self.id.replace(".", "_")


@dataclass(frozen=True)
class Section:
    title: str
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Domain:
    id: str
    title: str
    short_title: str
    sections: tuple[Section, ...]
    introduction: tuple[str, ...] = ()
    overview: tuple[str, ...] = ()
    reflect: tuple[str, ...] = ()
    foundational_steps: tuple[str, ...] = ()

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(ind for section in self.sections for ind in section.indicators)

    @property
    def label(self) -> str:
        """How the domain is named in short: "D1" for a number, the id itself when it
        starts with letters ("CC1", not "DCC1")."""
        return f"D{self.id}" if self.id.isdigit() else self.id


@dataclass(frozen=True)
class Level:
    level: int
    label: str
    definition: str = ""
    points: int | None = None  # what a rating at this level scores (a rubric with points)


@dataclass(frozen=True)
class Tier:
    """A named band of total points: a school whose total is min_points or more (and below
    the next tier's) is in this tier."""

    name: str
    min_points: int


@dataclass(frozen=True)
class AboutSection:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    definition: str


@dataclass(frozen=True)
class Rubric:
    id: str
    version: str
    title: str
    levels: tuple[Level, ...]
    domains: tuple[Domain, ...]
    publisher: str = ""
    source: str = ""
    about: tuple[AboutSection, ...] = ()
    sectors: tuple[str, ...] = ()
    glossary: tuple[GlossaryEntry, ...] = ()
    references: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    tiers: tuple[Tier, ...] = ()  # ascending min_points; only with points
    path: str = ""
    fingerprint: str = field(default="", compare=False)

    @property
    def has_points(self) -> bool:
        """Do the levels score points (every level has them, or none does)?"""
        return bool(self.levels) and all(lv.points is not None for lv in self.levels)

    def points_of(self, level: int | None) -> int:
        """What a rating scores: 0 for an unrated indicator or a rubric without points."""
        if level is None or not self.has_points:
            return 0
        return self.levels[level - 1].points or 0

    @property
    def max_points(self) -> int:
        """The total of a return rated at the top level everywhere (0 without points)."""
        if not self.has_points:
            return 0
        return max(lv.points for lv in self.levels) * len(self.indicators)

    def tier_of(self, points: int) -> str:
        """The name of the highest tier whose min_points the total reaches; "" below all."""
        reached = ""
        for tier in self.tiers:
            if points >= tier.min_points:
                reached = tier.name
        return reached

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(ind for domain in self.domains for ind in domain.indicators)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(level.label for level in self.levels)

    def domain(self, domain_id: str) -> Domain:
        for domain in self.domains:
            if domain.id == domain_id:
                return domain
        raise KeyError(domain_id)

    def select(self, domain_ids: list[str] | None) -> tuple[Domain, ...]:
        """The domains to put in a workbook, in rubric order."""
        if not domain_ids:
            return self.domains
        unknown = [d for d in domain_ids if d not in {dom.id for dom in self.domains}]
        if unknown:
            known = ", ".join(d.id for d in self.domains)
            raise KeyError(f"unknown domain {', '.join(unknown)} (this rubric has {known})")
        return tuple(d for d in self.domains if d.id in set(domain_ids))

    def to_json(self) -> dict[str, Any]:
        """The shape `rubric show --json` prints (fixed by the interface spec).

        A level has `points` only in a rubric with points, so a rubric without them prints
        what it always printed (`jq '.levels[].points'` gives null either way); `tiers` is
        always there, empty without tiers.
        """
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "fingerprint": self.fingerprint,
            "levels": [_level_json(lv) for lv in self.levels],
            "tiers": [{"name": t.name, "min_points": t.min_points} for t in self.tiers],
            "domains": [_domain_json(domain) for domain in self.domains],
        }


def _level_json(level: Level) -> dict[str, Any]:
    shown: dict[str, Any] = {"level": level.level, "label": level.label,
                             "definition": level.definition}
    if level.points is not None:
        shown["points"] = level.points
    return shown


def _domain_json(domain: Domain) -> dict[str, Any]:
    return {
        "id": domain.id,
        "title": domain.title,
        "short_title": domain.short_title,
        "sections": [
            {
                "title": section.title,
                "indicators": [
                    {
                        "id": ind.id,
                        "title": ind.title,
                        "descriptors": {str(k): d.text for k, d in ind.descriptors.items()},
                    }
                    for ind in section.indicators
                ],
            }
            for section in domain.sections
        ],
    }


def fingerprint_of(rubric: Rubric) -> str:
    """sha256 of the canonical content: formatting and comments in the file don't count."""
    content = {
        "id": rubric.id,
        "version": rubric.version,
        "title": rubric.title,
        "levels": [[lv.level, lv.label] for lv in rubric.levels],
        # Points and tiers change what a workbook computes, so they are part of the
        # fingerprint; a rubric without them keeps the fingerprint it always had.
        **({"points": [lv.points for lv in rubric.levels]} if rubric.has_points else {}),
        **({"tiers": [[t.name, t.min_points] for t in rubric.tiers]} if rubric.tiers else {}),
        "domains": [
            {
                "id": d.id,
                "title": d.title,
                "sections": [
                    {
                        "title": s.title,
                        "indicators": [
                            {
                                "id": i.id,
                                "title": i.title,
                                "descriptors": {
                                    str(k): {
                                        "blocks": [[b.kind, list(b.items)] for b in v.blocks],
                                        "emphasis": list(v.emphasis),
                                    }
                                    for k, v in sorted(i.descriptors.items())
                                },
                            }
                            for i in s.indicators
                        ],
                    }
                    for s in d.sections
                ],
            }
            for d in rubric.domains
        ],
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_rubric_path() -> Path:
    return Path(str(resources.files("workbook_tool") / "data" / "district_framework.yaml"))


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Load and validate a rubric file; raise RubricError listing every problem."""
    path = Path(path) if path is not None else default_rubric_path()
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(name, [f"cannot read the file ({_reason(exc)})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricError(name, [_yaml_message(exc)]) from None
    builder = _Builder()
    rubric = builder.rubric(data)
    if builder.problems or rubric is None:
        raise RubricError(name, builder.problems or ["the file is empty"])
    return replace(rubric, path=str(path), fingerprint=fingerprint_of(rubric))


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return getattr(exc, "strerror", None) or str(exc)


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML: {problem}"
    return f"invalid YAML: {problem}"


class _Builder:
    """Turns parsed YAML into the model, collecting every problem with its place."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, place: str, message: str) -> None:
        self.problems.append(f"{place}: {message}" if place else message)

    # -- typed field access -------------------------------------------------
    def mapping(self, value: Any, place: str, required: set[str], optional: set[str]) -> bool:
        if not isinstance(value, dict):
            self.fail(place, f"expected a mapping, found {_kind(value)}")
            return False
        for key in sorted(required - value.keys()):
            self.fail(place, f"missing field '{key}'")
        for key in sorted(set(value) - required - optional, key=str):
            self.fail(place, f"unknown field '{key}'")
        return True

    def text(self, data: dict, key: str, place: str, required: bool = True) -> str:
        value = data.get(key)
        where = _join(place, key)
        if value is None:
            if required and key in data:
                self.fail(where, "is empty")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(where, f"expected text, found {_kind(value)}")
            return ""
        value = _clean(str(value))
        if not value:
            self.fail(where, "is empty")
        return value

    def texts(self, data: dict, key: str, place: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        where = _join(place, key)
        if not isinstance(value, list):
            self.fail(where, f"expected a list, found {_kind(value)}")
            return ()
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{where}[{i}]", "expected non-empty text")
                continue
            out.append(_clean(item))
        return tuple(out)

    def items(self, data: dict, key: str, place: str, required: bool = True) -> list:
        value = data.get(key)
        where = _join(place, key)
        if value is None:
            if required and key in data:
                self.fail(where, "is empty")
            return []
        if not isinstance(value, list):
            self.fail(where, f"expected a list, found {_kind(value)}")
            return []
        if required and not value:
            self.fail(where, "is empty")
        return value

    # -- the model ----------------------------------------------------------
    def rubric(self, data: Any) -> Rubric | None:
        if data is None:
            return None
        required = {"schema", "id", "version", "title", "levels", "domains"}
        optional = {"publisher", "source", "about", "sectors", "glossary", "references", "notes",
                    "tiers"}
        if not isinstance(data, dict):
            self.fail("", f"a rubric is a YAML mapping with the keys {', '.join(sorted(required))}"
                          f" (see rubric/SCHEMA.md); this file holds {_kind(data)}")
            return None
        if not self.mapping(data, "", required, optional):
            return None
        if data.get("schema") not in (None, SCHEMA_VERSION):
            self.fail("schema", f"unsupported schema {data.get('schema')!r} (expected 1)")
        rubric_id = self.text(data, "id", "")
        if rubric_id and not _ID_RE.match(rubric_id):
            self.fail("id", f"'{rubric_id}' must be lowercase letters, digits and dashes")
        levels = self.levels(self.items(data, "levels", ""))
        domains = self.domains(self.items(data, "domains", ""), levels)
        tiers = self.tiers(self.items(data, "tiers", "", required=False))
        self.check_tiers(data, levels, domains, tiers)
        return Rubric(
            id=rubric_id,
            version=self.text(data, "version", ""),
            title=self.text(data, "title", ""),
            publisher=self.text(data, "publisher", "", required=False),
            source=self.text(data, "source", "", required=False),
            levels=levels,
            domains=domains,
            about=self.about(self.items(data, "about", "", required=False)),
            sectors=self.texts(data, "sectors", ""),
            glossary=self.glossary(self.items(data, "glossary", "", required=False)),
            references=self.texts(data, "references", ""),
            notes=self.texts(data, "notes", ""),
            tiers=tiers,
        )

    def levels(self, raw: list) -> tuple[Level, ...]:
        if raw and not MIN_LEVELS <= len(raw) <= MAX_LEVELS:
            self.fail("levels", f"{len(raw)} given, a rubric has {MIN_LEVELS} to {MAX_LEVELS}")
        out: list[Level] = []
        seen: set[str] = set()
        for i, item in enumerate(raw):
            place = f"levels[{i}]"
            if not self.mapping(item, place, {"level", "label"}, {"definition", "points"}):
                continue
            number = item.get("level")
            if number != i + 1 or isinstance(number, bool):
                self.fail(_join(place, "level"), f"expected {i + 1}, found {number!r}")
            label = self.text(item, "label", place)
            if label:
                self.check_label(label, _join(place, "label"), seen)
            out.append(Level(i + 1, label, self.text(item, "definition", place, required=False),
                             self.whole(item, "points", place)))
        self.check_points([item for item in raw if isinstance(item, dict)], out)
        return tuple(out)

    def check_points(self, raw: list[dict], levels: list[Level]) -> None:
        """Points on every level or on none, each level scoring more than the one below."""
        without = [f"levels[{i}]" for i, item in enumerate(raw) if "points" not in item]
        if len(without) == len(raw):
            return
        if without:
            self.fail("levels", f"points are given on some levels only: {', '.join(without)} "
                                f"{'has' if len(without) == 1 else 'have'} none (give points "
                                "on every level or on none)")
        # Strictly ascending: a better rating must raise the total, or moving up a level
        # would not show in the score or the tier.
        for i in range(1, len(levels)):
            below, this = levels[i - 1].points, levels[i].points
            if below is not None and this is not None and this <= below:
                self.fail(f"levels[{i}].points", f"{this} is not more than levels[{i - 1}]"
                                                 f".points ({below}): a higher level must "
                                                 "score more points")

    def whole(self, data: dict, key: str, place: str) -> int | None:
        """An optional whole number >= 0 (points, thresholds); None when absent."""
        if key not in data:
            return None
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(_join(place, key), f"expected a whole number of 0 or more, found "
                                         f"{value!r}")
            return None
        return value

    def tiers(self, raw: list) -> tuple[Tier, ...]:
        out: list[Tier] = []
        names: set[str] = set()
        for i, item in enumerate(raw):
            place = f"tiers[{i}]"
            if not self.mapping(item, place, {"name", "min_points"}, set()):
                continue
            name = self.text(item, "name", place)
            if name.casefold() in names:
                self.fail(_join(place, "name"), f"'{name}' is used by two tiers")
            elif name.casefold() == NO_TIER.casefold():
                self.fail(_join(place, "name"), f"'{name}' is what the outputs call a total "
                                                "below every tier: choose another name")
            names.add(name.casefold())
            threshold = self.whole(item, "min_points", place)
            if out and threshold is not None and threshold <= out[-1].min_points:
                self.fail(_join(place, "min_points"),
                          f"{threshold} is not more than tiers[{len(out) - 1}].min_points "
                          f"({out[-1].min_points}): list tiers from the lowest to the highest")
            if name and threshold is not None:
                out.append(Tier(name, threshold))
        return tuple(out)

    def check_tiers(self, data: dict, levels, domains, tiers: tuple[Tier, ...]) -> None:
        """Tiers need points, at least one tier, and thresholds a return can reach."""
        if "tiers" not in data:
            return
        if not data["tiers"]:  # `tiers:` or `tiers: []`: most likely a half-written file
            self.fail("tiers", "is empty (leave the key out for a rubric without tiers)")
            return
        if not isinstance(data["tiers"], list):
            return  # reported by items()
        if len(data["tiers"]) > MAX_TIERS:  # the workbook's tier formula nests one IF a tier
            self.fail("tiers", f"{len(data['tiers'])} given, a rubric has at most {MAX_TIERS}")
        if not any(lv.points is not None for lv in levels):
            self.fail("tiers", "a rubric with tiers needs points on every level")
            return
        if not levels or any(lv.points is None for lv in levels):
            return  # the levels' own problems are reported; no maximum to compare with
        count = sum(len(d.indicators) for d in domains)
        most = max(lv.points for lv in levels) * count
        for i, item in enumerate(data["tiers"]):
            threshold = item.get("min_points") if isinstance(item, dict) else None
            if isinstance(threshold, int) and not isinstance(threshold, bool) and threshold > most:
                self.fail(f"tiers[{i}].min_points", f"{threshold} is more than the {most} points "
                                                    "a return can score")

    def check_label(self, label: str, place: str, seen: set[str]) -> None:
        if label.casefold() in seen:
            self.fail(place, f"'{label}' is used by two levels")
        seen.add(label.casefold())
        if "," in label or '"' in label:
            self.fail(place, "a label cannot hold a comma or a double quote (dropdown lists)")
        if len(label) > MAX_LABEL_LENGTH:
            self.fail(place, f"longer than {MAX_LABEL_LENGTH} characters")
        if label[0].isdigit():
            self.fail(place, "a label cannot start with a digit (level numbers are typed too)")

    def domains(self, raw: list, levels: tuple[Level, ...]) -> tuple[Domain, ...]:
        out: list[Domain] = []
        domain_ids: set[str] = set()
        indicator_ids: set[str] = set()
        for i, item in enumerate(raw):
            place = f"domains[{i}]"
            required = {"id", "title", "sections"}
            optional = {"short_title", "introduction", "overview", "reflect", "foundational_steps"}
            if not self.mapping(item, place, required, optional):
                continue
            domain_id = self.text(item, "id", place)
            if domain_id and not _DOMAIN_ID_RE.match(domain_id):
                self.fail(_join(place, "id"), f"'{domain_id}' must be digits, optionally after "
                                              "up to 4 capital letters not starting with D "
                                              "(1, 12, CC1)")
            elif domain_id in domain_ids:
                self.fail(_join(place, "id"), f"duplicate domain id '{domain_id}'")
            domain_ids.add(domain_id)
            title = self.text(item, "title", place)
            short = self.text(item, "short_title", place, required=False) or title
            if len(short) > MAX_SHORT_TITLE and "short_title" in item:
                self.fail(_join(place, "short_title"), f"longer than {MAX_SHORT_TITLE} characters")
            sections = tuple(
                self.section(s, f"{place}.sections[{j}]", domain_id, levels, indicator_ids)
                for j, s in enumerate(self.items(item, "sections", place))
            )
            out.append(
                Domain(
                    id=domain_id,
                    title=title,
                    short_title=short,
                    sections=sections,
                    introduction=self.texts(item, "introduction", place),
                    overview=self.texts(item, "overview", place),
                    reflect=self.texts(item, "reflect", place),
                    foundational_steps=self.texts(item, "foundational_steps", place),
                )
            )
        return tuple(out)

    def section(self, item: Any, place: str, domain_id: str, levels, seen: set[str]) -> Section:
        if not self.mapping(item, place, {"title", "indicators"}, set()):
            return Section("", ())
        title = self.text(item, "title", place)
        indicators = []
        for k, raw in enumerate(self.items(item, "indicators", place)):
            indicator = self.indicator(raw, f"{place}.indicators[{k}]", domain_id, title, levels)
            if indicator is None:
                continue
            if indicator.id in seen:
                self.fail(f"{place}.indicators[{k}].id", f"duplicate indicator id '{indicator.id}'")
            seen.add(indicator.id)
            indicators.append(indicator)
        return Section(title, tuple(indicators))

    def indicator(self, item, place, domain_id, section, levels) -> Indicator | None:
        if not self.mapping(item, place, {"id", "title", "descriptors"}, {"corrections"}):
            return None
        ind_id = self.text(item, "id", place)
        if ind_id and not re.fullmatch(rf"{re.escape(domain_id)}\.[0-9]+", ind_id):
            self.fail(_join(place, "id"), f"'{ind_id}' must be '{domain_id}.<number>'")
        return Indicator(
            id=ind_id,
            title=self.text(item, "title", place),
            domain_id=domain_id,
            section=section,
            descriptors=self.descriptors(item.get("descriptors"), f"{place}.descriptors", levels),
            corrections=self.corrections(item, place),
        )

    def descriptors(self, raw: Any, place: str, levels) -> dict[int, Descriptor]:
        if not isinstance(raw, dict):
            self.fail(place, f"expected a mapping of level to text, found {_kind(raw)}")
            return {}
        known = {lv.level for lv in levels}
        out: dict[int, Descriptor] = {}
        for key, value in raw.items():
            number = _level_key(key)
            if number not in known:
                self.fail(place, f"unknown level {key!r} (levels are {_span(known)})")
                continue
            descriptor = self.descriptor(value, f"{place}.{number}")
            if descriptor is not None:
                out[number] = descriptor
        if levels and len(raw) != len(levels):
            self.fail(place, f"{len(raw)} given, {len(levels)} levels defined")
        return dict(sorted(out.items()))

    def descriptor(self, value: Any, place: str) -> Descriptor | None:
        if isinstance(value, str):
            text = _clean(value)
            if not text:
                self.fail(place, "is empty")
                return None
            return Descriptor((Block("p", (text,)),))
        if not self.mapping(value, place, {"blocks"}, {"emphasis"}):
            return None
        raw_blocks = value["blocks"] if isinstance(value["blocks"], list) else []
        blocks = [self.block(b, f"{place}.blocks[{i}]") for i, b in enumerate(raw_blocks)]
        blocks = [b for b in blocks if b is not None]
        if not blocks:
            self.fail(f"{place}.blocks", "is empty")
            return None
        descriptor = Descriptor(tuple(blocks), self.texts(value, "emphasis", place))
        for phrase in descriptor.emphasis:
            if phrase not in descriptor.text:
                self.fail(f"{place}.emphasis", f"'{phrase}' does not occur in the descriptor")
        return descriptor

    def block(self, value: Any, place: str) -> Block | None:
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("p", "ul"):
            self.fail(place, "expected {p: text} or {ul: [items]}")
            return None
        kind, body = next(iter(value.items()))
        if kind == "p":
            if not isinstance(body, str) or not body.strip():
                self.fail(f"{place}.p", "is empty")
                return None
            return Block("p", (_clean(body),))
        items = self.texts(value, "ul", place)
        if not items:
            self.fail(f"{place}.ul", "is empty")
            return None
        return Block("ul", items)

    def corrections(self, item: dict, place: str) -> tuple[Correction, ...]:
        out = []
        for i, raw in enumerate(self.items(item, "corrections", place, required=False)):
            where = f"{place}.corrections[{i}]"
            if self.mapping(raw, where, {"field", "original", "reason"}, set()):
                out.append(
                    Correction(
                        self.text(raw, "field", where),
                        self.text(raw, "original", where),
                        self.text(raw, "reason", where),
                    )
                )
        return tuple(out)

    def about(self, raw: list) -> tuple[AboutSection, ...]:
        out = []
        for i, item in enumerate(raw):
            place = f"about[{i}]"
            if self.mapping(item, place, {"heading", "paragraphs"}, set()):
                heading = self.text(item, "heading", place)
                out.append(AboutSection(heading, self.texts(item, "paragraphs", place)))
        return tuple(out)

    def glossary(self, raw: list) -> tuple[GlossaryEntry, ...]:
        out = []
        for i, item in enumerate(raw):
            place = f"glossary[{i}]"
            if self.mapping(item, place, {"term", "definition"}, set()):
                term = self.text(item, "term", place)
                out.append(GlossaryEntry(term, self.text(item, "definition", place)))
        return tuple(out)


def _clean(text: str) -> str:
    """Trim and fold runs of spaces, keeping intended line breaks."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)


def _level_key(key: Any) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    return None


def _span(numbers: set[int]) -> str:
    return f"{min(numbers)}-{max(numbers)}" if numbers else "none"


def _join(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )
