"""A clinician's plan to move a patient from kratom to buprenorphine, and its induction log.

The clinician writes everything here: the induction plan, the readiness thresholds and each
buprenorphine dose given. The software shows the readiness checklist and watches the log
(``kratomwatch.domain.induction``); it proposes no dose and no schedule.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from .base import Record
from .people import PatientProfile, User


class SedationLevel(models.IntegerChoices):
    """After the Pasero opioid-induced sedation scale; 3 and 4 call for action."""

    AWAKE = 1, gettext_lazy("1 – awake and alert")
    SLIGHTLY_DROWSY = 2, gettext_lazy("2 – slightly drowsy, easily roused")
    FREQUENTLY_DROWSY = 3, gettext_lazy("3 – frequently drowsy, drifts off while talking")
    MINIMAL_RESPONSE = 4, gettext_lazy("4 – minimal or no response")


class InductionPlan(Record):
    """One transition to buprenorphine. A change makes a new version of the same plan: the
    earlier versions are kept in ``history``. At most one is open per patient."""

    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="induction_plans"
    )
    version = models.PositiveIntegerField(default=1)
    history = models.JSONField(default=list, blank=True, help_text="Earlier versions.")
    plan_text = models.TextField(help_text="The clinician's induction plan, in their words.")
    patient_text = models.TextField(
        blank=True, help_text="What the patient reads: the plan in plain words."
    )
    product_text = models.CharField(
        max_length=200, help_text="The buprenorphine product and form, as the clinician wrote it."
    )
    planned_start = models.DateField(null=True, blank=True)
    min_hours_since_kratom = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
        help_text="Hours since the last kratom dose before the first buprenorphine dose.",
    )
    cows_threshold = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(48)],
        help_text="The COWS total at or above which the first dose is given.",
    )
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_at__isnull=True),
                name="one_open_induction_plan",
            )
        ]

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class InductionLogEntry(Record):
    """One moment of the induction: a buprenorphine dose given, an observation, or both."""

    plan = models.ForeignKey(InductionPlan, on_delete=models.CASCADE, related_name="log")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="induction_log"
    )
    at = models.DateTimeField()
    dose_mg = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Buprenorphine given, in milligrams, as the clinician wrote it.",
    )
    cows = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(48)], help_text="COWS total, 0-48."
    )
    sedation = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=SedationLevel.choices
    )
    notes = models.TextField(blank=True)
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "pk"]
