"""What a question asks for: a dose at all, a dose to state or calculate, or a quantity of a known kind.

Three predicates, each defined once and read by every stage:

- :func:`mentions_dosing` (broad): the question is about dosing at all (an amount,
  a schedule, a unit or a patient weight); retrieval and selection put statements
  that state an amount first.
- :func:`asks_for_dose` (narrow): the question asks for a dose or an amount; the
  guardrail then says "no dose given" or calculates.
- :func:`wanted_kind`: the question asks for a duration, a volume, a percentage or
  an age, so the statement that states one is quoted first. The kinds are general
  English question forms, not any guideline's wording.

The unit words here are the spoken subset of :mod:`assistant.vocabulary.units`
(a bare "g" would match "e.g."; "ml" asks for a volume, not a dose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.vocabulary.units import AMOUNT

_DOSE_INTENT = re.compile(
    r"\b(dose|doses|dosing|dosage|dosed|how much|how many|grams?|milligrams?|micrograms?|units?|mg|mcg|g/kg|"
    r"mg/kg|mg/m2|regimen|schedule|how often|frequency|infusion rate|\d+(?:\.\d+)?\s?kg)\b",
    re.IGNORECASE,
)
_ASKS_DOSE = re.compile(
    r"\b(?:dose|doses|dosing|dosage|dosed|how\s+much|how\s+many\s+(?:mg|milligrams?|grams?|g|units|mcg|micrograms?|ml)"
    r"|what\s+amount|regimen|calculate|mg/kg)\b",
    re.IGNORECASE,
)


def mentions_dosing(question: str) -> bool:
    """Whether the question is about dosing at all: an amount, a schedule, a unit or a patient weight.

    Broader on purpose than :func:`asks_for_dose` (which decides when to say "no
    dose given" or to calculate): it only moves statements that state an amount
    ahead of the others when choosing what to quote.
    """
    return bool(_DOSE_INTENT.search(question))


def asks_for_dose(question: str) -> bool:
    """Whether the question asks for a dose or an amount (not just whether a drug is used)."""
    return bool(_ASKS_DOSE.search(question))


_NUMBER = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty)"


@dataclass(frozen=True)
class AnswerKind:
    """A question form and the pattern of the statements that answer it."""

    name: str
    asked: re.Pattern[str]
    stated: re.Pattern[str]


KINDS = (
    AnswerKind(
        "duration",
        re.compile(
            r"\b(how long|for how long|how many (?:minutes|hours|days|weeks|months|years)|within how|how soon|"
            r"how far apart|how often|how frequently|duration|until when)\b",
            re.IGNORECASE,
        ),
        re.compile(
            rf"{_NUMBER}\s*(?:[-–]|to)?\s*{_NUMBER}?\s*(?:min|mins|minutes?|h|hrs?|hours?|days?|weeks?|months?|years?)\b"
            r"|\b(?:hourly|daily|weekly|monthly|once|twice)\b",
            re.IGNORECASE,
        ),
    ),
    AnswerKind(
        "volume",
        re.compile(
            r"\b(how much (?:fluid|water|should i (?:be )?drink\w*)|volume|how many (?:litres|liters|ml))\b",
            re.IGNORECASE,
        ),
        re.compile(rf"{_NUMBER}\s*(?:ml|l|litres?|liters?|ml/kg)\b", re.IGNORECASE),
    ),
    AnswerKind(
        "percentage",
        re.compile(r"\b(what percentage|what proportion|how many percent|what share|what rate)\b", re.IGNORECASE),
        re.compile(rf"{_NUMBER}\s*%|\bper ?cent\b", re.IGNORECASE),
    ),
    AnswerKind(
        "age",
        re.compile(r"\b(at what age|from what age|how old|what age)\b", re.IGNORECASE),
        re.compile(rf"{_NUMBER}\s*(?:years?|months?|weeks?)(?: of age| old)?\b|\baged? {_NUMBER}", re.IGNORECASE),
    ),
)


def wanted_kind(question: str) -> AnswerKind | None:
    """The first kind of quantity the question asks for, if its wording asks for one."""
    return next((kind for kind in KINDS if kind.asked.search(question)), None)


# Answer types beyond a quantity, as general English question forms: which treatment to choose, a
# threshold or target, and what not to do. The learned ranker reads them against what a statement
# states (a recommendation, a comparison with a number, a negation); no guideline's wording is here.
ASKS_CHOICE = re.compile(
    r"\b(which|what (?:drug|medication|medicine|treatment|antibiotic|therapy|agent|tablets?|pills?))\b", re.IGNORECASE
)
ASKS_THRESHOLD = re.compile(r"\b(threshold|level|target|cut-?off|above|below|at what|goal|value)\b", re.IGNORECASE)
ASKS_AGAINST = re.compile(r"\b(avoid|not|never|safe|contraindicat\w*|stop|harm\w*|against|risks?)\b", re.IGNORECASE)
STATES_THRESHOLD = re.compile(
    r"[<>≤≥]|\b(?:above|below|less than|greater than|more than|at least|under|over)\s+\d", re.IGNORECASE
)
RECOMMENDS = re.compile(
    r"\b(recommend\w*|should|suggest\w*|consider\w*|offer\w*|advis\w*|indicated|first[- ]line|"
    r"treat\w* with|use of|start\w*|give|given|initiat\w*|prescrib\w*|administer\w*|must)\b",
    re.IGNORECASE,
)
NEGATES = re.compile(r"\b(not|no|avoid\w*|never|against|contraindicated|discontinu\w*|stop\w*)\b", re.IGNORECASE)
# A question written as a question ("what…", "should…", "my…") rather than typed into a search box.
QUESTION_FORM = re.compile(
    r"^\s*(what|which|how|when|who|why|where|should|can|could|is|are|do|does|may|my|i)\b", re.IGNORECASE
)


def is_search_box(question: str) -> bool:
    """A few words typed into a search box ("amoxicillin sinusitis adults"), not a sentence."""
    return len(question.split()) <= 6 and "?" not in question and not QUESTION_FORM.search(question)


# A statement about the document rather than the patient ("This recommendation is adapted from…", "The
# panel reviewed…"): close to many questions in wording, it answers none of them.
ABOUT_THE_DOCUMENT = re.compile(
    r"\b(this (?:guideline|recommendation|document|section|summary|update)|the (?:panel|committee|working group|"
    r"guideline development group|task force|authors?|workgroup)|adapted from|systematic reviews?|"
    r"literature (?:search|review)|evidence (?:review|profile|tables?)|were (?:reviewed|searched))\b",
    re.IGNORECASE,
)
# A graded recommendation ("(Grade B)", "Level of Evidence: C", "strong recommendation", "Class IIa").
GRADED = re.compile(
    r"\b(grade [a-d]\b|level of evidence|(?:strong|weak|conditional) recommendation|class (?:i{1,3}|iia|iib)\b|"
    r"quality evidence)|\[[A-D]\]",
    re.IGNORECASE,
)

# A question about what to do or give ("what is the treatment for…", "what medication is used for…",
# "how is … managed"), as general English question forms.
ASKS_TREATMENT = re.compile(
    r"\b(treat\w*|therap\w*|manag\w*|medications?|medicines?|drugs?|antibiotics?|first[- ]line|second[- ]line|"
    r"what (?:is|are) (?:used|given|offered|recommended)|which .{0,40}\b(?:used|given|offered|recommended))\b",
    re.IGNORECASE,
)
# What a statement that says what to do reads like: a recommendation, or a named standard of care.
STATES_TREATMENT = re.compile(
    rf"{RECOMMENDS.pattern}|\b(cornerstone|mainstay|treatment of choice|drug of choice|standard (?:of care|therapy)|"
    r"first[- ]line|second[- ]line|therapy (?:is|includes|consists))\b",
    re.IGNORECASE,
)
# A finding reported rather than advice given: a survey, a study's result, how often something was seen.
REPORTS_FINDING = re.compile(
    r"\b(survey\w*|respondents?|questionnaire|were (?:surveyed|found|reported)|was (?:found|reported)|"
    r"(?:a|one|this|the) (?:study|trial|cohort|audit)|studies (?:have )?(?:shown|found|reported)|"
    r"(?:the )?diagnosis (?:of .{1,60}? )?(?:is|was|relies|rests) (?:made|based|confirmed|established)|"
    r"is diagnosed|is (?:defined|characteri[sz]ed) (?:as|by))\b",
    re.IGNORECASE,
)


def statement_answers(question: str, statement: str) -> bool:
    """Whether a statement gives the kind of answer the question asks for (its answer type, not its topic).

    A dose question is answered by a statement with an amount and a dose unit; a
    duration, volume, percentage or age question by one stating that quantity; a
    treatment question by a recommendation, not a diagnosis or a survey's finding.
    Any other question is answered by whatever statement ranked first.
    """
    if asks_for_dose(question):
        return bool(AMOUNT.search(statement))
    kind = wanted_kind(question)
    if kind is not None:
        return bool(kind.stated.search(statement))
    if ASKS_TREATMENT.search(question) or ASKS_CHOICE.search(question):
        return bool(STATES_TREATMENT.search(statement)) and not REPORTS_FINDING.search(statement)
    return True
