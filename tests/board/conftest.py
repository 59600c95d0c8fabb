"""Fixtures of the leaderboard tests: detection and LUSS data written as real files, the ``browser`` marker (tests
driving Debian's headless Chromium through Playwright), and a loopback HTTP server for the generated site."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest
from board_data import write_detection_set
from train_extra import CI

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium (skipped without it, except under CI)")


@pytest.fixture(scope="session")
def detection_set(tmp_path_factory):
    """(gt.json path, detections list) of a 40-image synthetic AODRaw-style test set."""
    return write_detection_set(tmp_path_factory.mktemp("aodraw"))


def chromium_path() -> str:
    """The Chromium executable; skips the test when it (or Playwright) is missing, fails instead under CI=true."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        message = "headless Chromium tests need Debian's chromium package and playwright (.ci/run installs both)"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def browser_page(tmp_path):
    """A Playwright page in a fresh Chromium profile under tmp_path, with every console message, page error and
    failed request collected in ``page.problems``."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900})
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
