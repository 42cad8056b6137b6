"""bench/analysis.py runs (its figures are recorded in docs/performance.md, not asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "analysis.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_analysis", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_analysis_benchmark_runs() -> None:
    figures = load().measure(runs=2)
    assert figures["runs"] == 2
    for key in ("dose_response_90d", "dose_response_365d", "full_diary_365d", "trial_3_pairs_14d"):
        assert figures[key]["median_ms"] > 0 and figures[key]["p95_ms"] >= figures[key]["median_ms"]


def test_the_synthetic_diary_is_reproducible() -> None:
    bench = load()
    assert bench.synthetic_diary(30) == bench.synthetic_diary(30)
    assert len(bench.synthetic_diary(365)) == 365
