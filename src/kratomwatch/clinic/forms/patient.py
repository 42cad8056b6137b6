"""Forms of the patient's own settings: products, reminders, deletion requests."""

from __future__ import annotations

from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.models import Language, PotencySource, Product
from kratomwatch.clinic.screening_input import product_spec
from kratomwatch.clinic.text import Form, ModelForm
from kratomwatch.domain.doses import (
    ALLOWED_UNITS,
    Unit,
)
from kratomwatch.domain.products import FORM_LABELS, ProductForm, ProductSpec

POTENCY_UNITS = [("mg/g", gettext_lazy("mg per g")), ("%", "% w/w")]


class ProductCreateForm(ModelForm):
    """A product with its potency as printed on the label or a lab certificate."""

    mitragynine = forms.CharField(
        required=False, max_length=20, label=_("Mitragynine content (if known)")
    )
    mitragynine_unit = forms.ChoiceField(choices=POTENCY_UNITS, initial="mg/g", required=False)
    hydroxymitragynine = forms.CharField(
        required=False, max_length=20, label=_("7-hydroxymitragynine content (if known)")
    )
    hydroxymitragynine_unit = forms.ChoiceField(
        choices=POTENCY_UNITS, initial="mg/g", required=False
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)

    class Meta:
        model = Product
        fields = [
            "name",
            "vendor",
            "form",
            "strain_label",
            "batch",
            "potency_source",
            "unit_material_mg",
            "mitragynine_mg_per_unit",
            "hydroxymitragynine_mg_per_unit",
            "leaf_g_per_ml",
        ]
        labels = {
            "name": _("Name"),
            "vendor": _("Vendor"),
            "form": _("Form"),
            "strain_label": _("Strain label"),
            "batch": _("Batch"),
            "unit_material_mg": _("Weight of one capsule or tablet (mg)"),
            "mitragynine_mg_per_unit": _("Mitragynine per capsule or tablet (mg)"),
            "hydroxymitragynine_mg_per_unit": _("7-hydroxymitragynine per capsule or tablet (mg)"),
            "leaf_g_per_ml": _("Grams of leaf per ml (tea or liquid)"),
            "potency_source": _("Where the content figures come from"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = [("", gettext("Choose the form"))] + [  # type: ignore[attr-defined]
            (f.value, data_text(FORM_LABELS[f])) for f in ProductForm
        ]
        self.fields["potency_source"].initial = PotencySource.UNKNOWN

    def _mg_per_g(self, field: str) -> Decimal | None:
        raw = (self.cleaned_data.get(field) or "").strip()
        if not raw:
            return None
        unit = self.cleaned_data.get(f"{field}_unit") or "mg/g"
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.add_error(field, gettext("Enter a number, e.g. 15 (mg per g) or 1.5 (%)."))
            return None
        limit = Decimal(100) if unit == "%" else Decimal(1000)
        if not value.is_finite() or value < 0 or value > limit:
            self.add_error(
                field,
                gettext("Enter a number from 0 to %(limit)s %(unit)s.")
                % {"limit": limit, "unit": unit},
            )
            return None
        return value * 10 if unit == "%" else value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.instance.mitragynine_mg_per_g = self._mg_per_g("mitragynine")
        self.instance.hydroxymitragynine_mg_per_g = self._mg_per_g("hydroxymitragynine")
        form = data.get("form")
        if form:
            allowed = ALLOWED_UNITS[ProductForm(form)]
            per_unit = [
                f
                for f in (
                    "unit_material_mg",
                    "mitragynine_mg_per_unit",
                    "hydroxymitragynine_mg_per_unit",
                )
                if data.get(f) is not None
            ]
            if per_unit and Unit.CAPSULE not in allowed and Unit.TABLET not in allowed:
                for f in per_unit:
                    self.add_error(
                        f,
                        gettext("%(form)s is not taken in capsules or tablets.")
                        % {"form": data_text(FORM_LABELS[ProductForm(form)])},
                    )
            if data.get("leaf_g_per_ml") is not None and Unit.ML not in allowed:
                self.add_error(
                    "leaf_g_per_ml", gettext("Only teas and liquids are measured in ml.")
                )
            for name in (
                "unit_material_mg",
                "mitragynine_mg_per_unit",
                "hydroxymitragynine_mg_per_unit",
                "leaf_g_per_ml",
            ):
                value = data.get(name)
                if value is not None and value <= 0:
                    self.add_error(
                        name, gettext("Enter a number above 0, or leave it empty if unknown.")
                    )
        return data

    def spec(self) -> ProductSpec:
        return product_spec(self.instance)


REMINDER_CHOICES = [("", gettext_lazy("No reminder"))] + [
    (time(h, m).strftime("%H:%M"), time(h, m).strftime("%H:%M"))
    for h in range(6, 23)
    for m in (0, 30)
]


class ReminderForm(Form):
    reminder_time = forms.ChoiceField(
        choices=REMINDER_CHOICES, required=False, label=_("Daily reminder")
    )
    by_email = forms.BooleanField(required=False, label=_("Remind me by e-mail"))
    email = forms.EmailField(required=False, label=_("Send it to this e-mail address"))
    by_push = forms.BooleanField(
        required=False,
        label=_("Remind me with a notification on this phone or computer"),
        help_text=_("Turn on notifications below on each device you want them on."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reminder_time"):
            if not data.get("by_email") and not data.get("by_push"):
                self.add_error("by_email", gettext("Choose e-mail, notifications or both."))
            if data.get("by_email") and not data.get("email"):
                self.add_error("email", gettext("Enter an e-mail address for the reminder."))
        return data


class LanguageForm(Form):
    language = forms.ChoiceField(
        choices=Language.choices,
        label=_("Language of my pages and e-mails"),
        error_messages={"required": _("Choose a language.")},
    )


class DeletionRequestForm(Form):
    reason = forms.CharField(max_length=2000, required=False, label=_("Reason (optional)"))
