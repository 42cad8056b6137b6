"""Recording a patient's results: liver tests, a QTc and drug screens, one sample time."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.results import do_record_results
from kratomwatch.clinic.models import Role, ScreenOutcome, Specimen
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.clinic.views.patient_page import patient_url
from kratomwatch.domain.results import SCREEN_RESULTS, ResultRejected, check_batch, load_lab_tests

SPECIMEN_CHOICES = ("urine", "blood", "oral_fluid")


def _anchor(field: str) -> str:
    """The id of the input an error is about ("alt.unit" -> "alt_unit")."""
    name, _, part = field.partition(".")
    if name in load_lab_tests().screen_items:
        return f"screen_{name}"
    if part == "upper_limit":
        return f"{name}_upper"
    if name == "results":
        return "alt_value"
    return f"{name}_{part}" if part else name


def _form_key(text: str) -> str:
    """The form's own key, so that a form sent twice (a double click, a retry) records its
    results once; empty when what came back is not a key this page wrote."""
    try:
        return f"web:{uuid.UUID(text)}"
    except ValueError:
        return ""


def _taken_at(text: str) -> datetime | str:
    """A ``datetime-local`` value read in the clinic's time zone (kept as text if unreadable,
    for the check to name it)."""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        return text
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


@access.role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def results_new(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    catalogue = load_lab_tests()
    data = request.POST if request.method == "POST" else {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {
            a: {
                "value": data.get(f"{a}_value", ""),
                "unit": data.get(f"{a}_unit", ""),
                "upper_limit": data.get(f"{a}_upper", ""),
            }
            for a in catalogue.analytes
        }
        screens = {i: data.get(f"screen_{i}", "") for i in catalogue.screen_items}
        tested = any(v for v in screens.values())
        try:
            batch = check_batch(
                taken_at=_taken_at(data.get("taken_at", "")),
                values=values,
                screens=screens,
                specimen=data.get("specimen", "urine") if tested else "blood",
                now=timezone.now(),
                note=data.get("note", ""),
            )
        except ResultRejected as exc:
            for field, message in exc.errors:
                errors.setdefault(_anchor(field), message)
        else:
            do_record_results(
                patient=patient,
                user=user,
                batch=batch,
                key=_form_key(data.get("idempotency_key", "")),
                ip=client_ip(request),
            )
            messages.success(request, gettext("Results recorded; the record was screened again."))
            return redirect(patient_url(patient, "results"))
    context: dict[str, Any] = {
        "patient": patient,
        "data": data,
        "errors": errors,
        "error_list": list(errors.items()),
        "analytes": [
            {
                "id": a.id,
                "label": a.label,
                "units": list(a.units),
                "value": data.get(f"{a.id}_value", ""),
                "unit": data.get(f"{a.id}_unit", a.unit),
                "upper": data.get(f"{a.id}_upper", ""),
                "default_upper": a.upper_limit_of_normal,
                "default_unit": a.unit,
                "group": a.group,
                "value_error": errors.get(f"{a.id}_value"),
                "unit_error": errors.get(f"{a.id}_unit"),
                "upper_error": errors.get(f"{a.id}_upper"),
            }
            for a in catalogue.analytes.values()
        ],
        "screen_items": [
            {
                "id": i.id,
                "label": i.label,
                "chosen": data.get(f"screen_{i.id}", ""),
                "error": errors.get(f"screen_{i.id}"),
            }
            for i in catalogue.screen_items.values()
        ],
        "outcomes": [(o, ScreenOutcome(o).label) for o in SCREEN_RESULTS],
        "specimens": [(s, Specimen(s).label) for s in SPECIMEN_CHOICES],
        "specimen": data.get("specimen", "urine"),
        "taken_at": data.get("taken_at", ""),
        "note": data.get("note", ""),
        "idempotency_key": _form_key(data.get("idempotency_key", "")).removeprefix("web:")
        or str(uuid.uuid4()),
    }
    return render(request, "results/new.html", context, status=400 if errors else 200)
