"""District outputs of a consolidation: the summary workbook, the board report and the tidy
CSV exports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..consolidate import Consolidation
from ..staging import recover, staged
from .exports import (
    AGREEMENT_CSV,
    PROBLEMS_CSV,
    RATINGS_CSV,
    RATINGS_PARQUET,
    RETURNS_CSV,
    SCORES_CSV,
    preload_exports,
    write_exports,
)
from .report import REPORT_HTML, REPORT_PDF, write_report
from .workbook import SUMMARY_XLSX, write_summary_workbook

__all__ = ["AGREEMENT_CSV", "OUTPUTS", "PROBLEMS_CSV", "RATINGS_CSV", "REPORT_HTML",
           "REPORT_PDF", "RETURNS_CSV", "SCORES_CSV", "SUMMARY_XLSX", "preload_exports",
           "recover_outputs", "write_outputs"]

# Every file a consolidation may write. One that a run does not write (ratings.parquet
# without pyarrow, agreement.csv without team returns) is removed with the previous set, so
# no stale file outlives its run.
OUTPUTS = (SUMMARY_XLSX, REPORT_HTML, RATINGS_CSV, RETURNS_CSV, PROBLEMS_CSV, RATINGS_PARQUET,
           AGREEMENT_CSV, SCORES_CSV, REPORT_PDF)


def recover_outputs(out: Path) -> str:
    """Finish or discard the commit of a run that was interrupted writing into `out`."""
    return recover(out, OUTPUTS)


def write_outputs(run: Consolidation, out: Path, inputs: list[str],
                  pdf: Callable[[Path, Path], None] | None = None) -> dict[str, Path]:
    """Write every output into `out`; they replace the previous run's only all together.

    An interrupted earlier run is first finished or discarded (staging.recover), then the
    new set is staged and committed: a crash at any point leaves one whole set. `pdf`
    (html path, pdf path) prints the report to district_report.pdf, inside the same set.
    """
    with staged(out, OUTPUTS) as staging:
        # The summary first: its working memory is freed before the exports' Arrow buffers
        # (ratings.parquet) are taken, so the two peaks do not add up.
        write_summary_workbook(run, staging.path(SUMMARY_XLSX), inputs)
        write_report(run, staging.path(REPORT_HTML), inputs)
        if pdf is not None:
            pdf(staging.path(REPORT_HTML), staging.path(REPORT_PDF))
        write_exports(run, staging)
        return staging.commit()
