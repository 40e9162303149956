"""Where things are in a return (mutation run 9): defined names that give no cell and why,
custom properties found through the package's relationships, and the `raters` key, each
on a small hand-made case with its message word for word."""

from __future__ import annotations

import pytest

from workbook_tool.reader.locate import (
    MAIN_NS,
    Book,
    SheetInfo,
    Unresolved,
    custom_properties,
    format_version,
    number_text,
    parse_xml,
    rater_count,
    read_book,
)
from workbook_tool.reader.preflight import Package, Rejected

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


# -- sheets by name --------------------------------------------------------------------------

def test_a_sheet_is_found_by_its_name_in_any_case():
    other = SheetInfo("data", "hidden", "xl/worksheets/sheet2.xml")
    book = Book(sheets=[DATA, other])
    assert book.sheet("data") is other  # the exact name first
    assert book.sheet("DATA") is DATA  # else the first in another case
    assert book.sheet("Notes") is None


# -- numbers and versions in metadata --------------------------------------------------------

@pytest.mark.parametrize(("text", "shown"), [
    ("1.0", "1"), ("-4.0", "-4"), ("2.5", "2.5"), ("999999999999999", "999999999999999"),
    ("1e15", "1e15"), ("-1e15", "-1e15"), ("abc", "abc"), ("", ""),
])
def test_number_text(text, shown):
    assert number_text(text) == shown


@pytest.mark.parametrize(("text", "version"), [
    ("1", 1), ("1.0", 1), (" 2 ", 2), ("-3", -3), ("123456789", 123456789),
    ("1234567890", None), ("1.5", None), ("abc", None), ("", None),
])
def test_format_version(text, version):
    assert format_version(text) == version


# -- parse_xml and read_book: what is refused, word for word ---------------------------------

def _refused(call) -> tuple[str, str]:
    with pytest.raises(Rejected) as caught:
        call()
    return caught.value.code, caught.value.message


def test_a_missing_damaged_or_dtd_part_is_refused_by_name():
    package = Package(b"", [], {"xl/styles.xml": b"<styleSheet", "a.xml": b"<!DOCTYPE a><a/>"})
    assert _refused(lambda: parse_xml(package, "xl/workbook.xml")) == (
        "unreadable", "the workbook part xl/workbook.xml is missing")
    assert _refused(lambda: parse_xml(package, "xl/styles.xml")) == (
        "unreadable", "the workbook part xl/styles.xml is damaged (invalid XML)")
    assert _refused(lambda: parse_xml(package, "a.xml")) == (
        "unsafe-xml", "the part a.xml declares a DTD or entities")


@pytest.mark.parametrize("root", [
    '<workbook xmlns="urn:not-excel"/>', "<workbook/>", f'<book xmlns="{MAIN_NS}"/>'])
def test_a_workbook_part_in_another_format_is_refused(root):
    package = Package(b"", [], {"xl/workbook.xml": root.encode()})
    assert _refused(lambda: read_book(package)) == (
        "not-xlsx",
        'the workbook part is not in the usual Excel format; open it and save it as '
        '"Excel Workbook (.xlsx)"')


WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def test_sheets_get_their_part_from_the_exact_relationships_part():
    workbook = (f'<workbook xmlns="{MAIN_NS}" xmlns:r="{R_NS}"><sheets>'
                '<sheet name="Data" sheetId="1" r:id="rId1"/>'
                '<sheet name="Notes" sheetId="2" state="hidden"/>'  # no relationship id
                '</sheets></workbook>')
    package = Package(b"", [], {
        "xl/workbook.xml": workbook.encode(),
        # Two relationship parts whose names differ in case only: the exact name counts.
        "XL/_RELS/WORKBOOK.XML.RELS": _rels(("rId1", "worksheet", "worksheets/other.xml")),
        WORKBOOK_RELS: _rels(("rId1", "worksheet", "worksheets/sheet1.xml")),
    })
    assert read_book(package).sheets == [
        SheetInfo("Data", "visible", "xl/worksheets/sheet1.xml"),
        SheetInfo("Notes", "hidden", ""),
    ]


def test_every_sheet_and_workbook_scope_name_of_a_workbook_part():
    workbook = (
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{R_NS}"><sheets>'
        '<sheet name="Data" sheetId="1" r:id="rId1"/>'
        '<sheet name="Notes" sheetId="2" state="hidden" r:id="rId2"/>'
        '<sheet name="Web" sheetId="3" state="veryHidden" r:id="rId3"/>'
        '<sheet name="Lost" sheetId="4" r:id="rId9"/>'  # no such relationship
        '<sheet sheetId="5" r:id="rId4"/>'  # no name; its relationship has no target
        '<sheet name="Bare" sheetId="6"/>'  # no relationship id
        '</sheets><definedNames>'
        '<definedName name="Rating_1_1">Data!$G$4</definedName>'
        '<definedName name="rating_1_1">Data!G4</definedName>'  # the same cell again
        '<definedName name="RATING_1_1">Notes!$A$1</definedName>'  # another cell
        '<definedName name="note" localSheetId="0">Data!$A$1</definedName>'  # sheet scope
        '<definedName>Data!$B$2</definedName>'  # no name
        '<definedName name="empty"/>'
        '</definedNames></workbook>')
    rels = _rels(("rId1", "worksheet", "worksheets/sheet1.xml"),
                 ("rId2", "worksheet", "/xl/worksheets/sheet2.xml"),  # absolute
                 ("XXXX", "worksheet", "worksheets/any.xml"))  # an odd id: no sheet has it
    rels = rels.replace(b"</Relationships>", (
        f'<Relationship Id="rId3" Type="{REL_TYPE}worksheet" Target="https://example.org/x"'
        f' TargetMode="External"/><Relationship Id="rId4" Type="{REL_TYPE}worksheet"/>'
        '</Relationships>').encode())
    book = read_book(Package(b"", [], {"xl/workbook.xml": workbook.encode(),
                                       WORKBOOK_RELS: rels}))
    assert book.sheets == [
        SheetInfo("Data", "visible", "xl/worksheets/sheet1.xml"),
        SheetInfo("Notes", "hidden", "xl/worksheets/sheet2.xml"),
        SheetInfo("Web", "veryHidden", ""),  # an external target is no part
        SheetInfo("Lost", "visible", ""),
        SheetInfo("", "visible", "xl"),  # a relationship without a target names the folder
        SheetInfo("Bare", "visible", ""),
    ]
    assert book.names == {"rating_1_1": "Data!$G$4", "empty": ""}
    assert book.redefined == {"rating_1_1": ["Notes!$A$1"]}


def _custom(*entries: str) -> bytes:
    body = "".join(entries)
    return f'<Properties xmlns="{PROPS_NS}" xmlns:vt="{VT_NS}">{body}</Properties>'.encode()


def test_custom_properties_skip_what_is_no_property_with_a_value():
    package = Package(b"", [], {"docProps/custom.xml": _custom(
        '<property name="empty"/>',  # no value: skipped
        '<other name="x"><vt:lpwstr>not a property</vt:lpwstr></other>',
        '<property><vt:lpwstr>no name</vt:lpwstr></property>',
        '<property name="school_id"><vt:lpwstr> S1 </vt:lpwstr></property>',
        '<property name="cycle"><vt:lpwstr/></property>',
        '<property name="raters"><vt:r8>3.0</vt:r8></property>',
        '<property name="domains"><vt:i4>2</vt:i4></property>',
        '<property name="rubric_version"><vt:lpwstr>1.0</vt:lpwstr></property>',
        '<property name="school_id"><vt:lpwstr>S2</vt:lpwstr></property>',  # the first wins
    )})
    assert custom_properties(package) == {
        "": "no name", "school_id": "S1", "cycle": "", "raters": "3", "domains": "2",
        "rubric_version": "1.0"}


def test_custom_properties_at_their_usual_place_win_over_the_relationships():
    package = Package(b"", [], {
        "_rels/.rels": _rels(("rId3", "custom-properties", "docProps/other.xml")),
        "docProps/custom.xml": _props(school_id="S1"),
        "docProps/other.xml": _props(school_id="S2"),
    })
    assert custom_properties(package) == {"school_id": "S1"}


def test_custom_properties_through_the_exact_package_relationships_part():
    # Two package relationship parts whose names differ in case only: the exact name counts.
    package = Package(b"", [], {
        "_RELS/.RELS": _rels(("rId3", "custom-properties", "docProps/other.xml")),
        "_rels/.rels": _rels(("rId3", "custom-properties", "/docProps/props.xml")),
        "docProps/props.xml": _props(school_id="S1"),
        "docProps/other.xml": _props(school_id="S2"),
    })
    assert custom_properties(package) == {"school_id": "S1"}


def test_a_relationship_without_an_id_is_still_read():
    # No Id: custom properties are still found by the relationship's type (beside one
    # without a type or a target) ...
    rels = (f'<Relationships xmlns="x"><Relationship Id="rId9"/><Relationship '
            f'Type="{REL_TYPE}custom-properties" Target="docProps/props.xml"/></Relationships>'
            ).encode()
    package = Package(b"", [], {"_rels/.rels": rels, "docProps/props.xml": _props(cycle="c")})
    assert custom_properties(package) == {"cycle": "c"}
    # ... and a sheet without a relationship id meets it (both ids are empty).
    workbook = f'<workbook xmlns="{MAIN_NS}"><sheets><sheet name="Data"/></sheets></workbook>'
    rels = (f'<Relationships xmlns="x"><Relationship Type="{REL_TYPE}worksheet" '
            'Target="/Xtra/sheet.xml"/></Relationships>').encode()  # absolute, first letter X
    book = read_book(Package(b"", [], {"xl/workbook.xml": workbook.encode(), WORKBOOK_RELS: rels}))
    assert book.sheets == [SheetInfo("Data", "visible", "Xtra/sheet.xml")]
