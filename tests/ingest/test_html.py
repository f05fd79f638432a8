"""The HTML reader: saved web pages -> canonical text (the Markdown subset the guideline parser reads).

Table-driven: each case is a page (or page bytes) and either the exact canonical
text expected, or substrings that must and must not appear in it.
"""

from __future__ import annotations

import re

import pytest

from assistant.errors import CorpusError
from assistant.ingest import html as html_reader
from assistant.ingest.extracted import ExtractedText
from assistant.ingest.html import MAX_HTML_BYTES, extract_html


def read(page: str | bytes, name: str = "page.html") -> ExtractedText:
    return extract_html(page.encode("utf-8") if isinstance(page, str) else page, name)


# --------------------------------------------------------------------------- exact canonical text

EXACT = {
    "headings-and-paragraphs": (
        "<h1>IVIG in ITP</h1><p>Give  IVIG\n 1 g/kg.</p><h2>Dosing</h2><h3>Adults</h3><p>Once daily.</p>",
        "# IVIG in ITP\n\nGive IVIG 1 g/kg.\n\n## Dosing\n\n### Adults\n\nOnce daily.\n",
    ),
    "all-six-heading-levels": (
        "<h1>a</h1><h2>b</h2><h3>c</h3><h4>d</h4><h5>e</h5><h6>f</h6>",
        "# a\n\n## b\n\n### c\n\n#### d\n\n##### e\n\n###### f\n",
    ),
    "inline-markup-inside-a-heading-stays-on-its-line": (
        "<h2>Dose <small>(adults)</small><br>and <em>children</em></h2>",
        "## Dose (adults) and children\n",
    ),
    "nested-lists-indent-two-spaces-per-level": (
        "<ul><li>Steroids<ul><li>Prednisolone<ol><li>1 mg/kg</li></ol></li></ul></li><li>IVIG</li></ul>",
        "- Steroids\n  - Prednisolone\n    - 1 mg/kg\n- IVIG\n",
    ),
    "a-paragraph-inside-a-list-item-joins-it": (
        "<ul><li><p>Check the platelet count.</p><p>Repeat weekly.</p></li></ul>",
        "- Check the platelet count. Repeat weekly.\n",
    ),
    "two-lists-are-separated-by-a-blank-line": (
        "<ul><li>a</li></ul><ol><li>b</li></ol>",
        "- a\n\n- b\n",
    ),
    "list-items-without-end-tags": (
        "<ul><li>one<li>two<ul><li>two-a</ul><li>three</ul>",
        "- one\n- two\n  - two-a\n- three\n",
    ),
    "table-with-th-header-and-ragged-rows": (
        "<table><thead><tr><th>Drug</th><th>Dose</th></tr></thead>"
        "<tbody><tr><td>Prednisolone</td><td>1 mg/kg</td><td>4 weeks</td></tr><tr><td>IVIG</td></tr></tbody></table>",
        "| Drug | Dose |  |\n| --- | --- | --- |\n| Prednisolone | 1 mg/kg | 4 weeks |\n| IVIG |  |  |\n",
    ),
    "first-row-is-the-header-without-th": (
        "<table><tr><td>Drug</td><td>Dose</td></tr><tr><td>IVIG</td><td>2 g/kg</td></tr></table>",
        "| Drug | Dose |\n| --- | --- |\n| IVIG | 2 g/kg |\n",
    ),
    "cells-and-rows-without-end-tags": (
        "<table><tr><th>Drug<th>Dose<tr><td>A<td>1 mg<tr><td>B<td>2 mg</table><p>After.",
        "| Drug | Dose |\n| --- | --- |\n| A | 1 mg |\n| B | 2 mg |\n\nAfter.\n",
    ),
    "colspan-and-rowspan-keep-values-under-their-headers": (
        "<table><tr><th>Drug</th><th>Dose</th><th>When</th></tr>"
        "<tr><td rowspan=2>IVIG</td><td>1 g/kg</td><td>day 1</td></tr><tr><td>1 g/kg</td><td>day 2</td></tr>"
        "<tr><td colspan=2>Stop if anaphylaxis</td><td>any</td></tr></table>",
        "| Drug | Dose | When |\n| --- | --- | --- |\n| IVIG | 1 g/kg | day 1 |\n|  | 1 g/kg | day 2 |\n"
        "| Stop if anaphylaxis |  | any |\n",
    ),
    "pipes-escaped-and-breaks-become-spaces-in-cells": (
        "<table><tr><th>Grade</th><th>Note</th></tr><tr><td>2|++</td><td>line one<br>line two"
        "<ul><li>a</li><li>b</li></ul></td></tr></table>",
        "| Grade | Note |\n| --- | --- |\n| 2\\|++ | line one line two a b |\n",
    ),
    "caption-reads-as-a-paragraph-before-its-table": (
        "<table><caption>Table 1. Doses</caption><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>",
        "Table 1. Doses\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n",
    ),
    "layout-tables-read-as-blocks": (
        "<table><tr><td><h1>Guideline</h1><p>Intro.</p></td><td><ul><li>Point</li></ul></td></tr>"
        "<tr><td>Footer text</td></tr></table><table><tr><td>Single cell box</td></tr></table>",
        "# Guideline\n\nIntro.\n\n- Point\n\nFooter text\n\nSingle cell box\n",
    ),
    "br-in-a-paragraph-is-a-space-and-entities-are-decoded": (
        "<p>Hb &lt; 70&nbsp;g/L<br>transfuse &amp; recheck &#8211; see&#x20;below</p>",
        "Hb < 70 g/L transfuse & recheck – see below\n",
    ),
    "div-blocks-are-paragraphs-inline-tags-are-not": (
        "<div>One<div>Two</div>Three</div><p>Four <b>five</b>six <a href='#'>seven</a></p>",
        "One\n\nTwo\n\nThree\n\nFour fivesix seven\n",
    ),
    "unclosed-paragraphs-are-separate": ("<p>First.<p>Second.<p>Third.", "First.\n\nSecond.\n\nThird.\n"),
    "title-is-the-heading-when-there-is-no-h1": (
        "<html><head><title>ITP  guideline</title></head><body><h2>Scope</h2><p>Adults.</p></body></html>",
        "# ITP guideline\n\n## Scope\n\nAdults.\n",
    ),
    "title-is-not-added-when-there-is-an-h1": (
        "<html><head><title>Site | ITP</title></head><body><h1>ITP</h1><p>Adults.</p></body></html>",
        "# ITP\n\nAdults.\n",
    ),
    "superscript-exponents-and-citations": (
        "<p>Platelets below 30 × 10<sup>9</sup>/L need 375 mg/m<sup>2</sup> weekly.<sup>3,4</sup> "
        "See note<sup>a</sup> and<sup>[5]</sup>.</p>",
        "Platelets below 30 × 10⁹/L need 375 mg/m² weekly.[3,4] See notea and[5].\n",
    ),
    "invisible-characters-are-dropped": (
        "<p>hydro&shy;cortisone\u200b and pred\u00adnisolone\x07</p>",
        "hydrocortisone and prednisolone\n",
    ),
    "plain-text-without-tags": ("index.html", "index.html\n"),
    "comments-and-cdata-are-not-text": ("<!-- hidden --><![CDATA[raw]]><p>Shown</p>", "Shown\n"),
}


@pytest.mark.parametrize(("page", "expected"), EXACT.values(), ids=EXACT.keys())
def test_canonical_text(page: str, expected: str) -> None:
    extracted = read(page)
    assert extracted.text == expected
    assert extracted.pages == []
    assert extracted.repairs == []


@pytest.mark.parametrize(("page", "expected"), EXACT.values(), ids=EXACT.keys())
def test_canonical_text_is_clean_markdown(page: str, expected: str) -> None:
    """One block per line, no stray whitespace, no run of blank lines: what the parser's offsets rely on."""
    text = read(page).text
    assert text.endswith("\n") and "\n\n\n" not in text and not text.startswith("\n")
    for line in text.splitlines():
        assert line == line.rstrip() and "\t" not in line
        assert not line.startswith(" ") or re.match(r"^(  )+- \S", line), line


# --------------------------------------------------------------------------- what is kept, what is dropped

KEPT_AND_DROPPED = {
    "scripts-styles-and-markup-only-elements": (
        "<head><style>p{color:red}</style><script>var dose = 99;</script></head><body><p>Real text.</p>"
        "<noscript>Enable JS</noscript><template><p>Template</p></template><svg><text>Chart</text></svg>"
        "<img alt='Picture'><script>document.write('x')</script></body>",
        ["Real text."],
        ["dose", "color", "Enable JS", "Template", "Chart", "Picture", "document"],
    ),
    "site-chrome": (
        "<header><a>Home</a> Site banner</header><nav><ul><li>Menu item</li></ul></nav>"
        "<div role='navigation'>Breadcrumbs</div><aside>Related links</aside><p>Guideline text.</p>"
        "<footer>Copyright</footer>",
        ["Guideline text."],
        ["Home", "Site banner", "Menu item", "Breadcrumbs", "Related links", "Copyright"],
    ),
    "forms-buttons-and-frames": (
        "<p>Before.</p><form><label>Search the site</label><input value='query'><select><option>Opt</option>"
        "</select><textarea>Comment</textarea></form><button>Print</button><iframe src='x'>Frame</iframe><p>After.</p>",
        ["Before.", "After."],
        ["Search the site", "query", "Opt", "Comment", "Print", "Frame"],
    ),
    "hidden-elements": (
        "<p>Visible.</p><div hidden>Hidden attribute</div><span aria-hidden='true'>Icon</span>"
        "<p style='color: red; display:none'>Display none</p><p style='visibility: hidden'>Invisible</p>"
        "<dialog>Closed dialog</dialog><div hidden='until-found'>Found by search</div>",
        ["Visible.", "Found by search"],
        ["Hidden attribute", "Icon", "Display none", "Invisible", "Closed dialog"],
    ),
    "main-is-all-that-is-read": (
        "<header><h1>Site name</h1></header><div>Cookie notice</div><main><h1>Guideline</h1><p>Body.</p>"
        "<header>Article header kept</header><aside>Key point kept</aside></main><div>After main</div>",
        ["# Guideline", "Body.", "Article header kept", "Key point kept"],
        ["Site name", "Cookie notice", "After main"],
    ),
    "articles-are-read-when-there-is-no-main": (
        "<div>Sidebar text</div><article><h1>Part one</h1><p>A.</p><article>Nested comment</article></article>"
        "<aside><article>Teaser in an aside</article></aside><article><p>Part two.</p></article>",
        ["# Part one", "A.", "Nested comment", "Part two."],
        ["Sidebar text", "Teaser in an aside"],
    ),
    "main-wins-over-articles-outside-it": (
        "<article>Outside article</article><main><p>Main text.</p></main>",
        ["Main text."],
        ["Outside article"],
    ),
    "an-empty-main-falls-back-to-the-page": (
        "<main></main><div><p>Text outside the empty main.</p></div>",
        ["Text outside the empty main."],
        [],
    ),
}


@pytest.mark.parametrize(("page", "present", "absent"), KEPT_AND_DROPPED.values(), ids=KEPT_AND_DROPPED.keys())
def test_content_kept_and_chrome_dropped(page: str, present: list[str], absent: list[str]) -> None:
    text = read(page).text
    for expected in present:
        assert expected in text
    for unexpected in absent:
        assert unexpected not in text


@pytest.mark.parametrize(
    ("page", "present", "note"),
    [
        ("<body><form id='aspnetForm'><h1>Guideline</h1><p>All text in a form.</p></form></body>", "All text", "form"),
        ("<body><div aria-hidden='true'><p>Behind a modal.</p></div><script>x</script></body>", "Behind a", "hidden"),
    ],
    ids=["aspnet-form-wraps-everything", "modal-hid-everything-else"],
)
def test_a_page_whose_only_text_is_in_a_form_or_hidden_is_read_with_a_note(page: str, present: str, note: str) -> None:
    extracted = read(page)
    assert present in extracted.text
    assert any(note in repair and "page.html" in repair for repair in extracted.repairs)


# --------------------------------------------------------------------------- encodings and mojibake

ENCODINGS = {
    "meta-charset-windows-1252": (
        b'<meta charset="windows-1252"><p>\x93Dose\x94 \x96 5\xa0mg \x80 caf\xe9</p>',
        "“Dose” – 5 mg € café\n",
    ),
    "http-equiv-iso-8859-1-read-as-windows-1252": (
        b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>\x93x\x94 50\xb0C</p>',
        "“x” 50°C\n",
    ),
    "xml-declaration-encoding": (
        b'<?xml version="1.0" encoding="windows-1252"?><html xmlns="http://www.w3.org/1999/xhtml"><p>\xb5g</p></html>',
        "µg\n",
    ),
    "utf-8-byte-order-mark": ("\ufeff<p>Café</p>".encode("utf-8"), "Café\n"),
    "utf-16-byte-order-mark": ("<p>Café ≥ 5</p>".encode("utf-16"), "Café ≥ 5\n"),
    "undeclared-utf-8": ("<p>≤ 5 µg</p>".encode(), "≤ 5 µg\n"),
}


@pytest.mark.parametrize(("data", "expected"), ENCODINGS.values(), ids=ENCODINGS.keys())
def test_declared_charsets_and_byte_order_marks(data: bytes, expected: str) -> None:
    extracted = read(data)
    assert extracted.text == expected
    assert extracted.repairs == []


def _mojibake(text: str, codec: str = "latin-1") -> str:
    """What UTF-8 text looks like after being decoded once more as ``codec``."""
    return text.encode("utf-8").decode(codec)


MOJIBAKE = {
    "soft-hyphen": (_mojibake("hydro\u00adcortisone"), "hydrocortisone"),
    "ligature": (_mojibake("\ufb01rst"), "first"),
    "arrow-shown-as-a-circumflex-a-and-a-quarter": (_mojibake("dose ▼ 50%"), "dose ▼ 50%"),
    "greater-or-equal-via-windows-1252": (_mojibake("Hb ≥ 70 g/L", "cp1252"), "Hb ≥ 70 g/L"),
    "dash-in-a-table-cell": (
        f"<table><tr><th>a</th><th>b</th></tr><tr><td>1{_mojibake('–', 'cp1252')}2</td><td>x</td></tr></table>",
        "| 1–2 | x |",
    ),
    "no-break-space": (_mojibake("5\u00a0mg"), "5 mg"),
}


@pytest.mark.parametrize(("damaged", "repaired"), MOJIBAKE.values(), ids=MOJIBAKE.keys())
def test_mojibake_is_repaired_with_a_note(damaged: str, repaired: str) -> None:
    page = damaged if damaged.startswith("<") else f"<p>{damaged}</p>"
    extracted = read(page, "guide.html")
    assert repaired in extracted.text
    assert not re.search("[ÂÃâï][\u0080-\u00bf¬€–]", extracted.text)
    assert len(extracted.repairs) == 1 and extracted.repairs[0].startswith("guide.html: ftfy repaired")


@pytest.mark.parametrize(
    ("data", "expected", "note"),
    [
        (b"<p>bad \xff byte</p>", "bad \ufffd byte", "byte 7"),
        (b'<meta charset="x-no-such-charset"><p>text</p>', "text", "x-no-such-charset"),
        (b'<meta charset="rot13"><p>text</p>', "text", "rot13"),
    ],
    ids=["invalid-utf-8", "unknown-charset", "not-a-text-codec"],
)
def test_undecodable_input_is_replaced_and_noted(data: bytes, expected: str, note: str) -> None:
    extracted = read(data)
    assert expected in extracted.text
    assert any(note in repair for repair in extracted.repairs)


# --------------------------------------------------------------------------- pages that cannot be used

UNUSABLE = {
    "empty-bytes": (b"", "empty"),
    "whitespace-only": (b"  \n\t ", "holds no readable text (only scripts/markup)"),
    "only-scripts": (
        b"<html><head><title>App</title><script src='app.js'></script></head><body><div id='root'></div>"
        b"<script>render()</script><noscript>Enable JavaScript</noscript></body></html>",
        "holds no readable text (only scripts/markup)",
    ),
    "only-chrome": (b"<nav>Home | About</nav><footer>Copyright</footer>", "holds no readable text"),
    "too-large": (b" " * (MAX_HTML_BYTES + 1), "limit"),
    "table-padding-bomb": (
        b"<table><tr><td colspan=1000>a<td>b" + b"<tr><td>x<td>y" * 3000 + b"</table>",
        "empty cells",
    ),
}


@pytest.mark.parametrize(("data", "message"), UNUSABLE.values(), ids=UNUSABLE.keys())
def test_unusable_pages_raise_a_one_line_corpus_error(data: bytes, message: str) -> None:
    with pytest.raises(CorpusError) as caught:
        read(data, "bad-page.html")
    assert str(caught.value).startswith("bad-page.html: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_parser_failure_becomes_a_corpus_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_parser(*args: object, **kwargs: object) -> None:
        raise AssertionError("unexpected call to parse_pi()\nsecond line")

    monkeypatch.setattr(html_reader, "BeautifulSoup", broken_parser)
    with pytest.raises(CorpusError, match=r"^page\.html: could not be parsed as HTML \(AssertionError: unexpected"):
        read("<p>text</p>")


# --------------------------------------------------------------------------- hostile shapes

NESTING = {
    "divs": ("<div>", "</div>"),
    "list-items": ("<ul><li>x", ""),
    "tables": ("<table><tr><td>", ""),
    "cells": ("<td>a", ""),
    "superscripts": ("<sup>1", ""),
    "mixed-unclosed": ("<section><blockquote><span><p><b><ol><li><table><tr><td><sup>", ""),
}


@pytest.mark.parametrize("depth", [5_000, pytest.param(100_000, marks=pytest.mark.slow)])
@pytest.mark.parametrize(("opening", "closing"), NESTING.values(), ids=NESTING.keys())
def test_deep_nesting_does_not_recurse(opening: str, closing: str, depth: int) -> None:
    """``depth`` tags open at once; Python's recursion limit is about 1,000 frames, so 5,000 already catch a
    recursive walk, and 100,000 show the cost stays linear."""
    repeat = depth // opening.count("<")
    page = "<p>start</p>" + opening * repeat + "deep text" + closing * repeat
    text = read(page).text
    assert text.startswith("start\n") and "deep text" in text
    assert max(len(line) - len(line.lstrip(" ")) for line in text.splitlines()) <= 2 * html_reader.MAX_LIST_INDENT
