"""The conversation downloads: each starts with a header saying what it was answered from.

A saved answer read days later must say when it was given, by which version of
the app, from which library folder and index build, and which guidelines (title
and date) were in it; the Markdown also resolves every cited label to its
reference text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistant import __version__, present
from assistant.answer import Answer

if TYPE_CHECKING:
    from assistant.index.store import Manifest


def header(
    library: str, manifest: Manifest | None, documents: Sequence[Any], now: datetime | None = None
) -> present.ExportHeader:
    """The export header for this library, its index manifest and its guidelines (``Assistant.documents``)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    build = present.index_build_id(manifest.created_at, manifest.files) if manifest is not None else "no index"
    guidelines = tuple(
        (document.title or document.source, str(document.year) if document.year else "date not stated")
        for document in documents
    )
    return present.ExportHeader(
        exported_at=moment, app_version=__version__, library=library, index_build=build, guidelines=guidelines
    )


def conversation_json(answers: Iterable[Answer], head: present.ExportHeader) -> str:
    """``{"header": …, "answers": [...]}``: the header, then each answer in the answer schema."""
    document = {
        "header": {
            "exported_at": head.exported_at,
            "app_version": head.app_version,
            "library": head.library,
            "index_build": head.index_build,
            "guidelines": [{"title": title, "date": date} for title, date in head.guidelines],
        },
        "answers": [answer.model_dump(mode="json") for answer in answers],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def conversation_markdown(answers: Iterable[Answer], head: present.ExportHeader) -> str:
    """The readable export: title, header, disclaimer, then each answer with its citations resolved."""
    return present.conversation_markdown(answers, header=head)
