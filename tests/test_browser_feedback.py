"""Graded answers and clinicians' feedback in a real browser (headless Chromium, ``streamlit run``).

A clinician asks, sees each quote's grade badge, marks the answer as not answering
the question, picks the statement that does, and the verdict, exported with
``feedback export``, is a gold file on which ``eval`` scores that statement as
the evidence. Screenshots of the graded answer at 1280 and 390 px are printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import (  # the page and request fixtures, and the helpers of the chat's browser test
    PROJECT_ROOT,
    SCREENSHOTS,
    ask_in,
    free_port,
    page,  # noqa: F401  (a fixture)
    requested,  # noqa: F401  (a fixture)
    shoot,
    wait_for_health,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

VALVE = """# 2014 AHA/ACC guideline for valvular heart disease

## Aortic stenosis

Class I

1. Surgical aortic valve replacement is recommended for symptomatic patients with severe aortic stenosis. (Level of Evidence: A)
2. Transthoracic echocardiography is recommended in the initial evaluation of patients with suspected aortic stenosis. (Level of Evidence: B)

Class IIb

1. Aortic valve replacement may be considered for asymptomatic patients with very severe aortic stenosis. (Level of Evidence: C)

## Definitions

- Class I: Benefit >>> Risk. Procedure/Treatment should be performed/administered.
- Class IIb: Benefit ≥ Risk. Procedure/Treatment may be considered.
"""
QUESTION = "Should asymptomatic patients with very severe aortic stenosis have aortic valve replacement?"
CHOSEN = "Surgical aortic valve replacement is recommended for symptomatic patients with severe aortic stenosis."


@pytest.fixture(scope="module")
def graded_library(tmp_path_factory: pytest.TempPathFactory, settings) -> tuple[Path, Path]:
    from assistant import Assistant
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("graded-library")
    corpus = root / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    (corpus / "valve.md").write_text(VALVE, encoding="utf-8")
    Assistant.build(Settings(corpus_dir=corpus, index_dir=root / "index"))
    return corpus, root / "index"


@pytest.fixture(scope="module")
def graded_server(graded_library) -> Iterator[str]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "GUIDELINE_ASSISTANT_CORPUS_DIR": str(graded_library[0]),
        "GUIDELINE_ASSISTANT_INDEX_DIR": str(graded_library[1]),
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
    log = SCREENSHOTS / "streamlit-feedback.log"
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


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=600,
    )


def test_a_wrong_answer_marked_in_the_chat_becomes_gold_that_eval_scores(
    graded_server: str, graded_library, page, tmp_path: Path  # noqa: F811
) -> None:
    corpus, index = graded_library
    page.goto(graded_server)
    reply = ask_in(page, QUESTION, 0)
    badge = reply.locator("[class*='st-key-ga-grade-']").first
    badge.wait_for(state="visible")
    assert "Class IIb · LOE C" in reply.inner_text()
    shoot(page, "graded-answer")

    reply.get_by_role("button", name="No").click()
    search = page.get_by_label("Search this guideline")
    search.wait_for(state="visible")
    search.fill("symptomatic severe")  # a word search of the chosen guideline
    search.press("Enter")
    wait_until_idle(page)
    picker = page.locator("[data-testid='stSelectbox']").filter(has_text="The statement that answers it")
    picker.wait_for(state="visible")
    picker.click()
    page.get_by_role("option", name=CHOSEN).click()
    wait_until_idle(page)
    page.get_by_role("button", name="Record this statement").click()
    page.get_by_text("your answer was recorded").wait_for(state="visible")

    records = [json.loads(line) for line in (index / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["question"], r["answered"], r["evidence"], r["abstain"]) for r in records] == [
        (QUESTION, False, CHOSEN, False)
    ]

    gold = tmp_path / "feedback-gold.jsonl"
    exported = cli("feedback", "export", "--out", str(gold), "--index", str(index))
    assert exported.returncode == 0, exported.stderr
    items = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]
    assert [(item["question"], item["evidence"]) for item in items] == [(QUESTION, [CHOSEN])]

    run = tmp_path / "run"
    scored = cli("eval", "--gold", str(gold), "--corpus", str(corpus), "--index", str(index), "--out", str(run))
    assert scored.returncode in (0, 1), scored.stderr  # 1: the bundled gates do not apply to a one-question set
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    assert metrics["gold.unmatched_evidence"] == 0.0  # the chosen statement is the item's evidence
    assert metrics["retrieval.recall@k"] == 1.0, metrics  # and eval finds it among the retrieved statements
