"""Designing and stopping an N-of-1 trial."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.text import Form
from kratomwatch.domain.analysis.nof1 import MAX_PAIRS, MAX_PERIOD_DAYS, MAX_WASHOUT_DAYS

# ------------------------------------------------------------------ clinician: design


MAX_TRIAL_DAYS = 366
MAX_START_AHEAD_DAYS = 365


class TrialDesignForm(Form):
    regimen_a = forms.CharField(
        label=_("Regimen A"),
        max_length=200,
        help_text=_("As agreed with the patient, e.g. “usual regimen”."),
    )
    regimen_b = forms.CharField(label=_("Regimen B"), max_length=200)
    period_days = forms.IntegerField(
        label=_("Days per period"), min_value=1, max_value=MAX_PERIOD_DAYS, initial=14
    )
    pairs = forms.IntegerField(
        label=_("Pairs of periods"),
        min_value=1,
        max_value=MAX_PAIRS,
        initial=3,
        help_text=_("Each pair has one period of A and one of B, in random order."),
    )
    washout_days = forms.IntegerField(
        label=_("Washout days between periods"),
        min_value=0,
        max_value=MAX_WASHOUT_DAYS,
        initial=0,
        help_text=_("Never analysed. What is taken on them is for you to agree with the patient."),
    )
    start_date = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        if not self.is_bound:
            self.initial.setdefault("start_date", today + timedelta(days=1))

    def clean_start_date(self) -> date:
        start: date = self.cleaned_data["start_date"]
        if start < self.today:
            raise forms.ValidationError(_("The first day cannot be in the past."))
        if start > self.today + timedelta(days=MAX_START_AHEAD_DAYS):
            raise forms.ValidationError(_("The first day must be within a year."))
        return start

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        a, b = data.get("regimen_a", "").strip(), data.get("regimen_b", "").strip()
        if a and b and a.casefold() == b.casefold():
            self.add_error("regimen_b", _("The two regimens must differ."))
        if all(data.get(k) is not None for k in ("period_days", "pairs", "washout_days")):
            total = 2 * data["pairs"] * data["period_days"] + (
                (2 * data["pairs"] - 1) * data["washout_days"]
            )
            if total > MAX_TRIAL_DAYS:
                self.add_error(
                    None,
                    gettext("This trial would last %(total)s days; at most %(max)s.")
                    % {"total": total, "max": MAX_TRIAL_DAYS},
                )
        return data


class StopForm(Form):
    reason = forms.CharField(
        label=_("Reason for stopping early"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
