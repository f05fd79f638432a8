"""The guideline parser: statements, citations, headings, bullets, offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import CorpusError, UnsupportedFileType
from assistant.ingest.files import load_corpus, read_guideline
from assistant.ingest.parser import expand_labels, looks_like_heading, parse_document

# (statement text, citation labels) for every statement of the bundled guideline, in order.
BUNDLED = [
    ("IVIG is not recommended as a primary treatment for inhibitor eradication in AIHA, but can be used as an adjunctive therapy in severe, refractory cases requiring rapid hemoglobin stabilization alongside corticosteroids and rituximab.", ["1", "2"]),
    ("Corticosteroids remain the cornerstone of initial therapy for warm AIHA, achieving clinical response in 70-85% of patients.", ["3", "4"]),
    ("The standard regimen is prednisone 1 mg/kg/day, tapered slowly over 6-12 months.", ["4", "5"]),
    ("IVIG should be reserved for specific clinical scenarios rather than routine first-line use:", []),
    ("Severe, life-threatening hemolysis requiring rapid intervention while awaiting corticosteroid effect", ["2", "6"]),
    ("Combination therapy with corticosteroids when faster hemoglobin recovery is needed", ["6", "5"]),
    ("Patients with contraindications to corticosteroids (though this is less common in AIHA than ITP)", ["5"]),
    ("The typical IVIG dosing when used is 1 g/kg as a single dose, which may be repeated if necessary.", ["1"]),
    ('The recommendation against IVIG for inhibitor eradication comes from acquired hemophilia A guidelines, which explicitly state: "We do not recommend use of high-dose intravenous immunoglobulin for inhibitor eradication in patients with AHA."', ["1"]),
    ("While this addresses a different autoimmune coagulopathy, the principle of IVIG's limited efficacy in autoantibody eradication applies broadly.", []),
    ("The evidence supporting IVIG in warm AIHA is limited to:", []),
    ("Case reports showing benefit when combined with therapeutic plasma exchange and rituximab in refractory cases", ["6"]),
    ('Expert opinion listing IVIG as an "additional therapy" rather than standard treatment', ["3", "4"]),
    ("No randomized controlled trials demonstrating superiority over corticosteroids alone", ["5"]),
    ("For corticosteroid-refractory or relapsed AIHA, the preferred sequence is:", []),
    ("Rituximab (now the preferred second-line option, effective in 70-90% of cases)", ["2", "3", "4"]),
    ("Splenectomy (effective in ~70% with 20% cure rate, increasingly reserved for later lines)", ["2", "4"]),
    ("Immunosuppressive drugs (azathioprine, cyclophosphamide, cyclosporine, mycophenolate mofetil)", ["3", "4"]),
    ("In life-threatening, treatment-resistant warm AIHA, consider this combination approach:", []),
    ("High-dose corticosteroids (methylprednisolone 1g IV daily for 3 days)", ["2"]),
    ("Therapeutic plasma exchange to rapidly remove autoantibodies", ["6"]),
    ("Low-dose IVIG (combined with plasma exchange to prevent rebound)", ["6"]),
    ("Rituximab (375 mg/m² weekly × 4 doses)", ["6", "4"]),
    ("This multi-modal approach showed rapid improvement in hemolysis markers in case reports of patients failing corticosteroids, IVIG, and rituximab individually.", ["6"]),
    ("Do not delay corticosteroids in favor of IVIG monotherapy - corticosteroids have the strongest evidence base and highest response rates.", ["3", "4", "5"]),
    ("Do not use IVIG as maintenance therapy - unlike in ITP where IVIG has a defined role, there is no evidence supporting repeated IVIG infusions for AIHA maintenance.", ["5"]),
    ("Ensure adequate supportive care alongside any immunotherapy:", []),
    ("RBC transfusions when hemoglobin is critically low despite theoretical concerns about alloimmunization", ["5"]),
    ("Prophylactic anticoagulation for severe hemolysis (increased thrombotic risk)", ["2"]),
    ("Recombinant erythropoietin if reticulocytopenia/inadequate marrow compensation present", ["2"]),
    ("For multiply-refractory cases after exhausting standard options, novel agents targeting B-cells (parsaclisib, ibrutinib, rilzabrutinib, zanubrutinib, obexelimab, ianalumab, povetacicept), plasma cells (bortezomib, daratumumab), spleen tyrosine kinase (fostamatinib, sovleplenib), and neonatal Fc receptor (nipocalimab) are in development.", ["2"]),
]
SECTIONS = [
    "First-Line Treatment Approach",
    "Evidence Quality and Limitations",
    "Second-Line Treatment Hierarchy",
    "Severe Refractory Cases",
    "Critical Pitfalls to Avoid",
    "Emerging Therapies",
]


@pytest.fixture(scope="module")
def bundled(guideline_text: str):
    return parse_document(guideline_text, "ivig-in-aiha.txt")


def test_bundled_title_and_sections(bundled) -> None:
    assert bundled.title == "IVIG in Autoimmune Hemolytic Anemia"
    assert [s.title for s in bundled.sections if s.title] == SECTIONS


def test_bundled_every_statement_text_and_citations(bundled) -> None:
    assert [(s.text, list(s.citations)) for s in bundled.statements] == BUNDLED


def test_bundled_offsets_round_trip(bundled, guideline_text: str) -> None:
    for statement in bundled.statements:
        assert guideline_text[statement.start : statement.end] == statement.text


def test_bundled_offsets_match_file_read_with_path_read_text(bundled) -> None:
    raw = (Path(__file__).resolve().parent.parent / "corpus" / "ivig-in-aiha.txt").read_text()
    assert all(raw[s.start : s.end] == s.text for s in bundled.statements)


def test_bullets_carry_their_lead_in(bundled) -> None:
    by_text = {s.text: s for s in bundled.statements}
    bullet = by_text["Low-dose IVIG (combined with plasma exchange to prevent rebound)"]
    assert bullet.is_bullet
    assert bullet.lead_in == "In life-threatening, treatment-resistant warm AIHA, consider this combination approach:"
    assert bullet.section == "Severe Refractory Cases"
    assert by_text["The typical IVIG dosing when used is 1 g/kg as a single dose, which may be repeated if necessary."].lead_in is None


def test_every_citation_label_of_the_file_is_found(bundled, guideline_text: str) -> None:
    labels = {label for s in bundled.statements for label in s.citations}
    assert labels == {"1", "2", "3", "4", "5", "6"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1", ["1"]),
        ("1, 2", ["1", "2"]),
        ("1–3", ["1", "2", "3"]),
        ("1-3, 5", ["1", "2", "3", "5"]),
        ("2, 2", ["2"]),
    ],
)
def test_expand_labels(spec: str, expected: list[str]) -> None:
    assert expand_labels(spec) == expected


# Closes a document and makes both plain citation styles its own: three ". N" sentence endings and
# three "word N" bullet endings (a plain trailing number is only a citation where the document shows that style).
PLAIN_STYLE_NOTES = (
    "\nNotes\nRituximab helps. 1 Transfusion may help. 2 Splenectomy remains an option. 3\n"
    "- Plasma exchange 4\n- Immunoglobulin infusion 5\n- Supportive care 6\n"
)


@pytest.mark.parametrize(
    ("line", "statements"),
    [
        ("Give 5 mg daily. 3, 4 Then stop.", [("Give 5 mg daily.", ["3", "4"]), ("Then stop.", [])]),
        ("Rituximab (375 mg/m² weekly × 4 doses) 6, 4", [("Rituximab (375 mg/m² weekly × 4 doses)", ["6", "4"])]),
        ("- Repeat on day 2", [("Repeat on day 2", [])]),
        ("- Give 1 g weekly × 4", [("Give 1 g weekly × 4", [])]),
        ("Bracket style works [1, 2].", [("Bracket style works [1, 2].", ["1", "2"])]),
        ("A range cites all [1–3]. Next one.", [("A range cites all [1–3].", ["1", "2", "3"]), ("Next one.", [])]),
        ("Trailing bracket after the stop. [4]", [("Trailing bracket after the stop.", ["4"])]),
        ("See e.g. the table for doses. 2", [("See e.g. the table for doses.", ["2"])]),
        ("The dose is 1.5 mg/kg. 7", [("The dose is 1.5 mg/kg.", ["7"])]),
        ("Five improved. 5 patients relapsed later.", [("Five improved.", []), ("5 patients relapsed later.", [])]),
        ("- People older than 75", [("People older than 75", [])]),
    ],
)
def test_citation_separation(line: str, statements: list[tuple[str, list[str]]]) -> None:
    raw = f"Title Line\n{line}\n{PLAIN_STYLE_NOTES}"
    document = parse_document(raw, "x.txt")
    own = [s for s in document.statements if s.start < len(f"Title Line\n{line}\n")]
    assert [(s.text, list(s.citations)) for s in own] == statements
    assert all(raw[s.start : s.end] == s.text for s in document.statements)


@pytest.mark.parametrize(
    ("line", "statements"),
    [
        ("Give 5 mg daily. 3, 4 Then stop.", [("Give 5 mg daily.", []), ("3, 4 Then stop.", [])]),
        ("Rituximab (375 mg/m² weekly × 4 doses) 6, 4", [("Rituximab (375 mg/m² weekly × 4 doses) 6, 4", [])]),
        ("The dose is 1.5 mg/kg. 7", [("The dose is 1.5 mg/kg.", [])]),
        ("Bracket style works [1, 2].", [("Bracket style works [1, 2].", ["1", "2"])]),
    ],
)
def test_a_plain_number_is_not_a_citation_without_that_style(line: str, statements: list[tuple[str, list[str]]]) -> None:
    """One plain trailing number in a document that never cites that way stays in the text."""
    raw = f"Title Line\n{line}\n"
    document = parse_document(raw, "x.txt")
    assert [(s.text, list(s.citations)) for s in document.statements] == statements
    assert all(raw[s.start : s.end] == s.text for s in document.statements)


MARKDOWN = """# Warm AIHA (adult)

Intro paragraph that wraps
onto the next line [1]. Another sentence [2, 3].

## Dosing

Give prednisone 1 mg/kg/day [4].
Options include:
- Rituximab 375 mg/m² weekly × 4 [5]
* Star bullet item [6]
• Dot bullet item [1–2]

### Notes
Plain sentence without citation.
"""


def test_markdown_document() -> None:
    document = parse_document(MARKDOWN, "guide.md")
    assert document.title == "Warm AIHA (adult)"
    got = [(s.section, s.text, list(s.citations), s.lead_in) for s in document.statements]
    assert got == [
        (None, "Intro paragraph that wraps\nonto the next line [1].", ["1"], None),
        (None, "Another sentence [2, 3].", ["2", "3"], None),
        ("Dosing", "Give prednisone 1 mg/kg/day [4].", ["4"], None),
        ("Dosing", "Options include:", [], None),
        ("Dosing", "Rituximab 375 mg/m² weekly × 4", ["5"], "Options include:"),
        ("Dosing", "Star bullet item", ["6"], "Options include:"),
        ("Dosing", "Dot bullet item", ["1", "2"], "Options include:"),
        ("Notes", "Plain sentence without citation.", [], None),
    ]
    assert all(MARKDOWN[s.start : s.end] == s.text for s in document.statements)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("First-Line Treatment Approach", True),
        ("Emerging Therapies", True),
        ("IVIG should be reserved for specific clinical scenarios rather than routine first-line use:", False),
        ("Splenectomy works. 2", False),
        ("- A bullet", False),
        ("Short heading with citation 4, 5", False),
        ("A heading [1]", False),
        ("", False),
    ],
)
def test_looks_like_heading(line: str, expected: bool) -> None:
    assert looks_like_heading(line) is expected


def test_title_falls_back_to_file_name() -> None:
    document = parse_document("Just one sentence here.\n", "my-guide_v2.txt")
    assert document.title == "my guide v2"


def test_unsupported_file_type_message(tmp_path: Path) -> None:
    path = tmp_path / "guide.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(UnsupportedFileType, match="guide.pdf: unsupported file type '.pdf'"):
        read_guideline(path)


def test_load_corpus_reports_skipped_files(make_corpus) -> None:
    settings = make_corpus({"good.md": "# G\n\nA real statement [1].\n", "notes.pdf": b"%PDF", "bad.txt": b"\xff\xfe\x00bad"})
    corpus = load_corpus(settings.corpus_dir)
    assert [d.source for d in corpus.documents] == ["good.md"]
    assert any("notes.pdf" in p and "damaged" in p for p in corpus.problems)
    assert any("bad.txt" in p for p in corpus.problems)


def test_load_corpus_without_usable_files_raises(make_corpus) -> None:
    settings = make_corpus({"notes.docx": b"PK"})
    with pytest.raises(CorpusError, match="No usable guideline"):
        load_corpus(settings.corpus_dir)


def test_missing_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
