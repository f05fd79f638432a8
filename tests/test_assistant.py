"""The Python API: Assistant.load, ask, rebuild, document."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.errors import CorpusError

GUIDE = "# Anticoagulation in AF\n\n## Dosing\n\nApixaban 5 mg twice daily is the standard dose [1].\n"
EXTRA = "# Rate control\n\n## Beta blockers\n\nBisoprolol is started at 1.25 mg daily and titrated [2].\n"


def test_load_builds_then_rebuild_picks_up_new_files(make_corpus) -> None:
    settings = make_corpus({"af.md": GUIDE})
    messages: list[str] = []
    assistant = Assistant.load(settings=settings, notify=messages.append)
    assert messages and "No index yet" in messages[0]
    assert assistant.manifest.n_documents == 1
    (settings.corpus_dir / "rate.md").write_text(EXTRA, encoding="utf-8")
    assert assistant.status().up_to_date is False
    assistant.rebuild()
    assert assistant.status().up_to_date is True
    answer = assistant.ask("What is the starting dose of bisoprolol?")
    assert any(q.source == "rate.md" and q.citations == ["2"] for q in answer.quotes)


def test_load_accepts_setting_overrides(settings) -> None:
    assistant = Assistant.load(settings=settings, k=3, max_quotes=1)
    assert assistant.settings.k == 3
    assert len(assistant.ask("What IVIG dose is used in warm AIHA?").quotes) == 1


def test_document_gives_the_section_a_quote_came_from(assistant) -> None:
    quote = assistant.ask("What IVIG dose is used in warm AIHA?").quotes[0]
    document = assistant.document(quote.source)
    assert document.raw[quote.start : quote.end] == quote.text
    assert quote.text in document.section_text(quote.section)


def test_document_refuses_paths_outside_the_corpus(assistant) -> None:
    with pytest.raises(CorpusError, match="outside the corpus"):
        assistant.document("../../etc/passwd")
