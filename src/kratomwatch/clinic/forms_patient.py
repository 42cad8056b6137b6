"""Forms of the patient's app: the daily check-in, questionnaires and products.

Each form keeps what was typed when validation fails and names the field at fault. Clinical
rules (units, plausibility, scoring) come from the domain; these forms only shape input.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone

from kratomwatch.domain.doses import (
    ALLOWED_UNITS,
    CheckedDose,
    Unit,
)
from kratomwatch.domain.products import FORM_LABELS, ProductForm, ProductSpec
from kratomwatch.domain.questionnaires import Instrument, ScoringError
from kratomwatch.domain.safety import load_knowledge

from .forms import check_dose_on_form
from .models import PatientProfile, PotencySource, Product
from .snapshot import product_spec
from .text import Form, ModelForm


class QuestionnaireForm(Form):
    """One radio group per item of an instrument; answers are scored by the domain."""

    def __init__(self, instrument: Instrument, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            values = sorted(item.allowed)
            labels = {o.value: o.label for o in item.options}
            choices = [(str(v), labels.get(v, str(v))) for v in values]
            self.fields[item.id] = forms.TypedChoiceField(
                label=item.text,
                choices=choices,
                coerce=int,
                empty_value=None,
                required=item.required,
                widget=forms.RadioSelect(attrs={"class": "scale"}),
                error_messages={"required": "Choose one answer for this question."},
            )
            self.fields[item.id].min_label = item.min_label  # type: ignore[attr-defined]
            self.fields[item.id].max_label = item.max_label  # type: ignore[attr-defined]

    def answers(self) -> dict[str, int | None]:
        return {item.id: self.cleaned_data.get(item.id) for item in self.instrument.items}

    def add_scoring_errors(self, exc: ScoringError) -> None:
        for item_id, message in exc.errors:
            self.add_error(item_id if item_id in self.fields else None, message)


def symptom_choices(red_flag: bool) -> list[tuple[str, str]]:
    kb = load_knowledge()
    return [(s.id, s.label) for s in kb.symptoms.values() if s.red_flag is red_flag]


class CheckInForm(Form):
    """The parts of a check-in besides the ratings and the doses."""

    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    side_effects = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Side effects today"
    )
    red_flags = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Any of these?"
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything else (optional)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["side_effects"].choices = symptom_choices(False)  # type: ignore[attr-defined]
        self.fields["red_flags"].choices = symptom_choices(True)  # type: ignore[attr-defined]
        for sid, _ in self.fields["side_effects"].choices:  # type: ignore[attr-defined]
            self.fields[f"severity_{sid}"] = forms.TypedChoiceField(
                choices=[("1", "Mild"), ("2", "Moderate"), ("3", "Severe")],
                coerce=int,
                required=False,
                initial="1",
                widget=forms.RadioSelect,
            )

    def severities(self) -> dict[str, int]:
        return {
            sid: self.cleaned_data.get(f"severity_{sid}") or 1
            for sid in self.cleaned_data.get("side_effects", [])
        }


class DoseRowForm(Form):
    """One dose in a check-in. Rows not ticked as taken are ignored."""

    took = forms.BooleanField(required=False, label="I took this")
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label="Choose a product",
    )
    amount = forms.CharField(
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    # Short unit names fit a phone; each is unambiguous (g, mg, capsule, tablet, ml).
    unit = forms.ChoiceField(
        choices=[("", "Unit")] + [(u.value, u.value) for u in Unit], required=False
    )
    at = forms.TimeField(
        required=False, label="Time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    confirm = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, patient: PatientProfile, day: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient, self.day = patient, day
        self.fields["product"].queryset = patient.products.filter(archived=False)  # type: ignore[attr-defined]
        posted = (
            self.data.getlist(self.add_prefix("confirm")) if hasattr(self.data, "getlist") else []
        )
        self.fields["confirm"].choices = [(c, c) for c in posted]  # type: ignore[attr-defined]
        self.checked: CheckedDose | None = None
        self.pending: list[tuple[str, str]] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("took"):
            return data
        missing = {
            "product": "Choose the product.",
            "amount": "Enter the amount.",
            "unit": "Choose a unit.",
            "at": "Enter the time you took it.",
        }
        for name, message in missing.items():
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        if self.errors:
            return data
        taken_at = timezone.make_aware(datetime.combine(self.day, data["at"]))
        self.checked = check_dose_on_form(
            self,
            amount=data["amount"],
            unit=data["unit"],
            taken_at=taken_at,
            product=product_spec(data["product"]),
            field_map={"taken_at": "at"},
            prompt="Please check this dose and tick to confirm it is right.",
        )
        return data


class BaseDoseRows(forms.BaseFormSet):  # type: ignore[type-arg]
    def __init__(self, *args: Any, patient: PatientProfile, day: Any, **kwargs: Any) -> None:
        self.patient, self.day = patient, day
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"patient": self.patient, "day": self.day}

    def taken(self) -> list[tuple[DoseRowForm, CheckedDose]]:
        return [(f, f.checked) for f in self.forms if f.checked is not None]  # type: ignore[attr-defined]


DoseRows = forms.formset_factory(
    DoseRowForm, formset=BaseDoseRows, extra=0, max_num=12, validate_max=True
)


def dose_rows_initial(patient: PatientProfile, day: Any) -> list[dict[str, Any]]:
    """The last day's doses (the repeat suggestion), each at its own time of day today, then
    one blank row with the last product, at the time now.

    A repeated dose keeps its clock time, shown and editable before it is saved: stamping
    every repeated dose with the time now would put them all at one moment and distort their
    spacing, the daily totals and the plan's checks."""
    last = patient.doses.select_related("product").first()
    rows: list[dict[str, Any]] = []
    now = timezone.localtime().time().replace(second=0, microsecond=0)
    if last is not None:
        last_day = timezone.localtime(last.taken_at).date()
        previous = (
            patient.doses.select_related("product")
            .filter(taken_at__date=last_day)
            .order_by("taken_at")
            if last_day < day
            else []
        )
        for dose in list(previous)[:6]:
            rows.append(
                {
                    "took": False,
                    "product": dose.product.uuid,
                    "amount": f"{dose.amount.normalize():f}",
                    "unit": dose.unit,
                    "at": timezone.localtime(dose.taken_at).time().replace(second=0, microsecond=0),
                }
            )
    blank: dict[str, Any] = {"took": False, "at": now}
    if last is not None:
        blank.update(product=last.product.uuid, unit=last.unit)
    rows.append(blank)
    return rows


def new_key() -> str:
    return uuid.uuid4().hex


POTENCY_UNITS = [("mg/g", "mg per g"), ("%", "% w/w")]


class ProductCreateForm(ModelForm):
    """A product with its potency as printed on the label or a lab certificate."""

    mitragynine = forms.CharField(
        required=False, max_length=20, label="Mitragynine content (if known)"
    )
    mitragynine_unit = forms.ChoiceField(choices=POTENCY_UNITS, initial="mg/g", required=False)
    hydroxymitragynine = forms.CharField(
        required=False, max_length=20, label="7-hydroxymitragynine content (if known)"
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
            "unit_material_mg": "Weight of one capsule or tablet (mg)",
            "mitragynine_mg_per_unit": "Mitragynine per capsule or tablet (mg)",
            "hydroxymitragynine_mg_per_unit": "7-hydroxymitragynine per capsule or tablet (mg)",
            "leaf_g_per_ml": "Grams of leaf per ml (tea or liquid)",
            "potency_source": "Where the content figures come from",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = [("", "Choose the form")] + [  # type: ignore[attr-defined]
            (f.value, FORM_LABELS[f]) for f in ProductForm
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
            self.add_error(field, "Enter a number, e.g. 15 (mg per g) or 1.5 (%).")
            return None
        limit = Decimal(100) if unit == "%" else Decimal(1000)
        if not value.is_finite() or value < 0 or value > limit:
            self.add_error(field, f"Enter a number from 0 to {limit} {unit}.")
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
                        f"A {FORM_LABELS[ProductForm(form)].lower()} is not taken "
                        "in capsules or tablets.",
                    )
            if data.get("leaf_g_per_ml") is not None and Unit.ML not in allowed:
                self.add_error("leaf_g_per_ml", "Only teas and liquids are measured in ml.")
            for name in (
                "unit_material_mg",
                "mitragynine_mg_per_unit",
                "hydroxymitragynine_mg_per_unit",
                "leaf_g_per_ml",
            ):
                value = data.get(name)
                if value is not None and value <= 0:
                    self.add_error(name, "Enter a number above 0, or leave it empty if unknown.")
        return data

    def spec(self) -> ProductSpec:
        return product_spec(self.instance)


REMINDER_CHOICES = [("", "No reminder")] + [
    (time(h, m).strftime("%H:%M"), time(h, m).strftime("%H:%M"))
    for h in range(6, 23)
    for m in (0, 30)
]


class ReminderForm(Form):
    reminder_time = forms.ChoiceField(
        choices=REMINDER_CHOICES, required=False, label="Daily reminder"
    )
    email = forms.EmailField(required=False, label="Send it to this e-mail address")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reminder_time") and not data.get("email"):
            self.add_error("email", "Enter an e-mail address for the reminder.")
        return data


class DeletionRequestForm(Form):
    reason = forms.CharField(max_length=2000, required=False, label="Reason (optional)")
