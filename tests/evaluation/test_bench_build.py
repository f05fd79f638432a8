"""``bench --build`` on a small library: every figure is there and consistent (timings printed, never asserted)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from assistant.evaluation.bench_build import WORK_MARKER, build_bench

pytestmark = pytest.mark.benchmark

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")


def test_build_bench_reports_every_ratio_and_leaves_nothing_behind(make_corpus) -> None:
    settings = make_corpus({f"g{n}.txt": GOOD.replace("IVIG", f"IVIG-{n}") for n in range(3)})
    lines: list[str] = []
    before = set(Path(tempfile.gettempdir()).glob("guideline-assistant-bench-build-*"))
    report = build_bench(settings, sample=16, with_burner=False, figure=lines.append)
    print("\n".join(lines))
    build = report["build"]
    assert report["parse"]["files"] == 3
    assert report["padding"]["sorted"] <= report["padding"]["document_order"]
    assert build["statements"] == 3 * (build["statements"] // 3) and build["distinct"] <= build["statements"]
    assert {"first_build_vs_bare_encoder", "full_rebuild_vs_first"} <= set(build)
    assert build["add_one"]["source"].startswith("g") and build["add_one"]["statements"] > 0
    assert any(line.startswith("build_bench.build.full_rebuild_vs_first = ") for line in lines)
    assert not settings.index_dir.exists()  # the bench builds only in its own temporary folder
    left = set(Path(tempfile.gettempdir()).glob("guideline-assistant-bench-build-*")) - before
    assert not [folder for folder in left if (folder / WORK_MARKER).exists()], left
