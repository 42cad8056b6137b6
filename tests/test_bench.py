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


def test_the_benchmark_suite_runs_end_to_end(tmp_path: Path) -> None:
    """bench/run.py on a tiny clinic: every measure, the load test and the JSON figures."""
    import json
    import os
    import subprocess
    import sys

    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--size", "40x30", "--duration", "2",
         "--runs", "3", "--json", str(out)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="120"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "dose/trivial throughput" in result.stdout
    figures = json.loads(out.read_text())
    expected = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    assert figures["database"] == expected
    (size,) = figures["sizes"]
    assert (size["patients"], size["days"]) == (40, 30)
    assert size["rows"]["patient"] == 40 and size["rows"]["dose"] > 40 * 30
    assert size["settle_seconds"] >= 0 and "settled after the bulk load" in result.stdout
    for measure in ("checkin_submit", "dose_api_post", "panel_page", "patient_page",
                    "visit_report_pdf", "screening", "analysis", "cohort_statistics"):  # fmt: skip
        timing = size["latency"][measure]
        assert timing["runs"] >= 3 and 0 < timing["median_ms"] <= timing["p95_ms"]
    load = size["load"]
    for endpoint in ("me", "dose"):
        assert load[endpoint]["rps"] > 0 and load[endpoint]["errors"] == 0
        cpu = load[endpoint]["cpu_ms_per_request"]
        assert cpu["server"] > 0 and cpu["wrk"] > 0
        assert (cpu["database"] > 0) == (expected == "postgresql")
    assert "CPU per request" in result.stdout
    assert load["ratio"] == round(load["dose"]["rps"] / load["me"]["rps"], 3)
    # The endpoints were loaded in turns, the trivial one first and last; each endpoint's
    # figures are those of all its turns.
    assert len(load["me_parts_rps"]) == 3 and len(load["dose_parts_rps"]) == 2
    for endpoint, parts in (("me", load["me_parts_rps"]), ("dose", load["dose_parts_rps"])):
        assert all(rps > 0 for rps in parts)
        assert min(parts) <= load[endpoint]["rps"] <= max(parts)
    assert 0 < load["worker_rss_mb"] <= load["worker_peak_rss_mb"]


def test_the_figures_in_the_docs_are_those_of_the_recorded_runs() -> None:
    """docs/performance.md shows exactly what bench/report.py makes of docs/bench/*.json."""
    report = load("report")
    docs = BENCH.parent / "docs"
    runs = sorted((docs / "bench").glob("full-*.json"))
    assert [p.name for p in runs] == ["full-postgresql.json", "full-sqlite.json"]
    expected = report.report(report.load([str(p) for p in reversed(runs)]))
    text = (docs / "performance.md").read_text()
    section = text.split(report.BEGIN, 1)[1].split(report.END, 1)[0]
    assert section == "\n" + expected, "run bench/report.py --write docs/performance.md ..."
