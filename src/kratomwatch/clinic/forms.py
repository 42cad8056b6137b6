"""Forms validate and shape input; the clinical rules they apply live in the domain."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone

from kratomwatch.domain.doses import UNIT_LABELS, CheckedDose, DoseRejected, Unit, check_dose

from .models import PatientProfile, Product
from .snapshot import product_spec
from .text import Form


def check_dose_on_form(
    form: forms.Form, *, prompt: str, field_map: dict[str, str] | None = None, **dose: Any
) -> CheckedDose | None:
    """Run the clinical core's dose check for a form.

    Rejections go on the fields they name (renamed by ``field_map`` where the form calls a
    field differently); unconfirmed unusual values set ``form.pending`` and ``prompt``, and
    nothing is accepted until the person ticks them. Returns the checked dose, or None.
    """
    confirmed = form.cleaned_data.get("confirm") or ()
    try:
        checked = check_dose(confirmed=confirmed, now=timezone.now(), **dose)
    except DoseRejected as exc:
        for error in exc.errors:
            name = (field_map or {}).get(error.field, error.field)
            form.add_error(name if name in form.fields else None, error.message)
        return None
    pending = checked.needs_confirmation(confirmed)
    if pending:
        form.pending = [(c.code, c.message) for c in pending]  # type: ignore[attr-defined]
        form.fields["confirm"].choices = form.pending  # type: ignore[attr-defined]
        form.add_error(None, prompt)
        return None
    return checked


class DoseForm(Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        to_field_name="uuid",
        empty_label="Choose a product",
        error_messages={"required": "Choose the product you took."},
    )
    amount = forms.CharField(
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": "Enter how much you took, e.g. 2.5."},
    )
    unit = forms.ChoiceField(
        choices=[("", "Choose a unit")] + [(u.value, UNIT_LABELS[u]) for u in Unit],
        error_messages={"required": "Choose a unit: the amount means nothing without one."},
    )
    taken_at = forms.DateTimeField(
        label="Taken at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"required": "Enter when you took it."},
    )
    preparation = forms.CharField(
        max_length=100, required=False, help_text="e.g. toss and wash, tea, capsules"
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    confirm = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, patient: PatientProfile, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.fields["product"].queryset = patient.products.filter(archived=False)  # type: ignore[attr-defined]
        self.checked: CheckedDose | None = None
        # Offer every confirmation the domain may ask for; only the pending ones are shown.
        posted = self.data.getlist("confirm") if hasattr(self.data, "getlist") else []
        self.fields["confirm"].choices = [(code, code) for code in posted]  # type: ignore[attr-defined]
        self.pending: list[tuple[str, str]] = []

    @classmethod
    def blank(cls, patient: PatientProfile) -> DoseForm:
        now = timezone.localtime().replace(second=0, microsecond=0)
        last = patient.doses.select_related("product").first()
        initial: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "taken_at": now}
        if last is not None:
            initial.update(product=last.product.uuid, unit=last.unit)
        return cls(patient, initial=initial)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        product = data.get("product")
        if product is None or any(name in self.errors for name in ("amount", "unit", "taken_at")):
            return data
        self.checked = check_dose_on_form(
            self,
            amount=data.get("amount"),
            unit=data.get("unit"),
            taken_at=data.get("taken_at"),
            product=product_spec(product),
            prompt="Please check the highlighted value and tick to confirm it is right. "
            "Nothing has been saved yet.",
        )
        return data


class FindingActionForm(Form):
    action = forms.ChoiceField(choices=[("acknowledge", "Acknowledge"), ("resolve", "Resolve")])
    reason = forms.CharField(
        max_length=300,
        strip=True,
        error_messages={"required": "Give a reason: it is kept with the finding."},
    )


class MedicationForm(Form):
    name = forms.CharField(
        max_length=200,
        label="Medication",
        error_messages={"required": "Enter the medication name (up to 200 characters)."},
    )
    dose_text = forms.CharField(max_length=200, required=False, label="Dose")


class NoteForm(Form):
    text = forms.CharField(
        max_length=5000,
        label="New note",
        error_messages={"required": "Write the note (up to 5000 characters)."},
    )


class BulkAcknowledgeForm(Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason",
        error_messages={"required": "Give a reason: it is kept with each finding."},
    )


class PanelFilterForm(Form):
    """The panel's search and filters (a GET form): values outside the lists match nobody."""

    q = forms.CharField(max_length=100, required=False, label="Search")
    condition = forms.CharField(max_length=60, required=False, label="Condition")
    form = forms.CharField(max_length=60, required=False, label="Product form")
    category = forms.CharField(max_length=60, required=False, label="Open finding")
