"""Every page or API answer that shows a patient's record to someone else is audited.

A middleware, so that no page can forget: after a successful GET whose URL names a patient
(``patient_uuid``), an audit event ``patient.view`` records who saw it, which page, when and
from where. Pages that write a more specific event themselves are left to do so. Patients
looking at their own record are not recorded (the trail is about other people's access).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.models import PatientProfile, User

SELF_AUDITED = {"patient_detail", "visit_report", "visit_report_pdf"}


class AuditPatientViews:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and match is not None
            and "patient_uuid" in match.kwargs
            and match.url_name not in SELF_AUDITED
        ):
            user = request.user
            if isinstance(user, User) and user.is_authenticated and access.views_are_audited(user):
                patient = PatientProfile.objects.filter(uuid=match.kwargs["patient_uuid"]).first()
                if patient is not None:
                    audit_chain.append(
                        user,
                        "patient.view",
                        patient=patient,
                        object_type=match.view_name,
                        object_uuid=patient.uuid,
                        ip=request.META.get("REMOTE_ADDR"),
                    )
        return response
