"""A generated workbook's sheet names and defined names, written out by hand.

Other tests take the expected names from layout.expected_names, the code's own list: a
mistake there would be in the expectation too. Here the contract's names and cells are
literals (the small rubric: indicator rows follow a section title row; columns id, title,
3 descriptors, then rating F, evidence G, next steps H, priority I).
"""

from __future__ import annotations

import io

import openpyxl

from returns_kit import make_return
from workbook_tool.roster import School
from workbook_tool.rubric import load_rubric
from workbook_tool.writer import build_workbook

SMALL_NAMES = {
    "school_name": "'Start Here'!$B$4",
    "school_id": "'Start Here'!$B$5",
    "cycle": "'Start Here'!$B$6",
}
for ind, row in (("1_1", 4), ("1_2", 5), ("1_3", 7)):
    for kind, col in (("rating", "F"), ("evidence", "G"), ("next_steps", "H"),
                      ("priority", "I")):
        SMALL_NAMES[f"{kind}_{ind}"] = f"'D1 Leadership'!${col}${row}"
for ind, row in (("2_1", 4), ("2_2", 5)):
    for kind, col in (("rating", "F"), ("evidence", "G"), ("next_steps", "H"),
                      ("priority", "I")):
        SMALL_NAMES[f"{kind}_{ind}"] = f"'D2 Partnerships'!${col}${row}"

INPUT_PREFIXES = ("rating_", "evidence_", "next_steps_", "priority_")


def _book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def test_small_rubric_names_and_cells():
    book = _book(make_return())
    assert book.sheetnames == ["Start Here", "D1 Leadership", "D2 Partnerships", "Summary",
                               "Glossary", "_workbook_tool"]
    found = {name: book.defined_names[name].attr_text for name in SMALL_NAMES}
    assert found == SMALL_NAMES
    inputs = sorted(n for n in book.defined_names if n.startswith(INPUT_PREFIXES))
    assert len(inputs) == 20
    assert inputs == sorted(n for n in SMALL_NAMES if n.startswith(INPUT_PREFIXES))


def test_packaged_rubric_sheets_and_names():
    book = _book(build_workbook(load_rubric(), School("1", "X"), "2026-27"))
    assert book.sheetnames == [
        "Start Here", "D1 Leadership", "D2 Equity & Access", "D3 Learning & Teaching",
        "D4 Partnerships", "D5 Operations", "Summary", "Glossary", "_workbook_tool"]
    inputs = [n for n in book.defined_names if n.startswith(INPUT_PREFIXES)]
    assert len(inputs) == 4 * 28
    assert book.defined_names["rating_1_1"].attr_text == "'D1 Leadership'!$G$4"
    assert book.defined_names["priority_1_1"].attr_text == "'D1 Leadership'!$J$4"
    assert book.defined_names["evidence_5_4"].attr_text == "'D5 Operations'!$H$9"
    assert book.defined_names["school_id"].attr_text == "'Start Here'!$B$5"
    # Every indicator of the District Framework (its YAML): 8, 4, 6, 6 and 4 per domain.
    ids = sorted({n.removeprefix("rating_") for n in inputs if n.startswith("rating_")})
    per_domain = {d: sum(1 for i in ids if i.startswith(f"{d}_")) for d in "12345"}
    assert per_domain == {"1": 8, "2": 4, "3": 6, "4": 6, "5": 4}


def test_domain_selection_names_only_those_domains():
    book = _book(make_return(domain_ids=["2"]))
    assert book.sheetnames == ["Start Here", "D2 Partnerships", "Summary", "Glossary",
                               "_workbook_tool"]
    inputs = sorted(n for n in book.defined_names if n.startswith(INPUT_PREFIXES))
    assert inputs == ["evidence_2_1", "evidence_2_2", "next_steps_2_1", "next_steps_2_2",
                      "priority_2_1", "priority_2_2", "rating_2_1", "rating_2_2"]
