#!/usr/bin/env bash
# Mutation testing with mutmut: plant small bugs in the code and check that a test fails.
#
#   bash scripts/mutation.sh                     # every target module
#   bash scripts/mutation.sh layout files        # some of them
#   MAX_CHILDREN=2 bash scripts/mutation.sh summary
#   MUTATION_TESTS="tests/test_catch_layout.py" bash scripts/mutation.sh layout
#
# Targets: reader consolidate summary files roster layout, one file such as
# summary/workbook, or one function such as files:csv_safe or summary/workbook:_indicators. Settings are in pyproject.toml, [tool.mutmut]; docs/testing.md says
# how to read the results and lists the survivors judged equivalent.
#
# The run happens in a copy of the last commit (MUTATION_DIR, default a folder in /tmp), so
# mutmut's `mutants/` folder never lands in the checkout and edits in progress don't break
# the run; MUTATION_SOURCE=worktree copies the working tree instead. The copy is kept
# between runs: mutmut then re-tests only the functions that changed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${MUTATION_DIR:-${TMPDIR:-/tmp}/workbook-tool-mutation}
MAX_CHILDREN=${MAX_CHILDREN:-1}
ALL=(reader consolidate summary files roster layout staging)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

# A fresh copy of the project beside mutmut's records (mutants/), whose tests are recopied.
mkdir -p "$WORK"
find "$WORK" -mindepth 1 -maxdepth 1 ! -name mutants -exec rm -rf {} +
rm -rf "$WORK/mutants/tests"
# MUTATION_FRESH=1: forget which tests reach which function (after changing tests).
[ "${MUTATION_FRESH:-0}" = 1 ] && rm -f "$WORK/mutants/mutmut-stats.json"
if [ "${MUTATION_SOURCE:-HEAD}" = worktree ]; then
    # The tracked and new (not ignored) files, with their times.
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -p -t "$WORK" 2>/dev/null) || true
else
    git -C "$ROOT" archive HEAD | tar -x -C "$WORK"
fi

# MUTATION_TESTS="tests/test_a.py tests/test_b.py" limits the tests mutmut may run: quicker,
# and the score is then a lower bound (other tests might kill more).
if [ -n "${MUTATION_TESTS:-}" ]; then
    selection=$(printf '"%s", ' $MUTATION_TESTS)
    sed -i "s|^pytest_add_cli_args_test_selection = .*|pytest_add_cli_args_test_selection = [${selection%, }]|" \
        "$WORK/pyproject.toml"
fi

patterns=()
for target in "${TARGETS[@]}"; do
    function=""
    if [[ $target == *:* ]]; then  # files:csv_safe, the mutants of one function
        function=${target#*:}
        target=${target%%:*}
    fi
    module=${target%.py}
    module=${module#src/workbook_tool/}
    if [[ $module == */__init__ ]]; then  # a package's own module: mutmut names it after the package
        module=${module%/__init__}
        [ -z "$function" ] && function="*"
    fi
    if [ -n "$function" ]; then
        # A function is x_name, a method xǁClassǁname; "*" is every one of the module.
        patterns+=("workbook_tool.${module//\//.}.x*${function}__mutmut_*")
    else
        patterns+=("workbook_tool.${module//\//.}.*")
    fi
done

cd "$WORK"
echo "mutmut in $WORK, ${MAX_CHILDREN} child process(es), targets: ${TARGETS[*]}"
python -m mutmut run --max-children "$MAX_CHILDREN" "${patterns[@]}" || true

# The score per module, from mutmut's own records (mutants/**/*.py.meta).
python - "${patterns[@]}" <<'EOF'
import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3, 36, -24, 24, 152, 255}  # a failing test, or a timeout (an endless loop)
patterns = sys.argv[1:]
total = Counter()
print(f"\n{'module':<40}{'mutants':>8}{'killed':>8}{'survived':>9}{'other':>7}{'score':>8}")
for meta in sorted(Path("mutants/src").rglob("*.py.meta")):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    mine = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    if not mine:
        continue
    n = Counter()
    for code in mine.values():
        n["killed" if code in KILLED else "survived" if code == 0 else "other"] += 1
    n["mutants"] = len(mine)
    total.update(n)
    module = meta.relative_to("mutants/src").as_posix().removesuffix(".py.meta")
    tested = n["killed"] + n["survived"]
    score = f"{100 * n['killed'] / tested:.1f}%" if tested else "-"
    print(f"{module:<40}{n['mutants']:>8}{n['killed']:>8}{n['survived']:>9}{n['other']:>7}"
          f"{score:>8}")
tested = total["killed"] + total["survived"]
score = f"{100 * total['killed'] / tested:.1f}%" if tested else "-"
print(f"{'total':<40}{total['mutants']:>8}{total['killed']:>8}{total['survived']:>9}"
      f"{total['other']:>7}{score:>8}")
print("\n'other': not run yet, no test reaches it, or suspicious (mutmut results shows which).")
print(f"Survivors: cd {Path.cwd()} && python -m mutmut results; "
      "python -m mutmut show <name> shows one.")
EOF
