"""workbook-tool: rating workbooks for a rubric, generated, checked and consolidated.

The names in `__all__` are the stable Python API (docs/api.md); every module of the package
is internal and may change. The API is loaded on first use, so `import workbook_tool` stays
instant and never imports pandas, XlsxWriter, python-calamine or pyarrow.

Example:
    >>> import workbook_tool as wt
    >>> result = wt.consolidate_returns("returns/", roster="roster.csv", cycle="2026-27")
    >>> result.counts["accepted"]
    9
"""

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "Consolidated",
    "History",
    "NothingDone",
    "Problem",
    "RosterError",
    "RubricError",
    "__version__",
    "check_workbook",
    "consolidate_returns",
    "generate_workbooks",
    "load_roster",
    "load_rubric",
    "read_history",
]

if TYPE_CHECKING:
    from .api import (
        CheckResult,
        Consolidated,
        History,
        NothingDone,
        Problem,
        RosterError,
        RubricError,
        check_workbook,
        consolidate_returns,
        generate_workbooks,
        load_roster,
        load_rubric,
        read_history,
    )


def __getattr__(name: str):
    # PEP 562: the API module (and the rubric's YAML parser with it) loads on first use.
    if name in __all__:
        from . import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workbook_tool' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
