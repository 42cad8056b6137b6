"""EHR systems a clinic trusts: CDS Hooks callers and bulk-data clients.

A clinic admin registers each client with the public keys it signs its JSON Web Tokens with
(a JWKS pasted in, or the https address it publishes it at). A client belongs to one clinic
and is only ever shown that clinic's patients. Who may register or see clients is decided in
:mod:`kratomwatch.clinic.access`; a token is checked in :mod:`kratomwatch.clinic.ehr_auth`.

A patient of the EHR is linked to a KratomWatch patient only explicitly
(:class:`EhrPatientLink`, the EHR's id for the patient as the clinic enters it), never by name.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy

from .base import Record
from .people import Clinic, PatientProfile, User


class EhrClientKind(models.TextChoices):
    CDS_HOOKS = (
        "cds-hooks",
        gettext_lazy("CDS Hooks (advice when a chart opens or an order is written)"),
    )
    BULK = "bulk", gettext_lazy("Bulk data export (SMART Backend Services)")


class EhrClient(Record):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="ehr_clients")
    kind = models.CharField(max_length=12, choices=EhrClientKind.choices)
    name = models.CharField(max_length=100)
    #: The ``iss`` of the client's JSON Web Tokens: the EHR's own identifier for CDS Hooks; the
    #: client id KratomWatch gave it (``iss`` = ``sub``) for bulk export.
    issuer = models.CharField(max_length=255)
    #: A JSON Web Key Set ({"keys": [...]}) of the client's public keys, when pasted in.
    jwks = models.JSONField(default=dict, blank=True)
    #: Or the https address the client publishes its key set at (fetched, then kept an hour).
    jwks_url = models.URLField(max_length=500, blank=True, default="")
    jwks_fetched = models.JSONField(default=dict, blank=True)
    jwks_fetched_at = models.DateTimeField(null=True, blank=True)
    #: When fetching the key set last failed (cleared by a successful fetch): no fetch is
    #: tried again within a minute of it.
    jwks_failed_at = models.DateTimeField(null=True, blank=True)
    #: Bulk export: the SMART system scopes this client may be granted, space separated.
    scopes = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["clinic", "name"]
        constraints = [
            # One issuer names one active registration, so a token says which clinic it is
            # for; a deactivated registration does not keep the issuer from a new one.
            models.UniqueConstraint(
                fields=["kind", "issuer"],
                condition=models.Q(active=True),
                name="unique_active_ehr_client_issuer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class EhrPatientLink(Record):
    """This EHR's id for a patient (the FHIR ``Patient.id`` it sends in ``context.patientId``),
    set by the clinic: the only way a request about an EHR patient reaches a record."""

    client = models.ForeignKey(EhrClient, on_delete=models.CASCADE, related_name="patient_links")
    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="ehr_links")
    ehr_patient_id = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "ehr_patient_id"], name="unique_ehr_patient_id"
            ),
            models.UniqueConstraint(fields=["client", "patient"], name="unique_ehr_patient_link"),
        ]

    def __str__(self) -> str:
        return f"{self.ehr_patient_id} → {self.patient}"


class UsedJwtId(models.Model):
    """A ``jti`` already presented by a client, kept until its token expires, so that a token
    replayed (by anyone who saw it) is refused."""

    issuer = models.CharField(max_length=255)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "jti"], name="unique_jwt_id")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.jti}"
