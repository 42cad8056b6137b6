"""What clinicians author and what the safety engine produces: plans, findings, notes, audit."""

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .base import Record
from .people import PatientProfile, User


class PlanKind(models.TextChoices):
    TITRATION = "titration", gettext_lazy("Titration")
    TAPER = "taper", gettext_lazy("Taper")
    MAINTENANCE = "maintenance", gettext_lazy("Maintenance")


class Plan(Record):
    """One version of a patient's plan. A change creates a new version; old ones stay."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=PlanKind.choices)
    active = models.BooleanField(default=True)
    starting_dose_g = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    max_single_dose_g = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    max_daily_dose_g = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    max_doses_per_day = models.PositiveSmallIntegerField(null=True, blank=True)
    min_hours_between = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    max_weekly_increase_pct = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    review_on = models.DateField(null=True, blank=True)
    benefit_review_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "Days at a stable dose after which lack of benefit is flagged (default 90)."
        ),
    )
    stop_rules = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="Taper steps, schedules.")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    approved_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the clinician approved this version: its limits apply to doses from then.",
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="unique_plan_version")
        ]


class FindingStatus(models.TextChoices):
    OPEN = "open", gettext_lazy("Open")
    ACKNOWLEDGED = "acknowledged", gettext_lazy("Acknowledged")
    RESOLVED = "resolved", gettext_lazy("Resolved")


class FindingSeverity(models.TextChoices):
    HIGH = "high", gettext_lazy("High")
    MODERATE = "moderate", gettext_lazy("Moderate")
    LOW = "low", gettext_lazy("Low")


SEVERITY_RANK = {"high": 3, "moderate": 2, "low": 1}


class Finding(Record):
    """A safety finding stored with its lifecycle; never deleted, re-opened if its cause returns."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="findings")
    code = models.CharField(max_length=80)
    fingerprint = models.CharField(max_length=64, help_text="Code plus what triggered it.")
    severity = models.CharField(max_length=10, choices=FindingSeverity.choices)
    category = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    rationale = models.TextField()
    management = models.TextField(blank=True)
    patient_message = models.TextField(blank=True)
    references = models.JSONField(default=list, help_text="Resolved citations with links.")
    triggers = models.JSONField(default=list)
    evidence_level = models.CharField(max_length=40, blank=True)
    knowledge_version = models.CharField(
        max_length=20, blank=True, help_text="The knowledge-base release that last screened it."
    )
    knowledge_released = models.DateField(
        null=True, blank=True, help_text="The day that knowledge-base release was made."
    )
    status = models.CharField(
        max_length=12, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    active = models.BooleanField(default=True, help_text="Whether its cause is present now.")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    cause_first_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its cause began (the earliest symptom report, dose or answer that "
        "triggers it); for causes with no time of their own, when it was first found.",
    )
    cause_last_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its cause last happened (the latest triggering report, dose or answer).",
    )
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_reason = models.CharField(max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "fingerprint"], name="unique_finding_fingerprint"
            )
        ]

    @property
    def caused_at(self) -> Any:
        """When its cause began: what "waiting since" counts from."""
        return self.cause_first_at or self.first_seen

    @property
    def last_caused_at(self) -> Any:
        """When its cause last happened: what "new since the clinician last looked" compares."""
        return self.cause_last_at or self.caused_at


class ClinicalNote(Record):
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()

    class Meta:
        ordering = ["-created"]


class AuditEventImmutable(Exception):
    """Audit events are append-only: an event cannot be changed or deleted."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise AuditEventImmutable("audit events are append-only: they cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("audit events are append-only: they cannot be deleted")


class AuditEvent(models.Model):
    """Append-only record of who viewed or changed patient data.

    Events form a hash chain (see :mod:`kratomwatch.clinic.audit_chain`): ``seq`` numbers
    them 1, 2, 3, …; ``hash`` is the SHA-256 of the event's fields and ``prev_hash``, the
    hash of the event before. Only ``audit_chain.append`` writes them.
    """

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    # Not indexed: events are read in ``seq`` order, which is their order in time, and every
    # API dose writes one.
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60)
    object_uuid = models.UUIDField(null=True)
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, null=True, related_name="audit_events"
    )
    ip = models.GenericIPAddressField(null=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditEventImmutable("audit events are append-only: they cannot be changed")
        if not self.hash:
            raise AuditEventImmutable("audit events are written by audit_chain.append only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEventImmutable("audit events are append-only: they cannot be deleted")
