"""The answer stage: choosing statements, composing them, and the :class:`Answer` schema.

``from assistant.answer import Answer`` stays the public import for the schema.
"""

from assistant.answer.schema import (
    ABSTAIN_MESSAGE,
    LEAD_FOUND,
    Answer,
    DoseInfo,
    Flag,
    FlagCode,
    Guardrail,
    GuardrailStatus,
    Quote,
    Risk,
    Severity,
    sort_labels,
)

__all__ = [
    "ABSTAIN_MESSAGE",
    "LEAD_FOUND",
    "Answer",
    "DoseInfo",
    "Flag",
    "FlagCode",
    "Guardrail",
    "GuardrailStatus",
    "Quote",
    "Risk",
    "Severity",
    "sort_labels",
]
