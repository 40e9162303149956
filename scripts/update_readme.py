"""Regenerate the parts of README.md that come from the code: CLI help and problem codes.

    python scripts/update_readme.py          # rewrite README.md in place
    python scripts/update_readme.py --check  # exit 1 if README.md is out of date

tests/test_readme.py runs the same comparison, so the README cannot drift from `--help`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner

from workbook_tool.cli import main
from workbook_tool.problems import CODES

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = ["", "rubric check", "rubric show", "generate", "check", "team", "consolidate",
            "demo"]
WIDTH = 90


def help_text(command: str) -> str:
    args = [*command.split(), "--help"]
    result = CliRunner().invoke(main, args, prog_name="workbook-tool", terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    return result.output.rstrip() + "\n"


def codes_table() -> str:
    lines = ["| code | severity | what it means | what the site should do |",
             "|---|---|---|---|"]
    for code in CODES.values():
        lines.append(f"| `{code.name}` | {code.severity} | {code.cause} | {code.fix} |")
    return "\n".join(lines) + "\n"


def generated_blocks() -> dict[str, str]:
    blocks = {f"help:{c or 'main'}": f"```text\n{help_text(c)}```\n" for c in COMMANDS}
    blocks["codes"] = codes_table()
    return blocks


def render(text: str) -> str:
    for key, body in generated_blocks().items():
        pattern = re.compile(
            rf"(<!-- BEGIN {re.escape(key)} -->\n).*?(<!-- END {re.escape(key)} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no block for {key}")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def main_script() -> int:
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in sys.argv:
        if wanted != current:
            print("README.md is out of date: run python scripts/update_readme.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main_script())
