"""Patient-specific arithmetic: only from a quoted per-kg or per-m² dose, every step shown, implausible inputs refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from guideline_quotes import IVIG, MP, PRED, RAW, RTX, draft

from assistant.answer import FlagCode, GuardrailStatus, Quote, Severity
from assistant.guardrails import apply_guardrail
from assistant.guardrails.calculator import Measures, calculate, find_measures, mosteller_bsa
from assistant.guardrails.doses import parse_doses
from assistant.present import markdown

SOURCE = "guideline.txt, Dosing [1]"


def measures(weight: str | None = None, height: str | None = None) -> Measures:
    return Measures(
        weight_kg=Decimal(weight) if weight else None,
        height_cm=Decimal(height) if height else None,
        weight_text=f"{weight} kg" if weight else None,
        height_text=f"{height} cm" if height else None,
    )


ARITHMETIC = [
    # (quoted dose, weight kg, height cm, arithmetic that must be shown)
    ("IVIG 1 g/kg as a single dose", "70", None, "1 g/kg × 70 kg = 70 g (as a single dose)"),
    ("prednisone 1 mg/kg/day", "70", None, "1 mg/kg/day × 70 kg = 70 mg/day"),
    ("IVIG 0.4 g/kg/day for 5 days", "62.5", None, "0.4 g/kg/day × 62.5 kg = 25 g/day (for 5 days)"),
    ("IVIG 0.5-1 g/kg", "70", None, "0.5–1 g/kg × 70 kg = 35–70 g"),
    ("enoxaparin 1 mg/kg SC q12h", "82", None, "1 mg/kg × 82 kg = 82 mg (SC, q12h)"),
    ("heparin 80 units/kg IV", "75", None, "80 units/kg × 75 kg = 6000 units (IV)"),
    ("fentanyl 1 mcg/kg IV", "3.2", None, "1 mcg/kg × 3.2 kg = 3.2 mcg (IV)"),
    ("rituximab 375 mg/m² weekly × 4 doses", "70", "170", "375 mg/m² × 1.82 m² = 682.5 mg (weekly, for 4 doses)"),
    ("rituximab 375 mg/m2", "80", "180", "375 mg/m² × 2 m² = 750 mg"),
    ("cyclophosphamide 750 mg/m2 IV", "16", "100", "750 mg/m² × 0.67 m² = 502.5 mg (IV)"),
]


@pytest.mark.parametrize(("dose_text", "weight", "height", "shown"), ARITHMETIC, ids=[a[0] for a in ARITHMETIC])
def test_arithmetic_is_exact_and_shown(dose_text: str, weight: str, height: str | None, shown: str) -> None:
    dose = parse_doses(dose_text)[0]
    result = calculate(dose, measures(weight, height), SOURCE)
    assert result.ok
    assert shown in result.message, result.message
    assert SOURCE in result.message, "a calculated number is never shown without its source"
    assert "gives no maximum dose" in result.message


def test_bsa_formula_is_named_and_shown() -> None:
    result = calculate(parse_doses("rituximab 375 mg/m2")[0], measures("70", "170"), SOURCE)
    assert "Mosteller formula" in result.message
    assert "√(170 cm × 70 kg / 3600) = 1.82 m²" in result.message


@pytest.mark.parametrize(
    ("height", "weight", "bsa"),
    [("170", "70", "1.82"), ("180", "80", "2.00"), ("100", "16", "0.67"), ("150", "50", "1.44"), ("50", "3.5", "0.22")],
)
def test_mosteller(height: str, weight: str, bsa: str) -> None:
    assert mosteller_bsa(Decimal(height), Decimal(weight)) == Decimal(bsa)


def test_quoted_maximum_is_stated() -> None:
    dose, ceiling = parse_doses("methylprednisolone 30 mg/kg IV (max 1 g)")
    result = calculate(dose, measures("70"), SOURCE, [ceiling])
    assert "30 mg/kg × 70 kg = 2100 mg" in result.message
    assert "states a maximum" in result.message and "“max 1 g”" in result.message


@pytest.mark.parametrize(
    ("question", "weight_kg", "height_cm"),
    [
        ("IVIG dose for a 70 kg patient?", "70", None),
        ("IVIG dose, patient 70kg", "70", None),
        ("weight 70.5 kilograms", "70.5", None),
        ("a 154 lb man", "69.85322498", None),
        ("70 kg, 170 cm", "70", "170"),
        ("70 kg and 1.7 m tall", "70", "170.0"),
        ("5 ft 7 in, 150 lbs", "68.0388555", "170.18"),
        ("IVIG 1 g/kg, what total dose?", None, None),
        ("rituximab 375 mg/m2", None, None),
        ("BMI 24 kg/m2", None, None),
    ],
)
def test_find_measures(question: str, weight_kg: str | None, height_cm: str | None) -> None:
    found = find_measures(question)
    assert found.weight_kg == (Decimal(weight_kg) if weight_kg else None)
    assert found.height_cm == (Decimal(height_cm) if height_cm else None)


@pytest.mark.parametrize(
    ("weight", "height", "refused"),
    [
        ("0.4", None, True),
        ("0.5", None, False),
        ("350", None, False),
        ("351", None, True),
        ("7000", None, True),
        ("70", "29", True),
        ("70", "30", False),
        ("70", "250", False),
        ("70", "251", True),
    ],
)
def test_implausible_inputs_are_refused(weight: str, height: str | None, refused: bool) -> None:
    result = calculate(parse_doses("rituximab 375 mg/m2")[0], measures(weight, height or "170"), SOURCE)
    assert result.ok is not refused
    if refused:
        assert result.implausible and "outside the plausible range" in result.message
        assert "mg" not in result.message.split("range")[0], "a refusal states no dose"


@pytest.mark.parametrize(
    ("dose_text", "given", "reason"),
    [
        ("methylprednisolone 1 g IV daily", measures("70"), "fixed dose"),
        ("rituximab 375 mg/m2", measures("70"), "height and weight"),
        ("IVIG 1 g/kg", measures(None, "170"), "give the patient's weight"),
    ],
)
def test_nothing_is_calculated_without_a_basis_or_a_measure(dose_text: str, given: Measures, reason: str) -> None:
    result = calculate(parse_doses(dose_text)[0], given, SOURCE)
    assert not result.ok and reason in result.message


# --- through apply_guardrail -----------------------------------------------------------------------------


def test_calculation_is_added_above_the_quotes_with_its_source() -> None:
    question = "How much IVIG for a 70 kg patient?"
    result = apply_guardrail(question, draft(question, [IVIG]))
    (flag,) = result.guardrail.flags
    assert flag.code is FlagCode.CALCULATION and flag.severity is Severity.INFO
    assert result.guardrail.status is GuardrailStatus.PASS
    assert "1 g/kg × 70 kg = 70 g" in markdown(result)
    assert "(ivig-in-aiha.txt, First-Line Treatment Approach [1])" in markdown(result)
    assert "gives no maximum dose for IVIG" in markdown(result)
    assert markdown(result).index("70 g") < markdown(result).index("The guideline says (quoted verbatim):")
    assert apply_guardrail(question, result) == result


def test_bsa_calculation_through_the_guardrail() -> None:
    question = "What rituximab dose for a patient of 70 kg and 170 cm?"
    result = apply_guardrail(question, draft(question, [RTX, IVIG]))
    assert [f.code for f in result.guardrail.flags] == [FlagCode.CALCULATION]
    assert "375 mg/m² × 1.82 m² = 682.5 mg" in markdown(result)


def test_only_the_asked_drug_is_calculated() -> None:
    question = "What prednisone dose for 70 kg?"
    result = apply_guardrail(question, draft(question, [IVIG, PRED, RTX]))
    assert [f.text for f in result.guardrail.flags] == ["1 mg/kg/day, tapered slowly over 6-12 months"]
    assert "70 mg/day" in markdown(result)


@pytest.mark.parametrize("question", ["How much IVIG for a 500 kg patient?", "IVIG dose for 0.2 kg?"])
def test_implausible_weight_refused_through_the_guardrail(question: str) -> None:
    result = apply_guardrail(question, draft(question, [IVIG]))
    (flag,) = result.guardrail.flags
    assert flag.code is FlagCode.CALCULATION_REFUSED and flag.severity is Severity.WARN
    assert "outside the plausible range 0.5–350 kg" in markdown(result)
    assert " g " not in markdown(result).split("The guideline says")[0]


def test_fixed_dose_is_not_scaled_by_weight() -> None:
    question = "What methylprednisolone dose for a 70 kg patient?"
    result = apply_guardrail(question, draft(question, [MP]))
    (flag,) = result.guardrail.flags
    assert flag.code is FlagCode.CALCULATION_REFUSED and "fixed dose" in flag.message
    assert "70 g" not in markdown(result) and "× 70" not in markdown(result)


def test_a_modified_dose_is_never_computed_from_the_standard_dose() -> None:
    low = Quote(
        text="Low-dose IVIG (combined with plasma exchange to prevent rebound)",
        citations=["6"],
        source="ivig-in-aiha.txt",
        section="Severe Refractory Cases",
        start=RAW.find("Low-dose IVIG"),
        end=RAW.find("Low-dose IVIG") + 64,
        chunk_id="low",
    )
    question = "How much low-dose IVIG for a 70 kg patient?"
    result = apply_guardrail(question, draft(question, [low, IVIG]))
    assert FlagCode.CALCULATION not in [f.code for f in result.guardrail.flags]
    assert FlagCode.DOSE_NOT_SPECIFIED in [f.code for f in result.guardrail.flags]
    assert "70 g" not in markdown(result)


@pytest.mark.parametrize(
    ("question", "bsa"),
    [
        ("BSA 1.8 m², how many mg of rituximab?", "1.8"),
        ("body surface area of 1.75 m2: rituximab dose?", "1.75"),
        ("Body-surface area = 2,1 m2, rituximab dose?", "2.1"),
        ("rituximab 375 mg/m2 for a 70 kg patient", None),
    ],
)
def test_stated_bsa_is_found(question: str, bsa: str | None) -> None:
    measures = find_measures(question)
    assert measures.bsa_m2 == (Decimal(bsa) if bsa else None)
    assert measures.height_cm is None


def test_stated_bsa_is_used_as_given_not_recalculated() -> None:
    result = apply_guardrail(
        "BSA 1.8 m², how many mg of rituximab per infusion?",
        draft("BSA 1.8 m², how many mg of rituximab per infusion?", [RTX]),
    )
    flag = next(f for f in result.guardrail.flags if f.code is FlagCode.CALCULATION)
    assert "375 mg/m² × 1.8 m² = 675 mg" in flag.message
    assert "as given" in flag.message and "ivig-in-aiha.txt, Severe Refractory Cases [6] [4]" in flag.message


@pytest.mark.parametrize("question", ["BSA 9 m2, rituximab dose?", "BSA 0.05 m2, rituximab dose?"])
def test_implausible_stated_bsa_is_refused(question: str) -> None:
    result = apply_guardrail(question, draft(question, [RTX]))
    assert [f.code for f in result.guardrail.flags] == [FlagCode.CALCULATION_REFUSED]
    assert "body-surface area" in result.guardrail.flags[0].message
    assert not any(f.code is FlagCode.CALCULATION for f in result.guardrail.flags)


# --- weight in lb, height in ft/in (converted with pint, shown in the arithmetic) -----------------------------

IMPERIAL = [
    # (question, quoted statement, steps that must be shown)
    (
        "Pt weighs 154 lb, how much IVIG?",
        IVIG,
        ["154 lb = 69.9 kg (1 lb = 0.45359237 kg)", "1 g/kg × 69.9 kg = 69.9 g"],
    ),
    ("IVIG dose for a 150 pounds patient?", IVIG, ["150 pounds = 68 kg", "1 g/kg × 68 kg = 68 g"]),
    (
        "rituximab dose for 5 ft 7 in, 154 lb?",
        RTX,
        [
            "154 lb = 69.9 kg",
            "5 ft 7 in = 170.2 cm (1 in = 2.54 cm)",
            "√(170.2 cm × 69.9 kg / 3600) = 1.82 m²",
            "= 682.5 mg",
        ],
    ),
    ("rituximab dose, 6'0\", 180 lb?", RTX, ["180 lb = 81.6 kg", "6'0\" = 182.9 cm", "= 2.04 m²", "= 765 mg"]),
]


@pytest.mark.parametrize(("question", "quote", "shown"), IMPERIAL, ids=[i[0] for i in IMPERIAL])
def test_imperial_measures_are_converted_and_the_conversion_is_shown(
    question: str, quote: Quote, shown: list[str]
) -> None:
    result = apply_guardrail(question, draft(question, [quote]))
    flag = next(f for f in result.guardrail.flags if f.code is FlagCode.CALCULATION)
    for step in shown:
        assert step in flag.message, flag.message
    assert flag.message in markdown(result)
