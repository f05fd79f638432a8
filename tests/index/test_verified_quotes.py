"""Issue 22 cases 5 and 6: an index is refused when its statements are not the guideline file's own words.

The attacker edits the index files and recomputes every checksum in the manifest
(what ``reseal`` does), so only a comparison with the guideline file itself can
catch it. Real builds (real model, FAISS), real HTML, real PDFs written by fpdf2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fpdf import FPDF

from assistant import Assistant
from assistant.errors import IndexCorrupt
from assistant.index.build import build_index
from assistant.index.store import (
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    INDEX_FILE,
    MANIFEST_FILE,
    load_index,
    sha256_file,
    text_path,
)

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
HTML = (
    "<html><head><title>Pneumonia</title></head><body><main><h1>Community pneumonia</h1>"
    "<p>Offer amoxicillin 500 mg three times a day for 5 days.</p>"
    "<p>Review the diagnosis if symptoms have not improved after 3 days.</p></main></body></html>"
)
PDF_LINES = [
    "Community pneumonia",
    "Offer amoxicillin 500 mg three times a day for 5 days.",
    "Review the diagnosis if symptoms have not improved after 3 days.",
]


def write_pdf(path: Path) -> None:
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    pdf.text(20, 20, PDF_LINES[0])
    pdf.set_font("helvetica", size=11)
    for number, line in enumerate(PDF_LINES[1:], start=1):
        pdf.text(20, 20 + 10 * number, line)
    pdf.output(str(path))


def reseal(index_dir: Path) -> None:
    """Recompute every checksum the manifest lists, as an attacker who edited the index would."""
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    files = {name: sha256_file(index_dir / name) for name in (INDEX_FILE, CHUNKS_FILE, DOCUMENTS_FILE)}
    files |= {p.relative_to(index_dir).as_posix(): sha256_file(p) for p in sorted((index_dir / "texts").rglob("*.txt"))}
    manifest["files"] = files
    (index_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def edit_chunks(index_dir: Path, source: str, change) -> int:
    """Apply ``change(record) -> record`` to every statement of ``source``; returns how many changed."""
    path = index_dir / CHUNKS_FILE
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    changed = 0
    for i, record in enumerate(records):
        if record["source"] == source:
            new = change(dict(record))
            changed += new != record
            records[i] = new
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return changed


def set_offsets(index_dir: Path, source: str, mode: str) -> None:
    """Claim ``mode`` offsets for a source in documents.json (and in the manifest, where it records them)."""
    path = index_dir / DOCUMENTS_FILE
    documents = json.loads(path.read_text(encoding="utf-8"))
    for document in documents:
        if document["source"] == source:
            document["offsets"] = mode
    path.write_text(json.dumps(documents), encoding="utf-8")
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    if "offsets" in manifest:
        manifest["offsets"][source] = mode
        (index_dir / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")


# --------------------------------------------------------------------------- case 5


@pytest.mark.parametrize("name", ["ivig.txt", "ivig.md"])
def test_a_raw_offset_source_never_accepts_a_canonical_text(make_corpus, embedder, name: str) -> None:
    """A .txt/.md switched to "canonical" with a forged index/texts file: the forgery must not be quoted."""
    settings = make_corpus({name: GOOD})
    build_index(settings, embedder)
    index_dir = settings.index_dir
    forged = GOOD.replace("1 g/kg as a single dose", "5 g/kg as a single dose")
    target = text_path(index_dir, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(forged, encoding="utf-8", newline="")

    def forge(record: dict) -> dict:
        record["offsets"] = "canonical"
        record["text"] = forged[record["start"] : record["end"]]
        return record

    assert edit_chunks(index_dir, name, forge) > 0
    assert any("5 g/kg" in json.loads(line)["text"] for line in (index_dir / CHUNKS_FILE).open(encoding="utf-8"))
    set_offsets(index_dir, name, "canonical")
    reseal(index_dir)

    with pytest.raises(IndexCorrupt) as refused:
        load_index(settings)
    assert name in str(refused.value) and "\n" not in str(refused.value)


# --------------------------------------------------------------------------- case 6


@pytest.mark.parametrize(
    ("name", "write", "drop_text"),
    [
        pytest.param("pneumonia.html", lambda path: path.write_text(HTML, encoding="utf-8"), True, id="html-text-deleted"),
        pytest.param("pneumonia.pdf", write_pdf, True, id="pdf-text-deleted"),
        pytest.param("pneumonia.html", lambda path: path.write_text(HTML, encoding="utf-8"), False, id="html-text-forged"),
        pytest.param("pneumonia.pdf", write_pdf, False, id="pdf-text-forged"),
    ],
)
@pytest.mark.parametrize("fresh_process", [False, True], ids=["same-process", "fresh-process"])
def test_a_canonical_text_is_re_derived_from_the_file(
    make_corpus, embedder, name: str, write, drop_text: bool, fresh_process: bool
) -> None:
    """Deleting (or consistently forging) index/texts/<source>.txt is no pass: the file's own text is the check.

    A process that extracted the file (it built the index) refuses the index at load; a
    freshly started one (no extraction yet: a library's PDFs take a minute) refuses a
    missing text at load and re-extracts the file before any of its quotes is shown.
    """
    settings = make_corpus({"a.txt": GOOD})
    write(settings.corpus_dir / name)
    built = build_index(settings, embedder)
    assert any(c.source == name and "500 mg" in c.text for c in built.chunks), "the fixture must be indexed"
    index_dir = settings.index_dir
    stored = text_path(index_dir, name)
    if drop_text:
        stored.unlink()
    else:
        stored.write_text(stored.read_text(encoding="utf-8").replace("500 mg", "5000 mg"), encoding="utf-8")
    shifted = []  # with a forged text one character longer, every later offset moves by one

    def edit(record: dict) -> dict:
        if not drop_text and shifted:
            record["start"] += 1
            record["end"] += 1
        if "500 mg" in record["text"]:
            record["text"] = record["text"].replace("500 mg", "5000 mg")
            if not drop_text:
                record["end"] += 1
                shifted.append(True)
        return record

    assert edit_chunks(index_dir, name, edit) >= 1
    reseal(index_dir)
    if fresh_process:
        try:
            from assistant.index.verify import forget_derived
        except ModuleNotFoundError:  # code without an extraction cache is always a fresh process
            pass
        else:
            forget_derived()
    if drop_text or not fresh_process:
        with pytest.raises(IndexCorrupt) as refused:
            load_index(settings)
        assert name in str(refused.value) and "\n" not in str(refused.value)
        return
    answer = Assistant.load(settings=settings).ask("What amoxicillin dose is offered for community pneumonia?")
    assert "5000" not in answer.model_dump_json()
    assert any(name in note and "did not match the guideline file" in note for note in answer.notes)


def test_an_untouched_index_with_html_and_pdf_loads(make_corpus, embedder) -> None:
    """The control: re-deriving the texts accepts an honest index (no false alarm on PDF/HTML/text)."""
    settings = make_corpus({"a.txt": GOOD, "pneumonia.html": HTML})
    write_pdf(settings.corpus_dir / "leaflet.pdf")
    built = build_index(settings, embedder)
    loaded = load_index(settings)
    assert [c.model_dump() for c in loaded.chunks] == [c.model_dump() for c in built.chunks]
    assert {d.source: d.offsets for d in loaded.documents} == {
        "a.txt": "raw", "leaflet.pdf": "canonical", "pneumonia.html": "canonical"
    }
