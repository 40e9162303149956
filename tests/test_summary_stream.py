"""The summary workbook's long sheets, streamed into the file after xlsxwriter saved it."""

from __future__ import annotations

import csv
import importlib.util
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from workbook_tool.pipeline import run_consolidation
from workbook_tool.reader.model import Answer
from workbook_tool.roster import School
from workbook_tool.summary.stream import escape_text
from workbook_tool.writer import Issue, build_workbook

HOSTILE = ["=1+1", " leading and trailing ", "ctrl \x01 char", "literal _x0041_ escape",
           "<r><t>not rich</t></r>", "emoji 🚀 ünï", 'a<b>c&d"e\'f', "line\nbreak\ttab",
           "x" * 3000, "@SUM(1)"]


@pytest.fixture(scope="module")
def summary(small_rubric, tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    returns = root / "returns"
    returns.mkdir()
    roster = [School(f"H{i}", f"School {text[:30]}", "N&<") for i, text in enumerate(HOSTILE)]
    roster.append(School("M1", "Never returned"))
    for i, school in enumerate(roster[:-1]):
        text = HOSTILE[i]
        answers = {}
        for k, ind in enumerate(small_rubric.indicators):
            level = small_rubric.levels[k % len(small_rubric.levels)]
            rated = k % 3 != 2
            answers[ind.id] = Answer(ind.id, level.level if rated else None,
                                     level.label if rated else "", f"{text} {ind.id}", text,
                                     ("High", "Low", "")[k % 3])
        (returns / f"{school.school_id}.xlsx").write_bytes(
            build_workbook(small_rubric, school, Issue("C"), answers=answers))
    (returns / "broken.xlsx").write_bytes(b"not a workbook")
    out = root / "out"
    run_consolidation(small_rubric, roster, [str(returns)], out, jobs=1)
    return out


def _csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_data_sheet_holds_every_rating_as_a_table(summary):
    ratings = _csv(summary / "ratings.csv")
    book = openpyxl.load_workbook(summary / "district_summary.xlsx")
    data = book["Data"]
    (table,) = data.tables.values()
    assert table.ref == f"A1:M{len(ratings)}"
    assert table.autoFilter.ref == table.ref
    assert data.max_row == len(ratings)
    calamine = CalamineWorkbook.from_path(str(summary / "district_summary.xlsx"))
    rows = calamine.get_sheet_by_name("Data").to_python()
    assert len(rows) == len(ratings)
    for got, want in zip(rows, ratings, strict=True):
        # ratings.csv guards formulas with "'"; the workbook holds the text as typed.
        want = [w[1:] if w.startswith("'") and w[1:2] in "=+-@\t\r" else w for w in want]
        assert [str(int(v)) if isinstance(v, float) else v for v in got] == want


def test_hostile_text_stays_text(summary):
    calamine = CalamineWorkbook.from_path(str(summary / "district_summary.xlsx"))
    evidence = calamine.get_sheet_by_name("Evidence").to_python()
    cells = {v for row in evidence for v in row if isinstance(v, str)}
    for text in HOSTILE:
        if text.strip() == text:  # calamine reports the text as stored
            assert any(c.startswith(text) for c in cells), text
    with zipfile.ZipFile(summary / "district_summary.xlsx") as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = b"".join(archive.read(n) for n in sheets)
    assert b"<r><t>not rich" not in xml  # escaped, never raw rich text
    assert b"&lt;r&gt;&lt;t&gt;not rich" in xml
    assert b"_x005F_x0041_" in xml and b"_x0001_" in xml
    assert b'xml:space="preserve"> leading and trailing </t>' in xml


def test_heatmap_legend_and_listings(summary):
    book = openpyxl.load_workbook(summary / "district_summary.xlsx")
    heat = book["Heatmap"]
    schools = len(HOSTILE)
    assert heat.cell(3 + schools, 2).value is None  # the blank row under the table
    assert heat.cell(4 + schools, 2).value.startswith("Levels: 1 = ")
    returns = book["Returns"]
    assert returns.max_row == 1 + len(_csv(summary / "returns.csv")) - 1
    statuses = {returns.cell(r, 5).value for r in range(2, returns.max_row + 1)}
    assert {"rejected", "missing"} <= statuses
    assert isinstance(returns.cell(2, 7).value, int)  # numbers stay numbers
    problems = book["Problems"]
    assert problems.max_row == len(_csv(summary / "problems.csv"))
    assert problems.auto_filter.ref == f"A1:G{problems.max_row}"


def test_escape_text_matches_xlsxwriter():
    from xlsxwriter.xmlwriter import XMLwriter

    writer = XMLwriter()
    for text in [*HOSTILE, "\ufffe", "_x12AB_ and _xZZZZ_"]:
        expected = writer._escape_control_characters(writer._escape_data(text))
        assert escape_text(text) == expected


def test_packed_answers_behave_like_the_list(small_rubric):
    from workbook_tool.consolidate import PackedAnswers
    from workbook_tool.reader import read_return

    school = School("P1", "Packed School")
    answers = {ind.id: Answer(ind.id, 2, small_rubric.levels[1].label, f"ev {ind.id}", "n", "Low")
               for ind in small_rubric.indicators}
    result = read_return(build_workbook(small_rubric, school, Issue("C"), answers=answers),
                         "p.xlsx", small_rubric)
    packed = PackedAnswers(result.answers)
    assert packed == result.answers and list(packed) == result.answers
    assert len(packed) == len(result.answers) and packed[0] == result.answers[0]
    assert packed[1:] == result.answers[1:]
    result.answers = packed
    assert result.rated == len(answers) and result.total == len(answers)


def test_sheets_longer_than_excel_allows_are_cut_and_said(summary, small_rubric, monkeypatch,
                                                          tmp_path):
    """Past Excel's row limit a sheet keeps what fits and the Overview says so."""
    import workbook_tool.summary.stream as stream

    monkeypatch.setattr(stream, "EXCEL_ROWS", 12)
    returns = summary.parent / "returns"
    roster = [School(f"H{i}", f"School {text[:30]}", "N&<") for i, text in enumerate(HOSTILE)]
    out = tmp_path / "out"
    run_consolidation(small_rubric, roster, [str(returns)], out, jobs=1)
    book = openpyxl.load_workbook(out / "district_summary.xlsx")
    assert book["Data"].max_row == 12 and book["Data"].tables["Ratings"].ref == "A1:M12"
    assert book["Evidence"].max_row == 12
    note = book["Overview"]["A4"].value
    assert "Data shows 11 of 50 rows" in note and "Evidence shows 10 of 50 rows" in note
    assert "ratings.csv" in note
    assert len(_csv(out / "ratings.csv")) == 1 + 50


def test_texts_spilled_to_disk_give_the_same_outputs(summary, small_rubric, monkeypatch,
                                                     tmp_path):
    """Past the memory budget evidence lives in a temporary file: outputs do not change."""
    from workbook_tool.consolidate import TextSpill

    returns = summary.parent / "returns"
    roster = [School(f"H{i}", f"School {text[:30]}", "N&<") for i, text in enumerate(HOSTILE)]
    roster.append(School("M1", "Never returned"))
    monkeypatch.setattr(TextSpill, "BUDGET", 100)  # the first return stays in memory
    out = tmp_path / "spilled"
    report = run_consolidation(small_rubric, roster, [str(returns)], out, jobs=1)
    spilled = [r.result.answers for r in report.run.accepted
               if r.result.answers._where is not None]
    assert spilled and len(spilled) < len(report.run.accepted)
    for name in ("ratings.csv", "returns.csv", "problems.csv"):
        assert (out / name).read_bytes() == (summary / name).read_bytes(), name
    for sheet in ("Data", "Evidence", "Priorities", "Heatmap", "Domains", "Indicators"):
        ours = openpyxl.load_workbook(out / "district_summary.xlsx")[sheet]
        theirs = openpyxl.load_workbook(summary / "district_summary.xlsx")[sheet]
        assert [[c.value for c in r] for r in ours.iter_rows()] == [
            [c.value for c in r] for r in theirs.iter_rows()], sheet
    if importlib.util.find_spec("pyarrow"):
        import pyarrow.parquet as pq

        ours = pq.read_table(out / "ratings.parquet")
        assert ours.equals(pq.read_table(summary / "ratings.parquet"))
