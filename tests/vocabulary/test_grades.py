"""Each grade notation read into its system, strength and evidence; and what is not a grade."""

from __future__ import annotations

import pytest

from assistant.vocabulary.grades import Grade, badge_label, meets, read_grade, read_nice_wording

# (words inside the brackets, bare letter allowed, scheme, system, strength, evidence, key)
NOTATIONS = [
    ("Class IIa; Level of Evidence B", False, None, "ACC/AHA", "conditional", "moderate", "IIa"),
    ("Class I; Level of Evidence A", False, None, "ACC/AHA", "strong", "high", "I"),
    ("Class IIb; Level of Evidence C", False, None, "ACC/AHA", "weak", "low", "IIb"),
    ("Class III: Harm", False, None, "ACC/AHA", "against", None, "III"),
    ("Level of Evidence: C", False, None, "ACC/AHA", None, "low", "C"),
    ("Strong recommendation, moderate quality of evidence", False, None, "GRADE", "strong", "moderate", "Strong"),
    ("Strong Recommendation, Moderate-Quality Evidence", False, None, "GRADE", "strong", "moderate", "Strong"),
    ("conditional recommendation, very low quality evidence", False, None, "GRADE", "conditional", "very low", "Conditional"),
    ("strong recommendation; very low confidence in estimates of effect", False, None, "GRADE", "strong", "very low", "Strong"),
    ("Strong recommendation for the use of an intervention", False, None, "GRADE", "strong", None, "Strong"),
    ("Weak For", False, None, "GRADE", "weak", None, "Weak"),
    ("Strong Against", False, None, "GRADE", "against", None, "Strong"),
    ("Conditional", False, None, "GRADE", "conditional", None, "Conditional"),
    ("Evidence quality: B; Recommendation Strength: Strong Recommendation", False, None, "GRADE", "strong", None, "Strong"),
    ("HICs—moderate quality of evidence", False, None, "GRADE", None, "moderate", "moderate"),
    ("Grade 1B", False, None, "GRADE", "strong", "moderate", "1B"),
    ("Grade 2C", False, None, "GRADE", "weak", "low", "2C"),
    ("1D", False, None, "GRADE", "strong", "very low", "1D"),
    ("grade D", False, None, "letter", None, None, "D"),
    ("Evidence level: V; Grade: D", False, None, "letter", None, None, "D"),
    ("D", True, None, "letter", None, None, "D"),
    ("B", True, "SIGN", "SIGN", None, None, "B"),
    ("Grade B", False, "USPSTF", "USPSTF", "strong", None, "B"),
    ("Grade D", False, "USPSTF", "USPSTF", "against", None, "D"),
    ("Level U", False, None, "level", None, None, "U"),
    ("II-2B", False, None, "letter", None, None, "B"),
    ("Not Graded", False, None, "unknown", None, None, "Not graded"),
]


@pytest.mark.parametrize(("words", "bare", "scheme", "system", "strength", "evidence", "key"), NOTATIONS)
def test_each_notation_reads_into_one_normalised_grade(words, bare, scheme, system, strength, evidence, key) -> None:
    reading = read_grade(words, scheme, bare=bare)
    assert reading is not None, words
    assert (reading.system, reading.strength, reading.evidence, reading.key) == (system, strength, evidence, key)


NOT_GRADES = [
    ("A", False),  # "(A)" in running text is a list marker
    ("strong, weak", False),  # names the scheme
    ("strong recommendation, recommendation, option", False),
    ("Level A rating requires at least two consistent Class I studies.", False),
    ("i.e., based on evidence from 1 or more Class of Evidence II studies or strong consensus", False),
    ("GRADE", False),
    ("Smith et al., 2019", False),
    ("Graded", False),
]


@pytest.mark.parametrize(("words", "bare"), NOT_GRADES)
def test_words_that_only_look_like_grades_are_not_read_as_one(words, bare) -> None:
    reading = read_grade(words, bare=bare)
    assert reading is None


@pytest.mark.parametrize(
    ("statement", "verb", "strength"),
    [
        ("Offer oral antibiotics to ...", "Offer", "strong"),
        ("1.2.3 Consider a CT scan if ...", "Consider", "conditional"),
        ("Do not offer betamimetics for tocolysis.", "Do not offer", "against"),
        ("Do not avoid beta-blockers where indicated.", None, None),  # not a recommendation against
        ("Patients should be offered ...", None, None),
    ],
)
def test_nice_wording_is_read_from_the_verb_that_opens_a_recommendation(statement, verb, strength) -> None:
    found = read_nice_wording(statement)
    assert (statement[found[0] : found[1]], found[2]) == (verb, strength) if verb else found is None


def _grade(**fields) -> Grade:
    return Grade(**{"system": "GRADE", "text": "(x)", "start": 0, "end": 3, **fields})


@pytest.mark.parametrize(
    ("grade", "label"),
    [
        (_grade(system="ACC/AHA", strength="strong", evidence="high", text="(Class I; Level of Evidence A)"), "Class I · LOE A"),
        (_grade(system="ACC/AHA", text="(Level of Evidence: C)", heading="Class IIa"), "Class IIa · LOE C"),
        (_grade(strength="strong", evidence="moderate"), "Strong · moderate-quality evidence"),
        (_grade(strength="weak", evidence="low", key="2C"), "Grade 2C (weak) · low-quality evidence"),
        (_grade(system="letter", key="D", text="(grade D)"), "Grade D"),
        (_grade(system="NICE wording", strength="strong", text="Offer", wording=True), "NICE wording: “Offer”"),
    ],
)
def test_the_badge_is_compact_and_says_the_scheme(grade: Grade, label: str) -> None:
    assert badge_label(grade) == label


@pytest.mark.parametrize(
    ("strength", "minimum", "kept"),
    [
        ("strong", "strong", True),
        ("conditional", "strong", False),
        ("conditional", "conditional", True),
        ("weak", "conditional", False),
        ("against", "strong", True),  # a firm recommendation not to
        ("expert opinion", "weak", False),
        (None, "weak", False),  # a bare letter says nothing about strength
        (None, None, True),
    ],
)
def test_min_strength_keeps_only_what_the_scheme_calls_at_least_that_strong(strength, minimum, kept) -> None:
    assert meets(_grade(strength=strength), minimum) is kept
    assert meets(None, minimum) is (minimum is None)
