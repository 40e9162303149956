"""write_csv across its 100-row chunks (mutation run 9): every row arrives, in order, whether
a chunk holds a carriage return inside a field or not. Expected bytes are written out here."""

from __future__ import annotations

from workbook_tool.files import write_csv


def _expected(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


def test_every_chunk_is_written_after_a_plain_first_chunk(tmp_path):
    # The header and 99 rows fill the first chunk; 151 more rows take two more chunks, the
    # third with a CR inside a field (written row by row).
    rows = [[f"S{i}", i] for i in range(1, 251)]
    rows[219] = ["S220", "on\rtwo lines"]
    path = tmp_path / "rows.csv"
    write_csv(path, ("school", "n"), rows)
    lines = ["school,n"] + [f"S{i},{i}" for i in range(1, 251)]
    lines[220] = 'S220,"on\rtwo lines"'
    assert path.read_bytes() == _expected(lines)


def test_a_chunk_with_a_carriage_return_comes_whole_between_plain_ones(tmp_path):
    rows = [["a\rb", 1], *[[f"r{i}", i] for i in range(2, 131)]]
    path = tmp_path / "rows.csv"
    write_csv(path, ("text", "n"), rows)
    lines = ["text,n", '"a\rb",1'] + [f"r{i},{i}" for i in range(2, 131)]
    assert path.read_bytes() == _expected(lines)


def test_the_file_is_utf8_whatever_the_locale(tmp_path):
    # A machine whose locale encoding is not UTF-8 (Windows' cp1252, or here the C locale's
    # ASCII) must still get UTF-8. The write runs in a child process with that locale,
    # importing the same copy of workbook_tool as this test.
    import os
    import subprocess
    import sys
    from pathlib import Path

    import workbook_tool

    package_root = Path(workbook_tool.__file__).parent.parent
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0",
           "PYTHONUTF8": "0", "PYTHONPATH": str(package_root)}
    path = tmp_path / "names.csv"
    code = ("import locale, sys\n"
            "from workbook_tool.files import write_csv\n"
            "print(locale.getpreferredencoding(False))\n"
            "write_csv(sys.argv[1], ('name',), [['\\u00c9cole \\u2713']])\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().lower() not in ("utf-8", "utf8")  # the test means something
    assert path.read_bytes() == "name\n\u00c9cole \u2713\n".encode()
