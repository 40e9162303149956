"""The real-browser harness (tests/browser.py) checked on small hand-written pages.

Each page is made to show one thing the report tests rely on: a request to another address,
a console error, an uncaught exception, a clean page, a screenshot's size, and script
injection (escaped text runs nothing, the same markup unescaped runs). Skipped with the
reason where Chromium is missing; with CI=true that skip fails (tests/conftest.py).
"""

from __future__ import annotations

import struct
import time
import zlib

import pytest

from browser import BrowserError, chromium, open_page, png_pixel, png_size, skip_without_chromium

pytestmark = pytest.mark.browser

HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'


def page(tmp_path, body: str, name: str = "page.html"):
    path = tmp_path / name
    path.write_text(f"{HEAD}<body>{body}</body></html>", encoding="utf-8")
    return path


def test_a_request_to_another_address_is_recorded(tmp_path):
    html = page(tmp_path, '<img src="http://example.invalid/x.png" alt="x">')
    with open_page(html) as seen:
        assert seen.requests == [html.resolve().as_uri(), "http://example.invalid/x.png"]


def test_a_console_error_is_recorded(tmp_path):
    html = page(tmp_path, '<script>console.log("fine"); console.error("boom")</script>')
    with open_page(html) as seen:
        assert seen.console == [("log", "fine"), ("error", "boom")]
        assert seen.errors() == ["console.error: boom"]


def test_a_console_error_soon_after_the_load_event_is_recorded(tmp_path):
    html = page(tmp_path, '<script>onload = () => setTimeout(() => console.error("late"), 30)'
                          '</script>')
    with open_page(html) as seen:
        assert seen.errors() == ["console.error: late"]


def test_an_uncaught_exception_is_recorded(tmp_path):
    html = page(tmp_path, '<p>before</p><script>throw new Error("bad")</script>')
    with open_page(html) as seen:
        assert [text.splitlines()[0] for text in seen.exceptions] == ["Error: bad"]
        assert seen.errors()[0].startswith("exception: Error: bad\n")
        assert len(seen.errors()) == 1


def test_a_failed_load_is_a_logged_error(tmp_path):
    html = page(tmp_path, '<img src="missing.png" alt="x">')
    with open_page(html) as seen:
        missing = (tmp_path / "missing.png").resolve().as_uri()
        assert seen.errors() == [f"log error: Failed to load resource: net::ERR_FILE_NOT_FOUND "
                                 f"{missing}"]


def test_a_clean_inline_svg_page_makes_one_request_and_no_error(tmp_path):
    html = page(tmp_path, '<section><h2>Spread</h2><svg width="200" height="50" role="img">'
                          '<title>Levels</title><rect width="120" height="50" fill="#246"/>'
                          '</svg></section><section><h2>Next steps</h2><p>Plan &amp; act</p>'
                          '</section>')
    with open_page(html) as seen:
        assert seen.requests == [html.resolve().as_uri()]
        assert seen.console == [] and seen.exceptions == [] and seen.log == []
        assert seen.errors() == []
        assert 0 < seen.load_seconds < 10
        texts = seen.evaluate("[...document.querySelectorAll('section')].map(s => s.innerText)")
        assert texts == ["Spread", "Next steps\n\nPlan & act"]  # an SVG title is no text


def test_a_screenshot_is_a_png_of_the_asked_size(tmp_path):
    html = page(tmp_path, '<div style="height:3000px">tall</div>')
    with open_page(html, width=640, height=480) as seen:
        assert png_size(seen.screenshot()) == (640, 3016)  # the whole page: 8px body margins
        assert png_size(seen.screenshot(320, 200)) == (320, 200)
        assert seen.evaluate("[innerWidth, innerHeight]") == [640, 480]  # the window is back


BLUE, RED = (0, 0, 255), (255, 0, 0)


def test_the_whole_page_is_drawn_below_the_window(tmp_path):
    html = page(tmp_path, '<div style="height:1000px;background:#00f"></div>'
                          '<div style="height:1000px;background:#f00"></div>')
    with open_page(html, width=200, height=300) as seen:
        shot = seen.screenshot()
    assert png_size(shot) == (200, 2016)
    assert png_pixel(shot, 100, 500) == BLUE
    assert png_pixel(shot, 100, 1500) == RED  # far below the 300-pixel window


def test_a_screenshot_of_another_width_is_laid_out_at_that_width(tmp_path):
    html = tmp_path / "narrow.html"
    html.write_text(f"{HEAD[:-7]}<style>body {{ background: #00f }} @media (max-width: 400px) "
                    "{ body { background: #f00 } }</style></head><body></body></html>")
    with open_page(html, width=640, height=480) as seen:
        assert png_pixel(seen.screenshot(320, 200), 5, 5) == RED
        assert png_pixel(seen.screenshot(640, 200), 5, 5) == BLUE


def test_png_pixel_undoes_each_row_filter():
    """A hand-made 2 × 5 RGB PNG, one row per filter type; the pixels worked out by hand."""
    rows = [(0, [10, 20, 30, 40, 50, 60]),  # none
            (1, [1, 2, 3, 5, 5, 5]),  # sub: + the pixel to the left
            (2, [1, 1, 1, 1, 1, 1]),  # up: + the pixel above
            (3, [0, 0, 0, 0, 0, 0]),  # average of left and above
            (4, [0, 0, 0, 255, 0, 1])]  # Paeth
    raw = b"".join(bytes([kind, *values]) for kind, values in rows)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 5, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    assert png_size(data) == (2, 5)
    assert [png_pixel(data, x, y) for y in range(5) for x in range(2)] == [
        (10, 20, 30), (40, 50, 60),
        (1, 2, 3), (6, 7, 8),
        (2, 3, 4), (7, 8, 9),
        (1, 1, 2), (4, 4, 5),
        (1, 1, 2), (3, 4, 6)]


def test_escaped_markup_runs_nothing_and_the_check_sees_it_when_unescaped(tmp_path):
    text = page(tmp_path, '<p>&lt;img src=x onerror="window.__pwned=1"&gt;</p>', "text.html")
    with open_page(text) as seen:
        assert seen.evaluate("typeof window.__pwned") == "undefined"
        assert seen.evaluate("document.body.innerText") == '<img src=x onerror="window.__pwned=1">'
    markup = page(tmp_path, '<p><img src=x onerror="window.__pwned=1"></p>', "markup.html")
    with open_page(markup) as seen:
        assert seen.evaluate("window.__pwned") == 1


def test_a_failing_expression_raises(tmp_path):
    with open_page(page(tmp_path, "<p>x</p>")) as seen, \
            pytest.raises(BrowserError, match="ReferenceError: nope is not defined"):
        seen.evaluate("nope()")


def test_a_page_that_never_loads_times_out_and_the_browser_is_killed(tmp_path):
    html = page(tmp_path, "<script>while (true) {}</script>")
    start = time.monotonic()
    with pytest.raises(BrowserError, match="Chromium did not finish in time"), \
            open_page(html, timeout=3):
        pass
    assert time.monotonic() - start < 15


def test_without_chromium_the_tests_skip_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("WORKBOOK_TOOL_CHROMIUM", raising=False)
    assert chromium() is None
    reason = r"^Chromium is not installed \(Debian/Ubuntu: apt install chromium\)$"
    with pytest.raises(pytest.skip.Exception, match=reason):
        skip_without_chromium()


def test_the_chromium_setting_comes_first(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", str(fake))
    assert chromium() == str(fake)
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", "my-chromium")  # a name on PATH will do
    assert chromium() == str(fake)
    monkeypatch.setenv("WORKBOOK_TOOL_CHROMIUM", str(tmp_path / "gone"))
    assert chromium() is None
