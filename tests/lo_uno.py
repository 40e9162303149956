#!/usr/bin/python3
"""Drive a headless LibreOffice through UNO: fill a workbook by its defined names, or inspect it.

Run with Debian's system Python, which has LibreOffice's `uno` module (pytest's Python
does not); the tests call it as a subprocess and never import it:

    /usr/bin/python3 tests/lo_uno.py fill    IN.xlsx OUT.xlsx VALUES.json [--profile DIR]
    /usr/bin/python3 tests/lo_uno.py inspect IN.xlsx [--profile DIR]

`fill` reads a JSON object {defined name: text}, finds every cell through the workbook's
named ranges (never by sheet or row), sets it with setString (never setFormula, so
"=HYPERLINK(...)" stays text) and stores the document as xlsx ("Calc MS Excel 2007 XML").
It prints a JSON report on stdout. `inspect` prints JSON of what LibreOffice sees: sheets and
their visibility and protection, named ranges and their cells, the validation of every
rating_/priority_ cell, the document's custom properties and their Python types, and the
hidden metadata sheet's values.

Documents are opened from a private copy and with a view (Hidden=False; nothing is shown, soffice
is headless), as in a user's session: a hidden document is saved without its frozen panes and
hidden gridlines. No recalculation is requested: autocalc updates the formulas that depend on
the edited cells, as when a user types.

Every run starts its own soffice with a private user profile (`--profile DIR`, a fresh
temporary one by default) listening on a private pipe, and always ends it: on success, on an
error, and from a watchdog after `--timeout` seconds (default 90), when the script exits 3.

Sheet protection, observed with LibreOffice 7.4.7 on sheets protected with an empty password:
setString on an unlocked cell of a protected sheet works through the API, so the script never
unprotects anything. (The API does not enforce protection at all: setString and even
setFormula on a *locked* cell of a protected sheet also succeed, unlike typing in the UI. The
report records each cell's sheet protection and lock so a test can insist on unlocked cells.)
If a later LibreOffice refuses a write, the name is listed under "refused" and the exit code is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import uno  # type: ignore[import-not-found]  # Debian's python3-uno
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

XLSX_FILTER = "Calc MS Excel 2007 XML"
CONNECT_SECONDS = 45


def props(**values) -> tuple:
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


class Office:
    """A private soffice process and a UNO connection to it; always terminated on exit."""

    def __init__(self, profile: Path | None, timeout: float) -> None:
        self.own_profile = profile is None
        self.profile = Path(tempfile.mkdtemp(prefix="lo_uno_")) if profile is None else profile
        # Documents are opened from private copies: the input is never touched, and the lock
        # file LibreOffice keeps beside an open document (left behind if soffice is killed)
        # never lands next to the caller's files to block the next run.
        self.work = Path(tempfile.mkdtemp(prefix="lo_uno_work_"))
        self.pipe = f"lo_uno_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.proc: subprocess.Popen | None = None
        self.desktop = None
        self.expired = False
        self.watchdog = threading.Timer(timeout, self._expired, args=(timeout,))
        self.watchdog.daemon = True

    def __enter__(self) -> Office:
        self.watchdog.start()
        try:
            self._start()
        except BaseException:
            self._kill()
            self.close()
            raise
        return self

    def _start(self) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [shutil.which("soffice") or "soffice",
             f"-env:UserInstallation={self.profile.resolve().as_uri()}",
             "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
             "--nolockcheck", "--nofirststartwizard",
             f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so the watchdog ends it all
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + CONNECT_SECONDS
        while True:
            try:
                ctx = resolver.resolve(
                    f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"soffice exited with {self.proc.returncode}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("could not connect to soffice") from None
                time.sleep(0.25)
        self.desktop = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", ctx)

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self, path: Path):
        copy = self.work / f"{len(list(self.work.iterdir()))}{path.suffix}"
        shutil.copyfile(path, copy)
        # Hidden=False gives the document a view, as in a user's session (soffice is headless,
        # so nothing is shown). A hidden document is saved without its view settings: frozen
        # panes are dropped and hidden gridlines come back, as with `--convert-to xlsx`.
        doc = self.desktop.loadComponentFromURL(
            copy.as_uri(), "_blank", 0,
            props(Hidden=False, ReadOnly=False, MacroExecutionMode=0, UpdateDocMode=0))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {path}")
        return doc

    def close(self) -> None:
        if self.desktop is not None:
            with contextlib.suppress(Exception):  # the bridge drops as soffice exits
                self.desktop.terminate()
            self.desktop = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._kill()
            self.proc = None
        self.watchdog.cancel()
        self._remove_folders()

    def _remove_folders(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        if self.own_profile:
            shutil.rmtree(self.profile, ignore_errors=True)

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        # A killed soffice leaves its pipe's socket file behind.
        for leftover in Path(tempfile.gettempdir()).glob(f"OSL_PIPE_*_{self.pipe}"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _expired(self, timeout: float) -> None:
        self.expired = True
        print(f"lo_uno: timed out after {timeout:g} s; soffice killed", file=sys.stderr)
        self._kill()
        self._remove_folders()
        os._exit(3)


def named_cell(doc, name: str):
    """The single cell a workbook-scope name refers to, through LibreOffice's named ranges."""
    ranges = doc.NamedRanges
    if not ranges.hasByName(name):
        raise KeyError(f"no defined name {name!r}")
    cells = ranges.getByName(name).getReferredCells()
    if cells is None:
        raise KeyError(f"defined name {name!r} refers to no cells")
    addr = cells.getRangeAddress()
    if (addr.StartColumn, addr.StartRow) != (addr.EndColumn, addr.EndRow):
        raise KeyError(f"defined name {name!r} refers to more than one cell")
    return cells.getCellByPosition(0, 0), addr


def fill(office: Office, src: Path, dst: Path, values: dict[str, str]) -> dict:
    doc = office.load(src)
    report: dict = {"set": {}, "refused": {}}
    try:
        sheets = doc.Sheets
        for name, text in values.items():
            cell, addr = named_cell(doc, name)
            sheet = sheets.getByIndex(addr.Sheet)
            try:
                cell.setString(str(text))
            except Exception as exc:  # e.g. a locked cell on a protected sheet
                report["refused"][name] = f"{type(exc).__name__}: {exc}"
                continue
            report["set"][name] = {
                "sheet": sheet.Name, "protected": bool(sheet.isProtected()),
                "locked": bool(cell.CellProtection.IsLocked),
                "read_back": cell.getString(), "cell_type": cell.getType().value,
            }
        dst.parent.mkdir(parents=True, exist_ok=True)
        doc.storeToURL(dst.resolve().as_uri(), props(FilterName=XLSX_FILTER, Overwrite=True))
    finally:
        doc.close(True)
    return report


def _validation(cell) -> dict:
    val = cell.Validation
    kind = val.Type.value if hasattr(val.Type, "value") else str(val.Type)
    return {
        "type": kind,
        "formula1": val.getFormula1(),
        "show_error": bool(val.ShowErrorMessage),
        "error_style": val.ErrorAlertStyle.value,
        "show_input": bool(val.ShowInputMessage),
        "input_title": val.InputTitle,
        "show_list": int(val.ShowList),
    }


def _user_properties(doc) -> dict:
    user = doc.DocumentProperties.UserDefinedProperties
    out = {}
    for prop in user.getPropertySetInfo().getProperties():
        value = user.getPropertyValue(prop.Name)
        shown = value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
        out[prop.Name] = {"value": shown, "python_type": type(value).__name__}
    return out


def inspect(office: Office, src: Path) -> dict:
    doc = office.load(src)
    try:
        sheets = doc.Sheets
        info: dict = {"sheets": [], "names": {}, "validations": {}, "cells": {}}
        for i in range(sheets.getCount()):
            sheet = sheets.getByIndex(i)
            info["sheets"].append({"name": sheet.Name, "visible": bool(sheet.IsVisible),
                                   "protected": bool(sheet.isProtected())})
        ranges = doc.NamedRanges
        for name in ranges.getElementNames():
            named = ranges.getByName(name)
            entry = {"content": named.getContent()}
            cells = named.getReferredCells()
            if cells is not None:
                addr = cells.getRangeAddress()
                entry["sheet"] = sheets.getByIndex(addr.Sheet).Name
                entry["single_cell"] = (addr.StartColumn, addr.StartRow) == (
                    addr.EndColumn, addr.EndRow)
                if entry["single_cell"]:
                    cell = cells.getCellByPosition(0, 0)
                    entry["cell"] = cell.AbsoluteName
                    info["cells"][name] = {"string": cell.getString(),
                                           "cell_type": cell.getType().value,
                                           "locked": bool(cell.CellProtection.IsLocked)}
                    if name.startswith(("rating_", "priority_")):
                        info["validations"][name] = _validation(cell)
            info["names"][name] = entry
        info["properties"] = _user_properties(doc)
        meta = {}
        if sheets.hasByName("_workbook_tool"):
            data = sheets.getByName("_workbook_tool")
            for row in range(1, 40):
                key = data.getCellByPosition(0, row).getString()
                if not key:
                    break
                cell = data.getCellByPosition(1, row)
                meta[key] = {"string": cell.getString(), "value": cell.getValue(),
                             "type": cell.getType().value}
        info["data_sheet"] = meta
        return info
    finally:
        doc.close(True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("fill", "inspect"))
    parser.add_argument("src", type=Path)
    parser.add_argument("rest", nargs="*", help="fill: OUT.xlsx VALUES.json")
    parser.add_argument("--profile", type=Path, help="user profile folder (default: a fresh one)")
    parser.add_argument("--timeout", type=float, default=90.0)
    args = parser.parse_args(argv)
    if args.action == "fill" and len(args.rest) != 2:
        parser.error("fill needs OUT.xlsx and VALUES.json")
    started = time.monotonic()
    office = Office(args.profile, args.timeout)
    try:
        with office:
            if args.action == "fill":
                values = json.loads(Path(args.rest[1]).read_text(encoding="utf-8"))
                result = fill(office, args.src, Path(args.rest[0]), values)
            else:
                result = inspect(office, args.src)
    except Exception as exc:
        if office.expired:
            return 3
        print(f"lo_uno: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    result["seconds"] = round(time.monotonic() - started, 2)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 1 if result.get("refused") else 0


if __name__ == "__main__":
    sys.exit(main())
