"""Personal access tokens for the JSON API: creating and revoking them.

The one implementation behind the account's tokens page (``/account/tokens/``) and the
``kratomwatch token`` command. A token is ``kw_<secret>``; only the SHA-256 of the secret is
stored, and the secret is handed back once, in the result of the creation. Each creation
and revocation by a person is written to the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import ApiToken, TokenScope, User

TOKEN_PREFIX = "kw_"  # noqa: S105 - a marker, not a secret
#: The longest a token made on the page or by the command may live.
MAX_DAYS = 365


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


def revoke_token(token: ApiToken, now: datetime | None = None) -> bool:
    """Revoke ``token``; False if it was revoked already (nothing changes)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at", "modified"])
    return True


def do_create_token(
    *,
    user: User,
    name: str,
    scope: str,
    days: int,
    ip: str | None = None,
    operator: bool = False,
) -> NewToken:
    """A token of ``user``'s own, valid for ``days`` (1 to :data:`MAX_DAYS`), audited as made
    by ``user``, or by no account when an ``operator`` makes it from the command line."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS} (got {days})")
    with transaction.atomic():
        new = create_token(user, name, scope=scope, expires_in=timedelta(days=days))
        audit_chain.append(
            None if operator else user,
            "token.create",
            object_type="api_token",
            object_uuid=new.token.uuid,
            ip=ip,
        )
    return new


def do_revoke_token(
    *, user: User, token: ApiToken, ip: str | None = None, operator: bool = False
) -> bool:
    """Revoke a token ``user`` may manage (:func:`kratomwatch.clinic.access.own_token`),
    audited (as by no account when an ``operator`` does it); False if it was revoked
    already."""
    with transaction.atomic():
        revoked = revoke_token(token)
        if revoked:
            audit_chain.append(
                None if operator else user,
                "token.revoke",
                object_type="api_token",
                object_uuid=token.uuid,
                ip=ip,
            )
    return revoked
