"""Personal access tokens: bearer authentication and the rate limit. Tokens are created and
revoked by :mod:`kratomwatch.clinic.actions.tokens` (re-exported here for callers of old).

A token is sent as ``Authorization: Bearer kw_<secret>``. Only the SHA-256 of the secret is
stored. Expired, revoked and unknown tokens, and tokens of deactivated accounts, are refused
with 401. Operations that change data need a token with scope ``write`` (403 otherwise).

The rate limit (``KRATOMWATCH_API_RATE_LIMIT`` requests per minute per token, 120 by
default) is counted on the token's row in the database: app servers keep no state of their
own, so a count in one server's memory would not be a limit. Every operation counts its
request when it authenticates it, in one UPDATE of its own (see :func:`count_request`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from kratomwatch.clinic.actions.tokens import TOKEN_PREFIX, hash_secret
from kratomwatch.clinic.actions.tokens import NewToken as NewToken  # re-exported
from kratomwatch.clinic.actions.tokens import create_token as create_token  # re-exported
from kratomwatch.clinic.actions.tokens import revoke_token as revoke_token  # re-exported
from kratomwatch.clinic.models import ApiToken, TokenScope, User

from .problems import Problem

DEFAULT_RATE_LIMIT = 120  # requests per minute per token


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


def _over_limit(now: datetime) -> Problem:
    retry = max(1, 60 - now.second)  # this minute's allowance is used up
    return Problem(
        429,
        f"At most {rate_limit()} requests a minute per token: retry in {retry} s.",
        headers={"Retry-After": str(retry)},
    )


def count_request(token: ApiToken, now: datetime | None = None) -> None:
    """Count one request in the token's current minute; 429 once over the limit.

    One statement counts the request, or starts a new minute at 1; concurrent requests
    queue on the row's lock and each sees the others' counts."""
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    under_limit = ApiToken.objects.filter(pk=token.pk).filter(
        Q(window_start=window, window_count__lt=rate_limit())
        | ~Q(window_start=window)
        | Q(window_start__isnull=True)
    )
    counted = under_limit.update(
        window_count=Case(When(window_start=window, then=F("window_count") + 1), default=Value(1)),
        window_start=window,
        last_used_at=now,
    )
    if not counted:
        raise _over_limit(now)


class TokenAuth(HttpBearer):
    """Bearer token auth; ``write=True`` also requires the token's scope to be ``write``."""

    def __init__(self, *, write: bool = False) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_for(token)
        if found is None:
            return None
        count_request(found)
        if self.write and found.scope != TokenScope.WRITE:
            raise Problem(403, "This operation needs a token with scope 'write'.")
        request.user = found.user
        return found


read_auth = TokenAuth()
write_auth = TokenAuth(write=True)


def user_of(request: HttpRequest) -> User:
    """The user a route's token authenticated (every route but the health check has one)."""
    user = request.user
    assert isinstance(user, User)
    return user
