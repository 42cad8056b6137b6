"""Forms for EHR clients (registered by a clinic admin) and a patient's EHR ids.

A key set is checked as it is pasted (:func:`ehr_auth.parse_jwks`), an address as it is typed
(:func:`ehr_auth.check_jwks_url`); each error names the field and what is wrong, and what was
typed is kept.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.ehr_auth import BadKeySet, check_jwks_url, parse_jwks
from kratomwatch.clinic.models import EhrClient, EhrClientKind
from kratomwatch.clinic.text import Form

#: The SMART system scopes a bulk-export client may be allowed (read only).
BULK_SCOPES = [
    ("system/*.read", _("Everything this clinic exports (system/*.read)")),
    ("system/Patient.read", "system/Patient.read"),
    ("system/MedicationStatement.read", "system/MedicationStatement.read"),
    ("system/Observation.read", "system/Observation.read"),
    ("system/Condition.read", "system/Condition.read"),
    ("system/DetectedIssue.read", "system/DetectedIssue.read"),
    ("system/QuestionnaireResponse.read", "system/QuestionnaireResponse.read"),
]


class EhrClientForm(Form):
    name = forms.CharField(
        max_length=100,
        label=_("Name"),
        help_text=_("How the clinic knows this system, e.g. the hospital's EHR."),
        error_messages={"required": _("Enter a name for the client.")},
    )
    kind = forms.ChoiceField(
        choices=EhrClientKind.choices,
        widget=forms.RadioSelect,
        label=_("What it does"),
        error_messages={"required": _("Choose what the client does.")},
    )
    issuer = forms.CharField(
        max_length=255,
        required=False,
        label=_("Issuer (CDS Hooks)"),
        help_text=_(
            "The iss of the EHR's signed tokens, as the EHR's administrator gives it. For bulk "
            "export KratomWatch makes a client id instead and shows it once the client is added."
        ),
    )
    jwks = forms.CharField(
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        label=_("Public key set (JWKS)"),
        help_text=_('Paste the JSON key set, {"keys": [...]}: public keys only.'),
    )
    jwks_url = forms.CharField(
        required=False,
        max_length=500,
        label=_("Or the address of the key set"),
        help_text=_("An https address where the EHR publishes its key set."),
    )
    scopes = forms.MultipleChoiceField(
        required=False,
        choices=BULK_SCOPES,
        widget=forms.CheckboxSelectMultiple,
        label=_("What it may export (bulk export)"),
        error_messages={"invalid_choice": _("Choose scopes from the list.")},
    )

    def clean_jwks(self) -> dict[str, Any] | None:
        text = self.cleaned_data.get("jwks", "").strip()
        if not text:
            return None
        try:
            parse_jwks(text)
        except BadKeySet as exc:
            raise forms.ValidationError(str(exc), code="bad_jwks") from None
        data: dict[str, Any] = json.loads(text)
        return data

    def clean_jwks_url(self) -> str:
        url = self.cleaned_data.get("jwks_url", "").strip()
        if url:
            try:
                check_jwks_url(url)
            except BadKeySet as exc:
                raise forms.ValidationError(str(exc), code="bad_url") from None
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        has_set = bool(data.get("jwks")) or bool(self.errors.get("jwks"))
        has_url = bool(data.get("jwks_url")) or bool(self.errors.get("jwks_url"))
        if not has_set and not has_url:
            self.add_error("jwks", _("Paste the client's public key set, or give its address."))
        elif data.get("jwks") and data.get("jwks_url"):
            self.add_error("jwks_url", _("Give the key set or its address, not both."))
        if kind == EhrClientKind.CDS_HOOKS:
            issuer = (data.get("issuer") or "").strip()
            if not issuer:
                self.add_error("issuer", _("Enter the issuer of the EHR's tokens."))
            data["issuer"] = issuer
        if kind == EhrClientKind.BULK and not data.get("scopes") and "scopes" not in self.errors:
            self.add_error("scopes", _("Choose what the client may export."))
        return data


class DeactivateForm(Form):
    confirm = forms.BooleanField(
        label=_("Yes, stop trusting this client"),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class ClientChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class EhrLinkForm(Form):
    client = ClientChoice(
        queryset=EhrClient.objects.none(),
        to_field_name="uuid",
        label=_("EHR"),
        error_messages={
            "required": _("Choose the EHR."),
            "invalid_choice": _("Choose one of this clinic's EHR clients."),
        },
    )
    ehr_patient_id = forms.CharField(
        max_length=64,
        label=_("The patient's id in that EHR"),
        help_text=_("The FHIR Patient id the EHR sends (context.patientId), exactly as it is."),
        error_messages={"required": _("Enter the patient's id in the EHR.")},
    )

    def __init__(self, clients: QuerySet[EhrClient], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients  # type: ignore[attr-defined]

    def clean_ehr_patient_id(self) -> str:
        value: str = self.cleaned_data["ehr_patient_id"].strip()
        if not value or any(ch.isspace() for ch in value):
            raise forms.ValidationError(_("An EHR id has no spaces."), code="bad_id")
        return value


class EhrUnlinkForm(Form):
    link = forms.CharField(
        max_length=64, error_messages={"required": _("Choose the link to remove.")}
    )
