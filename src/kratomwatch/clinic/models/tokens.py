"""Personal access tokens for the JSON API, and the replies kept for idempotent POSTs.

A token is ``kw_<secret>``. Only the SHA-256 of the secret is stored; the secret itself is
shown once, when the token is created. The first 8 characters of the secret are kept so
that a person can tell their tokens apart.

Requests for a password reset e-mail are kept for a day (:class:`PasswordResetRequest`), so
that every app server counts them alike when throttling them.

The per-token rate limit is counted on the token's own row (a fixed one-minute window), so
that every app server sees the same count: they share nothing but the database.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import Record
from .people import User


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(Record):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, help_text="First 8 characters of the secret.")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret.")
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.READ)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} (kw_{self.prefix}…)"


class ApiIdempotentReply(models.Model):
    """The reply to a POST made with an ``Idempotency-Key``, replayed for the same key.

    Stored in the same transaction as the change it reports (:mod:`kratomwatch.api.idempotency`),
    so a crash leaves either both or neither, and a retry gets the first reply.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80)
    operation = models.CharField(max_length=200)
    #: SHA-256 of the request's JSON body: the same key with another body is refused (409).
    request_digest = models.CharField(max_length=64, default="", blank=True)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "operation", "key"], name="unique_api_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} ({self.key})"


class PasswordResetRequest(models.Model):
    """One request for a password reset e-mail, kept a day to throttle them
    (:func:`kratomwatch.clinic.actions.account.do_request_password_reset`).

    The address is kept only as a keyed hash, so the table does not tell which addresses were
    asked for, nor whether they belong to an account.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(null=True)
    address_digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"password reset request at {self.at:%Y-%m-%d %H:%M}"
