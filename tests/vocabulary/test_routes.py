"""One route table: every spelling is read by the dose grammar, the context check and the regimen comparison."""

from __future__ import annotations

import pytest

from assistant.guardrails.asked import Asked
from assistant.guardrails.context import contexts_in
from assistant.guardrails.doses import parse_doses
from assistant.guardrails.regimen import route_of
from assistant.vocabulary.routes import BY_CODE, ROUTES, adverb, route_code, route_in_name

SPELLINGS = [
    ("IV", "iv"),
    ("IV", "IV"),
    ("IV", "i.v."),
    ("IV", "intravenously"),
    ("IV", "intravenous"),
    ("PO", "po"),
    ("PO", "p.o."),
    ("PO", "per os"),
    ("PO", "orally"),
    ("PO", "oral"),
    ("PO", "by mouth"),
    ("PO", "tablets"),
    ("SC", "sc"),
    ("SC", "sq"),
    ("SC", "s.c."),
    ("SC", "subcut"),
    ("SC", "subcutaneously"),
    ("IM", "im"),
    ("IM", "i.m."),
    ("IM", "intramuscular"),
    ("IM", "intramuscularly"),
]


@pytest.mark.parametrize(("code", "spelling"), SPELLINGS)
def test_every_spelling_names_its_route(code: str, spelling: str) -> None:
    assert route_code(spelling) == code


@pytest.mark.parametrize(("code", "spelling"), SPELLINGS)
def test_the_grammar_reads_every_spelling(code: str, spelling: str) -> None:
    [dose] = parse_doses(f"methotrexate 15 mg {spelling} weekly")
    assert (dose.route, dose.schedule) == (code, "weekly")


@pytest.mark.parametrize(("code", "spelling"), SPELLINGS)
def test_the_context_check_reads_every_spelling(code: str, spelling: str) -> None:
    names = [context.name for context in contexts_in(Asked.read(f"Can methotrexate be given {spelling} in psoriasis?"))]
    assert BY_CODE[code].use in names


@pytest.mark.parametrize("text", ["dose per 1.8 sq m of body surface", "BSA 1.8 sq. m"])
def test_square_metres_are_no_route(text: str) -> None:
    assert not any(context.route for context in contexts_in(Asked.read(text)))


def test_immunoglobulin_names_are_drugs_not_routes() -> None:
    [dose] = parse_doses("subcutaneous immunoglobulin 0.4 g/kg weekly")
    assert dose.route is None
    assert route_of(dose) == "SC"
    assert route_in_name("intravenous immunoglobulin") == "IV"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.code)
def test_each_route_has_one_set_of_words(route) -> None:  # type: ignore[no-untyped-def]
    assert adverb(route.code) == route.adverb
    assert route.use == f"{route.adjective} use"
    assert route_in_name(f"{route.adjective} something") == route.code
