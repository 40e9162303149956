"""Fidelity: what a person typed or saw in a cell is what comes out, through the CLI.

Input cells are text-formatted; numbers, dates, booleans and error values that reach a text
field anyway come out as the cell showed them; invisible characters are spelled out in
messages; lengths are counted in UTF-16 units as Excel counts them. Every hostile file is
built here: the cell's raw XML is set with returns_kit.set_cell_xml, its number format added
to styles.xml, and every expected value is a literal.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.cell.cell import MergedCell

from returns_kit import (
    SMALL_RUBRIC,
    answers_for,
    edit_member,
    make_return,
    members,
    named_cell,
    set_cell_xml,
    set_named_value,
    small_rubric,
)
from workbook_tool.cli import main

ROSTER = "school_id,school_name\nS1,Alpha School\n"
EMOJI = "\U0001F600"  # two UTF-16 units


@pytest.fixture(scope="module")
def rubric():
    return small_rubric()


@pytest.fixture(scope="module")
def filled(rubric) -> bytes:
    return make_return(rubric, answers=answers_for(rubric))


# -- building hostile returns ---------------------------------------------------------------

def add_number_formats(data: bytes, formats: list[int | str]) -> tuple[bytes, list[int]]:
    """Append one cell style per format (a built-in numFmtId or a custom code) to
    styles.xml; the new styles' indices (the s= of a cell)."""
    xml = members(data)["xl/styles.xml"].decode()
    first_xf = int(re.search(r'<cellXfs count="([0-9]+)"', xml).group(1))
    custom, xfs = [], []
    for i, fmt in enumerate(formats):
        number = fmt if isinstance(fmt, int) else 200 + i
        if isinstance(fmt, str):
            code = fmt.replace("&", "&amp;").replace('"', "&quot;")
            custom.append(f'<numFmt numFmtId="{number}" formatCode="{code}"/>')
        xfs.append(f'<xf numFmtId="{number}" fontId="0" fillId="0" borderId="0" xfId="0" '
                   'applyNumberFormat="1"/>')

    def edit(body: bytes) -> bytes:
        text = body.decode()
        text = text.replace("</numFmts>", "".join(custom) + "</numFmts>", 1)
        text = re.sub(r'<numFmts count="[0-9]+">',
                      lambda m: f'<numFmts count="{text.count("<numFmt ")}">', text, count=1)
        text = text.replace("</cellXfs>", "".join(xfs) + "</cellXfs>", 1)
        text = text.replace(f'<cellXfs count="{first_xf}"',
                            f'<cellXfs count="{first_xf + len(xfs)}"', 1)
        return text.encode()

    return edit_member(data, "xl/styles.xml", edit), list(range(first_xf, first_xf + len(xfs)))


def set_named_xml(data: bytes, name: str, inner: str, attributes: str = "") -> bytes:
    """Give the cell of a defined name the raw content `inner` (e.g. "<v>0.87</v>")."""
    sheet, ref = named_cell(data, name)
    return set_cell_xml(data, sheet, ref, f'<c r="{ref}"{attributes}>{inner}</c>')


def write(tmp_path, data: bytes, name: str = "S1_alpha.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def check_json(path) -> dict:
    result = CliRunner().invoke(main, ["check", str(path), "--rubric", str(SMALL_RUBRIC),
                                       "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["files"][0]


def consolidate(tmp_path, *paths):
    """Consolidate the returns, which must all be accepted (exit 0); the output folder."""
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["consolidate", *map(str, paths), "--roster",
                                       str(roster), "--out", str(out), "--rubric",
                                       str(SMALL_RUBRIC), "--json"])
    assert result.exit_code == 0, result.output
    return out


def csv_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def by_indicator(out) -> dict[str, dict]:
    return {row["indicator_id"]: row for row in csv_rows(out / "ratings.csv")}


def problems_of(report: dict, code: str) -> list[dict]:
    return [p for p in report["problems"] if p["code"] == code]


# -- 1. the generated input cells are text ---------------------------------------------------

def test_generated_input_cells_are_text_formatted(tmp_path, rubric):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    result = CliRunner().invoke(main, ["generate", str(roster), "--out", str(tmp_path / "wb"),
                                       "--rubric", str(SMALL_RUBRIC), "--cycle", "2024-25",
                                       "-q"])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "wb").glob("*.xlsx")
    book = openpyxl.load_workbook(path)
    checked = 0
    for name, defined in book.defined_names.items():
        if name.startswith(("evidence_", "next_steps_", "rating_", "priority_")):
            sheet, ref = next(defined.destinations)
            assert book[sheet][ref.replace("$", "")].number_format == "@", name
            checked += 1
    assert checked == 4 * 5  # four inputs of each of the small rubric's 5 indicators
    # Every unlocked cell of Start Here (the team table's names and roles) is text too.
    start = book["Start Here"]
    inputs = [c for row in start.iter_rows() for c in row
              if not c.protection.locked and not isinstance(c, MergedCell)]
    # "Completed by" (merged over B:D), and eight rows of name and role (role over B:D).
    assert len(inputs) == 1 + 8 * 2
    assert {c.number_format for c in inputs} == {"@"}


# -- 2. numbers, dates and booleans in text fields, as the cell showed them -------------------

SHOWN = [  # (name, number format or None, raw <v>, cell type, expected text)
    ("evidence_1_1", 9, "0.87", "", "87%"),
    ("next_steps_1_1", 10, "0.87", "", "87.00%"),
    ("evidence_1_2", '"$"#,##0.00', "1200", "", "$1,200.00"),
    ("next_steps_1_2", 2, "1.1", "", "1.10"),
    ("evidence_1_3", 17, "45717", "", "2025-03-01"),
    ("next_steps_1_3", "dd/mm/yyyy", "45717", "", "2025-03-01"),
    ("evidence_2_1", None, "1234567890123456789", "", "1234567890123456789"),
    ("next_steps_2_1", "00000", "123", "", "00123"),
    ("evidence_2_2", None, "1.0", "", "1"),
    ("next_steps_2_2", None, "1", ' t="b"', "TRUE"),
]


def test_numbers_and_dates_in_text_fields_come_out_as_shown(tmp_path, filled):
    formats = [f for _, f, _, _, _ in SHOWN if f is not None]
    data, styles = add_number_formats(filled, formats)
    style_of = dict(zip(formats, styles, strict=True))
    for name, fmt, raw, kind, _ in SHOWN:
        style = f' s="{style_of[fmt]}"' if fmt is not None else ""
        data = set_named_xml(data, name, f"<v>{raw}</v>", style + kind)
    out = consolidate(tmp_path, write(tmp_path, data))
    rows = by_indicator(out)
    for name, _, _, _, expected in SHOWN:
        kind, ind = name.rsplit("_", 2)[0], name[-3:].replace("_", ".")
        assert rows[ind][kind] == expected, name
    # The neighbours of every edited cell survived: ratings and priorities as filled.
    assert [rows[i]["label"] for i in ("1.1", "1.2", "1.3", "2.1", "2.2")] == [
        "Beginning", "Growing", "Strong Practice", "Beginning", "Growing"]
    assert [rows[i]["priority"] for i in ("1.1", "1.2", "1.3", "2.1", "2.2")] == [
        "High", "Medium", "Low", "High", "Medium"]
    data_sheet = openpyxl.load_workbook(out / "district_summary.xlsx")["Data"]
    header = [c.value for c in data_sheet[1]]
    evidence = {r[header.index("indicator_id")]: r[header.index("evidence")]
                for r in data_sheet.iter_rows(min_row=2, values_only=True)}
    assert evidence == {"1.1": "87%", "1.2": "$1,200.00", "1.3": "2025-03-01",
                        "2.1": "1234567890123456789", "2.2": "1"}


@pytest.mark.parametrize(("fmt", "raw", "expected"), [
    (1, "2.5", "3"),  # "0": half away from zero, as Excel rounds
    (3, "1234567", "1,234,567"),
    (4, "-1234.5", "'-1,234.50"),  # ratings.csv escapes a leading "-" with "'"
    (14, "45717", "2025-03-01"),
    (22, "45717.75", "2025-03-01 18:00"),
    (20, "0.5", "12:00"),
    (49, "42", "42"),
    ("#,##0.00;(#,##0.00)", "-1200", "(1,200.00)"),
    ("[$€-407]#,##0.00", "1200", "€1,200.00"),
    ("0.0%", "0.125", "12.5%"),
    ("General", "0.30000000000000004", "0.3"),
])
def test_number_formats_applied(tmp_path, filled, fmt, raw, expected):
    data, (style,) = add_number_formats(filled, [fmt])
    data = set_named_xml(data, "evidence_1_1", f"<v>{raw}</v>", f' s="{style}"')
    report = check_json(write(tmp_path, data))
    assert report["ok"] and report["warnings"] == 0, report["problems"]
    out = consolidate(tmp_path, write(tmp_path, data))
    assert by_indicator(out)["1.1"]["evidence"] == expected


def test_dates_of_the_1904_system(tmp_path, filled):
    data = edit_member(filled, "xl/workbook.xml",
                       lambda b: b.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1))
    data, (style,) = add_number_formats(data, [14])
    data = set_named_xml(data, "evidence_1_1", "<v>44255</v>", f' s="{style}"')
    out = consolidate(tmp_path, write(tmp_path, data))
    assert by_indicator(out)["1.1"]["evidence"] == "2025-03-01"


def test_a_number_typed_as_rating_is_normalised(tmp_path, filled):
    data = set_named_xml(filled, "rating_1_1", "<v>3</v>")
    data = set_named_value(data, "rating_1_2", "2")  # typed into the text-formatted cell
    report = check_json(write(tmp_path, data))
    warnings = problems_of(report, "normalized-rating")
    assert [(w["cell"], w["message"]) for w in warnings] == [
        ("F4", 'the rating of 1.1 "3" was read as 3 (Strong Practice)'),
        ("F5", 'the rating of 1.2 "2" was read as 2 (Growing)'),
    ]
    assert report["ok"]


def test_a_rating_stored_as_a_fraction_is_not_rounded_by_its_format(tmp_path, filled):
    data, (whole,) = add_number_formats(filled, [1])  # "0": 2.6 shows as 3
    data = set_named_xml(data, "rating_1_1", "<v>2.6</v>", f' s="{whole}"')
    data = set_named_xml(data, "rating_1_2", "<v>2</v>", f' s="{whole}"')
    report = check_json(write(tmp_path, data))
    errors = problems_of(report, "invalid-rating")
    assert [(e["cell"], e["message"]) for e in errors] == [
        ("F4", 'the rating of 1.1 is "2.6", which is not one of the levels (Beginning, '
               'Growing, Strong Practice)'),
    ]
    warnings = problems_of(report, "normalized-rating")
    assert [w["cell"] for w in warnings] == ["F5"]
    assert not report["ok"]


# -- error values --------------------------------------------------------------------------

@pytest.mark.parametrize("error", ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!",
                                   "#NULL!"])
def test_error_value_in_a_text_field_is_kept_and_warned(tmp_path, filled, error):
    data = set_named_xml(filled, "evidence_1_2", f"<v>{error}</v>", ' t="e"')
    report = check_json(write(tmp_path, data))
    (warning,) = problems_of(report, "error-value")
    assert (warning["severity"], warning["sheet"], warning["cell"]) == (
        "warning", "D1 Leadership", "G5")
    assert warning["message"] == (
        f"the evidence of 1.2 shows the error value {error}; it was kept as that text")
    assert report["ok"]
    out = consolidate(tmp_path, write(tmp_path, data))
    rows = by_indicator(out)
    assert rows["1.2"]["evidence"] == error
    assert rows["1.2"]["next_steps"] == "Next for 1.2"  # the neighbour is untouched


def test_error_values_of_formulas_and_in_ratings(tmp_path, filled):
    data = set_named_xml(filled, "next_steps_2_1", "<f>1/0</f><v>#DIV/0!</v>", ' t="e"')
    data = set_named_xml(data, "priority_1_3", "<v>#N/A</v>", ' t="e"')
    data = set_named_xml(data, "rating_2_2", "<v>#REF!</v>", ' t="e"')
    report = check_json(write(tmp_path, data))
    assert not report["ok"]
    found = {(p["code"], p["cell"]): p["message"] for p in report["problems"]}
    assert found[("error-value", "H4")] == (
        "the next steps of 2.1 shows the error value #DIV/0!; it was kept as that text")
    assert ("formula-value", "H4") in found
    assert found[("error-value", "I7")] == (
        "the priority of 1.3 shows the error value #N/A; it was kept as that text")
    assert ("invalid-priority", "I7") not in found
    assert found[("invalid-rating", "F5")] == (
        "the rating of 2.2 is the error value #REF!, which is not one of the levels "
        "(Beginning, Growing, Strong Practice)")
    assert "unrated" not in {p["code"] for p in report["problems"]}  # an error, not unrated


# -- 3. invisible characters are shown ------------------------------------------------------

@pytest.mark.parametrize(("typed", "code", "shown"), [
    ("Grow\u200bing", "normalized-rating", '"Grow<U+200B>ing" was read as 2 (Growing)'),
    ("\ufeffGrowing", "normalized-rating", '"<U+FEFF>Growing" was read as 2 (Growing)'),
    ("Grow\u00ading", "normalized-rating", '"Grow<U+00AD>ing" was read as 2 (Growing)'),
    ("Growing\u00a0", "normalized-rating", '"Growing<U+00A0>" was read as 2 (Growing)'),
    ("Growing\ufe0f", "normalized-rating", '"Growing<U+FE0F>" was read as 2 (Growing)'),
    ("Gro\u202ewing", "invalid-rating", 'is "Gro<U+202E>wing", which is not one of the levels'),
    ("Growing\u2066", "invalid-rating", 'is "Growing<U+2066>", which is not one of the levels'),
    ("Gr\u043ewing", "invalid-rating", 'is "Gr<U+043E>wing", which is not one of the levels'),
])
def test_invisible_characters_in_a_rating_are_spelled_out(tmp_path, filled, typed, code,
                                                          shown):
    data = set_named_value(filled, "rating_1_2", typed)
    report = check_json(write(tmp_path, data))
    (problem,) = problems_of(report, code)
    assert problem["cell"] == "F5"
    assert problem["message"].startswith("the rating of 1.2 ")
    assert shown in problem["message"]
    assert report["ok"] == (code == "normalized-rating")


def test_invisible_characters_in_a_priority(tmp_path, filled):
    data = set_named_value(filled, "priority_1_1", "Hig\u200bh")
    data = set_named_value(data, "priority_1_2", "Lo\u2028w")
    report = check_json(write(tmp_path, data))
    (invalid,) = problems_of(report, "invalid-priority")
    assert invalid["message"].startswith('the priority of 1.2 is "Lo<U+2028>w", not one of')
    out = consolidate(tmp_path, write(tmp_path, data))
    rows = by_indicator(out)
    assert rows["1.1"]["priority"] == "High"
    assert rows["1.2"]["priority"] == "Lo\u2028w"  # kept as typed


# -- 4. lengths in UTF-16 units --------------------------------------------------------------

def test_long_texts_counted_and_cut_as_excel_does(tmp_path, filled):
    long_text = EMOJI * 17_000  # 17,000 characters, 34,000 UTF-16 units
    fits = "a" + EMOJI * 16_383  # exactly 32,767 units
    data = set_named_xml(filled, "evidence_1_1", f"<is><t>{long_text}</t></is>",
                         ' t="inlineStr"')
    data = set_named_xml(data, "evidence_1_2", f"<is><t>{fits}</t></is>", ' t="inlineStr"')
    report = check_json(write(tmp_path, data))
    (warning,) = problems_of(report, "text-too-long")
    assert (warning["sheet"], warning["cell"]) == ("D1 Leadership", "G4")
    assert warning["message"] == (
        "the evidence of 1.1 is 34,000 characters long as Excel counts them, more than the "
        "32,767 an Excel cell holds: district_summary.xlsx shows its first 32,767, and "
        "ratings.csv and ratings.parquet keep it whole")

    out = consolidate(tmp_path, write(tmp_path, data))
    rows = by_indicator(out)
    assert rows["1.1"]["evidence"] == long_text and rows["1.2"]["evidence"] == fits
    pyarrow = pytest.importorskip("pyarrow.parquet")
    table = pyarrow.read_table(out / "ratings.parquet").to_pydict()
    assert table["evidence"][:2] == [long_text, fits]

    book = openpyxl.load_workbook(out / "district_summary.xlsx")
    # Cut at 32,767 units without splitting an emoji: 16,383 of them (32,766 units).
    for sheet, col in (("Data", 10), ("Evidence", 6)):
        cells = [row[col - 1] for row in book[sheet].iter_rows(values_only=True)]
        assert EMOJI * 16_383 in cells, sheet
        assert fits in cells, sheet
    assert book["Overview"]["A4"].value == (
        "1 text is longer than the 32,767 characters an Excel cell holds: this workbook shows "
        "the first 32,767 of each, and ratings.csv and ratings.parquet have them whole "
        "(Problems lists each as text-too-long).")
    with zipfile.ZipFile(out / "district_summary.xlsx") as z:
        for name in z.namelist():
            z.read(name).decode("utf-8")  # strict: a lone surrogate would not decode


def test_no_overview_note_when_nothing_is_cut(tmp_path, filled):
    out = consolidate(tmp_path, write(tmp_path, filled))
    assert openpyxl.load_workbook(out / "district_summary.xlsx")["Overview"][
        "A4"].value is None


# -- times and fractions as Excel (en-US) shows them -----------------------------------------

TEXT_FIELDS = [f"{kind}_{ind}" for kind in ("evidence", "next_steps")
               for ind in ("1_1", "1_2", "1_3", "2_1", "2_2")]


def shown_in_ratings(tmp_path, filled, cases) -> list[str]:
    """Put each (format, raw <v>) of `cases` into its own text field (ten to a return),
    consolidate, and give what ratings.csv shows for each case, in order."""
    shown = []
    for first in range(0, len(cases), len(TEXT_FIELDS)):
        batch = cases[first:first + len(TEXT_FIELDS)]
        data, styles = add_number_formats(filled, [fmt for fmt, _, _ in batch])
        for name, (_, raw, _), style in zip(TEXT_FIELDS, batch, styles, strict=False):
            data = set_named_xml(data, name, f"<v>{raw}</v>", f' s="{style}"')
        folder = tmp_path / f"batch{first}"
        folder.mkdir()
        rows = by_indicator(consolidate(folder, write(folder, data)))
        shown += [rows[name[-3:].replace("_", ".")][name[:-4]]
                  for name in TEXT_FIELDS[:len(batch)]]
    return shown


TIMES = [
    (18, "0.35416666666666669", "8:30 AM"),  # h:mm AM/PM
    (19, "0.60422453703703704", "2:30:05 PM"),  # h:mm:ss AM/PM, 14:30:05
    (20, "0.35484953703703705", "8:30"),  # h:mm: 8:30:59 is cut to the minute, not rounded
    (21, "0.60422453703703704", "14:30:05"),  # h:mm:ss
    (45, "0.60422453703703704", "30:05"),  # mm:ss: minutes and seconds only
    (46, "1.5", "36:00:00"),  # [h]:mm:ss: elapsed hours
    (47, "0.00035995370370370", "00:31.1"),  # mm:ss.0 (ECMA writes it "mmss.0")
    ("hh:mm AM/PM", "0", "12:00 AM"),  # midnight on a 12-hour clock
    ("h:mm A/P", "0.75", "6:00 P"),
    ("m/d/yy h:mm AM/PM", "45717.5625", "2025-03-01 1:30 PM"),  # the day stays ISO
    ("h:mm am/pm", "0.5", "12:00 pm"),  # noon is PM; the letters as the format writes them
    ("[mm]:ss", "0.0625", "90:00"),  # elapsed minutes
    ("[ss]", "0.0625", "5400"),  # elapsed seconds
    ("yyyy-mm-dd hh:mm", "45717.0625", "2025-03-01 01:30"),
]


def test_times_are_shown_as_their_format_shows_them(tmp_path, filled):
    got = shown_in_ratings(tmp_path, filled, TIMES)
    assert got == [expected for _, _, expected in TIMES]


FRACTIONS = [
    (12, "1.5", "1 1/2"),  # # ?/?
    (12, "0.75", "3/4"),  # no whole part: "#" shows nothing
    (12, "2", "2"),  # a whole number: the fraction is left blank
    (12, "1.3333", "1 1/3"),
    (12, "0.99", "1"),  # 1 is closer than 8/9
    (13, "0.123", "8/65"),  # # ??/??: the closest fraction with a denominator up to 99
    (13, "0.99", "98/99"),
    ("# ?/8", "1.45", "1 4/8"),  # a fixed denominator: 3.6 eighths round to 4, not reduced
    ("?/?", "1.5", "3/2"),  # no whole part in the format: an improper fraction
    (12, "-1.5", "'-1 1/2"),  # ratings.csv escapes a leading "-" with "'"
    (12, "0", "0"),
    ("# ?/? \"cups\"", "2.25", "2 1/4 cups"),
]


def test_fractions_are_shown_as_their_format_shows_them(tmp_path, filled):
    got = shown_in_ratings(tmp_path, filled, FRACTIONS)
    assert got == [expected for _, _, expected in FRACTIONS]


def test_an_error_cell_without_a_value_is_not_given_one(tmp_path, filled):
    # <c t="e"/> names no error: nothing may invent "#N/A" for it; it shows nothing.
    sheet, ref = named_cell(filled, "evidence_1_2")
    data = set_cell_xml(filled, sheet, ref, f'<c r="{ref}" t="e"/>')
    sheet, ref = named_cell(data, "next_steps_2_1")
    data = set_cell_xml(data, sheet, ref, f'<c r="{ref}" t="e"><v></v></c>')
    report = check_json(write(tmp_path, data))
    assert report["ok"]
    warnings = problems_of(report, "error-value")
    assert [(w["sheet"], w["cell"]) for w in warnings] == [
        ("D1 Leadership", "G5"), ("D2 Partnerships", "H4")]
    assert warnings[0]["message"] == ("the evidence of 1.2 is marked as an error value but "
                                      "holds no error text; it was read as empty")
    assert "#N/A" not in json.dumps(report)
    out = consolidate(tmp_path, write(tmp_path, data))
    rows = by_indicator(out)
    assert (rows["1.2"]["evidence"], rows["2.1"]["next_steps"]) == ("", "")
    assert rows["1.2"]["next_steps"] == "Next for 1.2"  # the neighbours are untouched
    assert rows["2.1"]["evidence"] == "Evidence for 2.1"


def test_a_huge_number_in_a_fixed_format_is_shown_not_a_crash(tmp_path, filled):
    data, (two_places,) = add_number_formats(filled, ["0.00"])
    data = set_named_xml(data, "evidence_1_1", "<v>1E+30</v>", f' s="{two_places}"')
    report = check_json(write(tmp_path, data))
    assert report["ok"] and report["rated"] == 5
    rows = by_indicator(consolidate(tmp_path, write(tmp_path, data)))
    assert rows["1.1"]["evidence"] == "1000000000000000000000000000000.00"


def test_single_quoted_cell_attributes_are_read(tmp_path, filled):
    sheet, ref = named_cell(filled, "evidence_1_1")
    data = set_cell_xml(filled, sheet, ref, f"<c r='{ref}' t='e'><v>#N/A</v></c>")
    report = check_json(write(tmp_path, data))
    warnings = problems_of(report, "error-value")
    assert [(w["cell"], w["message"]) for w in warnings] == [
        ("G4", "the evidence of 1.1 shows the error value #N/A; it was kept as that text")]
