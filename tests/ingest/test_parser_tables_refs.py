"""The parser on tables, reference lists, citation labels, abbreviations, question headings and hostile input.

Every case also checks the parser's one promise: ``raw[start:end] == text``.
"""

from __future__ import annotations

import time

import pytest

from assistant.ingest.parser import Document, parse_document

ROWS = "rows"


def _parse(raw: str, source: str = "guide.md") -> Document:
    document = parse_document(raw, source)
    for statement in document.statements:
        assert raw[statement.start : statement.end] == statement.text
    return document


# --------------------------------------------------------------------------- tables

MD_TABLE = """# C. difficile

## Treatment

First episodes are treated orally:

| Drug | Dose | Frequency | Duration |
|---|---|---|---|
| vancomycin | 125 mg | four times daily | 10 days |
| fidaxomicin | 200 mg | twice daily | 10 days |

Review after 10 days.
"""
PLAIN_TABLE = """Immune thrombocytopenia

Dosing
Drug | Dose | Frequency
IVIG | 0.4 g/kg | daily for 5 days
Prednisolone | 1 mg/kg | daily
"""
BLANK_SEPARATED = """Grades

Grade | Definition | Suggestion

A | The service is recommended. Net benefit is substantial. | Offer this service.

B | The service is recommended. Net benefit is moderate. | Offer this service.
"""
RAGGED = """# Doses

| Drug | Dose | Notes |
| --- | --- | --- |
| ceftriaxone | 2 g |
| benzylpenicillin | 2.4 g | every 4 hours | in meningitis |
| 1 | 2 | 3 |
|  |  |  |
"""
NO_HEADER = """Evidence

High | The panel is very confident that the true effect lies close to the estimate.
Low | The panel's confidence in the effect estimate is limited.
"""
DECIMAL_ROW = """# Doses

| Drug | Regimen |
|---|---|
| IVIG | 0.4 g/kg daily. Repeat after 2 weeks if needed. Stop if no response |
"""
TIGHT = """# Doses

Give one of:
| Drug | Dose |
|---|---|
| aspirin | 75 mg [3] |
Then review the patient.
"""


@pytest.mark.parametrize(
    ("raw", "source", "expected"),
    [
        (
            MD_TABLE,
            "guide.md",
            [
                ("First episodes are treated orally:", "sentence", None),
                ("vancomycin | 125 mg | four times daily | 10 days", "table_row", "Drug | Dose | Frequency | Duration"),
                ("fidaxomicin | 200 mg | twice daily | 10 days", "table_row", "Drug | Dose | Frequency | Duration"),
                ("Review after 10 days.", "sentence", None),
            ],
        ),
        (
            PLAIN_TABLE,
            "itp.txt",
            [
                ("IVIG | 0.4 g/kg | daily for 5 days", "table_row", "Drug | Dose | Frequency"),
                ("Prednisolone | 1 mg/kg | daily", "table_row", "Drug | Dose | Frequency"),
            ],
        ),
        (
            BLANK_SEPARATED,
            "grades.txt",
            [
                (
                    "A | The service is recommended. Net benefit is substantial. | Offer this service.",
                    "table_row",
                    "Grade | Definition | Suggestion",
                ),
                (
                    "B | The service is recommended. Net benefit is moderate. | Offer this service.",
                    "table_row",
                    "Grade | Definition | Suggestion",
                ),
            ],
        ),
        (
            RAGGED,
            "doses.md",
            [
                ("ceftriaxone | 2 g", "table_row", "Drug | Dose | Notes"),
                ("benzylpenicillin | 2.4 g | every 4 hours | in meningitis", "table_row", "Drug | Dose | Notes"),
            ],
        ),
        (
            NO_HEADER,
            "evidence.txt",
            [
                (
                    "High | The panel is very confident that the true effect lies close to the estimate.",
                    "table_row",
                    None,
                ),
                ("Low | The panel's confidence in the effect estimate is limited.", "table_row", None),
            ],
        ),
        (
            DECIMAL_ROW,
            "doses.md",
            [
                (
                    "IVIG | 0.4 g/kg daily. Repeat after 2 weeks if needed. Stop if no response",
                    "table_row",
                    "Drug | Regimen",
                ),
            ],
        ),
        (
            TIGHT,
            "doses.md",
            [
                ("Give one of:", "sentence", None),
                ("aspirin | 75 mg [3]", "table_row", "Drug | Dose"),
                ("Then review the patient.", "sentence", None),
            ],
        ),
    ],
    ids=["markdown", "plain-text", "blank-line-separated", "ragged-and-empty-rows", "no-header", "decimal", "tight"],
)
def test_table_rows_are_statements_led_in_by_the_header(
    raw: str, source: str, expected: list[tuple[str, str, str | None]]
) -> None:
    document = _parse(raw, source)
    assert [(s.text, s.kind, s.lead_in) for s in document.statements] == expected
    for statement in document.statements:
        assert statement.is_bullet is False
        assert "\n" not in statement.text if statement.kind == "table_row" else True


def test_a_table_row_keeps_its_bracket_citations_and_is_never_a_heading() -> None:
    document = _parse(TIGHT)
    row = next(s for s in document.statements if s.kind == "table_row")
    assert row.citations == ("3",)
    assert document.title == "Doses"
    assert [section.title for section in document.sections if section.title] == []


@pytest.mark.parametrize(
    "raw",
    [
        "# Guide\n\nUse A|B testing where it helps.\n",
        "# Guide\n\nThe Task Force suggests screening at diagnosis. (2|++OO)\n\n"
        "The Task Force suggests a thyroid ultrasound if there is nodularity. (2|++OO)\n",
        "# Guide\n\nOne line | with a pipe\n\nThen prose with no pipe at all.\n",
    ],
    ids=["single-pipe", "evidence-grades-in-brackets", "one-pipe-line"],
)
def test_pipes_in_prose_are_not_tables(raw: str) -> None:
    document = _parse(raw)
    assert all(s.kind == "sentence" for s in document.statements)


# --------------------------------------------------------------------------- reference lists

REFERENCES_MD = """# Warm AIHA

## Treatment

Give prednisolone 1 mg/kg daily. 1 Add rituximab when relapsing. 2, 3

## References

1. Jäger U, Barcellini W, et al. Diagnosis and treatment of AIHA. Blood Rev. 2020;41:100648.
2. Hill QA, Stamps R, Massey E, et al. The diagnosis and management of primary AIHA.
   Br J Haematol. 2017;176(3):395-411.
3. Barcellini W, Fattizzo B. How I treat warm AIHA. Blood. 2021;137(10):1283-1294.

## Appendix A: Doses

Prednisolone is given as a single morning dose.
"""
BRACKET_ENTRIES = """Anaemia in pregnancy

Treatment
Offer oral iron first. 1 Consider intravenous iron after 28 weeks. 2

Bibliography
[1] Pavord S, et al. UK guidelines on iron deficiency in pregnancy. Br J Haematol 2020.
[2] Royal College of Obstetricians. Blood transfusion in obstetrics. 2015.
"""
TRAILING_RUN = """Asthma

Treatment
Offer a reliever inhaler. 1 Add an inhaled corticosteroid. 2 Review technique. 3

1 Smith J, Jones K. Asthma in adults. Lancet 2019;393:1-10.
2 Brown A et al. Inhaler technique. BMJ 2018;360:k200.
3 Green T. Steroid dosing. Thorax 2017;72:5-9.
"""
UNNUMBERED = """# Gout

## Treatment

Offer colchicine for acute flares.

## Sources

National Institute for Health and Care Excellence. Gout: diagnosis and management. 2022.
Richette P, et al. 2016 updated EULAR recommendations for gout. Ann Rheum Dis 2017;76:29-42.
"""


@pytest.mark.parametrize(
    ("raw", "source", "statements", "references"),
    [
        (
            REFERENCES_MD,
            "aiha.md",
            [
                ("Give prednisolone 1 mg/kg daily.", ("1",), "Treatment"),
                ("Add rituximab when relapsing.", ("2", "3"), "Treatment"),
                ("Prednisolone is given as a single morning dose.", (), "Appendix A: Doses"),
            ],
            {
                "1": "Jäger U, Barcellini W, et al. Diagnosis and treatment of AIHA. Blood Rev. 2020;41:100648.",
                "2": "Hill QA, Stamps R, Massey E, et al. The diagnosis and management of primary AIHA. "
                "Br J Haematol. 2017;176(3):395-411.",
                "3": "Barcellini W, Fattizzo B. How I treat warm AIHA. Blood. 2021;137(10):1283-1294.",
            },
        ),
        (
            BRACKET_ENTRIES,
            "anaemia.txt",
            [
                ("Offer oral iron first.", ("1",), "Treatment"),
                ("Consider intravenous iron after 28 weeks.", ("2",), "Treatment"),
            ],
            {
                "1": "Pavord S, et al. UK guidelines on iron deficiency in pregnancy. Br J Haematol 2020.",
                "2": "Royal College of Obstetricians. Blood transfusion in obstetrics. 2015.",
            },
        ),
        (
            TRAILING_RUN,
            "asthma.txt",
            [
                ("Offer a reliever inhaler.", ("1",), "Treatment"),
                ("Add an inhaled corticosteroid.", ("2",), "Treatment"),
                ("Review technique.", ("3",), "Treatment"),
            ],
            {
                "1": "Smith J, Jones K. Asthma in adults. Lancet 2019;393:1-10.",
                "2": "Brown A et al. Inhaler technique. BMJ 2018;360:k200.",
                "3": "Green T. Steroid dosing. Thorax 2017;72:5-9.",
            },
        ),
        (UNNUMBERED, "gout.md", [("Offer colchicine for acute flares.", (), "Treatment")], {}),
    ],
    ids=["markdown-heading-then-appendix", "bibliography-brackets", "trailing-numbered-run", "unnumbered-sources"],
)
def test_reference_lists_are_not_statements(
    raw: str, source: str, statements: list[tuple[str, tuple[str, ...], str]], references: dict[str, str]
) -> None:
    document = _parse(raw, source)
    assert [(s.text, s.citations, s.section) for s in document.statements] == statements
    assert document.references == references
    assert document.reference_span is not None
    start, end = document.reference_span
    assert all(not start <= s.start < end for s in document.statements)


def test_the_reference_span_covers_the_list_and_its_heading() -> None:
    document = _parse(REFERENCES_MD, "aiha.md")
    assert document.reference_span is not None
    listed = REFERENCES_MD[slice(*document.reference_span)]
    assert listed.startswith("## References") and "Blood. 2021" in listed and "Appendix" not in listed
    assert "References" in [section.title for section in document.sections]


@pytest.mark.parametrize(
    ("raw", "statements"),
    [
        # Numbered recommendations at the end of a guideline: no year, no "et al", no journal punctuation.
        (
            "Sepsis\n\nActions\n\n1. Take blood cultures.\n2. Give antibiotics within one hour.\n3. Measure lactate.\n",
            3,
        ),
        # ... nor a year after author names.
        (
            "Sepsis\n\nActions\n\n1. Since 2016, take blood cultures.\n2. Since 2018, give antibiotics.\n"
            "3. In 2021 the panel added lactate.\n",
            3,
        ),
        # A "Sources" heading over guideline prose.
        (
            "# Diet\n\n## Sources\n\nDietary fibre comes from whole grains and vegetables.\n\nOffer advice on fibre.\n",
            2,
        ),
    ],
    ids=["numbered-recommendations", "recommendations-with-years", "sources-of-fibre"],
)
def test_guideline_text_is_not_mistaken_for_references(raw: str, statements: int) -> None:
    document = _parse(raw, "guide.txt")
    assert document.reference_span is None and document.references == {}
    assert len(document.statements) == statements


def test_plain_text_after_a_reference_list_is_parsed_again() -> None:
    raw = (
        "Gout\n\nTreatment\nOffer colchicine. 1 Offer allopurinol later. 2\n\n"
        "References\n1. Smith J, et al. Gout. Lancet 2019;1:2.\n2. Brown A. Urate. BMJ 2018;3:4.\n\n"
        "Patient information\nPatients should drink plenty of water during flares.\n"
    )
    document = _parse(raw, "gout.txt")
    assert [(s.text, s.citations, s.section) for s in document.statements] == [
        ("Offer colchicine.", ("1",), "Treatment"),
        ("Offer allopurinol later.", ("2",), "Treatment"),
        ("Patients should drink plenty of water during flares.", (), "Patient information"),
    ]
    assert set(document.references) == {"1", "2"}


# --------------------------------------------------------------------------- citation labels

NO_STYLE = "# Lipids\n\n## Statins\n\n"
WITH_REFERENCES = (
    "\n\n## References\n\n1. Smith J et al. Lancet 2019;1:2.\n2. Brown A. BMJ 2018;3:4.\n3. Green T. Thorax 2017;5:6.\n"
)
BARE_STYLE = "\n\n## Notes\n\n- Plasma exchange works 4\n- Immunoglobulin helps 5\n- Supportive care matters 6\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # No reference list, no repeated plain style: a trailing number is the text's own.
        (NO_STYLE + "- People older than 75\n", [("People older than 75", ())]),
        (NO_STYLE + "- Chronic kidney disease stage 4 or 5\n", [("Chronic kidney disease stage 4 or 5", ())]),
        (NO_STYLE + "Offer a statin to adults. 2\n", [("Offer a statin to adults.", ())]),
        # A numbered reference list makes ". 2" a citation, but not a label beyond its last entry.
        (NO_STYLE + "Offer a statin to adults. 2" + WITH_REFERENCES, [("Offer a statin to adults.", ("2",))]),
        (
            NO_STYLE + "Offer a statin to adults. 9 Review yearly." + WITH_REFERENCES,
            [
                ("Offer a statin to adults.", ()),
                ("9 Review yearly.", ()),
            ],
        ),
        # The unpunctuated style needs repeated use, and never after a comparison or quantity word.
        (NO_STYLE + "- Offer atorvastatin 2" + WITH_REFERENCES, [("Offer atorvastatin 2", ())]),
        (NO_STYLE + "- Offer atorvastatin 2" + BARE_STYLE, [("Offer atorvastatin", ("2",))]),
        (NO_STYLE + "- People older than 75" + BARE_STYLE, [("People older than 75", ())]),
        (NO_STYLE + "- Adults aged 40" + BARE_STYLE, [("Adults aged 40", ())]),
        (NO_STYLE + "- Repeat for at least 2" + BARE_STYLE, [("Repeat for at least 2", ())]),
        # Bracket labels always count; grades and author-year citations stay in the text.
        (NO_STYLE + "Offer a statin [2].\n", [("Offer a statin [2].", ("2",))]),
        (NO_STYLE + "Offer a statin [IIB].\n", [("Offer a statin [IIB].", ())]),
        (NO_STYLE + "Offer a statin (Grade 1B).\n", [("Offer a statin (Grade 1B).", ())]),
        (NO_STYLE + "Offer a statin (Smith 2019).\n", [("Offer a statin (Smith 2019).", ())]),
    ],
    ids=[
        "older-than-75",
        "stage-4-or-5",
        "single-plain-after-stop",
        "reference-list-label",
        "label-beyond-list",
        "bare-without-bare-style",
        "bare-with-bare-style",
        "comparison-word",
        "aged",
        "at-least",
        "bracket",
        "grade-in-brackets",
        "grade-in-parentheses",
        "author-year",
    ],
)
def test_plain_numbers_are_labels_only_with_evidence_of_that_style(
    raw: str, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    document = _parse(raw, "lipids.md")
    own = [(s.text, s.citations) for s in document.statements if s.section == "Statins"]
    assert own == expected


# --------------------------------------------------------------------------- abbreviations


@pytest.mark.parametrize(
    ("paragraph", "sentences"),
    [
        ("The U.S. Preventive Services Task Force recommends screening.", 1),
        ("Offer a macrolide e.g. Clarithromycin for atypical cover.", 1),
        ("Use a short course i.e. Three days of treatment.", 1),
        ("Give 1 g i.v. (30 minutes) or orally.", 1),
        ("Take 500 mg p.o. Monday to Friday.", 1),
        ("Take 10 mg b.i.d. With food if nauseated.", 1),
        ("Take 10 mg t.i.d. Or q.i.d. During flares.", 1),
        ("Give at 8 a.m. Or at 6 p.m. When possible.", 1),
        ("Doses were approx. 5 mg/kg in the trials.", 1),
        ("Refer to Dr. Smith for review.", 1),
        ("Aspirin vs. Clopidogrel was compared.", 1),
        ("Data from Smith et al. (2019) support this.", 1),
        ("See No. 5 in the list.", 1),
        ("See Fig. 2 for the algorithm.", 1),
        ("Written by J. Smith and K. Jones for the panel.", 1),
        ("The dose is 1.5 mg/kg daily. Review at 2.5 weeks.", 2),
        ("Check vitamin D. Give calcium if low.", 2),
        ("Give it. Then stop.", 2),
    ],
)
def test_abbreviations_do_not_end_sentences(paragraph: str, sentences: int) -> None:
    document = _parse(f"# Guide\n\n{paragraph}\n")
    assert len(document.statements) == sentences, [s.text for s in document.statements]
    if sentences == 1:
        assert document.statements[0].text == paragraph


# --------------------------------------------------------------------------- headings and titles


@pytest.mark.parametrize(
    ("raw", "source", "title", "sections", "texts"),
    [
        (
            "Warfarin\n\nWhat is the recommended dose?\n\nStart with 5 mg daily.\n",
            "warfarin.txt",
            "Warfarin",
            ["What is the recommended dose?"],
            ["Start with 5 mg daily."],
        ),
        (
            "# Warfarin\n\n## When should treatment stop?\n\nStop after 6 months.\n",
            "warfarin.md",
            "Warfarin",
            ["When should treatment stop?"],
            ["Stop after 6 months."],
        ),
        (
            "Warfarin\n\nIs it safe? Yes, it is safe in most adults.\n",
            "warfarin.txt",
            "Warfarin",
            [],
            ["Is it safe?", "Yes, it is safe in most adults."],
        ),
        (
            "Dental interventions to prevent caries in children. A national clinical guideline\n\nBrush twice daily.\n",
            "caries.txt",
            "Dental interventions to prevent caries in children. A national clinical guideline",
            [],
            ["Brush twice daily."],
        ),
        (
            "Prophylaxis against infective endocarditis: antimicrobial prophylaxis against infective endocarditis "
            "in adults and children undergoing interventional procedures\n\nDo not offer prophylaxis routinely.\n",
            "endocarditis.txt",
            "Prophylaxis against infective endocarditis: antimicrobial prophylaxis against infective endocarditis "
            "in adults and children undergoing interventional procedures",
            [],
            ["Do not offer prophylaxis routinely."],
        ),
        (
            "Offer prophylaxis only to people at high risk.\n\nReview yearly.\n",
            "prophylaxis.txt",
            "prophylaxis",
            [],
            ["Offer prophylaxis only to people at high risk.", "Review yearly."],
        ),
    ],
    ids=[
        "question-line",
        "markdown-question",
        "question-in-paragraph",
        "title-with-full-stop",
        "long-title",
        "no-title",
    ],
)
def test_question_headings_and_title_lines(
    raw: str, source: str, title: str, sections: list[str], texts: list[str]
) -> None:
    document = _parse(raw, source)
    assert document.title == title
    assert [section.title for section in document.sections if section.title] == sections
    assert [s.text for s in document.statements] == texts


def test_statement_kinds() -> None:
    document = _parse("# Guide\n\nIntro sentence.\n\n- A bullet item\n\n| a | b |\n|---|---|\n| row x | y |\n")
    assert [(s.kind, s.is_bullet) for s in document.statements] == [
        ("sentence", False),
        ("bullet", True),
        ("table_row", False),
    ]


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "raw",
    [
        ("Give the dose e.g. daily to adults aged over sixty years and review it. " * 6000)[:400_000],
        "Text " + "[1]" * 20_000 + " and more",
        "[1]" * 20_000,
        "Text " + "[1] " * 15_000 + "x",
        "Intro. " + "1, " * 20_000 + "x",
        "# " + "# " * 100_000 + "x",
    ],
    ids=["400KB-paragraph", "60KB-brackets-inside", "60KB-brackets-only", "brackets-spaced", "number-list", "hashes"],
)
def test_hostile_input_parses_in_linear_time(raw: str) -> None:
    started = time.perf_counter()
    document = _parse(raw, "hostile.txt")
    elapsed = time.perf_counter() - started
    print(f"{len(raw):,} chars parsed in {elapsed:.2f} s ({len(document.statements)} statements)")
    assert document.raw == raw
