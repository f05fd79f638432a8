"""guideline-assistant: quoted, cited answers from clinical guideline text, offline.

``from assistant import Assistant`` is the Python API; the import is lazy so
that light modules (the answer schema, the dose grammar) load without pulling in
PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Answer", "Assistant", "Settings", "__version__"]

if TYPE_CHECKING:
    from assistant.answer.schema import Answer
    from assistant.assistant import Assistant
    from assistant.settings import Settings


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from assistant.assistant import Assistant

        return Assistant
    if name == "Answer":
        from assistant.answer.schema import Answer

        return Answer
    if name == "Settings":
        from assistant.settings import Settings

        return Settings
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
