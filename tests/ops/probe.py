"""Look at and change a KratomWatch database from a separate process: ``python -m tests.ops.probe``.

The backup tests never touch the test run's own database: each works on a database of its
own, chosen by the environment (``KRATOMWATCH_DATA_DIR`` or ``DATABASE_URL``) exactly as the
real commands choose it, and reads or changes it through this probe. Every command prints
one JSON document.

    seed                    migrate, seed a small demo clinic (3 patients, 7 days)
    snapshot                rows per table and exact values of the main records
    mutate                  add a dose, delete a symptom report, rename the clinic
    doses PREFIX            the doses whose idempotency key starts with PREFIX
    write-loop PREFIX STOP  record doses until the file STOP exists (at most 60 s)
    consistency PREFIX      doses with PREFIX and their audit events, matched up
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

PATIENT = "patient01"


def _setup(creates_database: bool) -> None:
    from kratomwatch.cli.db import setup_django

    setup_django(argparse.Namespace(data_dir=None), creates_database=creates_database)


def _record(key: str, amount: str, minutes_ago: int) -> Any:
    from django.utils import timezone

    from kratomwatch.clinic.actions.doses import do_record_dose
    from kratomwatch.clinic.models import PatientProfile, Product
    from kratomwatch.clinic.screening_input import product_spec
    from kratomwatch.domain.doses import check_dose

    patient = PatientProfile.objects.select_related("user").get(user__username=PATIENT)
    product = Product.objects.filter(patient=patient, archived=False).order_by("pk").first()
    assert product is not None
    now = timezone.now()
    checked = check_dose(
        amount=amount,
        unit="g",
        taken_at=now - timedelta(minutes=minutes_ago),
        product=product_spec(product),
        now=now,
    )
    entry, _ = do_record_dose(
        patient=patient,
        entered_by=patient.user,
        product=product,
        checked=checked,
        idempotency_key=key,
    )
    return entry


def seed() -> dict[str, Any]:
    from kratomwatch.cli.db import migrate
    from kratomwatch.clinic.models import PatientProfile, Product
    from kratomwatch.synthetic.seed import seed_demo_clinic

    migrate()
    summary = seed_demo_clinic(patients=3, days=7)
    patient = PatientProfile.objects.get(user__username=PATIENT)
    product = Product.objects.filter(patient=patient, archived=False).order_by("pk").first()
    assert product is not None
    return {"username": PATIENT, "password": summary.password, "product": str(product.uuid)}


def snapshot() -> dict[str, Any]:
    from django.db import connection

    from kratomwatch.clinic.models import Clinic, DoseEntry, Finding, SymptomReport, User

    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    doses = [
        [str(d.uuid), d.patient.user.username, str(d.amount), d.unit, d.taken_at.isoformat()]
        + [d.idempotency_key, str(d.mitragynine_mg), d.created.isoformat()]
        for d in DoseEntry.objects.select_related("patient__user")
    ]
    return {
        "counts": counts,
        "doses": sorted(doses),
        "users": sorted([u.username, u.role, u.password, u.is_active] for u in User.objects.all()),
        "clinics": sorted([c.slug, c.name] for c in Clinic.objects.all()),
        "symptoms": sorted([str(s.uuid), s.term, s.severity] for s in SymptomReport.objects.all()),
        "findings": sorted([str(f.uuid), f.code, f.status] for f in Finding.objects.all()),
    }


def mutate() -> dict[str, Any]:
    from kratomwatch.clinic.models import Clinic, SymptomReport

    entry = _record(f"mutate-{uuid.uuid4().hex}", "1.5", 30)
    gone = SymptomReport.objects.order_by("pk").first()
    assert gone is not None
    gone_uuid = str(gone.uuid)
    gone.delete()
    Clinic.objects.filter(slug="demo").update(name="Renamed after the backup")
    return {"added_dose": str(entry.uuid), "deleted_symptom": gone_uuid}


def doses(prefix: str) -> dict[str, Any]:
    from kratomwatch.clinic.models import DoseEntry

    found: dict[str, Any] = {}
    for d in DoseEntry.objects.filter(idempotency_key__startswith=prefix):
        row = found.setdefault(d.idempotency_key, {"count": 0})
        row.update(count=row["count"] + 1, amount=str(d.amount), taken_at=d.taken_at.isoformat())
    return found


def write_loop(prefix: str, stop: str) -> dict[str, Any]:
    written, deadline = 0, time.monotonic() + 60
    while not Path(stop).exists() and time.monotonic() < deadline:
        _record(f"{prefix}{written:05d}", "2", written % 600)
        written += 1
        if written == 5:
            print("writing", flush=True)  # the test waits for this line
    return {"written": written}


def consistency(prefix: str) -> dict[str, Any]:
    from kratomwatch.clinic.models import AuditEvent, DoseEntry

    dose_uuids = set(
        DoseEntry.objects.filter(idempotency_key__startswith=prefix).values_list("uuid", flat=True)
    )
    audited = list(
        AuditEvent.objects.filter(action="dose.create", object_uuid__in=dose_uuids).values_list(
            "object_uuid", flat=True
        )
    )
    all_doses = DoseEntry.objects.values("uuid")
    orphans = AuditEvent.objects.filter(action="dose.create").exclude(object_uuid__in=all_doses)
    return {
        "doses": len(dose_uuids),
        "events_without_dose": orphans.count(),
        "audit_events": len(audited),
        "doses_without_exactly_one_event": sorted(
            str(u) for u in dose_uuids if audited.count(u) != 1
        ),
    }


def main(argv: list[str]) -> int:
    command, *rest = argv
    _setup(creates_database=command == "seed")
    handlers = {
        "seed": seed,
        "snapshot": snapshot,
        "mutate": mutate,
        "doses": doses,
        "write-loop": write_loop,
        "consistency": consistency,
    }
    result = handlers[command](*rest)  # type: ignore[operator]
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
