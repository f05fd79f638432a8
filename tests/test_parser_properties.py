"""Property tests for the guideline parser (``assistant/ingest/parser.py``).

Generated guidelines (title, plain and Markdown headings, paragraphs, bullets,
citations in both styles, wrapped lines, CRLF) must parse back into exactly the
statements and citation labels they were generated from, with offsets that
round-trip; arbitrary text must parse without an exception, with offsets that
round-trip and no citation label that the text does not contain.

Plain trailing numbers are only citations in a document that shows that style
(see ``assistant/ingest/references.py``), so every generated guideline closes
with a notes section that uses both plain styles repeatedly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.parser import _ABBREVIATIONS, _QUANTITY_WORDS, _UNIT_WORDS, expand_labels, parse_document
from assistant.ingest.references import COMPARISON_WORDS

PARSER_EXAMPLES = 200


@dataclass(frozen=True)
class Expected:
    text: str
    citations: tuple[str, ...]
    section: str | None
    is_bullet: bool


# Ordinary words: none is an abbreviation, a unit or a quantity word, none holds a digit.
WORDS = (
    "patients with warm autoimmune hemolytic anemia should receive corticosteroids as first line therapy "
    "rituximab is recommended for relapse transfusion may be required when hemoglobin falls quickly "
    "splenectomy remains an option for selected adults intravenous immunoglobulin has limited evidence "
    "response is assessed by reticulocyte count bilirubin and haptoglobin"
).split()
# Words after which a number is a quantity ("day 2", "line 1") are left out: there a bare number is not a citation.
WORDS = [word for word in WORDS if word not in _QUANTITY_WORDS | _UNIT_WORDS | _ABBREVIATIONS | COMPARISON_WORDS]
# Closes every generated guideline: three sentences cited ". N" and three bullets cited "word N" make
# both plain citation styles this document's own, so plain labels elsewhere in it count as citations.
STYLE_NOTES = [
    "## Style Notes",
    "",
    "Rituximab is recommended. 1 Transfusion may be required. 2 Splenectomy remains an option. 3",
    "",
    "- Response is assessed by reticulocyte count 4",
    "- Limited evidence for intravenous immunoglobulin 5",
    "- Hemoglobin falls quickly 6",
    "",
]
STYLE_NOTES_EXPECTED = [
    Expected("Rituximab is recommended.", ("1",), "Style Notes", False),
    Expected("Transfusion may be required.", ("2",), "Style Notes", False),
    Expected("Splenectomy remains an option.", ("3",), "Style Notes", False),
    Expected("Response is assessed by reticulocyte count", ("4",), "Style Notes", True),
    Expected("Limited evidence for intravenous immunoglobulin", ("5",), "Style Notes", True),
    Expected("Hemoglobin falls quickly", ("6",), "Style Notes", True),
]


@st.composite
def labels(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A citation list as written ("1, 3–5") and the labels it stands for."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        low = draw(st.integers(1, 60))
        if draw(st.booleans()):
            high = low + draw(st.integers(1, 4))
            parts.append(f"{low}{draw(st.sampled_from(['–', '-']))}{high}")
        else:
            parts.append(str(low))
    spec = ", ".join(parts)
    return spec, expand_labels(spec)


@st.composite
def clause(draw: st.DrawFn, capital: bool = True) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=3, max_size=14))
    if capital:
        words[0] = words[0].capitalize()
    return " ".join(words)


@st.composite
def sentence(draw: st.DrawFn, section: str | None, bullet: bool, last: bool, first: bool) -> tuple[str, Expected]:
    """One sentence as written, and the statement the parser must find.

    Only a bullet's first sentence may start in lower case: after a full stop a
    lower-case word continues the sentence (as after "approx.").
    """
    body = draw(clause(capital=not (bullet and first) or draw(st.booleans())))
    style = draw(st.sampled_from(["none", "plain-after", "bracket-after", "bracket-before"]))
    if bullet and last and draw(st.booleans()):
        # A bullet's last sentence often has no full stop; citations then close the item.
        style = draw(st.sampled_from(["none", "plain-end", "bracket-end"]))
        spec, cited = draw(labels())
        written = {"none": body, "plain-end": f"{body} {spec}", "bracket-end": f"{body} [{spec}]"}[style]
        return written, Expected(body, tuple(cited) if style != "none" else (), section, bullet)
    spec, cited = draw(labels())
    if style == "none":
        return f"{body}.", Expected(f"{body}.", (), section, bullet)
    if style == "plain-after":
        return f"{body}. {spec}", Expected(f"{body}.", tuple(cited), section, bullet)
    if style == "bracket-after":
        return f"{body}. [{spec}]", Expected(f"{body}.", tuple(cited), section, bullet)
    # "text [1]." keeps the bracket in the quoted text and still reports the labels
    return f"{body} [{spec}].", Expected(f"{body} [{spec}].", tuple(cited), section, bullet)


def _wrap(draw: st.DrawFn, text: str, allowed: bool, indent: str = "") -> str:
    """Break a long line at one space (mid-sentence), as word processors do."""
    spaces = [m.start() for m in re.finditer(" ", text)]
    if not allowed or not spaces or not draw(st.booleans()):
        return text
    at = draw(st.sampled_from(spaces))
    before, after = text[:at], text[at + 1 :]
    if re.search(r"[.!?\]]$|\d$", before) or not after[:1].islower() and not indent:
        return text  # a break there would (rightly) start a new block; not what this test is about
    if before.endswith(",") and after[:1].isdigit() or before.count("[") > before.count("]"):
        return text  # inside a citation list: not a wrap the parser promises to undo
    return f"{before}\n{indent}{after}"


@st.composite
def guideline(draw: st.DrawFn) -> tuple[str, list[Expected], str]:
    """A whole guideline text and the statements it holds, in order."""
    title = " ".join(w.capitalize() for w in draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=6)))
    markdown = draw(st.booleans())
    lines = [f"# {title}" if markdown else title, ""]
    expected: list[Expected] = []
    for _ in range(draw(st.integers(1, 4))):
        heading = " ".join(w.capitalize() for w in draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5)))
        lines += [f"## {heading}" if markdown or draw(st.booleans()) else heading, ""]
        section = heading
        for _ in range(draw(st.integers(1, 4))):
            if draw(st.booleans()):
                count = draw(st.integers(1, 3))
                written = []
                for number in range(count):
                    text, statement = draw(sentence(section, bullet=False, last=number == count - 1, first=number == 0))
                    written.append(text)
                    expected.append(statement)
                lines += [_wrap(draw, " ".join(written), allowed=True), ""]
            else:
                marker = draw(st.sampled_from(["-", "*", "•", "1.", "2)"]))
                for _ in range(draw(st.integers(1, 3))):
                    count = draw(st.integers(1, 2))
                    written = []
                    for number in range(count):
                        text, statement = draw(sentence(section, bullet=True, last=number == count - 1, first=number == 0))
                        written.append(text)
                        expected.append(statement)
                    lines.append(f"{marker} " + _wrap(draw, " ".join(written), allowed=True, indent="  "))
                lines.append("")
    lines += STYLE_NOTES
    expected += STYLE_NOTES_EXPECTED
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines), expected, title


def _normalize(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=PARSER_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(guideline())
def test_generated_guidelines_parse_back_exactly(case: tuple[str, list[Expected], str]) -> None:
    raw, expected, title = case
    document = parse_document(raw, "generated.md")
    found = document.statements
    assert document.title == title
    for statement in found:
        assert raw[statement.start : statement.end] == statement.text
    assert [_normalize(s.text) for s in found] == [e.text for e in expected]
    assert [s.citations for s in found] == [e.citations for e in expected]
    assert [s.section for s in found] == [e.section for e in expected]
    assert [s.is_bullet for s in found] == [e.is_bullet for e in expected]


def _labels_present(raw: str) -> set[str]:
    """Every label the raw text could legitimately stand for: its numbers and the members of its ranges."""
    present = {str(int(n)) for n in re.findall(r"\d{1,3}", raw)} | set(re.findall(r"\d{1,3}", raw))
    for low, high in re.findall(r"(\d{1,3})[ \t]*[–-][ \t]*(\d{1,3})", raw):
        present.update(expand_labels(f"{low}-{high}"))
    return present


# Text built from the characters the parser treats specially, plus anything at all.
SPECIAL = st.sampled_from(list("\n\n\r\t   .!?,;:-–*•#[]()\"”’×/0123456789") + ["\r\n", "- ", "# ", "[1]", " 2, 3", "e.g."])
NOISY_TEXT = st.lists(st.one_of(SPECIAL, st.sampled_from(WORDS), st.text(max_size=5)), max_size=80).map("".join)


@settings(max_examples=PARSER_EXAMPLES, deadline=None)
@given(st.one_of(st.text(max_size=400), NOISY_TEXT))
def test_arbitrary_text_parses_with_exact_offsets_and_no_invented_labels(raw: str) -> None:
    document = parse_document(raw, "arbitrary.txt")
    present = _labels_present(raw)
    for section in document.sections:
        assert 0 <= section.start <= section.end <= len(raw)
    for statement in document.statements:
        assert 0 <= statement.start < statement.end <= len(raw)
        assert raw[statement.start : statement.end] == statement.text
        assert statement.text == statement.text.strip()
        for label in statement.citations:
            assert label in present, (label, raw)
