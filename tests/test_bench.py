"""The benchmark scripts run (their figures are recorded in docs/performance.md, not asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_screening_benchmark_runs_on_a_typical_patient() -> None:
    figures = load("screening").measure(runs=3)
    assert figures["runs"] == 3 and figures["doses"] == 270
    assert figures["findings"] > 0 and figures["median_ms"] > 0
