"""Train the ranker shipped in the package from several libraries' gold questions at once.

    python evals/ship_ranker.py LIBRARY_CORPUS:LIBRARY_INDEX:GOLD[,GOLD...] [CORPUS:INDEX:GOLD ...]

The shipped model (``assistant/data/ranker.txt``) was made with

    python evals/ship_ranker.py \
        ../shared/library/corpus:IDX:../shared/library/gold_dev.jsonl,../shared/library/gold_dev2.jsonl \
        corpus:index:evals/gold.jsonl

i.e. the development library's two gold sets (549 questions over 121 guidelines) and the bundled
guideline's gold set (140 questions). ``guideline-assistant train-ranker`` does the same for one
library and stores the model with that library's index.
"""

from __future__ import annotations

import sys

from assistant import Assistant
from assistant.evaluation.gold import load_gold
from assistant.evaluation.train_ranker import TrainingSet, collect, fit, model_text
from assistant.retrieval.ranker import SHIPPED_MODEL


def main(argv: list[str]) -> int:
    combined = TrainingSet()
    for spec in argv:
        corpus, index, golds = spec.split(":")
        assistant = Assistant.load(corpus, index)
        items = [item for gold in golds.split(",") for item in load_gold(gold)]
        data = collect(assistant.searcher, items)
        print(f"{corpus}: {len(data.learnable)} of {len(items)} questions with the answer among the candidates")
        combined.ids += data.ids
        combined.matrices += data.matrices
        combined.labels += data.labels
        combined.chunk_ids += data.chunk_ids
    SHIPPED_MODEL.write_text(model_text(fit(combined)), encoding="utf-8")
    print(f"wrote {SHIPPED_MODEL} ({SHIPPED_MODEL.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
