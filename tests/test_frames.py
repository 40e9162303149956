"""DataFrames from the public API (pandas is the optional `pandas` extra).

Tests that need pandas skip without it, except under CI=true, where the test extra
installs it and a skip fails the run (tests/conftest.py).
"""

from __future__ import annotations

import sys

import pytest

import workbook_tool as wt
from returns_kit import SMALL_RUBRIC, answers_for, make_return

ROSTER = "school_id,school_name,network\nS1,Alpha School,North\nS2,Beta School,South\n" \
         "S3,Gamma School,North\n"


def write_returns(folder, cycle: str, rubric_path=SMALL_RUBRIC) -> None:
    """S1 fully rated, S3 with its last indicator unrated, S2 never returns."""
    rubric = wt.load_rubric(rubric_path)
    schools = {s.school_id: s for s in wt.load_roster("roster.csv")}
    folder.mkdir()
    full = answers_for(rubric)
    (folder / "S1.xlsx").write_bytes(make_return(rubric, schools["S1"], cycle, answers=full))
    last = rubric.indicators[-1].id
    partial = {k: v for k, v in full.items() if k != last}
    (folder / "S3.xlsx").write_bytes(make_return(rubric, schools["S3"], cycle,
                                                 answers=partial))


@pytest.fixture
def result(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    write_returns(tmp_path / "returns", "2024-25")
    return wt.consolidate_returns("returns", roster="roster.csv", rubric=SMALL_RUBRIC, jobs=1)


def test_ratings_frame_types(result):
    pd = pytest.importorskip("pandas")
    frame = result.ratings_frame()
    assert list(frame.columns) == [
        "school_id", "school_name", "network", "cycle", "domain_id", "indicator_id",
        "indicator", "level", "label", "evidence", "next_steps", "priority", "source_file",
        "previous_level", "review", "followup"]
    assert str(frame["level"].dtype) == "Int16"
    assert str(frame["previous_level"].dtype) == "Int16"
    assert frame["cycle"].dtype == pd.StringDtype()
    assert frame["school_id"].dtype == pd.StringDtype()
    label = frame["label"].dtype
    assert isinstance(label, pd.CategoricalDtype) and label.ordered
    assert list(label.categories) == ["Beginning", "Growing", "Strong Practice"]
    assert frame["level"].tolist()[5:] == [1, 2, 3, 1, pd.NA]
    assert frame["label"].tolist()[7:9] == ["Strong Practice", "Beginning"]
    assert pd.isna(frame["label"].iloc[9])
    assert frame["previous_level"].isna().all()
    # Ordered labels compare by level, not alphabetically ("Growing" < "Beginning" would be).
    assert (frame["label"] >= "Growing").sum() == 5
    assert frame.groupby("label", observed=False).size().tolist() == [4, 3, 2]


def test_returns_and_problems_frames(result):
    pd = pytest.importorskip("pandas")
    returns = result.returns_frame()
    assert returns["status"].tolist() == ["accepted", "accepted_with_warnings", "missing"]
    assert list(returns["status"].dtype.categories) == [
        "accepted", "accepted_with_warnings", "rejected", "duplicate", "conflict", "missing"]
    for name in ("rated", "total", "errors", "warnings"):
        assert str(returns[name].dtype) == "Int64"
    assert returns["rated"].tolist() == [5, 4, pd.NA]
    assert returns["file"].dtype == pd.StringDtype()
    problems = result.problems_frame()
    assert list(problems.columns) == ["file", "school_id", "sheet", "cell", "code",
                                      "severity", "message"]
    assert (problems.dtypes == pd.StringDtype()).all()
    assert problems.to_dict("records") == [{
        "file": "returns/S3.xlsx", "school_id": "S3", "sheet": "", "cell": "",
        "code": "unrated", "severity": "warning",
        "message": "1 of 5 indicators is not rated: 2.2"}]


def test_empty_results_keep_their_columns(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "returns").mkdir()
    empty = wt.consolidate_returns("returns", roster="roster.csv", rubric=SMALL_RUBRIC)
    ratings = empty.ratings_frame()
    assert (len(ratings), len(ratings.columns)) == (0, 16)
    assert str(ratings["level"].dtype) == "Int16"
    assert empty.problems_frame().shape == (0, 7)
    assert empty.returns_frame()["status"].tolist() == ["missing"] * 3
    assert empty.returns_frame()["rated"].isna().all()


def test_history_frames(tmp_path, monkeypatch):
    """The District Framework, whose labels in level order are not in alphabetical order."""
    pd = pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    for cycle in ("2023-24", "2024-25"):
        write_returns(tmp_path / f"returns-{cycle}", cycle, None)
        wt.consolidate_returns(f"returns-{cycle}", roster="roster.csv", out=f"out-{cycle}",
                               cycle=cycle, history="history.sqlite", jobs=1)
    history = wt.read_history("history.sqlite")
    ratings = history.ratings_frame()
    assert len(ratings) == 112  # 2 cycles, 2 returns, 28 indicators
    assert ratings["cycle"].dtype == pd.StringDtype()
    assert str(ratings["level"].dtype) == "Int16"
    assert list(ratings["label"].dtype.categories) == ["Emerging", "Developing", "Advancing",
                                                       "Transforming"]
    assert ratings["label"].dtype.ordered
    # S1 rates 7 indicators at each of the 4 levels (70); S3 leaves its last one (4) unrated.
    assert ratings.groupby("cycle")["level"].sum().to_dict() == {"2023-24": 136,
                                                                  "2024-25": 136}
    assert ratings["level"].isna().sum() == 2
    returns = history.returns_frame()
    assert returns["cycle"].tolist() == ["2023-24"] * 3 + ["2024-25"] * 3
    assert returns["cycle"].dtype == pd.StringDtype()
    assert returns["warnings"].tolist() == [0, 1, pd.NA, 0, 1, pd.NA]


def test_without_pandas_a_clear_import_error(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails
    for frame in (result.ratings_frame, result.returns_frame, result.problems_frame):
        with pytest.raises(ImportError) as caught:
            frame()
        assert str(caught.value) == (
            'pandas is needed for DataFrames: pip install "workbook-tool[pandas]"')
    # The rows are there without pandas.
    assert [r["level"] for r in result.ratings[:3]] == [1, 2, 3]
