"""POSTs with an ``Idempotency-Key``: the change and its reply in one transaction.

Every write of the API goes through :func:`once`. The first request with a key runs the
change and stores the reply beside it, in the same transaction: a crash leaves both or
neither, so a retry either finds the stored reply or makes the change anew. A retry with the
same key and body gets the stored reply (a creation's 201 answered as 200); the same key with
another body is refused with 409. Two requests with one key at the same moment: the unique
constraint lets one store its reply; the other's change is rolled back and it answers with
the reply stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from ninja import Schema, Status

from kratomwatch.clinic.models import ApiIdempotentReply, User

from .problems import Problem

MAX_KEY = 76  # stored keys of records are "api:" + this, at most 80 characters


def idempotency_key(value: str | None) -> str:
    """The ``Idempotency-Key`` header every POST must carry (400 without a valid one)."""
    key = (value or "").strip()
    if not key:
        raise Problem(
            400, "Send an Idempotency-Key header with every POST.", slug="no-idempotency-key"
        )
    if len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise Problem(
            400,
            f"The Idempotency-Key must be printable ASCII of at most {MAX_KEY} characters.",
            slug="bad-idempotency-key",
        )
    return key


def _digest(payload: Schema) -> str:
    body = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(reply: ApiIdempotentReply, digest: str) -> Status:
    if reply.request_digest and reply.request_digest != digest:
        raise Problem(
            409,
            "This Idempotency-Key was used for a different request: use a new key.",
            slug="idempotency-key-reused",
        )
    return Status(200 if reply.status == 201 else reply.status, reply.body)


def once(
    *,
    user: User,
    operation: str,
    key: str,
    payload: Schema,
    out: type[Schema],
    change: Callable[[], tuple[int, Any]],
) -> Status:
    """Run ``change`` once per (user, operation, key) and answer with its reply.

    ``change`` returns the status and what to serialize with ``out`` (a dict or a model
    instance); a
    :class:`Problem` it raises rolls the change back and stores nothing, so a corrected
    retry with the same key is run.
    """
    digest = _digest(payload)
    stored = ApiIdempotentReply.objects.filter(user=user, operation=operation, key=key).first()
    if stored is not None:
        return _replay(stored, digest)
    try:
        with transaction.atomic():
            status, obj = change()
            shaped = out.model_validate(obj) if isinstance(obj, dict) else out.from_orm(obj)
            body = shaped.model_dump(mode="json")
            ApiIdempotentReply.objects.create(
                user=user,
                operation=operation,
                key=key,
                request_digest=digest,
                status=status,
                body=body,
            )
    except IntegrityError:
        stored = ApiIdempotentReply.objects.filter(user=user, operation=operation, key=key).first()
        if stored is None:
            raise
        return _replay(stored, digest)
    return Status(status, body)
