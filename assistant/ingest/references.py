"""Citations and reference lists: which numbers are citation labels, and what they point to.

A bare number after a sentence is ambiguous: "... tapered over 6-12 months. 4, 5"
cites sources 4 and 5, but "People older than 75" states an age. Stripping the
number would silently change a clinical statement, so a plain (unbracketed)
trailing number list is only taken as citation labels when the *document* shows
evidence of that citation style: a numbered reference list holding those labels,
or the same style used repeatedly elsewhere (:class:`CiteStyle`). Bracketed
labels ("[1]", "[1, 2]", "[1–3]") are unambiguous and always count.

The reference list itself (a "References" heading, or a trailing run of
numbered entries that look like references) is not guideline text: its
entries are returned as label -> entry text and are never quoted as statements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from assistant.ingest.lines import BRACKET, CITE_LIST, Line
from assistant.vocabulary.units import UNIT_WORDS

# A bare trailing list is looked for only in the last few characters: citation lists are
# short, and a bounded window keeps the search O(1) per block however long the block is.
_PLAIN_TAIL = re.compile(rf"(?<=[^\s\d×*/.,:;(–-])[ \t\r\n]+(?P<plain>{CITE_LIST})\s*$")
PLAIN_WINDOW = 120
# Words after which a bare number is a quantity, never a citation.
QUANTITY_WORDS = frozenset(
    "day days week weeks month months year years dose doses cycle cycles grade grades stage stages type types "
    "phase phases x × times hour hours h min minutes step steps line lines level levels class classes group "
    "groups part parts section sections table tables figure figures fig appendix page pages version number "
    "no cd il vitamin factor kas recommendation recommendations question questions box module chapter".split()
)
# Words after which a bare number is a threshold or an age ("older than 75", "aged 65", "at least 2").
COMPARISON_WORDS = frozenset("than over under above below aged age ages least most to of from between".split())
# How many uses of a plain style make it the document's citation style.
STYLE_EVIDENCE = 3

_REF_NAMES = r"(?:references?|reference\s+list|bibliography|citations|sources|literature\s+cited|works\s+cited)"
_REF_HEADING = re.compile(
    rf"^[ \t]*(?:#{{1,6}}[ \t]*)?(?:(?:\d{{1,2}}|[IVXLC]{{1,5}})[.)]?[ \t]+)?{_REF_NAMES}[ \t]*:?[ \t#]*$",
    re.IGNORECASE,
)
_MD_HEADING_START = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]")
# Plain-text headings that clearly end a reference list (the appendix after it is guideline text again).
_AFTER_REFERENCES = re.compile(
    r"^[ \t]*(?:appendix|appendices|annex|supplementary|glossary|abbreviations|acknowledge?ments?|"
    r"tables?|figures?|algorithm|disclaimer)\b[^.]{0,80}$",
    re.IGNORECASE,
)
_PLAIN_HEADING = re.compile(r"^[A-Z][^\n]{0,88}[^\s.!?:;,]$")
_ENTRY = re.compile(
    r"^[ \t]*(?:\[(?P<bracket>\d{1,3})\]|(?P<dotted>\d{1,3})[.)]|(?P<bare>\d{1,3})(?=[ \t]))[ \t]+(?P<body>[^\W\d_].*)$"
)
# What a bibliographic entry holds: "et al", journal punctuation ("2019;393:1-10", "176(3):395"), a DOI or URL.
_CITATION_MARKS = re.compile(
    r"\bet al\b|(?:19|20)\d\d\s*;\s*\d|\d\s*\(\d+\)\s*:\s*\d|;\s*\d+\s*:\s*\d|\bdoi\b|https?://", re.IGNORECASE
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_AUTHOR_START = re.compile(r"^[A-Z][\w'’-]+,?[ \t]+(?:[A-Z]{1,3}\b|[A-Z]\.)")


# --------------------------------------------------------------------------- labels


def expand_labels(spec: str) -> list[str]:
    """``"1, 3–5"`` -> ``["1", "3", "4", "5"]``; order kept, duplicates dropped."""
    labels: list[str] = []
    for part in re.split(r"\s*,\s*", spec.strip()):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            members = [str(n) for n in range(low, high + 1)] if 0 < high - low <= 50 else [bounds[0], bounds[1]]
        else:
            members = [part] if part else []
        labels.extend(member for member in members if member not in labels)
    return labels


def labels_in(fragment: str) -> list[str]:
    """All citation labels in a citation fragment (bracketed or plain)."""
    brackets = BRACKET.findall(fragment)
    specs = brackets if brackets else [fragment]
    labels: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        for label in expand_labels(spec):
            if label not in seen:
                seen.add(label)
                labels.append(label)
    return labels


def trailing_brackets(text: str, start: int, end: int) -> int:
    """Where the run of bracket citations closing ``text[start:end]`` begins (``end`` when there is none).

    Scans backwards bracket by bracket, so it is linear in the run: a regex
    search for "(brackets)+ at the end" re-tries from every bracket (60 KB of
    "[1]" took over a minute).
    """
    cut = end
    while True:
        stop = cut
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop <= start or text[stop - 1] != "]":
            return cut
        opening = text.rfind("[", max(start, stop - 200), stop)
        if opening < 0 or not re.fullmatch(CITE_LIST, text[opening + 1 : stop - 1]):
            return cut
        cut = opening


def trailing_plain(text: str, start: int, end: int) -> tuple[int, str] | None:
    """``(where, labels)`` of a bare number list closing ``text[start:end]`` ("... effect 2, 6"), else None.

    Looked for in a bounded window; a window that cuts through a list cannot match,
    because the lookbehind refuses to start a list after "," or a digit.
    """
    begin = max(start, end - PLAIN_WINDOW)
    match = _PLAIN_TAIL.search(text, begin, end)
    return (match.start(), match.group("plain")) if match else None


def word_before(text: str) -> str:
    """The last word of ``text`` (lower case), or "" when it ends in a non-letter."""
    match = re.search(r"[A-Za-z×]+$", text[-40:].rstrip())
    return match.group(0).lower() if match else ""


def bare_number_is_quantity(text_before: str) -> bool:
    """True when the word right before a bare number makes it a quantity, threshold or age.

    "... on day 2", "... × 4", "older than 75" are quantities; "... effect 2, 6" may be a citation.
    """
    stripped = text_before[-40:].rstrip()
    if not stripped:
        return True
    if not stripped[-1].isalpha():
        return stripped[-1] in "×*/+=<>~≥≤"
    return word_before(stripped) in QUANTITY_WORDS | UNIT_WORDS | COMPARISON_WORDS


# --------------------------------------------------------------------------- the document's citation style


@dataclass
class CiteStyle:
    """Whether this document writes plain trailing numbers as citations, and which labels exist.

    ``after_stop``: the document repeatedly ends sentences with ". 4" / ". 2, 6".
    ``bare``: it repeatedly closes bullets or paragraphs with "word 4" (no full stop).
    A survey style (``surveying=True``) accepts every candidate and counts it;
    :meth:`settled` turns the counts into the style the real pass uses.
    """

    references: dict[str, str] = field(default_factory=dict)
    after_stop: bool = False
    bare: bool = False
    surveying: bool = False
    after_stop_seen: int = 0
    bare_seen: int = 0

    @cached_property
    def highest(self) -> int | None:
        """The reference list's last label (None without a numbered list)."""
        numbers = [int(label) for label in self.references if label.isdigit()]
        return max(numbers) if numbers else None

    def _listed(self, labels: Sequence[str]) -> bool:
        """Every label has an entry in the reference list."""
        return bool(self.references) and all(label in self.references for label in labels)

    def _in_range(self, labels: Sequence[str]) -> bool:
        """No label is beyond the reference list's last entry (a source that does not exist)."""
        highest = self.highest
        return highest is None or all(label.isdigit() and int(label) <= highest for label in labels)

    def accepts_after_stop(self, labels: Sequence[str]) -> bool:
        """Plain labels right after terminal punctuation ("... months. 4, 5")."""
        if not labels:
            return False
        if self.surveying:
            self.after_stop_seen += 1
            return True
        return self._listed(labels) or (self.after_stop and self._in_range(labels))

    def accepts_bare(self, labels: Sequence[str], text_before: str, countable: bool = True) -> bool:
        """Plain labels straight after a word or bracket, closing a bullet or paragraph ("... effect 2, 6")."""
        if not labels or bare_number_is_quantity(text_before):
            return False
        if self.surveying:
            self.bare_seen += int(countable)
            return True
        return self.bare and self._in_range(labels)

    def settled(self) -> CiteStyle:
        """The style a survey found: a plain style counts once it is used repeatedly."""
        return CiteStyle(
            references=self.references,
            after_stop=self.after_stop_seen >= STYLE_EVIDENCE,
            bare=self.bare_seen >= STYLE_EVIDENCE,
        )


# --------------------------------------------------------------------------- reference lists


@dataclass(frozen=True)
class ReferenceList:
    """Where a document's reference list is, and its numbered entries (label -> entry text)."""

    span: tuple[int, int] | None = None
    entries: dict[str, str] = field(default_factory=dict)
    heading: str | None = None


def _entries(lines: Sequence[Line]) -> tuple[dict[str, str], int]:
    """Numbered entries among ``lines`` (wrapped lines continue an entry), and how many look like references."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    previous_blank = True
    for line in lines:
        match = _ENTRY.match(line.text)
        if match:
            label = str(int(match.group("bracket") or match.group("dotted") or match.group("bare")))
            current = None if label in found else found.setdefault(label, [match.group("body")])
        elif line.text.strip() and current is not None and not previous_blank:
            current.append(line.text)
        previous_blank = not line.text.strip()
    entries = {label: " ".join(" ".join(parts).split()) for label, parts in found.items()}
    return entries, sum(1 for text in entries.values() if _reference_like(text, strict=True))


def _heading_list(lines: Sequence[Line], end_of_text: int) -> ReferenceList | None:
    """A list under a "References"-style heading, up to the next heading that is clearly not references."""
    number = 0
    while number < len(lines):
        line = lines[number]
        if not _REF_HEADING.match(line.text) or len(line.text) > 80:
            number += 1
            continue
        stop = number + 1
        while stop < len(lines) and not _ends_references(lines, stop):
            stop += 1
        body = [entry for entry in lines[number + 1 : stop] if entry.text.strip()]
        entries, reference_like = _entries(lines[number + 1 : stop])
        if body and not (entries and reference_like * 2 >= len(entries)) and not _mostly_reference_like(body):
            number = stop  # a "Sources" heading over guideline prose, or a table of contents entry
            continue
        end = lines[stop].start if stop < len(lines) else end_of_text
        heading = re.sub(r"^[ \t]*#*[ \t]*|[ \t#]*$", "", line.text)
        return ReferenceList(span=(line.start, end), entries=entries, heading=heading)
    return None


def _ends_references(lines: Sequence[Line], number: int) -> bool:
    """Whether this line starts guideline text again after a reference list.

    A Markdown heading does, and so does a plain heading that is clearly not
    references: an appendix-style name, or a short heading over ordinary prose.
    """
    text = lines[number].text
    if _REF_HEADING.match(text):
        return False
    if _MD_HEADING_START.match(text) or (len(text) <= 90 and _AFTER_REFERENCES.match(text)):
        return True
    stripped = text.strip()
    if not _PLAIN_HEADING.match(stripped) or len(stripped.split()) > 12 or _ENTRY.match(text) or _reference_like(text):
        return False
    following = next((line.text for line in lines[number + 1 : number + 3] if line.text.strip()), "")
    prose = len(following.split()) >= 6 and following.rstrip()[-1:] in ".!?:"
    return prose and not _ENTRY.match(following) and not _reference_like(following)


def _reference_like(text: str, strict: bool = False) -> bool:
    """Whether text reads as a bibliographic entry.

    Under a "References" heading a year is enough; a numbered run with no heading must
    show more (a year after "Smith J"-style authors), or "1. Since 2019, offer ..." would vanish.
    """
    if _CITATION_MARKS.search(text):
        return True
    return bool(_YEAR.search(text)) and (not strict or bool(_AUTHOR_START.match(text)))


def _mostly_reference_like(body: Sequence[Line]) -> bool:
    return sum(1 for line in body if _reference_like(line.text)) * 2 >= len(body)


def _trailing_list(lines: Sequence[Line], table_lines: set[int]) -> ReferenceList | None:
    """A run of >= 3 numbered, reference-like entries that closes the document (no heading above it)."""
    first_entry: int | None = None
    last_label: int | None = None
    pending = 0  # non-entry lines below the current position that an entry above must own
    number = len(lines) - 1
    while number >= 0:
        line = lines[number]
        if number in table_lines:
            break
        match = _ENTRY.match(line.text)
        if match:
            label = int(match.group("bracket") or match.group("dotted") or match.group("bare"))
            if last_label is not None and label >= last_label:
                break
            first_entry, last_label, pending = number, label, 0
        elif line.text.strip():
            pending += 1  # a wrapped line of the entry above, or text before the list
            if pending > 3:
                break
        elif pending:
            break
        number -= 1
    if first_entry is None:
        return None
    run = lines[first_entry:]
    entries, reference_like = _entries(run)
    if len(entries) < 3 or reference_like * 4 < len(entries) * 3:
        return None
    last = max(index for index, line in enumerate(run) if line.text.strip())
    return ReferenceList(span=(run[0].start, run[last].end), entries=entries)


def find_reference_list(lines: Sequence[Line], end_of_text: int, table_lines: set[int]) -> ReferenceList:
    """The document's reference list: under a heading, else a trailing numbered run; empty when there is none."""
    return _heading_list(lines, end_of_text) or _trailing_list(lines, table_lines) or ReferenceList()
