"""Debian's headless Chromium for the site tests, driven through Playwright (the DevTools protocol) with the flags of
design.md and a fresh profile folder; skipped when missing outside CI, a failure under CI=true."""
from __future__ import annotations

import shutil

import pytest
from train_extra import CI

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


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


def launch(pw, profile, **options):
    """A persistent Chromium context on the fresh ``profile`` folder (a new --user-data-dir) with ``options``."""
    return pw.chromium.launch_persistent_context(str(profile), executable_path=chromium_path(), headless=True,
                                                 args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900},
                                                 **options)
