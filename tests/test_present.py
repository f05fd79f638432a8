"""Presentation: the answer's parts become Markdown in one place, in one order, without editing text."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.text import Text

from assistant.answer.schema import (
    ABSTAIN_MESSAGE,
    LEAD_FOUND,
    Answer,
    DoseInfo,
    Flag,
    FlagCode,
    Guardrail,
    Quote,
    Reference,
    Risk,
    Severity,
)
from assistant.present import (
    DOSE_COLUMNS,
    POLICY,
    Loudness,
    answer_view,
    conversation_markdown,
    dose_cells,
    dose_source_cells,
    labels_in_text,
    markdown,
    quote_location,
    render_quote,
    split_direct,
)
from assistant.present.terminal import LOUDNESS_COLOURS, renderables
from ui import render

QUOTE = Quote(
    text="IVIG 1 g/kg as a single dose.", citations=["1"], source="g.txt", section="Dose", start=0, end=29, chunk_id="a"
)
TITLED = QUOTE.model_copy(update={"title": "IVIG in AIHA", "direct": True})
OTHER = Quote(
    text="Prednisone 1 mg/kg/day [2].",
    citations=["2"],
    source="p.pdf",
    title="Steroids guide",
    section="First line",
    start=100,
    end=127,
    chunk_id="b",
    page=4,
    page_label="iv",
    offsets="canonical",
    references=[Reference(label="2", text="Smith J. Steroids in AIHA. Blood. 2020.")],
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(question="q", abstained=True, lead=ABSTAIN_MESSAGE), ABSTAIN_MESSAGE),
        (
            Answer(question="q", abstained=False, lead=LEAD_FOUND, quotes=[QUOTE]),
            f"{LEAD_FOUND}\n\n*g.txt — Dose*\n\n> IVIG 1 g/kg as a single dose. [1]",
        ),
        (
            Answer(question="q", abstained=False, lead=LEAD_FOUND, notes=["A note."], summary="Short.", quotes=[QUOTE]),
            f"Short.\n\nA note.\n\n{LEAD_FOUND}\n\n*g.txt — Dose*\n\n> IVIG 1 g/kg as a single dose. [1]",
        ),
        (
            Answer(
                question="q",
                abstained=False,
                lead=LEAD_FOUND,
                summary="IVIG 5 g/kg.",
                summary_withheld=True,
                quotes=[QUOTE],
            ),
            f"{LEAD_FOUND}\n\n*g.txt — Dose*\n\n> IVIG 1 g/kg as a single dose. [1]",
        ),
        (
            Answer(
                question="and in children?",
                asked_as="IVIG dose in children?",
                abstained=False,
                lead=LEAD_FOUND,
                quotes=[QUOTE],
            ),
            f"Answered as: IVIG dose in children?\n\n{LEAD_FOUND}\n\n*g.txt — Dose*\n\n> IVIG 1 g/kg as a single dose. [1]",
        ),
        (
            Answer(question="q", abstained=False, lead=LEAD_FOUND, quotes=[TITLED]),
            f"{LEAD_FOUND}\n\n**Direct answer** · *IVIG in AIHA — Dose*\n\n> IVIG 1 g/kg as a single dose. [1]",
        ),
        (
            Answer(question="q", abstained=False, lead=LEAD_FOUND, quotes=[TITLED, OTHER]),
            f"{LEAD_FOUND}\n\n*From 2 guidelines: IVIG in AIHA; Steroids guide*\n\n"
            "**Direct answer** · *IVIG in AIHA — Dose*\n\n> IVIG 1 g/kg as a single dose. [1]\n\n"
            "**Supporting statements**\n\n*Steroids guide, p. iv — First line*\n\n> Prednisone 1 mg/kg/day [2].\n\n"
            "References:\n- [2] Smith J. Steroids in AIHA. Blood. 2020.",
        ),
    ],
    ids=[
        "abstained",
        "quotes",
        "summary-and-notes-above-the-lead",
        "withheld-summary-never-shown",
        "follow-up",
        "direct",
        "two-guidelines",
    ],
)
def test_markdown_is_rendered_from_the_parts(answer: Answer, expected: str) -> None:
    assert markdown(answer) == expected
    assert "\\" not in markdown(answer), "the Markdown reads as written: no backslash escapes"


def test_the_lead_line_sits_directly_above_the_quotes() -> None:
    text = markdown(Answer(question="q", abstained=False, lead=LEAD_FOUND, notes=["N1.", "N2."], quotes=[QUOTE]))
    assert text.index("N2.") < text.index(LEAD_FOUND) < text.index("> IVIG")


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        (QUOTE, "g.txt — Dose"),
        (QUOTE.model_copy(update={"title": "IVIG in AIHA"}), "IVIG in AIHA — Dose"),
        (
            QUOTE.model_copy(update={"source": "g.pdf", "page": 4, "page_label": "ii", "offsets": "canonical"}),
            "g.pdf, p. ii — Dose",
        ),
        (
            QUOTE.model_copy(update={"source": "g.pdf", "page": 4, "offsets": "canonical", "section": None}),
            "g.pdf, p. 4",
        ),
    ],
)
def test_quote_location_names_section_guideline_and_page(quote: Quote, expected: str) -> None:
    assert quote_location(quote) == expected


@pytest.mark.parametrize(
    ("text", "citations", "last_line"),
    [
        ("Give it for 5 days [1].", ["1"], "> Give it for 5 days [1]."),
        ("Give it for 5 days.", ["1"], "> Give it for 5 days. [1]"),
        ("Give it [1, 3–4].", ["1", "3", "4", "7"], "> Give it [1, 3–4]. [7]"),
        ("Give it [1-2].", ["1", "2"], "> Give it [1-2]."),
    ],
)
def test_a_bracket_label_already_in_the_text_is_not_repeated(text: str, citations: list[str], last_line: str) -> None:
    quote = QUOTE.model_copy(update={"text": text, "citations": citations})
    assert render_quote(quote).split("\n")[-1] == last_line


def test_labels_in_text_expand_ranges_and_lists() -> None:
    assert labels_in_text("a [1, 3–5] b [Smith 2020]") == {"1", "3", "4", "5", "Smith 2020"}


def test_direct_answer_first_and_bare_lead_ins_left_to_their_bullets() -> None:
    lead_in = QUOTE.model_copy(update={"text": "The evidence is limited to:", "citations": [], "chunk_id": "c"})
    bullet = QUOTE.model_copy(
        update={"text": "case reports", "context": "The evidence is limited to:", "kind": "bullet", "chunk_id": "d"}
    )
    direct, groups = split_direct([lead_in, bullet, TITLED])
    assert direct == TITLED
    assert [[q.chunk_id for q in g.quotes] for g in groups] == [["d"]]


def test_dose_cells_follow_the_columns() -> None:
    answer = Answer(
        question="q",
        abstained=False,
        doses=[DoseInfo(text="1 g/kg", drug="IVIG", amount=1.0, unit="g", basis="kg", schedule="single dose", citations=["1"])],
    )
    assert dose_cells(answer) == [("IVIG", "1 g/kg", "single dose", "—", "[1]")]
    assert len(dose_cells(answer)[0]) == len(DOSE_COLUMNS)


DOSE = {"drug": "IVIG", "amount": 1.0, "unit": "g"}  # a table row needs a drug and an amount in a dose unit


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        (DoseInfo(text="1 mg/kg/day", source="p.pdf", start=111, end=122, **DOSE), ("Steroids guide", "First line", "iv")),
        (DoseInfo(text="1 g/kg", source="g.txt", start=5, end=11, **DOSE), ("g.txt", "Dose", "—")),
        (DoseInfo(text="1 g/kg", source="elsewhere.txt", start=5, end=11, **DOSE), ("elsewhere.txt", "—", "—")),
    ],
    ids=["pdf-quote", "text-quote", "no-quote"],
)
def test_dose_source_cells_come_from_the_quote_the_dose_is_in(dose: DoseInfo, expected: tuple[str, str, str]) -> None:
    answer = Answer(question="q", abstained=False, quotes=[QUOTE, OTHER], doses=[dose])
    assert dose_source_cells(answer) == [expected]


@pytest.mark.parametrize(
    ("section", "shown"),
    [
        ("First-Line Treatment Approach", "First-Line Treatment Approach"),
        ("Alternative Regimens intramuscular ceftriaxone 1g immediately, followed by azithromycin 1 g/week", None),
        (None, None),
        ("x" * 150, "x" * 99 + "…"),
    ],
)
def test_a_heading_that_states_an_amount_is_never_shown_as_our_label(section: str | None, shown: str | None) -> None:
    from assistant.present import shown_section

    assert shown_section(section) == shown


# --------------------------------------------------------------------------- the flag policy, one for every face

TENFOLD = "The question's 10 g/kg differs from 1 g/kg. That is 10 times larger than the guideline dose (a decimal-point slip?)."
UI_LOUDNESS = {kind: loudness for loudness, kind in render.ALERT_KINDS.items()}
TERMINAL_LOUDNESS = {colour: loudness for loudness, colour in LOUDNESS_COLOURS.items()}


def flagged(*flags: Flag) -> Answer:
    return Answer(
        question="q", abstained=False, lead=LEAD_FOUND, quotes=[TITLED], guardrail=Guardrail(flags=list(flags))
    )


def terminal_alerts(answer: Answer) -> list[tuple[str, Loudness]]:
    """(title, loudness) of each alert line as the terminal draws it: the title's words and its colour."""
    console = Console(width=200, force_terminal=True, color_system="standard")
    found: list[tuple[str, Loudness]] = []
    for part in renderables(answer):
        if not isinstance(part, Text):
            continue
        for segment in console.render(part):
            style = segment.style
            if style and style.color and style.bold and segment.text.endswith(":"):
                found.append((segment.text.removesuffix(":"), TERMINAL_LOUDNESS[style.color.name]))
    return found


def ui_alerts(answer: Answer) -> list[tuple[str, Loudness]]:
    """(title, loudness) of each alert as the Streamlit page draws it (its box kind read back as loudness)."""
    return [(alert.title, UI_LOUDNESS[render.alert_kind(alert)]) for alert in answer_view(answer).alerts]


EVERY_FLAG = [
    Flag(code=code, severity=severity, message=f"{code.value} at {severity.value}.")
    for code in FlagCode
    for severity in Severity
] + [Flag(code=FlagCode.DOSE_MISMATCH, severity=Severity.BLOCK, message=TENFOLD, risk=Risk.TENFOLD)]


def test_the_policy_titles_every_flag_code_in_words() -> None:
    assert set(POLICY) == set(FlagCode)
    for code, style in POLICY.items():
        assert style.title and "_" not in style.title and style.title != code.value
    assert len({style.order for style in POLICY.values()}) == len(POLICY)


@pytest.mark.parametrize("flag", EVERY_FLAG, ids=lambda f: f"{f.code.value}-{f.severity.value}-{len(f.message)}")
def test_terminal_ui_and_export_give_every_flag_the_same_title_and_loudness(flag: Flag) -> None:
    answer = flagged(flag)
    shown = ui_alerts(answer)
    assert terminal_alerts(answer) == shown
    ((title, loud),) = shown
    assert title == POLICY[flag.code].title or (flag.risk is Risk.TENFOLD and title == "Tenfold dose error")
    assert f"**{title}** ({loud.value}): {flag.message}" in conversation_markdown([answer])


@pytest.mark.parametrize(
    "loud",
    [
        Flag(code=FlagCode.DOSE_MISMATCH, severity=Severity.WARN, message="Tenfold.", risk=Risk.TENFOLD),
        Flag(code=FlagCode.DOSE_UNIT_MISMATCH, severity=Severity.WARN, message="The units differ (mg vs g)."),
        Flag(code=FlagCode.DOSE_NOT_IN_SOURCE, severity=Severity.BLOCK, message="A summary stated 10 g/kg."),
    ],
    ids=["tenfold", "unit", "blocked"],
)
def test_tenfold_unit_and_blocked_flags_are_the_loudest_and_first_everywhere(loud: Flag) -> None:
    quieter = [
        Flag(code=FlagCode.CALCULATION, severity=Severity.INFO, message="1 g/kg × 70 kg = 70 g."),
        Flag(code=FlagCode.DOSES_DIFFER, severity=Severity.WARN, message="Doses differ between statements."),
        Flag(code=FlagCode.DOSE_FREQUENCY_MISMATCH, severity=Severity.WARN, message="The frequency differs."),
    ]
    answer = flagged(*quieter, loud)
    for alerts in (terminal_alerts(answer), ui_alerts(answer)):
        assert alerts[0][1] is Loudness.DANGER
        assert all(later is not Loudness.DANGER for _, later in alerts[1:])
        assert [loudness.rank for _, loudness in alerts] == sorted(loudness.rank for _, loudness in alerts)


def test_a_note_an_alert_shows_is_not_repeated() -> None:
    message = "The question asks about IVIG for children; the dose quoted is stated for another context."
    flag = Flag(code=FlagCode.DOSE_OTHER_CONTEXT, severity=Severity.WARN, message=message)
    answer = flagged(flag).model_copy(update={"notes": [message, "Another note."]})
    assert answer_view(answer).notes == ("Another note.",)
    console = Console(width=300, record=True)
    for part in renderables(answer):
        console.print(part)
    assert console.export_text().count(message) == 1
    assert conversation_markdown([answer]).count(message) == 1
