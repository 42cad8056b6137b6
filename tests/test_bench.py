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
    """bench/run.py on a tiny clinic: every measure, the load tests, the capacity figure and
    the JSON figures."""
    import json
    import os
    import subprocess
    import sys

    report = load("report")
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--size", "40x30", "--duration", "2",
         "--runs", "3", "--peak-users", "1,3", "--peak-seconds", "2", "--json", str(out)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="120"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "dose/trivial throughput (a figure, no target)" in result.stdout
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
    wrk = size["load"]
    for endpoint in ("me", "dose"):
        assert wrk[endpoint]["rps"] > 0 and wrk[endpoint]["errors"] == 0
        cpu = wrk[endpoint]["cpu_ms_per_request"]
        assert cpu["server"] > 0 and cpu["wrk"] > 0
        assert (cpu["database"] > 0) == (expected == "postgresql")
    assert "CPU per request" in result.stdout
    assert wrk["ratio"] == round(wrk["dose"]["rps"] / wrk["me"]["rps"], 3)
    # The endpoints were loaded in turns, the trivial one first and last; each endpoint's
    # figures are those of all its turns.
    assert len(wrk["me_parts_rps"]) == 3 and len(wrk["dose_parts_rps"]) == 2
    for endpoint, parts in (("me", wrk["me_parts_rps"]), ("dose", wrk["dose_parts_rps"])):
        assert all(rps > 0 for rps in parts)
        assert min(parts) <= wrk[endpoint]["rps"] <= max(parts)
    assert 0 < wrk["worker_rss_mb"] <= wrk["worker_peak_rss_mb"]
    # Capacity: steps of 1 and 3 locust users (the second unless the first reached the p95
    # limit), each with its throughput, latency and the CPU used meanwhile.
    capacity = size["capacity"]
    steps = capacity["steps"]
    assert [step["users"] for step in steps] == [1, 3][: len(steps)] and steps
    for step in steps:
        assert step["requests"] > 0 and step["rps"] > 0 and step["errors"] == 0
        assert 0 < step["p50_ms"] <= step["p95_ms"] <= step["p99_ms"]
        cores = step["cores"]
        assert 0 < cores["server"] <= 2.5 and 0 < cores["generator"] < cores["server"]
        assert (cores["database"] > 0) == (expected == "postgresql")
        # patients = requests/s x 3600 / (15.7 requests a day x 15% in the peak hour)
        assert abs(step["patients"] - step["rps"] * 3600 / (15.7 * 0.15)) <= 10  # rps rounded
        used = cores["server"] + cores["database"]
        per_core = step["patients"] / used
        assert abs(step["patients_per_core"] - per_core) <= 0.01 * per_core
        assert 1_000 < step["patients_per_core"] < 10_000_000
    kept = [s for s in steps if s["p95_ms"] < 300]
    best = capacity["best"]
    if kept:
        assert best["rps"] == max(s["rps"] for s in kept)
        assert capacity["patients_per_core"] == best["patients_per_core"]
        assert "patients per core" in result.stdout
        # Which requests a 2-second step happens to make is random (the mix itself is checked
        # below, from the request model): each one made is one the model knows.
        assert best["by_request"] and set(best["by_request"]) <= set(report.REQUESTS)
    else:
        assert best is None and capacity["patients_per_core"] == 0
    assert "Visit report PDF (single requests): p95" in result.stdout


def test_the_peak_hour_mix_is_that_of_the_request_model() -> None:
    """A patient's day is 15 requests (the check-in is 3: form, POST, redirect), a
    clinician's 70 (an acknowledgement is 2: POST, redirect), and run.py's capacity figure
    counts 15.7 a patient."""
    import ast

    tree = ast.parse((BENCH / "peak.py").read_text())
    days = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("PATIENT_DAY", "CLINICIAN_DAY")
    }  # fmt: skip
    patient, clinician = days["PATIENT_DAY"], days["CLINICIAN_DAY"]
    assert sum(patient.values()) + 2 * patient["checkin"] == 15
    # 60 pages, the acknowledgements' redirects (patient pages) among them, and 10 POSTs
    assert sum(clinician.values()) == 60 and clinician["ack"] == 10
    source = (BENCH / "run.py").read_text()
    assert "REQUESTS_PER_PATIENT_DAY = 15 + 70 / 100" in source
    assert "PEAK_HOUR_SHARE = 0.15" in source


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


def test_the_bulk_export_benchmark_runs_through_the_async_api(tmp_path: Path) -> None:
    """bench/bulk_export.py on a tiny SQLite clinic: token, kick-off, worker process, status,
    download, and every line validated."""
    import json
    import os
    import subprocess
    import sys

    out = tmp_path / "bulk.json"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, str(BENCH / "bulk_export.py"), "--patients", "12", "--days", "5",
         "--data-dir", str(tmp_path / "data"), "--json", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["patients"] == 12 and figures["by_type"]["Patient"] == 12
    assert figures["invalid_lines"] == 0 and figures["resources"] > 12
    assert figures["worker_peak_rss_mb"] > 0
