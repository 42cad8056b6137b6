"""Every way a patient's dose enters KratomWatch stores the same row.

The single-dose form on the home page, the daily check-in, the dose API and the diary import
all go through ``actions.doses.do_record_dose``. The same dose sent through each (an unusual
amount, confirmed as entered) must give rows equal field by field, apart from what tells them
apart by nature: their ids and times of storing, their idempotency key, their source and the
check-in a check-in's dose belongs to. Each also writes its audit event.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.api.auth import create_token
from kratomwatch.clinic.models import AuditEvent, DoseEntry, EntrySource, TokenScope
from kratomwatch.interop.csv_import import do_import_diary, parse_mapping, read_rows

from .conftest import Triangle
from .test_patient_checkin import checkin_data, earlier

#: Differ by nature between entry points.
OWN = {"id", "uuid", "created", "modified", "idempotency_key", "source", "checkin"}


def taken_at() -> datetime:
    """Today at 08:00 local time, or now if that is still ahead (never in the future)."""
    hour, minute = map(int, earlier(8).split(":"))
    return timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)


def via_home(client: Client, tri: Triangle, when: datetime) -> None:
    data: dict[str, Any] = {
        "product": str(tri.product.uuid),
        "amount": "15",
        "unit": "mg",
        "taken_at": when.strftime("%Y-%m-%dT%H:%M"),
        "idempotency_key": uuid.uuid4().hex,
    }
    asked = client.post(reverse("patient_home"), data)
    assert asked.status_code == 400  # 15 mg of leaf powder: did you mean g?
    data["confirm"] = [code for code, _ in asked.context["form"].pending]
    assert data["confirm"]
    assert client.post(reverse("patient_home"), data).status_code == 302


def via_checkin(client: Client, tri: Triangle, when: datetime) -> None:
    row = {
        "product": str(tri.product.uuid),
        "amount": "15",
        "unit": "mg",
        "at": when.strftime("%H:%M"),
        "took": "on",
    }
    data = checkin_data(tri, [row])
    asked = client.post(reverse("checkin"), data)
    assert asked.status_code == 400
    data["dose-0-confirm"] = [code for code, _ in asked.context["rows"].forms[0].pending]
    assert client.post(reverse("checkin"), data).status_code == 302


def via_api(client: Client, tri: Triangle, when: datetime) -> None:
    secret = create_token(tri.patient.user, "test", scope=TokenScope.WRITE).secret
    body = {
        "product": str(tri.product.uuid),
        "amount": "15",
        "unit": "mg",
        "taken_at": when.isoformat(),
    }
    path = f"/api/patients/{tri.patient.uuid}/doses"
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": uuid.uuid4().hex}
    asked = client.post(path, body, content_type="application/json", headers=headers)
    assert asked.status_code == 422
    body["confirm"] = [e["code"] for e in asked.json()["errors"]]
    headers["Idempotency-Key"] = uuid.uuid4().hex
    sent = client.post(path, body, content_type="application/json", headers=headers)
    assert sent.status_code == 201, sent.content


def via_import(client: Client, tri: Triangle, when: datetime) -> None:
    text = f"taken_at,amount,unit\n{when.isoformat()},15,mg\n"
    rows = read_rows(io.StringIO(text))
    do_import_diary(
        tri.patient,
        tri.product,
        rows,
        mapping=parse_mapping([]),
        confirm=True,
        actor=tri.patient.user,
    )


ENTRY_POINTS = {
    EntrySource.WEB + ":home": via_home,
    EntrySource.WEB + ":checkin": via_checkin,
    EntrySource.API: via_api,
    EntrySource.IMPORT: via_import,
}


def stored(entry: DoseEntry) -> dict[str, Any]:
    return {
        f.attname: getattr(entry, f.attname)
        for f in DoseEntry._meta.concrete_fields
        if f.name not in OWN
    }


def test_every_entry_point_stores_the_same_row(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.patient.user)
    when = taken_at()
    rows = {}
    for name, enter in ENTRY_POINTS.items():
        before = set(DoseEntry.objects.values_list("pk", flat=True))
        audits = AuditEvent.objects.filter(action="dose.create").count()
        with django_capture_on_commit_callbacks(execute=True):
            enter(client, tri, when)
        (entry,) = DoseEntry.objects.exclude(pk__in=before)
        assert entry.source == name.split(":")[0], name
        assert AuditEvent.objects.filter(action="dose.create").count() == audits + 1, name
        rows[name] = stored(entry)

    first_name, first = next(iter(rows.items()))
    assert first["unit"] == "mg" and first["confirmed_warnings"], first
    assert first["taken_at"] == when and first["entered_by_id"] == tri.patient.user.pk
    for name, row in rows.items():
        differing = {k: (first[k], row[k]) for k in first if first[k] != row[k]}
        assert not differing, f"{name} differs from {first_name}: {differing}"


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_each_entry_point_calls_the_one_function(client: Client, tri: Triangle, name: str) -> None:
    from kratomwatch.clinic.actions import doses

    assert DoseEntry.objects.count() == 0
    calls: list[str] = []
    real = doses.do_record_dose

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs.get("source", EntrySource.WEB))
        return real(**kwargs)

    client.force_login(tri.patient.user)
    with pytest.MonkeyPatch.context() as mp:
        for module in _callers():
            mp.setattr(module, "do_record_dose", spy)
        ENTRY_POINTS[name](client, tri, taken_at())
    assert calls == [name.split(":")[0]]
    assert DoseEntry.objects.count() == 1


def _callers() -> list[Any]:
    import kratomwatch.api.routes_patients as api
    import kratomwatch.clinic.actions.checkins as checkins
    import kratomwatch.clinic.views.home as home
    import kratomwatch.interop.csv_import as diary

    return [api, checkins, home, diary]
