"""The Agreement sheet of district_summary.xlsx and agreement.csv, cell by cell.

A small hand-made set of read team returns of the small rubric (1.1 Shared vision,
1.2 Resources, 1.3 Data use, 2.1 Employer partners, 2.2 Family engagement; levels 1 to 3),
consolidated and written; the outputs are read back with openpyxl, zipfile and csv. Every
expected value is a literal worked out by hand from the table below.

    school  raters        1.1    1.2    1.3    2.1    2.2   agreed (1.1 .. 2.1)
    S1      Ana, Ben, Cy  2;2;2  1;;3   1;2;   ;2;2   ;;    2, 2, -, 2
    S2      Dee, Eve      3;3    2;3    1;3    1;3    ;     3, 3, 2, 2
    S3      Fay, Gus      3;     ;      ;      ;      ;     3 (one rater: nothing compared)
    S4      no raters (a plain return): not on the Agreement sheet

    S1: compared 4 (1.1 exact, 1.2 flagged, 1.3 within one, 2.1 exact): exact 2/4,
        within one 3/4, flagged 1 (1.2); raters who rated 3.
    S2: compared 4 (1.1 exact, 1.2 within one, 1.3 flagged, 2.1 flagged): exact 1/4,
        within one 2/4, flagged 2 (1.3, 2.1); raters who rated 2.
    S3: compared 0; raters who rated 1.
    District: 2 schools where 2 raters or more rated; compared 8, exact 3/8 = 0.375,
        within one 5/8 = 0.625, flagged 3.
    Per indicator: 1.1 compared 2, exact 1, within 1, flagged 0; 1.2 2, 0, 0.5, 1;
        1.3 2, 0, 0.5, 1; 2.1 2, 0.5, 0.5, 1; 2.2 0, -, -, 0.

Layout (1-based rows): title 1, note 2, "District" 4, its five figures 5-9 (label merged
over A:B, value in C), "Per indicator" 11, its header 12, indicators 13-17, "Per school"
19, its header 20, one row per team return from 21.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from workbook_tool.consolidate import TextSpill, _share_strings, compared, consolidate
from workbook_tool.reader.model import Answer, ReturnResult, TeamRatings
from workbook_tool.roster import School
from workbook_tool.summary import write_outputs

IDS = ["1.1", "1.2", "1.3", "2.1", "2.2"]
ROSTER = [School("S1", "Alpha School", "East"), School("S2", "Beta School", "West"),
          School("S3", "Cora School", ""), School("S4", "Dale School", "East")]
ACCENT = "FF1F4E79"
NOTE = ("Team returns only. An indicator is compared when at least 2 of a school's raters "
        "rated it. Exact: every rater gave the same level. Within one: highest minus lowest "
        "level is 1 or less. Flagged: 2 levels or more apart, for the team to discuss.")


def team_return(rubric, school_id: str, names: tuple[str, ...], levels: dict[str, tuple],
                agreed: dict[str, int], notes: dict[str, str] | None = None) -> ReturnResult:
    """A read return of the small rubric; a team return when it has rater names."""
    answers = [Answer(i, agreed.get(i), "", f"Evidence {i}", "", "") for i in IDS]
    team = None
    if names:
        team = TeamRatings(names, {i: levels.get(i, (None,) * len(names)) for i in IDS},
                           dict(notes or {}))
    return ReturnResult(f"{school_id}.xlsx", f"sha-{school_id}", school_id, "", "2024-25",
                        rubric.id, rubric.version, rubric.fingerprint, 2, team=team,
                        answers=answers)


def school_1(rubric) -> ReturnResult:
    return team_return(
        rubric, "S1", ("Ana", "Ben", "Cy"),
        {"1.1": (2, 2, 2), "1.2": (1, None, 3), "1.3": (1, 2, None), "2.1": (None, 2, 2)},
        {"1.1": 2, "1.2": 2, "2.1": 2}, {"1.2": "Met twice"})


def school_2(rubric) -> ReturnResult:
    return team_return(rubric, "S2", ("Dee", "Eve"),
                       {"1.1": (3, 3), "1.2": (2, 3), "1.3": (1, 3), "2.1": (1, 3)},
                       {"1.1": 3, "1.2": 3, "1.3": 2, "2.1": 2})


def school_3(rubric) -> ReturnResult:
    return team_return(rubric, "S3", ("Fay", "Gus"), {"1.1": (3, None)}, {"1.1": 3})


def school_4(rubric) -> ReturnResult:
    return team_return(rubric, "S4", (), {}, {"1.1": 1})


def write(results: list[ReturnResult], rubric, out: Path) -> Path:
    # Packed, as consolidate.read_all holds every result.
    run = consolidate([_share_strings(r) for r in results], rubric, ROSTER)
    write_outputs(run, out, ["returns"])
    return out


@pytest.fixture
def out(small_rubric, tmp_path) -> Path:
    return write([school_1(small_rubric), school_2(small_rubric), school_3(small_rubric),
                  school_4(small_rubric)], small_rubric, tmp_path)


@pytest.fixture
def sheet(out):
    return openpyxl.load_workbook(out / "district_summary.xlsx")["Agreement"]


def filled(sheet) -> dict[str, object]:
    return {c.coordinate: c.value for row in sheet.iter_rows() for c in row
            if c.value is not None}


SCHOOL_HEADERS = ["School ID", "School", "Network", "Raters who rated", "Indicators compared",
                  "Share exact", "Share within one", "Flagged", "Flagged indicators"]
INDICATOR_HEADERS = ["ID", "Indicator", "Schools compared", "Share exact", "Share within one",
                     "Flagged"]


def row_cells(row: int, values: list) -> dict[str, object]:
    return {f"{'ABCDEFGHI'[i]}{row}": v for i, v in enumerate(values) if v is not None}


EXPECTED = {
    "A1": "Agreement: how closely each school's raters agreed",
    "A2": NOTE,
    "A4": "District",
    "A5": "Schools where 2 raters or more rated (accepted returns)", "C5": 2,
    "A6": "Indicators compared (all schools)", "C6": 8,
    "A7": "Share exact", "C7": 0.375,
    "A8": "Share within one level", "C8": 0.625,
    "A9": "Flagged (2 levels or more apart)", "C9": 3,
    "A11": "Per indicator (across schools)",
    **row_cells(12, INDICATOR_HEADERS),
    **row_cells(13, ["1.1", "Shared vision", 2, 1, 1, 0]),
    **row_cells(14, ["1.2", "Resources", 2, 0, 0.5, 1]),
    **row_cells(15, ["1.3", "Data use", 2, 0, 0.5, 1]),
    **row_cells(16, ["2.1", "Employer partners", 2, 0.5, 0.5, 1]),
    **row_cells(17, ["2.2", "Family engagement", 0, None, None, 0]),
    "A19": "Per school",
    **row_cells(20, SCHOOL_HEADERS),
    **row_cells(21, ["S1", "Alpha School", "East", 3, 4, 0.5, 0.75, 1, "1.2"]),
    **row_cells(22, ["S2", "Beta School", "West", 2, 4, 0.25, 0.5, 2, "1.3, 2.1"]),
    **row_cells(23, ["S3", "Cora School", None, 1, 0, None, None, 0, None]),
}


def test_every_cell_of_the_agreement_sheet(sheet):
    assert filled(sheet) == EXPECTED


# Number formats of the cells holding figures: counts in General, shares in 0%.
PERCENT = {"C7", "C8", *(f"{c}{r}" for c in "DE" for r in range(13, 17)),
           *(f"{c}{r}" for c in "FG" for r in (21, 22))}
NUMBERS = {"C5", "C6", "C9", *(f"{c}{r}" for c in "CF" for r in range(13, 18)),
           *(f"{c}{r}" for c in "DEH" for r in (21, 22, 23))}


def test_figures_are_centred_numbers_with_shares_as_percent(sheet):
    assert {ref for ref, value in EXPECTED.items()
            if isinstance(value, (int, float))} == PERCENT | NUMBERS
    for ref in sorted(PERCENT | NUMBERS):
        cell = sheet[ref]
        assert cell.data_type == "n", ref
        assert cell.number_format == ("0%" if ref in PERCENT else "General"), ref
        assert cell.alignment.horizontal == "center", ref
        assert cell.alignment.vertical == "top", ref
        assert (cell.font.sz, cell.font.b) == (10, False), ref


def _font(cell) -> tuple:
    color = cell.font.color.rgb if cell.font.color is not None else None
    return (cell.font.name, cell.font.sz, bool(cell.font.b), bool(cell.font.i), color)


def test_text_cells_are_plain_10_point_top_aligned(sheet):
    labels = [f"A{r}" for r in range(5, 10)]
    ids = [f"{c}{r}" for c in "AB" for r in range(13, 18)]
    schools = [f"{c}{r}" for c in "ABC" for r in (21, 22)] + ["A23", "B23"]
    for ref in labels + ids + schools:
        cell = sheet[ref]
        assert cell.data_type == "s", ref
        assert _font(cell)[:4] == ("Calibri", 10, False, False), ref
        assert cell.alignment.vertical == "top", ref
        assert cell.alignment.horizontal is None, ref
        assert not cell.alignment.wrap_text, ref
        assert cell.number_format == "General", ref
    for ref in ("I21", "I22"):  # the flagged indicators wrap
        cell = sheet[ref]
        assert _font(cell)[:4] == ("Calibri", 10, False, False), ref
        assert cell.alignment.wrap_text is True, ref
        assert cell.alignment.vertical == "top", ref


def test_title_note_and_headings_styles(sheet):
    title = sheet["A1"]
    assert _font(title) == ("Calibri", 16, True, False, "FFFFFFFF")
    assert title.fill.fgColor.rgb == ACCENT
    note = sheet["A2"]
    assert _font(note) == ("Calibri", 10, False, True, "FF595959")
    assert note.alignment.vertical == "top"
    for ref in ("A4", "A11", "A19"):
        heading = sheet[ref]
        assert _font(heading) == ("Calibri", 11, True, False, ACCENT), ref
        assert heading.border.bottom.style == "medium", ref
        assert heading.fill.fill_type is None, ref


def test_table_headers_are_white_on_accent_wrapped_and_boxed(sheet):
    refs = [f"{c}12" for c in "ABCDEF"] + [f"{c}20" for c in "ABCDEFGHI"]
    for ref in refs:
        cell = sheet[ref]
        assert _font(cell) == ("Calibri", 10, True, False, "FFFFFFFF"), ref
        assert (cell.fill.fill_type, cell.fill.fgColor.rgb) == ("solid", ACCENT), ref
        assert cell.alignment.wrap_text is True, ref
        assert cell.alignment.vertical == "top", ref
        sides = cell.border
        assert [sides.left.style, sides.right.style, sides.top.style,
                sides.bottom.style] == ["thin"] * 4, ref


def test_row_heights_column_widths_merges_and_filter(sheet):
    # xlsxwriter stores heights in whole pixels: 28 pt = 37 px = 27.75 pt; 30 pt = 40 px.
    heights = {r: d.height for r, d in sheet.row_dimensions.items() if d.height is not None}
    assert heights == {1: 27.75, 12: 30, 20: 30}
    # A width of n characters is stored with 5 pixels of padding: n + 0.7109375.
    widths = [next(d.width for d in sheet.column_dimensions.values() if d.min <= c <= d.max)
              for c in range(1, 10)]
    assert widths == [10.7109375, 40.7109375, 16.7109375, 12.7109375, 12.7109375,
                      12.7109375, 12.7109375, 9.7109375, 40.7109375]
    assert all(d.customWidth for d in sheet.column_dimensions.values())
    assert sorted(str(r) for r in sheet.merged_cells.ranges) == [
        "A1:I1", "A5:B5", "A6:B6", "A7:B7", "A8:B8", "A9:B9"]
    assert sheet.auto_filter.ref == "A20:I23"


def test_the_merged_label_cells_all_carry_the_labels_format(out):
    """Each cell of a merged label range has the label's format, as Excel writes merges."""
    with zipfile.ZipFile(out / "district_summary.xlsx") as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(r'<sheet name="Agreement" [^>]*r:id="([^"]+)"', book).group(1)
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
        xml = z.read(f"xl/{target.lstrip('/').removeprefix('xl/')}").decode()
    style = {ref: s for ref, s in re.findall(r'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"', xml)}
    for row in range(5, 10):
        assert style.get(f"B{row}") == style[f"A{row}"], row


def test_one_team_school_gets_a_filter_over_its_one_row(small_rubric, tmp_path):
    out = write([school_2(small_rubric), school_4(small_rubric)], small_rubric, tmp_path)
    sheet = openpyxl.load_workbook(out / "district_summary.xlsx")["Agreement"]
    assert sheet.auto_filter.ref == "A20:I21"
    assert [sheet.cell(5, 3).value, sheet.cell(6, 3).value, sheet.cell(7, 3).value,
            sheet.cell(8, 3).value, sheet.cell(9, 3).value] == [1, 4, 0.25, 0.5, 2]
    assert [c.value for c in sheet[21]] == ["S2", "Beta School", "West", 2, 4, 0.25, 0.5, 2,
                                            "1.3, 2.1"]
    assert all(c.value is None for c in sheet[22])


def test_agreement_csv_every_row(out):
    with open(out / "agreement.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    s1, s2 = ["S1", "Alpha School", "2024-25"], ["S2", "Beta School", "2024-25"]
    assert rows == [
        ["school_id", "school_name", "cycle", "indicator_id", "raters", "ratings", "median",
         "spread", "exact", "within_one", "flagged", "agreed_level", "agreement_note"],
        [*s1, "1.1", "3", "2;2;2", "2", "0", "1", "1", "0", "2", ""],
        [*s1, "1.2", "2", "1;;3", "2", "2", "0", "0", "1", "2", "Met twice"],
        [*s1, "1.3", "2", "1;2;", "1.5", "1", "0", "1", "0", "", ""],
        [*s1, "2.1", "2", ";2;2", "2", "0", "1", "1", "0", "2", ""],
        [*s2, "1.1", "2", "3;3", "3", "0", "1", "1", "0", "3", ""],
        [*s2, "1.2", "2", "2;3", "2.5", "1", "0", "1", "0", "3", ""],
        [*s2, "1.3", "2", "1;3", "2", "2", "0", "0", "1", "2", ""],
        [*s2, "2.1", "2", "1;3", "2", "2", "0", "0", "1", "2", ""],
    ]


def test_compared_never_reads_texts_spilled_to_disk(small_rubric, monkeypatch):
    """The agreement figures need ids and levels only: with a return's evidence spilled to
    the disk (a large run), comparing its raters must not read the texts back."""
    result = _share_strings(school_1(small_rubric), TextSpill(budget=0))

    def no_disk(self, where):
        raise AssertionError("read the spilled texts back")

    monkeypatch.setattr(TextSpill, "load", no_disk)
    with pytest.raises(AssertionError):
        list(result.answers)  # the texts are on disk indeed
    assert [(one.indicator_id, one.figures.ratings, one.agreed)
            for one in compared(result)] == [
        ("1.1", "2;2;2", 2), ("1.2", "1;;3", 2), ("1.3", "1;2;", None), ("2.1", ";2;2", 2)]


def test_compared_of_answers_not_packed(small_rubric):
    """A result as the reader makes it (a list of Answer objects) compares the same."""
    assert [(one.indicator_id, one.figures.ratings, one.agreed)
            for one in compared(school_2(small_rubric))] == [
        ("1.1", "3;3", 3), ("1.2", "2;3", 3), ("1.3", "1;3", 2), ("2.1", "1;3", 2)]
