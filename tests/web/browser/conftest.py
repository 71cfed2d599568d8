"""Chromium, driven by Playwright, against pytest-django's live server.

The browser is Debian's Chromium (``make test-deps`` installs it); Playwright never
downloads one, and the flags below keep Chromium from reaching out to the network on its
own. Requests for anything but the live server are aborted, so a page that needs the
internet fails here instead of waiting for it.

Playwright's sync API keeps an asyncio event loop running in the test's thread for as long
as it is started. Django sees that loop and refuses ORM calls from the test ("You cannot
call this from an async context"), though nothing here is asynchronous: the test thread
calls Playwright and the ORM in turn, and the live server answers from a thread of its own.
So while the browser is up, ``DJANGO_ALLOW_ASYNC_UNSAFE`` switches that check off, in this
process only, and it is restored when the browser closes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Seconds Playwright waits for a page or an element before failing the test.
TIMEOUT_MS = 15_000
_NOT_LOCAL = re.compile(r"^(?!https?://(localhost|127\.0\.0\.1)(:\d+)?/)[a-z]+://")


@pytest.fixture(scope="session", autouse=True)
def _live_server_static_root(tmp_path_factory):
    """The live server loads its middleware once, before any test's settings apply; give
    WhiteNoise a static folder that exists (tests/conftest.py gives each test its own)."""
    from django.test.utils import override_settings

    static_root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=static_root):
        yield


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}: run `make test-deps`")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """Make pages, each in a browser context of its own (its own cookies: another person),
    whose relative URLs reach the live server. All are closed after the test."""
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        context.route(_NOT_LOCAL, lambda route: route.abort())
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context: a visitor with no cookies."""
    return new_page()
