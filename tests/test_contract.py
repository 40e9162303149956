"""docs/contract.md and the code say the same thing, and the contract itself does not drift.

Two kinds of checks: the page must mention what the code has (every code, column, command,
option, name and key), and the code must still have what the contract fixes, written here
as literals, so a change in the code that breaks the contract fails even if the page is
changed along with it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from workbook_tool import cli, consolidate, layout, problems
from workbook_tool.cli import main
from workbook_tool.files import csv_safe
from workbook_tool.generate import MANIFEST, MANIFEST_COLUMNS
from workbook_tool.summary import (
    PROBLEMS_CSV,
    RATINGS_CSV,
    REPORT_HTML,
    REPORT_PDF,
    RETURNS_CSV,
    SCORES_CSV,
    SUMMARY_XLSX,
)
from workbook_tool.summary.exports import RATINGS_PARQUET

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")

# -- the fixed contract, as literals ---------------------------------------------------

RATINGS = ("school_id", "school_name", "network", "cycle", "domain_id", "indicator_id",
           "indicator", "level", "label", "evidence", "next_steps", "priority", "source_file",
           "previous_level", "review", "followup")
RETURNS = ("school_id", "school_name", "file", "sha256", "status", "rated", "total", "errors",
           "warnings")
PROBLEMS = ("file", "school_id", "sheet", "cell", "code", "severity", "message")
MANIFEST_FIELDS = ("school_id", "school_name", "file", "sha256")
STATUSES = ("accepted", "accepted_with_warnings", "rejected", "duplicate", "conflict", "missing")

# Stable codes: more may be added, none may go or change severity.
CODES = {
    "not-xlsx": "error", "encrypted": "error", "too-large": "error", "unsafe-xml": "error",
    "not-a-return": "error", "wrong-rubric": "error", "unknown-school": "error",
    "wrong-cycle": "error", "missing-cell": "error", "misplaced-cell": "error",
    "invalid-rating": "error", "normalized-rating": "warning", "unrated": "warning",
    "formula-value": "warning", "school-mismatch": "error", "invalid-priority": "warning",
    "text-too-long": "warning", "error-value": "warning", "macros-ignored": "warning",
    "duplicate": "warning", "conflict": "error", "unreadable": "error",
    "not-agreed": "warning", "agreed-outside-range": "warning",
    "invalid-rater-rating": "warning",
}

# Commands and the options the contract names (commands may have more options).
COMMANDS = {
    "rubric check": set(),
    "rubric show": {"--rubric", "--json"},
    "generate": {"--out", "--rubric", "--cycle", "--domains", "--jobs", "--raters"},
    "team": {"--out", "--rubric", "--json"},
    "check": {"--rubric", "--json"},
    "consolidate": {"--roster", "--out", "--rubric", "--cycle", "--json", "--jobs"},
    "demo": {"--out"},
}

META_KEYS = ("workbook_tool_format", "rubric_id", "rubric_version", "rubric_fingerprint",
             "school_id", "school_name", "cycle", "domains", "raters", "previous_cycle",
             "previous_rubric_version")
PROPERTY_KEYS = ("workbook_tool_format", "rubric_id", "rubric_version", "rubric_fingerprint",
                 "school_id", "cycle", "raters")


# -- reading the page --------------------------------------------------------------------

def section(heading: str) -> str:
    """The text under the first heading that starts with `heading`, up to the next heading
    of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = DOC.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    end = len(lines)
    for i in range(start + 1, len(lines)):
        match = re.match(r"(#+) ", lines[i])
        if match and len(match.group(1)) <= level:
            end = i
            break
    return "\n".join(lines[start:end])


def table(text: str) -> list[list[str]]:
    """The body rows of the markdown tables in `text`, cells stripped of backticks."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"\|\s*-", line):
            rows.append([c.strip().strip("`") for c in line.strip().strip("|").split("|")])
    return rows[1:] if rows else rows


def bullet(text: str, starts: str) -> str:
    """One list item of `text` (with its continuation lines) that starts with `starts`."""
    match = re.search(rf"^- {re.escape(starts)}.*?(?=^- |^#|\Z)", text, re.M | re.S)
    assert match, f"no bullet starting {starts!r}"
    return match.group(0)


def identifiers(text: str) -> list[str]:
    return re.findall(r"`([a-z][a-z0-9_]*)`", text)


# -- problem codes -----------------------------------------------------------------------

def test_every_code_is_in_the_table_with_its_severity():
    documented = {row[0]: row[1] for row in table(section("## Problem codes"))}
    in_code = {name: code.severity for name, code in problems.CODES.items()}
    assert documented == in_code  # none missing, none unknown, same severities


def test_the_stable_codes_are_still_there():
    in_code = {name: code.severity for name, code in problems.CODES.items()}
    assert CODES.items() <= in_code.items()
    assert (problems.ERROR, problems.WARNING) == ("error", "warning")


# -- columns, statuses, files ----------------------------------------------------------

@pytest.mark.parametrize(("columns", "fixed"), [
    (consolidate.RATINGS_COLUMNS, RATINGS),
    (consolidate.RETURNS_COLUMNS, RETURNS),
    (consolidate.PROBLEMS_COLUMNS, PROBLEMS),
    (MANIFEST_COLUMNS, MANIFEST_FIELDS),
    (consolidate.SCORES_COLUMNS, ("school_id", "school_name", "network", "cycle", "points",
                                  "max_points", "rated", "total", "tier")),
])
def test_columns_are_fixed_and_documented_in_order(columns, fixed):
    assert columns == fixed
    assert f"`{', '.join(columns)}`" in DOC


def test_statuses_are_fixed_and_documented_in_order():
    assert consolidate.STATUSES == STATUSES
    assert [row[0] for row in table(section("### Statuses"))] == list(STATUSES)


def test_output_file_names():
    names = (SUMMARY_XLSX, RATINGS_CSV, RATINGS_PARQUET, RETURNS_CSV, PROBLEMS_CSV, MANIFEST,
             REPORT_HTML, REPORT_PDF, SCORES_CSV)
    assert names == ("district_summary.xlsx", "ratings.csv", "ratings.parquet",
                     "returns.csv", "problems.csv", "manifest.csv", "district_report.html",
                     "district_report.pdf", "scores.csv")
    for name in names:
        assert f"`{name}`" in DOC, name


def test_csv_escaping_rule():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_safe(f"{start}1+1") == f"'{start}1+1"
    for text in ("1+1", "a=b", " =x", "'=x", ""):
        assert csv_safe(text) == text
    rule = section("### CSV files")
    assert "`=`, `+`, `-`, `@`, a tab or a carriage return" in rule


# -- commands and options ----------------------------------------------------------------

def commands(group: click.Group = main, path: tuple[str, ...] = ()):
    """(path, command) for every command under the `workbook-tool` group."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def usage_arguments(path: str) -> str:
    """`FILES...` from `Usage: workbook-tool check [OPTIONS] FILES...`."""
    result = CliRunner().invoke(main, [*path.split(), "--help"], prog_name="workbook-tool")
    assert result.exit_code == 0, result.output
    usage = result.output.splitlines()[0]
    assert usage.startswith(f"Usage: workbook-tool {path} [OPTIONS]"), usage
    return usage.split("[OPTIONS]", 1)[1].strip()


def long_and_short(command: click.Command) -> set[str]:
    return {opt for p in command.params if isinstance(p, click.Option)
            for opt in (*p.opts, *p.secondary_opts) if opt not in ("-h", "--help")}


def test_the_commands_and_options_the_contract_names_exist():
    found = dict(commands())
    assert set(COMMANDS) <= set(found)
    for path, options in COMMANDS.items():
        assert options <= long_and_short(found[path]), path
    assert (cli.EXIT_OK, cli.EXIT_PROBLEMS, cli.EXIT_USAGE) == (0, 1, 2)


def test_every_command_and_option_is_documented():
    for path, command in commands():
        heading = f"### `workbook-tool {path}"
        arguments = usage_arguments(path)
        if arguments:
            heading += f" {arguments}"
        text = section(heading)  # raises StopIteration when the heading is missing
        for option in long_and_short(command):
            assert f"`{option}" in text, (path, option)
    assert "`workbook-tool --version`" in section("## Commands")


def json_keys(text: str) -> list[str]:
    return re.findall(r"`([a-z_0-9]+)`", text)


def test_json_documents_have_the_documented_keys(tmp_path):
    returns = ROOT / "samples" / "returns"
    one = sorted(returns.glob("*.xlsx"))[0]
    checked = CliRunner().invoke(main, ["check", str(one), "--json"])
    (report,) = json.loads(checked.stdout)["files"]
    fixed = ["file", "sha256", "school_id", "school_name", "cycle", "ok", "rated", "total",
             "errors", "warnings", "problems", "flagged"]
    assert list(report) == fixed
    documented = bullet(section("### `workbook-tool check"), "`--json`")
    assert [k for k in json_keys(documented) if k in fixed] == fixed

    result = CliRunner().invoke(main, ["consolidate", str(returns), "--roster",
                                       str(ROOT / "samples" / "roster.csv"), "--out",
                                       str(tmp_path / "out"), "--json"])
    document = json.loads(result.stdout)
    fixed = ["rubric", "cycle", "counts", "returns", "problems", "skipped", "ignored",
             "ignored_files", "outputs"]
    assert list(document) == fixed
    assert list(document["rubric"]) == ["id", "version", "fingerprint"]
    assert list(document["returns"][0]) == list(RETURNS)
    assert set(document["problems"][0]) == set(PROBLEMS)  # the same fields, in any order
    documented = bullet(section("### `workbook-tool consolidate"), "`--json`")
    assert [k for k in json_keys(documented) if k in fixed] == fixed


def test_exit_codes_are_documented():
    rows = table(section("### For every command"))
    assert [row[0] for row in rows] == ["0", "1", "2"]


# -- the generated workbook ----------------------------------------------------------------

def test_workbook_names_and_keys_are_fixed():
    assert layout.FORMAT_VERSION == 2
    assert layout.DATA_SHEET == "_workbook_tool"
    assert layout.SCHOOL_NAMES == ("school_id", "school_name", "cycle")
    assert layout.COMPLETED_BY == "completed_by"
    assert layout.INPUT_KINDS == ("rating", "evidence", "next_steps", "priority")
    assert layout.PRIORITIES == ("High", "Medium", "Low")
    assert layout.META_KEYS == META_KEYS
    assert layout.PROPERTY_KEYS == PROPERTY_KEYS
    assert layout.defined_name("next_steps", "5.4") == "next_steps_5_4"


def test_workbook_names_and_keys_are_documented(rubric):
    text = section("## Generated workbook")
    names = bullet(text, "**Defined names**")
    for name in (*layout.SCHOOL_NAMES, layout.COMPLETED_BY):
        assert f"`{name}`" in names, name
    for kind in layout.INPUT_KINDS:
        assert f"`{kind}_D_N`" in names, kind
    assert f"`{layout.defined_name('rating', '1.1')}`" in names
    hidden = bullet(text, f"**Hidden sheet `{layout.DATA_SHEET}`**")
    assert [k for k in identifiers(hidden) if k != layout.DATA_SHEET] == list(layout.META_KEYS)
    properties = bullet(text, "**Custom document properties**")
    assert identifiers(properties) == list(layout.PROPERTY_KEYS)
    assert f"currently {layout.FORMAT_VERSION})" in properties
    validations = bullet(text, "**Validations**")
    assert f"`{','.join(rubric.labels)}`" in validations
    assert f"`{','.join(layout.PRIORITIES)}`" in validations
    sheets = bullet(text, "**Sheets**")
    for sheet in (layout.START_SHEET, layout.SUMMARY_SHEET, layout.GLOSSARY_SHEET,
                  layout.DATA_SHEET):
        assert f"`{sheet}`" in sheets, sheet


def test_no_page_points_outside_the_repository():
    for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        assert "../shared" not in page.read_text(encoding="utf-8"), page.name


def test_report_sections_are_documented_in_order():
    from workbook_tool.summary import report

    ids = [section.__name__ for section in report.SECTIONS]
    assert ids == ["headline", "chase", "spread", "heatmap", "priorities", "trends",
                   "agreement", "scores"]
    documented = re.findall(r"`(\w+)`\s+\(", section("## Consolidation outputs")
                            .split("district_report.html")[1].split("district_report.pdf")[0])
    assert documented == ids
