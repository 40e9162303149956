"""The test helpers themselves: an edit of one cell must leave every other cell as it was."""

from __future__ import annotations

import io

import openpyxl

from returns_kit import make_return, set_cell_xml
from workbook_tool.reader import Answer

INLINE = '<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _values(data: bytes, sheet: str, refs: list[str]) -> dict[str, object]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ref: book[sheet][ref].value for ref in refs}


def test_set_cell_xml_on_an_empty_cell_keeps_its_neighbours():
    # Indicator 1.1 unrated (its rating cell F4 is written as `<c r="F4" s=".."/>`) with
    # evidence, next steps and priority filled right after it in G4, H4 and I4.
    answers = {"1.1": Answer("1.1", None, "", "Ev one", "Next one", "High"),
               "1.2": Answer("1.2", 2, "Growing", "Ev two", "Next two", "Low")}
    data = make_return(answers=answers)
    before = _values(data, "D1 Leadership", ["F4", "G4", "H4", "I4", "F5", "G5", "H5", "I5"])
    assert before == {"F4": None, "G4": "Ev one", "H4": "Next one", "I4": "High",
                      "F5": "Growing", "G5": "Ev two", "H5": "Next two", "I5": "Low"}

    edited = set_cell_xml(data, "D1 Leadership", "F4", INLINE.format(ref="F4", text="Strong"))

    after = _values(edited, "D1 Leadership", ["F4", "G4", "H4", "I4", "A5", "F5", "G5"])
    assert after == {"F4": "Strong", "G4": "Ev one", "H4": "Next one", "I4": "High",
                     "A5": "1.2", "F5": "Growing", "G5": "Ev two"}


def test_set_cell_xml_on_a_filled_cell_replaces_only_that_cell():
    answers = {"1.1": Answer("1.1", 1, "Beginning", "Ev one", "Next one", "Medium")}
    data = make_return(answers=answers)
    edited = set_cell_xml(data, "D1 Leadership", "G4", INLINE.format(ref="G4", text="New"))
    after = _values(edited, "D1 Leadership", ["F4", "G4", "H4", "I4"])
    assert after == {"F4": "Beginning", "G4": "New", "H4": "Next one", "I4": "Medium"}
