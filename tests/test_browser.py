"""The chat UI in a real browser: ``streamlit run ui/app.py`` driven by headless Chromium.

Uses Debian's ``chromium`` package through Playwright for Python (no browser
download). ``.ci/run`` installs the package when it is missing; without it the
test is skipped with the reason. Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = PROJECT_ROOT / "test-output" / "browser"
WAIT_SECONDS = 120
CHAT_INPUT = '[data-testid="stChatInputTextArea"]'
CHAT_MESSAGE = '[data-testid="stChatMessage"]'


def wait_until_idle(page) -> None:
    """Streamlit dims the page while the script runs; wait for the run to finish before looking."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(state="attached")
    page.locator('[data-stale="true"]').first.wait_for(state="detached")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"{url} did not answer within {WAIT_SECONDS} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def server(settings, assistant) -> Iterator[str]:
    """A Streamlit server on a free loopback port over the session's corpus and (pre-built) index.

    One server for the module (each test opens its own browser session): the
    first page load pays for loading the model, the rest reuse it.
    """
    OUTPUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "GUIDELINE_ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
        "GUIDELINE_ASSISTANT_INDEX_DIR": str(settings.index_dir),
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
    log = OUTPUT / "streamlit.log"
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
def page():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (`apt-get install -y chromium`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            # Streamlit scrolls inside its own container, so a tall window is what shows a whole answer.
            context = browser.new_context(viewport={"width": 1280, "height": 2000})
            context.set_default_timeout(WAIT_SECONDS * 1000)
            yield context.new_page()
        finally:
            browser.close()


def test_question_in_browser_shows_quotes_citations_and_context(server: str, page, assistant) -> None:
    question = "What IVIG dose is used in warm AIHA?"
    expected = assistant.ask(question)
    assert expected.quotes, "the bundled guideline must answer the example question"

    page.goto(server)
    chat = page.locator(CHAT_INPUT)
    chat.wait_for(state="visible")
    chat.fill(question)
    chat.press("Enter")

    answer = page.locator(CHAT_MESSAGE).nth(1)
    first = expected.quotes[0]
    answer.get_by_text(first.text, exact=False).first.wait_for(state="visible")
    answer.get_by_text("Citations:").wait_for(state="visible")  # the last line of an answer
    wait_until_idle(page)
    text = answer.inner_text()
    for quote in expected.quotes:
        assert quote.text in text
        for label in quote.citations:
            assert f"[{label}]" in text
    assert "Doses in the quoted statements" in text
    assert answer.locator('[data-testid="stTable"] td').count() == 5 * len(expected.doses)

    answer.locator('[data-testid="stExpander"] summary').first.click()
    highlighted = answer.locator('[data-testid="stExpander"]').first.locator("strong", has_text=first.text[:40])
    highlighted.wait_for(state="visible")
    highlighted.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # the expander opens with an animation
    page.screenshot(path=str(OUTPUT / "answer.png"), full_page=True)


def test_dose_mismatch_and_literal_user_text_in_browser(server: str, page) -> None:
    page.goto(server)
    chat = page.locator(CHAT_INPUT)
    chat.wait_for(state="visible")
    chat.fill("Should I give IVIG 10 g/kg? <b>bold</b> **stars** :smile: $x$")
    chat.press("Enter")

    warning = page.locator('[data-testid="stAlertContentWarning"]').first
    warning.wait_for(state="visible")
    assert "Dose mismatch" in warning.inner_text()
    asked = page.locator(CHAT_MESSAGE).first.inner_text()
    assert "<b>bold</b> **stars** :smile: $x$" in asked
    page.get_by_text("Citations:").first.wait_for(state="visible")
    wait_until_idle(page)
    page.screenshot(path=str(OUTPUT / "dose-warning.png"), full_page=True)


def test_off_topic_question_in_browser_is_a_calm_abstention(server: str, page) -> None:
    page.goto(server)
    chat = page.locator(CHAT_INPUT)
    chat.wait_for(state="visible")
    chat.fill("What is the capital of France?")
    chat.press("Enter")

    note = page.locator('[data-testid="stAlertContentInfo"]', has_text="Not in the guideline")
    note.wait_for(state="visible")
    wait_until_idle(page)
    reply = page.locator(CHAT_MESSAGE).nth(1)
    assert reply.locator('[data-testid="stAlertContentError"], [data-testid="stAlertContentWarning"]').count() == 0
    page.screenshot(path=str(OUTPUT / "abstention.png"), full_page=True)


def test_the_page_requests_nothing_from_other_hosts(server: str, page) -> None:
    """Fonts, icons and scripts all come from the local server: nothing leaves the machine."""
    from urllib.parse import urlparse

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server)
    page.locator(CHAT_INPUT).wait_for(state="visible")
    wait_until_idle(page)
    page.wait_for_timeout(1000)
    hosts = {urlparse(url).hostname for url in requested if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert requested and hosts <= {"127.0.0.1", "localhost"}, f"requests to other hosts: {sorted(hosts)}"
