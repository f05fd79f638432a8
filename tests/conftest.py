"""Shared fixtures: the real model, a real index built once per session, no network.

Every test runs with outbound connections refused except to loopback, which
proves that nothing (model loading included) reaches for the network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_socket

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = PROJECT_ROOT / "corpus"
GUIDELINE = BUNDLED_CORPUS / "ivig-in-aiha.txt"
LOOPBACK = ["127.0.0.1", "::1", "localhost"]


@pytest.fixture(autouse=True)
def _network_blocked() -> Iterator[None]:
    """Refuse any non-loopback connection for the duration of each test."""
    pytest_socket.socket_allow_hosts(LOOPBACK, allow_unix_socket=True)
    yield
    pytest_socket.enable_socket()


@pytest.fixture(scope="session")
def guideline_text() -> str:
    return GUIDELINE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def embedder():
    from assistant.index.embeddings import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def session_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A private copy of the bundled corpus and an index folder, so tests never touch the project's index/."""
    root = tmp_path_factory.mktemp("bundled")
    corpus = root / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    return corpus, root / "index"


@pytest.fixture(scope="session")
def settings(session_dirs: tuple[Path, Path]):
    from assistant.settings import Settings

    corpus, index = session_dirs
    return Settings(corpus_dir=corpus, index_dir=index)


@pytest.fixture(scope="session")
def assistant(settings, embedder):
    """The real pipeline over the bundled guideline (model, FAISS, BM25, guardrail)."""
    from assistant import Assistant

    return Assistant.load(settings=settings)


@pytest.fixture
def make_corpus(tmp_path: Path):
    """Write ``{name: text}`` guideline files into a fresh corpus folder and return its settings."""
    from assistant.settings import Settings

    def make(files: dict[str, str | bytes]) -> Settings:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, content in files.items():
            path = corpus / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")

    return make
