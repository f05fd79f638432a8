"""The chat UI in a real browser: ``streamlit run ui/app.py`` driven by headless Chromium.

Uses Debian's ``chromium`` package through Playwright for Python (no browser
download). ``.ci/run`` installs the package when it is missing; without it the
test is skipped with the reason. Screenshots (1280 px and 390 px) go to
``$TMPDIR/guideline-assistant-screenshots/`` and their paths are printed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from test_ui import PNEUMONIA, UTI  # the generated library; it also puts the project root on sys.path

from ui import render

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
SCREENSHOTS = Path(tempfile.gettempdir()) / "guideline-assistant-screenshots"
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
def library(tmp_path_factory: pytest.TempPathFactory, settings, assistant) -> tuple[Path, Path]:
    """The bundled guideline plus the generated pneumonia and UTI guidelines, indexed once."""
    from assistant import Assistant
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("browser-library")
    corpus = root / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    (corpus / "pneumonia.md").write_text(PNEUMONIA, encoding="utf-8")
    (corpus / "uti.md").write_text(UTI, encoding="utf-8")
    Assistant.build(Settings(corpus_dir=corpus, index_dir=root / "index"))
    return corpus, root / "index"


@pytest.fixture(scope="module")
def server(library) -> Iterator[str]:
    """A Streamlit server on a free loopback port over the library and its (pre-built) index.

    One server for the module (each test opens its own browser session): the
    first page load pays for loading the model, the rest reuse it.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "GUIDELINE_ASSISTANT_CORPUS_DIR": str(library[0]),
        "GUIDELINE_ASSISTANT_INDEX_DIR": str(library[1]),
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
    log = SCREENSHOTS / "streamlit.log"
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


REQUESTS: list[str] = []


@pytest.fixture
def requested() -> list[str]:
    """The URLs the browser requested in this test (filled by the page's context)."""
    REQUESTS.clear()
    return REQUESTS


@pytest.fixture
def page(requested):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (`apt-get install -y chromium`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            # Streamlit scrolls inside its own container, so a tall window is what shows a whole answer.
            context = browser.new_context(viewport={"width": 1280, "height": 2000})
            context.set_default_timeout(WAIT_SECONDS * 1000)
            context.on("request", lambda request: REQUESTS.append(request.url))  # every request, every page
            yield context.new_page()
        finally:
            browser.close()


def ask_in(page, question: str, number: int) -> Any:
    """Type a question, wait for its answer (the last line of an answer is the citations caption)."""
    chat = page.locator(CHAT_INPUT)
    chat.wait_for(state="visible")
    chat.fill(question)
    chat.press("Enter")
    reply = page.locator(CHAT_MESSAGE).nth(2 * number + 1)
    reply.wait_for(state="visible")
    reply.locator('[data-testid="stCaptionContainer"], [data-testid="stAlertContentInfo"]').last.wait_for(
        state="visible"
    )
    wait_until_idle(page)
    return reply


def shoot(page, name: str) -> list[Path]:
    """Screenshots at 1280 px and 390 px; at phone width nothing may scroll sideways."""
    paths = []
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 2000})
        page.wait_for_timeout(500)
        overflow = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]"
            ".map(e => e.scrollWidth - e.clientWidth)"
        )
        assert max(overflow) <= 1, f"{name} at {width} px scrolls sideways by {overflow} px"
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        print(path)
        paths.append(path)
    page.set_viewport_size({"width": 1280, "height": 2000})
    return paths


SCENARIOS = {
    "dose-answer": (["What IVIG dose is used in warm AIHA?"], "Direct answer"),
    "dose-warning": (["Should I give IVIG 10 g/kg?"], "Tenfold dose error"),
    "calculation": (["How much IVIG for a 70 kg patient?"], "70 kg = 70 g"),
    "abstention": (["What is the capital of France?"], "Not in the guidelines"),
    "two-guidelines": (["Which antibiotic is offered for 5 days or 3 days?"], "From 2 guidelines"),
    "follow-up": (["What IVIG dose is used in warm AIHA?", "and in children?"], "Answered as:"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_answers_in_browser_at_desktop_and_phone_width(server: str, page, requested: list[str], name: str) -> None:
    questions, must_show = SCENARIOS[name]
    page.goto(server)
    for number, question in enumerate(questions):
        reply = ask_in(page, question, number)
    text = reply.inner_text()
    assert must_show in text
    if name == "dose-answer":  # one dose: one lead line (drug, dose, citation, guideline), no table repeating it
        assert "IVIG 1 g/kg as a single dose" in text and "IVIG in Autoimmune Hemolytic Anemia [1]" in text
        assert "Doses in the quoted statements" not in text and reply.locator('[data-testid="stTable"]').count() == 0
    if name == "two-guidelines":  # several doses from two guidelines: the table, each row a drug and a dose
        cells = reply.locator('[data-testid="stTable"] td')
        cells.first.wait_for(state="visible")
        assert cells.count() > 0 and cells.count() % len(render.DOSE_COLUMNS) == 0
    if name in ("dose-warning",):
        assert reply.locator('[data-testid="stAlertContentError"]').count() == 1
    if name in ("calculation", "abstention"):
        assert reply.locator('[data-testid="stAlertContentError"], [data-testid="stAlertContentWarning"]').count() == 0
    if name == "calculation":
        assert reply.locator('[data-testid="stAlertContentInfo"]').count() == 0, "a calculation is no abstention"
    shoot(page, name)
    assert_only_local(requested, server)


def test_guideline_links_are_text_and_chips_open_references(server: str, page, requested: list[str]) -> None:
    page.goto(server)
    reply = ask_in(page, "Which leaflet should adults with pneumonia be given?", 0)
    assert "https://example.org/pneumonia-leaflet" in reply.inner_text()
    assert reply.locator("a").count() == 0, "no guideline text becomes a link"
    page.goto(server)
    reply = ask_in(page, "What dose of amoxicillin is recommended?", 0)
    reply.get_by_role("button", name="[1]").first.click()
    page.get_by_text("Smith J. Amoxicillin dosing").wait_for(state="visible")
    shoot(page, "reference-popover")
    assert_only_local(requested, server)


def assert_only_local(requested: list[str], server: str) -> None:
    host = urlparse(server).hostname
    hosts = {urlparse(url).hostname for url in requested if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert requested and hosts <= {host}, f"requests to other hosts: {sorted(hosts - {host})}"


def test_the_empty_page_requests_nothing_from_other_hosts(server: str, page, requested: list[str]) -> None:
    """Fonts, icons and scripts all come from the local server: nothing leaves the machine."""
    page.goto(server)
    page.locator(CHAT_INPUT).wait_for(state="visible")
    wait_until_idle(page)
    page.wait_for_timeout(1000)
    assert "amoxicillin" in page.locator('[data-testid="stAppViewContainer"]').inner_text(), (
        "examples come from the library"
    )
    shoot(page, "empty-page")
    assert_only_local(requested, server)
