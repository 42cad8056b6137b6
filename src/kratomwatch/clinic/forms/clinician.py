"""Forms of the clinician's pages: findings, medications, notes, the panel's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.models import AlertChannel, StaffLanguage
from kratomwatch.clinic.text import Form


class FindingActionForm(Form):
    action = forms.ChoiceField(choices=[("acknowledge", "Acknowledge"), ("resolve", "Resolve")])
    reason = forms.CharField(
        max_length=300,
        strip=True,
        error_messages={"required": _("Give a reason: it is kept with the finding.")},
    )


class MedicationForm(Form):
    name = forms.CharField(
        max_length=200,
        label=_("Medication"),
        error_messages={"required": _("Enter the medication name (up to 200 characters).")},
    )
    dose_text = forms.CharField(max_length=200, required=False, label=_("Dose"))


class NoteForm(Form):
    text = forms.CharField(
        max_length=5000,
        label=_("New note"),
        error_messages={"required": _("Write the note (up to 5000 characters).")},
    )


class BulkAcknowledgeForm(Form):
    reason = forms.CharField(
        max_length=300,
        label=_("Reason"),
        error_messages={"required": _("Give a reason: it is kept with each finding.")},
    )


class PanelFilterForm(Form):
    """The panel's search and filters (a GET form): values outside the lists match nobody."""

    q = forms.CharField(max_length=100, required=False, label=_("Search"))
    condition = forms.CharField(max_length=60, required=False, label=_("Condition"))
    form = forms.CharField(max_length=60, required=False, label=_("Product form"))
    category = forms.CharField(max_length=60, required=False, label=_("Open finding"))


class AlertSettingsForm(Form):
    """How a clinician hears of their patients' findings."""

    alert_channel = forms.ChoiceField(
        choices=AlertChannel.choices,
        widget=forms.RadioSelect,
        label=_("When a patient has a new urgent (high-severity) finding, tell me by"),
        error_messages={"required": _("Choose how you want to be told.")},
    )
    alert_digest = forms.BooleanField(
        required=False,
        label=_("Send me a daily e-mail with the number of other new findings"),
    )


class StaffLanguageForm(Form):
    """A clinician's or clinic admin's language for their own pages."""

    language = forms.ChoiceField(
        choices=StaffLanguage.choices,
        label=_("Language of my pages"),
        error_messages={"required": _("Choose a language.")},
    )
