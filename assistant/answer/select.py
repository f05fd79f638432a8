"""Selection: does the library address the question, and which retrieved statements answer it."""

from __future__ import annotations

from collections.abc import Callable

from assistant.answer.schema import Quote, Reference
from assistant.retrieval.dose_lookup import dosed_drugs
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.settings import Settings
from assistant.vocabulary.drugs import find_drugs, same_drug
from assistant.vocabulary.intent import wanted_kind
from assistant.vocabulary.lexicon import medical_lexicon
from assistant.vocabulary.normalizer import words
from assistant.vocabulary.units import AMOUNT


def required_similarity(analysis: Query | None, settings: Settings) -> float:
    """How similar the best statement must be before the corpus is taken to address the question.

    A question naming something the corpus never mentions (another disease, another
    drug) needs the strict bar; one sharing no specific term with the corpus (only
    common words) needs the general bar; a question in the guideline's own terms
    needs only the base bar. The three values are calibrated on the gold set.
    """
    if analysis is None:
        return settings.general_threshold
    if analysis.unknown_terms:
        return settings.strict_threshold
    if analysis.unfamiliar_terms and len(analysis.unfamiliar_terms) >= len(analysis.domain_terms):
        return settings.strict_threshold
    if not analysis.domain_terms:
        return settings.general_threshold
    return settings.abstain_threshold


def select_statements(query: Query, hits: list[Hit], settings: Settings) -> tuple[bool, list[Hit]]:
    """Decide whether the corpus addresses the question, and which statements answer it.

    The dense cosine is the one absolute signal (fused scores are only ranks), so
    it decides abstention; statements close to the best one are quoted too, up to
    ``max_quotes``. A statement whose guideline uses at most ``min_coverage`` of the
    question's specific terms must reach ``uncovered_threshold``: otherwise it is a
    quote from the wrong guideline. For a dose question, statements that state an
    amount go first.
    """
    if not hits:
        return True, []
    required = required_similarity(query, settings)
    hits = [hit for hit in hits if hit.coverage > settings.min_coverage or hit.dense >= settings.uncovered_threshold]
    if not hits or max(hit.dense for hit in hits) < required:
        return True, []
    if all(hit.learned is not None for hit in hits):
        keep = _learned_choice(hits, required, settings.rank_margin)
        relevance = {hit.chunk.id: float(hit.learned or 0.0) for hit in hits}
    else:  # no usable ranker: statements close to the best by similarity
        relevance = _relevance(hits, settings.lexical_weight)
        best = max(relevance.values())
        keep = [hit for hit in hits if relevance[hit.chunk.id] >= best - settings.select_margin and hit.dense >= required]
    keep = _about_the_drugs_asked(query, keep)
    keep = _with_a_dose_statement(query, hits, keep, required)
    keep = _with_the_quantity_asked(query, hits, keep, required)
    dose_first = query.dose_intent
    kind = wanted_kind(query.text)
    keep.sort(
        key=lambda hit: (
            dose_first and not AMOUNT.search(hit.chunk.text),
            kind is not None and not kind.stated.search(hit.chunk.text),
            -relevance.get(hit.chunk.id, hit.dense),
        )
    )
    keep = _without_other_conditions(query, keep)
    return False, _drop_redundant_lead_ins(keep[: settings.max_quotes])


def _learned_choice(hits: list[Hit], required: float, margin: float) -> list[Hit]:
    """The statements the learned ranker puts within ``margin`` of its best, best first.

    The ranker's scores order statements within one question; the cosine bar still decides
    whether a statement is close enough to the question to be quoted at all.
    """
    eligible = [hit for hit in hits if hit.dense >= required]
    if not eligible:
        return []
    best = max(float(hit.learned or 0.0) for hit in eligible)
    chosen = [hit for hit in eligible if float(hit.learned or 0.0) >= best - margin]
    return sorted(chosen, key=lambda hit: -float(hit.learned or 0.0))


def _relevance(hits: list[Hit], lexical_weight: float) -> dict[str, float]:
    """Cosine plus a share of the BM25 score relative to the best one.

    The lexical part lets an exact rare term (a drug name in a long list) count
    even when the embedding of a long statement is diluted by its other words.
    """
    top_bm25 = max((hit.bm25 for hit in hits), default=0.0) or 1.0
    return {
        hit.chunk.id: hit.dense + lexical_weight * hit.bm25 / top_bm25 - _fragment_penalty(hit) for hit in hits
    }


# A label rather than a statement ("Levonorgestrel (LNG)", "Skin scrapings", "(Grade D)"): close to a
# question in wording, but it answers nothing on its own.
FRAGMENT_WORDS = 4
FRAGMENT_PENALTY = 0.08


def _fragment_penalty(hit: Hit) -> float:
    text = hit.chunk.text
    if len(words(text)) > FRAGMENT_WORDS or any(ch.isdigit() for ch in text) or hit.chunk.kind == "table_row":
        return 0.0
    return FRAGMENT_PENALTY


def _about_the_drugs_asked(query: Query, hits: list[Hit]) -> list[Hit]:
    """When the question names drugs, quote the statements that mention them.

    Without this, a question about IVIG dosing also quotes the rituximab dose
    because both sit in the same section; a clinician skimming the quotes
    could read the wrong number. Falls back to all hits when none mentions them.
    """
    asked = list(query.drugs)
    if not asked:
        return hits
    about = [
        hit
        for hit in hits
        if any(same_drug(key, m.key) for key in asked for m in find_drugs(f"{hit.chunk.context or ''} {hit.chunk.text}"))
    ]
    return about or hits


# How far below the best cosine a dose statement for the asked drug may be and still be quoted
# when nothing kept states that drug's dose: the number is what a dose question is asking for.
DOSE_RESCUE_MARGIN = 0.25


def _states_dose_of(query: Query, hit: Hit) -> bool:
    return any(same_drug(key, found) for key in query.drugs for found in dosed_drugs(hit.chunk))


def _with_a_dose_statement(query: Query, hits: list[Hit], keep: list[Hit], required: float) -> list[Hit]:
    """For a dose question about a named drug, make sure a statement giving that drug's dose is quoted.

    Without it, "What phenytoin loading dose ...?" quoted "Rates of phenytoin infusion may need to be
    reduced ..." (closest in wording) and left out "phenytoin 18 mg/kg IV 50 mg/min", and the
    guardrail then said no dose was given.
    """
    if not (query.dose_intent and query.drugs):
        return keep
    return _with_one_that(lambda hit: _states_dose_of(query, hit), hits, keep, required)


def _with_one_that(
    answers: Callable[[Hit], bool], hits: list[Hit], keep: list[Hit], required: float, same_guidelines: bool = False
) -> list[Hit]:
    """``keep``, with the closest retrieved statement that ``answers`` put first when none kept does.

    It must be within ``DOSE_RESCUE_MARGIN`` of the best kept cosine and clear the bar
    (and, with ``same_guidelines``, come from a guideline already quoted).
    """
    if not keep or any(answers(hit) for hit in keep):
        return keep
    sources = {hit.chunk.source for hit in keep}
    floor = max(required, max(hit.dense for hit in keep) - DOSE_RESCUE_MARGIN)
    candidates = [
        hit
        for hit in hits
        if hit.dense >= floor and (not same_guidelines or hit.chunk.source in sources) and answers(hit)
    ]
    return [max(candidates, key=lambda hit: hit.dense), *keep] if candidates else keep


def _without_other_conditions(query: Query, keep: list[Hit]) -> list[Hit]:
    """Supporting statements about another condition are not support.

    "The recommendation against IVIG for inhibitor eradication comes from acquired
    hemophilia A guideline" shares "IVIG" with a question about warm AIHA, but it is
    about haemophilia. A statement other than the first (best) one is dropped when it names a
    condition the question does not, and neither it nor its section heading shares any of the
    question's specific terms apart from drug names.
    """
    if len(keep) < 2:
        return keep
    best = keep[0]
    asked = set(words(query.expanded))
    lexicon = medical_lexicon()
    drug_words = {token for mention in find_drugs(query.expanded) for token in words(mention.surface)}
    specific = set(query.domain_terms) - drug_words
    result = []
    for hit in keep:
        tokens = set(words(f"{hit.chunk.context or ''} {hit.chunk.text}"))
        other = {token for token in tokens - asked if token in lexicon.conditions}
        if hit is best or not other:
            result.append(hit)
        elif specific:
            if (tokens | set(words(hit.chunk.section or ""))) & specific:
                result.append(hit)
        # "amoxicillin dose?" names no condition: a dose for any indication answers it, but a
        # statement about another condition that gives no amount does not.
        elif not query.dose_intent or AMOUNT.search(hit.chunk.text):
            result.append(hit)
    return result


def _with_the_quantity_asked(query: Query, hits: list[Hit], keep: list[Hit], required: float) -> list[Hit]:
    """When the question asks for a duration, volume, percentage or age, quote a statement that states one."""
    kind = wanted_kind(query.text)
    if kind is None:
        return keep
    stated = kind.stated
    return _with_one_that(lambda hit: bool(stated.search(hit.chunk.text)), hits, keep, required, same_guidelines=True)


def _drop_redundant_lead_ins(selected: list[Hit]) -> list[Hit]:
    """A lead-in quoted on its own says nothing ("... is limited to:"); with a bullet, the bullet shows it.

    Lead-ins appear only as the context line of their bullets.
    """
    if len(selected) == 1:
        return selected
    contexts = {hit.chunk.context for hit in selected if hit.chunk.context}
    kept = [hit for hit in selected if hit.chunk.text not in contexts and not hit.chunk.text.rstrip().endswith(":")]
    return kept or selected[:1]


def quote_from_hit(hit: Hit) -> Quote:
    chunk = hit.chunk
    return Quote(
        text=chunk.text,
        citations=list(chunk.citations),
        source=chunk.source,
        title=chunk.title or None,
        section=chunk.section,
        context=chunk.context,
        start=chunk.start,
        end=chunk.end,
        score=round(hit.dense, 4),
        chunk_id=chunk.id,
        page=chunk.page,
        page_label=chunk.page_label,
        offsets="canonical" if chunk.offsets == "canonical" else "raw",
        kind=chunk.kind,
        references=[Reference(label=label, text=text) for label, text in chunk.references.items()],
        grade=chunk.grade,
        year=chunk.year,
    )
