"""The first build of a library runs as a server job: a closed tab loses nothing, a second visitor watches it.

A real ``streamlit run ui/app.py`` over a fresh library (no index yet) and headless
Chromium: the first tab sees the build's progress and "safe to close this tab", a
second tab opened meanwhile sees the same progress (not a blank page), then both
tabs close before the index exists, and the index still completes on the server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_FLAGS, PROJECT_ROOT, SCREENSHOTS, free_port, wait_for_health

from assistant.index.store import MANIFEST_FILE

pytestmark = pytest.mark.browser

GOOD = (PROJECT_ROOT / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
GUIDELINES = 40  # about 1,200 statements: long enough on two cores to close the tabs mid-build
BUILD_SECONDS = 300


def _library(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    for n in range(GUIDELINES):  # distinct text per file (identical files would be skipped as duplicates)
        (corpus / f"guide-{n:02d}.txt").write_text(GOOD.replace("IVIG", f"IVIG-{n}"), encoding="utf-8")
    return corpus


def test_closing_every_tab_mid_build_still_completes_the_index(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (`apt-get install -y chromium`).")
    from playwright.sync_api import sync_playwright

    corpus, index = _library(tmp_path), tmp_path / "index"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "GUIDELINE_ASSISTANT_CORPUS_DIR": str(corpus),
        "GUIDELINE_ASSISTANT_INDEX_DIR": str(index),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = SCREENSHOTS / "streamlit-build.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(f"{url}/_stcore/health", process, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
            first = browser.new_context().new_page()
            first.set_default_timeout(BUILD_SECONDS * 1000)
            first.goto(url)
            first.get_by_text("safe to close this tab").wait_for()
            first.get_by_text("Embedding").first.wait_for()
            second = browser.new_context().new_page()
            second.set_default_timeout(120_000)
            second.goto(url)
            second.get_by_text("safe to close this tab").wait_for()
            progress = second.get_by_text("Embedding").first
            progress.wait_for()
            shown = progress.inner_text()
            second.screenshot(path=str(SCREENSHOTS / "build-second-visitor.png"))
            assert not (index / MANIFEST_FILE).exists(), "the build ended before the tabs could be closed"
            browser.close()  # every tab closed mid-build
        print(f"second visitor saw: {shown!r}")
        deadline = time.monotonic() + BUILD_SECONDS
        while not (index / MANIFEST_FILE).exists() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(1)
        assert (index / MANIFEST_FILE).is_file(), "the build did not finish after the tabs were closed"
        from assistant.index.store import load_index
        from assistant.settings import Settings

        loaded = load_index(Settings(corpus_dir=corpus, index_dir=index))
        assert loaded.manifest.n_documents == GUIDELINES
        assert "Embedding" in shown and "/" in shown
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
