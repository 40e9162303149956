"""The District Framework YAML is a faithful transcription of its source text.

The YAML is read with ``yaml.safe_load`` (not through workbook_tool) and compared with an
independent reading of ``rubric/source/`` (see ``source_text.py`` for the normalisation:
tags and bullets removed, whitespace collapsed, no space before punctuation).

A YAML text may differ from the source only where the indicator records a correction whose
``original`` is the source's text; the corrected value must then differ from that original.
A corrected title must be one of the source's spellings (table or table of contents); a
corrected descriptor may only delete words of the original (the reason must quote the deleted
phrase exactly) or change the punctuation at the end of a word (stray comma -> period).
Anything else needs a deliberate change of this test.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
import yaml

from source_text import (
    cell_structure,
    load_source,
    md_descriptors,
    md_emphasis,
    md_list_items,
    norm,
)

RUBRIC_DIR = Path(__file__).parent.parent / "rubric"
RUBRIC_YAML = RUBRIC_DIR / "district_framework.yaml"

SOURCE = load_source()
RUBRIC = yaml.safe_load(RUBRIC_YAML.read_text(encoding="utf-8"))
LEVELS = (1, 2, 3, 4)


def _indicators(rubric: dict) -> dict[str, dict]:
    return {
        ind["id"]: ind
        for dom in rubric["domains"]
        for sec in dom["sections"]
        for ind in sec["indicators"]
    }


INDICATORS = _indicators(RUBRIC)
IDS = list(SOURCE.indicators)


def plain(descriptor) -> str:
    """A descriptor's plain text as SCHEMA.md defines it."""
    if isinstance(descriptor, str):
        return descriptor
    out = []
    for block in descriptor["blocks"]:
        if "p" in block:
            out.append(block["p"])
        else:
            out.extend("• " + item for item in block["ul"])
    return "\n".join(out)


def corrections(ind: dict, field: str) -> list[dict]:
    return [c for c in ind.get("corrections", []) if c["field"] == field]


def assert_matches(ind: dict, field: str, value: str, source: str) -> None:
    """``value`` equals ``source`` unless a correction of ``field`` has ``source`` as original."""
    if value == source:
        return
    recorded = [c for c in corrections(ind, field) if norm(c["original"]) == source]
    assert recorded, (
        f"D{ind['id']} {field} differs from the source without a recorded correction:\n"
        f"  yaml:   {value!r}\n  source: {source!r}"
    )


def minimal_edit(original: str, corrected: str) -> list[str] | None:
    """The phrases deleted from ``original`` to give ``corrected``; None if the edit does more.

    Allowed: deleting runs of words and changing the punctuation at the end of a word.
    """
    old, new = original.split(), corrected.split()
    deleted = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "insert":
            return None
        if op == "delete":
            deleted.append(" ".join(old[i1:i2]))
        if op == "replace":
            if i2 - i1 != j2 - j1:
                return None
            for a, b in zip(old[i1:i2], new[j1:j2], strict=True):
                if a.rstrip(".,;:") != b.rstrip(".,;:"):
                    return None
    return deleted


def all_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_strings(value)


# --- file shape --------------------------------------------------------------------------


def test_header_and_levels():
    assert RUBRIC["schema"] == 1
    assert RUBRIC["id"] == "connected-district-framework"
    assert RUBRIC["version"] == "2021-09"
    assert RUBRIC["title"] == "District Framework"
    assert [lv["level"] for lv in RUBRIC["levels"]] == list(LEVELS)
    assert [lv["label"] for lv in RUBRIC["levels"]] == SOURCE.level_labels
    assert SOURCE.level_labels == ["Emerging", "Developing", "Advancing", "Transforming"]


def test_level_definitions_are_marked_as_not_the_frameworks():
    # The source defines no level, so definitions must be flagged as workbook-tool's wording.
    for lv in RUBRIC["levels"]:
        if lv.get("definition"):
            assert norm(lv["definition"]) not in SOURCE.text
    if any(lv.get("definition") for lv in RUBRIC["levels"]):
        assert any("level definitions" in n and "workbook-tool" in n for n in RUBRIC["notes"])


def test_28_indicators_with_four_integer_keyed_descriptors():
    assert len(IDS) == 28
    assert list(INDICATORS) == IDS
    for iid, ind in INDICATORS.items():
        assert sorted(ind["descriptors"], key=str) == list(LEVELS), iid
        assert all(isinstance(k, int) for k in ind["descriptors"]), iid


def test_no_markup_or_stray_whitespace_anywhere():
    # `notes` is editorial prose about the transcription (it quotes "vision ."), not content.
    content = {k: v for k, v in RUBRIC.items() if k != "notes"}
    for text in all_strings(content):
        assert not re.search(r"<[a-zA-Z/][^>]*>", text), text
        assert "■" not in text, text
        assert not re.search(r"\*[^*]+\*", text), text
        assert text == text.strip(), text
        assert "  " not in text and "\t" not in text and "\n" not in text, text
        assert not re.search(r" [.,;:]", text), text


# --- indicators ---------------------------------------------------------------------------


@pytest.mark.parametrize("iid", IDS)
def test_indicator_title(iid):
    ind, src = INDICATORS[iid], SOURCE.indicators[iid]
    assert_matches(ind, "title", ind["title"], src.title)
    assert_matches(ind, "title", ind["title"], SOURCE.toc_titles[iid])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("iid", IDS)
def test_descriptor_text(iid, level):
    ind = INDICATORS[iid]
    value = norm(plain(ind["descriptors"][level]))
    assert_matches(ind, f"descriptors.{level}", value, SOURCE.indicators[iid].descriptors[level])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("iid", IDS)
def test_descriptor_structure(iid, level):
    """Paragraphs and lists of the source are kept as blocks, and only they are."""
    descriptor = INDICATORS[iid]["descriptors"][level]
    expected = cell_structure(SOURCE.indicators[iid].cells[level - 1])
    if expected is None:
        # A plain cell: a string, or (to carry emphasis) a single paragraph.
        if isinstance(descriptor, dict):
            assert [list(b) for b in descriptor["blocks"]] == [["p"]], (iid, level)
        return
    assert isinstance(descriptor, dict), f"D{iid}.{level} should keep the source's blocks"
    got = [(next(iter(b)), b.get("p", b.get("ul"))) for b in descriptor["blocks"]]
    items = md_list_items()
    for n, (kind, content) in enumerate(expected):
        if kind == "ul?":  # list markers lost in 000: the items come from 003's <li>
            assert norm(" ".join(items[(iid, level)])) == content
            expected[n] = ("ul", items[(iid, level)])
    assert got == expected, (iid, level)


def test_every_correction_is_genuine():
    fields = {"title"} | {f"descriptors.{n}" for n in LEVELS}
    count = 0
    for iid, ind in INDICATORS.items():
        src = SOURCE.indicators[iid]
        for corr in ind.get("corrections", []):
            count += 1
            assert corr["field"] in fields, (iid, corr)
            assert corr["reason"].strip(), (iid, corr)
            original = norm(corr["original"])
            assert original == corr["original"], "record the original whitespace-normalised"
            assert original in SOURCE.text, (iid, corr)
            if corr["field"] == "title":
                assert original in (src.title, SOURCE.toc_titles[iid]), (iid, corr)
                assert ind["title"] != original, (iid, corr)
            else:
                level = int(corr["field"].split(".")[1])
                assert original == src.descriptors[level], (iid, corr)
                corrected = norm(plain(ind["descriptors"][level]))
                assert corrected != original, (iid, corr)
                deleted = minimal_edit(original, corrected)
                assert deleted is not None, (iid, corrected, corr)
                for phrase in deleted:  # the reason must quote exactly what was removed
                    assert f'"{phrase}"' in corr["reason"], (iid, phrase, corr)
    assert count > 0


def test_known_quirks_are_handled():
    # D2.1 Developing: the misplaced phrase is gone (and was recorded, see above).
    assert "director of curriculum and instruction," in SOURCE.indicators["2.1"].descriptors[2]
    corrected = plain(INDICATORS["2.1"]["descriptors"][2])
    assert "director of curriculum and instruction" not in corrected
    # No descriptor ends in a stray comma or semicolon.
    for iid, ind in INDICATORS.items():
        for level in LEVELS:
            assert plain(ind["descriptors"][level])[-1] not in ",;", (iid, level)
    # The two spellings of a title both appear in the source.
    assert SOURCE.toc_titles["5.4"] != SOURCE.indicators["5.4"].title
    assert SOURCE.toc_titles["4.1"] != SOURCE.indicators["4.1"].title


# --- emphasis (domain 1, from the <b> of 003) --------------------------------------------


def test_domain1_sources_agree():
    for iid, levels in md_descriptors().items():
        for level, text in levels.items():
            assert text == SOURCE.indicators[iid].descriptors[level], (iid, level)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("iid", IDS)
def test_emphasis(iid, level):
    descriptor = INDICATORS[iid]["descriptors"][level]
    emphasis = descriptor.get("emphasis", []) if isinstance(descriptor, dict) else []
    if isinstance(descriptor, dict) and "emphasis" in descriptor:
        assert emphasis, "an emphasis key must not be empty"
    bold = md_emphasis().get(iid, {}).get(level, [])
    assert emphasis == bold, (iid, level)
    text = plain(descriptor)
    for phrase in emphasis:
        assert phrase in text, (iid, level, phrase)


# --- domains, sections --------------------------------------------------------------------


def test_domains_and_sections():
    assert [d["id"] for d in RUBRIC["domains"]] == list(SOURCE.domains)
    for dom in RUBRIC["domains"]:
        src = SOURCE.domains[dom["id"]]
        assert dom["title"] == src.title == SOURCE.toc_domains[dom["id"]]
        assert len(dom.get("short_title", "")) <= 24
        got = [(s["title"], [i["id"] for i in s["indicators"]]) for s in dom["sections"]]
        assert got == src.sections, dom["id"]


@pytest.mark.parametrize("key", ["introduction", "overview", "reflect", "foundational_steps"])
def test_domain_texts(key):
    for dom in RUBRIC["domains"]:
        src = getattr(SOURCE.domains[dom["id"]], key)
        assert src, (dom["id"], key)
        assert [norm(x) for x in dom[key]] == src, (dom["id"], key)


# --- front and back matter ----------------------------------------------------------------


def test_glossary():
    got = [(norm(g["term"]), norm(g["definition"])) for g in RUBRIC["glossary"]]
    assert [t for t, _ in got] == [t for t, _ in SOURCE.glossary]
    assert got == SOURCE.glossary


def test_sectors_and_references():
    assert RUBRIC["sectors"] == SOURCE.sectors
    assert [norm(r) for r in RUBRIC["references"]] == SOURCE.references


def test_about_sections_come_from_the_source():
    assert RUBRIC["about"][0]["heading"] == "What is the District Framework?"
    for section in RUBRIC["about"]:
        assert norm(section["heading"]) in SOURCE.text
        for paragraph in section["paragraphs"]:
            assert norm(paragraph) in SOURCE.text, paragraph
