"""POSTs with an ``Idempotency-Key``: the change and its reply in one transaction.

Every write of the API goes through :func:`once`. The first request with a key runs the
change and stores the reply beside it, in the same transaction: a crash leaves both or
neither, so a retry either finds the stored reply or makes the change anew. A retry with the
same key and body gets the stored reply (a creation's 201 answered as 200); the same key with
another body is refused with 409 (red flags in that body are saved all the same, through
``refused``: a red flag always gets through). A route that checks the body against the
records (products, lots) looks the stored reply up first (:func:`stored_reply`), so that a
retry of a request already answered gets that answer even if the records changed since.
Two requests with one key at the same moment: the unique constraint lets one store its
reply; the other's change is rolled back and it answers with the reply stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from django.db import IntegrityError, transaction
from ninja import Header, Schema, Status

from kratomwatch.clinic.models import ApiIdempotentReply, User

from .problems import Problem

MAX_KEY = 76  # stored keys of records are "api:" + this, at most 80 characters

#: The ``Idempotency-Key`` header parameter of every POST route (checked by
#: :func:`idempotency_key`, which answers 400 when it is missing).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required. The same key answers with the reply first given to it.",
    ),
]

#: Called when a key is reused with another body, with that body's digest: saves the red
#: flags the body carries (under a key of their own, derived from the request's key and the
#: digest, so that a retry of the refused body saves them once) and returns their urgent
#: guidance, which the 409 carries.
Refused = Callable[[str], Sequence[Mapping[str, str]]]


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


def refused_key(key: str, digest: str) -> str:
    """The key the red flags of a body refused with 409 are saved under (before "api:")."""
    return f"{key}#{digest[:16]}"


def _replay(reply: ApiIdempotentReply, digest: str, refused: Refused | None) -> Status:
    if reply.request_digest and reply.request_digest != digest:
        urgent = list(refused(digest)) if refused is not None else []
        detail = "This Idempotency-Key was used for a different request: use a new key."
        if urgent:
            detail += (
                " Its red flags were saved and sent to the care team all the same: "
                "show the guidance in `urgent` now."
            )
        raise Problem(409, detail, slug="idempotency-key-reused", urgent=urgent)
    return Status(200 if reply.status == 201 else reply.status, reply.body)


def stored_reply(
    *, user: User, operation: str, key: str, payload: Schema, refused: Refused | None = None
) -> Status | None:
    """The reply stored for (user, operation, key), if any: answered when ``payload`` is the
    body it was stored for, refused with 409 otherwise (see :data:`Refused`)."""
    stored = ApiIdempotentReply.objects.filter(user=user, operation=operation, key=key).first()
    return None if stored is None else _replay(stored, _digest(payload), refused)


def once(
    *,
    user: User,
    operation: str,
    key: str,
    payload: Schema,
    out: type[Schema],
    change: Callable[[], tuple[int, Any]],
    refused: Refused | None = None,
) -> Status:
    """Run ``change`` once per (user, operation, key) and answer with its reply.

    ``change`` returns the status and what to serialize with ``out`` (a dict or a model
    instance); a
    :class:`Problem` it raises rolls the change back and stores nothing, so a corrected
    retry with the same key is run.
    """
    replay = stored_reply(user=user, operation=operation, key=key, payload=payload, refused=refused)
    if replay is not None:
        return replay
    digest = _digest(payload)
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
        return _replay(stored, digest, refused)
    return Status(status, body)
