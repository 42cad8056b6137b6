"""Cursor pagination: a stable order by (created, id), an opaque ``cursor`` and a ``next`` link.

Every list operation takes ``cursor: str | None = Cursor, limit: int = Limit``, asks
``kratomwatch.clinic.access`` for the queryset and answers :func:`page_of` it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from ninja import Query

from .problems import Problem

M = TypeVar("M", bound=Model)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Cursor: Any = Query(None, max_length=200)
Limit: Any = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _encode(created: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, pk = raw.split("|")
        when = datetime.fromisoformat(created)
        if when.utcoffset() is None:
            raise ValueError("naive")
        return when, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Problem(400, "The cursor is not one this API gave out.", slug="bad-cursor") from exc


def page_of(
    request: HttpRequest,
    queryset: QuerySet[M],
    cursor: str | None,
    limit: int,
    serialize: Callable[[M], Any] | None = None,
) -> dict[str, Any]:
    """One page of ``queryset`` after ``cursor``: ``items``, each passed through ``serialize``
    if given (else left to the response schema), and ``next``, the link to the next page."""
    rows = queryset.order_by("created", "pk")
    if cursor:
        created, pk = _decode(cursor)
        rows = rows.filter(Q(created__gt=created) | Q(created=created, pk__gt=pk))
    page = list(rows[: limit + 1])
    next_link = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        query = {"cursor": _encode(last.created, last.pk), "limit": limit}  # type: ignore[attr-defined]
        next_link = request.build_absolute_uri(request.path) + "?" + urlencode(query)
    items = page if serialize is None else [serialize(row) for row in page]
    return {"items": items, "next": next_link}
