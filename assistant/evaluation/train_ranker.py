"""Training the learned ranker from gold questions: candidates, labels, a LightGBM ``lambdarank`` fit.

A candidate is labelled relevant when its statement contains one of the item's evidence
strings (as the evaluation judges evidence). Questions without a relevant candidate, and
out-of-scope questions, teach an ordering nothing and are left out. The fit is
deterministic (one thread, fixed seed), so the same library and gold give the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import RankerTrainingError
from assistant.evaluation.gold import GoldItem
from assistant.evaluation.metrics import contains_evidence
from assistant.retrieval.features import FEATURES, StatementTable, feature_matrix
from assistant.retrieval.ranker import candidates
from assistant.retrieval.searcher import HybridSearcher

if TYPE_CHECKING:
    from assistant.assistant import Assistant

# Chosen on training folds only (evals/ranker-ablation.md says how): small trees, many rounds at a
# low rate, and leaves that need at least 20 candidates, so no single question can shape the model.
PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [1, 8],
    "lambdarank_truncation_level": 20,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 0,
    "verbose": -1,
}
ROUNDS = 300
DEPTH = 50  # candidates per question: the 50-100; the right statement is in the top 50 for 97 %


@dataclass
class TrainingSet:
    """Per question: its id, its feature matrix over the candidates, and the candidates' relevance labels."""

    ids: list[str] = field(default_factory=list)
    matrices: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    chunk_ids: list[list[str]] = field(default_factory=list)

    def subset(self, keep: Sequence[int]) -> TrainingSet:
        return TrainingSet(
            [self.ids[i] for i in keep],
            [self.matrices[i] for i in keep],
            [self.labels[i] for i in keep],
            [self.chunk_ids[i] for i in keep],
        )

    @property
    def learnable(self) -> list[int]:
        """Questions with at least one relevant and one irrelevant candidate."""
        return [i for i, y in enumerate(self.labels) if 0 < int(y.sum()) < len(y)]


def collect(searcher: HybridSearcher, items: Sequence[GoldItem], depth: int = DEPTH) -> TrainingSet:
    """Candidates, features and labels for every answerable gold question with evidence."""
    table = StatementTable(searcher.chunks)
    data = TrainingSet()
    for item in items:
        if item.abstain or not item.evidence:
            continue
        query = searcher.analyze(item.question)
        searched, looked_up = candidates(searcher, query, depth)
        hits = searched + looked_up
        if not hits:
            continue
        data.ids.append(item.id)
        data.matrices.append(feature_matrix(query, hits, table))
        data.labels.append(np.asarray([contains_evidence(hit.chunk.text, item.evidence) for hit in hits], dtype=np.int32))
        data.chunk_ids.append([hit.chunk.id for hit in hits])
    return data


def fit(data: TrainingSet, rounds: int = ROUNDS, params: dict[str, Any] | None = None, columns: Sequence[int] | None = None) -> Any:
    """A LightGBM booster trained on the learnable questions of ``data`` (``columns``: a subset, for ablations)."""
    import lightgbm

    keep = data.learnable
    if len(keep) < 5:
        raise RankerTrainingError(
            f"cannot train a ranker: only {len(keep)} gold questions have a relevant statement among the candidates; "
            "a ranker needs at least 5 (check that the evidence strings occur in this library)"
        )
    cols = list(range(len(FEATURES))) if columns is None else list(columns)
    matrix = np.vstack([data.matrices[i][:, cols] for i in keep])
    labels = np.concatenate([data.labels[i] for i in keep])
    groups = [len(data.labels[i]) for i in keep]
    names = [FEATURES[c] for c in cols]
    dataset = lightgbm.Dataset(matrix, label=labels, group=groups, feature_name=names, free_raw_data=False)
    return lightgbm.train({**PARAMS, **(params or {})}, dataset, num_boost_round=rounds)


def model_text(booster: Any) -> str:
    """LightGBM's own text format (readable, no pickle), as the ranker loads it."""
    return str(booster.model_to_string())


def fold_trainer(assistant: Assistant, items: Sequence[GoldItem]) -> Callable[[int, list[GoldItem]], Assistant]:
    """For ``evaluate_folds``: each fold answered with a ranker trained on that fold's training questions only.

    Candidates and features do not depend on any model, so they are collected once for all
    questions; each fold fits on its training questions' rows alone.
    """
    from assistant.retrieval.ranker import Ranker, RankerModel

    data = collect(assistant.searcher, items)

    def for_fold(fold: int, training: list[GoldItem]) -> Assistant:
        wanted = {item.id for item in training}
        rows = [i for i, qid in enumerate(data.ids) if qid in wanted]
        try:
            booster = fit(data.subset(rows))
        except RankerTrainingError as exc:
            raise RankerTrainingError(f"fold {fold}: {exc}") from None
        model = RankerModel(booster, f"trained on the folds other than {fold}")
        assistant.use_ranker(Ranker(assistant.searcher.chunks, model))
        return assistant

    return for_fold
