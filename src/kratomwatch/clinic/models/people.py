"""Clinics, users and their roles, patient profiles and care teams."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from kratomwatch.domain.conditions import (
    CONDITION_LABELS,
    PHENOTYPE_LABELS,
    ConditionCode,
    Gene,
    Phenotype,
)

from .base import Record


class Clinic(Record):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    require_two_factor = models.BooleanField(
        default=False, help_text="Clinicians and admins must use an authenticator app."
    )
    retention_years = models.PositiveSmallIntegerField(
        default=10,
        help_text="Years clinical records are kept after the last entry, as the clinic's law "
        "requires; a deletion request erases them only after that.",
    )
    # An id of data/knowledge/jurisdictions.yaml; "none" applies no state rule.
    jurisdiction = models.CharField(max_length=30, default="none")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    PATIENT = "patient", gettext_lazy("Patient")
    CLINICIAN = "clinician", gettext_lazy("Clinician")
    CLINIC_ADMIN = "clinic_admin", gettext_lazy("Clinic admin")


class AlertChannel(models.TextChoices):
    """How a clinician hears of a new high-severity finding of a patient on their care team."""

    PUSH = "push", _("Push notification")
    EMAIL = "email", _("E-mail")
    BOTH = "both", _("Push notification and e-mail")
    NONE = "none", _("Neither (I look at the findings page)")


class StaffLanguage(models.TextChoices):
    """The languages whose staff pages are translated (docs/languages.md), each named in
    itself."""

    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class User(AbstractUser):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT)
    modified = models.DateTimeField(auto_now=True)
    alert_channel = models.CharField(
        max_length=10,
        choices=AlertChannel.choices,
        default=AlertChannel.EMAIL,
        help_text="A clinician's channel for a new high-severity finding.",
    )
    alert_digest = models.BooleanField(
        default=False, help_text="A clinician's daily e-mail digest of the other new findings."
    )
    language = models.CharField(
        max_length=8,
        choices=StaffLanguage.choices,
        default=StaffLanguage.ENGLISH,
        help_text="The language of a clinician's or clinic admin's pages (a patient's is on "
        "their profile).",
    )


class Sex(models.TextChoices):
    FEMALE = "female", gettext_lazy("Female")
    MALE = "male", gettext_lazy("Male")
    INTERSEX = "intersex", gettext_lazy("Intersex")
    UNKNOWN = "unknown", gettext_lazy("Not stated")


class Language(models.TextChoices):
    """The languages a patient may choose, each named in itself (settings.LANGUAGES)."""

    ENGLISH = "en", "English"
    SPANISH = "es", "Español"
    MALAY = "ms", "Bahasa Melayu"


class PatientProfile(Record):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient_profile")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    display_name = models.CharField(max_length=120)
    year_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    sud_treatment = models.CharField(
        max_length=200,
        blank=True,
        help_text="Current substance-use-disorder treatment, e.g. buprenorphine, methadone.",
    )
    language = models.CharField(
        max_length=8,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="The language of the patient's pages and e-mails.",
    )
    reminder_time = models.TimeField(
        null=True, blank=True, help_text="Local time of the daily check-in reminder."
    )
    remind_by_email = models.BooleanField(default=True)
    remind_by_push = models.BooleanField(default=False)
    screening_due_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Set when a screened input changed and the record waits for screening.",
    )
    change_count = models.PositiveBigIntegerField(
        default=0,
        help_text="Changes to screened inputs so far: a screening notes the count it read the "
        "record at, so a change made while it ran keeps the record due.",
    )
    screened_change_count = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The change count the stored findings were screened at; an older screening "
        "finishing late does not overwrite them.",
    )
    screened_knowledge = models.CharField(
        max_length=20,
        blank=True,
        default="",
        help_text="The knowledge-base version the stored findings were screened with: a new "
        "release queues the record for screening again.",
    )
    screening_notes = models.JSONField(
        default=list,
        blank=True,
        help_text="The notes of the last screening: information on a medication or product "
        "with nothing to act on now (a product's strength unknown, a possible effect not shown "
        "in people), shown beside what it concerns and never raised as findings.",
    )
    screening_claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a screening server last took this record from the queue: others leave "
        "it alone for one round.",
    )
    care_team = models.ManyToManyField(
        User, through="CareTeamMembership", related_name="care_patients"
    )

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def reference(self) -> str:
        """A short reference from the record's public id, shown beside the name so that two
        patients of the same name are told apart."""
        return self.uuid.hex[:6].upper()

    @property
    def identity_hint(self) -> str:
        """What tells this patient apart in a list: "born 1961 · ref 3F9A1C"."""
        born = f"born {self.year_of_birth} · " if self.year_of_birth else ""
        return f"{born}ref {self.reference}"


class CareTeamMembership(Record):
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE)
    clinician = models.ForeignKey(User, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "clinician"], name="unique_care_team_member")
        ]


class PatientCondition(Record):
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="conditions")
    code = models.CharField(
        max_length=40, choices=[(c.value, CONDITION_LABELS[c]) for c in ConditionCode]
    )
    note = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "code"], name="unique_patient_condition")
        ]


class PharmacogenomicResult(Record):
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="pharmacogenomics"
    )
    gene = models.CharField(max_length=10, choices=[(g.value, g.value) for g in Gene])
    phenotype = models.CharField(
        max_length=20, choices=[(p.value, PHENOTYPE_LABELS[p]) for p in Phenotype]
    )
    tested_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)


class MedicationStatement(Record):
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="medications"
    )
    name_entered = models.CharField(max_length=200)
    ingredient = models.CharField(
        max_length=100, blank=True, help_text="Normalized ingredient id when recognized."
    )
    dose_text = models.CharField(max_length=200, blank=True)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name_entered"]


class TOTPDevice(Record):
    """An authenticator app registered by a clinician or admin (RFC 6238, 30 s steps)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    confirmed = models.BooleanField(default=False)
    last_step = models.BigIntegerField(default=0, help_text="Refuses a code used before.")
