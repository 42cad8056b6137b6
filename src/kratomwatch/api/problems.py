"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API answers has ``type``, ``title``, ``status`` and ``detail``; validation
errors add ``errors: [{field, message, code}]``. Anything the caller may not see is a 404,
as on the web, so that the existence of other clinics' records is not revealed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kratomwatch.domain.doses import FieldError

PROBLEM_TYPE = "https://kratomwatch.example/problems/"
CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    422: "invalid-input",
    429: "rate-limited",
}


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        errors: Iterable[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        urgent: Iterable[Mapping[str, str]] = (),
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _SLUGS.get(status, "error")
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.urgent = list(urgent)

    def response(self) -> HttpResponse:
        return problem_response(
            self.status,
            self.detail,
            slug=self.slug,
            errors=self.errors,
            headers=self.headers,
            urgent=self.urgent,
        )


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    urgent: Iterable[Mapping[str, str]] = (),
) -> HttpResponse:
    """A problem document (RFC 9457). ``urgent`` carries the guidance of red flags that were
    saved although the rest of the request was refused (shown to the person at once)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + (slug or _SLUGS.get(status, "error")),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    listed = [{"field": e.field, "message": e.message, "code": e.code} for e in errors]
    if listed:
        body["errors"] = listed
    urgent = list(urgent)
    if urgent:
        body["urgent"] = urgent
    response = HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        where = parts.pop(0)
        if where == "body" and len(parts) > 1:
            parts.pop(0)  # the operation's parameter name, not a field of the document
    return ".".join(parts) or "body"


def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        FieldError(
            _field(e.get("loc", ())),
            str(e.get("msg", "invalid")).removeprefix("Value error, "),
            str(e.get("type", "")),
        )
        for e in exc.errors
    ]
    return problem_response(422, "The request has invalid fields.", errors=errors)


def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return exc.response()


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(404, "No such resource, or not one you may see.")


def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem_response(403, str(exc) or "You may not do this.")


def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        401,
        "Send a valid, unexpired API token: Authorization: Bearer kw_…",
        headers={"WWW-Authenticate": 'Bearer realm="kratomwatch"'},
    )


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(exc.status_code, str(exc.message))


def register(api: NinjaAPI) -> None:
    """Answer every error of ``api`` with a problem document."""
    api.add_exception_handler(Problem, _problem)
    api.add_exception_handler(ValidationError, _validation)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(PermissionDenied, _forbidden)
    api.add_exception_handler(AuthenticationError, _unauthenticated)
    api.add_exception_handler(HttpError, _http_error)
