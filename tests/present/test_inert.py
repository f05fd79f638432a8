"""Issue 22 case 9: guideline text never becomes markup in the JSON ``answer`` Markdown or the export.

Each hostile string is put into one field a guideline controls (statement, lead-in, title,
section, page label, reference entry, citation label, dose, flag message) or the user controls
(question), and the Markdown is rendered by a real CommonMark renderer (markdown-it-py, with
GFM tables and strikethrough, and with link validation off so a ``javascript:`` link would show).
The rendered page must hold no link, image or HTML element from it and must show its characters
as written; the source must hold no Streamlit icon code and no unescaped math delimiter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from markdown_it import MarkdownIt

from assistant.answer.schema import LEAD_FOUND, Answer, DoseInfo, Flag, FlagCode, Guardrail, Quote, Reference, Severity
from assistant.present import conversation_markdown, markdown, rendered, shown_section
from assistant.present.inert import inert

PAYLOADS = {
    "javascript link": "[click here](javascript:alert(1))",
    "web link": "[guidance](https://evil.example/phish)",
    "tracking image": "![](https://tracker.example/p.png?u=1)",
    "reference link and definition": "[see][r] [r]: https://evil.example",
    "html image": '<img src=x onerror="alert(1)">',
    "script": "<script>alert(1)</script>",
    "autolink": "<https://evil.example>",
    "entity that draws a digit": "&#49;0 mg/kg",
    "streamlit icon": ":material/warning: stop",
    "display math": "$$\\frac{1}{0}$$",
    "inline math": "cost $5 or $6",
    "emphasis hides characters": "give *not* 2_3_4 ~~5 mg~~",
    "heading at a line start": "# Give 10 g/kg",
    "list item at a line start": "- Give 10 g/kg",
    "numbered item at a line start": "3) Give 10 g/kg",
    "thematic break": "---",
}

BASE = Quote(
    text="IVIG 1 g/kg as a single dose.",
    citations=["1"],
    source="g.txt",
    title="IVIG guide",
    section="Dose",
    start=0,
    end=29,
    chunk_id="a",
    direct=True,
    references=[Reference(label="1", text="Smith J. Blood. 2020.")],
)


def _quote(**fields: object) -> Answer:
    return Answer(question="IVIG dose?", abstained=False, lead=LEAD_FOUND, quotes=[BASE.model_copy(update=fields)])


def _dose(text: str) -> Answer:
    answer = _quote()
    dose = DoseInfo(text=text, drug=text, amount=1.0, unit="g/kg", source="g.txt", section=text, start=0, end=10)
    return answer.model_copy(update={"doses": [dose]})


def _flag(text: str) -> Answer:
    flag = Flag(
        code=FlagCode.DOSE_MISMATCH, severity=Severity.WARN, message=f"The question's {text} differs.", text=text
    )
    return _quote().model_copy(update={"guardrail": Guardrail(status="warn", flags=[flag]), "notes": [text]})


FIELDS: dict[str, Callable[[str], Answer]] = {
    "statement": lambda p: _quote(text=f"Give IVIG {p} daily."),
    "lead-in": lambda p: _quote(context=f"In adults {p}:", kind="bullet"),
    "title": lambda p: _quote(title=f"Guide {p}"),
    "section": lambda p: _quote(section=f"Dose {p}"),
    "page label": lambda p: _quote(page=3, page_label=p),
    "reference entry": lambda p: _quote(references=[Reference(label="1", text=p)]),
    "citation label": lambda p: _quote(citations=[p], references=[]),
    "dose row": _dose,
    "flag and note": _flag,
    "question": lambda p: _quote().model_copy(update={"question": p, "asked_as": p}),
    "summary": lambda p: _quote().model_copy(update={"summary": p}),
}


def _renderer() -> MarkdownIt:
    renderer = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    renderer.validateLink = lambda url: True  # show a javascript: link if the Markdown makes one
    return renderer


def _shown_text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _tags(page: str) -> list[str]:
    return sorted(re.findall(r"<([a-z][a-z0-9]*)\b", page))


def _check(source: str, plain: str, payload: str, shown: bool = True) -> None:
    """``source`` (with the payload) renders the same elements as ``plain`` (with plain words) and shows the payload."""
    page = _renderer().render(source)
    assert _tags(page) == _tags(_renderer().render(plain)), page
    assert ":material/" not in source, source
    assert not re.search(r"(?<!\\)\$", source), source
    if shown:
        assert " ".join(payload.split()) in _shown_text(page), (payload, page)


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
@pytest.mark.parametrize("field", list(FIELDS), ids=list(FIELDS))
def test_guideline_text_stays_text_in_every_markdown(field: str, payload: str) -> None:
    hostile, plain = rendered(FIELDS[field](payload)), rendered(FIELDS[field]("plain words"))
    shown = field != "section" or shown_section(f"Dose {payload}") is not None  # a section stating an amount is hidden
    if field != "dose row":  # the JSON answer field has no dose table
        _check(hostile.answer, plain.answer, payload, shown)
    export = conversation_markdown([hostile], guidelines=[f"{payload} (g.txt)"])
    _check(export, conversation_markdown([plain], guidelines=["plain words (g.txt)"]), payload, shown)


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_the_raw_statement_stays_in_the_quote(payload: str) -> None:
    answer = rendered(_quote(text=payload))
    assert answer.quotes[0].text == payload
    assert markdown(answer) == answer.answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IVIG 1 g/kg [1].", "IVIG 1 g/kg [1]."),  # a citation stays as written
        ("p < 0.05 in children <2 years", "p < 0.05 in children <2 years"),
        ("80 mg/kg/day divided q12h", "80 mg/kg/day divided q12h"),
        ("ratio 1:2/3", "ratio 1:2/3"),
        ("1. Give IVIG", "1\\. Give IVIG"),
        ("2.5 mg/kg once", "2.5 mg/kg once"),
        ("-5 °C storage", "-5 °C storage"),
        ("- a list item", "\\- a list item"),
        ("---", "\\---"),
        ("> quoted", "\\> quoted"),
        ("#5 French catheter", "#5 French catheter"),
    ],
)
def test_ordinary_guideline_text_reads_as_written(text: str, expected: str) -> None:
    assert inert(text) == expected


HOSTILE_GUIDELINE = (
    "# Warm AIHA :material/warning: $$x$$\n\n## Dose <img src=x onerror=alert(1)>\n\n"
    "Give IVIG 1 g/kg once daily for 2 days [click](javascript:alert(1)) "
    "![t](https://tracker.example/p.png) <script>alert(1)</script> [1].\n\n"
    "## References\n\n1. Smith J. [Blood](https://evil.example). 2020.\n"
)


@pytest.mark.slow  # builds an index of its own
def test_ask_json_carries_the_raw_statement_and_inert_markdown(make_corpus) -> None:
    """End to end: a guideline file with every kind of markup, answered by ``ask --json``."""
    import json

    from typer.testing import CliRunner

    from assistant.cli import app

    settings = make_corpus({"hostile.md": HOSTILE_GUIDELINE})
    args = ["ask", "What IVIG dose is given in warm AIHA?", "--json", "--corpus", str(settings.corpus_dir)]
    result = CliRunner().invoke(app, [*args, "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    (quote,) = [q for q in answer["quotes"] if "IVIG 1 g/kg" in q["text"]]
    assert "[click](javascript:alert(1))" in quote["text"] and "<script>" in quote["text"], "the raw statement is kept"
    page = _renderer().render(answer["answer"])
    assert not re.search(r"<(a|img|script)\b", page), page
    assert ":material/" not in answer["answer"] and not re.search(r"(?<!\\)\$", answer["answer"])
    assert "[click](javascript:alert(1))" in _shown_text(page), "shown as written"


@pytest.mark.parametrize("text", [*PAYLOADS.values(), "C:\\path\\*x*", "~70% [1]", "a\\\\b \\[1\\]"])
def test_escapes_undo_exactly(text: str) -> None:
    """What the evaluation reads back from the Markdown is the text as written."""
    from assistant.present.inert import uninert

    assert uninert(inert(text)) == text
