"""Tidy exports: ratings.csv, returns.csv, problems.csv and, for team returns,
agreement.csv, written atomically."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

from ..consolidate import (
    AGREEMENT_COLUMNS,
    PROBLEMS_COLUMNS,
    RATINGS_COLUMNS,
    RETURNS_COLUMNS,
    SCORES_COLUMNS,
    Consolidation,
    has_team,
    scores,
)
from ..files import write_csv
from ..staging import Staging

RATINGS_CSV = "ratings.csv"
RATINGS_PARQUET = "ratings.parquet"
RETURNS_CSV = "returns.csv"
PROBLEMS_CSV = "problems.csv"
AGREEMENT_CSV = "agreement.csv"
SCORES_CSV = "scores.csv"


def ratings_rows(run: Consolidation, texts: bool = True) -> Iterator[list]:
    """One row per indicator of every accepted return, in RATINGS_COLUMNS order.

    `texts=False` is for passes that never look at evidence and next steps: those may then
    be empty, and answers whose texts were spilled to disk are not read back.
    """
    indicators = {ind.id: ind for ind in run.rubric.indicators}
    for row in run.accepted:
        result = row.result
        school = run.school(row.school_id)
        network = school.network if school else ""
        answers = result.answers
        # Consolidation packs answers as tuples (consolidate.PackedAnswers): read those.
        packed = getattr(answers, "rows" if texts else "held_rows", None)
        fields = packed if packed is not None else (
            (a.indicator_id, a.level, a.label, a.evidence, a.next_steps, a.priority,
             a.previous_level, a.review, a.followup)
            for a in answers)
        for indicator_id, level, label, evidence, next_steps, priority, *prefill in fields:
            ind = indicators[indicator_id]
            previous, review, followup = prefill or _NOT_PREFILLED
            yield [row.school_id, row.school_name, network, result.cycle, ind.domain_id,
                   ind.id, ind.title, level if level is not None else "", label, evidence,
                   next_steps, priority, result.file,
                   previous if previous is not None else "", review, followup]


_NOT_PREFILLED = (None, "", "")  # previous level, review, follow-up of a plain workbook


def returns_rows(run: Consolidation) -> Iterator[list]:
    for row in run.rows:
        yield row.values()


def problems_rows(run: Consolidation) -> Iterator[list]:
    for p in run.problems:
        yield [p.file, p.school_id, p.sheet, p.cell, p.code, p.severity, p.message]


def any_team(run: Consolidation) -> bool:
    """Does any accepted return have raters (a Team ratings sheet)?"""
    return any(has_team(row.result) for row in run.accepted)


def agreement_rows(run: Consolidation) -> Iterator[list]:
    """One row per indicator that 2 or more raters of an accepted return rated, in
    AGREEMENT_COLUMNS order; flags are 1 or 0."""
    for row in run.accepted:
        result = row.result
        notes = result.team.notes if result.team is not None else {}
        for one in run.compared(result):
            found = one.figures
            yield [row.school_id, row.school_name, result.cycle, one.indicator_id,
                   found.raters, found.ratings, found.median, found.spread,
                   int(found.exact), int(found.within_one), int(found.flagged),
                   "" if one.agreed is None else one.agreed,
                   notes.get(one.indicator_id, "")]


def write_exports(run: Consolidation, staging: Staging) -> None:
    write_csv(staging.path(RATINGS_CSV), RATINGS_COLUMNS, ratings_rows(run))
    write_csv(staging.path(RETURNS_CSV), RETURNS_COLUMNS, returns_rows(run))
    write_csv(staging.path(PROBLEMS_CSV), PROBLEMS_COLUMNS, problems_rows(run))
    if any_team(run):  # else no file, and the staging removes an earlier run's
        write_csv(staging.path(AGREEMENT_CSV), AGREEMENT_COLUMNS, agreement_rows(run))
    if run.rubric.has_points:  # likewise
        write_csv(staging.path(SCORES_CSV), SCORES_COLUMNS,
                  (score.values() for score in scores(run)))
    if parquet_available():
        write_parquet(staging.path(RATINGS_PARQUET), ratings_rows(run))


def preload_exports() -> None:
    """Import pyarrow ahead of write_parquet (a quarter of a second), e.g. while reading."""
    try:
        if parquet_available():
            import pyarrow.parquet  # noqa: F401
    except Exception:  # a broken install fails later, in write_parquet, with its message
        pass


def parquet_available() -> bool:
    """Parquet is written only where pyarrow is installed: it is not a dependency."""
    return importlib.util.find_spec("pyarrow") is not None


# Rows per row group: Arrow's buffers for 20,000 rows of evidence cost ~60 MB more peak.
PARQUET_BATCH = 5_000


def write_parquet(path: Path, rows: Iterator[list]) -> None:
    """ratings.parquet: the same columns as ratings.csv, typed, text never escaped."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    levels = {RATINGS_COLUMNS.index(c) for c in _LEVEL_COLUMNS}
    schema = pa.schema([(c, pa.int16() if c in _LEVEL_COLUMNS else pa.string())
                        for c in RATINGS_COLUMNS])
    with pq.ParquetWriter(str(path), schema) as writer:
        batch: list[list] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= PARQUET_BATCH:
                writer.write_table(_table(pa, schema, batch, levels))
                batch = []
        writer.write_table(_table(pa, schema, batch, levels))
    pa.default_memory_pool().release_unused()  # give Arrow's freed buffers back now


_LEVEL_COLUMNS = ("level", "previous_level")  # numbers in ratings.parquet


def _table(pa, schema, batch: list[list], levels: set[int]):
    columns = list(zip(*batch, strict=True)) if batch else [[] for _ in RATINGS_COLUMNS]
    arrays = []
    for i, values in enumerate(columns):
        if i in levels:
            arrays.append(pa.array([v if v != "" else None for v in values], pa.int16()))
        else:
            arrays.append(pa.array([str(v) for v in values], pa.string()))
    return pa.Table.from_arrays(arrays, schema=schema)
