"""Time of a clinic's cohort statistics (kratomwatch.clinic.cohort) on an existing database.

Usage: python bench/cohort.py --clinic SLUG [--data-dir DIR] [--runs 10] [--now ISO]
       [--json OUT.json]
Uses the database of DATABASE_URL (PostgreSQL) or of --data-dir (SQLite), as the CLI does;
fill it first, e.g. `kratomwatch synth --patients 10000 --days 365 --today 2026-11-20`.
Runs cohort_statistics once to warm the caches, then --runs times, and prints the median and
maximum time, the time of the first run and the number of queries. --now sets the end of the
windows (default: now), e.g. the evening of the synthetic clinic's last day. Target: under 5 s
for 10,000 patients with a year of records on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any


def run(clinic_slug: str, runs: int, now: datetime | None, data_dir: str | None) -> dict[str, Any]:
    from kratomwatch.cli.db import setup_django

    where = setup_django(argparse.Namespace(data_dir=data_dir))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kratomwatch.clinic.cohort import cohort_statistics
    from kratomwatch.clinic.models import Clinic

    clinic = Clinic.objects.get(slug=clinic_slug)
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        stats = cohort_statistics(clinic, now=now)
    first_ms = (time.perf_counter() - start) * 1000
    times_ms = []
    for _ in range(runs):
        start = time.perf_counter()
        cohort_statistics(clinic, now=now)
        times_ms.append((time.perf_counter() - start) * 1000)
    return {
        "benchmark": f"cohort statistics of clinic {clinic_slug!r} ({connection.vendor})",
        "database": where,
        "patients": stats.patients,
        "as_of": stats.as_of.isoformat(),
        "queries": len(queries),
        "runs": runs,
        "first_ms": round(first_ms, 1),
        "median_ms": round(statistics.median(times_ms), 1),
        "max_ms": round(max(times_ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clinic", required=True, metavar="SLUG")
    parser.add_argument("--data-dir", metavar="DIR", help="SQLite data directory")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--now", type=datetime.fromisoformat, help="end of the windows (ISO)")
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args()
    if args.now is not None and args.now.tzinfo is None:
        parser.error("--now needs a UTC offset, e.g. 2026-11-20T23:59+00:00")
    figures = run(args.clinic, max(1, args.runs), args.now, args.data_dir)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
