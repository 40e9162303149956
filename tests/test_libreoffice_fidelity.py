"""Typing into the text-formatted input cells with a real LibreOffice keeps the text typed.

A person types `1.10`, `87%` or `00123` into an evidence cell; in a General cell LibreOffice
would turn them into the numbers 1.1, 0.87 and 123. Typing is mimicked with the .uno:EnterString
command on the selected cell, the path of the input line (it honours the cell's format and
its protection), not setString (which stores text whatever it looks like) nor setFormula
(which parses numbers in English whatever the cell's format: observed with LibreOffice 7.4,
it makes 0.87 of "87%" even in a text-formatted cell). The same inputs typed into a cell that is not
text-formatted become numbers: the control case shows setFormula really interprets them.
Reuses tests/lo_uno.py (its Office, named_cell and props) and test_libreoffice.py's skip logic.
"""

from __future__ import annotations

import csv
import json
import subprocess
import textwrap
from pathlib import Path

from click.testing import CliRunner

import test_libreoffice as lo
from workbook_tool.cli import main
from workbook_tool.roster import School
from workbook_tool.writer import Issue, build_workbook

pytestmark = lo.pytestmark

TYPED = {"evidence_1_1": "1.10", "next_steps_1_1": "87%", "evidence_1_2": "00123",
         "next_steps_1_2": "Mar-25"}

# Run by Debian's Python (which has `uno`): type each value into its named cell, then type
# the same values into a cell of a scratch sheet (General format, removed before saving)
# and report what LibreOffice made of them there.
_TYPE_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    import lo_uno
    import uno
    src, dst, profile = Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[5])
    values = json.loads(sys.argv[4])
    report = {"general": {}}
    with lo_uno.Office(profile, 90) as office:
        doc = office.load(src)
        try:
            # .uno:EnterString enters text as the input line does when a person types.
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local)
            ctx = resolver.resolve(
                f"uno:pipe,name={office.pipe};urp;StarOffice.ComponentContext")
            helper = ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.DispatchHelper", ctx)
            controller = doc.getCurrentController()
            frame = controller.getFrame()

            def type_into(cell, text):
                controller.select(cell)
                helper.executeDispatch(frame, ".uno:EnterString", "", 0,
                                       lo_uno.props(StringName=text))

            for name, text in values.items():
                cell, addr = lo_uno.named_cell(doc, name)
                controller.setActiveSheet(doc.Sheets.getByIndex(addr.Sheet))
                type_into(cell, text)
                report.setdefault("typed", {})[name] = [cell.getType().value, cell.getString()]
            doc.Sheets.insertNewByName("Scratch", doc.Sheets.getCount())
            sheet = doc.Sheets.getByName("Scratch")  # unprotected, its cells General
            controller.setActiveSheet(sheet)
            scratch = sheet.getCellByPosition(0, 0)
            for text in values.values():
                type_into(scratch, text)
                report["general"][text] = scratch.getType().value
            doc.Sheets.removeByName("Scratch")
            doc.storeToURL(dst.resolve().as_uri(),
                           lo_uno.props(FilterName=lo_uno.XLSX_FILTER, Overwrite=True))
        finally:
            doc.close(True)
    print(json.dumps(report))
""")


def test_typed_numbers_stay_text_through_consolidate(tmp_path, rubric):
    school = School("S-101", "Lincoln High School")
    generated = tmp_path / "S-101_lincoln.xlsx"
    generated.write_bytes(build_workbook(rubric, school, Issue("2026-27")))
    filled = tmp_path / "returns" / "S-101_filled.xlsx"
    filled.parent.mkdir()
    result = subprocess.run(
        [lo.SYSTEM_PYTHON, "-c", _TYPE_SCRIPT, str(Path(lo.__file__).parent), str(generated),
         str(filled), json.dumps(TYPED), str(tmp_path / "profile")],
        capture_output=True, text=True, timeout=lo.TIMEOUT, env=lo._clean_env(), check=False)
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    # The control: in a General cell, typing makes numbers of three of them (VALUE).
    assert [report["general"][t] for t in ("1.10", "87%", "00123")] == ["VALUE"] * 3

    roster = tmp_path / "roster.csv"
    roster.write_text("school_id,school_name\nS-101,Lincoln High School\n", encoding="utf-8")
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["consolidate", str(filled.parent), "--roster", str(roster),
                                    "--out", str(out), "--cycle", "2026-27", "-q"])
    assert run.exit_code == 0, run.output
    with open(out / "ratings.csv", newline="", encoding="utf-8-sig") as fh:
        rows = {r["indicator_id"]: r for r in csv.DictReader(fh)}
    assert (rows["1.1"]["evidence"], rows["1.1"]["next_steps"]) == ("1.10", "87%")
    assert (rows["1.2"]["evidence"], rows["1.2"]["next_steps"]) == ("00123", "Mar-25")
