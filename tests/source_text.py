"""A small, independent reader of the District Framework source texts (tests only).

It does not use workbook_tool: it reads ``rubric/source/000_*.txt`` (the whole framework)
and ``rubric/source/003_*.txt`` (domain 1 in Markdown, key phrases in ``<b>``) directly.

Comparison convention
---------------------
Text is compared after :func:`norm`, which

* removes HTML tags (``<ul ...>``, ``<li>``, ``<p>``, ``<b>``...) and bullets (``■``, ``•``),
* removes Markdown italics markers (``*text*`` -> ``text``),
* collapses every run of whitespace (spaces, tabs, newlines) into one space, and
* removes spaces before ``, . ; :`` ("vision ." -> "vision.").

So a YAML descriptor's plain text (blocks joined by newlines, list items prefixed "• ")
and a source cell (``<ul>``/``■``/``<p>`` markup) compare equal when their words and
punctuation are the same. The *structure* (which paragraphs and list items a descriptor has)
is read separately by :func:`cell_structure` and :func:`md_list_items`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_DIR = Path(__file__).parent.parent / "rubric" / "source"
FRAMEWORK_TXT = SOURCE_DIR / "000_a0364f9eb1ceee5c.txt"
DOMAIN1_MD = SOURCE_DIR / "003_84b464731c35610e.txt"

LEVEL_HEADER = re.compile(r"^\t(?:<b>)?1 (\w+)(?:</b>)?\t(?:<b>)?2 (\w+)(?:</b>)?"
                          r"\t(?:<b>)?3 (\w+)(?:</b>)?\t(?:<b>)?4 (\w+)(?:</b>)?$")
INDICATOR_ROW = re.compile(r"^(?:<b>)?D(\d)\.(\d+) ([^\t<]+?)(?:</b>)?\t(.*)$")
TAG = re.compile(r"<[^>]*>")


def norm(text: str) -> str:
    """Normalise text for comparison (see the module docstring)."""
    text = TAG.sub(" ", text)
    text = text.replace("■", " ").replace("•", " ")
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([.,;:])", r"\1", text)


@dataclass
class Indicator:
    id: str
    title: str
    cells: list[str]  # the four raw cells, levels 1..4, markup included
    section: str

    @property
    def descriptors(self) -> dict[int, str]:
        return {n: norm(cell) for n, cell in enumerate(self.cells, start=1)}


@dataclass
class Domain:
    id: str
    title: str  # as the table heading "D1. ..." gives it
    introduction: list[str] = field(default_factory=list)
    reflect: list[str] = field(default_factory=list)
    foundational_steps: list[str] = field(default_factory=list)
    overview: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class Source:
    text: str  # the whole file, normalised
    level_labels: list[str]
    toc_domains: dict[str, str]
    toc_titles: dict[str, str]  # indicator id -> title in the table of contents
    domains: dict[str, Domain]
    indicators: dict[str, Indicator]  # in document order
    sectors: list[str]
    glossary: list[tuple[str, str]]
    references: list[str]


def _bullets(lines: list[str]) -> list[str]:
    return [norm(line[2:]) for line in lines if line.startswith("- ")]


def _paragraphs(lines: list[str]) -> list[str]:
    return [norm(line) for line in lines if line.strip()]


def load_source(path: Path = FRAMEWORK_TXT) -> Source:
    raw = path.read_text(encoding="utf-8")
    lines = raw.split("\n")

    # Table of contents: everything before the second "District Framework" line.
    toc_end = [i for i, line in enumerate(lines) if line.strip() == "District Framework"][1]
    toc_domains: dict[str, str] = {}
    toc_titles: dict[str, str] = {}
    for line in lines[:toc_end]:
        if m := re.match(r"^D(\d)\. (.+)$", line):
            toc_domains[m[1]] = m[2].strip()
        elif m := re.match(r"^- D(\d\.\d+) (.+)$", line):
            toc_titles[m[1]] = m[2].strip()

    def find(text: str, start: int = 0) -> int:
        return next(i for i in range(start, len(lines)) if lines[i].strip() == text)

    domains: dict[str, Domain] = {}
    indicators: dict[str, Indicator] = {}
    level_labels: list[str] = []
    titles = set(toc_domains.values())
    # Each domain: "<title>" heading, introduction, "Reflect on Your Practice",
    # "Foundational Steps", then the table under "D<n>. <title>".
    reflect_at = [i for i, line in enumerate(lines) if line.strip() == "Reflect on Your Practice"]
    for r in reflect_at:
        head = max(i for i in range(toc_end, r) if lines[i].strip() in titles)
        steps = find("Foundational Steps", r)
        table = next(i for i in range(steps, len(lines)) if re.match(r"^D\d\. ", lines[i]))
        dom_id, dom_title = re.match(r"^D(\d)\. (.+)$", lines[table]).groups()
        dom = Domain(id=dom_id, title=dom_title.strip())
        dom.introduction = _paragraphs(lines[head + 1 : r])
        dom.reflect = _bullets(lines[r + 1 : steps])
        dom.foundational_steps = _bullets(lines[steps + 1 : table])
        domains[dom_id] = dom

        # Table rows: header rows, section rows ("Title\t\t\t\t" or a bare line directly
        # followed by an indicator row), indicator rows; the table ends at any other line.
        i = table + 1
        section = None
        while i < len(lines):
            line = lines[i]
            nxt = next((x for x in lines[i + 1 :] if x.strip()), "")
            if not line.strip():
                pass
            elif m := LEVEL_HEADER.match(line):
                level_labels = list(m.groups())
            elif m := INDICATOR_ROW.match(line):
                cells = m[4].split("\t")
                assert len(cells) == 4, f"D{m[1]}.{m[2]} has {len(cells)} cells"
                iid = f"{m[1]}.{m[2]}"
                assert section is not None, f"D{iid} outside a section"
                indicators[iid] = Indicator(iid, m[3].strip(), cells, section)
                dom.sections[-1][1].append(iid)
            elif line.endswith("\t\t\t\t") or INDICATOR_ROW.match(nxt) or LEVEL_HEADER.match(nxt):
                section = norm(line)
                dom.sections.append((section, []))
            else:
                break
            i += 1

    # Overview table: one row per domain, in order, bullets marked "■".
    ov = find("Overview")
    rows = [line for line in lines[ov + 1 :] if "■" in line][: len(domains)]
    for dom, row in zip(domains.values(), rows, strict=True):
        cell = row.split("\t", 1)[1]
        dom.overview = [norm(b) for b in TAG.sub(" ", cell).split("■")[1:]]

    sec = find("Pathway Industry Sectors")
    first_domain_head = min(
        i for i in range(sec, len(lines)) if lines[i].strip() in titles
    )
    # The first paragraph is the note "Major industry sectors may vary ..."; then one per line.
    sectors = _paragraphs(lines[sec + 1 : first_domain_head])[1:]

    glo, ref = find("Glossary"), find("References")
    glossary = []
    for line in lines[glo + 1 : ref]:
        if "\t" in line:
            term, definition = line.split("\t")
            glossary.append((norm(term), norm(definition)))
    end = find("The National Center for College & Career", ref)
    references = _paragraphs(lines[ref + 1 : end])

    return Source(
        text=norm(raw),
        level_labels=level_labels,
        toc_domains=toc_domains,
        toc_titles=toc_titles,
        domains=domains,
        indicators=indicators,
        sectors=sectors,
        glossary=glossary,
        references=references,
    )


def cell_structure(cell: str) -> list[tuple[str, object]] | None:
    """Paragraph/list structure a source cell marks up, or None for a plain cell.

    ``<p>...</p>`` give paragraphs (text outside them is a paragraph too); a ``<ul>`` gives
    a paragraph for the text before it and a list, whose items are split on "■" when the
    cell has them; otherwise the list is returned as one unsplit string ("ul?").
    """
    if "<ul" in cell:
        before, after = cell.split("<ul", 1)
        after = after.split(">", 1)[1]
        blocks: list[tuple[str, object]] = [("p", norm(before))] if norm(before) else []
        if "■" in after:
            blocks.append(("ul", [norm(x) for x in after.split("■")[1:]]))
        else:
            blocks.append(("ul?", norm(after)))
        return blocks
    if "<p>" in cell:
        parts = re.split(r"<p>(.*?)</p>", cell)
        return [("p", norm(part)) for part in parts if norm(part)]
    return None


def _md_cells(path: Path = DOMAIN1_MD) -> dict[str, list[str]]:
    cells = {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        if m := INDICATOR_ROW.match(line):
            cells[f"{m[1]}.{m[2]}"] = m[4].split("\t")
    return cells


def md_emphasis(path: Path = DOMAIN1_MD) -> dict[str, dict[int, list[str]]]:
    """Per domain-1 indicator and level, the ``<b>`` phrases of 003, normalised, in order."""
    return {
        iid: {n: [norm(b) for b in re.findall(r"<b>(.*?)</b>", cell)]
              for n, cell in enumerate(cells, start=1)}
        for iid, cells in _md_cells(path).items()
    }


def md_descriptors(path: Path = DOMAIN1_MD) -> dict[str, dict[int, str]]:
    """Per domain-1 indicator and level, the descriptor text of 003, normalised."""
    return {iid: {n: norm(c) for n, c in enumerate(cells, start=1)}
            for iid, cells in _md_cells(path).items()}


def md_list_items(path: Path = DOMAIN1_MD) -> dict[tuple[str, int], list[str]]:
    """(indicator, level) -> the ``<li>`` items of 003, normalised (cells with lists only)."""
    out = {}
    for iid, cells in _md_cells(path).items():
        for n, cell in enumerate(cells, start=1):
            items = re.findall(r"<li>(.*?)</li>", cell)
            if items:
                out[(iid, n)] = [norm(x) for x in items]
    return out
