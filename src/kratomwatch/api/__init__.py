"""The JSON API (django-ninja), with its OpenAPI document at /api/openapi.json and docs at
/api/docs. Operations are added per resource; access is decided by kratomwatch.clinic.access.
See docs/api.md: bearer tokens (auth.py), problem+json errors (problems.py), cursor
pagination (pagination.py), idempotent POSTs and the per-token rate limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.http import HttpRequest
from ninja import NinjaAPI, Schema, Status

from kratomwatch import __version__
from kratomwatch.clinic.models import ApiToken

from . import problems
from .auth import read_auth
from .schemas import ProblemOut


class KratomWatchAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Error replies are documented as ``application/problem+json``, as they are sent."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status).startswith(("4", "5")) and "application/json" in content:
                        content[problems.CONTENT_TYPE] = content.pop("application/json")
        return schema


api = KratomWatchAPI(title="KratomWatch API", version=__version__, urls_namespace="api")
problems.register(api)


class Health(Schema):
    status: str
    database: str
    version: str


@api.get("/health", response={200: Health, 503: Health}, auth=None, tags=["operations"])
def health(request: HttpRequest) -> Status:
    """Liveness and database reachability, for load balancers and monitoring. No patient data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Status(200, Health(status="ok", database="ok", version=__version__))
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        return Status(
            503, Health(status="unavailable", database="unreachable", version=__version__)
        )


class Me(Schema):
    username: str
    role: str
    clinic: str | None
    token_scope: str
    token_expires_at: datetime | None


@api.get("/me", response={200: Me, 401: ProblemOut, 429: ProblemOut},
         auth=read_auth, tags=["operations"])  # fmt: skip
def me(request: HttpRequest) -> Me:
    """Who the token belongs to, its scope and expiry: a cheap check that a token works."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    user = token.user
    return Me(
        username=user.username,
        role=user.role,
        clinic=user.clinic.slug if user.clinic_id else None,
        token_scope=token.scope,
        token_expires_at=token.expires_at,
    )


from .routes_checkins import router as checkins_router  # noqa: E402
from .routes_fhir_questionnaires import router as fhir_questionnaires_router  # noqa: E402
from .routes_findings import router as findings_router  # noqa: E402
from .routes_lots import router as lots_router  # noqa: E402
from .routes_patients import router as patients_router  # noqa: E402
from .routes_products import router as products_router  # noqa: E402
from .routes_records import router as records_router  # noqa: E402
from .routes_results import router as results_router  # noqa: E402
from .routes_symptoms import router as symptoms_router  # noqa: E402

api.add_router("/", patients_router)
api.add_router("/", products_router)
api.add_router("/", findings_router)
api.add_router("/", records_router)
api.add_router("/", symptoms_router)
api.add_router("/", checkins_router)
api.add_router("/", results_router)
api.add_router("/", lots_router)
api.add_router("/", fhir_questionnaires_router)
