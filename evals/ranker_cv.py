"""Document-disjoint cross-validation of the learned ranker, and its feature-ablation table.

    python evals/ranker_cv.py --corpus ../shared/library/corpus --index IDX \
        --gold ../shared/library/gold_dev.jsonl --gold ../shared/library/gold_dev2.jsonl [--ablation] [--out FILE]

Folds are by guideline (the meta file beside each gold file names an item's source; without
one, the source of its evidence), so no guideline's questions are both trained and scored on.
For each fold the ranker is trained on the other folds only and scored on this fold's
questions: Hit@1, recall@8 and MRR of the relevant statements among the candidates, against
the searcher's own (fused) order. Prints Markdown; ``--out`` also writes it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.evaluation.folds import assign_folds, default_meta_path, item_sources, load_meta
from assistant.evaluation.gold import GoldItem, load_gold
from assistant.evaluation.train_ranker import TrainingSet, collect, fit
from assistant.retrieval.features import FEATURES, feature_matrix
from assistant.retrieval.ranker import Ranker, RankerModel

GROUPS: dict[str, tuple[str, ...]] = {
    "searcher scores": ("fused_score", "fused_rank_log", "dense", "dense_gap", "dense_rank_log", "bm25_relative", "coverage"),
    "term weight by field": ("idf_text", "idf_text_expanded", "idf_section", "idf_title", "idf_lead_in", "idf_text_missing",
        "idf_text_rarest", "pairs_text"),
    "statement shape": (
        "words_log", "fragment", "ends_colon", "is_bullet", "is_table_row", "has_lead_in", "numbers",
        "has_amount", "has_citation", "recommends", "negates", "about_the_document", "graded", "section_position",
        "section_size_log",
    ),
    "question shape": ("q_words_log", "q_dose", "q_drugs", "q_terse", "q_domain_share", "q_against", "q_quantity", "q_choice", "q_threshold"),
    "question x statement": (
        "dose_and_amount", "drug_named", "drug_dosed", "other_drugs", "against_and_negates", "quantity_stated",
        "threshold_stated", "choice_and_recommends",
    ),
    "guideline and neighbours": ("source_best_dense", "source_share", "source_is_top", "neighbour_best"),
}


def ranks_of_relevant(scores: np.ndarray, labels: np.ndarray) -> int | None:
    """1-based rank of the first relevant candidate under ``scores`` (ties: candidate order), None if none."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    for rank, i in enumerate(order, start=1):
        if labels[i]:
            return rank
    return None


def figures(ranks: Sequence[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "hit@1": sum(r == 1 for r in ranks) / n,
        "recall@8": sum(r is not None and r <= 8 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
    }


def cross_validate(
    data: TrainingSet, folds: dict[str, int], n: int, columns: Sequence[int] | None = None
) -> tuple[list[dict[str, float]], list[dict[str, float]], dict[str, int | None]]:
    """Per fold: the searcher's order and the ranker's (trained on the other folds); each question's learned rank."""
    base_rows, learned_rows = [], []
    learned_rank: dict[str, int | None] = {}
    cols = list(range(len(FEATURES))) if columns is None else list(columns)
    for fold in range(n):
        train = [i for i, qid in enumerate(data.ids) if folds[qid] != fold]
        test = [i for i, qid in enumerate(data.ids) if folds[qid] == fold]
        booster = fit(data.subset(train), columns=cols)
        base, learned = [], []
        for i in test:
            labels = data.labels[i]
            base.append(ranks_of_relevant(-np.arange(len(labels), dtype=float), labels))
            rank = ranks_of_relevant(booster.predict(data.matrices[i][:, cols], num_threads=1), labels)
            learned.append(rank)
            learned_rank[data.ids[i]] = rank
        base_rows.append(figures(base))
        learned_rows.append(figures(learned))
    return base_rows, learned_rows, learned_rank


ANSWER_METRICS = (
    "answer.evidence_recall", "answer.fact_recall", "answer.chars_quoted_mean", "retrieval.hit_rate@1",
    "retrieval.recall@k", "abstention.recall", "dose.unsupported_answers", "dose.false_not_specified",
    "latency.rank_p50_ms",
)


class FoldRanker(Ranker):
    """Each question ranked by the model of its own fold, which was trained on the other folds only.

    One evaluation run then scores every fold's questions document-disjoint, without reloading the index.
    """

    def __init__(self, chunks: Sequence, models: dict[int, RankerModel], fold_of_question: dict[str, int]) -> None:
        super().__init__(chunks, models[0])
        self.models = models
        self.fold_of_question = fold_of_question

    def scores(self, query, hits):  # type: ignore[no-untyped-def]
        model = self.models[self.fold_of_question[query.text]]
        return model.predict(feature_matrix(query, hits, self.table))


def answer_figures(
    assistant: Assistant, items: list[GoldItem], data: TrainingSet, folds: dict[str, int], n: int, variants: str
) -> list[str]:
    """Whole answers, every question answered with a ranker trained on the other folds; one row per variant."""
    import tempfile

    from assistant.evaluation.runner import evaluate

    chunks = assistant.searcher.chunks
    settings = assistant.settings
    models = {}
    for fold in range(n):
        train = [i for i, qid in enumerate(data.ids) if folds[qid] != fold]
        models[fold] = RankerModel(fit(data.subset(train)), "fold")
    fold_of_question = {item.question: folds[item.id] for item in items}
    per_variant: dict[str, list[dict]] = {}
    for variant in ["similarity", *[v for v in variants.split(",") if v]]:
        if variant == "similarity":
            assistant.use_ranker(Ranker(chunks, None))
        else:
            assistant.settings = settings.with_overrides(rank_margin=float(variant.partition("=")[2]))
            assistant.use_ranker(FoldRanker(chunks, models, fold_of_question))
        rows = []
        for fold in range(n):
            held = [item for item in items if folds[item.id] == fold]
            with tempfile.TemporaryDirectory() as out:
                rows.append(evaluate(assistant, held, out))
        assistant.settings = settings
        per_variant[variant] = rows
        print(variant, _cells(rows), file=sys.stderr, flush=True)
    lines = ["| answers (mean over folds) | " + " | ".join(ANSWER_METRICS) + " |", "|---|" + "---|" * len(ANSWER_METRICS)]
    lines += [f"| {variant} | " + " | ".join(_cells(rows)) + " |" for variant, rows in per_variant.items()]
    learned = {v: rows for v, rows in per_variant.items() if v != "similarity"}
    if learned:
        chosen_rows, picks = [], []
        for fold in range(n):
            def training_score(v: str, fold: int = fold) -> tuple[bool, float]:
                others = [row for i, row in enumerate(learned[v]) if i != fold]
                chars = statistics.fmean(float(r["answer.chars_quoted_mean"] or 0) for r in others)
                return chars <= 500, statistics.fmean(float(r["answer.evidence_recall"] or 0) for r in others)
            pick = max(learned, key=training_score)
            picks.append(pick)
            chosen_rows.append(learned[pick][fold])
        lines.append(f"| chosen on training folds ({', '.join(picks)}) | " + " | ".join(_cells(chosen_rows)) + " |")
    return lines


def _cells(rows: list[dict]) -> list[str]:
    cells = []
    for metric in ANSWER_METRICS:
        values = [float(row[metric]) for row in rows if row.get(metric) is not None]
        if not values:
            cells.append("n/a")
        elif metric.startswith("dose."):
            cells.append(f"{sum(values):.0f} in all")
        else:
            cells.append(f"{statistics.fmean(values):.3f} ± {statistics.pstdev(values):.3f}")
    return cells


def mean_std(rows: list[dict[str, float]], name: str) -> str:
    values = [row[name] for row in rows]
    spread = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {spread:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--gold", action="append", required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--answers", action="store_true", help="also score whole answers per fold (slower)")
    parser.add_argument("--variants", default="", help="rank margins to compare with --answers: learned=MARGIN,learned=MARGIN,...")
    parser.add_argument("--out")
    args = parser.parse_args(argv)

    assistant = Assistant.load(args.corpus, args.index)
    items: list[GoldItem] = []
    meta: dict[str, dict] = {}
    for gold in args.gold:
        items += load_gold(gold)
        meta_path = default_meta_path(Path(gold))
        if meta_path is not None:
            meta.update(load_meta(meta_path))
    sources = item_sources(items, meta or None, assistant.searcher.chunks)
    folds = assign_folds(sources, args.folds)
    data = collect(assistant.searcher, items)
    styles = {item.id: (meta.get(item.id, {}).get("style") or meta.get(item.id, {}).get("kind") or "-") for item in items}

    lines = [f"Document-disjoint {args.folds}-fold CV, {len(data.ids)} questions ({len(data.learnable)} with a relevant candidate in the top 50).", ""]
    base, learned, per_item = cross_validate(data, folds, args.folds)
    lines += ["| ordering | Hit@1 | recall@8 | MRR |", "|---|---|---|---|"]
    lines.append("| searcher (fused) | " + " | ".join(mean_std(base, m) for m in ("hit@1", "recall@8", "mrr")) + " |")
    lines.append("| learned ranker | " + " | ".join(mean_std(learned, m) for m in ("hit@1", "recall@8", "mrr")) + " |")
    lines += ["", "| style | questions | Hit@1 (learned) | recall@8 (learned) |", "|---|---|---|---|"]
    for style in sorted(set(styles[q] for q in per_item)):
        ranks = [per_item[q] for q in per_item if styles[q] == style]
        f = figures(ranks)
        lines.append(f"| {style} | {len(ranks)} | {f['hit@1']:.3f} | {f['recall@8']:.3f} |")
    if args.ablation:
        lines += ["", "| without | Hit@1 | recall@8 | MRR |", "|---|---|---|---|"]
        for group, names in GROUPS.items():
            cols = [i for i, name in enumerate(FEATURES) if name not in names]
            _, rows, _ = cross_validate(data, folds, args.folds, cols)
            lines.append(f"| {group} | " + " | ".join(mean_std(rows, m) for m in ("hit@1", "recall@8", "mrr")) + " |")
    if args.answers:
        lines += ["", *answer_figures(assistant, items, data, folds, args.folds, args.variants)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
