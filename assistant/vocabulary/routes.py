"""Routes of administration: every spelling a text may use, and how a message names each route.

One table for the dose grammar (a route written in a dose's tail), the context
check (a route a question names) and the regimen comparison (a route in a drug's
own name). Every spelling is read by all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Route:
    """One route: its code (what a Dose stores), its spellings (regex alternatives) and its words."""

    code: str
    spellings: tuple[str, ...]
    adjective: str  # "intravenous" (also the word that gives the route in a drug's own name)
    adverb: str  # "intravenously"

    @property
    def use(self) -> str:
        """How a context note names the route: "intravenous use"."""
        return f"{self.adjective} use"


# "intravenous immunoglobulin" and "subcutaneous immunoglobulin" are drugs, not routes.
_NOT_IMMUNOGLOBULIN = r"(?!\s+immun)"
ROUTES: tuple[Route, ...] = (
    Route("IV", ("iv", r"i\.v\.", rf"intravenous(?:ly)?{_NOT_IMMUNOGLOBULIN}"), "intravenous", "intravenously"),
    Route("PO", ("po", r"p\.o\.", r"per\s+os", "orally", "oral", r"by\s+mouth", "tablets?"), "oral", "orally"),
    Route(
        "SC",
        # "sq" but not "sq m" / "sq. m" (square metres of body surface)
        ("sc", r"sq(?!\.?\s*m(?![a-z]))", r"s\.c\.", rf"subcut\w*{_NOT_IMMUNOGLOBULIN}"),
        "subcutaneous",
        "subcutaneously",
    ),
    Route("IM", ("im", r"i\.m\.", "intramuscular(?:ly)?"), "intramuscular", "intramuscularly"),
    Route("IT", (r"intrathecal(?:ly)?", r"i\.t\."), "intrathecal", "intrathecally"),
    Route(
        "INH",
        (r"inhaled", r"by\s+inhalation", r"nebuli[sz]ed", r"via\s+(?:an?\s+)?nebuli[sz]er", r"by\s+nebuli[sz]er"),
        "inhaled",
        "by inhalation",
    ),
    Route("PR", (r"rectal(?:ly)?", r"per\s+rectum", r"p\.r\."), "rectal", "rectally"),
    Route("IN", (r"intranasal(?:ly)?",), "intranasal", "intranasally"),
    Route("SL", (r"sublingual(?:ly)?",), "sublingual", "sublingually"),
    Route("EPI", (r"epidural(?:ly)?",), "epidural", "epidurally"),
    Route("IO", (r"intraosseous(?:ly)?",), "intraosseous", "intraosseously"),
    Route("IA", (r"intra-?arterial(?:ly)?",), "intra-arterial", "intra-arterially"),
    Route("ID", (r"intradermal(?:ly)?",), "intradermal", "intradermally"),
    Route("IVT", (r"intravitreal(?:ly)?",), "intravitreal", "intravitreally"),
    Route("TOP", (r"topical(?:ly)?",), "topical", "topically"),
)
# "IV push" / "IV bolus": an injection over seconds, not the infusion a guideline's plain "IV" usually means.
PUSH = "IV push"
BY_CODE: dict[str, Route] = {route.code: route for route in ROUTES}


def alternation(route: Route | None = None) -> str:
    """The spellings of one route (or of every route) as one regex alternation."""
    routes = ROUTES if route is None else (route,)
    return "|".join(spelling for r in routes for spelling in r.spellings)


@cache
def _whole(code: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{alternation(BY_CODE[code])})", re.IGNORECASE)


def route_code(word: str) -> str | None:
    """The route a written route word stands for ("i.v." -> "IV", "per os" -> "PO"), or None."""
    text = word.strip()
    return next((r.code for r in ROUTES if _whole(r.code).fullmatch(text)), None)


def route_in_name(name: str) -> str | None:
    """The route a drug's own name gives ("intravenous immunoglobulin" -> "IV"), or None ("oral" is tried last)."""
    lowered = name.lower()
    order = [route.code for route in ROUTES if route.code != "PO"] + ["PO"]
    return next((code for code in order if BY_CODE[code].adjective in lowered), None)


def named_alternation() -> str:
    """Every spelling, one named group per route: ``match.lastgroup`` is the route's code."""
    return "|".join(f"(?P<{r.code}>{alternation(r)})" for r in ROUTES)


def adverb(code: str) -> str:
    """ "IV" -> "intravenously" (the code itself when unknown)."""
    if code == PUSH:
        return "as an IV push (bolus)"
    return BY_CODE[code].adverb if code in BY_CODE else code


def routes_written(text: str) -> set[str]:
    """Every route a text writes anywhere ("... by intramuscular injection" -> {"IM"}); drug names are not routes."""
    return {r.code for r in ROUTES if re.search(rf"(?<![\w.])(?:{alternation(r)})(?![\w])", text, re.IGNORECASE)}


def same_route(asked: str, guideline: str) -> bool:
    """A question's route is the guideline's when equal; "IV" asked is within "IV push" stated, not the reverse."""
    return asked == guideline or (asked == "IV" and guideline == PUSH)


def use(code: str) -> str:
    """ "IV" -> "intravenous use"."""
    return BY_CODE[code].use
