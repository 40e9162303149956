"""pandas DataFrames of a consolidation and of the history store, typed.

pandas is optional (`pip install "workbook-tool[pandas]"`): it is imported here, inside
the functions, and only when a frame is asked for; the CLI never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .problems import Problem

if TYPE_CHECKING:
    import pandas

STATUSES = ("accepted", "accepted_with_warnings", "rejected", "duplicate", "conflict",
            "missing")
PROBLEM_FIELDS = ("file", "school_id", "sheet", "cell", "code", "severity", "message")
_LEVELS = ("level", "previous_level")  # a rubric has at most a handful of levels
_COUNTS = ("rated", "total", "errors", "warnings", "schools_accepted", "returns")
MISSING_PANDAS = 'pandas is needed for DataFrames: pip install "workbook-tool[pandas]"'


def _pandas():
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(MISSING_PANDAS) from exc
    return pandas


def ratings_frame(rows: list[dict], columns: Iterable[str],
                  labels: Iterable[str]) -> pandas.DataFrame:
    """Tidy ratings: levels Int16, `label` an ordered categorical of `labels` (in level
    order; NaN where unrated), every other column string dtype."""
    pd = _pandas()
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name in frame.columns:
        if name in _LEVELS:
            frame[name] = pd.array(frame[name].tolist(), dtype="Int16")
        elif name == "label":
            kind = pd.CategoricalDtype(list(labels), ordered=True)
            frame[name] = frame[name].replace("", None).astype(kind)
        else:
            frame[name] = frame[name].astype("string")
    return frame


def returns_frame(rows: list[dict], columns: Iterable[str]) -> pandas.DataFrame:
    """Returns: `status` a categorical of the six statuses, counts Int64, the rest string
    dtype (a missing school's counts are <NA>)."""
    pd = _pandas()
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name in frame.columns:
        if name in _COUNTS:
            frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
        elif name == "status":
            frame[name] = frame[name].astype(pd.CategoricalDtype(STATUSES))
        else:
            frame[name] = frame[name].astype("string")
    return frame


def problems_frame(problems: list[Problem]) -> pandas.DataFrame:
    """Problems: the columns of problems.csv, all string dtype."""
    pd = _pandas()
    records = [{name: getattr(p, name) for name in PROBLEM_FIELDS} for p in problems]
    return pd.DataFrame.from_records(records, columns=PROBLEM_FIELDS).astype("string")

