"""Speed of the personal analyses: dose-response fits of 90 and 365 days, an N-of-1 trial,
and every patient of a demo-sized clinic.

Usage: python bench/analysis.py [--runs N] [--clinic-runs N] [--json OUT.json]
Prints the median and p95 time of one `analyse_dose_response()` call (linear model with
AR(1) over 41 rho values, plus the plateau comparison: no-effect, piecewise-linear and Emax
families, 12 grid points each) on a seeded synthetic diary, and of one full
`analyse_diary()` (pain, interference and side effects), and of `analyse_trial()` on a
6-period trial. Target: milliseconds (no sampling).

The clinic figures time one pass over 30 diaries of 120 days (the demo clinic's size), each
from the same seeded generator with its own seed (seeds 1-30), without Django or a database:
`clinic_pain` runs `analyse_dose_response()` (pain, with the plateau comparison) for every
patient, `clinic_full` runs `analyse_diary()`. Target: under 2 s for the whole clinic.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np

from kratomwatch.domain.analysis import (
    DayRecord,
    TrialObservation,
    analyse_diary,
    analyse_dose_response,
    analyse_trial,
    design_trial,
)

START = date(2026, 1, 1)
#: The demo clinic's size (``kratomwatch.synthetic.seed.seed_demo_clinic`` defaults).
CLINIC_PATIENTS = 30
CLINIC_DAYS = 120


def synthetic_diary(days: int, seed: int = 2026) -> list[DayRecord]:
    """A seeded diary: dose ~ 4 + 1.5 N(0,1) g, pain with a dose effect, trend and AR(1)."""
    rng = np.random.default_rng(seed)
    dose = np.clip(4 + 1.5 * rng.standard_normal(days), 0, None).round(1)
    e = np.zeros(days)
    for i in range(1, days):
        e[i] = 0.5 * e[i - 1] + rng.normal(0, 0.85)
    pain = np.clip(6 - 0.4 * (dose - 4) + 0.3 * np.arange(days) / 30 + e, 0, 10).round(1)
    side = rng.random(days) < 0.05 + 0.04 * dose
    return [
        DayRecord(
            START + timedelta(days=i),
            float(pain[i]),
            float(dose[i]),
            float(np.clip(pain[i] - 1, 0, 10)),
            bool(side[i]),
        )
        for i in range(days)
    ]


def clinic_diaries() -> list[list[DayRecord]]:
    """30 seeded diaries of 120 days (seeds 1-30): a demo-sized clinic, Django-free."""
    return [synthetic_diary(CLINIC_DAYS, seed) for seed in range(1, CLINIC_PATIENTS + 1)]


def timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    fn()  # warm up (imports, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 3),  # nearest rank
    }


def measure(runs: int, clinic_runs: int | None = None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "benchmark": "personal analyses (seeded synthetic diaries)",
        "runs": runs,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    for days in (90, 365):
        diary = synthetic_diary(days)
        figures[f"dose_response_{days}d"] = timed(lambda d=diary: analyse_dose_response(d), runs)
        figures[f"full_diary_{days}d"] = timed(lambda d=diary: analyse_diary(d), runs)
    schedule = design_trial("usual", "alternative", 14, 3, 2, START, seed=1)
    rng = np.random.default_rng(1)
    obs = [
        TrialObservation(d.day, float(np.clip(6 + rng.normal(), 0, 10)), None)
        for d in schedule.days()
    ]
    figures["trial_3_pairs_14d"] = timed(lambda: analyse_trial(schedule, obs), runs)
    clinic = clinic_diaries()
    sweeps = runs if clinic_runs is None else clinic_runs
    figures["clinic_runs"] = sweeps
    figures["clinic_sufficient"] = sum(analyse_dose_response(d).sufficient for d in clinic)
    figures[f"clinic_pain_{CLINIC_PATIENTS}x{CLINIC_DAYS}d"] = timed(
        lambda: [analyse_dose_response(d) for d in clinic], sweeps
    )
    figures[f"clinic_full_{CLINIC_PATIENTS}x{CLINIC_DAYS}d"] = timed(
        lambda: [analyse_diary(d) for d in clinic], sweeps
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--clinic-runs", type=int, default=20, help="passes over the 30-patient clinic"
    )
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args()
    figures = measure(args.runs, args.clinic_runs)
    for key, value in figures.items():
        if isinstance(value, dict):
            print(f"{key}: median {value['median_ms']} ms, p95 {value['p95_ms']} ms")
    print(
        f"clinic: {figures['clinic_sufficient']} of {CLINIC_PATIENTS} pain analyses sufficient; "
        f"{figures['clinic_runs']} passes over the clinic (target: under 2000 ms a pass)"
    )
    print(f"({figures['runs']} runs, Python {figures['python']}, numpy {figures['numpy']})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
