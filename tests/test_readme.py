"""The README documents the code as it is: CLI help, problem codes, quick start."""

from __future__ import annotations

import re
import sys

from conftest import ROOT
from workbook_tool.problems import CODES

sys.path.insert(0, str(ROOT / "scripts"))
import update_readme

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_generated_blocks_are_current():
    assert update_readme.render(README) == README, (
        "README.md is out of date: run python scripts/update_readme.py"
    )


def test_every_problem_code_documented():
    for code in CODES:
        assert f"| `{code}` |" in README


def test_quick_start_is_two_command_lines():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert [c.strip() for c in commands] == [
        "pip install -e . && workbook-tool demo",
        'pip install -e ".[test]" && python -m pytest',
    ]


def test_every_command_and_option_mentioned():
    for option in ("--domains", "--jobs", "--password", "--cycle", "--roster", "--json",
                   "--rubric", "--out", "--max-size", "--quiet"):
        assert option in README
