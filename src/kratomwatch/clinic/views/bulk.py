"""FHIR Bulk Data export for EHR systems (SMART Backend Services), see docs/bulk-data.md.

- ``GET /fhir/.well-known/smart-configuration``: what the token endpoint accepts.
- ``POST /oauth/token``: a client of kind ``bulk`` exchanges a signed JWT assertion for an
  access token (five minutes) with the system scopes it asked for and is allowed.
- ``GET /fhir/$export``, ``/fhir/Patient/$export``, ``/fhir/Group/<clinic uuid>/$export``:
  start an export of the client's clinic (``Prefer: respond-async``); 202 and the status URL,
  or 429 while the client has an export queued or running (one at a time per client).
- ``GET`` the status URL: 202 with ``X-Progress`` while it runs, then the manifest;
  ``DELETE`` cancels. ``GET`` a file URL: its NDJSON, streamed.

Errors are OperationOutcome (FHIR) or RFC 6749 errors (token endpoint), never a 5xx.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.bulk import (
    TOKEN_LIFETIME,
    ExportInProgress,
    do_cancel_bulk_export,
    do_issue_bulk_token,
    do_record_bulk_download,
    do_start_bulk_export,
)
from kratomwatch.clinic.actions.tokens import hash_secret
from kratomwatch.clinic.ehr_auth import ALGORITHMS, TokenRefused, verify
from kratomwatch.clinic.models import (
    BulkAccessToken,
    BulkExportFile,
    BulkExportJob,
    BulkJobStatus,
)
from kratomwatch.interop.fhir_bulk import (
    NDJSON,
    BadRequest,
    granted_scopes,
    manifest,
    outcome,
    parse_kickoff,
    readable_types,
)

from .common import client_ip

FHIR_JSON = "application/fhir+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Seconds a client is asked to wait between two status requests.
RETRY_AFTER = 10
#: Seconds a client with an export in progress is asked to wait before kicking off another.
BUSY_RETRY_AFTER = 60
SCOPES_SUPPORTED = ("system/*.read", "system/*.rs")


def _outcome(status: int, text: str, code: str = "invalid", **headers: str) -> HttpResponse:
    severity = "information" if code == "informational" else "error"
    response = JsonResponse(
        outcome(text, severity=severity, code=code), status=status, content_type=FHIR_JSON
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _not_found_as_outcome(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A 404 from :mod:`~kratomwatch.clinic.access` as an OperationOutcome."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return _outcome(404, "Not found.", code="not-found")

    return wrapped


def _oauth_error(status: int, error: str, description: str) -> HttpResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _token_endpoint(request: HttpRequest) -> list[str]:
    path = reverse("oauth_token")
    return [str(settings.KRATOMWATCH_BASE_URL).rstrip("/") + path, request.build_absolute_uri(path)]


def _bearer(request: HttpRequest) -> BulkAccessToken | HttpResponse:
    """The request's valid access token, or the 401 to answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = None
    if scheme.lower() == "bearer" and value.strip():
        token = access.bulk_token(hash_secret(value.strip()), timezone.now())
    if token is None:
        return _outcome(
            401,
            "A valid access token is needed (Authorization: Bearer, from the token endpoint); "
            "it may have expired after five minutes.",
            code="login",
            WWW_Authenticate='Bearer error="invalid_token"',
        )
    return token


# --------------------------------------------------------------------------- SMART


@require_GET
def smart_configuration(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "token_endpoint": _token_endpoint(request)[0],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
            "scopes_supported": list(SCOPES_SUPPORTED),
            "capabilities": ["client-confidential-asymmetric"],
        }
    )


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    form = request.POST
    if form.get("grant_type") != "client_credentials":
        if not form.get("grant_type"):
            return _oauth_error(400, "invalid_request", "grant_type is missing.")
        return _oauth_error(
            400, "unsupported_grant_type", "Only grant_type=client_credentials is supported."
        )
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        return _oauth_error(
            400, "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}."
        )
    if not form.get("client_assertion"):
        return _oauth_error(400, "invalid_request", "client_assertion is missing.")
    if not form.get("scope", "").strip():
        return _oauth_error(400, "invalid_request", "scope is missing.")
    try:
        client, _claims = verify(
            form["client_assertion"], kind="bulk", audience=_token_endpoint(request)
        )
    except TokenRefused as exc:
        return _oauth_error(401, "invalid_client", exc.reason)
    scopes = granted_scopes(form["scope"], client.scopes)
    if not scopes:
        return _oauth_error(
            400,
            "invalid_scope",
            f"None of the requested scopes is allowed for this client; it may be granted "
            f"{client.scopes or 'no scopes'} (read access only).",
        )
    issued = do_issue_bulk_token(client, scopes, client_ip(request))
    response = JsonResponse(
        {
            "access_token": issued.secret,
            "token_type": "bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "scope": issued.token.scope,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- $export


@require_GET
@_not_found_as_outcome
def export(request: HttpRequest, group_uuid: uuid.UUID | None = None) -> HttpResponse:
    found = _bearer(request)
    if isinstance(found, HttpResponse):
        return found
    clinic = access.bulk_export_clinic(found, group_uuid)
    prefer = {p.strip().lower() for p in request.headers.get("Prefer", "").split(",")}
    if "respond-async" not in prefer:
        return _outcome(400, "A bulk export runs asynchronously: send Prefer: respond-async.")
    accept = request.headers.get("Accept", FHIR_JSON)
    if not any(t in accept for t in (FHIR_JSON, "application/json", "*/*")):
        return _outcome(400, f"The kick-off answers {FHIR_JSON}; send Accept: {FHIR_JSON}.")
    try:
        wanted = parse_kickoff(
            request.GET, readable_types(found.scope), lenient="handling=lenient" in prefer
        )
    except BadRequest as exc:
        return _outcome(400, str(exc))
    try:
        job = do_start_bulk_export(
            found, clinic, wanted, request.build_absolute_uri(), client_ip(request)
        )
    except ExportInProgress as busy:
        running = request.build_absolute_uri(reverse("fhir_bulk_status", args=[busy.job.uuid]))
        return _outcome(
            429,
            f"This client already has an export in progress ({running}); wait for it to "
            "finish or cancel it (DELETE) before starting another.",
            code="throttled",
            Retry_After=str(BUSY_RETRY_AFTER),
        )
    status_url = request.build_absolute_uri(reverse("fhir_bulk_status", args=[job.uuid]))
    response = _outcome(
        202, "The export has started; poll the Content-Location address.", code="informational"
    )
    response["Content-Location"] = status_url
    return response


def _file_url(request: HttpRequest) -> Any:
    def url(f: BulkExportFile) -> str:
        return str(request.build_absolute_uri(reverse("fhir_bulk_file", args=[f.job.uuid, f.uuid])))

    return url


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@_not_found_as_outcome
def status(request: HttpRequest, job_uuid: uuid.UUID) -> HttpResponse:
    found = _bearer(request)
    if isinstance(found, HttpResponse):
        return found
    job = access.bulk_job_for(found, job_uuid)
    if job.status == BulkJobStatus.CANCELLED:
        return _outcome(404, "This export was cancelled.", code="not-found")
    if job.expires_at <= timezone.now():
        return _outcome(410, "This export has expired; start a new one.", code="not-found")
    if request.method == "DELETE":
        do_cancel_bulk_export(job, client_ip(request))
        return _outcome(202, "The export is cancelled and its files deleted.", code="informational")
    if job.status in (BulkJobStatus.QUEUED, BulkJobStatus.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = _progress(job)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    response = JsonResponse(manifest(job, _file_url(request)))
    response["Expires"] = http_date(job.expires_at.timestamp())
    return response


def _progress(job: BulkExportJob) -> str:
    if job.status == BulkJobStatus.QUEUED:
        return "queued"
    return f"{job.patients_done} of {job.patients_total} patients"


@require_GET
@_not_found_as_outcome
def file(request: HttpRequest, job_uuid: uuid.UUID, file_uuid: uuid.UUID) -> HttpResponse:
    found = _bearer(request)
    if isinstance(found, HttpResponse):
        return found
    part = access.bulk_file_for(found, job_uuid, file_uuid)
    if part.job.expires_at <= timezone.now():
        return _outcome(410, "This export has expired; start a new one.", code="not-found")
    do_record_bulk_download(part, client_ip(request))
    response = StreamingHttpResponse(_lines(part.pk), content_type=NDJSON)
    response["Expires"] = http_date(part.job.expires_at.timestamp())
    return response


def _lines(pk: int, chunk: int = 1 << 16) -> Iterator[str]:
    """The part's text in pieces (read once from the database, then sent piece by piece)."""
    text = BulkExportFile.objects.values_list("content", flat=True).get(pk=pk)
    for start in range(0, len(text), chunk):
        yield text[start : start + chunk]
