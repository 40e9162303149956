"""`consolidate --pdf`: district_report.html printed to district_report.pdf by Chromium.

The engine is headless Chromium from the operating system's packages, not a Python
library: it lays the page out exactly as the browser the board opens the HTML in, honours
the report's print CSS (`@page { size: landscape }`, page breaks, repeated table headers),
and needs no Python dependency. The HTML never depends on it: without Chromium only --pdf
stops, with one sentence saying what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from .problems import NothingDone

ENV = "WORKBOOK_TOOL_CHROMIUM"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 180.0  # seconds; a 2,000-school report prints in well under a minute
INSTALL = f"install Chromium (Debian/Ubuntu: apt install chromium) or set {ENV} to its path"


class PdfError(NothingDone):
    """No PDF could be made (no engine, the engine failed): one sentence, exit 2."""


def find_engine() -> str:
    """The Chromium to print with: $WORKBOOK_TOOL_CHROMIUM if set, else the first of NAMES
    on PATH. Raises PdfError when there is none, so --pdf can stop before any work."""
    chosen = os.environ.get(ENV, "").strip()
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise PdfError(f"{ENV} is set to {chosen}, which is not a program; point it at "
                           "Chromium, or unset it and install Chromium (Debian/Ubuntu: "
                           "apt install chromium)")
        return found
    for name in NAMES:
        if found := shutil.which(name):
            return found
    raise PdfError(f"no PDF engine is installed: {INSTALL}")


def html_to_pdf(html_path: Path, pdf_path: Path, timeout: float = TIMEOUT) -> None:
    """Print the HTML file to pdf_path (replaced whole, never left half written) with the
    page size and margins of its own print CSS. Raises PdfError with one sentence."""
    engine = find_engine()
    html = Path(html_path).resolve()
    if not html.is_file():
        raise PdfError(f"cannot print {html.name} to PDF: the file is missing")
    pdf = Path(pdf_path)
    part = pdf.with_name(f".{pdf.name}.part")
    part.unlink(missing_ok=True)  # a stale one from a killed run must not pass for new
    try:
        with tempfile.TemporaryDirectory(prefix="workbook-tool-pdf-") as work:
            stderr = Path(work) / "stderr.txt"
            command = [engine, *_flags(Path(work) / "profile"), f"--print-to-pdf={part}",
                       html.as_uri()]
            code = _run(command, stderr, timeout)
            last = _last_words(stderr, engine)
        # Chromium exits 0 even when the page failed to load or the file could not be
        # written: only a real PDF on disk counts.
        if code != 0:
            raise PdfError(f"Chromium failed to print the report (exit code {code}): {last}")
        if not _is_pdf(part):
            raise PdfError(f"Chromium wrote no PDF of the report: {last}")
        os.replace(part, pdf)
    finally:
        part.unlink(missing_ok=True)


def _flags(profile: Path) -> list[str]:
    flags = [
        "--headless",  # the new headless mode, the only one in Chromium since version 132
        f"--user-data-dir={profile}",  # a throw-away profile: nothing of the user's is read
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-gpu",  # software drawing: the same PDF on any machine, no GPU needed
        "--no-pdf-header-footer",  # no date, file URL or page numbers added by the browser
        "--generate-pdf-document-outline",  # the report's headings become PDF bookmarks
    ]
    if os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox on
        flags.insert(0, "--no-sandbox")
    return flags


def _run(command: list[str], stderr: Path, timeout: float) -> int:
    """Run Chromium in a process group of its own and return its exit code; kill the whole
    group (renderers, GPU and zygote processes too) when it is done or out of time."""
    try:
        with open(stderr, "wb") as err:
            # Output goes to a file, not a pipe: a helper Chromium leaves running a moment
            # would hold a pipe open and keep us waiting.
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=err,
                                       stderr=err, start_new_session=True)
    except OSError as exc:
        raise PdfError(f"could not start Chromium ({command[0]}): {exc.strerror}") from None
    try:
        finished = _wait(process.pid, timeout)
    finally:
        with suppress(ProcessLookupError):  # still unreaped, so the group is still ours
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if not finished:
        raise PdfError(f"Chromium did not finish printing the report within {timeout:.0f} "
                       f"seconds: {_last_words(stderr, command[0])}")
    return process.returncode


def _wait(pid: int, timeout: float) -> bool:
    """Whether the process exited within timeout seconds; it is left unreaped."""
    deadline = time.monotonic() + timeout
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# "[1427:1456:1201/023250.302846:ERROR:dbus/bus.cc:405] " before each of Chromium's log lines
LOG_PREFIX = re.compile(r"^\[[\d:/.]+:[A-Z]+:[^\]]*\]\s*")


def _last_words(stderr: Path, engine: str) -> str:
    """The last line Chromium wrote that says something, without its log prefix. Lines
    about D-Bus (absent on servers, and harmless) and from its launcher script's shell
    ("/usr/bin/chromium: 9: ...") are left out."""
    text = stderr.read_text(encoding="utf-8", errors="replace") if stderr.exists() else ""
    lines = [LOG_PREFIX.sub("", line).strip() for line in text.splitlines()
             if "dbus" not in line.lower() and not line.startswith(f"{engine}: ")]
    lines = [line for line in lines if line]
    return lines[-1] if lines else "it gave no reason"


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(5) == b"%PDF-"
    except OSError:
        return False
