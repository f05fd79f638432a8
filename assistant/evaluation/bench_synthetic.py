"""A synthetic guideline for the benchmark: many statements that read like the real one.

The scale test needs far more statements than the bundled corpus holds. Generating them
from the guideline's own words keeps the tokenizer, BM25 vocabulary and sentence lengths
realistic, and seeding the generator keeps every run comparable.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence


def synthetic_statements(statements: Sequence[str], count: int, seed: int = 0) -> list[str]:
    """``count`` sentences from a word-bigram chain over the guideline's statements (deterministic per seed).

    Every word comes from the guideline; one word in eight is drawn from its whole
    vocabulary instead of the chain, so that sentences differ from the source.
    """
    rng = random.Random(seed)
    sentences = [re.findall(r"\S+", text) for text in statements if text.strip()]
    if not sentences:
        raise ValueError("no statements to learn a vocabulary from")
    following: dict[str, list[str]] = defaultdict(list)
    for words in sentences:
        for current, nxt in zip(words, words[1:], strict=False):
            following[current].append(nxt)
    starts = [words[0] for words in sentences]
    vocabulary = sorted({word for words in sentences for word in words})
    out: list[str] = []
    for _ in range(count):
        words = [rng.choice(starts)]
        length = rng.randint(10, 36)
        while len(words) < length:
            options = following.get(words[-1])
            words.append(rng.choice(vocabulary) if not options or rng.random() < 0.125 else rng.choice(options))
        text = " ".join(words).rstrip(".,;:")
        out.append(text[:1].upper() + text[1:] + ".")
    return out


def synthetic_guideline(statements: Sequence[str], per_section: int = 40) -> str:
    """The statements as a guideline file: a title, then a heading every ``per_section`` paragraphs."""
    lines = ["Synthetic Guideline For Benchmarks"]
    for index, statement in enumerate(statements):
        if index % per_section == 0:
            lines.append(f"Section {index // per_section + 1} Recommendations")
        lines.append(statement)
    return "\n".join(lines) + "\n"
