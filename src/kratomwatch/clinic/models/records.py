"""What patients record: products, doses, questionnaire responses and symptoms."""

from django.db import models
from django.utils.translation import gettext_lazy

from kratomwatch.domain.doses import UNIT_LABELS, Unit
from kratomwatch.domain.products import FORM_LABELS, ProductForm

from .base import Record
from .people import PatientProfile, User


class PotencySource(models.TextChoices):
    UNKNOWN = "unknown", gettext_lazy("Unknown")
    LABEL = "label", gettext_lazy("Product label")
    LAB = "lab", gettext_lazy("Lab certificate")


class Product(Record):
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200)
    vendor = models.CharField(max_length=200, blank=True)
    strain_label = models.CharField(max_length=100, blank=True)
    form = models.CharField(max_length=20, choices=[(f.value, FORM_LABELS[f]) for f in ProductForm])
    batch = models.CharField(max_length=100, blank=True)
    potency_source = models.CharField(
        max_length=10, choices=PotencySource.choices, default=PotencySource.UNKNOWN
    )
    mitragynine_mg_per_g = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True
    )
    hydroxymitragynine_mg_per_g = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True
    )
    unit_material_mg = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    mitragynine_mg_per_unit = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True
    )
    hydroxymitragynine_mg_per_unit = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True
    )
    leaf_g_per_ml = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    mitragynine_mg_per_ml = models.DecimalField(
        max_digits=9, decimal_places=4, null=True, blank=True
    )
    hydroxymitragynine_mg_per_ml = models.DecimalField(
        max_digits=9, decimal_places=4, null=True, blank=True
    )
    extract_ratio = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    archived = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="unique_product_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return self.name


class EntrySource(models.TextChoices):
    WEB = "web", "Web form"
    API = "api", "API"
    IMPORT = "import", "Import"
    SEED = "seed", "Synthetic demo data"


class DoseEntry(Record):
    # Every API dose updates each of this table's indexes, so there is none that another
    # covers: the patient's look-ups use the indexes that begin with the patient (below),
    # and only doses entered with a check-in are indexed by it.
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="doses", db_index=False
    )
    checkin = models.ForeignKey(
        "CheckIn",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="doses",
        db_index=False,
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="doses")
    lot = models.ForeignKey(
        "ProductLot", on_delete=models.SET_NULL, null=True, blank=True, related_name="doses"
    )
    taken_at = models.DateTimeField(db_index=True)
    amount = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=10, choices=[(u.value, UNIT_LABELS[u]) for u in Unit])
    preparation = models.CharField(max_length=100, blank=True)
    route = models.CharField(max_length=20, default="oral")
    # Exact products of amount and potency: up to 3 + 4 + 4 decimal places.
    leaf_equivalent_g = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    mitragynine_mg = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    hydroxymitragynine_mg = models.DecimalField(
        max_digits=20, decimal_places=10, null=True, blank=True
    )
    confirmed_warnings = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=EntrySource.choices, default=EntrySource.WEB)
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    idempotency_key = models.CharField(max_length=80)

    class Meta:
        ordering = ["-taken_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"], name="unique_dose_idempotency_key"
            )
        ]
        indexes = [
            models.Index(fields=["patient", "taken_at"]),
            models.Index(
                fields=["checkin"],
                condition=models.Q(checkin__isnull=False),
                name="dose_checkin_idx",
            ),
        ]


class QuestionnaireResponse(Record):
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="responses")
    checkin = models.ForeignKey(
        "CheckIn", on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    instrument_id = models.CharField(max_length=60)
    instrument_version = models.CharField(max_length=20)
    answers = models.JSONField()
    total = models.DecimalField(max_digits=8, decimal_places=3, null=True)
    scores = models.JSONField(default=dict, help_text="Subscales, band and flags.")
    taken_at = models.DateTimeField(db_index=True)
    completed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    source = models.CharField(max_length=10, choices=EntrySource.choices, default=EntrySource.WEB)
    idempotency_key = models.CharField(max_length=80)

    class Meta:
        ordering = ["-taken_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"], name="unique_response_idempotency_key"
            )
        ]
        indexes = [models.Index(fields=["patient", "instrument_id", "taken_at"])]


class Severity(models.IntegerChoices):
    MILD = 1, gettext_lazy("Mild")
    MODERATE = 2, gettext_lazy("Moderate")
    SEVERE = 3, gettext_lazy("Severe")


class SymptomReport(Record):
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="symptoms")
    checkin = models.ForeignKey(
        "CheckIn", on_delete=models.SET_NULL, null=True, blank=True, related_name="symptoms"
    )
    term = models.CharField(max_length=100)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    onset = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=10, choices=EntrySource.choices, default=EntrySource.WEB)
    # Set when a red flag is saved ahead of the rest of its form (see
    # actions.checkins.do_report_red_flags), so that saving the form later adds nothing twice.
    idempotency_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="unique_symptom_idempotency_key",
            )
        ]
