"""What the district can rely on whatever arrives: bounded, no traceback, nothing lost.

The hostile corpus of test_hostile.py goes through the real command line here, mixed with
good returns, in a separate process so its memory can be measured.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from returns_kit import SMALL_RUBRIC, answers_for, make_return, small_rubric
from test_hostile import bomb, cases
from workbook_tool.cli import main
from workbook_tool.roster import School

MIB = 2**20
ROSTER = "school_id,school_name\nS1,Alpha School\nS2,Beta School\nS3,Gamma School\n"


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory):
    """Two good returns and every hostile file, as district staff would receive them."""
    root = tmp_path_factory.mktemp("mailbox")
    rubric = small_rubric()
    good = make_return(rubric, answers=answers_for(rubric))
    returns = root / "returns"
    returns.mkdir()
    (returns / "S1.xlsx").write_bytes(good)
    s2 = make_return(rubric, school=School("S2", "Beta School"), answers=answers_for(rubric))
    (returns / "S2.xlsx").write_bytes(s2)
    expected = {}
    for case, name, data, code, _phrase in cases(good):
        if name.startswith(("~$", ".~lock")):
            continue  # skipped by name inside folders; test_consolidate covers that
        file = returns / f"{case}-{name}"
        file.write_bytes(data)
        expected[file.name] = code
    (returns / "bomb.xlsx").write_bytes(bomb(201 * MIB))
    expected["bomb.xlsx"] = "too-large"
    roster = root / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    return {"root": root, "returns": returns, "roster": roster, "expected": expected}


def _run_cli(args: list[str], timeout: float = 120) -> tuple[subprocess.CompletedProcess, int]:
    """Run workbook-tool in a child process; return it and the children's peak RSS in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "workbook_tool", *args], capture_output=True,
                          text=True, timeout=timeout)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return proc, max(peak, before) // 1024


def test_hostile_mailbox_through_the_cli(mailbox, tmp_path):
    before = _hashes(mailbox["returns"])
    out = tmp_path / "summary"
    start = time.perf_counter()
    proc, peak_mib = _run_cli(["consolidate", str(mailbox["returns"]), "--roster",
                               str(mailbox["roster"]), "--out", str(out), "--rubric",
                               str(SMALL_RUBRIC), "--jobs", "1"])
    elapsed = time.perf_counter() - start
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert elapsed < 60
    assert peak_mib < 300, f"peak RSS {peak_mib} MiB"
    assert _hashes(mailbox["returns"]) == before
    with open(out / "returns.csv", encoding="utf-8") as f:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(f) if r["file"]}
    with open(out / "problems.csv", encoding="utf-8") as f:
        problems = list(csv.DictReader(f))
    assert rows["S1.xlsx"]["status"] == "accepted"
    assert rows["S2.xlsx"]["status"] == "accepted"
    for name, code in mailbox["expected"].items():
        assert rows[name]["status"] == "rejected", name
        found = [p["code"] for p in problems if Path(p["file"]).name == name]
        assert found == [code], (name, found)
        message = next(p["message"] for p in problems if Path(p["file"]).name == name)
        assert message and "Traceback" not in message


def test_check_never_shows_a_traceback(mailbox):
    files = sorted(str(p) for p in mailbox["returns"].iterdir())
    result = CliRunner().invoke(main, ["check", *files, "--rubric", str(SMALL_RUBRIC)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.count("REJECTED") == len(mailbox["expected"])


def test_failed_run_keeps_previous_outputs(mailbox, tmp_path, monkeypatch):
    out = tmp_path / "summary"
    args = ["consolidate", str(mailbox["returns"] / "S1.xlsx"), "--roster",
            str(mailbox["roster"]), "--out", str(out), "--rubric", str(SMALL_RUBRIC)]
    assert CliRunner().invoke(main, args).exit_code == 0
    previous = _hashes(out)

    import workbook_tool.summary.workbook as summary_workbook

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(summary_workbook, "write_summary_workbook", broken)
    monkeypatch.setattr("workbook_tool.summary.write_summary_workbook", broken)
    args[1] = str(mailbox["returns"] / "S2.xlsx")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "No space left on device" in result.output
    assert _hashes(out) == previous  # every output, CSVs included, is the previous run's
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(p).name for p in previous)


# Run by a child Python: the CLI, whose process dies (os._exit: no cleanup, no finally) at
# the k-th rename of the outputs' commit, the first being the commit marker's.
_DIE_AT_RENAME = """
import os, sys
from workbook_tool import staging
from workbook_tool.cli import main

at, calls, real = int(sys.argv[1]), [0], os.replace


class Dying:
    def __getattr__(self, name):
        return dying_replace if name == "replace" else getattr(os, name)


def dying_replace(*args, **kwargs):
    calls[0] += 1
    if calls[0] == at:
        os._exit(9)
    return real(*args, **kwargs)


staging.os = Dying()
sys.argv = ["workbook-tool", *sys.argv[2:]]
main()
"""


def _returns_files(out: Path) -> list[str]:
    with open(out / "returns.csv", encoding="utf-8", newline="") as f:
        return sorted(Path(r["file"]).name for r in csv.DictReader(f) if r["file"])


def test_a_process_killed_at_each_rename_leaves_one_whole_set(mailbox, tmp_path):
    """A real process death at every rename of the commit, in turn (no timing involved):
    before the marker the old set stays; after it, the next run completes the new set."""
    first = mailbox["root"] / "first"
    if not first.exists():
        first.mkdir()
        (first / "S1.xlsx").write_bytes((mailbox["returns"] / "S1.xlsx").read_bytes())
    both = mailbox["root"] / "both"
    if not both.exists():
        both.mkdir()
        for name in ("S1.xlsx", "S2.xlsx"):
            (both / name).write_bytes((mailbox["returns"] / name).read_bytes())
    base = ["--roster", str(mailbox["roster"]), "--rubric", str(SMALL_RUBRIC), "--jobs", "1",
            "--quiet"]
    renames = 1 + 4 + (1 if importlib.util.find_spec("pyarrow") else 0)  # marker + outputs
    for at in range(1, renames + 1):
        out = tmp_path / f"out{at}"
        assert _run_cli(["consolidate", str(first), "--out", str(out), *base])[0].returncode == 0
        old = _hashes(out)
        killed = subprocess.run(
            [sys.executable, "-c", _DIE_AT_RENAME, str(at), "consolidate", str(both),
             "--out", str(out), *base], capture_output=True, timeout=120, check=False)
        assert killed.returncode == 9, killed.stderr
        if at == 1:  # died renaming the marker into place: nothing was decided
            visible = {k: v for k, v in _hashes(out).items() if "/." not in k}
            assert visible == old
        # The next run, even one that stops at once (a bad roster), settles the folder.
        bad = tmp_path / "bad.csv"
        bad.write_text("name\n", encoding="utf-8")
        proc, _ = _run_cli(["consolidate", str(both), "--out", str(out), "--roster", str(bad),
                            "--rubric", str(SMALL_RUBRIC)])
        assert proc.returncode == 2
        expected = ["S1.xlsx"] if at == 1 else ["S1.xlsx", "S2.xlsx"]
        assert _returns_files(out) == expected, at
        with open(out / "ratings.csv", encoding="utf-8", newline="") as f:
            schools = sorted({r["school_id"] for r in csv.DictReader(f)})
        assert schools == ([s[:2] for s in expected]), at
        summary = (out / "district_summary.xlsx").read_bytes()
        assert summary[:2] == b"PK" and summary[-22:-18] == b"PK\x05\x06"
        assert not [p for p in out.iterdir() if p.name.startswith(".")], at


def test_damaged_member_of_an_archive_is_reported(mailbox, tmp_path):
    """A member whose compressed bytes are damaged cannot be inflated: a problem, no crash."""
    good = (mailbox["returns"] / "S1.xlsx").read_bytes()
    archive = tmp_path / "returns.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("S1.xlsx", good)
    raw = bytearray(archive.read_bytes())
    start = raw.index(b"S1.xlsx") + len("S1.xlsx")  # the member's data follows its name
    raw[start + 200:start + 400] = bytes(200)
    archive.write_bytes(bytes(raw))
    result = CliRunner().invoke(main, ["consolidate", str(archive), "--roster",
                                       str(mailbox["roster"]), "--out", str(tmp_path / "o"),
                                       "--rubric", str(SMALL_RUBRIC), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    (row,) = [r for r in report["returns"] if r["file"]]
    assert row["file"] == f"{archive}!S1.xlsx" and row["status"] == "rejected"
    assert [p["code"] for p in report["problems"]] == ["unreadable"]
