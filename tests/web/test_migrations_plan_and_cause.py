"""Records stored before plans kept their approval and findings their cause's times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kratomwatch.clinic.models import Finding, Plan


@pytest.mark.django_db(transaction=True)
def test_existing_plans_and_findings_get_their_times() -> None:
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    (first,) = [n for n in graph.nodes if n[0] == "clinic" and n[1].endswith("_plan_approved_at")]
    (before,) = [p for p in graph.node_map[first].parents if p.key[0] == "clinic"]
    executor.migrate([before.key])
    old = executor.loader.project_state([before.key]).apps
    clinic = old.get_model("clinic", "Clinic").objects.create(name="Old clinic", slug="old")
    user = old.get_model("clinic", "User").objects.create(username="u", clinic=clinic)
    patient = old.get_model("clinic", "PatientProfile").objects.create(
        user=user, clinic=clinic, display_name="P"
    )
    plan = old.get_model("clinic", "Plan").objects.create(
        patient=patient, version=1, kind="maintenance", author=user, reason="r"
    )
    seen = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    reported = [seen - timedelta(days=3), seen - timedelta(days=1)]
    old_finding = old.get_model("clinic", "Finding")
    for fingerprint, triggers in (
        ("timed", [{"type": "symptom", "reported_at": t.isoformat()} for t in reported]),
        ("timeless", [{"type": "medication", "name": "Xanax"}]),
    ):
        old_finding.objects.create(
            patient=patient,
            code=fingerprint,
            fingerprint=fingerprint,
            severity="high",
            category="red_flag",
            title="t",
            rationale="r",
            triggers=triggers,
            first_seen=seen,
            last_seen=seen,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    stored = Plan.objects.get(pk=plan.pk)
    assert stored.approved_at == stored.created
    timed = Finding.objects.get(fingerprint="timed")
    assert (timed.cause_first_at, timed.cause_last_at) == (reported[0], reported[1])
    timeless = Finding.objects.get(fingerprint="timeless")
    assert timeless.cause_first_at == timeless.cause_last_at == seen
