"""The chat UI: pure rendering helpers (``ui/render.py``) and the page itself under ``AppTest``.

The page runs over the session's temporary copy of the bundled corpus and index
(``GUIDELINE_ASSISTANT_CORPUS_DIR`` / ``..._INDEX_DIR``), and every answer it
shows is compared with what ``Assistant.ask`` returns for the same question.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # `ui` is a folder of the project, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from assistant.answer import Answer, Flag, FlagCode, Guardrail, GuardrailStatus, Quote, Severity  # noqa: E402
from ui import render  # noqa: E402

APP = str(PROJECT_ROOT / "ui" / "app.py")
TIMEOUT = 60  # the first run in a process loads the model

DOSE_QUESTION = "What IVIG dose is used in warm AIHA?"
OFF_TOPIC = "What is the capital of France?"
MISMATCH = "Should I give IVIG 10 g/kg?"


def plain(markdown: str) -> str:
    """Undo :func:`render.escape_markdown`: what the reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("  \n", "\n")).replace("\u00a0", " ")


# --------------------------------------------------------------------------- render helpers


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("**bold** and _italic_", "emphasis markers stay literal"),
        ("<script>alert(1)</script>", "HTML is shown as text"),
        ("1. first", "a numbered line is not a list"),
        ("- item", "a dash line is not a list"),
        ("# Heading", "a hash line is not a heading"),
        ("costs $5 and $10", "dollars are not LaTeX"),
        (":smile: :red[alert] :material/home:", "no emoji, colour directive or icon"),
        ("[link](https://example.org)", "no link"),
        ("> quoted", "no block quote"),
        ("| a | b |", "no table"),
        ("`code` ~~strike~~", "no code span or strikethrough"),
        ("&amp; &lt;", "entities stay literal"),
        ("line one\nline two", "line breaks are kept"),
        ("    indented four", "indentation is not a code block"),
        ("1 g/kg (max 2 g/kg) × 4 doses; 375 mg/m² [6]", "dose text survives unchanged"),
    ],
)
def test_escape_markdown_shows_text_literally(text: str, why: str) -> None:
    escaped = render.escape_markdown(text)
    assert plain(escaped) == text.replace("\u00a0", " "), why
    unescaped_special = re.search(r"(?<!\\)[*_`#<>\[\]$:|~&]", re.sub(r"\\\\", "", escaped))
    assert unescaped_special is None, f"{why}: {escaped!r}"


def test_citation_chips_show_bracketed_labels() -> None:
    assert render.citation_chips(["4", "5"]) == r":gray-badge[\[4\]] :gray-badge[\[5\]]"
    assert render.citation_chips([]) == ""


def test_quote_markdown_is_a_block_quote_with_lead_in_and_chips() -> None:
    quote = Quote(
        text="Rituximab (375 mg/m² weekly × 4 doses)",
        citations=["6", "4"],
        source="g.txt",
        section="Severe Refractory Cases",
        context="Consider this combination approach:",
        start=0,
        end=10,
        chunk_id="c",
    )
    lines = render.quote_markdown(quote).split("\n")
    assert all(line.startswith(">") for line in lines)
    assert plain(lines[0]) == "> *Consider this combination approach:*"
    assert lines[-1].endswith(render.citation_chips(["6", "4"]))
    assert plain(lines[-1]).startswith("> " + quote.text)
    assert render.quote_location(quote) == "Severe Refractory Cases · g.txt"
    from_pdf = quote.model_copy(update={"source": "g.pdf", "page": 12, "page_label": "10", "offsets": "canonical"})
    assert render.quote_location(from_pdf) == "Severe Refractory Cases · g.pdf · p. 10"
    assert render.quote_location(from_pdf.model_copy(update={"page_label": None})).endswith("p. 12")


def test_section_markdown_highlights_the_quote_inside_its_whole_section(assistant) -> None:
    answer = assistant.ask(DOSE_QUESTION)
    quote = answer.quotes[0]
    document = assistant.document(quote.source)
    section = render.find_section(document, quote)
    assert section is not None and section.title == quote.section

    shown = render.section_markdown(document, quote)
    highlights = re.findall(r":orange-background\[\*\*(.+?)\*\*\]", shown)
    assert [plain(h) for h in highlights] == [quote.text]
    visible = plain(re.sub(r":orange-background\[\*\*(.+?)\*\*\]", r"\1", shown)).replace("**", "")
    for line in document.raw[section.start : section.end].strip().split("\n"):
        assert line.strip() in visible


def test_section_markdown_does_not_highlight_text_that_moved(assistant) -> None:
    quote = assistant.ask(DOSE_QUESTION).quotes[0]
    moved = quote.model_copy(update={"start": quote.start + 1, "end": quote.end + 1})
    shown = render.section_markdown(assistant.document(quote.source), moved)
    assert shown and "orange-background" not in shown


def test_dose_rows_list_every_dose_with_its_citations(assistant) -> None:
    answer = assistant.ask(DOSE_QUESTION)
    assert answer.doses
    rows = render.dose_rows(answer)
    assert [tuple(row) for row in rows] == [render.DOSE_COLUMNS] * len(answer.doses)
    for row, dose in zip(rows, answer.doses, strict=True):
        assert plain(row["Dose"]) == dose.text
        assert plain(row["Citations"]) == " ".join(f"[{label}]" for label in dose.citations)


def test_conversation_exports_round_trip_and_escape_user_text(assistant) -> None:
    answers = [assistant.ask(DOSE_QUESTION), assistant.ask(OFF_TOPIC), assistant.ask("<b>x</b> **IVIG** dose?")]
    restored = [Answer.model_validate(item) for item in json.loads(render.conversation_json(answers))]
    assert restored == answers

    markdown = render.conversation_markdown(answers, ["ivig-in-aiha.txt"])
    assert "## 3. " + render.escape_markdown("<b>x</b> **IVIG** dose?") in markdown
    assert "<b>" not in markdown
    assert render.ABSTAIN_TITLE in markdown
    for quote in answers[0].quotes:
        assert render.escape_markdown(quote.text) in markdown
    assert "| Drug | Dose | Schedule | Route | Citations |" in markdown


# --------------------------------------------------------------------------- the page


@dataclass
class FakeTurn:
    """Shaped like the app's Turn, to replay a crafted answer through the page."""

    question: str
    answer: Answer | None = None
    error: str | None = None


def point_app_at(monkeypatch: pytest.MonkeyPatch, corpus: Path, index: Path) -> None:
    monkeypatch.setenv("GUIDELINE_ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("GUIDELINE_ASSISTANT_INDEX_DIR", str(index))


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, settings, assistant) -> AppTest:
    """The page over the session's corpus and index (already built by the ``assistant`` fixture)."""
    point_app_at(monkeypatch, settings.corpus_dir, settings.index_dir)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def last_reply(at: AppTest):
    messages = list(at.chat_message)
    assert messages and messages[-1].name == "assistant"
    return messages[-1]


def assert_shows(at: AppTest, expected: Answer) -> None:
    """The last reply shows exactly the expected quotes, in order, with their citation labels."""
    reply = last_reply(at)
    shown = [element.value for element in reply.markdown if element.value.startswith(">")]
    assert shown == [render.quote_markdown(quote) for quote in expected.quotes]
    for markdown, quote in zip(shown, expected.quotes, strict=True):
        assert quote.text in plain(markdown)
        for label in quote.citations:
            assert f"[{label}]" in plain(markdown)
    assert len(reply.expander) == len(expected.quotes)
    assert len(reply.table) == (1 if expected.doses else 0)


def test_page_starts_with_chat_input_and_index_status_in_the_sidebar(app: AppTest, assistant) -> None:
    manifest = assistant.manifest
    sidebar = " ".join(element.value for element in app.sidebar.markdown)
    assert f"{manifest.n_chunks} chunks" in sidebar
    assert manifest.model in plain(sidebar)
    assert "up to date" in sidebar
    for source in manifest.corpus:
        assert render.escape_markdown(source) in sidebar
    assert render.DISCLAIMER in [element.value for element in app.sidebar.info]
    assert [button.label for button in app.sidebar.button if button.label in render.EXAMPLE_QUESTIONS] == list(
        render.EXAMPLE_QUESTIONS
    )
    assert any(button.label == "Rebuild index" for button in app.sidebar.button)
    assert app.sidebar.slider[0].value == assistant.settings.k
    assert [button.label for button in app.download_button] == [
        "Download conversation (JSON)",
        "Download conversation (Markdown)",
    ]
    assert not app.chat_input[0].proto.disabled
    assert not app.error and not app.chat_message


def test_question_shows_the_same_quotes_and_citations_as_assistant_ask(app: AppTest, assistant) -> None:
    expected = assistant.ask(DOSE_QUESTION)
    ask(app, DOSE_QUESTION)
    user, reply = list(app.chat_message)
    assert user.name == "user" and plain(user.markdown[0].value) == DOSE_QUESTION
    assert_shows(app, expected)
    assert plain(reply.markdown[0].value) == render.lead_line(expected)
    highlighted = reply.expander[0].markdown[0].value
    assert render.escape_markdown(expected.quotes[0].text) in highlighted and "orange-background" in highlighted
    assert not reply.error and not reply.warning


def test_off_topic_question_shows_a_calm_abstention(app: AppTest, assistant) -> None:
    assert assistant.ask(OFF_TOPIC).abstained
    ask(app, OFF_TOPIC)
    reply = last_reply(app)
    assert len(reply.info) == 1 and render.ABSTAIN_TITLE in reply.info[0].value
    assert not reply.error and not reply.warning and not reply.expander


def test_dose_mismatch_question_shows_the_guardrail_warning(app: AppTest, assistant) -> None:
    expected = assistant.ask(MISMATCH)
    warnings = [flag for flag in expected.guardrail.flags if flag.severity is Severity.WARN]
    assert warnings, "the guardrail must flag a tenfold dose in the question"
    ask(app, MISMATCH)
    reply = last_reply(app)
    assert [plain(w.value) for w in reply.warning] == [plain(render.flag_markdown(flag)) for flag in warnings]
    assert "Dose mismatch" in reply.warning[0].value
    assert_shows(app, expected)


def test_block_flags_are_errors_and_the_quotes_stay(app: AppTest, assistant) -> None:
    base = assistant.ask(DOSE_QUESTION)
    flag = Flag(code=FlagCode.DOSE_NOT_IN_SOURCE, severity=Severity.BLOCK, message="A summary stated 10 g/kg.")
    blocked = base.model_copy(
        update={"guardrail": Guardrail(status=GuardrailStatus.BLOCK, flags=[flag]), "summary_withheld": True}
    )
    app.session_state["turns"] = [FakeTurn(DOSE_QUESTION, answer=blocked)]
    app.run()
    reply = last_reply(app)
    assert render.flag_markdown(flag) in [error.value for error in reply.error]
    assert any("withheld" in error.value for error in reply.error)
    assert_shows(app, base)


def test_example_question_button_asks_it(app: AppTest, assistant) -> None:
    example = render.EXAMPLE_QUESTIONS[0]
    next(button for button in app.sidebar.button if button.label == example).click().run()
    assert not app.exception
    user, _ = list(app.chat_message)
    assert plain(user.markdown[0].value) == example
    assert_shows(app, assistant.ask(example))
    shown = [button.label for button in app.sidebar.button]
    assert all(question in shown for question in render.EXAMPLE_QUESTIONS), "every example stays on the page"


def test_every_example_question_is_answered(assistant) -> None:
    for example in render.EXAMPLE_QUESTIONS:
        assert not assistant.ask(example).abstained, example


def test_conversation_is_kept_for_the_session(app: AppTest, assistant) -> None:
    ask(app, DOSE_QUESTION)
    ask(app, OFF_TOPIC)
    assert [message.name for message in app.chat_message] == ["user", "assistant"] * 2
    assert [turn.question for turn in app.session_state["turns"]] == [DOSE_QUESTION, OFF_TOPIC]
    assert all(not button.proto.disabled for button in app.download_button)
    assert_shows(app, assistant.ask(OFF_TOPIC))


def test_k_from_the_sidebar_reaches_the_assistant(app: AppTest, assistant) -> None:
    app.sidebar.slider[0].set_value(1).run()
    ask(app, DOSE_QUESTION)
    assert_shows(app, assistant.ask(DOSE_QUESTION, k=1))


@pytest.mark.parametrize("question", ["   ", "?!"])
def test_unusable_question_is_a_calm_warning(app: AppTest, question: str) -> None:
    ask(app, question)
    reply = last_reply(app)
    assert len(reply.warning) == 1 and "question" in reply.warning[0].value
    assert not app.error


def test_user_markup_is_shown_literally(app: AppTest) -> None:
    question = "<script>alert(1)</script> **bold** :smile: $x$ IVIG dose?"
    ask(app, question)
    user = list(app.chat_message)[0]
    assert user.markdown[0].value == render.escape_markdown(question)
    assert plain(user.markdown[0].value) == question
    assert all("script" not in element.value for element in app.html)


# --------------------------------------------------------------------------- bad states


def copy_of_session(settings, tmp_path: Path) -> tuple[Path, Path]:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(settings.corpus_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    return corpus, index


def test_existing_index_is_loaded_not_rebuilt(monkeypatch, tmp_path, settings, assistant) -> None:
    corpus, index = copy_of_session(settings, tmp_path)
    before = (index / "manifest.json").read_text()
    point_app_at(monkeypatch, corpus, index)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert (index / "manifest.json").read_text() == before
    assert [status.label for status in at.status] == [f"Index ready: {assistant.manifest.n_chunks} passages"]


def test_first_start_builds_index_and_reports_bad_file(monkeypatch, tmp_path, settings, assistant) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    (corpus / "broken.txt").write_bytes(b"Prednisone \xff\xfe 1 mg/kg.\n")
    point_app_at(monkeypatch, corpus, tmp_path / "index")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert (tmp_path / "index" / "manifest.json").is_file()
    assert at.status[0].state == "complete" and at.status[0].label.startswith("Index ready")
    assert at.status[0].get("progress"), "the build shows its progress"
    assert any("broken.txt: is not valid UTF-8" in plain(warning.value) for warning in at.sidebar.warning)
    ask(at, DOSE_QUESTION)
    assert_shows(at, assistant.ask(DOSE_QUESTION))


def test_stale_index_is_shown_and_rebuilt_from_the_sidebar(monkeypatch, tmp_path, settings) -> None:
    corpus, index = copy_of_session(settings, tmp_path)
    point_app_at(monkeypatch, corpus, index)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    guideline = next(corpus.glob("*.txt"))
    guideline.chmod(0o644)
    guideline.write_text(guideline.read_text() + "\nAzathioprine may be used as a steroid-sparing agent. 7\n")
    at.run()
    assert "stale" in " ".join(element.value for element in at.sidebar.markdown)
    assert any(guideline.name in plain(caption.value) for caption in at.sidebar.caption)

    next(button for button in at.sidebar.button if button.label == "Rebuild index").click().run()
    assert not at.exception and not at.error
    assert "up to date" in " ".join(element.value for element in at.sidebar.markdown)
    ask(at, "Can azathioprine be used as a steroid-sparing agent?")
    assert any("Azathioprine may be used" in element.value for element in last_reply(at).markdown)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "No usable guideline"),
        ({"notes.txt": b"\xff\xfe\x00binary"}, "No usable guideline"),
        ({"scan.pdf": b"%PDF-1.4"}, "No usable guideline"),
    ],
)
def test_unusable_corpus_is_shown_not_crashed_on(monkeypatch, tmp_path, files, message) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, content in files.items():
        (corpus / name).write_bytes(content)
    point_app_at(monkeypatch, corpus, tmp_path / "index")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any(message in error.value for error in at.main.error)
    assert at.chat_input[0].proto.disabled


def test_missing_corpus_folder_is_shown_and_a_rebuild_says_why_it_fails(monkeypatch, tmp_path) -> None:
    point_app_at(monkeypatch, tmp_path / "nowhere", tmp_path / "index")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("does not exist" in error.value for error in at.main.error)

    next(button for button in at.sidebar.button if button.label == "Rebuild index").click().run()
    assert not at.exception
    assert any("does not exist" in error.value for error in at.sidebar.error)


def test_corrupt_index_is_shown_with_a_rebuild_button_that_fixes_it(monkeypatch, tmp_path, settings, assistant) -> None:
    corpus, index = copy_of_session(settings, tmp_path)
    faiss_file = index / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    point_app_at(monkeypatch, corpus, index)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("index.faiss" in plain(error.value) for error in at.main.error)
    assert at.chat_input[0].proto.disabled

    next(button for button in at.main.button if button.label == "Rebuild index").click().run()
    assert not at.exception and not at.main.error
    assert "up to date" in " ".join(element.value for element in at.sidebar.markdown)
    ask(at, DOSE_QUESTION)
    assert_shows(at, assistant.ask(DOSE_QUESTION))


def test_a_bad_setting_in_the_environment_is_one_message_not_a_traceback(monkeypatch) -> None:
    monkeypatch.setenv("GUIDELINE_ASSISTANT_K", "abc")
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception
    assert any("GUIDELINE_ASSISTANT_K" in error.value.replace("\\", "") for error in app.error)
