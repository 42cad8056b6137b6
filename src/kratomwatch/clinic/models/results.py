"""Results a clinician records or imports: liver tests, QTc, drug-screen items.

One row per analyte or screen item; the rows entered together share ``batch``. Values are
stored in the analyte's own unit (``unit``) with the value and unit as entered beside them.
"""

from django.db import models
from django.utils.translation import gettext_lazy

from .base import Record
from .people import PatientProfile, User
from .records import EntrySource


class ResultKind(models.TextChoices):
    MEASUREMENT = "measurement", gettext_lazy("Measurement")
    SCREEN = "screen", gettext_lazy("Drug screen")


class ScreenOutcome(models.TextChoices):
    POSITIVE = "positive", gettext_lazy("Positive")
    NEGATIVE = "negative", gettext_lazy("Negative")
    NOT_TESTED = "not_tested", gettext_lazy("Not tested")


class Specimen(models.TextChoices):
    BLOOD = "blood", gettext_lazy("Blood")
    URINE = "urine", gettext_lazy("Urine")
    ORAL_FLUID = "oral_fluid", gettext_lazy("Oral fluid")
    ECG = "ecg", gettext_lazy("ECG")


class LabResult(Record):
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="results")
    batch = models.UUIDField(help_text="Shared by the results entered together.")
    kind = models.CharField(max_length=12, choices=ResultKind.choices)
    analyte = models.CharField(
        max_length=40, help_text="Analyte or screen item id (lab_tests.yaml)."
    )
    taken_at = models.DateTimeField(help_text="When the specimen was taken.")
    value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    value_entered = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    unit_entered = models.CharField(max_length=20, blank=True)
    upper_limit = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        help_text="The laboratory's upper limit of normal, in ``unit``, when given.",
    )  # fmt: skip
    outcome = models.CharField(max_length=12, choices=ScreenOutcome.choices, blank=True)
    specimen = models.CharField(max_length=12, choices=Specimen.choices)
    source = models.CharField(max_length=10, choices=EntrySource.choices, default=EntrySource.WEB)
    entered_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=80, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-taken_at", "analyte"]
        indexes = [models.Index(fields=["patient", "taken_at"], name="result_patient_taken")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "idempotency_key", "analyte"],
                condition=~models.Q(idempotency_key=""),
                name="unique_result_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.taken_at:%Y-%m-%d}"
