"""Text cleaning before dose parsing: what a reader sees, not what the bytes spell.

A dose can be hidden from a pattern without changing what a clinician reads:
a zero-width space inside "1​0 g/kg", a right-to-left override that displays
"gk/g 01" as "10 g/kg", "1O" (letter O) or "l0" (letter l) for 10, "ten grams",
"1e1 g/kg". Each would parse as no dose, or the wrong one, and so escape every
check. ``clean`` rewrites such text into the form the grammar reads and keeps,
for every character of the cleaned text, the span of the original it came from,
so a dose found in the cleaned text still points at the caller's own characters
(``text[dose.start:dose.end] == dose.text``). Every rewrite of an amount is kept
as a *risk* so that the guardrail flags it instead of silently accepting it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from assistant.vocabulary.units import UNIT_AHEAD

# Zero-width and other invisible format characters (soft hyphen, word joiner, BOM, ...).
_INVISIBLE = "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
# Bidirectional embeddings, overrides and isolates: they change display order, not content.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_HIDDEN = re.compile(f"[{_INVISIBLE}{_BIDI}]")
# A right-to-left override shows its characters in reverse: the visual reading is the reversed run.
_RLO_RUN = re.compile("\u202e([^\u202c\u2069\n]*)[\u202c\u2069]?")

_DOSE_UNIT_AHEAD = UNIT_AHEAD
_COURSE_UNIT_AHEAD = (
    r"(?=\s+(?:consecutive\s+)?(?:days?|weeks?|months?|years?|yrs?|doses?|hours?|minutes?|cycles?|infusions?"
    r"|times(?!\s+(?:daily|a\s|per\s|weekly))))"
)

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORD = "|".join(sorted([*_ONES, *_SCALES], key=len, reverse=True))
_WORDS = rf"(?<![A-Za-z])(?:{_NUMBER_WORD})(?:(?:[\s-]+(?:and[\s-]+)?)(?:{_NUMBER_WORD}))*(?![A-Za-z])"
_WORDS_BEFORE_UNIT = re.compile(_WORDS + _DOSE_UNIT_AHEAD, re.IGNORECASE)
_WORDS_BEFORE_COURSE = re.compile(_WORDS + _COURSE_UNIT_AHEAD, re.IGNORECASE)
# A number token that mixes digits with the look-alike letters O/o (zero) and l/I (one).
_LOOKALIKE = re.compile(
    r"(?<![A-Za-z0-9.,])(?=[0-9.,]*[OolI])(?=[OolI.,]*[0-9])[0-9OolI][0-9OolI.,]*" + _DOSE_UNIT_AHEAD
)
_VULGAR = {
    "½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5", "⅗": "3/5", "⅘": "4/5",
    "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8", "⅞": "7/8",
}  # fmt: skip
# "1½ g/kg", "¾ g/kg", "1 1/2 g", "3/4 g/kg": a fraction before a dose unit is an amount.
_FRACTION = re.compile(
    rf"(?<![\w.,/\u2044])(?:(\d+)(?:\s+|-)?(?=[{''.join(_VULGAR)}]|\d+\s*[/\u2044]\s*\d))?"
    rf"(?:([{''.join(_VULGAR)}])|(\d+)\s*[/\u2044]\s*(\d+))" + _DOSE_UNIT_AHEAD
)
_SCIENTIFIC = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})(?![\w])" + _DOSE_UNIT_AHEAD)


@dataclass(frozen=True)
class Cleaned:
    """Cleaned text, where each of its characters came from, and the amount rewrites made."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    risks: tuple[tuple[int, int, str], ...] = ()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span a cleaned span came from (reversed runs included)."""
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return at, at
        return min(self.starts[start:end]), max(self.ends[start:end])

    def risks_in(self, start: int, end: int) -> tuple[str, ...]:
        """The rewrite notes for edits that overlap an original span (a reversed run wraps the dose it hides)."""
        return tuple(dict.fromkeys(risk for s, e, risk in self.risks if s < end and start < e))


def hidden_characters(text: str) -> int:
    """How many invisible or bidirectional control characters a text holds."""
    return len(_HIDDEN.findall(text)) if isinstance(text, str) else 0


def clean(text: str, displayed: bool = True) -> Cleaned:
    """``text`` as the dose grammar should read it, with the map back to ``text``.

    ``displayed=False`` reads a right-to-left override run as stored (the override dropped) instead of as
    displayed: the parser reads both, so an override before a number cannot hide the amount it holds.
    """
    identity = Cleaned(text, tuple(range(len(text))), tuple(range(1, len(text) + 1)))
    if text.isascii() and not re.search(r"[A-Za-z/]", text):
        return identity
    cleaned = identity
    first = (_reverse_overrides,) if displayed else ()
    for rewrite in (*first, _drop_hidden, _number_words, _lookalikes, _scientific, _fractions):
        cleaned = rewrite(cleaned)
    return cleaned


# A replacement: new text, a risk (or None), and optionally the index in the current text each new character
# came from (for removals and reversals); without it every new character maps to the whole match.
_Replace = Callable[[re.Match[str]], tuple[str, str | None, list[int] | None]]


def _rewrite(cleaned: Cleaned, pattern: re.Pattern[str], replace: _Replace) -> Cleaned:
    """Apply one rewrite, composing its character map with the map so far."""
    text, starts, ends = cleaned.text, cleaned.starts, cleaned.ends
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    risks = list(cleaned.risks)
    position = 0
    matched = False
    for match in pattern.finditer(text):
        matched = True
        out.append(text[position : match.start()])
        new_starts.extend(starts[position : match.start()])
        new_ends.extend(ends[position : match.start()])
        replacement, risk, origin = replace(match)
        lo, hi = cleaned.span(match.start(), match.end())
        out.append(replacement)
        for index in range(len(replacement)):
            if origin is not None:
                new_starts.append(starts[origin[index]])
                new_ends.append(ends[origin[index]])
            else:
                new_starts.append(lo)
                new_ends.append(hi)
        if risk is not None:
            risks.append((lo, hi, risk))
        position = match.end()
    if not matched:
        return cleaned
    out.append(text[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return Cleaned("".join(out), tuple(new_starts), tuple(new_ends), tuple(risks))


def _reverse_overrides(cleaned: Cleaned) -> Cleaned:
    def replace(match: re.Match[str]) -> tuple[str, str | None, list[int] | None]:
        inner = list(range(match.start(1), match.end(1)))[::-1]
        risk = "a right-to-left override character (it makes the text display in reverse; read as displayed)"
        return "".join(cleaned.text[i] for i in inner), risk, inner

    return _rewrite(cleaned, _RLO_RUN, replace)


def _drop_hidden(cleaned: Cleaned) -> Cleaned:
    def replace(match: re.Match[str]) -> tuple[str, str | None, list[int] | None]:
        name = "a bidirectional control" if match.group(0) in _BIDI else "an invisible (zero-width)"
        return "", f"{name} character inside the dose (removed before reading it)", []

    return _rewrite(cleaned, _HIDDEN, replace)


def words_to_number(words: str) -> int | None:
    """ "two hundred fifty" -> 250; None for anything that is not a whole number in words."""
    total, current = 0, 0
    for word in re.split(r"[\s-]+", words.lower()):
        if word == "and":
            continue
        if word in _ONES:
            current += _ONES[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word == "thousand":
            total, current = (total + (current or 1)) * 1000, 0
        else:
            return None
    return total + current


def _number_words(cleaned: Cleaned) -> Cleaned:
    def amount(match: re.Match[str]) -> tuple[str, str | None, list[int] | None]:
        value = words_to_number(match.group(0))
        if value is None or value == 0:
            return match.group(0), None, None
        return str(value), f"amount written in words (“{match.group(0)}”, read as {value})", None

    def count(match: re.Match[str]) -> tuple[str, str | None, list[int] | None]:
        value = words_to_number(match.group(0))
        return (match.group(0), None, None) if value is None else (str(value), None, None)

    return _rewrite(_rewrite(cleaned, _WORDS_BEFORE_UNIT, amount), _WORDS_BEFORE_COURSE, count)


def _lookalikes(cleaned: Cleaned) -> Cleaned:
    def replace(match: re.Match[str]) -> tuple[str, str | None, list[int] | None]:
        raw = match.group(0)
        fixed = raw.translate(str.maketrans("OolI", "0011"))
        origin = list(range(match.start(), match.end()))
        return fixed, f"look-alike letter in the number “{raw}” (letter O/l/I for 0/1; read as {fixed})", origin

    return _rewrite(cleaned, _LOOKALIKE, replace)


def _fractions(cleaned: Cleaned) -> Cleaned:
    def replace(match: re.Match[str]) -> tuple[str, str | None, list[int] | None]:
        whole = Decimal(match.group(1) or 0)
        top, bottom = _VULGAR[match.group(2)].split("/") if match.group(2) else (match.group(3), match.group(4))
        if Decimal(bottom) == 0:
            return match.group(0), None, None
        value = (whole + Decimal(top) / Decimal(bottom)).quantize(Decimal("0.001")).normalize()
        plain = format(value, "f")
        return plain, f"fraction “{match.group(0).strip()}” (read as {plain})", None

    return _rewrite(cleaned, _FRACTION, replace)


def _scientific(cleaned: Cleaned) -> Cleaned:
    def replace(match: re.Match[str]) -> tuple[str, str | None, list[int] | None]:
        try:
            value = Decimal(match.group(0))
        except InvalidOperation:
            return match.group(0), None, None
        if not value.is_finite() or not Decimal("1e-9") <= value <= Decimal("1e9"):
            return match.group(0), None, None
        plain = format(value.normalize(), "f")
        return plain, f"scientific notation “{match.group(0)}” (read as {plain})", None

    return _rewrite(cleaned, _SCIENTIFIC, replace)
