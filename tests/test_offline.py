"""Offline and supply-chain guarantees: the network is blocked in tests, and the source never unpickles or evals.

The autouse fixture in ``conftest.py`` refuses every non-loopback connection, so
the whole suite (model loading included) proves that nothing calls out at run time.
"""

from __future__ import annotations

import ast
import re
import socket
from pathlib import Path

import pytest
from pytest_socket import SocketConnectBlockedError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCANNED = [PROJECT_ROOT / name for name in ("assistant", "ui", "evals")]
BANNED_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
BANNED_BUILTINS = {"eval", "exec", "compile", "__import__"}
BANNED_ATTRIBUTES = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("torch", "load"),
    ("np", "load"),
    ("numpy", "load"),
    ("yaml", "load"),
}


@pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")  # the refusal is the point
def test_non_loopback_connections_are_refused() -> None:
    """No packet is sent: pytest-socket refuses the connection before it is attempted."""
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("10.255.255.1", 80), timeout=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw, pytest.raises(SocketConnectBlockedError):
        raw.connect(("93.184.216.34", 443))


def test_loopback_stays_allowed_for_the_local_ui() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_the_model_and_index_load_with_the_network_blocked(assistant) -> None:
    answer = assistant.ask("What dose of IVIG is used in warm AIHA?")
    assert answer.quotes


def test_hub_access_is_switched_off_before_the_model_loads() -> None:
    import os

    import assistant.index.embeddings  # noqa: F401 - importing it sets the variables

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


# --------------------------------------------------------------------------- source scan


def _python_files() -> list[Path]:
    return sorted(path for root in SCANNED if root.is_dir() for path in root.rglob("*.py"))


def dangerous_calls(source: str) -> list[str]:
    """Unpickling, eval/exec of text and unsafe loaders, found in the syntax tree (not by grep)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in BANNED_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in BANNED_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in BANNED_BUILTINS:
                found.append(f"{func.id}() at line {node.lineno}")
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if (func.value.id, func.attr) in BANNED_ATTRIBUTES and not _numpy_without_pickle(func, node):
                    found.append(f"{func.value.id}.{func.attr}() at line {node.lineno}")
                if func.value.id == "builtins" and func.attr in BANNED_BUILTINS:
                    found.append(f"builtins.{func.attr}() at line {node.lineno}")
            for keyword in node.keywords:
                if keyword.arg in {"allow_dangerous_deserialization", "allow_pickle", "trust_remote_code"} and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    found.append(f"{keyword.arg}= at line {node.lineno}")
    if re.search(r"allow_dangerous_deserialization\s*=\s*True", source):
        found.append("allow_dangerous_deserialization=True")
    return found


def _numpy_without_pickle(func: ast.Attribute, node: ast.Call) -> bool:
    """``np.load(..., allow_pickle=False)`` reads only plain arrays: it cannot run code, so it is allowed."""
    return func.value.id in {"np", "numpy"} and any(  # type: ignore[attr-defined]
        keyword.arg == "allow_pickle" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False
        for keyword in node.keywords
    )


def test_the_scan_finds_what_it_should_and_ignores_look_alikes() -> None:
    bad = (
        "import pickle\nfrom joblib import load\nx = eval('1')\nexec('y=1')\n"
        "torch.load('m.pt')\nFAISS.load_local('d', e, allow_dangerous_deserialization=True)\n"
        "np.load('v.npy')\nnp.load('v.npy', allow_pickle=True)\n"
    )
    assert len(dangerous_calls(bad)) == 10
    fine = "model.eval()\ndef evaluate(a): return a\nresult = evaluate(1)\nobj.exec_module(m)\nnp.save('x', a)\nnp.load('v.npy', allow_pickle=False)\n"
    assert dangerous_calls(fine) == []


def test_no_pickle_eval_exec_or_dangerous_deserialization_in_the_source() -> None:
    files = _python_files()
    assert any(path.as_posix().endswith("index/store.py") for path in files)
    problems = {
        str(path.relative_to(PROJECT_ROOT)): found
        for path in files
        if (found := dangerous_calls(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_no_pickle_files_are_shipped_or_loaded() -> None:
    shipped = [
        path
        for root in [*SCANNED, PROJECT_ROOT / "index", PROJECT_ROOT / "corpus"]
        if root.is_dir()
        for path in root.rglob("*")
        if path.suffix.lower() in {".pkl", ".pickle", ".joblib", ".pt", ".pth", ".npy", ".npz"}
        and not _plain_embedding_cache(path)
    ]
    assert shipped == []


def _plain_embedding_cache(path: Path) -> bool:
    """A built index's embedding cache (``.npy``) is allowed only as a plain float array: no objects, no pickle."""
    import numpy as np

    if path.parent != PROJECT_ROOT / "index" or path.suffix != ".npy":
        return False
    try:
        return np.load(path, allow_pickle=False).dtype == np.float32
    except ValueError:  # an object array would need pickle to load
        return False
