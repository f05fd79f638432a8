"""The shared chat in a real browser (headless Chromium): no "Add guideline" without the admin secret.

The server runs as ``make run HOST=…`` would on a ward network, except that it listens on
127.0.0.1 with ``GUIDELINE_ASSISTANT_SHARED=1`` (a test must not open a port to the network;
that a non-loopback address alone makes the page shared is checked in tests/test_ui_access.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from test_browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    PROJECT_ROOT,
    SCREENSHOTS,
    WAIT_SECONDS,
    free_port,
    wait_for_health,
    wait_until_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET = "ward-admin-secret-0123456789"
UPLOADER = '[data-testid="stFileUploader"]'


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory, settings, assistant) -> Iterator[str]:
    """The chat over the session's corpus and index, shared, with an admin secret file."""
    root = tmp_path_factory.mktemp("shared")
    secret = root / "admin-secret"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "GUIDELINE_ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
        "GUIDELINE_ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "GUIDELINE_ASSISTANT_SHARED": "1",
        "GUIDELINE_ASSISTANT_ADMIN_SECRET_FILE": str(secret),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "ui/app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = SCREENSHOTS / "streamlit-shared.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for_health(f"http://127.0.0.1:{port}/_stcore/health", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)


@pytest.fixture
def tab() -> Iterator[Any]:
    """A page of headless Chromium (as tests/test_browser.py drives it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (`apt-get install -y chromium`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 2000})
            context.set_default_timeout(WAIT_SECONDS * 1000)
            yield context.new_page()
        finally:
            browser.close()


def _sidebar_ready(page) -> None:
    page.get_by_text("Library").first.wait_for(state="visible")
    wait_until_idle(page)


def _unlock(page, given: str) -> None:
    page.get_by_label("Admin secret", exact=True).fill(given)
    page.get_by_role("button", name="Unlock library changes").click()
    page.wait_for_timeout(500)
    wait_until_idle(page)


@pytest.mark.parametrize(
    ("typed", "uploader"),
    [(None, False), ("not-the-admin-secret-at-all", False), (SECRET, True)],
    ids=["no secret typed", "a wrong secret", "the admin secret"],
)
def test_the_upload_control_only_with_the_admin_secret(
    shared_server: str, tab: Any, typed: str | None, uploader: bool
) -> None:
    page = tab
    page.goto(shared_server)
    _sidebar_ready(page)
    assert page.locator(UPLOADER).count() == 0, "a shared page draws no upload control before the secret"
    assert page.get_by_role("button", name="Rebuild index").count() == 0
    if typed is not None:
        _unlock(page, typed)
    if uploader:
        page.locator(UPLOADER).wait_for(state="visible")
    assert page.locator(UPLOADER).count() == (1 if uploader else 0)
    path = SCREENSHOTS / f"shared-{'unlocked' if uploader else 'locked'}-{typed is not None}.png"
    page.screenshot(path=str(path), full_page=True)
    print(path)
