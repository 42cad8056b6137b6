"""Server time of the clinician's panel and patient page on a large synthetic clinic.

Usage: python bench/clinician.py [--patients 500] [--days 365] [--runs 30] [--json OUT.json]
Seeds a clinic into a temporary SQLite database (or the database of DATABASE_URL), assigns all
patients to one clinician, then times GET /patients/ and GET /patients/<uuid>/ through Django's
test client (whole request stack, in-process). Targets: p95 < 150 ms for both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkin import percentile, setup  # noqa: E402


def run(patients: int, days: int, runs: int) -> dict[str, object]:
    setup()
    from django.db import connection
    from django.test import Client

    from kratomwatch.clinic.models import CareTeamMembership, PatientProfile, User
    from kratomwatch.synthetic.seed import seed_demo_clinic

    started = time.perf_counter()
    summary = seed_demo_clinic(patients=patients, days=days, slug="bench", screen=True)
    seeded_s = time.perf_counter() - started
    clinician = User.objects.get(username="bench-dr.lee")
    for patient in PatientProfile.objects.filter(clinic=summary.clinic):
        CareTeamMembership.objects.get_or_create(patient=patient, clinician=clinician)
    client = Client(HTTP_HOST="localhost")
    client.force_login(clinician)
    uuids = list(
        PatientProfile.objects.filter(clinic=summary.clinic).values_list("uuid", flat=True)[:10]
    )
    client.get("/patients/")
    panel_ms, page_ms = [], []
    executed: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get("/patients/")
    panel_queries = list(executed)
    for i in range(runs):
        start = time.perf_counter()
        assert client.get("/patients/").status_code == 200
        panel_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        assert client.get(f"/patients/{uuids[i % len(uuids)]}/").status_code == 200
        page_ms.append((time.perf_counter() - start) * 1000)
    return {
        "benchmark": f"clinician pages, {patients} patients x {days} days ({connection.vendor})",
        "seed_seconds": round(seeded_s, 1),
        "runs": runs,
        "panel_queries": len(panel_queries),
        "panel_median_ms": round(statistics.median(panel_ms), 1),
        "panel_p95_ms": round(percentile(panel_ms, 0.95), 1),
        "patient_page_median_ms": round(statistics.median(page_ms), 1),
        "patient_page_p95_ms": round(percentile(page_ms, 0.95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args()
    figures = run(args.patients, args.days, args.runs)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
