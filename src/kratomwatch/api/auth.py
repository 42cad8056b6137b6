"""Personal access tokens: creation, revocation, bearer authentication and the rate limit.

A token is sent as ``Authorization: Bearer kw_<secret>``. Only the SHA-256 of the secret is
stored. Expired, revoked and unknown tokens, and tokens of deactivated accounts, are refused
with 401. Operations that change data need a token with scope ``write`` (403 otherwise).

The rate limit (``KRATOMWATCH_API_RATE_LIMIT`` requests per minute per token, 120 by
default) is counted on the token's row in the database: app servers keep no state of their
own, so a count in one server's memory would not be a limit. Most operations count their
request when they authenticate it; the dose API counts it in the transaction that stores
the dose (see :func:`counted_in_write`), so that a dose costs one commit, not two.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.sql import UpdateQuery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.security import HttpBearer

from kratomwatch.clinic.models import ApiToken, TokenScope, User

from .problems import Problem

TOKEN_PREFIX = "kw_"  # noqa: S105 - a marker, not a secret
DEFAULT_RATE_LIMIT = 120  # requests per minute per token


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the full ``kw_…`` value: shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    user: User,
    name: str,
    *,
    scope: str = TokenScope.READ,
    expires_in: timedelta | None = timedelta(days=90),
    now: datetime | None = None,
) -> NewToken:
    """A new token for ``user``; its secret is in the result and nowhere else."""
    if scope not in TokenScope.values:
        raise ValueError(f"unknown scope {scope!r}")
    now = now or timezone.now()
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:8],
        token_hash=hash_secret(secret),
        scope=scope,
        expires_at=None if expires_in is None else now + expires_in,
    )
    return NewToken(token=token, secret=TOKEN_PREFIX + secret)


def revoke_token(token: ApiToken, now: datetime | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at", "modified"])


def token_for(value: str, now: datetime | None = None) -> ApiToken | None:
    """The live token with this ``kw_…`` value, or ``None``."""
    if not value.startswith(TOKEN_PREFIX) or len(value) > 200:
        return None
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("user__clinic")
        .filter(token_hash=hash_secret(value[len(TOKEN_PREFIX) :]))
        .first()
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return token


def rate_limit() -> int:
    return int(getattr(settings, "KRATOMWATCH_API_RATE_LIMIT", DEFAULT_RATE_LIMIT))


def _counting(token: ApiToken, now: datetime) -> tuple[QuerySet[ApiToken], dict[str, Any]]:
    """The token's row while under the limit, and what counting a request writes on it: one
    statement counts the request, or starts a new minute at 1; concurrent requests queue on
    the row's lock and each sees the others' counts."""
    window = now.replace(second=0, microsecond=0)
    under_limit = ApiToken.objects.filter(pk=token.pk).filter(
        Q(window_start=window, window_count__lt=rate_limit())
        | ~Q(window_start=window)
        | Q(window_start__isnull=True)
    )
    values = {
        "window_count": Case(
            When(window_start=window, then=F("window_count") + 1), default=Value(1)
        ),
        "window_start": window,
        "last_used_at": now,
    }
    return under_limit, values


def _over_limit(now: datetime) -> Problem:
    retry = max(1, 60 - now.second)  # this minute's allowance is used up
    return Problem(
        429,
        f"At most {rate_limit()} requests a minute per token: retry in {retry} s.",
        headers={"Retry-After": str(retry)},
    )


def count_request(token: ApiToken, now: datetime | None = None) -> None:
    """Count one request in the token's current minute; 429 once over the limit."""
    now = now or timezone.now()
    under_limit, values = _counting(token, now)
    if not under_limit.update(**values):
        raise _over_limit(now)


@dataclass(frozen=True)
class PendingCount:
    """The count of one request, as a statement to send in the transaction of its write
    (:func:`pending_count`): the same UPDATE as :func:`count_request`'s."""

    token: ApiToken
    now: datetime

    def statement(self) -> tuple[str, tuple[Any, ...]]:
        under_limit, values = _counting(self.token, self.now)
        query = under_limit.query.chain(UpdateQuery)
        query.add_update_values(values)
        sql, params = query.get_compiler(connection=connection).as_sql()
        return sql, params

    def check(self, updated: int) -> None:
        """429 (and the transaction rolled back) unless the statement updated the row."""
        if not updated:
            raise _over_limit(self.now)


class TokenAuth(HttpBearer):
    """Bearer token auth; ``write=True`` also requires the token's scope to be ``write``."""

    def __init__(self, *, write: bool = False) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_for(token)
        if found is None:
            return None
        if getattr(request, "kratomwatch_count_in_write", False):
            request.kratomwatch_uncounted = found  # type: ignore[attr-defined]
        else:
            count_request(found)
        if self.write and found.scope != TokenScope.WRITE:
            raise Problem(403, "This operation needs a token with scope 'write'.")
        request.user = found.user
        return found


def pending_count(request: HttpRequest) -> PendingCount | None:
    """In a :func:`counted_in_write` operation: what counts this request, to be run first in
    the transaction of the write (429, and nothing written, once over the limit). Once that
    transaction has committed, call :func:`counted`; if it did not, the request is counted
    when the operation ends."""
    token = getattr(request, "kratomwatch_uncounted", None)
    return None if token is None else PendingCount(token, timezone.now())


def counted(request: HttpRequest) -> None:
    """The count of :func:`pending_count` was committed with the write."""
    request.kratomwatch_uncounted = None  # type: ignore[attr-defined]


def _count_pending(request: HttpRequest) -> HttpResponse | None:
    token = getattr(request, "kratomwatch_uncounted", None)
    if token is None:
        return None
    counted(request)
    try:
        count_request(token)
    except Problem as exc:
        return exc.response()
    return None


def counted_in_write(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For an operation that counts its request in its write's transaction (see
    :func:`pending_count`), so that a write costs one commit, not two. Apply with
    ``ninja.decorators.decorate_view``.

    A request that ends without that commit (a bad body, a refused dose, a repeated key, an
    error) is counted when the operation ends; one over the limit then gets 429 instead of
    the answer, which changed nothing.
    """

    @wraps(run)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.kratomwatch_count_in_write = True  # type: ignore[attr-defined]
        try:
            response = run(request, *args, **kwargs)
        except Exception:
            _count_pending(request)  # counted all the same; the error goes on
            raise
        return _count_pending(request) or response

    return inner


read_auth = TokenAuth()
write_auth = TokenAuth(write=True)
