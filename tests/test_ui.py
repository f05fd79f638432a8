"""The chat UI: pure rendering helpers (``ui/render.py``) and the page itself under ``AppTest``.

The page runs over temporary copies of a corpus and index
(``GUIDELINE_ASSISTANT_CORPUS_DIR`` / ``..._INDEX_DIR``): the bundled IVIG
guideline, or a generated two-guideline library (pneumonia, urinary tract
infection). Every answer it shows is compared with what ``Assistant.ask`` returns.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # `ui` is a folder of the project, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from assistant import present  # noqa: E402
from assistant.answer import Answer, Flag, FlagCode, Guardrail, GuardrailStatus, Risk, Severity  # noqa: E402
from ui import library, render, scroll  # noqa: E402

APP = str(PROJECT_ROOT / "ui" / "app.py")
TIMEOUT = 90  # the first run in a process loads the model

DOSE_QUESTION = "What IVIG dose is used in warm AIHA?"
OFF_TOPIC = "What is the capital of France?"
MISMATCH = "Should I give IVIG 10 g/kg?"
URL = "https://example.org/pneumonia-leaflet"
PNEUMONIA = """# Community-acquired pneumonia in adults

## Antibiotic treatment

For adults with low-severity community-acquired pneumonia, offer amoxicillin 500 mg three times a day for 5 days [1].

For adults with community-acquired pneumonia who are allergic to penicillin, offer clarithromycin 500 mg twice a day for 5 days [2].

## Patient information

Give adults with pneumonia the leaflet at https://example.org/pneumonia-leaflet or www.example.org, and the words :material/home: and :red[stop] as written.

## References

1. Smith J. Amoxicillin dosing in community-acquired pneumonia. Lancet. 2019.
2. Jones K. Macrolides for penicillin allergy. BMJ. 2020.
"""
UTI = """# Lower urinary tract infection in women

## Antibiotic treatment

For non-pregnant women with lower urinary tract infection, offer nitrofurantoin 100 mg modified-release twice a day for 3 days [1].

## References

1. Brown A. Nitrofurantoin for cystitis. 2018.
"""


def plain(markdown: str) -> str:
    """Undo :func:`render.escape_markdown`: what the reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("  \n", "\n")).replace("\u00a0", " ")


def walk(node: Any, inside: bool = True) -> Iterator[tuple[str, str | None, str]]:
    """Every node under ``node`` in page order as (type, key, shown text); ``inside=False`` skips
    what is folded away (whole-section expanders and reference popovers)."""
    for child in node.children.values():
        if hasattr(child, "children"):
            label = child.proto.popover.label if getattr(child, "type", "") == "popover" else ""
            yield child.type, child.key, label
            if inside or child.type not in ("expandable", "expander", "popover"):
                yield from walk(child, inside)
        else:
            yield child.type, None, str(getattr(child, "value", ""))


def texts(node: Any, inside: bool = True) -> list[str]:
    return [value for kind, _, value in walk(node, inside) if kind == "text"]


# --------------------------------------------------------------------------- render helpers


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("**bold** and _italic_", "emphasis markers stay literal"),
        ("<script>alert(1)</script>", "HTML is shown as text"),
        ("1. first", "a numbered line is not a list"),
        ("# Heading", "a hash line is not a heading"),
        ("costs $5 and $10", "dollars are not LaTeX"),
        ("[link](https://example.org)", "no link syntax"),
        ("| a | b |", "no table"),
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


@pytest.mark.parametrize("text", [":material/home: here", "a :material/warning: b", "x :material/x:"])
def test_escape_markdown_breaks_streamlit_icon_codes(text: str) -> None:
    """Streamlit turns a literal ":material/" into an icon before reading escapes (issue 22 case 9)."""
    escaped = render.escape_markdown(text)
    assert ":material/" not in escaped and plain(escaped) == text


def flag(code: FlagCode, severity: Severity, message: str = "A message.", risk: Risk | None = None) -> Flag:
    return Flag(code=code, severity=severity, message=message, risk=risk)


TENFOLD = "The question states IVIG 10 g/kg … That is 10 times larger than the guideline dose (a decimal-point slip?)."


@pytest.mark.parametrize(
    ("given", "kind", "title"),
    [
        (flag(FlagCode.DOSE_NOT_IN_SOURCE, Severity.BLOCK), "error", "Dose not in the guideline"),
        (flag(FlagCode.DOSE_MISMATCH, Severity.BLOCK, TENFOLD, Risk.TENFOLD), "error", "Tenfold dose error"),
        # Colour comes from the data (severity, risk), never from the English message.
        (flag(FlagCode.DOSE_MISMATCH, Severity.WARN, TENFOLD), "warning", "Dose differs from the guideline"),
        (flag(FlagCode.DOSE_MISMATCH, Severity.WARN, "Sum.", Risk.OVERDOSE_TOTAL), "error", "Course total too high"),
        (flag(FlagCode.DOSE_UNIT_MISMATCH, Severity.WARN), "error", "Units differ from the guideline"),
        (
            flag(FlagCode.DOSE_MISMATCH, Severity.WARN, "The amount differs."),
            "warning",
            "Dose differs from the guideline",
        ),
        (flag(FlagCode.DOSE_FREQUENCY_MISMATCH, Severity.WARN), "warning", "Frequency differs from the guideline"),
        (flag(FlagCode.DOSE_FORMAT_RISK, Severity.WARN), "warning", "Dose written in an error-prone way"),
        (flag(FlagCode.CALCULATION, Severity.INFO), "calculation", "Calculated for this patient"),
        (flag(FlagCode.CALCULATION_REFUSED, Severity.INFO), "calculation", "No calculation"),
        (flag(FlagCode.CALCULATION_REFUSED, Severity.WARN), "warning", "No calculation"),
    ],
)
def test_alerts_by_severity(given: Flag, kind: str, title: str) -> None:
    assert render.alert_kind(given) == kind
    assert render.flag_title(given) == title


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CAP guideline 2024.pdf", "CAP-guideline-2024.pdf"),
        ("../../etc/evil.md", "evil.md"),
        ("..\\..\\windows.TXT", "windows.txt"),
        ("notes.html", "notes.html"),
        ("run.sh", None),
        (".md", None),
        ("no-extension", None),
    ],
)
def test_upload_names_are_sanitised(name: str, expected: str | None) -> None:
    assert render.safe_upload_name(name) == expected


def test_upload_never_overwrites_or_escapes_the_folder(tmp_path: Path) -> None:
    saved = library.save_upload(tmp_path, "../new guide.md", b"# New\n\nText.\n")
    assert saved == tmp_path.resolve() / "new-guide.md" and saved.read_bytes() == b"# New\n\nText.\n"
    for name, data, reason in [
        ("new guide.md", b"other", "already exists"),
        ("big.md", b"x" * (render.MAX_UPLOAD_MB * 1024 * 1024 + 1), "over the 5 MB limit"),
        ("empty.txt", b"  \n", "empty"),
        ("tool.exe", b"MZ", "only"),
    ]:
        with pytest.raises(library.UploadRefused, match=reason):
            library.save_upload(tmp_path, name, data)
    assert saved.read_bytes() == b"# New\n\nText.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new-guide.md"]


def test_examples_come_from_the_guidelines_not_a_fixed_list() -> None:
    outline = render.GuidelineOutline(
        title="Community-acquired pneumonia in adults",
        sections=("Community-acquired pneumonia in adults", "Antibiotic Treatment", "References"),
        statements=("Offer amoxicillin 500 mg three times a day [1].", "Clarithromycin 500 mg twice a day."),
    )
    assert render.example_questions([outline]) == [
        "What dose of amoxicillin is recommended?",
        "What dose of clarithromycin is recommended?",
        "What does Community-acquired pneumonia in adults say about antibiotic treatment?",
    ]
    assert render.example_questions([render.GuidelineOutline("Sepsis", (), ())]) == ["What does Sepsis recommend?"]


def test_section_segments_highlight_the_quotes_inside_their_whole_section(assistant) -> None:
    answer = assistant.ask(DOSE_QUESTION)
    quote = answer.quotes[0]
    document = assistant.document(quote.source)
    section = render.find_section(document, quote)
    assert section is not None and section.title == quote.section
    pieces = render.section_segments(document, [quote])
    assert [text for text, marked in pieces if marked] == [quote.text]
    assert " ".join(text for text, _ in pieces).split() == document.raw[section.start : section.end].split()
    moved = quote.model_copy(update={"start": quote.start + 1, "end": quote.end + 1})
    assert not [text for text, marked in render.section_segments(document, [moved]) if marked]


def test_dose_rows_carry_guideline_section_and_page(assistant) -> None:
    answer = assistant.ask(DOSE_QUESTION)
    assert answer.doses
    rows = render.dose_rows(answer)
    assert [tuple(row) for row in rows] == [render.DOSE_COLUMNS] * len(answer.doses)
    direct = answer.quotes[0]
    for row, dose in zip(rows, answer.doses, strict=True):
        assert plain(row["Dose"]) == dose.text
        assert plain(row["Citations"]) == " ".join(f"[{label}]" for label in dose.citations)
        assert plain(row["Guideline"]) == direct.title and plain(row["Section"]) == direct.section
        assert row["Page"] == "—"


def test_markdown_export_reads_cleanly(assistant) -> None:
    answers = [assistant.ask(DOSE_QUESTION), assistant.ask(OFF_TOPIC), assistant.ask("<b>x</b> IVIG (dose)?")]
    markdown = render.conversation_markdown(answers, ["IVIG in Autoimmune Hemolytic Anemia (ivig-in-aiha.txt)"])
    # Ordinary text reads as written; HTML (here the user's) is escaped, never drawn (issue 22 case 9).
    assert "## 3. \\<b>x\\</b> IVIG (dose)?" in markdown and render.ABSTAIN_TITLE in markdown
    assert "\\" not in markdown.replace("\\<b>x\\</b>", ""), "no backslash escapes in ordinary text"
    for quote in answers[0].quotes:
        if not present.is_bare_lead_in(quote):
            assert f"> {quote.text}" in markdown
        assert quote.title and quote.section and f"{quote.title} — {quote.section}" in markdown
    assert "| " + " | ".join(render.DOSE_COLUMNS) + " |" in markdown


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


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(autouse=True)
def _on_this_computer() -> Iterator[None]:
    """The page as ``make run`` serves it (127.0.0.1): not shared, so the library controls are drawn.

    Without an address Streamlit listens on every interface, and the page hides them (tests/test_ui_access.py).
    """
    from streamlit import config

    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", None)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, settings, assistant) -> AppTest:
    """The page over the session's corpus and index (already built by the ``assistant`` fixture)."""
    point_app_at(monkeypatch, settings.corpus_dir, settings.index_dir)
    return open_app()


@pytest.fixture(scope="module")
def library_dirs(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:
    """A generated two-guideline library (pneumonia, UTI) with its index built once for the module."""
    from assistant import Assistant
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("library")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "pneumonia.md").write_text(PNEUMONIA, encoding="utf-8")
    (corpus / "uti.md").write_text(UTI, encoding="utf-8")
    Assistant.build(Settings(corpus_dir=corpus, index_dir=root / "index"))
    return corpus, root / "index"


@pytest.fixture
def library_app(monkeypatch: pytest.MonkeyPatch, library_dirs, tmp_path: Path) -> tuple[AppTest, Any]:
    """The page over a private copy of the generated library, and an Assistant over the same copy."""
    from assistant import Assistant

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(library_dirs[0], corpus)
    shutil.copytree(library_dirs[1], index)
    point_app_at(monkeypatch, corpus, index)
    return open_app(), Assistant.load(corpus, index)


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def last_reply(at: AppTest):
    messages = list(at.chat_message)
    assert messages and messages[-1].name == "assistant"
    return messages[-1]


def assert_shows(at: AppTest, expected: Answer) -> None:
    """The last reply: the direct answer first and marked, then each group under its heading, in order."""
    reply = last_reply(at)
    direct, groups = present.split_direct(expected.quotes)
    wanted: list[str] = []
    if direct is not None:
        wanted += [
            present.quote_location(direct),
            *([direct.context] if direct.context else []),
            render.quote_line(direct),
        ]
    for group in groups:
        wanted.append(present.group_heading(group))
        for quote in group.quotes:
            wanted += [*([quote.context] if quote.context else []), render.quote_line(quote)]
    answer_part = [value for value in texts(reply, inside=False) if value in wanted]
    assert answer_part == wanted
    nodes = list(walk(reply))
    if direct is not None:
        label = present.answer_view(expected).direct_label
        marker = next(i for i, (kind, _, value) in enumerate(nodes) if label in value)
        first_text = next(value for kind, _, value in nodes[marker:] if kind == "text")
        assert first_text == present.quote_location(direct)
        assert any(key and key.startswith("ga-quote-d-") for _, key, _ in nodes), "the direct answer is styled apart"
    popovers = [value for kind, _, value in nodes if kind == "popover"]
    assert [plain(p) for p in popovers] == [  # chips only for labels the reference list resolves
        f"[{label}]"
        for q in [*([direct] if direct else []), *(q for g in groups for q in g.quotes)]
        for label in q.citations
        if label in {reference.label for reference in q.references}
    ]
    sections = {(q.source, q.section) for q in expected.quotes if not present.is_bare_lead_in(q) or q.direct}
    assert len(reply.expander) == len(sections), "one whole-section view per section"
    assert len(reply.table) == (1 if present.answer_view(expected).show_dose_table else 0)


def test_empty_page_explains_and_offers_examples_from_the_corpus(app: AppTest, assistant) -> None:
    assert render.EXPLANATION in [element.value for element in app.main.markdown]
    examples = [button.label for button in app.main.button]
    assert 3 <= len(examples) <= 4 and all(label.endswith("?") for label in examples)
    assert any("IVIG" in label for label in examples)
    manifest = assistant.manifest
    assert f"{manifest.n_chunks} statements" in app.main.caption[0].value, "index status sits below the title"
    assert "chunk" not in " ".join(e.value for e in [*app.caption, *app.markdown]).lower()
    advanced = next(expander for expander in app.sidebar.expander if expander.label == "Advanced")
    assert advanced.slider[0].value == assistant.settings.k and "(k)" in advanced.slider[0].label
    assert any(button.label == "Rebuild index" for button in advanced.button)
    assert "up to date" in " ".join(element.value for element in advanced.markdown)
    assert not app.chat_input[0].proto.disabled and not app.error and not app.chat_message


def test_question_shows_the_direct_answer_first_then_grouped_support(app: AppTest, assistant) -> None:
    expected = assistant.ask(DOSE_QUESTION)
    assert expected.quotes[0].direct
    ask(app, DOSE_QUESTION)
    user, reply = list(app.chat_message)
    assert user.name == "user" and plain(user.markdown[0].value) == DOSE_QUESTION
    assert_shows(app, expected)
    highlighted = [value for kind, key, value in walk(reply.expander[0]) if kind == "text"]
    assert expected.quotes[0].text in highlighted
    assert not reply.error and not reply.warning


@pytest.mark.parametrize(
    ("flags", "element", "absent"),
    [
        (
            [flag(FlagCode.DOSE_NOT_IN_SOURCE, Severity.BLOCK, "A summary stated 10 g/kg.")],
            "error",
            ("warning", "info"),
        ),
        ([flag(FlagCode.DOSE_MISMATCH, Severity.BLOCK, TENFOLD, Risk.TENFOLD)], "error", ("warning", "info")),
        (
            [flag(FlagCode.DOSE_UNIT_MISMATCH, Severity.WARN, "The units differ (mg vs g).")],
            "error",
            ("warning", "info"),
        ),
        (
            [flag(FlagCode.DOSE_FREQUENCY_MISMATCH, Severity.WARN, "The frequency differs.")],
            "warning",
            ("error", "info"),
        ),
        (
            [flag(FlagCode.CALCULATION, Severity.INFO, "1 g/kg × 70 kg = 70 g. Check this arithmetic.")],
            "calculation",
            ("error", "warning", "info"),
        ),
    ],
    ids=["block", "tenfold", "unit", "frequency", "calculation"],
)
def test_each_alert_appears_once_in_its_own_style(app: AppTest, assistant, flags, element, absent) -> None:
    base = assistant.ask(DOSE_QUESTION)
    status = GuardrailStatus.BLOCK if flags[0].severity is Severity.BLOCK else GuardrailStatus.WARN
    notes = [f.message for f in flags]  # the guardrail also lists its messages as notes
    crafted = base.model_copy(update={"guardrail": Guardrail(status=status, flags=flags), "notes": notes})
    app.session_state["turns"] = [FakeTurn(DOSE_QUESTION, answer=crafted)]
    app.run()
    reply = last_reply(app)
    message = flags[0].message
    assert texts(reply).count(message) == 1, "shown exactly once"
    assert not any(message in plain(e.value) for e in [*reply.markdown, *reply.caption, *reply.error, *reply.warning])
    if element == "calculation":
        assert any(key and key.startswith("ga-calc-") for _, key, _ in walk(reply))
    else:
        boxes = getattr(reply, element)
        assert [plain(box.value) for box in boxes] == [f"**{render.flag_title(flags[0])}**"]
    for other in absent:
        assert not getattr(reply, other)
    assert_shows(app, crafted)


def test_real_tenfold_question_is_red_and_calculation_is_neutral(app: AppTest, assistant) -> None:
    ask(app, MISMATCH)
    reply = last_reply(app)
    assert [plain(e.value) for e in reply.error] == ["**Tenfold dose error**"] and not reply.warning
    ask(app, "How much IVIG for a 70 kg patient?")
    reply = last_reply(app)
    assert not reply.info and not reply.warning and not reply.error
    assert any("70 kg = 70 g" in value for value in texts(reply))


def test_off_topic_question_shows_a_calm_abstention(app: AppTest, assistant) -> None:
    assert assistant.ask(OFF_TOPIC).abstained
    ask(app, OFF_TOPIC)
    reply = last_reply(app)
    assert len(reply.info) == 1 and render.ABSTAIN_TITLE in reply.info[0].value
    assert not reply.error and not reply.warning and not reply.expander


def test_example_button_asks_it_and_the_welcome_makes_way(app: AppTest, assistant) -> None:
    example = plain(app.main.button[0].label)  # the label is escaped: it is made of guideline text
    app.main.button[0].click().run()
    assert not app.exception
    user, _ = list(app.chat_message)
    assert plain(user.markdown[0].value) == example
    assert_shows(app, assistant.ask(example))
    assert render.EXPLANATION not in [element.value for element in app.main.markdown]


def test_follow_up_is_answered_in_the_conversation_and_new_conversation_clears_it(app: AppTest, assistant) -> None:
    conversation = assistant.new_conversation()
    assistant.ask(DOSE_QUESTION, conversation=conversation)
    expected = assistant.ask("and in children?", conversation=conversation)
    assert expected.asked_as
    ask(app, DOSE_QUESTION)
    ask(app, "and in children?")
    reply = last_reply(app)
    assert [c.value for c in reply.caption][0] == "Answered as:" and texts(reply)[0] == present.follow_up_line(
        expected.question, expected.asked_as
    )
    next(button for button in app.sidebar.button if button.label == "New conversation").click().run()
    assert not app.chat_message and app.session_state["turns"] == []
    ask(app, "and in children?")
    assert "Answered as:" not in [c.value for c in last_reply(app).caption]


def test_k_in_advanced_reaches_the_assistant(app: AppTest, assistant) -> None:
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
    assert plain(user.markdown[0].value) == question
    # the only script on the page is the constant scroll script (its one number: the answers so far)
    assert all("script" not in element.value or element.value == scroll.script(1) for element in app.html)


# --------------------------------------------------------------------------- the library


def test_examples_come_from_a_pneumonia_library(library_app) -> None:
    at, assistant = library_app
    examples = [button.label for button in at.main.button]
    # One drug from each guideline in turn (the shared drug vocabulary knows nitrofurantoin; the page's own
    # suffix list did not, so both examples used to come from the pneumonia guideline).
    assert examples[:2] == ["What dose of amoxicillin is recommended?", "What dose of nitrofurantoin is recommended?"]
    assert not any("IVIG" in example or "AIHA" in example for example in examples)
    for example in examples:
        assert not assistant.ask(example).abstained, example


def test_two_guideline_answer_says_so_and_filter_restricts_sources(library_app) -> None:
    at, assistant = library_app
    question = "Which antibiotic is offered for 5 days or 3 days?"
    expected = assistant.ask(question)
    assert {q.source for q in expected.quotes} == {"pneumonia.md", "uti.md"}
    ask(at, question)
    reply = last_reply(at)
    assert "From 2 guidelines: Lower urinary tract infection in women; Community-acquired pneumonia in adults" in texts(
        reply
    )
    assert_shows(at, expected)

    search = at.sidebar.text_input[0]
    search.set_value("pneumonia").run()
    assert at.sidebar.multiselect[0].options == ["Community-acquired pneumonia in adults"]
    at.sidebar.multiselect[0].set_value(["pneumonia.md"]).run()
    ask(at, question)
    restricted = at.session_state["turns"][-1].answer
    assert restricted.documents == ["pneumonia.md"] and {q.source for q in restricted.quotes} == {"pneumonia.md"}
    assert_shows(at, restricted)


def test_citation_chips_open_their_reference(library_app) -> None:
    at, _ = library_app
    ask(at, "What dose of amoxicillin is recommended?")
    reply = last_reply(at)
    popover = next(node for node in reply if getattr(node, "type", "") == "popover")
    assert plain(popover.proto.popover.label) == "[1]"
    assert texts(popover) == ["[1] Smith J. Amoxicillin dosing in community-acquired pneumonia. Lancet. 2019."]
    assert (
        "For adults with low-severity community-acquired pneumonia, offer amoxicillin 500 mg three times a day for 5 days [1]."
        in texts(reply)
    )


def test_a_url_and_shortcodes_in_a_guideline_are_shown_as_text(library_app) -> None:
    at, _ = library_app
    ask(at, "Which leaflet should adults with pneumonia be given?")
    reply = last_reply(at)
    statement = next(value for value in texts(reply) if URL in value)
    assert ":material/home:" in statement and ":red[stop]" in statement and "www.example.org" in statement
    markdown = " ".join(e.value for e in [*reply.markdown, *reply.caption, *reply.info, *reply.warning, *reply.error])
    assert "example" not in markdown and "material/home" not in markdown


def test_upload_adds_a_guideline_and_updates_the_index(library_app) -> None:
    at, _ = library_app
    from assistant.settings import Settings

    corpus = Settings().corpus_dir  # the private copy the page was pointed at
    text = "# Sepsis in adults\n\n## Fluids\n\nGive a 500 mL crystalloid bolus over 15 minutes to adults with sepsis [1].\n"
    at.sidebar.file_uploader[0].set_value(("Sepsis guide (2024).md", text.encode(), "text/markdown")).run()
    assert not at.exception and not at.sidebar.error
    assert (corpus / "Sepsis-guide-2024.md").read_text() == text
    assert any("Added Sepsis" in plain(s.value) for s in at.sidebar.success)
    assert "Sepsis in adults" in at.sidebar.multiselect[0].options or any(
        "Sepsis in adults" in value for value in texts(at.sidebar)
    )
    ask(at, "What fluid bolus is given in sepsis?")
    assert any("500 mL crystalloid bolus" in value for value in texts(last_reply(at)))

    at.sidebar.file_uploader[0].set_value(("Sepsis guide (2024).md", b"# Other\n\nText.\n", "text/markdown")).run()
    assert [plain(e.value) for e in at.sidebar.error] == [
        "Sepsis-guide-2024.md: a guideline with this name already exists; rename the file to add it."
    ]
    assert (corpus / "Sepsis-guide-2024.md").read_text() == text


# --------------------------------------------------------------------------- bad states


def copy_of_session(settings, tmp_path: Path) -> tuple[Path, Path]:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(settings.corpus_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    return corpus, index


def test_first_start_builds_index_and_reports_bad_file(monkeypatch, tmp_path, settings, assistant) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    (corpus / "broken.txt").write_bytes(b"Prednisone \xff\xfe 1 mg/kg.\n")
    point_app_at(monkeypatch, corpus, tmp_path / "index")
    at = open_app()
    assert not at.error
    assert (tmp_path / "index" / "manifest.json").is_file()
    assert at.status[0].state == "complete" and at.status[0].label.startswith("Index ready")
    assert at.status[0].label.endswith("statements")
    assert at.status[0].get("progress"), "the build shows its progress"
    assert any("broken.txt: is not valid UTF-8" in plain(warning.value) for warning in at.sidebar.warning)
    ask(at, DOSE_QUESTION)
    assert_shows(at, assistant.ask(DOSE_QUESTION))


def test_stale_index_is_shown_and_rebuilt_from_advanced(monkeypatch, tmp_path, settings) -> None:
    corpus, index = copy_of_session(settings, tmp_path)
    point_app_at(monkeypatch, corpus, index)
    at = open_app()
    guideline = next(corpus.glob("*.txt"))
    guideline.chmod(0o644)
    guideline.write_text(guideline.read_text() + "\nAzathioprine may be used as a steroid-sparing agent. 7\n")
    at.run()
    assert "stale" in " ".join(element.value for element in at.sidebar.markdown)
    assert "not up to date" in at.main.caption[0].value
    next(button for button in at.sidebar.button if button.label == "Rebuild index").click().run()
    assert not at.exception and not at.error
    assert "up to date" in " ".join(element.value for element in at.sidebar.markdown)
    ask(at, "Can azathioprine be used as a steroid-sparing agent?")
    assert any("Azathioprine may be used" in value for value in texts(last_reply(at)))


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
    at = open_app()
    assert any(message in error.value for error in at.main.error)
    assert at.chat_input[0].proto.disabled


def test_corrupt_index_is_shown_with_a_rebuild_button_that_fixes_it(monkeypatch, tmp_path, settings, assistant) -> None:
    corpus, index = copy_of_session(settings, tmp_path)
    faiss_file = index / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    point_app_at(monkeypatch, corpus, index)
    at = open_app()
    assert any("index.faiss" in plain(error.value) for error in at.main.error)
    assert at.chat_input[0].proto.disabled
    next(button for button in at.main.button if button.label == "Rebuild index").click().run()
    assert not at.exception and not at.main.error
    ask(at, DOSE_QUESTION)
    assert_shows(at, assistant.ask(DOSE_QUESTION))


def test_a_bad_setting_in_the_environment_is_one_message_not_a_traceback(monkeypatch) -> None:
    monkeypatch.setenv("GUIDELINE_ASSISTANT_K", "abc")
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    assert not app.exception
    assert any("GUIDELINE_ASSISTANT_K" in error.value.replace("\\", "") for error in app.error)


LONG_HEADING = "Offer intravenous immunoglobulin to adults with severe warm autoimmune haemolytic anaemia who need it"


def test_labels_are_true_and_short_and_the_calculation_result_stands_alone(app: AppTest, assistant) -> None:
    """Issue 24: "Closest statement" unless the statement answers the question's type; a heading that is a
    whole sentence is shortened, in full one tap away; a calculation's result on its own line."""
    base = assistant.ask(DOSE_QUESTION)
    direct = base.quotes[0].model_copy(update={"section": LONG_HEADING})
    calculation = Flag(code=FlagCode.CALCULATION, severity=Severity.INFO, message="1 g/kg × 70 kg = 70 g. Check it.")
    crafted = base.model_copy(
        update={
            "question": "What is the treatment for warm AIHA?",  # a treatment question, a dose statement: not direct
            "quotes": [direct],
            "guardrail": Guardrail(status=GuardrailStatus.PASS, flags=[calculation]),
        }
    )
    app.session_state["turns"] = [FakeTurn(crafted.question, answer=crafted)]
    app.run()
    reply = last_reply(app)
    shown = [value for _, _, value in walk(reply, inside=False)]
    assert any(render.CLOSEST_LABEL in value for value in shown)
    assert not any(render.DIRECT_LABEL in value for value in shown)
    short = present.short_section(LONG_HEADING)
    assert short and short != LONG_HEADING and present.quote_location(direct).endswith(short)
    assert LONG_HEADING not in texts(reply, inside=False) and LONG_HEADING in texts(reply)
    result = [value for kind, key, value in walk(reply) if kind == "text"]
    assert "70 g" in result, "the result is a line of its own"
    assert any(key and key.startswith("ga-result-") for _, key, _ in walk(reply))
