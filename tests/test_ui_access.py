"""Who may change the library from the chat (under AppTest): everyone on this computer, only the admin when shared.

Also issue 22 case 11's one size limit (an upload the index would not read is refused at
upload, naming the limit) and the audit log: an upload, the rebuild it causes and an answer.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest
from test_ui import TIMEOUT, ask, open_app, plain, point_app_at  # also puts the project root on sys.path

from assistant.index import audit
from ui import library
from ui.access import NO_SECRET

SECRET = "ward-admin-secret-0123456789"


@pytest.fixture
def private_library(settings, assistant, tmp_path: Path) -> tuple[Path, Path]:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(settings.corpus_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    return corpus, index


@pytest.fixture
def address() -> Iterator[None]:
    yield
    config.set_option("server.address", None)


def _page(monkeypatch, library_dirs, tmp_path: Path, host: str | None, secret: bool, shared: bool = False) -> AppTest:
    config.set_option("server.address", host)
    point_app_at(monkeypatch, *library_dirs)
    if secret:
        (tmp_path / "secret").write_text(SECRET + "\n", encoding="utf-8")
        monkeypatch.setenv("GUIDELINE_ASSISTANT_ADMIN_SECRET_FILE", str(tmp_path / "secret"))
    if shared:
        monkeypatch.setenv("GUIDELINE_ASSISTANT_SHARED", "1")
    return open_app()


def _controls(at: AppTest) -> tuple[bool, bool, bool]:
    """(the uploader, the sidebar's rebuild button, the admin secret field) as drawn."""
    uploader = len(at.sidebar.file_uploader) > 0
    rebuild = any(button.label == "Rebuild index" for button in at.sidebar.button)
    field = any(field.key == "ga_admin_given" for field in at.sidebar.text_input)
    return uploader, rebuild, field


def _unlock(at: AppTest, given: str) -> AppTest:
    next(f for f in at.sidebar.text_input if f.key == "ga_admin_given").set_value(given)
    return next(b for b in at.sidebar.button if b.label == "Unlock library changes").click().run()


CASES = [
    # (id, server address, secret configured, Settings.shared, typed secret, uploader/rebuild drawn, secret field)
    ("this computer", "127.0.0.1", False, False, None, True, False),
    ("this computer, IPv6", "::1", False, False, None, True, False),
    ("every interface, no secret", "0.0.0.0", False, False, None, False, False),
    ("no address is every interface", None, False, False, None, False, False),
    ("a ward address, no secret", "10.20.30.40", False, False, None, False, False),
    ("shared behind a proxy", "127.0.0.1", False, True, None, False, False),
    ("shared, secret not typed", "0.0.0.0", True, False, None, False, True),
    ("shared, wrong secret", "0.0.0.0", True, False, SECRET[:-1] + "x", False, True),
    ("shared, the secret", "0.0.0.0", True, False, SECRET, True, False),
]


@pytest.mark.parametrize(
    ("host", "secret", "shared", "typed", "drawn", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_library_controls_only_for_those_who_may_change_it(
    monkeypatch, private_library, tmp_path, address, host, secret, shared, typed, drawn, field
) -> None:
    at = _page(monkeypatch, private_library, tmp_path, host, secret, shared)
    if typed is not None:
        at = _unlock(at, typed)
    assert not at.exception, [e.value for e in at.exception]
    assert _controls(at) == (drawn, drawn, field)
    if not drawn and not secret:
        assert NO_SECRET in [caption.value for caption in at.sidebar.caption]
    if typed is not None and not drawn:
        assert any("not the admin secret" in e.value for e in at.sidebar.error)


def test_an_upload_its_rebuild_and_an_answer_are_in_the_audit_log(
    monkeypatch, private_library, tmp_path, address
) -> None:
    monkeypatch.setenv("GUIDELINE_ASSISTANT_AUDIT_ANSWERS", "true")
    at = _page(monkeypatch, private_library, tmp_path, "127.0.0.1", secret=False)
    text = b"# Sepsis in adults\n\n## Fluids\n\nGive a 500 mL crystalloid bolus over 15 minutes to adults with sepsis [1].\n"
    at.sidebar.file_uploader[0].set_value(("sepsis.md", text, "text/markdown")).run(timeout=TIMEOUT)
    assert not at.exception and not at.sidebar.error, [e.value for e in at.sidebar.error]
    ask(at, "What fluid bolus is given in sepsis?")
    upload, rebuild, answer = audit.read_log(private_library[1] / audit.AUDIT_FILE).records
    assert (upload["action"], upload["file"], upload["outcome"]) == ("upload", "sepsis.md", "ok")
    assert upload["sha256"] == audit.sha256_hex(text) and upload["size"] == len(text)
    assert rebuild["action"] == "rebuild" and rebuild["outcome"] == "ok"
    assert answer["action"] == "answer" and answer["question_sha256"] == audit.sha256_hex(
        "What fluid bolus is given in sepsis?"
    )
    assert answer["statements"] and answer["build_id"]


MB = 1_000_000
SIZES = [
    # (id, file name, bytes, refused with this fragment or None)
    ("text under the index's limit", "g.md", 4 * MB, None),
    ("text over the index's limit", "g.md", 6 * MB, "over the 5 MB limit for .md guidelines"),
    ("plain text over it", "g.txt", 5 * MB + 1, "over the 5 MB limit for .txt guidelines"),
    ("a page under its larger limit", "g.html", 6 * MB, None),
    ("a PDF over the upload limit", "g.pdf", 21 * 1024 * 1024, "limit for .pdf guidelines"),
]


@pytest.mark.parametrize(("name", "size", "refused"), [c[1:] for c in SIZES], ids=[c[0] for c in SIZES])
def test_an_upload_the_index_would_not_read_is_refused_naming_the_limit(tmp_path, name, size, refused) -> None:
    data = b"Give IVIG 1 g/kg. " * (size // 18) + b"x" * (size % 18)
    if refused is None:
        assert library.save_upload(tmp_path, name, data).stat().st_size == size
        return
    with pytest.raises(library.UploadRefused) as caught:
        library.save_upload(tmp_path, name, data)
    assert refused in str(caught.value) and "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_upload_is_shown_in_one_line(monkeypatch, private_library, tmp_path, address) -> None:
    at = _page(monkeypatch, private_library, tmp_path, "127.0.0.1", secret=False)
    at.sidebar.file_uploader[0].set_value(("big.md", b"a" * (6 * MB), "text/markdown")).run()
    (error,) = at.sidebar.error
    assert plain(error.value).startswith("big.md: 6.0 MB is over the 5 MB limit for .md guidelines")
    assert not (private_library[0] / "big.md").exists()


def test_an_unreadable_secret_file_keeps_the_library_locked(monkeypatch, private_library, tmp_path, address) -> None:
    monkeypatch.setenv("GUIDELINE_ASSISTANT_ADMIN_SECRET_FILE", str(tmp_path / "no-such-secret"))
    at = _page(monkeypatch, private_library, tmp_path, "0.0.0.0", secret=False)
    assert _controls(at) == (False, False, False)
    assert any("cannot be read" in plain(error.value) for error in at.sidebar.error)
