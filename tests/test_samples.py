"""The sample returns in samples/ match what the current code generates."""

from __future__ import annotations

import sys

from click.testing import CliRunner

from conftest import ROOT
from workbook_tool.cli import main
from workbook_tool.reader import read_file, read_return

sys.path.insert(0, str(ROOT / "scripts"))
import make_samples


def _facts(result):
    """What a return says, independent of the writer library's exact bytes."""
    return (result.school_id, result.cycle, result.rubric_fingerprint, result.format_version,
            result.answers, sorted((p.code, p.sheet, p.cell) for p in result.problems))


def test_samples_are_current(rubric):
    expected = make_samples.sample_returns()
    folder = ROOT / "samples" / "returns"
    assert sorted(p.name for p in folder.glob("*.xlsx")) == sorted(expected)
    for name, data in expected.items():
        stored = read_file(folder / name, rubric)
        fresh = read_return(data, str(folder / name), rubric)
        assert _facts(stored) == _facts(fresh), (
            f"samples/returns/{name} is stale: run python scripts/make_samples.py")


def test_samples_check_as_documented():
    folder = ROOT / "samples" / "returns"
    result = CliRunner().invoke(main, ["check", *sorted(map(str, folder.glob("*.xlsx")))])
    assert result.exit_code == 1  # the Sunnyside sample carries a typed rating
    assert "108_sunnyside-arts-media-academy.xlsx: REJECTED" in result.output
    assert "invalid-rating" in result.output
    assert "102_roosevelt-early-college-high-school.xlsx: ok" in result.output
