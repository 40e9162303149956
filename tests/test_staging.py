"""Outputs are replaced all together: a crash at any step leaves the old set or the new one.

Crashes are made deterministic: the staging module's `os` is swapped for one whose k-th
change to the disk (makedirs, mkdir, open, write, fsync, replace, unlink, rmdir) raises,
and so does every later one, as if the process had died there. For every k the test checks
the folder, then lets the next run recover, and checks it again.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from returns_kit import SMALL_RUBRIC, answers_for, make_return, small_rubric
from workbook_tool import staging
from workbook_tool.cli import main
from workbook_tool.roster import School
from workbook_tool.staging import ROLLED_BACK, ROLLED_FORWARD, STAGING_DIR, recover, staged

OUTPUTS = ("district_summary.xlsx", "ratings.csv", "returns.csv", "problems.csv",
           "ratings.parquet")
OLD = {
    "district_summary.xlsx": b"old summary",
    "ratings.csv": b"old ratings",
    "returns.csv": b"old returns",
    "problems.csv": b"old problems",
    "ratings.parquet": b"old parquet",
}
# The new run has no pyarrow: its set has no ratings.parquet, and the old one must go.
NEW = {
    "district_summary.xlsx": b"new summary",
    "ratings.csv": b"new ratings",
    "returns.csv": b"new returns",
    "problems.csv": b"new problems",
}
THIRD = {"district_summary.xlsx": b"third summary", "ratings.csv": b"third ratings",
         "returns.csv": b"third returns", "problems.csv": b"third problems",
         "ratings.parquet": b"third parquet"}


class Crash(BaseException):
    """The process dies: nothing after it runs, not even cleanup (hence BaseException)."""


class CrashingOS:
    """`os` whose `at`-th change to the disk (of the kinds `counted`) raises Crash.

    After the crash every change raises too: a dead process runs no cleanup.
    `done` lists the changes that happened, as (function, last argument's file name).
    """

    CHANGES = frozenset({"makedirs", "mkdir", "open", "write", "fsync", "replace", "unlink",
                         "rmdir"})

    def __init__(self, at: int, counted: frozenset[str] = CHANGES):
        self.at = at
        self.counted = counted
        self.calls = 0
        self.dead = False
        self.done: list[tuple[str, str]] = []
        self.open_files: dict[int, str] = {}

    def __getattr__(self, name):
        real = getattr(os, name)
        if name not in self.CHANGES:
            return real

        def step(*args, **kwargs):
            if name in self.counted:
                self.calls += 1
                self.dead = self.dead or self.calls >= self.at
            if self.dead:
                raise Crash(f"crash at {name}")
            result = real(*args, **kwargs)
            if name == "open":
                self.open_files[result] = Path(args[0]).name
            target = args[1] if name == "replace" else args[0]
            self.done.append((name, self.open_files.get(target) or Path(target).name))
            return result

        return step

    @property
    def decided(self) -> bool:
        """Whether the commit marker was put in place before the crash."""
        return ("replace", ".commit.json") in self.done


def contents(folder: Path) -> dict[str, bytes]:
    """Every entry of the folder, hidden ones included (a folder shows as b'<dir>')."""
    return {p.name: b"<dir>" if p.is_dir() else p.read_bytes() for p in folder.iterdir()}


def visible(folder: Path) -> dict[str, bytes]:
    return {name: data for name, data in contents(folder).items() if not name.startswith(".")}


def put_old_set(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def write_set(folder: Path, files: dict[str, bytes], before_writing=None) -> dict[str, Path]:
    with staged(folder, OUTPUTS) as stage:
        if before_writing:
            before_writing()
        for name, data in files.items():
            stage.path(name).write_bytes(data)
        return stage.commit()


def test_commit_replaces_the_whole_set_and_leaves_nothing_hidden(tmp_path):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    written = write_set(out, NEW)
    assert contents(out) == NEW  # the stale ratings.parquet is gone, no staging folder
    assert written == {name: out / name for name in NEW}


def test_the_steps_of_a_commit_in_order(tmp_path, monkeypatch):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    crash = CrashingOS(10_000)
    monkeypatch.setattr(staging, "os", crash)
    write_set(out, NEW)
    assert crash.done == [
        ("makedirs", "out"),  # made if missing
        ("open", "out"),  # the lock
        ("mkdir", ".workbook-tool-staging"),
        # the writers write their files here; then each is flushed, and the folder
        ("open", "district_summary.xlsx"), ("fsync", "district_summary.xlsx"),
        ("open", "ratings.csv"), ("fsync", "ratings.csv"),
        ("open", "returns.csv"), ("fsync", "returns.csv"),
        ("open", "problems.csv"), ("fsync", "problems.csv"),
        ("open", ".workbook-tool-staging"), ("fsync", ".workbook-tool-staging"),
        # the marker: whole, flushed, renamed into place, its rename flushed
        ("open", ".commit.json.tmp"), ("write", ".commit.json.tmp"),
        ("fsync", ".commit.json.tmp"), ("replace", ".commit.json"),
        ("open", ".workbook-tool-staging"), ("fsync", ".workbook-tool-staging"),
        # decided: rename, remove what the set no longer has, flush the output folder
        ("replace", "district_summary.xlsx"), ("replace", "ratings.csv"),
        ("replace", "returns.csv"), ("replace", "problems.csv"),
        ("unlink", "ratings.parquet"),
        ("open", "out"), ("fsync", "out"),
        # then clear the staging folder, marker first
        ("unlink", ".commit.json"), ("rmdir", ".workbook-tool-staging"),
    ]


def test_the_marker_lists_the_files_to_put_and_to_remove(tmp_path, monkeypatch):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    monkeypatch.setattr(staging, "os", CrashingOS(2, frozenset({"replace"})))
    with pytest.raises(Crash):
        write_set(out, NEW)
    marker = json.loads((out / STAGING_DIR / ".commit.json").read_bytes())
    assert marker == {"put": ["district_summary.xlsx", "ratings.csv", "returns.csv",
                              "problems.csv"],
                      "remove": ["ratings.parquet"]}


def test_first_run_creates_the_folder(tmp_path):
    out = tmp_path / "a" / "b"
    write_set(out, THIRD)
    assert contents(out) == THIRD


@pytest.mark.parametrize("old, new", [(OLD, NEW), (NEW, THIRD)], ids=["drop", "add"])
def test_crash_at_every_step_leaves_one_whole_set(tmp_path, monkeypatch, old, new):
    outcomes = []
    for k in range(1, 200):
        out = tmp_path / f"k{k}"
        put_old_set(out, old)
        crash = CrashingOS(k)
        monkeypatch.setattr(staging, "os", crash)
        try:
            write_set(out, new)
        except Crash:
            pass
        else:
            break
        finally:
            monkeypatch.setattr(staging, "os", os)
        if not crash.decided:  # not one old file was touched
            assert visible(out) == old, k
        # The next run's recovery: the whole new set once decided, else the whole old one.
        recover(out, OUTPUTS)
        assert contents(out) == (new if crash.decided else old), k
        outcomes.append(crash.decided)
    else:
        pytest.fail("the commit never finished")
    assert contents(out) == new
    # Every kind of step was a crash point, on both sides of the decision.
    assert {name for name, _file in crash.done} == set(CrashingOS.CHANGES)
    assert outcomes.count(False) > 10 and outcomes.count(True) > 5
    assert outcomes == sorted(outcomes)  # old until the marker, new from it on


def test_crash_during_recovery_then_recovery_again(tmp_path, monkeypatch):
    """Rolling forward may itself be interrupted at any step; the next try finishes it."""
    for j in range(1, 50):
        out = tmp_path / f"j{j}"
        put_old_set(out, OLD)
        # The marker is the first rename; crash at the second, the first output's.
        monkeypatch.setattr(staging, "os", CrashingOS(2, frozenset({"replace"})))
        with pytest.raises(Crash):
            write_set(out, NEW)
        monkeypatch.setattr(staging, "os", CrashingOS(j))
        try:
            recover(out, OUTPUTS)
            finished = True
        except Crash:
            finished = False
        monkeypatch.setattr(staging, "os", os)
        marker = (out / STAGING_DIR / ".commit.json").exists()
        expected = "" if finished else ROLLED_FORWARD if marker else ROLLED_BACK
        assert recover(out, OUTPUTS) == expected, j
        assert contents(out) == NEW, j
        if finished:
            break
    else:
        pytest.fail("recovery never finished")
    assert j > 5


def test_next_run_recovers_before_it_writes(tmp_path, monkeypatch):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    monkeypatch.setattr(staging, "os", CrashingOS(3, frozenset({"replace"})))
    with pytest.raises(Crash):
        write_set(out, NEW)
    monkeypatch.setattr(staging, "os", os)
    assert visible(out) == {**OLD, "district_summary.xlsx": b"new summary"}  # a mix
    seen = []

    def look():
        seen.append((visible(out), contents(out / STAGING_DIR)))

    write_set(out, THIRD, before_writing=look)
    # When the next run starts writing, the crashed run's set is whole, its staging is gone.
    assert seen == [(NEW, {})]
    assert contents(out) == THIRD


def test_failure_before_the_commit_rolls_back_at_once(tmp_path):
    out = tmp_path / "out"
    put_old_set(out, OLD)

    def broken():
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"), staged(out, OUTPUTS) as stage:
        stage.path("ratings.csv").write_bytes(b"half")
        broken()
    assert contents(out) == OLD


def test_an_output_asked_for_but_not_written_stops_the_commit(tmp_path):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    with pytest.raises(FileNotFoundError), staged(out, OUTPUTS) as stage:
        stage.path("ratings.csv").write_bytes(b"new ratings")
        stage.path("returns.csv")
        stage.commit()
    assert contents(out) == OLD


def test_unknown_output_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"notes\.txt is not one of the outputs"), \
            staged(tmp_path / "out", OUTPUTS) as stage:
        stage.path("notes.txt")


def test_hand_made_marker_is_rolled_forward(tmp_path):
    """The protocol on disk, as a crashed run leaves it, written here byte by byte."""
    out = tmp_path / "out"
    put_old_set(out, OLD)
    area = out / STAGING_DIR
    area.mkdir()
    (out / "ratings.csv").write_bytes(b"new ratings")  # renamed before the crash
    (area / "returns.csv").write_bytes(b"new returns")
    (area / ".commit.json").write_text(json.dumps(
        {"put": ["ratings.csv", "returns.csv"], "remove": ["ratings.parquet"]}))
    assert recover(out) == ROLLED_FORWARD
    assert contents(out) == {"district_summary.xlsx": b"old summary",
                             "ratings.csv": b"new ratings", "returns.csv": b"new returns",
                             "problems.csv": b"old problems"}


def test_staging_without_marker_is_rolled_back(tmp_path):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    area = out / STAGING_DIR
    area.mkdir()
    (area / "ratings.csv").write_bytes(b"half-written")
    (area / ".commit.json.tmp").write_bytes(b'{"put": ["ratings.c')
    (area / "sub").mkdir()  # not made by this tool, but it must not stop a recovery
    (area / "sub" / "x").write_bytes(b"x")
    assert recover(out) == ROLLED_BACK
    assert contents(out) == OLD


@pytest.mark.parametrize("marker", [
    b'{"put": ["../escaped.csv"], "remove": []}',
    b'{"put": [], "remove": ["/etc/passwd"]}',
    b'{"put": [".hidden"], "remove": []}',
    b'["ratings.csv"]',
    b"not json",
])
def test_a_marker_this_tool_did_not_write_moves_nothing(tmp_path, marker):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    area = out / STAGING_DIR
    area.mkdir()
    (area / "escaped.csv").write_bytes(b"x")
    (area / ".commit.json").write_bytes(marker)
    assert recover(out) == ROLLED_BACK
    assert contents(out) == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_recover_on_a_clean_or_missing_folder_does_nothing(tmp_path):
    assert recover(tmp_path / "nowhere") == ""
    assert not (tmp_path / "nowhere").exists()
    put_old_set(tmp_path / "out", OLD)
    assert recover(tmp_path / "out", OUTPUTS) == ""
    assert contents(tmp_path / "out") == OLD


def test_temporary_files_of_older_versions_are_cleared(tmp_path):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    (out / ".ratings.csv.k1ll3d.tmp").write_bytes(b"left by a killed run")
    (out / ".notes.txt.abc.tmp").write_bytes(b"not ours")
    write_set(out, NEW)
    assert contents(out) == {**NEW, ".notes.txt.abc.tmp": b"not ours"}


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    put_old_set(out, OLD)
    with staged(out, OUTPUTS) as first:
        first.path("ratings.csv").write_bytes(b"first run's ratings")
        with pytest.raises(OSError) as caught:
            write_set(out, NEW)
        with pytest.raises(OSError):
            recover(out, OUTPUTS)
        first.commit()
    assert caught.value.errno == errno.EBUSY
    assert caught.value.strerror == ("another workbook-tool run is writing its outputs to this "
                                     "folder; try again when it has finished")
    # The second run neither discarded the first one's staging nor wrote anything: the
    # first run's set (one file) replaced the old one.
    assert contents(out) == {"ratings.csv": b"first run's ratings"}


def test_a_folder_that_cannot_be_locked_is_still_written(tmp_path, monkeypatch):
    import fcntl

    def no_locks(_fd, _how):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    out = tmp_path / "out"
    put_old_set(out, OLD)
    write_set(out, NEW)
    assert contents(out) == NEW


# -- through the CLI --------------------------------------------------------------------------

ROSTER = "school_id,school_name\nS1,Alpha School\nS2,Beta School\n"


@pytest.fixture(scope="module")
def returns(tmp_path_factory):
    root = tmp_path_factory.mktemp("returns")
    rubric = small_rubric()
    (root / "S1.xlsx").write_bytes(make_return(rubric, answers=answers_for(rubric)))
    (root / "S2.xlsx").write_bytes(make_return(rubric, school=School("S2", "Beta School"),
                                               answers=answers_for(rubric)))
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return root


def consolidate(returns: Path, out: Path, *files: str):
    return CliRunner().invoke(main, ["consolidate", *(str(returns / f) for f in files),
                                     "--roster", str(returns / "roster.csv"), "--out", str(out),
                                     "--rubric", str(SMALL_RUBRIC)])


def returns_csv_files(out: Path) -> list[str]:
    lines = (out / "returns.csv").read_text(encoding="utf-8").splitlines()
    return sorted(line.split(",")[2].rsplit("/", 1)[-1] for line in lines[1:] if "xlsx" in line)


def test_cli_run_that_crashes_before_its_commit_keeps_the_first_run(returns, tmp_path,
                                                                   monkeypatch):
    out = tmp_path / "out"
    assert consolidate(returns, out, "S1.xlsx").exit_code == 0
    first = contents(out)
    assert returns_csv_files(out) == ["S1.xlsx"]
    # The marker's rename is the run's first os.replace: crash right there.
    monkeypatch.setattr(staging, "os", CrashingOS(1, frozenset({"replace"})))
    with pytest.raises(Crash):
        consolidate(returns, out, "S1.xlsx", "S2.xlsx")
    monkeypatch.setattr(staging, "os", os)
    assert visible(out) == first  # byte for byte the first run's outputs
    assert consolidate(returns, out, "S1.xlsx", "S2.xlsx").exit_code == 0
    assert returns_csv_files(out) == ["S1.xlsx", "S2.xlsx"]
    assert sorted(contents(out)) == sorted(first)  # the staging folder is gone


def test_cli_next_run_finishes_an_interrupted_commit_even_when_it_fails(returns, tmp_path,
                                                                       monkeypatch):
    out = tmp_path / "out"
    assert consolidate(returns, out, "S1.xlsx").exit_code == 0
    first = contents(out)
    # Crash after the marker and the summary's rename: a mix of old and new on disk.
    crash = CrashingOS(3, frozenset({"replace"}))
    monkeypatch.setattr(staging, "os", crash)
    with pytest.raises(Crash):
        consolidate(returns, out, "S1.xlsx", "S2.xlsx")
    monkeypatch.setattr(staging, "os", os)
    assert [f for name, f in crash.done if name == "replace"] == [".commit.json",
                                                                   "district_summary.xlsx"]
    assert (out / "district_summary.xlsx").read_bytes() != first["district_summary.xlsx"]
    assert (out / "returns.csv").read_bytes() == first["returns.csv"]

    import workbook_tool.summary as summary

    def broken(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(summary, "write_summary_workbook", broken)
    result = consolidate(returns, out, "S1.xlsx")
    assert result.exit_code == 2
    assert "No space left on device" in result.output
    # The failed run first put the interrupted run's whole set in place, then wrote nothing.
    assert returns_csv_files(out) == ["S1.xlsx", "S2.xlsx"]
    assert not (out / STAGING_DIR).exists()
    ratings = (out / "ratings.csv").read_text(encoding="utf-8")
    assert ratings.count("S2.xlsx") == ratings.count("S1.xlsx") > 0


def test_cli_removes_a_stale_parquet_when_pyarrow_is_gone(returns, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "ratings.parquet").write_bytes(b"from a run that had pyarrow")
    monkeypatch.setattr("workbook_tool.summary.exports.parquet_available", lambda: False)
    assert consolidate(returns, out, "S1.xlsx").exit_code == 0
    assert sorted(contents(out)) == ["district_report.html", "district_summary.xlsx",
                                     "problems.csv", "ratings.csv", "returns.csv"]


def crashed_during_renames(returns: Path, tmp_path: Path, monkeypatch) -> Path:
    """An output folder where a second run died after its marker and its first rename."""
    out = tmp_path / "out"
    assert consolidate(returns, out, "S1.xlsx").exit_code == 0
    monkeypatch.setattr(staging, "os", CrashingOS(3, frozenset({"replace"})))
    with pytest.raises(Crash):
        consolidate(returns, out, "S1.xlsx", "S2.xlsx")
    monkeypatch.setattr(staging, "os", os)
    assert (out / STAGING_DIR).exists()
    return out


def test_cli_finishes_an_interrupted_commit_before_reading(returns, tmp_path, monkeypatch):
    """A next run that stops before writing (a usage error after reading) still finishes it."""
    out = crashed_during_renames(returns, tmp_path, monkeypatch)
    assert (out / STAGING_DIR).exists()
    other_cycle = returns.parent / f"{returns.name}-cycles"
    other_cycle.mkdir()
    (other_cycle / "old.xlsx").write_bytes(make_return(small_rubric(), cycle="2019-20"))
    result = CliRunner().invoke(main, [
        "consolidate", str(returns / "S1.xlsx"), str(other_cycle / "old.xlsx"), "--roster",
        str(returns / "roster.csv"), "--out", str(out), "--rubric", str(SMALL_RUBRIC)])
    assert result.exit_code == 2
    assert "2 cycles" in result.stderr
    assert returns_csv_files(out) == ["S1.xlsx", "S2.xlsx"]
    assert not (out / STAGING_DIR).exists()


def test_cli_finishes_an_interrupted_commit_even_with_a_bad_roster(returns, tmp_path,
                                                                   monkeypatch):
    out = crashed_during_renames(returns, tmp_path, monkeypatch)
    bad_roster = tmp_path / "bad.csv"
    bad_roster.write_text("name\nAlpha\n", encoding="utf-8")
    result = CliRunner().invoke(main, [
        "consolidate", str(returns / "S1.xlsx"), "--roster", str(bad_roster), "--out",
        str(out), "--rubric", str(SMALL_RUBRIC)])
    assert result.exit_code == 2
    assert returns_csv_files(out) == ["S1.xlsx", "S2.xlsx"]
    assert not (out / STAGING_DIR).exists()
