"""The clinician's plan form and the taper helper's parameters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.models import Plan, PlanKind
from kratomwatch.clinic.templatetags.labels import instrument_name
from kratomwatch.clinic.text import Form, ModelForm

SCHEDULABLE = ("phq9", "phq2", "gad7", "gad2", "kw-withdrawal", "kw-use-criteria")


class PlanForm(ModelForm):
    reason = forms.CharField(
        max_length=300,
        label=_("Why this plan or change"),
        error_messages={"required": _("Say why: it is kept with this version.")},
    )

    class Meta:
        model = Plan
        fields = [
            "kind",
            "starting_dose_g",
            "max_single_dose_g",
            "max_daily_dose_g",
            "max_doses_per_day",
            "min_hours_between",
            "max_weekly_increase_pct",
            "review_on",
            "benefit_review_days",
            "stop_rules",
            "reason",
        ]
        labels = {
            "kind": _("Kind"),
            "starting_dose_g": _("Starting dose (g leaf-equivalent)"),
            "max_single_dose_g": _("Maximum single dose (g)"),
            "max_daily_dose_g": _("Maximum daily dose (g)"),
            "max_doses_per_day": _("Maximum doses per day"),
            "min_hours_between": _("Minimum hours between doses"),
            "max_weekly_increase_pct": _("Maximum weekly increase (%)"),
            "review_on": _("Review date"),
            "benefit_review_days": _("Days at a stable dose before lack of benefit is flagged"),
            "stop_rules": _("Stop rules (when the patient should stop and call)"),
        }
        widgets = {
            "review_on": forms.DateInput(attrs={"type": "date"}),
            "stop_rules": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for instrument in SCHEDULABLE:
            self.fields[f"every_{instrument}"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=90,
                label=instrument_name(instrument),
                help_text=_("days between"),
                error_messages={
                    "min_value": _("Between 1 and 90 days, or empty for not scheduled."),
                    "max_value": _("Between 1 and 90 days, or empty for not scheduled."),
                },
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in (
            "starting_dose_g",
            "max_single_dose_g",
            "max_daily_dose_g",
            "min_hours_between",
            "max_weekly_increase_pct",
        ):
            value = data.get(name)
            if value is not None and value <= 0:
                self.add_error(name, "Enter a number above 0, or leave it empty for no limit.")
        single, daily = data.get("max_single_dose_g"), data.get("max_daily_dose_g")
        if single and daily and single > daily:
            self.add_error(
                "max_single_dose_g", _("The single-dose limit is above the daily limit.")
            )
        start = data.get("starting_dose_g")
        if start and daily and start > daily:
            self.add_error("starting_dose_g", _("The starting dose is above the daily limit."))
        if data.get("max_doses_per_day") == 0:
            self.add_error("max_doses_per_day", _("Enter 1 or more, or leave it empty."))
        review = data.get("review_on")
        if review and review < date.today():  # noqa: DTZ011 - a calendar date chosen by a person
            self.add_error("review_on", _("The review date is in the past."))
        if data.get("kind") == PlanKind.TAPER and not daily and not self.data.get("step_date"):
            self.add_error("max_daily_dose_g", _("A taper needs a daily limit or taper steps."))
        return data

    def schedules(self) -> dict[str, int | None]:
        return {i: self.cleaned_data.get(f"every_{i}") for i in SCHEDULABLE}


class TaperHelperForm(Form):
    recent_daily_g = forms.DecimalField(
        min_value=Decimal("0.1"),
        max_digits=6,
        decimal_places=2,
        label=_("Recent average daily dose (g)"),
    )
    reduction_pct = forms.DecimalField(
        min_value=1, max_value=50, initial=10, label=_("Reduction per step (%)")
    )
    min_step_g = forms.DecimalField(
        min_value=Decimal("0.1"),
        max_value=10,
        initial="0.5",
        decimal_places=2,
        label=_("Minimum step (g)"),
    )
    step_days = forms.IntegerField(
        min_value=1, max_value=28, initial=7, label=_("Step length (days)")
    )
    start = forms.DateField(
        label=_("First step on"), widget=forms.DateInput(attrs={"type": "date"})
    )


def parse_steps(data: Any) -> tuple[list[dict[str, str]], list[str]]:
    """Steps as edited by the clinician (parallel lists step_date / step_g); errors by row."""
    dates, grams = data.getlist("step_date"), data.getlist("step_g")
    steps: list[dict[str, str]] = []
    errors: list[str] = []
    previous: date | None = None
    for n, (raw_day, raw_g) in enumerate(zip(dates, grams, strict=False), start=1):
        if not raw_day and not raw_g:
            continue
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            errors.append(gettext("Step %(n)s: enter a date (YYYY-MM-DD).") % {"n": n})
            continue
        try:
            grams_value = Decimal(raw_g)
            if not grams_value.is_finite() or grams_value < 0 or grams_value > 100:
                raise ValueError
        except (ValueError, ArithmeticError):
            errors.append(
                gettext("Step %(n)s: enter the daily limit in grams, from 0 to 100.") % {"n": n}
            )
            continue
        if previous is not None and day <= previous:
            errors.append(gettext("Step %(n)s: dates must go forward.") % {"n": n})
        previous = day
        steps.append({"start": day.isoformat(), "daily_g": f"{grams_value.normalize():f}"})
    return steps, errors
