"""The gold question set: one validated ``GoldItem`` per line of ``evals/gold.jsonl``.

The gold file is user-edited data, so it is parsed strictly (``extra="forbid"``):
a misspelt key fails with the file name and line number instead of silently
weakening the evaluation. Tags are the user's own vocabulary (a library's gold set
may tag ``terse`` or ``cross-doc``), so any well-formed tag is accepted and the
report breaks down by whatever tags appear.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# The tags the bundled gold set uses, kept as documentation of its vocabulary (the README
# and tests/test_gold.py refer to it). Other gold files may use any tag matching TAG_PATTERN.
KNOWN_TAGS: frozenset[str] = frozenset(
    {
        "dose",
        "not-specified",
        "wrong-dose",
        "calculation",
        "paraphrase",
        "lay",
        "abbreviation",
        "typo",
        "british",
        "injection",
        "unanswerable",
        "treatment-choice",
        "evidence",
        "supportive",
        "second-line",
        "refractory",
        "emerging",
        "pitfall",
        # Library gold sets: questions whose evidence spans documents, sits in a table, or comes from a PDF.
        "cross-doc",
        "table",
        "pdf",
    }
)

# Lower-case letters, digits and single hyphens between them: "cross-doc", "lay", "pdf2".
# Anything else (spaces, capitals, punctuation) is almost always a typo or a pasted phrase.
TAG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_WHITESPACE = re.compile(r"\s+")


def normalize_fact(text: str) -> str:
    """Normalize text for fact matching: NFKC, lower case, ``×``→``x``, en dash→hyphen, whitespace collapsed."""
    # NFKC first so that e.g. "m²" becomes "m2" on both sides of the comparison.
    normalized = unicodedata.normalize("NFKC", text).lower()
    normalized = normalized.replace("\u00d7", "x").replace("\u2013", "-")
    return _WHITESPACE.sub(" ", normalized).strip()


class GoldItem(BaseModel):
    """One gold question with what a correct answer must contain."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    facts: list[str] = Field(default_factory=list, description="Strings the answer must contain (normalized).")
    citations: list[str] = Field(default_factory=list, description="Citation labels the answer must cite.")
    evidence: list[str] = Field(
        default_factory=list, description="Source substrings; a statement containing one counts as relevant."
    )
    abstain: bool = Field(default=False, description="The corpus does not answer it; the answer must abstain.")
    flag_dose: str | None = Field(default=None, description="A dose stated in the question that must be flagged.")
    forbidden_doses: bool = Field(default=False, description="The answer must state no dose at all.")
    tags: list[str] = Field(default_factory=list)

    @field_validator("id", "question")
    @classmethod
    def _non_empty(cls, value: str, info: object) -> str:
        if not value.strip():
            raise ValueError(f"{getattr(info, 'field_name', 'value')} must not be empty")
        return value

    @field_validator("facts", "citations", "evidence")
    @classmethod
    def _no_blank_entries(cls, value: list[str], info: object) -> list[str]:
        if any(not entry.strip() for entry in value):
            raise ValueError(f"{getattr(info, 'field_name', 'list')} must not contain empty strings")
        return value

    @field_validator("tags")
    @classmethod
    def _well_formed_tags(cls, value: list[str]) -> list[str]:
        malformed = [tag for tag in value if not TAG_PATTERN.fullmatch(tag)]
        if malformed:
            raise ValueError(
                f"malformed tag(s) {malformed}; a tag is lower-case letters, digits and hyphens, e.g. 'cross-doc'"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GoldItem:
        if self.abstain and (self.evidence or self.facts or self.citations):
            raise ValueError("an abstain item must have no evidence, facts or citations")
        if self.flag_dose is not None and self.flag_dose not in self.question:
            raise ValueError(f"flag_dose {self.flag_dose!r} must occur verbatim in the question")
        return self


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a JSON Lines gold file; a bad line raises ``ValueError`` naming the file and line number."""
    return load_jsonl(path, GoldItem, "gold item", "gold file")


Item = TypeVar("Item", bound=BaseModel)


def load_jsonl(path: str | Path, model: type[Item], what: str, file_kind: str) -> list[Item]:
    """One validated ``model`` per non-blank line of a JSON Lines file, ids unique.

    Shared by gold sets and conversation sets: every problem is a ``ValueError`` naming
    the file and line, so the CLI can print it as one line.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read {file_kind} ({exc})") from exc
    items: list[Item] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object, got {type(data).__name__}")
        try:
            item = model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'item'}: {error['msg']}" for error in exc.errors()
            )
            raise ValueError(f"{path}:{number}: invalid {what} ({problems})") from exc
        item_id = str(vars(item)["id"])  # both models have an ``id`` field
        if item_id in first_line:
            raise ValueError(f"{path}:{number}: duplicate id {item_id!r} (first used on line {first_line[item_id]})")
        first_line[item_id] = number
        items.append(item)
    return items


SPLITS = ("all", "tune", "check")


def split_gold(items: list[GoldItem], part: str) -> list[GoldItem]:
    """A fixed half of a gold set: ``tune`` to adjust the system on, ``check`` to report on, or ``all``.

    The half an item falls in depends only on its id (a hash), so it never moves when
    items are added, and tuning cannot quietly peek at the checking half.
    """
    if part not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {part!r}")
    if part == "all":
        return list(items)
    wanted = 0 if part == "tune" else 1
    return [item for item in items if hashlib.sha256(item.id.encode("utf-8")).digest()[0] % 2 == wanted]
