"""District outputs of a consolidation: the summary workbook and the tidy CSV exports."""

from __future__ import annotations

from pathlib import Path

from ..consolidate import Consolidation
from ..files import staged
from .exports import PROBLEMS_CSV, RATINGS_CSV, RETURNS_CSV, preload_exports, write_exports
from .workbook import SUMMARY_XLSX, write_summary_workbook

__all__ = ["PROBLEMS_CSV", "RATINGS_CSV", "RETURNS_CSV", "SUMMARY_XLSX", "preload_exports",
           "write_outputs"]


def write_outputs(run: Consolidation, out: Path, inputs: list[str]) -> dict[str, Path]:
    """Write every output into `out`; they replace the previous run's only all together."""
    with staged(out) as staging:
        # The summary first: its working memory is freed before the exports' Arrow buffers
        # (ratings.parquet) are taken, so the two peaks do not add up.
        write_summary_workbook(run, staging.path(SUMMARY_XLSX), inputs)
        write_exports(run, staging)
        return staging.commit()
