"""A real browser for tests: Debian's headless Chromium, driven over the DevTools protocol.

No Python dependency: Chromium is started with `--remote-debugging-pipe`, which makes it read
protocol messages from its file descriptor 3 and write them to 4, each a JSON object ended by
a NUL byte. `open_page` loads a local HTML file and records what a reviewer would look for:
every request the page made, every console message, uncaught exception and browser log
entry, and the time until the load event. The page can then be asked to evaluate JavaScript
and to take PNG screenshots, which `png_size` and `png_pixel` read without Pillow.

    with open_page(report) as page:
        assert page.requests == [report.as_uri()]
        assert page.errors() == []
        texts = page.evaluate("[...document.querySelectorAll('section')].map(s => s.innerText)")
        png = page.screenshot(width=1280, height=800)
        assert png_size(png) == (1280, 800) and png_pixel(png, 0, 0) == (255, 255, 255)

Every visit has a deadline (a test never hangs) and always ends by killing the browser's
whole process group. Where Chromium is missing, `skip_without_chromium()` skips with the
reason; with CI=true tests/conftest.py turns that skip into a failure.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import tempfile
import time
import zlib
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

TIMEOUT = 60.0  # seconds for one whole visit, from start to the last command
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
READ_FD, WRITE_FD = 3, 4  # where Chromium's pipe handler expects the protocol
SETTLE = 0.1  # seconds of quiet after the load event before a visit counts as done


class BrowserError(Exception):
    """Chromium failed, answered a command with an error, or ran out of time."""


def chromium() -> str | None:
    """The Chromium to drive: WORKBOOK_TOOL_CHROMIUM if set, else the first on PATH."""
    chosen = os.environ.get("WORKBOOK_TOOL_CHROMIUM", "").strip()
    if chosen:
        return shutil.which(chosen)
    for name in NAMES:
        if path := shutil.which(name):
            return path
    return None


def missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    if chromium() is None:
        return "Chromium is not installed (Debian/Ubuntu: apt install chromium)"
    return ""


def hide_chromium(monkeypatch, tmp_path: Path) -> None:
    """Make this test's process see no Chromium (an empty PATH, no WORKBOOK_TOOL_CHROMIUM)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("WORKBOOK_TOOL_CHROMIUM", raising=False)


def skip_without_chromium() -> str:
    """Chromium's path; skips the calling test with the reason when it is missing."""
    path = chromium()
    if path is None:
        pytest.skip(missing())
    return path


def _flags(profile: str) -> list[str]:
    flags = [
        "--headless",  # the new headless mode: the old one left Chromium in version 132
        "--remote-debugging-pipe",
        f"--user-data-dir={profile}",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
        "--disable-gpu",  # software drawing only: screenshots do not depend on the machine
        "about:blank",
    ]
    if os.geteuid() == 0:  # Chromium refuses to start as root with its sandbox on
        flags.insert(0, "--no-sandbox")
    return flags


def _high_fd(fd: int) -> int:
    """A close-on-exec copy of fd numbered 10 or more: moving one pipe end to 3 can then
    never overwrite the other before it moves to 4, and neither is already 3 or 4."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


class _Pipe:
    """The DevTools protocol over Chromium's pipe: commands, answers and events."""

    def __init__(self, send_fd: int, recv_fd: int, deadline: float, on_event,
                 stderr: str) -> None:
        self.send_fd, self.recv_fd, self.deadline = send_fd, recv_fd, deadline
        self.stderr = stderr  # Chromium's stderr, for the last words of a failure
        self.on_event = on_event
        self.session = ""
        self.buffer = b""
        self.last_id = 0
        self.pending: list[dict] = []  # events nobody waited for yet

    def call(self, method: str, **params) -> dict:
        """Send one command and wait for its answer, recording the events on the way."""
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.send_fd, json.dumps(message).encode() + b"\0")
        while True:
            answer = self.receive()
            if answer.get("id") == self.last_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})

    def wait_for(self, event: str) -> dict:
        """The params of the first event of that name not waited for yet."""
        while True:
            for i, seen in enumerate(self.pending):
                if seen["method"] == event:
                    return self.pending.pop(i).get("params", {})
            self.receive()

    def settle(self, quiet: float) -> None:
        """Record what arrives until nothing has come for `quiet` seconds."""
        while b"\0" in self.buffer or select.select([self.recv_fd], [], [], quiet)[0]:
            self.receive()

    def receive(self) -> dict:
        """The next message; an event is recorded before it is returned."""
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.recv_fd], [], [], left)[0]:
                raise BrowserError(f"Chromium did not finish in time; {self.last_words()}")
            chunk = os.read(self.recv_fd, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the connection (it crashed or quit); "
                                   f"{self.last_words()}")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        message = json.loads(raw)
        if "method" in message:
            self.pending.append(message)
            self.on_event(message["method"], message.get("params", {}))
        return message

    def last_words(self) -> str:
        try:
            lines = Path(self.stderr).read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return f"its last words: {lines[-1] if lines else '(none)'}"


class Page:
    """One page open in Chromium, and what it has done so far."""

    def __init__(self, url: str, pipe_fds: tuple[int, int], deadline: float,
                 stderr: str) -> None:
        self.url = url
        self.requests: list[str] = []  # every URL the page asked for, in order
        self.console: list[tuple[str, str]] = []  # (type: log, error..., text)
        self.exceptions: list[str] = []  # uncaught, with their message
        self.log: list[tuple[str, str]] = []  # (level, text) from the browser itself
        self.load_seconds = 0.0  # from navigating to the load event
        self.width = self.height = 0
        self._pipe = _Pipe(*pipe_fds, deadline, self._record, stderr)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (failed loads...)."""
        found = [f"console.{kind}: {text}" for kind, text in self.console
                 if kind in ("error", "assert")]
        found += [f"exception: {text}" for text in self.exceptions]
        found += [f"log {level}: {text}" for level, text in self.log if level == "error"]
        return found

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-like values only)."""
        result = self._pipe.call("Runtime.evaluate", expression=expression,
                                 returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {_exception_text(result)}")
        return result["result"].get("value")

    def screenshot(self, width: int | None = None, height: int | None = None) -> bytes:
        """A PNG of the page at scale 1: the whole page at the window's width by default, or
        width × height CSS pixels from its top left (laid out at that width)."""
        width = width or self.width
        window = (width, height or self.height)
        moved = window != (self.width, self.height)
        if moved:  # laying a large page out again takes seconds: only when asked
            self._resize(*window)
        try:
            if height is None:
                metrics = self._pipe.call("Page.getLayoutMetrics")
                height = int(metrics["cssContentSize"]["height"])
            shot = self._pipe.call("Page.captureScreenshot", format="png",
                                   captureBeyondViewport=height > window[1],
                                   clip={"x": 0, "y": 0, "width": width, "height": height,
                                         "scale": 1})
        finally:
            if moved:
                self._resize(self.width, self.height)
        return base64.b64decode(shot["data"])

    def open(self, width: int, height: int) -> None:
        """Load the page in a new tab of width × height CSS pixels; wait for its load event."""
        self.width, self.height = width, height
        target = self._pipe.call("Target.createTarget", url="about:blank")["targetId"]
        self._pipe.session = self._pipe.call("Target.attachToTarget", targetId=target,
                                             flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self._pipe.call(f"{domain}.enable")
        self._resize(width, height)
        start = time.monotonic()
        self._pipe.call("Page.navigate", url=self.url)
        self._pipe.wait_for("Page.loadEventFired")
        self.load_seconds = time.monotonic() - start
        self._pipe.settle(SETTLE)  # late console messages and failed requests

    def _resize(self, width: int, height: int) -> None:
        self._pipe.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)

    def _record(self, method: str, params: dict) -> None:
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            self.console.append((params["type"], " ".join(_text(a) for a in params["args"])))
        elif method == "Runtime.exceptionThrown":
            self.exceptions.append(_exception_text(params))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.log.append((entry["level"], f"{entry['text']} {entry.get('url', '')}".strip()))


def _text(arg: dict) -> str:
    if "value" in arg:
        return str(arg["value"])
    return str(arg.get("description", arg.get("type", "")))


def _exception_text(params: dict) -> str:
    details = params["exceptionDetails"]
    thrown = details.get("exception", {})
    return str(thrown.get("description") or details.get("text", ""))


@contextmanager
def open_page(html: Path, width: int = 1280, height: int = 800, timeout: float = TIMEOUT):
    """Open a local HTML file in a fresh headless Chromium and yield its Page, loaded.

    The window is width × height CSS pixels at scale 1. The browser is killed on the way out,
    whatever happened."""
    path = skip_without_chromium()
    url = Path(html).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        stderr = os.path.join(profile, "stderr.txt")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            theirs = [_high_fd(to_child_r), _high_fd(from_child_w)]
            try:
                pid = _spawn(path, _flags(os.path.join(profile, "profile")), theirs, stderr)
            finally:
                for fd in theirs:
                    os.close(fd)
        except BaseException:
            os.close(to_child_w)
            os.close(from_child_r)
            raise
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        try:
            page = Page(url, (to_child_w, from_child_r), time.monotonic() + timeout, stderr)
            page.open(width, height)
            yield page
        finally:
            _kill(pid)
            os.close(to_child_w)
            os.close(from_child_r)


def _spawn(path: str, flags: list[str], fds: list[int], stderr: str) -> int:
    """Start Chromium in a process group of its own with fds[0] as its fd 3 and fds[1] as
    its fd 4; its output goes to the file stderr."""
    # posix_spawn, not subprocess: the pipe must arrive as exactly fds 3 and 4, which
    # subprocess can only do with a preexec_fn, unsafe when threads run.
    return os.posix_spawn(path, [path, *flags], os.environ, setsid=True, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stderr, os.O_WRONLY | os.O_CREAT, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
        (os.POSIX_SPAWN_DUP2, fds[0], READ_FD),
        (os.POSIX_SPAWN_DUP2, fds[1], WRITE_FD),
    ])


def _kill(pid: int) -> None:
    """Kill Chromium and every process it started (its own process group), then reap it."""
    with suppress(ProcessLookupError):  # pid is still unreaped: its group cannot be reused
        os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)



# -- reading the screenshots (no Pillow needed) ---------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its IHDR chunk (always the first)."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def png_pixel(data: bytes, x: int, y: int) -> tuple[int, ...]:
    """The colour at (x, y) of an 8-bit RGB or RGBA PNG, as Chromium writes them: (r, g, b)
    or (r, g, b, a)."""
    width, _ = png_size(data)
    depth, colour = data[24], data[25]
    if depth != 8 or colour not in (2, 6):
        raise ValueError(f"only 8-bit RGB(A) PNGs are read, not depth {depth} type {colour}")
    size = 3 if colour == 2 else 4
    rows = _png_rows(zlib.decompress(_png_chunks(data, b"IDAT")), width * size, size, y + 1)
    return tuple(rows[y][x * size:(x + 1) * size])


def _png_chunks(data: bytes, kind: bytes) -> bytes:
    found, at = [], 8
    while at < len(data):
        length, name = struct.unpack(">I4s", data[at:at + 8])
        if name == kind:
            found.append(data[at + 8:at + 8 + length])
        at += 12 + length
    return b"".join(found)


def _png_rows(raw: bytes, stride: int, size: int, count: int) -> list[bytearray]:
    """The first `count` rows of pixels, each row's filter undone (PNG spec, section 9)."""
    rows, above = [], bytearray(stride)
    for n in range(count):
        start = n * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = row[i - size] if i >= size else 0
            up, corner = above[i], above[i - size] if i >= size else 0
            row[i] = (row[i] + _predict(kind, left, up, corner)) & 0xFF
        rows.append(row)
        above = row
    return rows


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    guess = left + up - corner  # 4: Paeth
    near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
               (abs(guess - corner), 2, corner))
    return near[2]
