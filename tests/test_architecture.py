"""The layout is the architecture: stages import only earlier stages, faces only the public surface.

The stage order is the data flow: corpus files -> statements (ingest) -> index ->
retrieval -> answer -> guardrails -> chain -> the Assistant facade -> evaluation
and the CLI. An import from a later stage would let data flow backwards; this
test parses every import (function-level ones and type-only ones under
``if TYPE_CHECKING:`` too) so the rule stays true: a type-only import is still a
dependency, and a circle hidden behind ``TYPE_CHECKING`` is still a circle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAGES: list[tuple[str, ...]] = [
    ("assistant.errors", "assistant.settings", "assistant.vocabulary", "assistant.access"),
    ("assistant.ingest",),
    ("assistant.index",),
    ("assistant.retrieval",),
    ("assistant.answer", "assistant.present"),
    ("assistant.guardrails",),
    ("assistant.chain",),
    ("assistant.assistant",),
    ("assistant.evaluation",),
    ("assistant.api",),  # a face: the HTTP API over the Assistant facade
    ("assistant.cli",),
]
# What a face (the Streamlit page) may import: the facade, the answer schema, presentation, errors, settings.
FACE_ALLOWED = (
    "assistant", "assistant.answer", "assistant.present", "assistant.errors", "assistant.settings", "assistant.access", "ui"
)
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stage_of(module: str) -> int | None:
    for rank, prefixes in enumerate(STAGES):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return rank
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> list[str]:
    """Every module a file imports at run time (``if TYPE_CHECKING:`` blocks excluded)."""
    return _imports(path, type_only=False)


def all_imports(path: Path) -> list[str]:
    """Every module a file imports, at run time or for type checking only."""
    return _imports(path, type_only=True)


def _imports(path: Path, type_only: bool) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not type_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node):
                skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; use absolute assistant.* imports")
    return found


def _resolve(name: str) -> str:
    """``assistant.present.markdown`` -> ``assistant.present`` (the module part of an imported name)."""
    parts = name.split(".")
    while parts:
        candidate = ROOT.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return name


PACKAGE_FILES = sorted((ROOT / "assistant").rglob("*.py"))


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: module_name(p))
def test_no_stage_imports_a_later_stage(path: Path) -> None:
    module = module_name(path)
    if module == "assistant":
        pytest.skip("the package root only re-exports the facade lazily")
    own = stage_of(module)
    assert own is not None, f"{module} belongs to no stage; add it to STAGES"
    for name in all_imports(path):
        if not name.startswith("assistant"):
            continue
        target = _resolve(name)
        rank = stage_of(target)
        if target == "assistant":
            continue  # ``from assistant import __version__``
        assert rank is not None and rank <= own, f"{module} (stage {own}) imports {target} (stage {rank})"


@pytest.mark.parametrize("path", sorted((ROOT / "ui").glob("*.py")), ids=lambda p: p.name)
def test_the_ui_imports_only_the_public_surface(path: Path) -> None:
    for name in runtime_imports(path):
        if name.startswith(("assistant", "ui")):
            target = _resolve(name)
            allowed = target in FACE_ALLOWED or target.startswith("ui.")
            assert allowed, f"{path.name} imports {target}; go through Assistant instead"


def test_the_api_imports_only_the_public_surface() -> None:
    """The HTTP API is a face like the UI: it answers through Assistant, plus the metadata type it lists."""
    allowed = (*FACE_ALLOWED, "assistant.ingest.metadata")
    for name in runtime_imports(ROOT / "assistant" / "api.py"):
        if name.startswith("assistant"):
            target = _resolve(name)
            assert target in allowed, f"api.py imports {target}; go through Assistant instead"


def test_the_import_graph_has_no_cycle() -> None:
    graph = {module_name(p): {_resolve(n) for n in all_imports(p) if n.startswith("assistant")} for p in PACKAGE_FILES}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if nxt == "assistant" or nxt == node:
                continue
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*trail, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: module_name(p))
def test_no_module_is_too_long_to_read(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines; split it by responsibility"


def test_a_later_stage_import_is_caught(tmp_path: Path) -> None:
    """The checker itself must see a backwards import, or the tests above prove nothing."""
    assert stage_of("assistant.ingest.parser") < stage_of("assistant.guardrails.checks")  # type: ignore[operator]
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from assistant.guardrails.checks import quoted_doses\n", encoding="utf-8")
    assert "assistant.guardrails.checks.quoted_doses" in runtime_imports(bad)


def test_a_type_only_import_is_seen(tmp_path: Path) -> None:
    """An import under ``if TYPE_CHECKING:`` is a dependency for the stage order and the cycle check."""
    hidden = tmp_path / "hidden.py"
    hidden.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from assistant.retrieval.searcher import HybridSearcher\n",
        encoding="utf-8",
    )
    assert "assistant.retrieval.searcher.HybridSearcher" in all_imports(hidden)
    assert "assistant.retrieval.searcher.HybridSearcher" not in runtime_imports(hidden)


HEAVY = ("faiss", "torch", "bm25s", "sentence_transformers")


@pytest.mark.parametrize("package", ["assistant.guardrails", "assistant.answer", "assistant.vocabulary"])
def test_light_modules_load_no_search_machinery(package: str) -> None:
    """The guardrail, the answer stage and the vocabulary are usable without FAISS, BM25 or a model."""
    probe = f"import {package}, sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True
    )
    assert result.stdout.strip() == "", f"import {package} loads {result.stdout.strip()}"
