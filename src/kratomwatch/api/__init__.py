"""The JSON API (django-ninja), with its OpenAPI document at /api/openapi.json and docs at
/api/docs. Operations are added per resource; access is decided by kratomwatch.clinic.access.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest
from ninja import NinjaAPI, Schema, Status

from kratomwatch import __version__

api = NinjaAPI(title="KratomWatch API", version=__version__, urls_namespace="api")


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
