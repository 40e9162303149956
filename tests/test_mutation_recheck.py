"""scripts/mutation_recheck.py: one process tries each listed mutant against test files, as
mutmut's trampolines do, by setting MUTANT_UNDER_TEST before each run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "scripts" / "mutation_recheck.py"

# A stand-in for a mutated module: the name of the active mutant decides the behaviour.
TEST_FILE = '''
import os

def double(x):
    if os.environ.get("MUTANT_UNDER_TEST") == "m.x_double__mutmut_1":
        return x + x + 1
    return x + x

def test_double():
    assert double(2) == 4
'''


def _run(tmp_path: Path, listing: str, test_file: str = TEST_FILE):
    (tmp_path / "test_stand_in.py").write_text(test_file, encoding="utf-8")
    (tmp_path / "survivors.txt").write_text(listing, encoding="utf-8")
    return subprocess.run([sys.executable, str(SCRIPT), "survivors.txt", "test_stand_in.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_each_mutant_is_reported_killed_or_surviving(tmp_path):
    done = _run(tmp_path, "m.x_double__mutmut_1: survived\nm.x_double__mutmut_2: survived\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("KILLED m.x_double__mutmut_1\n"
                           "SURVIVED m.x_double__mutmut_2\n")


def test_tests_failing_without_a_mutant_stop_the_run(tmp_path):
    broken = TEST_FILE.replace("== 4", "== 5")
    done = _run(tmp_path, "m.x_double__mutmut_1\n", broken)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == "the tests fail without any mutant\n"
