"""Fixtures of the leaderboard tests: detection and LUSS data written as real files, the ``browser`` marker (tests
driving Debian's headless Chromium through Playwright), and a loopback HTTP server for the generated site."""
from __future__ import annotations

import functools
import http.server
import threading

import pytest
from board_data import write_detection_set
from headless import chromium_path, launch


@pytest.fixture(scope="session")
def detection_set(tmp_path_factory):
    """(gt.json path, detections list) of a 40-image synthetic AODRaw-style test set."""
    return write_detection_set(tmp_path_factory.mktemp("aodraw"))


@pytest.fixture
def browser_page(tmp_path):
    """A Playwright page in a fresh Chromium profile under tmp_path, with every console message, page error and
    failed request collected in ``page.problems``."""
    chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "profile")
        page = context.pages[0] if context.pages else context.new_page()
        page.problems = []
        page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda r: page.problems.append(f"request failed: {r.url}"))
        page.on("response", lambda r: page.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        try:
            yield page
        finally:
            context.close()


@pytest.fixture
def browser_page_without_js(tmp_path):
    """A Playwright page in a fresh Chromium profile with JavaScript turned off."""
    chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = launch(pw, tmp_path / "profile-nojs", java_script_enabled=False)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """serve(folder) -> the base URL of a loopback HTTP server for ``folder`` (stopped after the test)."""
    servers = []

    def start(folder) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
