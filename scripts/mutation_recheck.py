"""Try mutmut's survivors against more test files, all in one process.

mutmut runs each mutant against the tests of its (narrow) selection. To learn whether other
test files kill a survivor, run this inside the mutation folder's `mutants/` directory:

    cd /tmp/workbook-tool-mutation
    python -m mutmut results | grep survived > survivors.txt
    cd mutants && PYTHONPATH=src python ../scripts/mutation_recheck.py ../survivors.txt \
        tests/test_a.py

It prints KILLED or SURVIVED per mutant. PYTHONPATH=src matters: without it the tests
import the installed package, not the mutated copy, and every mutant seems to survive.
mutmut's mutated functions read MUTANT_UNDER_TEST at each call, so one interpreter can try
each mutant in turn; the test files are imported once. Results of code cached across
mutants (functools.cache) may be stale: confirm a surprising survivor in a fresh process.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

import pytest


def run_tests(tests: list[str], mutant: str) -> int:
    os.environ["MUTANT_UNDER_TEST"] = mutant
    with contextlib.redirect_stdout(io.StringIO()):
        return int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests]))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    with open(argv[0], encoding="utf-8") as listing:
        mutants = [line.split(":")[0].strip() for line in listing if line.strip()]
    tests = argv[1:]
    # Unmutated first: if the tests fail without a mutant, no result below means anything.
    if run_tests(tests, "none") != 0:
        print("the tests fail without any mutant", file=sys.stderr)
        return 1
    for mutant in mutants:
        print("KILLED" if run_tests(tests, mutant) else "SURVIVED", mutant, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
