"""Issue 21 probe suites: every wrong regimen gets the exact risk code (and severity), no correct one a mismatch.

Table-driven, on the bundled guideline's own statements and on small fixture statements written
in ``regimen_cases`` (our own words). The real parser, comparison and guardrail run on each; a few
probes also run through the real chain over the bundled corpus. A wrong regimen that raises a
flag with another risk, or none, fails; a correct regimen written another way that raises any
mismatch fails.
"""

from __future__ import annotations

import pytest
from guideline_quotes import draft
from regimen_cases import CEFO, CEFTRI, DEXA, IM_ONLY, IRON, IVIG, MP, MTX, PRED, RTX, SALB, fixture

from assistant.answer import Answer, FlagCode, GuardrailStatus, Quote, Risk, Severity
from assistant.guardrails import apply_guardrail

B, W = Severity.BLOCK, Severity.WARN
MISMATCH_CODES = {
    FlagCode.DOSE_MISMATCH,
    FlagCode.DOSE_UNIT_MISMATCH,
    FlagCode.DOSE_FREQUENCY_MISMATCH,
    FlagCode.DOSE_NOT_IN_SOURCE,
}

# (class, question, guideline statement, the risk the question's dose flag must carry, its severity)
WRONG: list[tuple[str, str, Quote, Risk, Severity]] = [
    # --- frequency: more often than the guideline is a higher daily total; less often is a frequency slip
    ("frequency", "methylprednisolone 1 g IV every hour", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV hourly", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV q1h", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV every 6 minutes", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV every minute", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV twice daily for 3 days", MP, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "prednisone 1 mg/kg 4 times a day", PRED, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "prednisone 1 mg/kg four times a day", PRED, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "prednisone 1 mg/kg every hour", PRED, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "rituximab 375 mg/m2 every hour", RTX, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "rituximab 375 mg/m2 daily x 4 doses", RTX, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "rituximab 375 mg/m2 every 2 weeks x 4 doses", RTX, Risk.FREQUENCY, W),
    ("frequency", "rituximab 375 mg/m2 monthly x 4 doses", RTX, Risk.FREQUENCY, W),
    ("frequency", "methylprednisolone 1 g IV weekly", MP, Risk.FREQUENCY, W),
    ("frequency", "prednisone 1 mg/kg every other day", PRED, Risk.FREQUENCY, W),
    ("frequency", "cefotaxime 50 mg/kg IV every 6 minutes for 10 days", CEFO, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "cefotaxime 50 mg/kg IV hourly for 10 days", CEFO, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "cefotaxime 50 mg/kg IV every 12 hours for 10 days", CEFO, Risk.FREQUENCY, W),
    ("frequency", "cefotaxime 50 mg/kg IV daily for 10 days", CEFO, Risk.FREQUENCY, W),
    ("frequency", "dexamethasone 0.15 mg/kg orally every hour for 2 days", DEXA, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "dexamethasone 0.15 mg/kg orally 6 times a day for 2 days", DEXA, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "dexamethasone 0.15 mg/kg orally once daily for 2 days", DEXA, Risk.FREQUENCY, W),
    ("frequency", "salbutamol 5 mg nebulised every 2 minutes for 3 doses", SALB, Risk.FREQUENCY, W),
    ("frequency", "methotrexate 12 mg intrathecally daily for 4 doses", MTX, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "IVIG 1 g/kg daily", IVIG, Risk.FREQUENCY, W),
    ("frequency", "methylprednisolone 1 g IV each hour", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV 2-hourly", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV every two hours", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV every 30 min", MP, Risk.OVERDOSE_TOTAL, B),
    ("frequency", "methylprednisolone 1 g IV thrice daily", MP, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "methylprednisolone 1 g IV 3 x daily", MP, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "methylprednisolone 1 g IV twice per day", MP, Risk.OVERDOSE_TOTAL, W),
    ("frequency", "methylprednisolone 1 g IV q 4 h", MP, Risk.OVERDOSE_TOTAL, W),
    # --- course: length in days to years, repetitions, taper, abrupt stop
    ("course", "prednisone 1 mg/kg/day for 2 years", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for 6-12 years", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for 6–12 years", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for 18 months", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for two years", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for 2 yrs", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day x 2 years", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day, stopped after 3 days", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day as a 40-day course", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day abruptly stopped after 3 days", PRED, Risk.COURSE, W),
    ("course", "rituximab 375 mg/m2 weekly for four years", RTX, Risk.OVERDOSE_TOTAL, B),
    ("course", "methylprednisolone 1 g IV daily for 30 consecutive days", MP, Risk.OVERDOSE_TOTAL, B),
    ("course", "IVIG 1 g/kg, 5 doses", IVIG, Risk.OVERDOSE_TOTAL, W),
    ("course", "prednisone 1 mg/kg/day for a year", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for one year", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for 40 days", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day for life", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day stopped abruptly after 3 days", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day, stop abruptly after 2 weeks", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day without tapering", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day tapered over 12 hours", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day tapered over 2 days", PRED, Risk.COURSE, W),
    ("course", "prednisone 1 mg/kg/day tapered over 3 years", PRED, Risk.COURSE, W),
    ("course", "rituximab 375 mg/m2 weekly x 2 doses", RTX, Risk.COURSE, W),
    ("course", "methotrexate 12 mg intrathecally weekly for 2 doses", MTX, Risk.COURSE, W),
    ("course", "cefotaxime 50 mg/kg IV q6h for 3 days", CEFO, Risk.COURSE, W),
    ("course", "methylprednisolone 1 g IV daily for 1 day", MP, Risk.COURSE, W),
    ("course", "ceftriaxone 1 g by intramuscular injection once a day for 2 days", CEFTRI, Risk.COURSE, W),
    # course totals: a longer course than the guideline's is a higher total
    ("course", "rituximab 375 mg/m2 weekly for 4 years", RTX, Risk.OVERDOSE_TOTAL, B),
    ("course", "IVIG 1 g/kg repeated weekly for a year", IVIG, Risk.OVERDOSE_TOTAL, B),
    ("course", "prednisone 1 mg/kg 4 times a day for 40 days", PRED, Risk.OVERDOSE_TOTAL, W),
    ("course", "methylprednisolone 1 g IV daily for 3 months", MP, Risk.OVERDOSE_TOTAL, B),
    ("course", "methylprednisolone 1 g IV daily x 30", MP, Risk.OVERDOSE_TOTAL, B),
    ("course", "methylprednisolone 1 g IV daily for 3 weeks", MP, Risk.OVERDOSE_TOTAL, W),
    ("course", "methotrexate 12 mg intrathecally weekly for 40 doses", MTX, Risk.OVERDOSE_TOTAL, B),
    ("course", "cefotaxime 50 mg/kg IV q6h for 20 days", CEFO, Risk.OVERDOSE_TOTAL, W),
    ("course", "IVIG 1 g/kg as a single dose for 30 days", IVIG, Risk.COURSE, W),
    # --- totals: the amount and the course together
    ("total", "IVIG 2 g/kg daily for 5 days", IVIG, Risk.OVERDOSE_TOTAL, B),
    ("total", "IVIG 1 g/kg daily for 2 days", IVIG, Risk.OVERDOSE_TOTAL, W),
    ("total", "IVIG 1 g/kg daily x 10", IVIG, Risk.OVERDOSE_TOTAL, B),
    ("total", "IVIG 0.5 g/kg daily for 5 days", IVIG, Risk.OVERDOSE_TOTAL, W),
    ("total", "methylprednisolone 2 g IV daily for 3 days", MP, Risk.OVERDOSE_TOTAL, W),
    ("total", "methylprednisolone 1 g IV daily for 30 days", MP, Risk.OVERDOSE_TOTAL, B),
    ("total", "rituximab 375 mg/m2 weekly x 8 doses", RTX, Risk.OVERDOSE_TOTAL, W),
    ("total", "rituximab 750 mg/m2 weekly x 8 doses", RTX, Risk.OVERDOSE_TOTAL, W),
    ("total", "gentamicin 5 mg/kg IM once daily for 70 days", IM_ONLY, Risk.OVERDOSE_TOTAL, B),
    # --- amounts: tenfold or worse blocks; otherwise an amount difference
    ("amount", "IVIG 10 g/kg", IVIG, Risk.TENFOLD, B),
    ("amount", "IVIG 0.1 g/kg", IVIG, Risk.TENFOLD, B),
    ("amount", "IVIG 20 g/kg", IVIG, Risk.TENFOLD, B),
    ("amount", "IVIG 2 g/kg", IVIG, Risk.AMOUNT, W),
    ("amount", "prednisone 10 mg/kg/day", PRED, Risk.TENFOLD, B),
    ("amount", "rituximab 3750 mg/m2 weekly x 4 doses", RTX, Risk.TENFOLD, B),
    ("amount", "dexamethasone 1.5 mg/kg orally twice daily for 2 days", DEXA, Risk.TENFOLD, B),
    ("amount", "methotrexate 120 mg intrathecally weekly for 4 doses", MTX, Risk.TENFOLD, B),
    # --- number formats: thousands separators of every kind, fractions
    ("format", "IVIG 10 000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "IVIG 10\u202f000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "IVIG 10\u00a0000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "IVIG 10\u2009000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "IVIG 10'000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "IVIG 10\u2019000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "IVIG 10,000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "IVIG 20 000 mg/kg", IVIG, Risk.TENFOLD, B),
    ("format", "methylprednisolone 10 000 mg IV daily for 3 days", MP, Risk.TENFOLD, B),
    ("format", "rituximab 3 750 mg/m2 weekly x 4 doses", RTX, Risk.TENFOLD, B),
    ("format", "IVIG 1½ g/kg", IVIG, Risk.AMOUNT, W),
    ("format", "IVIG 2½ g/kg", IVIG, Risk.AMOUNT, W),
    ("format", "IVIG ¾ g/kg", IVIG, Risk.AMOUNT, W),
    ("format", "IVIG ½ g/kg", IVIG, Risk.AMOUNT, W),
    ("format", "IVIG 1 1/2 g/kg", IVIG, Risk.AMOUNT, W),
    ("format", "IVIG 3/4 g/kg", IVIG, Risk.AMOUNT, W),
    ("format", "IVIG 1\u20442 g/kg", IVIG, Risk.AMOUNT, W),  # the fraction slash: one half
    ("format", "IVIG 10½ g/kg", IVIG, Risk.TENFOLD, B),
    ("format", "methylprednisolone 1½ g IV daily for 3 days", MP, Risk.AMOUNT, W),
    # --- impossible units: blocked whatever the guideline says
    ("unit", "IVIG 1 kg/kg", IVIG, Risk.UNIT, B),
    ("unit", "IVIG 1 kg per kg", IVIG, Risk.UNIT, B),
    ("unit", "IVIG 100 g/kg", IVIG, Risk.UNIT, B),
    ("unit", "IVIG 100 000 mg/kg", IVIG, Risk.UNIT, B),
    ("unit", "rituximab 2 kg/m2 weekly x 4 doses", RTX, Risk.UNIT, B),
    ("unit", "prednisone 1 L/kg/day", PRED, Risk.UNIT, B),
    ("unit", "rituximab 375 mg/kg weekly x 4 doses", RTX, Risk.UNIT, W),
    ("unit", "IVIG 1 g", IVIG, Risk.UNIT, W),
    # --- hidden characters: stripped, and the amount still compared
    ("hidden", "IVIG \u202e10 g/kg", IVIG, Risk.TENFOLD, B),
    ("hidden", "IVIG \u202e10 g/kg\u202c", IVIG, Risk.TENFOLD, B),
    ("hidden", "IVIG 1\u200b0 g/kg", IVIG, Risk.TENFOLD, B),
    ("hidden", "IVIG 1\u00ad0 g/kg", IVIG, Risk.TENFOLD, B),
    ("hidden", "IVIG 1\u20600 g/kg", IVIG, Risk.TENFOLD, B),
    ("hidden", "IVIG \ufeff10 g/kg", IVIG, Risk.TENFOLD, B),
    ("hidden", "IVIG \u20662 g/kg\u2069 daily for 5 days", IVIG, Risk.OVERDOSE_TOTAL, B),
    ("hidden", "methylprednisolone 1 g IV \u200bevery hour", MP, Risk.OVERDOSE_TOTAL, B),
    # --- routes: written, implied by the drug's name, by the statement or by its section
    ("route", "IVIG 1 g/kg intrathecal", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg intrathecally", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg IV push", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg as an IV bolus", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg IM", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg orally", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg subcutaneously", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg nebulised", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg epidurally", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg via IV push", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg intravenous push", IVIG, Risk.ROUTE, W),
    ("route", "IVIG 1 g/kg given intrathecally", IVIG, Risk.ROUTE, W),
    ("route", "methylprednisolone 1 g PO daily for 3 days", MP, Risk.ROUTE, W),
    ("route", "methylprednisolone 1 g intrathecally daily for 3 days", MP, Risk.ROUTE, W),
    ("route", "methylprednisolone 1 g IM daily for 3 days", MP, Risk.ROUTE, W),
    ("route", "ceftriaxone 1 g orally once a day for 7 days", CEFTRI, Risk.ROUTE, W),
    ("route", "ceftriaxone 1 g by mouth once a day for 7 days", CEFTRI, Risk.ROUTE, W),
    ("route", "ceftriaxone 1 g IV once a day for 7 days", CEFTRI, Risk.ROUTE, W),
    ("route", "gentamicin 5 mg/kg IV once daily for 7 days", IM_ONLY, Risk.ROUTE, W),
    ("route", "salbutamol 5 mg IV every 20 minutes for 3 doses", SALB, Risk.ROUTE, W),
    ("route", "methotrexate 12 mg IV once a week for 4 doses", MTX, Risk.ROUTE, W),
    ("route", "methotrexate 12 mg orally weekly for 4 doses", MTX, Risk.ROUTE, W),
    ("route", "cefotaxime 50 mg/kg IM every 6 hours for 10 days", CEFO, Risk.ROUTE, W),
    ("route", "dexamethasone 0.15 mg/kg IV twice daily for 2 days", DEXA, Risk.ROUTE, W),
    ("route", "dexamethasone 0.15 mg/kg rectally twice daily for 2 days", DEXA, Risk.ROUTE, W),
]

# (question, guideline statement): the guideline's regimen as written and in equivalent wordings.
CORRECT: list[tuple[str, Quote]] = [
    ("IVIG 1 g/kg as a single dose", IVIG),
    ("IVIG 1 g/kg once", IVIG),
    ("IVIG 1 g/kg as one dose", IVIG),
    ("IVIG 1 g/kg, one dose", IVIG),
    ("IVIG 1 g/kg IV", IVIG),
    ("IVIG 1 000 mg/kg as a single dose", IVIG),
    ("IVIG 1\u202f000 mg/kg once", IVIG),
    ("IVIG 1000 mg/kg", IVIG),
    ("IVIG 1 g per kg as a single dose, repeated if necessary", IVIG),
    ("methylprednisolone 1g IV daily for 3 days", MP),
    ("methylprednisolone 1 g IV once a day for 3 days", MP),
    ("methylprednisolone 1 g IV per day for 3 days", MP),
    ("methylprednisolone 1 g/day IV for 3 days", MP),
    ("methylprednisolone 1 g IV q24h for 3 days", MP),
    ("methylprednisolone 1 g IV every 24 hours for 3 days", MP),
    ("methylprednisolone 1000 mg IV daily x 3 doses", MP),
    ("methylprednisolone 1 g intravenously daily for 3 days", MP),
    ("methylprednisolone 1 g IV daily for 3 consecutive days", MP),
    ("methylprednisolone 1 g IV on 3 consecutive days", MP),
    ("methylprednisolone one gram IV daily for three days", MP),
    ("methylprednisolone 1 g IV daily as a 3-day course", MP),
    ("prednisone 1 mg/kg/day, tapered slowly over 6-12 months", PRED),
    ("prednisone 1 mg/kg per day, tapered over 6 months", PRED),
    ("prednisone 1 mg/kg daily, tapered over 9 months", PRED),
    ("prednisone 1 mg/kg once a day, tapered slowly", PRED),
    ("prednisone 1 mg/kg/d tapered over 12 months", PRED),
    ("rituximab 375 mg/m² weekly × 4 doses", RTX),
    ("rituximab 375 mg/m2 once a week for 4 doses", RTX),
    ("rituximab 375 mg/m2 every week x 4", RTX),
    ("rituximab 375 mg/m2 weekly for 4 weeks", RTX),
    ("rituximab 375 mg/m2 every 7 days for 4 doses", RTX),
    ("3 mg/kg to 6 mg/kg of elemental iron per day for 3 months", IRON),
    ("elemental iron 3 to 6 mg/kg per day", IRON),
    ("elemental iron 3-6 mg/kg/day", IRON),
    ("elemental iron 6 mg/kg to 3 mg/kg per day", IRON),
    ("elemental iron 3 to 6 mg/kg daily for 12 weeks", IRON),
    ("elemental iron 4 mg/kg once a day", IRON),
    ("cefotaxime 50 mg/kg IV every 6 hours for 10 days", CEFO),
    ("cefotaxime 50 mg/kg IV q6h for 10 days", CEFO),
    ("cefotaxime 50 mg/kg IV four times daily for 10 days", CEFO),
    ("cefotaxime 50 mg/kg IV 4 times a day for 10 days", CEFO),
    ("cefotaxime 50 mg/kg IV q6h x 10 days", CEFO),
    ("ceftriaxone 1 g by intramuscular injection once a day for 7 days", CEFTRI),
    ("ceftriaxone 1 g IM once daily for 7 days", CEFTRI),
    ("ceftriaxone 1 g intramuscularly daily for 1 week", CEFTRI),
    ("ceftriaxone 1 g IM every 24 hours for 7 days", CEFTRI),
    ("dexamethasone 0.15 mg/kg orally twice daily for 2 days", DEXA),
    ("dexamethasone 0.15 mg/kg PO bid for 2 days", DEXA),
    ("dexamethasone 0.15 mg/kg by mouth twice a day for 2 days", DEXA),
    ("dexamethasone 0.15 mg/kg orally q12h for 2 days", DEXA),
    ("dexamethasone 0.15 mg/kg orally every 12 hours for 2 days", DEXA),
    ("methotrexate 12 mg intrathecally once a week for 4 doses", MTX),
    ("methotrexate 12 mg intrathecal weekly x 4", MTX),
    ("methotrexate 12 mg intrathecally every week for 4 weeks", MTX),
    ("salbutamol 5 mg nebulised every 20 minutes for 3 doses", SALB),
    ("salbutamol 5 mg via a nebuliser every 20 min x 3", SALB),
    ("salbutamol 5 mg inhaled q20min for 3 doses", SALB),
    ("gentamicin 5 mg/kg once daily for 7 days", IM_ONLY),
    ("gentamicin 5 mg/kg IM once daily for 7 days", IM_ONLY),
    ("gentamicin 5 mg/kg intramuscularly every 24 hours for 7 days", IM_ONLY),
]

POPULATION: list[tuple[str, str]] = [
    ("What is the IVIG dose for children?", "The guideline gives no IVIG dose for children; the IVIG dose below is"),
    ("and in children? IVIG dose", "The guideline gives no IVIG dose for children; the IVIG dose below is"),
    ("IVIG dose in pregnancy?", "The guideline gives no IVIG dose for pregnancy; the IVIG dose below is"),
    ("What dose of prednisone for children?", "The guideline gives no prednisone dose for children; the prednisone"),
]


def check(question: str, quotes: list[Quote]) -> Answer:
    result = apply_guardrail(question, draft(question, quotes))
    assert apply_guardrail(question, result) == result, "running the guardrail twice must change nothing"
    return result


def question_flags(answer: Answer) -> list:
    return [flag for flag in answer.guardrail.flags if flag.code in MISMATCH_CODES]


@pytest.mark.parametrize(
    ("kind", "question", "quote", "risk", "severity"), WRONG, ids=[f"{w[0]}: {w[1]}" for w in WRONG]
)
def test_every_wrong_regimen_gets_its_risk_code(
    kind: str, question: str, quote: Quote, risk: Risk, severity: Severity
) -> None:
    answer = check(question, [quote])
    flags = question_flags(answer)
    assert [(flag.risk, flag.severity) for flag in flags] == [(risk, severity)], [f.message for f in flags]
    assert answer.guardrail.status.value == ("block" if severity is B else "warn") or (
        answer.guardrail.status is GuardrailStatus.BLOCK
    )


@pytest.mark.parametrize(
    "question",
    [w[1] for w in WRONG if w[0] == "hidden"],
    ids=[w[1].encode("unicode_escape").decode() for w in WRONG if w[0] == "hidden"],
)
def test_hidden_characters_are_flagged_as_a_format_risk_too(question: str) -> None:
    quote = next(w[2] for w in WRONG if w[1] == question)
    assert Risk.FORMAT in {flag.risk for flag in check(question, [quote]).guardrail.flags}


@pytest.mark.parametrize(("question", "quote"), CORRECT, ids=[c[0] for c in CORRECT])
def test_a_correct_regimen_in_any_wording_gets_no_mismatch(question: str, quote: Quote) -> None:
    answer = check(question, [quote])
    assert question_flags(answer) == [], [flag.message for flag in answer.guardrail.flags]
    assert answer.guardrail.status is not GuardrailStatus.BLOCK


def test_every_class_of_the_issue_is_probed() -> None:
    kinds = {w[0] for w in WRONG}
    assert kinds == {"frequency", "course", "total", "amount", "format", "unit", "hidden", "route"}
    risks = {w[3] for w in WRONG}
    assert risks == set(Risk) - {Risk.POPULATION, Risk.FORMAT}  # those two: tests below and above


@pytest.mark.parametrize(("question", "lead"), POPULATION)
def test_a_dose_for_another_population_is_said_first_and_not_the_direct_answer(question: str, lead: str) -> None:
    quote = PRED if "prednisone" in question else IVIG
    answer = check(question, [quote.model_copy(update={"direct": True})])
    flags = [flag for flag in answer.guardrail.flags if flag.code is FlagCode.DOSE_OTHER_CONTEXT]
    assert [flag.risk for flag in flags] == [Risk.POPULATION]
    assert answer.lead.startswith(lead), answer.lead
    assert answer.direct_quote() is None, "a dose for another population is never the direct answer"


def test_the_dose_for_the_population_asked_keeps_its_direct_mark() -> None:
    answer = check("elemental iron dose for children?", [IRON.model_copy(update={"direct": True})])
    assert answer.direct_quote() is not None
    assert not answer.lead.startswith("The guideline gives no")


CHAIN = [
    ("IVIG 2 g/kg daily for 5 days", Risk.OVERDOSE_TOTAL),
    ("IVIG 10 000 mg/kg", Risk.TENFOLD),
    ("methylprednisolone 1 g IV every hour", Risk.OVERDOSE_TOTAL),
    ("prednisone 1 mg/kg/day for 2 years", Risk.COURSE),
    ("IVIG 1 kg/kg", Risk.UNIT),
    ("IVIG 1 g/kg intrathecal", Risk.ROUTE),
]


@pytest.mark.parametrize(("question", "risk"), CHAIN, ids=[c[0] for c in CHAIN])
def test_wrong_regimens_through_the_real_chain(assistant, question: str, risk: Risk) -> None:
    answer = assistant.ask(question)
    assert risk in {flag.risk for flag in answer.guardrail.flags}, answer.guardrail.flags


def test_a_correct_regimen_through_the_real_chain_is_not_flagged(assistant) -> None:
    answer = assistant.ask("IVIG 1 g/kg once")
    assert question_flags(answer) == []


def test_a_question_that_asks_no_dose_keeps_its_direct_answer() -> None:
    question = "How long will I be on steroid tablets for my autoimmune anemia?"
    answer = check(question, [PRED.model_copy(update={"direct": True})])
    assert answer.direct_quote() is not None
    assert not answer.lead.startswith("The guideline gives no")


def test_and_in_children_through_the_real_chain_gives_no_contradicting_signals(assistant) -> None:
    conversation = assistant.new_conversation()
    assistant.ask("What IVIG dose is used in warm AIHA?", conversation=conversation)
    answer = assistant.ask("and in children?", conversation=conversation)
    assert Risk.POPULATION in {flag.risk for flag in answer.guardrail.flags}
    assert answer.lead.startswith("The guideline gives no IVIG dose for children; the IVIG dose below is")
    assert answer.direct_quote() is None
    assert "Direct answer" not in answer.answer


VEMURAFENIB = fixture("Vemurafenib 960 mg orally twice daily is the usual dose.")


@pytest.mark.parametrize(
    ("question", "flagged"),
    [
        ("For stage IV melanoma, what dose of vemurafenib?", False),
        ("Grade IV disease: vemurafenib dose?", False),
        ("What dose of IV vemurafenib?", True),
    ],
)
def test_a_roman_numeral_is_not_a_route(question: str, flagged: bool) -> None:
    """ "stage IV" is no route; "IV vemurafenib" is, and the lead names the drug it has no IV dose for."""
    answer = check(question, [VEMURAFENIB.model_copy(update={"direct": True})])
    other = [flag for flag in answer.guardrail.flags if flag.code is FlagCode.DOSE_OTHER_CONTEXT]
    assert bool(other) is flagged
    assert (answer.direct_quote() is None) is flagged
    assert answer.lead.startswith("The guideline gives no vemurafenib dose for intravenous use") is flagged
