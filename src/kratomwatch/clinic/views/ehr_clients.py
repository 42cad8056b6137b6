"""EHR clients a clinic trusts (the clinic admin's pages) and a patient's EHR ids.

A clinic admin registers, views and deactivates the clinic's EHR clients
(:func:`access.ehr_clients`). The EHR's id for a patient, which is the only way a CDS Hooks
call reaches a patient, is set only by a clinician on the patient's care team
(:func:`access.ehr_links_patient`): never by the admin, who chooses the clients' keys.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.ehr import (
    EhrError,
    do_deactivate_ehr_client,
    do_link_ehr_patient,
    do_register_ehr_client,
    do_unlink_ehr_patient,
)
from kratomwatch.clinic.forms.ehr import DeactivateForm, EhrClientForm, EhrLinkForm, EhrUnlinkForm
from kratomwatch.clinic.models import EhrClient, PatientProfile, Role
from kratomwatch.clinic.text import first_error
from kratomwatch.clinic.views.common import client_ip, user_of

SHOWN_ONCE = "kw-new-ehr-client"


@access.role_required(Role.CLINIC_ADMIN)
def ehr_clients(request: HttpRequest) -> HttpResponse:
    admin = user_of(request)
    clinic = access.managed_clinic(admin)
    clients = access.ehr_clients(admin).order_by("-active", "name")
    return render(request, "clinic_admin/ehr_clients.html", {"clients": clients, "clinic": clinic})


@access.role_required(Role.CLINIC_ADMIN)
@require_http_methods(["GET", "POST"])
def ehr_client_add(request: HttpRequest) -> HttpResponse:
    admin = user_of(request)
    clinic = access.managed_clinic(admin)
    form = EhrClientForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            client = do_register_ehr_client(
                admin=admin,
                clinic=clinic,
                kind=data["kind"],
                name=data["name"],
                issuer=data.get("issuer", ""),
                jwks=data.get("jwks"),
                jwks_url=data.get("jwks_url", ""),
                scopes=" ".join(data.get("scopes") or []),
                ip=client_ip(request),
            )
        except EhrError as exc:
            form.add_error("issuer", str(exc))
        else:
            messages.success(request, gettext("Added %(name)s.") % {"name": client.name})
            return redirect("ehr_client", client_uuid=client.uuid)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "clinic_admin/ehr_client_add.html",
        {"form": form, "clinic": clinic},
        status=status,
    )


def _client_page(
    request: HttpRequest, client: EhrClient, form: DeactivateForm | None = None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "client": client,
        "form": form or DeactivateForm(),
        "scopes": client.scopes.split(),
        "keys": len((client.jwks or {}).get("keys") or []),
    }
    return render(request, "clinic_admin/ehr_client.html", context, status=status)


@access.role_required(Role.CLINIC_ADMIN)
def ehr_client(request: HttpRequest, client_uuid: str) -> HttpResponse:
    admin = user_of(request)
    return _client_page(request, access.ehr_client_for(admin, client_uuid))


@access.role_required(Role.CLINIC_ADMIN)
@require_POST
def ehr_client_deactivate(request: HttpRequest, client_uuid: str) -> HttpResponse:
    admin = user_of(request)
    client = access.ehr_client_for(admin, client_uuid)
    if not client.active:
        messages.info(request, gettext("%(name)s is already deactivated.") % {"name": client.name})
        return redirect("ehr_client", client_uuid=client.uuid)
    form = DeactivateForm(request.POST)
    if not form.is_valid():
        return _client_page(request, client, form, status=400)
    do_deactivate_ehr_client(admin=admin, client=client, ip=client_ip(request))
    messages.success(
        request, gettext("%(name)s deactivated: its calls are refused.") % {"name": client.name}
    )
    return redirect("ehr_client", client_uuid=client.uuid)


def _links_page(
    request: HttpRequest,
    patient: PatientProfile,
    form: EhrLinkForm | None = None,
    status: int = 200,
) -> HttpResponse:
    clients = access.ehr_link_clients(patient)
    context = {
        "patient": patient,
        "links": access.ehr_links_of(patient).order_by("client__name"),
        "form": form or EhrLinkForm(clients),
        "has_clients": clients.exists(),
    }
    return render(request, "clinic/ehr_links.html", context, status=status)


@access.role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def ehr_links(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.ehr_links_patient(user, patient_uuid)
    if request.method != "POST":
        return _links_page(request, patient)
    form = EhrLinkForm(access.ehr_link_clients(patient), request.POST)
    if form.is_valid():
        try:
            do_link_ehr_patient(
                user=user,
                patient=patient,
                client=form.cleaned_data["client"],
                ehr_patient_id=form.cleaned_data["ehr_patient_id"],
                ip=client_ip(request),
            )
        except EhrError as exc:
            form.add_error("ehr_patient_id", str(exc))
        else:
            messages.success(request, gettext("Saved: the patient's EHR id."))
            return redirect("ehr_links", patient_uuid=patient.uuid)
    return _links_page(request, patient, form, status=400)


@access.role_required(Role.CLINICIAN)
@require_POST
def ehr_link_remove(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.ehr_links_patient(user, patient_uuid)
    form = EhrUnlinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("ehr_links", patient_uuid=patient.uuid)
    link = access.ehr_link_for(patient, form.cleaned_data["link"])
    do_unlink_ehr_patient(user=user, link=link, ip=client_ip(request))
    messages.success(request, gettext("Removed the EHR id."))
    return redirect("ehr_links", patient_uuid=patient.uuid)
