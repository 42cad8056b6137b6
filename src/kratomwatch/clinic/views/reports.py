"""The clinician's visit report: a two-page PDF and the same content as a printable page.

Both are written in English whatever the clinician's page language: the report's sentences
are not translated yet (docs/languages.md), and a report half in one language and half in
another would be worse than one in English.
"""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.charts import describe, trend_svg
from kratomwatch.clinic.models import PatientProfile, Role, User
from kratomwatch.clinic.reports.visit import FOOTER, VisitReport, build_report
from kratomwatch.clinic.reports.visit_pdf import report_pdf
from kratomwatch.clinic.views.common import client_ip, user_of

#: The language of the visit report, page and PDF alike.
REPORT_LANGUAGE = "en"


def _report(request: HttpRequest, patient_uuid: str, action: str) -> VisitReport:
    user: User = user_of(request)
    patient: PatientProfile = access.patient_for(user, patient_uuid)
    audit_chain.append(
        user,
        action,
        patient=patient,
        object_type="patient",
        object_uuid=patient.uuid,
        ip=client_ip(request),
    )
    return build_report(patient)


@access.role_required(Role.CLINICIAN)
@require_GET
@never_cache
def visit_report_pdf(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    with translation.override(REPORT_LANGUAGE):
        report = _report(request, patient_uuid, "report.pdf")
        response = HttpResponse(report_pdf(report), content_type="application/pdf")
    # The file name carries no name: downloads folders are not private.
    name = f"kratomwatch-visit-report-{str(patient_uuid)[:8]}-{report.today.isoformat()}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@access.role_required(Role.CLINICIAN)
@require_GET
@never_cache
def visit_report(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    with translation.override(REPORT_LANGUAGE):
        response = _visit_report_page(request, patient_uuid)
    response["Content-Language"] = REPORT_LANGUAGE
    return response


def _visit_report_page(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    report = _report(request, patient_uuid, "report.view")
    title = f"Pain, interference and daily dose of {report.patient_name}, last 12 weeks"
    # The chart is an image rather than inline SVG: the content security policy allows no
    # inline styles, and matplotlib's SVG styles its elements inline.
    svg = trend_svg(report.series, title).encode()
    context = {
        "report": report,
        "patient_uuid": patient_uuid,
        "chart_src": "data:image/svg+xml;base64," + base64.b64encode(svg).decode(),
        "chart_alt": f"{title}. {describe(report.series)}",
        "footer": FOOTER,
    }
    return render(request, "report/visit_report.html", context)
