"""The `workbook-tool` command line: parse options, call the library, render, exit 0/1/2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click

from . import __version__
from .problems import NothingDone
from .roster import RosterError, load_roster
from .rubric import Rubric, RubricError, load_rubric

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class Abort(Exception):
    """A usage error or nothing could be done: one sentence, exit 2."""


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def friendly(func: Callable) -> Callable:
    """Turn the library's expected errors into one sentence each on stderr and exit 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RubricError as exc:
            for problem in exc.problems:
                click.echo(f"Error: rubric {exc.path}: {problem}", err=True)
            sys.exit(EXIT_USAGE)
        except RosterError as exc:
            for problem in exc.problems:
                click.echo(f"Error: roster {exc.path}: {problem}", err=True)
            sys.exit(EXIT_USAGE)
        except Abort as exc:
            fail(str(exc))
        except NothingDone as exc:
            fail(str(exc))
        except BrokenPipeError:  # `workbook-tool ... | head` closed the pipe: not an error
            sys.stderr.close()
            sys.exit(EXIT_OK)
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))

    return wrapper


def parse_domains(text: str | None, rubric: Rubric) -> list[str] | None:
    if not text:
        return None
    ids = [part.strip().upper().removeprefix("D") for part in text.split(",") if part.strip()]
    try:
        rubric.select(ids)
    except KeyError as exc:
        raise Abort(exc.args[0]) from None
    return ids


@contextmanager
def progress_bar(total: int, label: str, quiet: bool):
    """A bar on stderr when it is a terminal; silent otherwise (logs, pipes, tests)."""
    if quiet or not sys.stderr.isatty() or total < 2:
        yield lambda n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


rubric_option = click.option(
    "--rubric", "rubric_path", type=click.Path(dir_okay=False),
    help="Rubric YAML file (default: the packaged District Framework).",
)
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON document on stdout and nothing else.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print only errors.")


class RaterCount(click.IntRange):
    """2 to 8 raters, refused in one sentence that says what the number is for."""

    name = "raters"

    def __init__(self) -> None:
        super().__init__(2, 8)

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value} is not a number of raters from 2 to 8 (one rating column per "
                      "team member).", param, ctx)


jobs_option = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                           help="Worker processes (default: the machine's cores).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="workbook-tool")
def main() -> None:
    """Rating workbooks for a rubric: generate one per school, check, and consolidate.

    \b
    Examples:
        workbook-tool demo
        workbook-tool generate samples/roster.csv --out output/workbooks
        workbook-tool check returns/101_lincoln-high.xlsx
        workbook-tool consolidate returns/ --roster samples/roster.csv --out output/summary
    """


@main.group()
def rubric() -> None:
    """Validate and show rubrics.

    \b
    Examples:
        workbook-tool rubric check my_rubric.yaml
        workbook-tool rubric show --json
    """


@rubric.command("check")
@click.argument("rubric_file", required=False, type=click.Path(dir_okay=False))
def rubric_check(rubric_file: str | None) -> None:
    """Validate a rubric file (default: the packaged one); exit 1 listing every problem.

    \b
    Example:
        workbook-tool rubric check rubric/district_framework.yaml
    """
    try:
        loaded = load_rubric(rubric_file)
    except RubricError as exc:
        for problem in exc.problems:
            click.echo(f"{exc.path}: {problem}", err=True)
        click.echo(f"{exc.path}: {len(exc.problems)} problem(s)", err=True)
        sys.exit(EXIT_PROBLEMS)
    levels = len(loaded.levels)
    points = f", at most {loaded.max_points} points" if loaded.has_points else ""
    tiers = f", {len(loaded.tiers)} tiers" if loaded.tiers else ""
    click.echo(
        f"{Path(loaded.path).name}: ok: {loaded.title} {loaded.version}, "
        f"{len(loaded.domains)} domains, {len(loaded.indicators)} indicators, {levels} levels"
        f"{points}{tiers} (fingerprint {loaded.fingerprint[:12]})"
    )


@rubric.command("show")
@rubric_option
@json_option
@friendly
def rubric_show(rubric_path: str | None, as_json: bool) -> None:
    """Print a rubric's domains, indicators and levels.

    \b
    Examples:
        workbook-tool rubric show
        workbook-tool rubric show --json | jq '.domains[0].sections[0].indicators[0]'
    """
    loaded = load_rubric(rubric_path)
    if as_json:
        click.echo(json.dumps(loaded.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{loaded.title} ({loaded.id} {loaded.version})")
    click.echo("Levels: " + ", ".join(f"{lv.level} {lv.label}" for lv in loaded.levels))
    if loaded.has_points:
        click.echo("Points: " + ", ".join(f"{lv.label} {lv.points}" for lv in loaded.levels)
                   + f" (a return scores at most {loaded.max_points})")
    if loaded.tiers:
        click.echo("Tiers: " + ", ".join(f"{t.name} from {t.min_points}" for t in loaded.tiers))
    for domain in loaded.domains:
        click.echo(f"\n{domain.label} {domain.title}")
        for section in domain.sections:
            click.echo(f"  {section.title}")
            for ind in section.indicators:
                click.echo(f"    {ind.id} {ind.title}")
    click.echo(f"\nfingerprint {loaded.fingerprint}")


@main.command()
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the workbooks and manifest.csv.")
@rubric_option
@click.option("--cycle", default="", help='Assessment cycle, e.g. "2026-27".')
@click.option("--domains", help="Only these domains, e.g. 1,3 (default: all).")
@click.option("--due", default="", help='Return date shown to schools, e.g. "March 15".')
@click.option("--return-to", default="", help="Who receives the returns (name, e-mail).")
@click.option("--password", default=None,
              help="Sheet-protection password (default: protected without a password).")
@click.option("--raters", type=RaterCount(), default=None,
              help="Add a Team ratings sheet with this many rater columns (2 to 8).")
@click.option("--prefill", "prefill_path", type=click.Path(dir_okay=False, exists=True),
              help="History store: prefill each school's workbook with its answers of the "
                   "most recent other cycle recorded there (needs --cycle).")
@click.option("--prefill-cycle", default=None,
              help="With --prefill: take the answers of this recorded cycle only.")
@jobs_option
@quiet_option
@friendly
def generate(roster: str, out_dir: str, rubric_path: str | None, cycle: str,
             domains: str | None, due: str, return_to: str, password: str | None,
             raters: int | None, prefill_path: str | None, prefill_cycle: str | None,
             jobs: int | None, quiet: bool) -> None:
    """Write one protected rating workbook per school of ROSTER, plus manifest.csv.

    ROSTER is a CSV or XLSX file with columns school_id and school_name (optional:
    network, contact_name, contact_email).

    \b
    Examples:
        workbook-tool generate samples/roster.csv --out output/workbooks --cycle 2026-27
        workbook-tool generate roster.xlsx --out out --domains 1,3 --due "March 15"
        workbook-tool generate samples/roster.csv --out output/team --raters 4
        workbook-tool generate roster.csv --out next --cycle 2027-28 --prefill history.sqlite
    """
    from .generate import default_jobs
    from .generate import generate as run
    from .writer import Issue

    loaded = load_rubric(rubric_path)
    schools = load_roster(roster)
    domain_ids = parse_domains(domains, loaded)
    issue = Issue(cycle=cycle.strip(), due=due.strip(), return_to=return_to.strip(),
                  raters=raters or 0)
    previous = _prefill(prefill_path, prefill_cycle, loaded, issue.cycle, schools)
    with progress_bar(len(schools), "Generating", quiet) as update:
        results = run(loaded, schools, out_dir, issue, domain_ids, password,
                      jobs or default_jobs(), update, previous=previous)
    if not quiet:
        carried = f", {len(previous)} of them prefilled from the history store" if previous else ""
        click.echo(f"Wrote {len(results)} workbooks{carried} and manifest.csv to {out_dir}")


def _prefill(store: str | None, prefill_cycle: str | None, rubric, cycle: str, schools):
    """Each school's answers of an earlier cycle, from the store --prefill names."""
    if store is None:
        if prefill_cycle is not None:
            raise Abort("--prefill-cycle chooses a cycle of a history store: give --prefill "
                        "STORE too")
        return {}
    if not cycle:
        raise Abort("--prefill carries an earlier cycle into a new one: give --cycle too, "
                    "e.g. --cycle 2027-28")
    from .history import check_store, previous_answers

    check_store(store)
    return previous_answers(store, rubric, cycle, [s.school_id for s in schools],
                            prefill_cycle.strip() if prefill_cycle else None)


limit_options = [
    click.option("--max-size", type=click.IntRange(min=1), default=20, show_default=True,
                 help="Largest return accepted, in MiB."),
    click.option("--max-unzipped", type=click.IntRange(min=1), default=200, show_default=True,
                 help="Largest total size of a return's unzipped parts, in MiB."),
    click.option("--max-cells", type=click.IntRange(min=1000), default=2_000_000,
                 show_default=True, help="Largest extent of a sheet the reader opens, in cells."),
]


def with_limits(func: Callable) -> Callable:
    for option in reversed(limit_options):
        func = option(func)
    return func


def make_limits(max_size: int, max_unzipped: int, max_cells: int):
    from .reader import Limits

    return Limits(max_file_bytes=max_size * 2**20, max_unzipped_bytes=max_unzipped * 2**20,
                  max_cells=max_cells)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@rubric_option
@json_option
@with_limits
@friendly
def check(files: tuple[str, ...], rubric_path: str | None, as_json: bool, max_size: int,
          max_unzipped: int, max_cells: int) -> None:
    """Check filled workbooks before sending them: one line per problem, then a verdict.

    Exit 0 when every file can be accepted (warnings allowed), 1 when any file has errors.

    \b
    Examples:
        workbook-tool check 101_lincoln-high-school.xlsx
        workbook-tool check returns/*.xlsx --json
    """
    from .reader import read_file

    loaded = load_rubric(rubric_path)
    limits = make_limits(max_size, max_unzipped, max_cells)
    results = [read_file(path, loaded, limits) for path in files]
    if as_json:
        click.echo(json.dumps({"files": [_check_json(r) for r in results]},
                              ensure_ascii=False, indent=2))
    else:
        for result in results:
            for problem in result.problems:
                click.echo(problem.render())
            discuss = _discuss(result)
            if discuss:
                click.echo(discuss)
            click.echo(_verdict(result))
    sys.exit(EXIT_PROBLEMS if any(not r.ok for r in results) else EXIT_OK)


def _verdict(result) -> str:
    counts = f"{result.errors} error(s), {result.warnings} warning(s)"
    rated = f"{result.rated} of {result.total} indicators rated"
    # click.echo drops the colours unless stdout is a terminal.
    if not result.ok:
        verdict = click.style("REJECTED", fg="red", bold=True)
        return f"{result.file}: {verdict}: {counts}; fix the errors above and check again."
    if result.warnings:
        verdict = click.style("ok with warnings", fg="yellow")
        return f"{result.file}: {verdict}: {rated}; {counts}."
    return f"{result.file}: {click.style('ok', fg='green')}: {rated}, ready to send."


def _check_json(result) -> dict:
    return {
        "file": result.file, "sha256": result.sha256, "school_id": result.school_id,
        "school_name": result.school_name, "cycle": result.cycle, "ok": result.ok,
        "rated": result.rated, "total": result.total, "errors": result.errors,
        "warnings": result.warnings, "problems": [p.to_dict() for p in result.problems],
        "flagged": [one.indicator_id for one in _flagged(result)],
    }


def _flagged(result) -> list:
    """The indicators whose raters are 2 levels or more apart (none without raters)."""
    from .consolidate import compared

    return [one for one in compared(result) if one.figures.flagged]


def _discuss(result) -> str:
    """What a team with raters should talk about before sending ("" without raters)."""
    if result.team is None:
        return ""
    flagged = _flagged(result)
    if flagged:
        # Flagged indicators the team has not agreed yet are the ones still to discuss.
        open_ = [f"{one.indicator_id} (ratings {one.figures.ratings})"
                 for one in flagged if one.agreed is None]
        settled = [f"{one.indicator_id} (ratings {one.figures.ratings}, agreed {one.agreed})"
                   for one in flagged if one.agreed is not None]
        lines = []
        if open_:
            lines.append(f"{result.file}: Discuss before sending: {', '.join(open_)}.")
        if settled:
            lines.append(f"{result.file}: flagged and agreed: {', '.join(settled)}.")
        return "\n".join(lines)
    from .consolidate import compared

    count = sum(1 for _one in compared(result))
    if not count:
        return ""
    return (f"{result.file}: nothing to discuss: the raters are within one level of each "
            f"other on all {count} indicator(s) two or more of them rated.")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--roster", required=True, type=click.Path(dir_okay=False),
              help="The roster the workbooks were generated from (CSV or XLSX).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for district_summary.xlsx, district_report.html and the CSV "
                   "exports.")
@rubric_option
@click.option("--cycle", default="", help="Reject returns of any other cycle.")
@click.option("--history", "history_path", type=click.Path(dir_okay=False), default=None,
              help="Record the cycle in this history store (SQLite, created when absent; "
                   "needs --cycle).")
@click.option("--pdf", "as_pdf", is_flag=True,
              help="Also print the board report to district_report.pdf (needs Chromium).")
@json_option
@jobs_option
@with_limits
@quiet_option
@friendly
def consolidate(inputs: tuple[str, ...], roster: str, out_dir: str, rubric_path: str | None,
                cycle: str, history_path: str | None, as_pdf: bool, as_json: bool,
                jobs: int | None, max_size: int, max_unzipped: int, max_cells: int,
                quiet: bool) -> None:
    """Validate every return and build the district summary and the board report.

    INPUT may be files, folders (searched recursively) and .zip archives. Every file is
    reported in returns.csv; schools on the roster without a return are listed as missing.
    district_report.html is the board report (one file, opens in any browser); --pdf also
    prints it to district_report.pdf. With --history, the cycle's ratings and returns are
    also recorded in the store, replacing an earlier record of the same cycle (other cycles
    are kept).

    \b
    Examples:
        workbook-tool consolidate returns/ --roster roster.csv --out summary/
        workbook-tool consolidate returns.zip late/104.xlsx --roster roster.csv --out summary/
        workbook-tool consolidate returns/ --roster roster.csv --out summary/ \\
            --cycle 2026-27 --history history.sqlite
        workbook-tool consolidate returns/ --roster roster.csv --out summary/ --pdf
    """
    from .files import is_inside
    from .pipeline import run_consolidation
    from .summary import recover_outputs

    store = _history_store(history_path, cycle.strip())
    pdf = _pdf_printer() if as_pdf else None
    out = Path(out_dir)
    if out.is_dir():  # an interrupted run's commit is finished (or undone) before anything
        recover_outputs(out)
    loaded = load_rubric(rubric_path)
    schools = load_roster(roster)
    for arg in inputs:
        if Path(arg).is_dir() and is_inside(out, Path(arg)):
            raise Abort(f"the output folder {out_dir} is inside the input folder {arg}; "
                        "choose an output folder outside the returns")
    limits = make_limits(max_size, max_unzipped, max_cells)
    quiet = quiet or as_json
    report = run_consolidation(loaded, schools, list(inputs), out, cycle.strip(), limits,
                               jobs, quiet, store, pdf)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif not quiet:
        click.echo(report.render())
    sys.exit(EXIT_PROBLEMS if report.run.has_errors else EXIT_OK)


def _pdf_printer():
    """html_to_pdf, once a PDF engine is known to be there (PdfError, exit 2, when not)."""
    from .pdf import find_engine, html_to_pdf

    find_engine()
    return html_to_pdf


@main.command()
@click.argument("returns", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False),
              help="The team workbook to write (.xlsx); never one of the inputs.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@rubric_option
@json_option
@with_limits
@friendly
def team(returns: tuple[str, ...], out_file: str, force: bool, rubric_path: str | None,
         as_json: bool, max_size: int, max_unzipped: int, max_cells: int) -> None:
    """Gather team members' own ratings of one school into a team workbook.

    Each member fills an ordinary copy of the school's workbook on their own; rater K of
    the team workbook is the K-th RETURN (2 to 8), named after its "Completed by" cell or
    its file name. Every return is checked as `check` does; with errors, nothing is written
    and the exit code is 1. Returns of different schools, rubrics or cycles: exit 2.

    \b
    Examples:
        workbook-tool team ana.xlsx ben.xlsx chris.xlsx --out 101_team.xlsx
        workbook-tool team members/*.xlsx --out 101_team.xlsx --json
    """
    from .team import gather

    loaded = load_rubric(rubric_path)
    limits = make_limits(max_size, max_unzipped, max_cells)
    made = gather(list(returns), loaded, out_file, limits, overwrite=force)
    if as_json:
        click.echo(json.dumps(_team_json(made), ensure_ascii=False, indent=2))
    else:
        for result in made.results:
            for problem in result.problems:
                click.echo(problem.render())
            click.echo(_verdict(result))
        click.echo(_team_summary(made))
    sys.exit(EXIT_OK if made.written else EXIT_PROBLEMS)


def _team_summary(made) -> str:
    if not made.written:
        return "No team workbook written: fix the errors above and run again."
    from .files import display_name

    school = made.school
    names = ", ".join(display_name(name) for name in made.names)  # no terminal escapes
    lines = [f"Wrote {display_name(str(made.out))}: team workbook of "
             f"{display_name(school.school_name)} ({display_name(school.school_id)})"
             f"{', cycle ' + display_name(made.cycle) if made.cycle else ''}, "
             f"{len(made.names)} raters: {names}."]
    idle = [display_name(name) for name, result in zip(made.names, made.results, strict=True)
            if not result.rated]
    if idle:
        lines.append(f"Rated nothing: {', '.join(idle)}.")
    if made.flagged:
        listed = ", ".join(f"{f.indicator_id} (ratings {f.ratings})" for f in made.flagged)
        lines.append(f"Discuss first ({len(made.flagged)} indicators two levels or more "
                     f"apart): {listed}.")
    elif made.compared:
        lines.append(f"No indicator has raters two levels or more apart ({made.compared} "
                     "rated by two raters or more).")
    else:
        lines.append("No indicator was rated by two raters or more yet.")
    lines.append("Next: meet as a team, pick the agreed rating on each domain sheet, and "
                 "write an agreement note where it is outside the raters' range.")
    return "\n".join(lines)


def _team_json(made) -> dict:
    return {
        "file": str(made.out) if made.written else None,
        "school_id": made.school.school_id if made.school else "",
        "cycle": made.cycle, "raters": list(made.names),
        "flagged": [{"indicator_id": f.indicator_id, "ratings": f.ratings}
                    for f in made.flagged],
        "inputs": [_check_json(r) for r in made.results],
    }


@main.command()
@click.option("--out", "out_dir", default="output/demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for everything the demo makes.")
@quiet_option
@friendly
def demo(out_dir: str, quiet: bool) -> None:
    """Run the whole pipeline on the packaged samples: generate, fill, consolidate.

    \b
    Example:
        workbook-tool demo --out /tmp/demo
    """
    from .demo import run_demo

    summary = run_demo(Path(out_dir), quiet=quiet)
    if not quiet:
        click.echo(summary)


def _history_store(history_path: str | None, cycle: str) -> Path | None:
    """The store --history names, checked before anything is read or written."""
    if history_path is None:
        return None
    if not cycle:
        raise Abort("--history records a cycle under its name: give --cycle too, "
                    'e.g. --cycle 2026-27')
    from .history import check_store

    check_store(history_path)
    return Path(history_path)


@main.group()
def history() -> None:
    """Show and export the cycles recorded in a history store.

    A store is the SQLite file that `consolidate --cycle C --history STORE` records each
    cycle in.

    \b
    Examples:
        workbook-tool history show history.sqlite
        workbook-tool history export history.sqlite --out exports/
    """


@history.command("show")
@click.argument("store", type=click.Path(dir_okay=False))
@json_option
@friendly
def history_show(store: str, as_json: bool) -> None:
    """List the cycles recorded in STORE: when, rubric version, schools accepted, returns.

    \b
    Examples:
        workbook-tool history show history.sqlite
        workbook-tool history show history.sqlite --json
    """
    from .files import display_name
    from .history import list_cycles

    cycles = list_cycles(store)
    if as_json:
        click.echo(json.dumps({"store": display_name(store),
                               "cycles": [c.to_json() for c in cycles]},
                              ensure_ascii=False, indent=2))
        return
    if not cycles:
        click.echo(f"{display_name(store)}: no cycle recorded yet.")
        return
    click.echo(_cycles_table(cycles))


def _cycles_table(cycles: list) -> str:
    from .files import display_name

    head = ("cycle", "recorded at (UTC)", "rubric version", "schools accepted", "returns")
    rows = [(display_name(c.cycle), c.recorded_at.replace("T", " ").removesuffix("Z"),
             display_name(c.rubric_version), str(c.schools_accepted), str(c.returns))
            for c in cycles]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(row, widths,
                                                                         strict=True)).rstrip()
                     for row in [head, *rows])


@history.command("export")
@click.argument("store", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for history.csv, history_returns.csv (and history.parquet).")
@quiet_option
@friendly
def history_export(store: str, out_dir: str, quiet: bool) -> None:
    """Write every recorded cycle of STORE as CSV files into --out.

    history.csv has the columns of ratings.csv for every cycle; history_returns.csv has
    cycle followed by the columns of returns.csv; history.parquet (written where pyarrow
    is installed) has the rows of history.csv. They replace earlier copies together.

    \b
    Example:
        workbook-tool history export history.sqlite --out exports/
    """
    from .files import display_name
    from .history import export_history

    written = export_history(store, out_dir)
    if not quiet:
        click.echo(f"Wrote {', '.join(written)} to {display_name(out_dir)}")
