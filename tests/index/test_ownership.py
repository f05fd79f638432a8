"""Issue 22 cases 1-4: the index owns a folder by its marker only, and never touches anyone else's data.

Each case writes the user's folder itself, runs the real build (real model, real
FAISS) or the real ``eval`` command, and compares every file's bytes before and after.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.errors import IndexCorrupt, IndexFolderError
from assistant.index.build import MARKER_FILE, build_index, ensure_index
from assistant.index.store import MANIFEST_FILE, load_index

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
LEGACY_TEXT = "Made by guideline-assistant; the whole folder is rebuilt on demand.\n"  # main's marker, no id
WEB_MANIFEST = '{"name": "My ward app", "start_url": "/", "display": "standalone"}\n'


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder): what "nothing was touched" compares."""
    if not root.exists():
        return {}
    return {p.relative_to(root.parent).as_posix(): (p.read_bytes() if p.is_file() else None) for p in [root, *root.rglob("*")]}


def write_tree(root: Path, layout: dict[str, str | None]) -> None:
    """``{relative path: text}``; None makes a folder (with a file inside, so it is someone's data)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in layout.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
            (path / "keep.txt").write_text("mine\n")
        else:
            path.write_text(content)


# --------------------------------------------------------------------------- case 1 and 3: the index folder


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param({"manifest.json": WEB_MANIFEST, "index.html": "<h1>app</h1>"}, id="web-app-manifest"),
        pytest.param({"manifest.json": WEB_MANIFEST}, id="only-a-manifest"),
        pytest.param({"index.faiss": "not faiss", "chunks.jsonl": "{}\n", "notes.md": "mine"}, id="faiss-and-chunks"),
        pytest.param(
            {"manifest.json": WEB_MANIFEST, "index.faiss": "x", "chunks.jsonl": "{}\n", "documents.json": "[]"},
            id="every-artifact-name",
        ),
        pytest.param({"README.md": None}, id="case3-a-folder-named-README.md"),
        pytest.param({".gitkeep": None}, id="case3-a-folder-named-.gitkeep"),
        pytest.param({"README.md": None, ".gitkeep": ""}, id="case3-README-folder-beside-gitkeep"),
        pytest.param({MARKER_FILE: None}, id="a-folder-named-like-the-marker"),
        pytest.param({MARKER_FILE: "I wrote this myself\n", "thesis.md": "mine"}, id="a-marker-with-foreign-text"),
    ],
)
def test_a_folder_is_ours_by_marker_only_never_by_file_names(make_corpus, embedder, tmp_path: Path, layout) -> None:
    settings = make_corpus({"a.txt": GOOD})
    target = tmp_path / "work" / "precious"
    write_tree(target, layout)
    before = snapshot(target.parent)
    chosen = settings.with_overrides(index_dir=target)

    # What `ask` does (load, building when missing) and what `index build` does.
    for attempt in (lambda: ensure_index(chosen, embedder), lambda: build_index(chosen, embedder)):
        with pytest.raises(IndexFolderError) as refused:
            attempt()
        message = str(refused.value)
        assert "\n" not in message and str(target) in message
        assert "index build" not in message, "the advice must never be a command that replaces the folder"
    assert snapshot(target.parent) == before


def test_a_placeholder_folder_and_a_legacy_index_are_still_ours(make_corpus, embedder, tmp_path: Path) -> None:
    """The other side: README.md/.gitkeep *files* are built into; an index from before marker ids keeps working."""
    from assistant.index.owned import LEGACY_MARKER_TEXT, read_marker

    settings = make_corpus({"a.txt": GOOD})
    target = tmp_path / "index"
    write_tree(target, {"README.md": "placeholder\n", ".gitkeep": ""})
    built = build_index(settings.with_overrides(index_dir=target), embedder)
    marker = read_marker(target)
    assert marker is not None and marker.id == built.manifest.owner_id and (target / "README.md").read_text() == "placeholder\n"

    # An index as main wrote it: the marker's one line, no id in it or in the manifest.
    (target / MARKER_FILE).write_text(LEGACY_MARKER_TEXT + "\n")
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    manifest.pop("owner_id")
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert load_index(settings.with_overrides(index_dir=target)).chunks  # still loads
    rebuilt = build_index(settings.with_overrides(index_dir=target), embedder)  # the upgrade path: a rebuild
    assert read_marker(target).id == rebuilt.manifest.owner_id is not None


def test_a_marker_copied_from_another_index_does_not_match_its_manifest(make_corpus, embedder, tmp_path: Path) -> None:
    settings = make_corpus({"a.txt": GOOD})
    first = build_index(settings.with_overrides(index_dir=tmp_path / "one"), embedder)
    build_index(settings.with_overrides(index_dir=tmp_path / "two"), embedder)
    (tmp_path / "two" / MARKER_FILE).write_bytes((first.directory / MARKER_FILE).read_bytes())
    with pytest.raises(IndexCorrupt, match="not written by the same build"):
        load_index(settings.with_overrides(index_dir=tmp_path / "two"))


# --------------------------------------------------------------------------- case 2: staging and backup siblings


@pytest.mark.parametrize(
    ("sibling", "layout", "kept"),
    [
        pytest.param(".index.old", {"photos/a.jpg": "jpeg"}, True, id="user-folder-named-like-the-backup"),
        pytest.param(".index.tmp-123", {"draft.md": "mine"}, True, id="user-folder-named-like-staging"),
        pytest.param(".index.tmp-old-notes", {"notes.txt": "mine", MARKER_FILE: LEGACY_TEXT}, True,
                     id="staging-name-with-a-marker-without-id"),
        pytest.param(".index.tmp-999-dead", "marked-staging", False, id="control-a-dead-staging-folder-we-marked"),
    ],
)
def test_only_marked_staging_and_backup_siblings_are_removed(
    make_corpus, embedder, tmp_path: Path, sibling: str, layout, kept: bool
) -> None:
    settings = make_corpus({"a.txt": GOOD})
    index_dir = tmp_path / "index"
    build_index(settings.with_overrides(index_dir=index_dir), embedder)
    neighbour = tmp_path / sibling
    if layout == "marked-staging":
        from assistant.index.owned import create_marked

        create_marked(neighbour, role="staging")
        (neighbour / "chunks.jsonl").write_text("{}\n")
    else:
        write_tree(neighbour, layout)
    before = snapshot(neighbour)

    try:
        build_index(settings.with_overrides(index_dir=index_dir), embedder, incremental=False)
    except IndexFolderError as exc:  # a foreign folder in the way of the backup: refused, in one line
        assert sibling.endswith(".old") and "\n" not in str(exc) and "nothing was touched" in str(exc)
    assert (snapshot(neighbour) == before) if kept else not neighbour.exists()


# --------------------------------------------------------------------------- case 4: eval --out


def _eval(tmp_path: Path, out: Path, *extra: str):
    from assistant.cli import app

    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "q1", "question": "What IVIG dose is used in warm AIHA?", "abstain": false}\n')
    return CliRunner().invoke(
        app,
        ["eval", "--gold", str(gold), "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "nix"),
         "--out", str(out), *extra],
    )


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param({"report.md": "# My audit report\n"}, id="a-users-report"),
        pytest.param({"metrics.json": '{"mine": 1}\n', "answers.jsonl": "x\n"}, id="a-users-metrics"),
        pytest.param({"thesis/chapter1.md": "mine"}, id="any-other-files"),
    ],
)
def test_eval_out_refuses_a_non_empty_folder_it_did_not_create(tmp_path: Path, layout) -> None:
    out = tmp_path / "results"
    write_tree(out, layout)
    before = snapshot(out)
    result = _eval(tmp_path, out)
    assert result.exit_code == 2, result.output
    assert "already holds files" in result.output and "--force" in result.output
    assert snapshot(out) == before


@pytest.mark.parametrize(
    ("prepare", "force", "refused"),
    [
        pytest.param(lambda out: None, False, False, id="a-new-folder"),
        pytest.param(lambda out: out.mkdir(), False, False, id="an-empty-folder"),
        pytest.param(lambda out: write_tree(out, {"report.md": "mine"}), True, False, id="force-says-overwrite"),
        pytest.param(lambda out: write_tree(out, {"report.md": "mine"}), False, True, id="not-ours"),
    ],
)
def test_claiming_an_eval_folder(tmp_path: Path, prepare, force: bool, refused: bool) -> None:
    from assistant.evaluation.out_folder import EVAL_MARKER_FILE, claim_out_folder

    out = tmp_path / "results"
    prepare(out)
    if refused:
        with pytest.raises(ValueError, match="--force"):
            claim_out_folder(out, force)
        assert not (out / EVAL_MARKER_FILE).exists()
        return
    claim_out_folder(out, force)
    (out / "report.md").write_text("# a run\n")
    claim_out_folder(out)  # a folder an evaluation created is its own to write again
    assert (out / EVAL_MARKER_FILE).is_file()
