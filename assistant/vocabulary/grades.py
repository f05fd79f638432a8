"""The words guidelines grade their recommendations with, read into one normalised form.

A committee grades a recommendation in one of a dozen notations: ACC/AHA's
"(Class IIa; Level of Evidence B)", GRADE's "(Strong recommendation, moderate
quality of evidence)" or "(Grade 1B)", letter grades "(grade D)" / "[D]",
SIGN's letters, USPSTF's "Grade B", NICE's verbs "offer"/"consider". A
clinician needs to tell a Class I / Level A recommendation from expert
opinion, so each notation is read here, once, into a :class:`Grade`:

* ``system``: the recognised scheme, or ``unknown``;
* ``strength``: ``strong``/``conditional``/``weak``/``against``/``expert opinion``,
  only when the scheme itself says what the grade means (a bare letter does not);
* ``evidence``: ``high``/``moderate``/``low``/``very low``, on the same rule;
* ``text``/``start``/``end``: the grade verbatim, with offsets into the same text as the quote.

Nothing here knows any particular guideline: :func:`read_grade` reads the words of a
grade, and :mod:`assistant.ingest.grades` finds where a statement's grade is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

STRENGTHS = ("strong", "conditional", "weak", "against", "expert opinion")
EVIDENCE_LEVELS = ("high", "moderate", "low", "very low")
# How strong a recommendation is, for the "strong recommendations only" filter.
STRENGTH_RANK = {"strong": 3, "conditional": 2, "weak": 1, "expert opinion": 0, "against": 3}
MIN_STRENGTHS = ("strong", "conditional", "weak")

SYSTEMS = ("ACC/AHA", "GRADE", "letter", "SIGN", "USPSTF", "NICE wording", "level", "unknown")


class Grade(BaseModel):
    """The grade a guideline gives one statement, verbatim and normalised (``raw[start:end] == text``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str = Field(description="ACC/AHA, GRADE, letter, SIGN, USPSTF, NICE wording, level or unknown.")
    strength: str | None = Field(default=None, description="strong, conditional, weak, against or expert opinion.")
    evidence: str | None = Field(default=None, description="high, moderate, low or very low.")
    text: str = Field(description="The grade as the guideline writes it.")
    start: int
    end: int
    meaning: str | None = Field(default=None, description="The guideline's own legend for this grade, when it has one.")
    heading: str | None = Field(default=None, description="The class/strength heading the statement stands under.")
    heading_start: int | None = None
    heading_end: int | None = None
    wording: bool = Field(default=False, description="True when the grade is the recommendation's verb (NICE).")
    key: str | None = Field(default=None, description="The grade's label as written: 'IIa', 'D', '1B'.")

    @property
    def label(self) -> str:
        """A compact badge: "Class I · LOE A", "Strong · moderate-quality evidence", "Grade D"."""
        return badge_label(self)


@dataclass(frozen=True)
class Reading:
    """What the words of one grade say (offsets are added by the caller)."""

    system: str
    strength: str | None = None
    evidence: str | None = None
    key: str | None = None  # the label a legend defines: "IIa", "D", "1B"
    klass: str | None = None  # an ACC/AHA class ("I", "IIa") when named
    loe: str | None = None  # an ACC/AHA level of evidence ("A", "B-R") when named


_ROMAN_CLASS = {"i": "I", "1": "I", "iia": "IIa", "2a": "IIa", "iib": "IIb", "2b": "IIb", "iii": "III", "3": "III"}
_CLASS_STRENGTH = {"I": "strong", "IIa": "conditional", "IIb": "weak", "III": "against"}
_LOE_EVIDENCE = {"A": "high", "B": "moderate", "C": "low", "D": "very low"}
_NUMERIC_STRENGTH = {"1": "strong", "2": "weak"}
_QUALITY = r"(high|moderate|low|very[\s-]low)"
# A grade's strength or quality word leads it ("Strong recommendation ...", "HICs—high quality ...") or follows a
# field name ("Recommendation Strength: Strong"); "(based on ... strong consensus of Class III studies)" is no grade.
_LEADS = re.compile(r"^\W*(?:\S+\W+){0,2}$|[:—–]\s*$")

CLASS = re.compile(r"(?i)\bclass\s+(I{1,3}[ab]?|[123][ab]?)\b(?:\s*[:(]\s*(harm|no benefit)\)?)?")
LOE = re.compile(r"(?i)\b(?:level of evidence|LOE)\s*:?\s*([ABC](?:-(?:R|NR|LD|EO))?)\b")
GRADE_NUMERIC = re.compile(r"(?i)\bgrade\s*:?\s*([12])\s*([ABCD])\b")
GRADE_LETTER = re.compile(r"\b(?i:grade)(?i: of recommendation)?(?:\s*\[GR\])?\s*:?\s*([A-D]|I)\b(?![-\w])")
NOT_GRADED = re.compile(r"(?i)^\s*not graded\s*$")
# Canadian Task Force / SOGC: evidence level, then recommendation letter: "(II-2A)", "(III-B)".
TASK_FORCE = re.compile(r"^\s*(I|II-[123]|III)\s*-?\s*([A-E]|L)\s*$")
LEVEL_LETTER = re.compile(r"(?i)^\s*level\s*:?\s*([A-CU])\s*$")
BARE_LETTER = re.compile(r"^\s*([A-D])\s*$")
_STRENGTH_WORD = re.compile(r"(?i)\b(strong|conditional|weak|discretionary)\b")
_AGAINST = re.compile(r"(?i)\bagainst\b")
_QUALITY_PHRASE = re.compile(
    rf"(?i)\b{_QUALITY}[-\s]+(?:quality|certainty|confidence|level of evidence)\b|\b(?:quality|certainty) of (?:the )?evidence\s*:?\s*{_QUALITY}\b"
    rf"|\b{_QUALITY} confidence in (?:the )?estimates?\b"
)
_GRADE_CONTEXT = re.compile(r"(?i)\brecommend|\bfor\b|\bagainst\b|quality|evidence|certainty|confidence|strength")
NICE_VERBS = re.compile(
    r"^(?:\d{1,3}(?:\.\d{1,3})*\s+)?(Do not offer|Offer|Consider|Do not|Must not|Must)\b"
    r"(?!\s+(?:avoid|withhold|delay|stop|discontinue|exclude|restrict|deny|forget)\b)"  # "Do not avoid X" is no "against"
)
_NICE_STRENGTH = {"offer": "strong", "must": "strong", "consider": "conditional", "do not offer": "against",
                  "do not": "against", "must not": "against"}


def _quality(text: str) -> str | None:
    match = _QUALITY_PHRASE.search(text)
    if not match:
        return None
    if not text[: match.start()].strip() == "" and not _has_lead(text, match.start()):
        return None
    word = next(group for group in match.groups() if group)
    return "very low" if word.lower().startswith("very") else word.lower()


def _has_lead(text: str, position: int) -> bool:
    """Whether the word at ``position`` leads the grade (at most two words before it, or a field name)."""
    return bool(_LEADS.search(text[:position]))


def read_acc_aha(text: str) -> Reading | None:
    """ "Class IIa; Level of Evidence B", "Class I", "Level of Evidence: C", "Class III: Harm"."""
    klass, loe = CLASS.search(text), LOE.search(text)
    if not klass and not loe:
        return None
    first = min(match.start() for match in (klass, loe) if match)
    if text[:first].strip(" ([:;,"):
        return None  # "(Level A rating requires two Class I studies.)" is a legend, not a grade
    name = _ROMAN_CLASS.get(klass.group(1).lower()) if klass else None
    if klass and name is None:
        return None
    level = loe.group(1).upper() if loe else None
    evidence = "expert opinion" if level and level.endswith("EO") else _LOE_EVIDENCE.get((level or "")[:1])
    return Reading(
        system="ACC/AHA",
        strength=_CLASS_STRENGTH.get(name or ""),
        evidence=None if evidence == "expert opinion" else evidence,
        key=name or level,
        klass=name,
        loe=level,
    )


def read_grade_words(text: str) -> Reading | None:
    """GRADE: "Strong recommendation, moderate quality of evidence", "(Weak For)", "(Grade 1B)", "(Conditional)"."""
    if numeric := GRADE_NUMERIC.search(text) or re.fullmatch(r"\s*([12])([A-D])\s*", text):
        strength = _NUMERIC_STRENGTH[numeric.group(1)]
        return Reading("GRADE", strength, _LOE_EVIDENCE[numeric.group(2).upper()], key=numeric.group(1) + numeric.group(2).upper())
    first = _STRENGTH_WORD.search(text)
    if first and not _has_lead(text, first.start()):
        return None
    words = {word.lower() for word in _STRENGTH_WORD.findall(text)}
    if not words and (quality := _quality(text)):
        return Reading("GRADE", None, quality, key=quality)  # "(moderate level of evidence)"
    if len(words) != 1 or re.search(r"(?i)recommendation\s*,\s*(?:recommendation|option)", text):
        return None  # "(strong, weak)", "(strong recommendation, recommendation, option)" name the scheme
    alone = re.fullmatch(r"(?i)\s*(strong|conditional|weak)\s*", text)
    if not alone and not _GRADE_CONTEXT.search(text):
        return None
    word = words.pop()
    strength = "conditional" if word == "discretionary" else word
    if _AGAINST.search(text) and not re.search(r"(?i)\bagainst\b.*\bfor\b|\bfor\b.*\bagainst\b", text):
        strength = "against"
    return Reading("GRADE", strength, _quality(text), key=word.capitalize())


def read_letter(text: str, scheme: str | None = None, bare: bool = False) -> Reading | None:
    """Letter grades: "(grade D)", "[B]", "Grade: D", "(Level U)"; SIGN/USPSTF when the document says it uses them.

    A lone letter is a grade only where ``bare`` says so (in square brackets, in a grade column):
    "(A)" in running text is a list marker.
    """
    match = GRADE_LETTER.search(text) or (BARE_LETTER.match(text) if bare else None) or LEVEL_LETTER.match(text)
    if not match and (task_force := TASK_FORCE.match(text)):
        return Reading("letter", key=task_force.group(2))
    if not match:
        return None
    letter = match.group(1).upper()
    if match.re is LEVEL_LETTER:
        return Reading("level", key=letter)
    if scheme == "USPSTF":
        strength = {"A": "strong", "B": "strong", "C": "conditional", "D": "against"}.get(letter)
        return Reading("USPSTF", strength, key=letter)
    return Reading(scheme if scheme == "SIGN" else "letter", key=letter)


def read_grade(text: str, scheme: str | None = None, bare: bool = False) -> Reading | None:
    """What the words of one grade say, or None when they are not a grade in any notation known here.

    ``scheme`` is the letter scheme the document declares ("SIGN", "USPSTF"), if any; ``bare``
    lets a lone letter count (square brackets, a grade column).
    """
    if len(text) > 160:
        return None
    if NOT_GRADED.match(text):
        return Reading("unknown", key="Not graded")  # KDIGO's ungraded statements say so
    return read_acc_aha(text) or read_grade_words(text) or read_letter(text, scheme, bare)


def read_nice_wording(statement: str) -> tuple[int, int, str] | None:
    """NICE's verb of recommendation at the start of a statement ("Offer", "Consider", "Do not offer")."""
    match = NICE_VERBS.match(statement)
    if not match:
        return None
    verb = match.group(1)
    return match.start(1), match.end(1), _NICE_STRENGTH[verb.lower()]


def check_min_strength(value: object) -> str | None:
    """A ``min_strength`` filter as given: None/"" (no filter) or one of :data:`MIN_STRENGTHS`, else ValueError."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in MIN_STRENGTHS:
        raise ValueError(f"min_strength must be one of {', '.join(MIN_STRENGTHS)} (or empty for no filter), got {value!r}")
    return value.strip().lower()


def meets(grade: Grade | None, minimum: str | None) -> bool:
    """Whether a quote's grade is at least ``minimum`` (None: every quote passes, graded or not)."""
    if not minimum:
        return True
    if grade is None or grade.strength is None or grade.strength == "expert opinion":
        return False
    if grade.strength == "against":
        return True  # "Class III: Harm", "Strong Against": a firm recommendation not to
    return STRENGTH_RANK[grade.strength] >= STRENGTH_RANK[minimum]


def badge_label(grade: Grade) -> str:
    """The compact badge beside a quote, built from the normalised fields and the grade's own label."""
    if grade.system == "ACC/AHA":
        klass = CLASS.search(grade.heading or "") or CLASS.search(grade.text)
        loe = LOE.search(grade.text)
        parts = []
        if klass:
            parts.append(f"Class {_ROMAN_CLASS.get(klass.group(1).lower(), klass.group(1))}"
                         + (f": {klass.group(2).title()}" if klass.group(2) else ""))
        if loe:
            parts.append(f"LOE {loe.group(1).upper()}")
        return " · ".join(parts) or grade.text.strip("()[] ")
    if grade.system == "GRADE":
        head = (grade.strength or "").capitalize() or grade.text.strip("()[] ")
        if grade.key and grade.key[:1].isdigit():
            head = f"Grade {grade.key} ({grade.strength})"
        return f"{head} · {grade.evidence}-quality evidence" if grade.evidence else head
    if grade.system == "NICE wording":
        return f"NICE wording: “{grade.text}”"
    if grade.system == "level":
        return f"Level {grade.key}"
    if grade.system in ("letter", "SIGN", "USPSTF"):
        prefix = {"SIGN": "SIGN grade", "USPSTF": "USPSTF grade"}.get(grade.system, "Grade")
        return f"{prefix} {grade.key}" if grade.key else grade.text
    return grade.text
