"""CI cannot skip: with CI=true, tests/conftest.py turns every skip into a failure.

Each case runs a real pytest, in a subprocess, on a tiny test file, with this suite's
conftest loaded as a plugin, and compares pytest's summary line with literal counts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

TINY = '''
import pytest

def test_pass():
    pass

def test_skip_call():
    pytest.skip("no tool")

@pytest.mark.skipif(True, reason="no soffice")
def test_skipif():
    pass

def test_importorskip():
    pytest.importorskip("no_such_module_for_the_ci_test")

@pytest.mark.xfail(strict=True, reason="a known bug")
def test_xfail():
    assert False
'''

MODULE_SKIP = '''
import pytest

pytest.skip("a tool the whole module needs is missing", allow_module_level=True)

def test_never_runs():
    pass
'''


def run_pytest(folder: Path, ci: str | None, *files: str) -> tuple[int, str, str]:
    """(exit code, summary line, whole output) of pytest over `files` in `folder`."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider",
         "-q", "-rA", *files],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    lines = [line.strip("= ") for line in result.stdout.splitlines() if line.strip()]
    summary = re.sub(r" in [0-9.]+s.*$", "", lines[-1])
    return result.returncode, summary, result.stdout


def make_files(folder: Path) -> Path:
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not our pyproject
    (folder / "test_tiny.py").write_text(TINY, encoding="utf-8")
    (folder / "test_module_skip.py").write_text(MODULE_SKIP, encoding="utf-8")
    return folder


def test_outside_ci_skips_stay_skips(tmp_path):
    folder = make_files(tmp_path)
    code, summary, _ = run_pytest(folder, None, "test_tiny.py", "test_module_skip.py")
    assert (code, summary) == (0, "1 passed, 4 skipped, 1 xfailed")
    code, summary, _ = run_pytest(folder, "false", "test_tiny.py")
    assert (code, summary) == (0, "1 passed, 3 skipped, 1 xfailed")


def test_in_ci_every_skip_fails_with_its_reason(tmp_path):
    folder = make_files(tmp_path)
    code, summary, out = run_pytest(folder, "true", "test_tiny.py")
    # skip() and importorskip() fail in the test; a skip mark fails in setup (an error).
    assert (code, summary) == (1, "2 failed, 1 passed, 1 xfailed, 1 error")
    assert "0 skipped" not in summary and "skipped" not in summary
    assert "FAILED test_tiny.py::test_skip_call - skipped in CI: no tool." in out
    assert "ERROR test_tiny.py::test_skipif - skipped in CI: no soffice." in out
    assert "FAILED test_tiny.py::test_importorskip - skipped in CI: could not import" in out
    assert "install what it needs" in out


def test_in_ci_a_module_level_skip_fails_the_collection(tmp_path):
    folder = make_files(tmp_path)
    code, summary, out = run_pytest(folder, "TRUE", "test_module_skip.py")
    assert (code, summary) == (2, "1 error")  # pytest stops: an error during collection
    assert "skipped in CI: a tool the whole module needs is missing." in out
