"""Text repairs for PDF extraction: broken characters, and lines joined back into paragraphs.

Glyph-level damage is repaired word by word (ligatures, glyphs with no Unicode
mapping, private-use symbols) and mojibake is fixed with ftfy; lines of one
paragraph are joined with a space, or with nothing where a line-end hyphen
broke a word. Every repair is counted in :class:`Stats`, which becomes the
``repairs`` notes of the extracted text.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import ftfy
from wordfreq import zipf_frequency

_LIGATURES = re.compile("[\ufb00-\ufb06]")
_CID = re.compile(r"\(cid:\d+\)")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_FTFY_CONFIG = ftfy.TextFixerConfig(unescape_html=False, uncurl_quotes=False, explain=True)
_NO_SPACE_AFTER = "-‐–—/"


# --------------------------------------------------------------------------- repair counts


@dataclass
class Stats:
    """What was repaired, counted over the whole file, for ``ExtractedText.repairs``."""

    counts: Counter[str] = field(default_factory=Counter)
    ftfy_steps: Counter[str] = field(default_factory=Counter)


# --------------------------------------------------------------------------- character repairs


def repair_word(text: str, stats: Stats) -> str:
    """Ligatures to letters; an unmapped glyph inside a word becomes U+FFFD, so "27(cid:1)5" never reads "275"."""
    if _LIGATURES.search(text):
        stats.counts["ligatures"] += len(_LIGATURES.findall(text))
        text = _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    if _CID.search(text):
        if _CID.fullmatch(text):
            return "\u2022"  # a lone unmapped glyph is a symbol: kept as a bullet at a line start, else dropped
        stats.counts["cid"] += len(_CID.findall(text))
        text = _CID.sub("\ufffd", text)
    if _PRIVATE_USE.search(text):
        if _PRIVATE_USE.fullmatch(text):
            return "\u2022"
        stats.counts["private"] += len(_PRIVATE_USE.findall(text))
        text = _PRIVATE_USE.sub("", text)
    return text


def fix_text(text: str, stats: Stats) -> str:
    """Mojibake and stray control characters, via ftfy; plain ASCII needs no check."""
    if text.isascii() and text.isprintable():
        return text
    fixed = ftfy.fix_and_explain(text, _FTFY_CONFIG)
    for _action, step in fixed.explanation or []:
        stats.ftfy_steps[step] += 1
    return fixed.text


_COUNT_NOTES = (
    ("cid", "{n} glyphs inside words had no Unicode mapping and are shown as \ufffd."),
    ("private", "Removed {n} private-use symbol characters from words."),
    ("rotated", "Dropped {n} characters of rotated or mirrored text (margin strips, watermarks)."),
    ("running", "Dropped {n} running header, footer and page-number lines."),
    ("dehyphenated", "Joined {n} words broken by a line-end hyphen."),
    ("margin", "Moved {n} margin notes (grades, evidence levels) to the end of their paragraph."),
)


def repair_notes(stats: Stats, blank_pages: list[int]) -> list[str]:
    notes = []
    counts = stats.counts
    if counts["ligatures"]:
        notes.append(f"Normalised {counts['ligatures']} ligature characters (ﬁ, ﬂ, ...) to plain letters.")
    if stats.ftfy_steps:
        steps = ", ".join(f"{step} ×{n}" for step, n in sorted(stats.ftfy_steps.items()))
        notes.append(f"Fixed text encoding with ftfy ({steps}).")
    for key, template in _COUNT_NOTES:
        if counts[key]:
            notes.append(template.format(n=counts[key]))
    if blank_pages:
        notes.append(f"Pages {_ranges(blank_pages)} have no text layer (blank or scanned) and contribute no text.")
    return notes


def _ranges(numbers: list[int]) -> str:
    parts = []
    for _key, group in itertools.groupby(enumerate(numbers), lambda pair: pair[1] - pair[0]):
        run = [n for _i, n in group]
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- joining lines


@lru_cache(maxsize=4096)
def _zipf(word: str) -> float:
    return float(zipf_frequency(word, "en"))


def should_dehyphenate(head: str, tail: str) -> bool:
    """True when "head-" + "tail" is one word broken at a line end, False when the hyphen is real.

    A common joined word wins ("haemo-globin", "treat-ment"); when the joined
    form is unknown and the tail is itself a common word the hyphen is real
    ("corticosteroid-refractory"); otherwise the more frequent spelling wins,
    so rare drug names ("benzylpeni-cillin") are joined.
    """
    joined = _zipf((head + tail).lower())
    if joined >= 3.0:
        return True
    if joined == 0 and _zipf(tail.lower()) >= 3.0:
        return False
    return joined >= _zipf(f"{head}-{tail}".lower())


def join_pair(before: str, after: str, stats: Stats | None) -> str:
    """Join two lines of one paragraph: a space, or nothing after a line-end hyphen, dash or slash."""
    if not before:
        return after
    if not after:
        return before
    last = before.split(" ")[-1]
    if before.endswith("\u00ad"):
        return before[:-1] + after
    if before[-1] in "-‐" and len(last) > 1 and last[-2].isalpha():
        head = re.search(r"[^\W\d_]+$", last[:-1])
        tail = re.match(r"[^\W\d_]+", after)
        if head and tail and after[0].islower() and should_dehyphenate(head.group(), tail.group()):
            if stats is not None:
                stats.counts["dehyphenated"] += 1
            return before[:-1] + after
        return before + after
    if before[-1] in _NO_SPACE_AFTER and len(last) > 1:
        return before + after
    return before + " " + after


def join_lines(lines: list[str], stats: Stats | None) -> str:
    text = ""
    for line in lines:
        text = join_pair(text, line, stats)
    return text
