"""The Python API: ``Assistant.load()`` then ``assistant.ask(question)``.

One object owns the loaded index, the model and the chain, so the CLI, the UI
and the evaluations answer through exactly the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from assistant.answer.schema import Answer, Quote
from assistant.answer.select import quote_from_hit
from assistant.chain import Guard, build_chain
from assistant.errors import CorpusError
from assistant.index import audit
from assistant.index.build import build_index, ensure_index
from assistant.index.calibration import read_calibration
from assistant.index.embeddings import get_embedder, set_thread_policy
from assistant.index.feedback import FeedbackRecord, append_feedback
from assistant.index.store import IndexStatus, LoadedIndex, Manifest, Progress, index_status, read_documents
from assistant.ingest.files import FileProgress, extracted_by_reader, identical_file, read_guideline, size_limit
from assistant.ingest.metadata import DocumentMeta
from assistant.ingest.parser import Document, parse_document
from assistant.ingest.preflight import check_corpus
from assistant.retrieval.followup import Conversation
from assistant.retrieval.hit import Hit
from assistant.retrieval.ranker import Ranker, ranked_search
from assistant.retrieval.retriever import GuidelineRetriever
from assistant.retrieval.searcher import HybridSearcher
from assistant.settings import Settings


class Assistant:
    """Answers questions about the guidelines in one corpus folder."""

    def __init__(
        self,
        searcher: HybridSearcher,
        settings: Settings,
        guard: Guard | None = None,
        summarizer: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings
        self._guard = guard
        self._summarizer = summarizer
        self._documents: dict[str, Document] = {}
        self._use(searcher)

    def _use(self, searcher: HybridSearcher, ranker: Ranker | None = None) -> None:
        """Answer from this searcher and ranker: the retriever and chain are rebuilt around them."""
        self.searcher = searcher
        self.ranker = ranker or Ranker.load(searcher.chunks, self.settings.index_dir)
        self.retriever = GuidelineRetriever(searcher=searcher, ranker=self.ranker, settings=self.settings)
        self.chain = build_chain(
            searcher, self.settings, guard=self._guard, summarizer=self._summarizer, ranker=self.ranker
        )

    def use_ranker(self, ranker: Ranker) -> None:
        """Order candidates with this ranker from now on (a fold's model in cross-validation, a retrained one)."""
        self._use(self.searcher, ranker)

    def retrieve(self, question: str, k: int | None = None) -> list[Hit]:
        """The statements in the order answers use: the learned ranking of the searcher's candidates."""
        query = self.searcher.analyze(question)
        return ranked_search(self.searcher, self.ranker, query, k or self.settings.k, self.settings.rank_depth)

    @classmethod
    def load(
        cls,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        progress: Progress | None = None,
        notify: Callable[[str], None] | None = None,
        file_progress: FileProgress | None = None,
        guard: Guard | None = None,
        summarizer: BaseChatModel | None = None,
        **overrides: object,
    ) -> Assistant:
        """Load the index for a corpus folder, building it first if it is missing or stale.

        ``overrides`` are settings fields (``k=3``, ``model="/path"``); ``None`` keeps the default.
        """
        base = settings or Settings()
        resolved = base.with_overrides(
            corpus_dir=Path(corpus_dir) if corpus_dir is not None else None,
            index_dir=Path(index_dir) if index_dir is not None else None,
            **overrides,
        )
        check_corpus(resolved.corpus_dir)  # milliseconds, where loading the model takes seconds
        set_thread_policy(resolved.query_threads, resolved.build_threads)
        embedder = get_embedder(resolved.model)
        loaded = ensure_index(resolved, embedder, progress=progress, notify=notify, file_progress=file_progress)
        resolved = _calibrated(resolved, notify)
        return cls(HybridSearcher(loaded, embedder, resolved), resolved, guard=guard, summarizer=summarizer)

    def ask(
        self,
        question: str,
        k: int | None = None,
        *,
        documents: list[str] | None = None,
        conversation: Conversation | None = None,
        client: str | None = None,
        min_strength: str | None = None,
    ) -> Answer:
        """Answer one question; raises :class:`~assistant.errors.InputError` for an unusable question.

        ``documents`` restricts the answer to those guidelines (names as in ``quotes[].source``;
        an unknown name is an :class:`~assistant.errors.UnknownDocumentError` listing the real ones).
        ``conversation`` (from :meth:`new_conversation`) lets a follow-up such as "and in children?"
        be answered as a standalone question, shown in ``Answer.asked_as``. With ``Settings.audit_answers``
        the answer is recorded in the audit log (``client``: the address the question came from).
        ``min_strength`` ("strong", "conditional", "weak") quotes only recommendations the guideline
        grades at least that strong; None uses the settings' ``min_strength`` (default: no filter).
        """
        payload = {
            "question": question,
            "k": k,
            "documents": documents,
            "conversation": conversation,
            "min_strength": min_strength,
        }
        answer: Answer = self.chain.invoke(payload)
        if self.settings.audit_answers:
            flags = [flag.code.value for flag in answer.guardrail.flags]
            statements = [quote.chunk_id for quote in answer.quotes]
            record = audit.answer_record(question, audit.build_id(self.manifest), statements, flags, answer.abstained)
            audit.append(self.settings, {**record, "client": client})
        return answer

    @staticmethod
    def record_change(
        settings: Settings, action: str, *, file: Path | None = None, client: str | None = None, outcome: str = "ok"
    ) -> None:
        """Append a library change (upload, rebuild) to the audit log: file, sha256, size, time, client."""
        audit.library_change(settings, action, file=file, client=client, outcome=outcome)

    @staticmethod
    def size_limit(name: str) -> int:
        """The largest file of this name's type the index reads: an upload over it is refused at once."""
        return size_limit(name)

    @staticmethod
    def new_conversation() -> Conversation:
        """A conversation to pass to :meth:`ask` so follow-up questions keep their subject."""
        return Conversation()

    @property
    def sources(self) -> list[str]:
        """The guidelines this assistant answers from (the names ``documents=`` accepts)."""
        return self.searcher.sources

    def rebuild(self, progress: Progress | None = None, *, file_progress: FileProgress | None = None) -> None:
        """Rebuild the index from the corpus now and answer from the new one."""
        loaded = build_index(self.settings, self.searcher.embedder, progress, file_progress)
        self._documents.clear()
        self._use(HybridSearcher(loaded, self.searcher.embedder, self.settings))  # a ranker over the new statements

    def library_changes(self) -> list[str]:
        """Guideline files added, removed or changed since the index this assistant answers from was built.

        Cheap (a stat per file; a hash only for a file whose size or mtime moved), so a
        long-running server or UI can ask on every question and every ``/health``.
        """
        loaded = self.searcher.loaded
        return loaded.shown.library_changes(loaded.corpus_dir) if loaded.corpus_dir is not None else []

    def status(self) -> IndexStatus:
        return index_status(self.settings)

    @staticmethod
    def index_status(settings: Settings | None = None) -> IndexStatus:
        """Whether the index for these settings exists and matches its corpus (no model is loaded)."""
        return index_status(settings or Settings())

    @staticmethod
    def duplicate_of(corpus_dir: Path, data: bytes) -> str | None:
        """The guideline already in ``corpus_dir`` with exactly these bytes (an upload of it is refused), or None."""
        return identical_file(corpus_dir, data)

    @staticmethod
    def documents(settings: Settings | None = None) -> list[DocumentMeta]:
        """The indexed guidelines with their metadata (empty when no readable index exists)."""
        return read_documents(settings or Settings())

    @staticmethod
    def build(
        settings: Settings | None = None,
        progress: Progress | None = None,
        *,
        file_progress: FileProgress | None = None,
        incremental: bool = True,
    ) -> LoadedIndex:
        """Build the index for these settings (the CLI's ``index build``, the UI's rebuild button).

        Unchanged files keep their statements and vectors unless ``incremental=False``.
        """
        resolved = settings or Settings()
        return build_index(resolved, get_embedder(resolved.model), progress, file_progress, incremental)

    def statements(self, source: str, contains: str = "", limit: int = 50) -> list[Quote]:
        """Statements of one guideline whose text has every word of ``contains`` (the feedback picker's search).

        A plain word match, not the ranked search: the clinician is looking for a statement they
        know is there, and an answer's ranking is what the feedback is about.
        """
        words = contains.lower().split()
        found = [
            quote_from_hit(Hit(chunk=chunk, score=0.0, dense=0.0, bm25=0.0, rank=0))
            for chunk in self.searcher.chunks
            if chunk.source == source and all(word in chunk.text.lower() for word in words)
        ]
        return found[:limit]

    def record_feedback(
        self, answer: Answer, answered: bool, statement: Quote | None = None, not_in_guidelines: bool = False
    ) -> Path:
        """Keep a clinician's verdict on ``answer`` beside the index (see :mod:`assistant.index.feedback`).

        "Yes" keeps the answer's direct quote as the evidence; "no" the ``statement`` the clinician
        picked, or ``not_in_guidelines`` (the right answer is to abstain).
        """
        chosen = answer.direct_quote() if answered else statement
        record = FeedbackRecord(
            question=answer.asked_as or answer.question,
            answered=answered,
            evidence=None if not_in_guidelines or chosen is None else chosen.text,
            source=None if not_in_guidelines or chosen is None else chosen.source,
            chunk_id=None if not_in_guidelines or chosen is None else chosen.chunk_id,
            abstain=not_in_guidelines or (answered and answer.abstained),
            build=self.manifest.created_at,
        )
        return append_feedback(self.settings.index_dir, record)

    @property
    def manifest(self) -> Manifest:
        return self.searcher.loaded.manifest

    def document(self, source: str) -> Document:
        """The parsed guideline a quote came from (to show a quote inside its section).

        PDF, HTML and repaired files are parsed from the canonical text the index stores,
        the text their quotes' offsets index; text files from the file itself.
        """
        if source not in self._documents:
            root = self.settings.corpus_dir.resolve()
            path = (root / source).resolve()
            if not path.is_relative_to(root):
                raise CorpusError(f"{source}: is outside the corpus folder; refusing to read it.")
            text = self.searcher.loaded.canonical_text(source)
            explicit = extracted_by_reader(path)
            self._documents[source] = parse_document(
                text if text is not None else read_guideline(path), source, explicit_headings=explicit
            )
        return self._documents[source]


def _calibrated(settings: Settings, notify: Callable[[str], None] | None) -> Settings:
    """The settings with the index's stored calibration applied to every bar still at its default.

    A bar set to anything else (keyword, environment variable) was chosen by the user and wins.
    """
    values, problem = read_calibration(settings.index_dir)
    if problem and notify is not None:
        notify(problem)
    chosen = {
        name: value
        for name, value in values.items()
        if getattr(settings, name) == Settings.model_fields[name].default
    }
    return settings.with_overrides(**chosen) if chosen else settings
