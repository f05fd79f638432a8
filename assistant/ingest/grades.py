"""Which grade applies to each statement, and where the guideline writes it.

A grade is looked for, in this order, in:

1. the statement itself ("... is recommended (Class IIa; Level of Evidence B).");
2. what trails it on the same line: "... procedure. [D]", or a bullet's
   "(Level of Evidence: B)" that the sentence splitter made a statement of its own;
3. its table row, in the columns whose header names a grade ("Strength of
   Recommendation", "Level of Evidence", "Class", "Grade");
4. the class/strength heading it stands under ("Class IIa" above a numbered list);
5. for a NICE guideline, its verb of recommendation ("Offer", "Consider"), marked as wording.

A grade is never inferred: every one carries the verbatim text and its offsets
into the same text as the statement (``raw[start:end] == text``), checked before
it is kept. When the guideline has a legend ("Grade D: expert opinion ..."), the
legend's own words for that grade are its ``meaning``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.ingest.parser import Document, Statement
from assistant.vocabulary.grades import (
    Grade,
    Reading,
    read_acc_aha,
    read_grade,
    read_nice_wording,
)

_PAREN = re.compile(r"\(([^()]{1,160})\)|\[([^\[\]\n]{1,60})\]")
_BARE = re.compile(
    r"(?i)\b(?:Class\s+(?:I{1,3}[ab]?|[123][ab]?)\s*[;,]\s*)?(?:Level of Evidence|LOE)\s*:?\s*[ABC](?:-(?:R|NR|LD|EO))?\b"
    r"|\bstrength of recommendations?\s*:\s*(?:strong|weak|conditional)\b"
    r"(?:\s*[;,]\s*(?:quality|certainty) of (?:the )?evidence\s*:\s*(?:very low|high|moderate|low))?"
)
# Only punctuation, spaces and citation numbers may stand between a statement and its trailing grade.
_BETWEEN = re.compile(r"^[\s.;,:)\]\[\d–-]*$")
# An author-year citation may too: "... adherence. (Smith et al., 2011) (HICs—high level of evidence)".
_AUTHOR_YEAR = re.compile(r"\([^()]{0,120}\b(?:19|20)\d\d[a-z]?\)")
_TRAILING_CHARS = 240
_LEGEND_LINE = re.compile(
    r"(?im)^[ \t>*•|#-]*\**(?P<kind>grade|level of evidence|level|class|loe|strength of recommendation)?\s*"
    r"(?P<key>[A-D]|I{1,3}[ab]?|IV|V|U|[12][A-C])\**[ \t]*(?:[:=–—]|\s-\s|\|)[ \t]*\**(?P<meaning>[^|\n]{8,300})"
)
_STRENGTH_HEADER = re.compile(
    r"(?i)^\W*(?:strength|grade|class(?: of recommendation)?\W*$|COR\b|recommendation (?:grade|strength|class|rating)|rating)"
)
_EVIDENCE_HEADER = re.compile(r"(?i)^\W*(?:level|quality|LOE\b|evidence|certainty)")
_MAX_CELL = 20
_NICE = re.compile(r"National Institute for Health and Care Excellence|\bNICE guideline\b")
_SIGN = re.compile(r"Scottish Intercollegiate Guidelines Network|\bSIGN\b")
_USPSTF = re.compile(r"USPSTF|U\.S\. Preventive Services Task Force")
_HEAD_CHARS = 4000


def scheme_of(raw: str) -> str | None:
    """The letter scheme a guideline declares near its start (SIGN, USPSTF), or None."""
    head = raw[:_HEAD_CHARS]
    if _USPSTF.search(head):
        return "USPSTF"
    if _SIGN.search(head):
        return "SIGN"
    return None


def grades_for(document: Document) -> dict[tuple[int, int], Grade]:
    """The grade of every graded statement of ``document``, keyed by the statement's (start, end)."""
    raw, scheme = document.raw, scheme_of(document.raw)
    legend = read_legend(raw)
    nice = bool(_NICE.search(raw[:_HEAD_CHARS]))
    found: dict[tuple[int, int], Grade] = {}
    for statement, heading in _with_headings(document):
        grade = _grade_of(raw, statement, heading, scheme, nice)
        if grade is not None and raw[grade.start : grade.end] == grade.text:
            found[(statement.start, statement.end)] = _with_meaning(grade, legend)
    return found


# --------------------------------------------------------------------------- where a grade is written


def _grade_of(
    raw: str, statement: Statement, heading: tuple[Reading, int, int] | None, scheme: str | None, nice: bool
) -> Grade | None:
    inline = _inline(raw, statement, scheme) or _trailing(raw, statement, scheme) or _table(statement, scheme)
    if inline is not None:
        reading, start, end = inline
        if heading is not None and reading.system == "ACC/AHA" and reading.klass is None:
            return _merged(raw, reading, start, end, heading)
        return _grade(raw, reading, start, end)
    if heading is not None:
        return _grade(raw, *heading)
    if nice and (verb := read_nice_wording(statement.text)):
        begin, finish, strength = verb
        start, end = statement.start + begin, statement.start + finish
        return Grade(system="NICE wording", strength=strength, text=raw[start:end], start=start, end=end, wording=True)
    return None


def _candidates(text: str) -> Iterator[tuple[int, int, str, bool]]:
    """(start, end, words, bare) for every bracketed or bare grade-shaped phrase, in reading order."""
    spans = [(m.start(), m.end(), m.group(1) or m.group(2), m.group(2) is not None) for m in _PAREN.finditer(text)]
    spans += [(m.start(), m.end(), m.group(0), False) for m in _BARE.finditer(text)]
    reach = -1
    for span in sorted(spans, key=lambda span: (span[0], -span[1])):
        if span[1] <= reach:
            continue  # "Level of Evidence C" inside "(Class IIb; Level of Evidence C)": the bracket is the grade
        reach = span[1]
        yield span


def _is_legend_entry(text: str, end: int) -> bool:
    """ "Level of Evidence A: data derived from ..." defines a grade; it is not graded by it."""
    return bool(re.match(r"\s*[:=–—]", text[end : end + 3]))


def _inline(raw: str, statement: Statement, scheme: str | None) -> tuple[Reading, int, int] | None:
    """The grade written inside the statement.

    A sentence can hold two ("... with a history of preeclampsia (Level of Evidence B), it is
    reasonable to ... (Class IIa; Level of Evidence C)."): the one that names a strength wins,
    then the one that ends the statement (it grades the whole recommendation), then the first.
    A grade that opens a longer statement ("(1A) Values above ...") closes the sentence before.
    """
    if statement.kind == "table_row":
        return None
    text, found = statement.text, []
    for start, end, words, bare in _candidates(text):
        if start < 3 and _is_legend_entry(text, end):
            return None
        if start == 0 and text[end:].strip(" .;,"):
            continue
        if reading := read_grade(words, scheme, bare=bare):
            found.append((reading, start, end))
    if not found:
        return None
    at_end = [item for item in found if not text[item[2] :].strip(" .;,:)")]
    strong = [item for item in found if item[0].strength is not None]
    reading, start, end = (strong or at_end or found)[-1 if (strong or at_end) else 0]
    return reading, statement.start + start, statement.start + end


def _trailing(raw: str, statement: Statement, scheme: str | None) -> tuple[Reading, int, int] | None:
    line_end = raw.find("\n", statement.end)
    window = raw[statement.end : min(statement.end + _TRAILING_CHARS, len(raw) if line_end < 0 else line_end)]
    for start, end, words, bare in _candidates(window):
        if not _BETWEEN.match(_AUTHOR_YEAR.sub(" ", window[:start])):
            return None
        if reading := read_grade(words, scheme, bare=bare):
            return reading, statement.end + start, statement.end + end
    return None


def _cells(text: str) -> list[tuple[int, int]]:
    """Cell spans of a row (stripped), split at pipes."""
    spans, begin = [], 0
    for part in text.split("|"):
        stripped = part.strip()
        offset = begin + (len(part) - len(part.lstrip()))
        spans.append((offset, offset + len(stripped)))
        begin += len(part) + 1
    return spans


def _table(statement: Statement, scheme: str | None) -> tuple[Reading, int, int] | None:
    """The grade columns of a table row, read by their header ("Strength of Recommendation | Level of Evidence")."""
    if statement.kind != "table_row" or not statement.lead_in:
        return None
    headers = [cell.strip() for cell in statement.lead_in.split("|")]
    cells = _cells(statement.text)
    if len(headers) != len(cells):
        return None
    strength = evidence = None
    for column, (header, (start, end)) in enumerate(zip(headers, cells, strict=True)):
        value = statement.text[start:end]
        if column == 0 or not value or len(value) > _MAX_CELL:
            continue
        if strength is None and _STRENGTH_HEADER.search(header) and not re.search(r"(?i)evidence|quality", header):
            strength = (header, start, end, value)
        elif evidence is None and _EVIDENCE_HEADER.search(header):
            evidence = (header, start, end, value)
    if strength is None:
        return None
    header, start, end, value = strength
    if re.search(r"(?i)\bclass\b|\bCOR\b", header):
        loe = f"; Level of Evidence {evidence[3]}" if evidence else ""
        reading = read_acc_aha(f"Class {value}{loe}")
    else:
        reading = read_grade(value, scheme, bare=True)
    if reading is None:
        return None
    adjacent = evidence is not None and re.fullmatch(r"\s*\|\s*", statement.text[end : evidence[1]]) is not None
    last = evidence[2] if adjacent and evidence else end  # "B | II": strength and level side by side, one span
    return reading, statement.start + start, statement.start + last


def _heading_reading(text: str) -> Reading | None:
    """A line that is only a class or strength label ("Class IIa", "Class III: Harm", "Strong recommendations")."""
    label = text.strip().rstrip(":").strip()
    if len(label) > 40:
        return None
    reading = read_grade(label)
    if reading is None or (reading.klass is None and reading.system != "GRADE") or reading.strength is None:
        return None
    if reading.klass is None and not re.match(r"(?i)(strong|conditional|weak)\b", label):
        return None  # "Strength: Strong recommendation" is a field of a profile, not a heading over a list
    return reading


def _with_headings(document: Document) -> Iterator[tuple[Statement, tuple[Reading, int, int] | None]]:
    """Each statement with the class/strength heading it stands under, if any.

    A section titled "Class I" grades its statements; a statement that is only a
    class label grades the list items that follow it, up to the next paragraph.
    """
    raw = document.raw
    for section in document.sections:
        heading = None
        if section.title and (reading := _heading_reading(section.title)):
            where = raw.find(section.title, section.start, section.start + len(section.title) + 16)
            heading = (reading, where, where + len(section.title)) if where >= 0 else None
        current = heading
        for statement in section.statements:
            reading = _heading_reading(statement.text) if statement.kind != "table_row" else None
            if reading is not None and reading.klass is not None:  # a "Class IIa" line above a list
                current = (reading, statement.start, statement.end)
                yield statement, current
                continue
            if statement.kind == "sentence" and current is not heading and not _grade_only(statement.text):
                current = heading
            yield statement, current


def _grade_only(text: str) -> bool:
    match = _PAREN.fullmatch(text.strip())
    return match is not None and read_grade(match.group(1) or match.group(2), bare=True) is not None


# --------------------------------------------------------------------------- values


def _grade(raw: str, reading: Reading, start: int, end: int) -> Grade:
    return Grade(
        system=reading.system,
        strength=reading.strength,
        evidence=reading.evidence,
        text=raw[start:end],
        start=start,
        end=end,
        key=reading.key,
    )


def _merged(raw: str, reading: Reading, start: int, end: int, heading: tuple[Reading, int, int]) -> Grade:
    """An inline level of evidence under a class heading: "Class I" (heading) · "LOE C" (inline)."""
    klass, h_start, h_end = heading
    return Grade(
        system="ACC/AHA",
        strength=klass.strength,
        evidence=reading.evidence,
        text=raw[start:end],
        start=start,
        end=end,
        heading=raw[h_start:h_end],
        heading_start=h_start,
        heading_end=h_end,
        key=klass.key,
    )


def read_legend(raw: str) -> dict[tuple[str, str], str]:
    """The guideline's own definitions of its grades: ("class", "IIa") -> "Benefit >> risk ...".

    Keyed by the kind of label (class, level, grade, or "" when the line names none)
    and the label, so "Level A" and "Grade A" keep their own meanings.
    """
    legend: dict[tuple[str, str], str] = {}
    for match in _LEGEND_LINE.finditer(raw):
        meaning = match.group("meaning").strip().strip("*").strip()
        if len(re.findall(r"[^\W\d_]{2,}", meaning)) < 3:
            continue
        kind = (match.group("kind") or "").lower()
        kind = {"level of evidence": "level", "loe": "level", "strength of recommendation": "grade"}.get(kind, kind)
        legend.setdefault((kind, match.group("key")), meaning)
    return legend


def _with_meaning(grade: Grade, legend: dict[tuple[str, str], str]) -> Grade:
    if not legend or not grade.key:
        return grade
    kinds = {"ACC/AHA": ("class", "level"), "level": ("level", "")}.get(grade.system, ("grade", ""))
    meaning = next((legend[(kind, grade.key)] for kind in kinds if (kind, grade.key) in legend), None)
    return grade.model_copy(update={"meaning": meaning}) if meaning else grade
