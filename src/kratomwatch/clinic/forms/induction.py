"""The clinician's buprenorphine transition plan and induction log forms."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.models import InductionPlan, SedationLevel
from kratomwatch.clinic.text import Form, ModelForm

#: One log entry above this many milligrams is refused as a probable slip (a gram or
#: microgram amount): the unit of the field is milligrams. An input check, not dose advice.
MAX_ENTRY_MG = Decimal(64)
LOG_DAYS_BACK = 30


class InductionPlanForm(ModelForm):
    class Meta:
        model = InductionPlan
        fields = [
            "product_text",
            "planned_start",
            "min_hours_since_kratom",
            "cows_threshold",
            "plan_text",
            "patient_text",
        ]
        labels = {
            "product_text": _("Buprenorphine product and form"),
            "planned_start": _("Planned start date"),
            "min_hours_since_kratom": _("Hours since the last kratom dose before the first dose"),
            "cows_threshold": _("COWS total at or above which the first dose is given"),
            "plan_text": _("Induction plan (your words; the software proposes nothing)"),
            "patient_text": _("The plan for the patient, in plain words"),
        }
        help_texts = {
            "product_text": _("As you prescribe it, e.g. buprenorphine-naloxone sublingual film."),
            "min_hours_since_kratom": _("The case series started as early as 8 hours."),
            "cows_threshold": _(
                "8 means at least mild withdrawal, the usual threshold for opioids; not "
                "validated for kratom."
            ),
            "plan_text": _(
                "For the care team: not shown on the patient's pages (it is in their own data "
                "export)."
            ),
            "patient_text": _("Shown to the patient on their plan page."),
        }
        error_messages = {
            "product_text": {"required": _("Write the buprenorphine product and form.")},
            "plan_text": {"required": _("Write the induction plan.")},
            "min_hours_since_kratom": {
                "required": _("Enter the hours since the last kratom dose, e.g. 8."),
            },
            "cows_threshold": {"required": _("Enter the COWS threshold, e.g. 8.")},
        }
        widgets = {
            "planned_start": forms.DateInput(attrs={"type": "date"}),
            "plan_text": forms.Textarea(attrs={"rows": 5}),
            "patient_text": forms.Textarea(attrs={"rows": 3}),
        }


class InductionLogForm(Form):
    at = forms.DateTimeField(
        label=_("Time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"required": _("Enter the time of this entry.")},
    )
    dose_mg = forms.DecimalField(
        label=_("Buprenorphine given (mg)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_ENTRY_MG,
        max_digits=6,
        decimal_places=2,
        help_text=_("In milligrams, as given. Leave empty for an observation only."),
        error_messages={
            "max_value": _(
                "More than 64 mg in one entry: check the amount. The unit here is milligrams."
            ),
        },
    )
    cows = forms.IntegerField(
        label=_("COWS total (0–48)"),
        required=False,
        min_value=0,
        max_value=48,
    )
    sedation = forms.TypedChoiceField(
        label=_("Sedation level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Not assessed"))] + list(SedationLevel.choices),
    )
    notes = forms.CharField(
        label=_("Observation or notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_at(self) -> Any:
        when = self.cleaned_data["at"]
        now = timezone.now()
        try:
            timezone.localtime(when)
            too_late = when > now + timedelta(minutes=5)
            too_early = when < now - timedelta(days=LOG_DAYS_BACK)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("Enter a real date and time.")) from None
        if too_late:
            raise forms.ValidationError(_("This time is later than now: check the date and time."))
        if too_early:
            raise forms.ValidationError(
                _("This time is more than 30 days ago: record it as a clinical note instead.")
            )
        return when

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not any(
            data.get(name) not in (None, "") for name in ("dose_mg", "cows", "sedation", "notes")
        ):
            raise forms.ValidationError(
                _("Enter a buprenorphine dose, a COWS total, a sedation level or a note.")
            )
        return data


class EndInductionForm(Form):
    reason = forms.CharField(
        label=_("Why the transition ends"),
        max_length=300,
        error_messages={"required": _("Say why the transition ends.")},
    )
