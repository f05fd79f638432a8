"""PDF reading: each test writes its own small PDF with fpdf2, so no real guideline file is needed.

The layouts are the ones that break naive text extraction of guidelines:
two columns, dose tables, running heads and "Page N of M" feet, words broken by
a line-end hyphen next to real hyphens, headings set by size, and files that
cannot be read at all.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fpdf import FPDF

from assistant.errors import CorpusError
from assistant.ingest import pdf as pdf_module
from assistant.ingest.extracted import ExtractedText
from assistant.ingest.pdf import extract_pdf

BODY = 11
LEFT, RIGHT = 20.0, 190.0  # page margins in mm on A4


# --------------------------------------------------------------------------- writing test PDFs


def _new_pdf() -> FPDF:
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=BODY)
    return pdf


def _justified(pdf: FPDF, x: float, y: float, width: float, line: str) -> None:
    """Place the words of one line so that it spans ``width`` exactly, as typeset body text does."""
    words = line.split()
    if len(words) == 1:
        pdf.text(x, y, line)
        return
    gap = (width - sum(pdf.get_string_width(word) for word in words)) / (len(words) - 1)
    for word in words:
        pdf.text(x, y, word)
        x += pdf.get_string_width(word) + gap


def _paragraph(pdf: FPDF, x: float, y: float, width: float, lines: list[str], leading: float = 5.5) -> float:
    """Justified lines, the last one left as it is; returns the y below the paragraph."""
    for index, line in enumerate(lines):
        if index == len(lines) - 1:
            pdf.text(x, y, line)
        else:
            _justified(pdf, x, y, width, line)
        y += leading
    return y + leading


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and pdf.get_string_width(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current]


def _save(pdf: FPDF, path: Path) -> Path:
    pdf.output(str(path))
    return path


def two_column_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=18)
    pdf.text(LEFT, 25, "Management of neonatal sepsis")
    pdf.set_font("helvetica", size=BODY)
    width = 80.0
    left = " ".join(f"Left column sentence number {n} describes the first half of the page." for n in range(1, 9))
    right = " ".join(f"Right column sentence number {n} describes the second half of the page." for n in range(1, 9))
    _paragraph(pdf, LEFT, 40, width, _wrap(pdf, left, width))
    _paragraph(pdf, LEFT + width + 10, 40, width, _wrap(pdf, right, width))
    return _save(pdf, path)


DOSE_ROWS = [
    ("Drug", "Dose", "Frequency"),
    ("vancomycin", "125 mg", "four times daily"),
    ("immunoglobulin", "0.4 g/kg/day", "once daily for 5 days"),
    ("metronidazole", "400 mg PO|IV", "three times daily"),
]


def dose_table_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_xy(LEFT, 20)
    pdf.multi_cell(170, 6, "Give the first dose within one hour of the decision to treat.")
    pdf.set_xy(LEFT, 40)
    with pdf.table(width=170, col_widths=(60, 50, 60), first_row_as_headings=False) as table:
        for row in DOSE_ROWS:
            cells = table.row()
            for cell in row:
                cells.cell(cell)
    pdf.set_xy(LEFT, 90)
    pdf.multi_cell(170, 6, "Review the need for antibiotics at 36 hours.")
    return _save(pdf, path)


RUNNING_HEADER = "Trust Antimicrobial Guideline v2"
RUNNING_FOOTER = "Printed copies of this document are uncontrolled"


def running_heads_pdf(path: Path, pages: int = 3) -> Path:
    pdf = _new_pdf()
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("helvetica", size=9)
        pdf.text(LEFT, 12, RUNNING_HEADER)
        pdf.text(LEFT, 285, RUNNING_FOOTER)
        pdf.text(170, 285, f"Page {number} of {pages}")
        pdf.set_font("helvetica", size=BODY)
        topic = ["induction", "maintenance", "monitoring", "stopping"][(number - 1) % 4]
        text = f"Body text of page {number} says that {topic} doses are checked twice by a second nurse."
        _paragraph(pdf, LEFT, 40, 170, _wrap(pdf, text, 170))
    return _save(pdf, path)


HYPHEN_LINES = [
    "The woman had a low haemo-",
    "globin at booking and was given oral iron for a 6-",
    "12 months course; she later had corticosteroid-",
    "refractory disease and needed a second-line drug.",
]


def hyphenation_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    width = max(pdf.get_string_width(line) for line in HYPHEN_LINES)
    _paragraph(pdf, LEFT, 30, width, HYPHEN_LINES)
    return _save(pdf, path)


def headings_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=20)
    pdf.text(LEFT, 25, "Antenatal corticosteroids")
    y = 40.0
    for heading, body in [
        ("Background", "Corticosteroids given before preterm birth reduce neonatal respiratory morbidity."),
        ("Dosage and administration", "Two doses of 12 mg betamethasone are given 24 hours apart."),
    ]:
        pdf.set_font("helvetica", style="B", size=15)
        pdf.text(LEFT, y, heading)
        pdf.set_font("helvetica", size=BODY)
        y = _paragraph(pdf, LEFT, y + 9, 170, _wrap(pdf, body, 170))
    pdf.text(LEFT, y + 4, "2.1 Renal impairment")
    pdf.text(LEFT, y + 14, "No dose adjustment is needed.")
    return _save(pdf, path)


def _unicode_font(pdf: FPDF) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not font.exists():
        pytest.skip("DejaVuSans.ttf is not available")
    pdf.add_font("dejavu", fname=str(font))
    pdf.set_font("dejavu", size=BODY)


def ligature_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    _unicode_font(pdf)
    pdf.text(LEFT, 30, "Identiﬁed ﬂuid overload: give 20 µg/m² and review.")
    return _save(pdf, path)


def mojibake_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    _unicode_font(pdf)
    pdf.text(LEFT, 30, "The cafÃ© protocol was reviewed.")
    return _save(pdf, path)


def blank_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.rect(30, 30, 100, 60)
    return _save(pdf, path)


def encrypted_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    pdf.add_page()
    pdf.text(LEFT, 30, "Confidential dosing table.")
    return _save(pdf, path)


def many_pages_pdf(path: Path, pages: int) -> Path:
    pdf = _new_pdf()
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.text(LEFT, 30, f"Statement {number} of the long guideline.")
    return _save(pdf, path)


def labelled_pdf(path: Path) -> Path:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.set_page_label(label_style="r")
    pdf.text(LEFT, 30, "Preface text.")
    pdf.add_page()
    pdf.set_page_label(label_style="D", label_start=1)
    pdf.text(LEFT, 30, "First numbered page.")
    return _save(pdf, path)


def _flat(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- layout


def test_two_columns_read_left_column_first(tmp_path: Path) -> None:
    result = extract_pdf(two_column_pdf(tmp_path / "columns.pdf"))
    text = _flat(result.text)
    positions = [text.index(f"Left column sentence number {n} ") for n in range(1, 9)]
    positions += [text.index(f"Right column sentence number {n} ") for n in range(1, 9)]
    assert positions == sorted(positions), text
    assert text.index("Management of neonatal sepsis") < positions[0]
    assert "# Management of neonatal sepsis" in result.text


def test_dose_table_becomes_pipe_rows(tmp_path: Path) -> None:
    result = extract_pdf(dose_table_pdf(tmp_path / "doses.pdf"))
    lines = result.text.splitlines()
    header = lines.index("| Drug | Dose | Frequency |")
    assert lines[header + 1] == "| --- | --- | --- |"
    assert lines[header + 2 : header + 5] == [
        "| vancomycin | 125 mg | four times daily |",
        "| immunoglobulin | 0.4 g/kg/day | once daily for 5 days |",
        "| metronidazole | 400 mg PO\\|IV | three times daily |",
    ]
    # the table sits between the sentences before and after it, and its words are not repeated as prose
    assert result.text.index("within one hour") < header_offset(result.text) < result.text.index("36 hours")
    assert result.text.count("vancomycin") == 1


def header_offset(text: str) -> int:
    return text.index("| Drug |")


def test_running_headers_footers_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    result = extract_pdf(running_heads_pdf(tmp_path / "running.pdf"))
    assert RUNNING_HEADER not in result.text
    assert RUNNING_FOOTER not in result.text
    assert "Page 1 of 3" not in result.text and "of 3" not in result.text
    for number in (1, 2, 3):
        assert f"Body text of page {number} says" in result.text
    assert any("header" in note for note in result.repairs)


def test_line_end_hyphens_are_joined_but_real_hyphens_stay(tmp_path: Path) -> None:
    text = _flat(extract_pdf(hyphenation_pdf(tmp_path / "hyphens.pdf")).text)
    assert "low haemoglobin at booking" in text
    assert "6-12 months" in text
    assert "corticosteroid-refractory disease" in text
    assert "second-line drug" in text


@pytest.mark.parametrize(
    ("head", "tail", "joined"),
    [
        ("haemo", "globin", True),
        ("treat", "ment", True),
        ("benzylpeni", "cillin", True),
        ("corticosteroid", "refractory", False),
        ("long", "term", False),
        ("follow", "up", False),
        ("pre", "eclampsia", False),
    ],
)
def test_dehyphenation_rule(head: str, tail: str, joined: bool) -> None:
    assert pdf_module._should_dehyphenate(head, tail) is joined


def test_headings_from_font_size_and_numbering(tmp_path: Path) -> None:
    text = extract_pdf(headings_pdf(tmp_path / "headings.pdf")).text
    lines = text.splitlines()
    assert lines[0] == "# Antenatal corticosteroids"
    assert "## Background" in lines
    assert "## Dosage and administration" in lines
    assert "## 2.1 Renal impairment" in lines
    assert "Two doses of 12 mg betamethasone are given 24 hours apart." in lines
    assert not any(line.startswith("#") and "betamethasone" in line for line in lines)


def test_ligatures_are_normalised_but_micro_and_superscripts_kept(tmp_path: Path) -> None:
    result = extract_pdf(ligature_pdf(tmp_path / "ligatures.pdf"))
    assert "Identified fluid overload: give 20 µg/m² and review." in result.text
    assert "ﬁ" not in result.text and "ﬂ" not in result.text
    assert any("ligature" in note for note in result.repairs)


def test_mojibake_is_repaired_and_reported(tmp_path: Path) -> None:
    result = extract_pdf(mojibake_pdf(tmp_path / "mojibake.pdf"))
    assert "The café protocol was reviewed." in result.text
    assert any("ftfy" in note for note in result.repairs)


# --------------------------------------------------------------------------- canonical text and page spans


BUILDERS: list[Callable[[Path], Path]] = [
    two_column_pdf,
    dose_table_pdf,
    running_heads_pdf,
    hyphenation_pdf,
    headings_pdf,
]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda build: build.__name__)
def test_canonical_text_shape(tmp_path: Path, build: Callable[[Path], Path]) -> None:
    text = extract_pdf(build(tmp_path / "doc.pdf")).text
    assert text and text == text.strip()
    assert "\n\n\n" not in text
    for line in text.splitlines():
        assert line == line.strip(), repr(line)
        if line.startswith("|"):
            assert line.endswith("|")


@pytest.mark.parametrize("build", BUILDERS, ids=lambda build: build.__name__)
def test_page_spans_are_ordered_and_contiguous(tmp_path: Path, build: Callable[[Path], Path]) -> None:
    result = extract_pdf(build(tmp_path / "doc.pdf"))
    _assert_spans_cover(result)


def test_each_page_span_holds_that_pages_text(tmp_path: Path) -> None:
    result = extract_pdf(running_heads_pdf(tmp_path / "running.pdf"))
    assert [span.number for span in result.pages] == [1, 2, 3]
    for span in result.pages:
        page_text = result.text[span.start : span.end]
        assert f"Body text of page {span.number} says" in page_text
        others = {1, 2, 3} - {span.number}
        assert not any(f"Body text of page {other} " in page_text for other in others)
        assert result.page_at(result.text.index(f"page {span.number} says")) == span


def test_page_labels_are_reported(tmp_path: Path) -> None:
    result = extract_pdf(labelled_pdf(tmp_path / "labels.pdf"))
    assert [(span.number, span.label) for span in result.pages] == [(1, "i"), (2, "1")]


def test_pages_without_labels_have_none(tmp_path: Path) -> None:
    result = extract_pdf(hyphenation_pdf(tmp_path / "plain.pdf"))
    assert [span.label for span in result.pages] == [None]


def _assert_spans_cover(result: ExtractedText) -> None:
    spans = result.pages
    assert spans, "every PDF has at least one page span"
    assert spans[0].start == 0 and spans[-1].end == len(result.text)
    for before, after in zip(spans, spans[1:], strict=False):
        assert before.start <= before.end == after.start <= after.end
    assert [span.number for span in spans] == list(range(1, len(spans) + 1))


# --------------------------------------------------------------------------- files that cannot be used


def _random_bytes(path: Path) -> Path:
    path.write_bytes(random.Random(7).randbytes(4096))
    return path


def _truncated(path: Path) -> Path:
    source = dose_table_pdf(path.with_name("whole.pdf")).read_bytes()
    path.write_bytes(source[: len(source) // 3])
    return path


def _fake_header(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + random.Random(3).randbytes(2048))
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _text_file(path: Path) -> Path:
    path.write_text("Give vancomycin 125 mg four times daily.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (encrypted_pdf, "encrypted"),
        (blank_pdf, "no text layer (scanned?); OCR is not supported"),
        (_random_bytes, "not a PDF"),
        (_empty, "not a PDF"),
        (_text_file, "not a PDF"),
        (_fake_header, "damaged"),
        (_truncated, "bad.pdf"),
    ],
    ids=["encrypted", "no-text", "random-bytes", "empty", "text-file", "garbage-after-header", "truncated"],
)
def test_unusable_files_raise_corpus_error(tmp_path: Path, build: Callable[[Path], Path], message: str) -> None:
    path = build(tmp_path / "bad.pdf")
    with pytest.raises(CorpusError) as caught:
        extract_pdf(path)
    text = str(caught.value)
    assert "bad.pdf" in text and message in text
    assert "\n" not in text


def test_missing_file_raises_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="missing.pdf"):
        extract_pdf(tmp_path / "missing.pdf")


def test_library_errors_become_corpus_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = hyphenation_pdf(tmp_path / "ok.pdf")

    def explode(*_args: object, **_kwargs: object) -> None:
        raise KeyError("broken /Resources")

    monkeypatch.setattr(pdf_module.pdfplumber, "open", explode)
    with pytest.raises(CorpusError, match="ok.pdf: cannot be read as a PDF"):
        extract_pdf(path)


def test_page_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "MAX_PAGES", 3)
    with pytest.raises(CorpusError, match="4 pages is more than the 3-page limit"):
        extract_pdf(many_pages_pdf(tmp_path / "long.pdf", 4))


def test_a_500_page_pdf_is_read_in_reasonable_time(tmp_path: Path) -> None:
    path = many_pages_pdf(tmp_path / "long.pdf", 500)
    started = time.perf_counter()
    result = extract_pdf(path)
    elapsed = time.perf_counter() - started
    assert len(result.pages) == 500
    assert "Statement 500 of the long guideline." in result.text
    assert elapsed < float(os.environ.get("PDF_500_PAGE_SECONDS", "120")), f"{elapsed:.1f}s"


# --------------------------------------------------------------------------- flow across pages and margins


def continued_paragraph_pdf(path: Path) -> Path:
    """A sentence that starts at the foot of page 1 and ends at the head of page 2."""
    pdf = _new_pdf()
    first = "Neonates with suspected early-onset infection should receive antibiotics promptly and the dose should be"
    second = "reduced when renal function is impaired. Review cultures at 36 hours."
    pdf.add_page()
    lines = _wrap(pdf, first, 170)
    _paragraph(pdf, LEFT, 270 - 5.5 * (len(lines) - 1), 170, lines)
    pdf.add_page()
    _paragraph(pdf, LEFT, 30, 170, _wrap(pdf, second, 170))
    return _save(pdf, path)


def test_sentence_across_a_page_break_is_one_paragraph(tmp_path: Path) -> None:
    result = extract_pdf(continued_paragraph_pdf(tmp_path / "continued.pdf"))
    assert "\n" not in result.text
    assert "the dose should be reduced when renal function is impaired." in result.text
    second = result.pages[1]
    assert result.text[second.start :].startswith("reduced when renal")
    assert result.page_at(result.text.index("Neonates")) == result.pages[0]


def graded_recommendation_pdf(path: Path) -> Path:
    """A recommendation with its grade letter set apart in the right margin, beside its second line."""
    pdf = _new_pdf()
    pdf.add_page()
    text = (
        "Women with known risk factors for postpartum haemorrhage should only be delivered in a hospital with "
        "a blood bank on site and with senior staff available at all times during labour and birth."
    )
    lines = _wrap(pdf, text, 150)
    _paragraph(pdf, LEFT, 40, 150, lines)
    pdf.set_font("helvetica", style="B", size=14)
    pdf.text(182, 40 + 5.5, "D")
    pdf.set_font("helvetica", size=BODY)
    _paragraph(pdf, LEFT, 70, 150, _wrap(pdf, "The next recommendation follows here and has no grade.", 150))
    return _save(pdf, path)


def test_margin_grade_goes_to_the_end_of_its_paragraph(tmp_path: Path) -> None:
    result = extract_pdf(graded_recommendation_pdf(tmp_path / "graded.pdf"))
    paragraphs = result.text.split("\n\n")
    assert paragraphs[0].startswith("Women with known risk factors")
    assert paragraphs[0].endswith("during labour and birth. D")
    assert paragraphs[1] == "The next recommendation follows here and has no grade."
