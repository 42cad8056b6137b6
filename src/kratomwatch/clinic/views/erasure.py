"""The clinic admin's list of deletion requests, handled under the retention duty."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.erasure import do_handle_deletion, retain_until
from kratomwatch.clinic.models import DeletionRequest, Role
from kratomwatch.clinic.views.common import user_of


@access.role_required(Role.CLINIC_ADMIN)
def deletion_requests(request: HttpRequest) -> HttpResponse:
    admin = user_of(request)
    rows = list(
        access.deletion_requests(admin).select_related("patient", "handled_by").order_by("-created")
    )
    for row in rows:
        if row.status == DeletionRequest.Status.REQUESTED:
            row.keep_until = retain_until(row.patient)  # type: ignore[attr-defined]
    return render(
        request,
        "clinic_admin/deletion_requests.html",
        {"rows": rows, "clinic": access.managed_clinic(admin)},
    )


@access.role_required(Role.CLINIC_ADMIN)
@require_POST
def handle_deletion(request: HttpRequest, request_uuid: str) -> HttpResponse:
    admin = user_of(request)
    deletion = access.deletion_request_for(admin, request_uuid)
    if deletion.status != DeletionRequest.Status.REQUESTED:
        messages.error(request, "This request was already handled.")
        return redirect("deletion_requests")
    handled = do_handle_deletion(deletion, admin)
    if handled.status == DeletionRequest.Status.DONE:
        messages.success(request, "The patient's identity and clinical records were erased.")
    else:
        messages.success(
            request,
            "The patient's identity was removed. Clinical records are kept "
            f"until {handled.retain_until:%d %B %Y}, then erased.",
        )
    return redirect("deletion_requests")
