"""Web Push and alerts: subscriptions, the server's VAPID keys, and the logs that make each
alert go out once."""

from django.db import models
from django.utils import timezone

from .base import Record
from .care import Finding
from .people import User


class PushSubscription(Record):
    """One browser's Web Push subscription (RFC 8030/8291) for one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.CharField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=100, help_text="The browser's ECDH P-256 public key.")
    auth = models.CharField(max_length=40, help_text="The browser's authentication secret.")
    last_success = models.DateTimeField(null=True, blank=True)

    def info(self) -> dict[str, object]:
        """The subscription as the browser gave it, for the sender."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class VapidKey(models.Model):
    """The server's VAPID key pair (RFC 8292): one row, made the first time it is needed,
    unless the environment gives the keys."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    private_key = models.CharField(max_length=100, help_text="Raw P-256 private key, base64url.")
    public_key = models.CharField(max_length=100, help_text="Uncompressed point, base64url.")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"VAPID key {self.public_key[:12]}…"


class FindingAlert(models.Model):
    """One row per finding, clinician and occurrence to tell of: the alerts outbox, and the
    guard that makes the alert once. A finding opened again because its cause happened again
    (a red flag reported anew) is a new occurrence, told of again."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="+")
    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    occurrence = models.DateTimeField(
        help_text="Which happening of the finding it tells of (alerts.occurrence)."
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a server took it from the outbox to send it."
    )
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When it reached the clinician; empty if it did not."
    )
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["finding", "clinician", "occurrence"], name="unique_finding_alert"
            )
        ]
        # The outbox, read by every server's worker every few seconds: only what is waiting.
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(sent_at__isnull=True),
                name="finding_alert_outbox",
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.finding_id} to {self.clinician_id}"


class DigestLog(models.Model):
    """One row per clinician per day a digest was sent: the guard that makes it once a day."""

    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinician", "day"], name="unique_digest_per_day")
        ]

    def __str__(self) -> str:
        return f"digest {self.clinician_id} {self.day}"
