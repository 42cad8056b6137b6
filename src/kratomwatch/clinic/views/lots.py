"""A product's lots: the patient adds them, a clinician adds a lab's figures, and the
certificate itself is served only to those who may see the patient."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.actions.lots import LotLabReport, do_add_lot, do_set_lab_result
from kratomwatch.clinic.form_errors import error_summary
from kratomwatch.clinic.forms.doses import new_key
from kratomwatch.clinic.forms.lots import LotCreateForm, LotFiguresForm
from kratomwatch.clinic.models import Role
from kratomwatch.clinic.uploads import INLINE_TYPES
from kratomwatch.clinic.views.common import client_ip, patient_of, user_of
from kratomwatch.clinic.views.patient_page import patient_url
from kratomwatch.domain.lots import LotFigures


def _result(form: LotFiguresForm) -> LotLabReport:
    data = form.cleaned_data
    return LotLabReport(
        lab_name=data.get("lab_name") or "",
        tested_on=data.get("tested_on"),
        unit=data["unit"],
        figures=form.figures or LotFigures(),
    )


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def lot_add(request: HttpRequest, product_uuid: str) -> HttpResponse:
    user, _ = patient_of(request)
    patient, product = access.own_live_product(user, product_uuid)
    if request.method == "POST":
        form = LotCreateForm(request.POST, request.FILES)
        if form.is_valid():
            lot, created = do_add_lot(
                patient=patient,
                user=user,
                product=product,
                lot_number=form.cleaned_data["lot_number"],
                purchased_on=form.cleaned_data.get("purchased_on"),
                result=_result(form),
                upload=form.upload,
                key=form.cleaned_data["idempotency_key"],
                ip=client_ip(request),
            )
            text = (
                gettext("Added lot %(lot)s.")
                if created
                else gettext("Lot %(lot)s was already added.")
            )
            messages.success(request, text % {"lot": lot.lot_number})
            return redirect("my_products")
        status = 400
    else:
        form = LotCreateForm(initial={"idempotency_key": new_key()})
        status = 200
    errors = error_summary(form) if form.is_bound else []
    context = {"form": form, "errors": errors, "product": product}
    return render(request, "lots/lot_add.html", context, status=status)


@access.role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def lot_lab_result(request: HttpRequest, patient_uuid: str, lot_uuid: str) -> HttpResponse:
    user = user_of(request)
    lot = access.lot_for_clinician(user, patient_uuid, lot_uuid)
    if request.method == "POST":
        form = LotFiguresForm(request.POST, request.FILES)
        if form.is_valid():
            do_set_lab_result(
                user=user, lot=lot, result=_result(form), upload=form.upload, ip=client_ip(request)
            )
            messages.success(
                request, gettext("Saved the lab figures of lot %(lot)s.") % {"lot": lot.lot_number}
            )
            return redirect(patient_url(lot.product.patient, "products"))
        status = 400
    else:
        form = LotFiguresForm(
            initial={
                "lab_name": lot.lab_name,
                "tested_on": lot.tested_on,
                "unit": "mg/g",
                "mitragynine": lot.mitragynine_mg_per_g,
                "hydroxymitragynine": lot.hydroxymitragynine_mg_per_g,
                "total_alkaloids": lot.total_alkaloids_mg_per_g,
            }
        )
        status = 200
    errors = error_summary(form) if form.is_bound else []
    context = {"form": form, "errors": errors, "lot": lot, "patient": lot.product.patient}
    return render(request, "lots/lot_lab_result.html", context, status=status)


@login_required
@require_GET
def certificate(request: HttpRequest, certificate_uuid: str) -> HttpResponse:
    """The certificate's bytes, for the patient and their care team only (404 otherwise).
    Served so that a browser never runs it: its sniffed type, no sniffing, a sandbox."""
    user = user_of(request)
    cert, lot = access.certificate_for(user, certificate_uuid)
    if access.views_are_audited(user):
        audit_chain.append(
            user,
            "certificate.view",
            patient=lot.product.patient,
            object_type="certificate",
            object_uuid=cert.uuid,
            ip=client_ip(request),
        )
    response = HttpResponse(bytes(cert.content), content_type=cert.content_type)
    disposition = "inline" if cert.content_type in INLINE_TYPES else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{cert.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
