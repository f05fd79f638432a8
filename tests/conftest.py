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


# A made-up two-guideline library with a gold file: small enough to build in seconds, large enough to
# train a ranker and to split into two folds by guideline (fold_of puts the two files in different folds).
TWO_GUIDELINES = {
    "otitis-media.md": (
        "# Acute Otitis Media in Children\n\n## Treatment\n\n"
        "Amoxicillin is the first-line antibiotic for acute otitis media. [1]\n\n"
        "The recommended amoxicillin dose is 80 mg/kg/day divided into two doses for 10 days. [2]\n\n"
        "Watchful waiting without antibiotics is an option for children over 2 years with mild symptoms. [3]\n\n"
        "Paracetamol or ibuprofen should be offered for ear pain. [4]\n\n"
        "## Prevention\n\nPneumococcal vaccination reduces the risk of recurrent ear infections. [5]\n\n"
        "Exposure to tobacco smoke should be avoided. [6]\n"
    ),
    "sinusitis-adults.md": (
        "# Acute Bacterial Sinusitis in Adults\n\n## Treatment\n\n"
        "Amoxicillin-clavulanate is recommended as empiric therapy for acute bacterial sinusitis. [1]\n\n"
        "Treat for 5 to 7 days in adults with uncomplicated disease. [2]\n\n"
        "Intranasal saline irrigation may relieve symptoms. [3]\n\n"
        "Intranasal corticosteroids are suggested for patients with a history of allergic rhinitis. [4]\n\n"
        "## Imaging\n\nImaging is not recommended for uncomplicated acute sinusitis. [5]\n\n"
        "Refer patients with severe headache or orbital swelling urgently. [6]\n"
    ),
}
TWO_GUIDELINES_GOLD = [
    ("q1", "What dose of amoxicillin for an ear infection in a child?", "80 mg/kg/day"),
    ("q2", "first-line antibiotic for otitis media", "first-line antibiotic for acute otitis media"),
    ("q3", "Can we wait before giving antibiotics for an ear infection?", "Watchful waiting"),
    ("q4", "how to prevent recurrent ear infections", "Pneumococcal vaccination"),
    ("q5", "Should children avoid smoke?", "tobacco smoke should be avoided"),
    ("q6", "what helps ear pain", "offered for ear pain"),
    ("q7", "How long to treat sinusitis in adults?", "5 to 7 days"),
    ("q8", "Which antibiotic for bacterial sinusitis?", "Amoxicillin-clavulanate is recommended"),
    ("q9", "does salt water rinse help sinus symptoms", "saline irrigation"),
    ("q10", "Is a CT scan needed for sinusitis?", "Imaging is not recommended"),
    ("q11", "nasal steroid spray for sinusitis with allergies", "Intranasal corticosteroids"),
    ("q12", "when to refer sinusitis urgently", "orbital swelling"),
]


@pytest.fixture
def two_guideline_library(make_corpus, tmp_path: Path):
    """(settings, gold file) of a built two-guideline library (see ``TWO_GUIDELINES``)."""
    import json

    from assistant import Assistant

    settings = make_corpus(TWO_GUIDELINES)
    Assistant.build(settings)
    gold = tmp_path / "gold.jsonl"
    lines = [
        json.dumps({"id": qid, "question": question, "facts": [], "evidence": [evidence], "tags": []})
        for qid, question, evidence in TWO_GUIDELINES_GOLD
    ]
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return settings, gold
