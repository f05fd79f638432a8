"""Regimen probes from any built index: every dose statement asked back right, and wrong on purpose.

For each dose a guideline states (a drug named, not a maximum), the generator writes
questions and says, before the guardrail runs, what it must answer:

- ``as_written``: the drug and the dose exactly as the statement writes them -> no mismatch;
- ``canonical`` and ``reworded``: the same regimen in two other wordings (the canonical form;
  then synonyms: "once a day" for "daily", "every 6 hours" for "q6h", "once" for "a single
  dose", mg for g, "per day" for "/day") -> no mismatch;
- ``tenfold``: the amount times ten -> risk ``tenfold``;
- ``total_x2``: the course twice as long (or a single dose given daily for two days) -> risk
  ``overdose_total``; only where the statement's course adds up (a schedule and a length);
- ``frequency``: given less often (q6h -> daily, daily -> weekly, weekly -> monthly) -> ``frequency``;
- ``course``: a counted course cut to one day or dose, a taper or an open course made "for 2 years"
  -> ``course``;
- ``route``: another route than the one the statement gives (written, or named in its text) -> ``route``.

Each probe is checked by the real guardrail with its statement as the quoted text (what the
chain hands the guardrail when it retrieves that statement). The outcome is counts per class;
the statements themselves are read from the index and never written anywhere.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from assistant.answer.schema import LEAD_FOUND, Answer, FlagCode, Quote, Reference, Risk
from assistant.errors import CorpusError
from assistant.guardrails import apply_guardrail
from assistant.guardrails.checks import QuotedDose
from assistant.guardrails.compare import implied_route
from assistant.guardrails.dose_value import format_number
from assistant.guardrails.doses import Dose, format_dose, parse_doses
from assistant.guardrails.regimen import interval_days, once, regimen_of
from assistant.vocabulary.schedules import course_words

# The flags that say a question's dose is not the guideline's.
MISMATCH_CODES = frozenset(
    {FlagCode.DOSE_MISMATCH, FlagCode.DOSE_UNIT_MISMATCH, FlagCode.DOSE_FREQUENCY_MISMATCH, FlagCode.DOSE_NOT_IN_SOURCE}
)
CLASSES = ("as_written", "canonical", "reworded", "tenfold", "total_x2", "frequency", "course", "route")
_SYNONYMS = {
    "daily": "once a day",
    "twice daily": "twice a day",
    "three times daily": "3 times a day",
    "four times daily": "4 times a day",
    "weekly": "once a week",
    "once": "as a single dose",
    "monthly": "once a month",
}
_LESS_OFTEN = ((1.0, "daily"), (7.0, "weekly"), (30.0, "monthly"))
_OTHER_ROUTE = {"IV": "orally", "PO": "IV", "IM": "IV", "SC": "IV", "IT": "IV", "INH": "IV", "IV push": "orally"}


@dataclass(frozen=True)
class Probe:
    """One question about one statement, and the risk the guardrail must give (None: no mismatch at all)."""

    kind: str
    question: str
    quote: Quote
    expected: Risk | None


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    risks: tuple[Risk | None, ...]

    @property
    def ok(self) -> bool:
        if self.probe.expected is None:
            return not self.risks
        return bool(self.risks) and self.risks[0] is self.probe.expected


def read_statements(index_dir: Path) -> list[Quote]:
    """Every statement of a built index as a Quote (read from its ``chunks.jsonl``, JSON only)."""
    path = Path(index_dir) / "chunks.jsonl"
    if not path.is_file():
        raise CorpusError(
            f"{index_dir}: no chunks.jsonl; build the index first with `guideline-assistant index build`."
        )
    quotes: list[Quote] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            quotes.append(
                Quote(
                    text=row["text"],
                    citations=list(row.get("citations") or []),
                    source=row["source"],
                    title=row.get("title") or None,
                    section=row.get("section"),
                    context=row.get("context"),
                    start=row["start"],
                    end=row["end"],
                    chunk_id=row["id"],
                    page=row.get("page"),
                    page_label=row.get("page_label"),
                    offsets="canonical" if row.get("offsets") == "canonical" else "raw",
                    kind=row.get("kind") or "sentence",
                    references=[Reference(label=k, text=v) for k, v in (row.get("references") or {}).items()],
                )
            )
    return quotes


def dose_statements(quotes: Iterable[Quote]) -> list[tuple[Quote, Dose]]:
    """The doses that can be asked back: a drug named, not a maximum, one per statement and meaning."""
    found: list[tuple[Quote, Dose]] = []
    for quote in quotes:
        seen: set[tuple[object, ...]] = set()
        for dose in parse_doses(quote.text, context=quote.context):
            if dose.drug is None or dose.ceiling or dose.risks or dose.semantics() in seen:
                continue
            seen.add(dose.semantics())
            found.append((quote, dose))
    return found


def busiest_sources(pairs: list[tuple[Quote, Dose]], count: int, skip: Iterable[str] = ()) -> list[str]:
    """The ``count`` guidelines with the most dose statements (ties by name), to probe a library by."""
    tally = Counter(quote.source for quote, _ in pairs if quote.source not in set(skip))
    return [source for source, _ in sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:count]]


def probes_for(quote: Quote, dose: Dose) -> Iterator[Probe]:
    """The probes of one quoted dose (see the module docstring for each class).

    A wrong regimen is asked only of a dose that is its drug's one dose in the statement: where a
    statement gives the drug two doses, a question may rightly match the other one.
    """
    yield Probe("as_written", f"{dose.drug} {dose.text}", quote, None)
    yield Probe("canonical", format_dose(dose), quote, None)
    yield Probe("reworded", _reworded(dose), quote, None)
    same_drug = [d for d in parse_doses(quote.text, context=quote.context) if d.drug_key == dose.drug_key]
    if len(same_drug) != 1:
        return
    yield Probe("tenfold", format_dose(_times(dose, Decimal(10))), quote, Risk.TENFOLD)
    if (doubled := _double_course(dose)) is not None:
        yield Probe("total_x2", format_dose(doubled), quote, Risk.OVERDOSE_TOTAL)
    if (rarer := _less_often(dose)) is not None:
        yield Probe("frequency", format_dose(rarer), quote, Risk.FREQUENCY)
    if (cut := _other_course(dose)) is not None:
        yield Probe("course", format_dose(cut), quote, Risk.COURSE)
    route = implied_route(QuotedDose(dose, quote))
    if route is not None and route in _OTHER_ROUTE:
        yield Probe("route", f"{format_dose(replace(dose, route=None))} {_OTHER_ROUTE[route]}", quote, Risk.ROUTE)


def _reworded(dose: Dose) -> str:
    """The same regimen in other words: mg for g, "per day" for "/day", schedule and course synonyms."""
    low, high, unit = dose.low, dose.high, dose.unit
    if unit == "g":
        low, high, unit = low * 1000, high * 1000 if high is not None else None, "mg"
    amount = format_number(low) + (f" to {format_number(high)}" if high is not None else "")
    unit_text = ("units" if unit == "unit" else unit) + (f"/{dose.basis}" if dose.basis else "")
    parts = [dose.drug or "", amount, unit_text]
    if dose.per:
        parts.append({"day": "per day", "week": "per week", "hour": "per hour"}.get(dose.per, f"per {dose.per}"))
    if dose.route:
        parts.append(dose.route)
    if dose.schedule:
        parts.append(_synonym(dose.schedule))
    course = list(dose.course)
    if "single dose" in course and not dose.schedule:
        course.remove("single dose")
        parts.append("once")
    parts += [course_words(phrase) for phrase in course]
    return " ".join(part for part in parts if part)


def _synonym(schedule: str) -> str:
    if schedule.startswith("q") and schedule.endswith("h") and schedule[1:-1].isdigit():
        hours = schedule[1:-1]
        return f"every {hours} hours" if hours != "1" else "every hour"
    return _SYNONYMS.get(schedule, schedule)


def _times(dose: Dose, factor: Decimal) -> Dose:
    return replace(dose, low=dose.low * factor, high=dose.high * factor if dose.high is not None else None)


def _countable(dose: Dose) -> bool:
    """A course that adds up: a schedule (or a per-day amount) and a counted length, no taper, no open end."""
    regimen = regimen_of(dose)
    if regimen.tapered or regimen.indefinite or regimen.continuous or regimen.repeats or "as needed" in dose.course:
        return False
    return interval_days(dose) is not None and (regimen.doses is not None or regimen.days is not None)


def _double_course(dose: Dose) -> Dose | None:
    if once(dose) and dose.per is None and not regimen_of(dose).repeats:
        # A single dose given daily for two days is twice the guideline's total.
        return replace(dose, schedule="daily", course=("2 days",))
    if not _countable(dose):
        return None
    course = tuple(_scaled(phrase, 2) for phrase in dose.course)
    return replace(dose, course=course) if course != dose.course else None


def _scaled(phrase: str, factor: int) -> str:
    """ "3 days" -> "6 days", "6-12 weeks" -> "12-24 weeks"; any other phrase unchanged."""
    words = phrase.split(" ")
    if len(words) == 2 and words[1].rstrip("s") in ("dose", "day", "week", "month", "infusion"):
        counts = words[0].split("-")
        if all(count.isdigit() for count in counts):
            scaled = "-".join(str(int(count) * factor) for count in counts)
            return f"{scaled} {words[1].rstrip('s')}s"
    return phrase


def _less_often(dose: Dose) -> Dose | None:
    interval = interval_days(dose)
    if interval is None or once(dose) or "as needed" in dose.course or "continuous infusion" in dose.course:
        return None
    rarer = next((schedule for days, schedule in _LESS_OFTEN if days > interval * 1.5), None)
    if rarer is None:
        return None
    return replace(dose, per=None if dose.per in ("day", "week") else dose.per, schedule=rarer)


def _other_course(dose: Dose) -> Dose | None:
    """A course the guideline does not give, never a longer total: cut to one unit, or "for 2 years" if open."""
    regimen = regimen_of(dose)
    if regimen.tapered and not regimen.states_length:
        return replace(dose, course=("2 years",))
    if not _countable(dose):
        return None
    cut = tuple(_first_of(phrase) for phrase in dose.course)
    return replace(dose, course=cut) if cut != dose.course else None


def _first_of(phrase: str) -> str:
    words = phrase.split(" ")
    if (
        len(words) == 2
        and words[1].rstrip("s") in ("dose", "day", "week", "month")
        and words[0].split("-")[0].isdigit()
    ):
        low = int(words[0].split("-")[0])
        return f"1 {words[1].rstrip('s')}" if low > 1 else phrase
    return phrase


def run_probe(probe: Probe) -> Outcome:
    """Ask the guardrail the probe's question with its statement quoted; the risks of the mismatch flags."""
    draft = Answer(question=probe.question, abstained=False, lead=LEAD_FOUND, quotes=[probe.quote])
    checked = apply_guardrail(probe.question, draft)
    risks = tuple(flag.risk for flag in checked.guardrail.flags if flag.code in MISMATCH_CODES)
    return Outcome(probe, risks)


def run_through(ask: Callable[[str], Answer], probe: Probe) -> Outcome:
    """Ask the probe's question through a whole assistant (retrieval chooses the quotes); the mismatch risks.

    Only flags about the question's own doses count, so a note about another statement does not.
    """
    checked = ask(probe.question)
    risks = tuple(flag.risk for flag in checked.guardrail.flags if flag.code in MISMATCH_CODES)
    return Outcome(probe, risks)


def tally(outcomes: Iterable[Outcome]) -> dict[str, tuple[int, int]]:
    """Per class: (probes, probes answered as expected)."""
    counts: dict[str, list[int]] = {kind: [0, 0] for kind in CLASSES}
    for outcome in outcomes:
        counts[outcome.probe.kind][0] += 1
        counts[outcome.probe.kind][1] += outcome.ok
    return {kind: (total, ok) for kind, (total, ok) in counts.items() if total}
