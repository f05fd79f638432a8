"""The vocabulary is light: importing it loads no index, model or search library."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("faiss", "torch", "bm25s", "sentence_transformers")


def test_importing_the_vocabulary_loads_no_heavy_library() -> None:
    code = (
        "import sys; import assistant.vocabulary, assistant.vocabulary.drugs, assistant.vocabulary.lexicon, "
        "assistant.vocabulary.populations; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_amount_pattern_is_importable_from_the_package() -> None:
    from assistant.vocabulary import AMOUNT

    assert AMOUNT.search("250 micrograms")
