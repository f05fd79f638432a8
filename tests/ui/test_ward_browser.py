"""The chat on a ward, in headless Chromium at desktop (1280×900) and phone (390×844) size.

After every question the newest answer is read from its first line: its top is in
the viewport (also when the reader had scrolled up, with a "New answer ↓" cue while
they are away). Alert titles are our words, never a flag's code; no alert quotes
the statement again; the Markdown export starts with its header. Viewport
screenshots of each kind of answer go to ``$TMPDIR/guideline-assistant-screenshots/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import (  # the browser suite's server over the bundled + generated library
    CHAT_MESSAGE,
    CHROMIUM,
    CHROMIUM_FLAGS,
    SCREENSHOTS,
    WAIT_SECONDS,
    ask_in,
    assert_only_local,
    library,  # noqa: F401  (fixture)
    server,  # noqa: F401  (fixture)
)

from assistant.answer.schema import FlagCode
from ui import scroll

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
# name, question, something the answer must show
QUESTIONS = [
    ("dose-answer", "What IVIG dose is used in warm AIHA?", "1 g/kg"),
    ("warning", "IVIG 2 g/kg daily for 5 days", "Course total too high"),  # 2 g/kg x 5 = 10x the single 1 g/kg
    ("calculation", "How much IVIG for a 70 kg patient?", "70 g"),
    ("follow-up", "and in children?", "follow-up to:"),
    ("two-guidelines", "Which antibiotic is offered for 5 days or 3 days?", "From 2 guidelines"),
    ("abstention", "What is the capital of France?", "Not in the guidelines"),
]
ALERTS = '[data-testid="stAlertContentError"], [data-testid="stAlertContentWarning"]'
REQUESTS: list[str] = []


@pytest.fixture(params=list(SIZES))
def sized_page(request):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (`apt-get install -y chromium`).")
    from playwright.sync_api import sync_playwright

    width, height = SIZES[request.param]
    REQUESTS.clear()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
            context.set_default_timeout(WAIT_SECONDS * 1000)
            context.on("request", lambda req: REQUESTS.append(req.url))
            yield request.param, context.new_page()
        finally:
            browser.close()


def reply_top(page, number: int) -> float:
    """The newest reply's top edge in viewport pixels."""
    return page.locator(CHAT_MESSAGE).nth(2 * number + 1).bounding_box()["y"]


def wait_for_top_in_view(page, number: int, height: int) -> float:
    """The page scrolls to the newest question after drawing; give it the time the script holds it."""
    top = reply_top(page, number)
    for _ in range(40):
        if 0 <= top <= height - 120:
            break
        page.wait_for_timeout(100)
        top = reply_top(page, number)
    page.wait_for_timeout(scroll.HOLD_MS + 200)  # the script stops holding; nothing may move it away after
    return reply_top(page, number)


def scroll_to_top(page) -> None:
    """The reader scrolls back up to re-read the first answer."""
    page.mouse.move(200, 300)
    for _ in range(30):
        page.mouse.wheel(0, -2000)
    page.wait_for_timeout(400)


def shoot(page, name: str, size: str) -> Path:
    path = SCREENSHOTS / f"ward-{name}-{size}.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    print(path)
    return path


def test_every_answer_is_read_from_its_first_line(server: str, sized_page) -> None:  # noqa: F811
    size, page = sized_page
    height = SIZES[size][1]
    page.goto(server)
    for number, (name, question, must_show) in enumerate(QUESTIONS):
        if number == 2:
            scroll_to_top(page)  # reading an earlier answer when the next question goes in
            newest_top = reply_top(page, number - 1)
            cue = page.locator(f"#{scroll.CUE_ID}")
            print(f"{size}: after scrolling up, the newest answer's top is at {newest_top:.0f} px of {height}")
            if size == "phone":
                assert newest_top > height, "on a phone two answers are taller than the screen"
            if newest_top > height:
                assert cue.is_visible(), "the reader scrolled away from the newest answer: the cue shows"
                cue.click()
                page.wait_for_timeout(300)
                assert 0 <= reply_top(page, number - 1) <= height - 120, "the cue brings the newest answer back"
        reply = ask_in(page, question, number)
        top = wait_for_top_in_view(page, number, height)
        assert 0 <= top <= height - 120, f"{name} at {size}: the answer's top is at {top:.0f} px of {height}"
        assert not page.locator(f"#{scroll.CUE_ID}").is_visible(), "no cue while the newest answer is in view"
        text = reply.inner_text()
        assert must_show in text, f"{name}: {must_show!r} not shown"
        check_alerts(reply)
        shoot(page, name, size)
    assert_only_local(REQUESTS, server)


def check_alerts(reply) -> None:
    """Alert titles are our words, and an alert never quotes the statement shown below it."""
    codes = {code.value.replace("_", " ").lower() for code in FlagCode}
    titles = [box.inner_text().strip().lower() for box in reply.locator(ALERTS).all()]
    assert not codes & set(titles), f"a flag code shown as a title: {titles}"
    quoted = reply.locator('[class*="st-key-ga-quote-"] [data-testid="stText"]').all()
    statements = [" ".join(block.inner_text().split()) for block in quoted]
    alerts = " ".join(
        " ".join(part.inner_text().split()) for part in reply.locator('[class*="st-key-ga-alert-"]').all()
    )
    for statement in statements:
        assert len(statement) < 40 or statement not in alerts, f"an alert re-quotes the statement: {statement}"


def test_the_markdown_export_starts_with_its_header(server: str, sized_page) -> None:  # noqa: F811
    size, page = sized_page
    if size == "phone":
        pytest.skip("the sidebar's download is the same at both widths; once is enough")
    page.goto(server)
    ask_in(page, "What IVIG dose is used in warm AIHA?", 0)
    button = page.get_by_role("button", name="Download conversation (Markdown)")
    with page.expect_download() as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# Guideline assistant conversation"
    assert lines[2].startswith("- Exported: ") and lines[3].startswith("- App version: ")
    assert lines[4].startswith("- Library folder: ") and lines[5].startswith("- Index build: ")
    assert "IVIG in Autoimmune Hemolytic Anemia (" in text
    assert_only_local(REQUESTS, server)
