"""FHIR Bulk Data export of a large synthetic clinic through the async API, with the worker's
peak memory.

Usage: python bench/bulk_export.py [--patients 10000] [--days 30] [--data-dir DIR]
       [--json OUT.json]
Uses the database of DATABASE_URL (PostgreSQL) or of --data-dir (SQLite), as the CLI does.
Creates (or reuses) the synthetic clinic ``bulk<patients>x<days>`` (``kratomwatch synth``'s
bulk writer), registers a bulk client with a new key, then, through the HTTP API (Django's
test client, in this process): signs an assertion and gets an access token, kicks off
``GET /fhir/Group/<clinic>/$export`` with ``Prefer: respond-async``, runs
``kratomwatch bulk-worker --once`` as a separate process (its peak resident memory is the
figure: ``ru_maxrss`` of the child), polls the status URL, downloads every file and validates
every line with its ``fhir.resources`` R4B model. Prints the figures as JSON.

Run with 1,000 and with 10,000 patients: the worker's peak memory should not grow with the
clinic, since it holds one page of patients and one part per resource type at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _jwks(private: Any) -> dict[str, Any]:
    import jwt

    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "bench", "alg": "ES384", "use": "sig"})
    return {"keys": [jwk]}


def _assertion(private: Any, issuer: str, audience: str) -> str:
    import jwt

    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + 240,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, private, algorithm="ES384", headers={"kid": "bench"})


def run(patients: int, days: int, data_dir: str | None) -> dict[str, Any]:
    from kratomwatch.cli.db import migrate, setup_django

    where = setup_django(argparse.Namespace(data_dir=data_dir), creates_database=True)
    migrate()
    from urllib.parse import urlsplit

    from cryptography.hazmat.primitives.asymmetric import ec
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from fhir.resources.R4B import get_fhir_model_class

    from kratomwatch.clinic.models import Clinic, EhrClient
    from kratomwatch.synthetic.synth import synthesize

    slug = f"bulk{patients}x{days}"
    started = time.perf_counter()
    if not Clinic.objects.filter(slug=slug).exists():
        synthesize(patients=patients, days=days, slug=slug)
    synth_s = time.perf_counter() - started
    clinic = Clinic.objects.get(slug=slug)

    base = str(settings.KRATOMWATCH_BASE_URL).rstrip("/")
    issuer = f"bench-{uuid.uuid4().hex[:8]}"
    private = ec.generate_private_key(ec.SECP384R1())
    EhrClient.objects.create(
        clinic=clinic,
        kind="bulk",
        name=issuer,
        issuer=issuer,
        jwks=_jwks(private),
        scopes="system/*.read",
    )
    http = Client(HTTP_HOST=urlsplit(base).netloc)

    def auth() -> dict[str, str]:
        """A new access token (they live five minutes, as a real client would find)."""
        reply = http.post(
            "/oauth/token",
            {
                "grant_type": "client_credentials",
                "scope": "system/*.read",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": _assertion(private, issuer, f"{base}/oauth/token"),
            },
        )
        assert reply.status_code == 200, reply.content
        return {"HTTP_AUTHORIZATION": f"Bearer {reply.json()['access_token']}"}

    total_start = time.perf_counter()
    kickoff = http.get(f"/fhir/Group/{clinic.uuid}/$export", HTTP_PREFER="respond-async", **auth())
    assert kickoff.status_code == 202, kickoff.content
    status_url = kickoff["Content-Location"]

    connection.close()  # the worker is another process; SQLite must not see us writing
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    )
    worker_argv = [sys.executable, "-m", "kratomwatch", "bulk-worker", "--once"]
    if data_dir:
        worker_argv += ["--data-dir", data_dir]
    worker_start = time.perf_counter()
    subprocess.run(worker_argv, check=True, env=env, stdout=subprocess.DEVNULL)
    worker_s = time.perf_counter() - worker_start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    status = http.get(status_url, **auth())
    assert status.status_code == 200, (status.status_code, status.content[:300])
    manifest = status.json()
    assert manifest["error"] == [], manifest["error"]
    counts: Counter[str] = Counter()
    invalid = 0
    download_start = time.perf_counter()
    for entry in manifest["output"]:
        path = entry["url"].split("://", 1)[1].split("/", 1)[1]
        body = http.get("/" + path, **auth())
        assert body.status_code == 200
        buffer = ""
        for piece in body.streaming_content:
            buffer += piece.decode()
            *complete, buffer = buffer.split("\n")
            for line in complete:
                item = json.loads(line)
                try:
                    get_fhir_model_class(item["resourceType"]).model_validate(item)
                except ValueError:
                    invalid += 1
                counts[item["resourceType"]] += 1
        assert buffer == ""
    download_s = time.perf_counter() - download_start
    assert counts["Patient"] == patients, counts
    return {
        "benchmark": f"FHIR bulk export of {patients} patients x {days} days ({connection.vendor})",
        "database": where,
        "patients": patients,
        "days": days,
        "synth_s": round(synth_s, 1),
        "worker_s": round(worker_s, 1),
        "download_and_validate_s": round(download_s, 1),
        "end_to_end_s": round(time.perf_counter() - total_start, 1),
        "files": len(manifest["output"]),
        "resources": sum(counts.values()),
        "by_type": dict(counts),
        "invalid_lines": invalid,
        "worker_peak_rss_mb": round(peak_kb / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--data-dir", metavar="DIR", help="SQLite data directory")
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args()
    figures = run(args.patients, args.days, args.data_dir)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
