"""Guideline text made inert in Markdown: it reads as written and is never turned into markup.

A guideline file is data from outside (a download, an upload by a colleague). Copied
into Markdown as written, its text could become a link (``[x](javascript:…)``), a
remote tracking image (``![](https://…)``), raw HTML (``<img onerror=…>``,
``<script>``), a Streamlit icon (``:material/…:``), math (``$$…$$``), an entity that
draws another digit (``&#49;0 mg`` shows "10 mg") or emphasis that hides characters.
:func:`inert` backslash-escapes exactly the characters that would start such markup
(CommonMark allows a backslash before any ASCII punctuation), and only where they
would: a citation like ``[1]``, ``p < 0.05`` or ``80 mg/kg/day`` is left as written, so
the exported file stays readable and the doses in it read as in the guideline.
The raw statement is always kept, unescaped, in ``quotes[].text``.

Not covered: a bare ``https://…`` or ``www.…`` stays plain text here; some renderers (GitHub)
draw it as a link to the address it shows, which the reader sees. An emoji shortcode (``:warning:``)
is replaced by some renderers after parsing, where no escape reaches.
"""

from __future__ import annotations

import re

# Always escaped: a backslash (else it would escape our escapes), emphasis, code, strikethrough, math.
# An underscore inside a word ("dose_not_in_source") never starts emphasis, so only the others are.
_ALWAYS = re.compile(r"([\\*`~$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# Contextual: "](" "][" "]:" (inline link or image, reference link, link definition); "<" opening a tag,
# a comment or an autolink; "&" opening an entity; the "/" of an icon code such as ":material/…:"
# (Streamlit rewrites the literal ":material/" before it parses escapes, so only splitting it works).
_CONTEXTUAL = re.compile(r"\](?=[(\[:])|<(?=[A-Za-z/!?])|&(?=#?\w+;)|(?P<icon>:[A-Za-z][\w-]{0,40})/")
# Text that starts a line as a block quote, a heading, a list item, a thematic break or a setext underline
# ("2.5 mg" or "-5 °C" start nothing and are left alone).
_BLOCK_START = re.compile(r"^(?:>|#{1,6}(?=\s|$)|[-+](?=\s|$)|-{2,}|=+\s*$|\d{1,9}(?=[.)](?:\s|$)))")


def inert(text: str | None) -> str:
    """``text`` escaped for Markdown so that it renders as the same characters, never as markup."""
    if not text:
        return ""
    escaped = _ALWAYS.sub(r"\\\1", text)
    escaped = _CONTEXTUAL.sub(_escape_contextual, escaped)
    return _BLOCK_START.sub(_escape_block_start, escaped, count=1)


def _escape_block_start(match: re.Match[str]) -> str:
    """``# x`` -> ``\\# x``; ``1. x`` -> ``1\\. x`` (the escape goes before the list marker's dot)."""
    marker = match.group(0)
    return marker + "\\" if marker[0].isdigit() else "\\" + marker


def _escape_contextual(match: re.Match[str]) -> str:
    """A backslash before the character that would start markup (after the icon name for ``:name/``)."""
    icon = match.group("icon")
    return f"{icon}\\/" if icon else "\\" + match.group(0)


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def uninert(markdown: str) -> str:
    """The characters as written: every backslash escape removed (``uninert(inert(t)) == t``).

    For reading our own Markdown back as text, e.g. the evaluation's search for doses in an answer.
    """
    return _ESCAPED.sub(r"\1", markdown)
