"""Server time of the patient's check-in page and its submit, at demo size.

Usage: python bench/checkin.py [--runs N] [--json OUT.json]
Seeds the demo clinic (30 patients x 120 days) into a temporary SQLite database, then times
GET /me/checkin/ and POST /me/checkin/ (two doses and ratings, a fresh idempotency key each
time), going round the 30 patients, through Django's test client, which runs the whole request
stack in-process (middleware, view, templates, database, screening on commit) without network
noise. Target: p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path


def setup() -> None:
    data = tempfile.mkdtemp(prefix="kw-bench-")
    os.environ.setdefault("KRATOMWATCH_DATA_DIR", data)
    os.environ.setdefault("KRATOMWATCH_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratomwatch.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def checkin_form(
    product_uuid: str, amount: str, unit: str, now: datetime | None = None
) -> dict[str, str]:
    """A check-in with ratings and two doses earlier today, under a fresh idempotency key.
    ``now`` is the clinic's local time (by default Django's, which needs settings)."""
    if now is None:
        from django.utils import timezone

        now = timezone.localtime()
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "r-pain_now": "5",
        "r-pain_average": "5",
        "r-interference_activity": "4",
        "r-interference_enjoyment": "3",
        "r-sleep_quality": "6",
        "dose-TOTAL_FORMS": "2",
        "dose-INITIAL_FORMS": "0",
        "dose-MIN_NUM_FORMS": "0",
        "dose-MAX_NUM_FORMS": "12",
    }
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for k in range(2):
        at = midnight + (now - midnight) * (k + 1) / 3
        data.update(
            {
                f"dose-{k}-took": "on",
                f"dose-{k}-product": product_uuid,
                f"dose-{k}-amount": amount,
                f"dose-{k}-unit": unit,
                f"dose-{k}-at": at.strftime("%H:%M"),
            }
        )
    return data


def run(runs: int) -> dict[str, object]:
    setup()
    from django.test import Client

    from kratomwatch.clinic.models import User
    from kratomwatch.synthetic.seed import seed_demo_clinic

    seed_demo_clinic()
    users = list(User.objects.filter(role="patient", clinic__slug="demo").order_by("username"))
    clients = []
    for user in users:  # one signed-in browser per patient; runs go round the patients
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        last = user.patient_profile.doses.select_related("product").first()
        clients.append((client, last))
    clients[0][0].get("/me/checkin/")  # warm up templates and caches
    get_ms, post_ms = [], []
    for i in range(runs):
        client, last = clients[i % len(clients)]
        start = time.perf_counter()
        response = client.get("/me/checkin/")
        get_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        data = checkin_form(str(last.product.uuid), str(last.amount), last.unit)
        start = time.perf_counter()
        response = client.post("/me/checkin/", data)
        post_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 302, response.content[:500]
    return {
        "benchmark": "patient check-in at demo size (30 patients x 120 days, SQLite)",
        "runs": runs,
        "get_median_ms": round(statistics.median(get_ms), 1),
        "get_p95_ms": round(percentile(get_ms, 0.95), 1),
        "post_median_ms": round(statistics.median(post_ms), 1),
        "post_p95_ms": round(percentile(post_ms, 0.95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args()
    figures = run(args.runs)
    print(
        f"GET  /me/checkin/: median {figures['get_median_ms']} ms, p95 {figures['get_p95_ms']} ms"
    )
    print(
        f"POST /me/checkin/: median {figures['post_median_ms']} ms, "
        f"p95 {figures['post_p95_ms']} ms ({figures['runs']} runs)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    sys.exit(main())
