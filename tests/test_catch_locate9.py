"""Where things are in a return (mutation run 9): defined names that give no cell and why,
custom properties found through the package's relationships, and the `raters` key, each
on a small hand-made case with its message word for word."""

from __future__ import annotations

import pytest

from workbook_tool.reader.locate import Book, SheetInfo, Unresolved, custom_properties, rater_count
from workbook_tool.reader.preflight import Package

DATA = SheetInfo("Data", "visible", "xl/worksheets/sheet1.xml")


# -- defined names that give no cell -----------------------------------------------------------

@pytest.mark.parametrize("text", ["Data!#REF!", "data!#ref!", "#REF!"])
def test_a_name_at_a_deleted_cell_says_so(text):
    book = Book(sheets=[DATA], names={"rating_1_1": text})
    assert book.resolve("rating_1_1") == Unresolved(
        "missing-cell", "the defined name rating_1_1 points at a deleted cell (#REF!)")


def test_a_name_on_a_sheet_that_is_gone_says_which_sheet():
    book = Book(sheets=[DATA], names={"rating_1_1": "'Old Data'!$G$4"})
    assert book.resolve("rating_1_1") == Unresolved(
        "missing-cell",
        "the defined name rating_1_1 points at sheet 'Old Data', which no longer exists")


# -- custom properties found through _rels/.rels -----------------------------------------------

PROPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _props(**values: str) -> bytes:
    entries = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i + 2}" '
        f'name="{name}"><vt:lpwstr>{value}</vt:lpwstr></property>'
        for i, (name, value) in enumerate(values.items()))
    return f'<Properties xmlns="{PROPS_NS}" xmlns:vt="{VT_NS}">{entries}</Properties>'.encode()


def _rels(*relations: tuple[str, str, str]) -> bytes:
    body = "".join(f'<Relationship Id="{rid}" Type="{REL_TYPE}{kind}" Target="{target}"/>'
                   for rid, kind, target in relations)
    return ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships">{body}</Relationships>').encode()


def test_custom_properties_elsewhere_are_found_by_their_relationship_type():
    package = Package(b"", [], {
        "_rels/.rels": _rels(("rId3", "custom-properties", "docProps/props.xml"),
                             ("rId2", "extended-properties", "docProps/app.xml")),
        "docProps/props.xml": _props(school_id="S1", cycle="2024-25"),
        "docProps/app.xml": b'<Properties xmlns="x"><Application>Excel</Application></Properties>',
    })
    assert custom_properties(package) == {"school_id": "S1", "cycle": "2024-25"}


# -- the raters key ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "count"), [
    ("", 0), ("  ", 0), ("0", 0), ("0.0", 0),
    ("2", 2), ("2.0", 2), (" 3 ", 3), ("8", 8),  # MIN_RATERS 2 to MAX_RATERS 8
    ("1", None), ("9", None), ("-2", None), ("two", None), ("2.5", None),
])
def test_the_raters_key(text, count):
    assert rater_count(text) == count
