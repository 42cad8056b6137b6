"""Dose entry forms: one dose, and the rows of a check-in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from kratomwatch.clinic.data_msgids import dose_message
from kratomwatch.clinic.lot_facts import dose_spec, lot_choices
from kratomwatch.clinic.models import PatientProfile, Product, ProductLot
from kratomwatch.clinic.text import Form
from kratomwatch.domain.doses import (
    UNIT_LABELS,
    CheckedDose,
    DoseRejected,
    Unit,
    check_dose,
)


def check_dose_on_form(
    form: forms.Form,
    *,
    prompt: str,
    field_map: dict[str, str] | None = None,
    now: datetime | None = None,
    **dose: Any,
) -> CheckedDose | None:
    """Run the clinical core's dose check for a form.

    Rejections go on the fields they name (renamed by ``field_map`` where the form calls a
    field differently); unconfirmed unusual values set ``form.pending`` and ``prompt``, and
    nothing is accepted until the person ticks them. ``now`` is the moment the entry was
    made (a check-in sent late from a phone), the time now by default. Returns the checked
    dose, or None.
    """
    confirmed = form.cleaned_data.get("confirm") or ()
    try:
        checked = check_dose(confirmed=confirmed, now=now or timezone.now(), **dose)
    except DoseRejected as exc:
        for error in exc.errors:
            name = (field_map or {}).get(error.field, error.field)
            form.add_error(name if name in form.fields else None, dose_message(error))
        return None
    pending = checked.needs_confirmation(confirmed)
    if pending:
        form.pending = [(c.code, dose_message(c)) for c in pending]  # type: ignore[attr-defined]
        form.fields["confirm"].choices = form.pending  # type: ignore[attr-defined]
        form.add_error(None, prompt)
        return None
    return checked


class LotChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """The lot a dose was taken from (optional), named with its product."""

    def __init__(self) -> None:
        super().__init__(
            queryset=ProductLot.objects.none(),
            to_field_name="uuid",
            required=False,
            label=gettext_lazy("Lot (optional)"),
            empty_label=gettext_lazy("No lot or not known"),
        )

    def label_from_instance(self, obj: ProductLot) -> str:
        return gettext("%(product)s, lot %(lot)s") % {
            "product": obj.product.name,
            "lot": obj.lot_number,
        }


def _lot_matches(form: forms.Form, product: Product, lot: ProductLot | None) -> bool:
    if lot is not None and lot.product_id != product.pk:
        form.add_error(
            "lot",
            gettext("This lot is of another product: choose one of %(product)s.")
            % {"product": product.name},
        )
        return False
    return True


class DoseForm(Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        to_field_name="uuid",
        label=gettext_lazy("Product"),
        empty_label=gettext_lazy("Choose a product"),
        error_messages={"required": gettext_lazy("Choose the product you took.")},
    )
    amount = forms.CharField(
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        label=gettext_lazy("Amount"),
        error_messages={"required": gettext_lazy("Enter how much you took, e.g. 2.5.")},
    )
    unit = forms.ChoiceField(
        label=gettext_lazy("Unit"),
        choices=[("", gettext_lazy("Choose a unit"))]
        + [(u.value, gettext_lazy(UNIT_LABELS[u])) for u in Unit],  # texts in data_strings.py
        error_messages={
            "required": gettext_lazy("Choose a unit: the amount means nothing without one.")
        },
    )
    taken_at = forms.DateTimeField(
        label=gettext_lazy("Taken at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"required": gettext_lazy("Enter when you took it.")},
    )
    lot = LotChoiceField()
    preparation = forms.CharField(
        max_length=100,
        required=False,
        label=gettext_lazy("Preparation"),
        help_text=gettext_lazy("e.g. toss and wash, tea, capsules"),
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    confirm = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, patient: PatientProfile, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.fields["product"].queryset = patient.products.filter(archived=False)  # type: ignore[attr-defined]
        self.fields["lot"].queryset = lot_choices(patient)  # type: ignore[attr-defined]
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
            initial.update(product=last.product.uuid, unit=last.unit, lot=_latest_lot(last.product))
        return cls(patient, initial=initial)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        product = data.get("product")
        if product is None or any(
            name in self.errors for name in ("amount", "unit", "taken_at", "lot")
        ):
            return data
        if not _lot_matches(self, product, data.get("lot")):
            return data
        self.checked = check_dose_on_form(
            self,
            amount=data.get("amount"),
            unit=data.get("unit"),
            taken_at=data.get("taken_at"),
            product=dose_spec(product, data.get("lot")),
            prompt=gettext(
                "Please check the highlighted value and tick to confirm it is right. "
                "Nothing has been saved yet."
            ),
        )
        return data


class DoseRowForm(Form):
    """One dose in a check-in. Rows not ticked as taken are ignored."""

    took = forms.BooleanField(required=False, label=gettext_lazy("I took this"))
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label=gettext_lazy("Choose a product"),
    )
    amount = forms.CharField(
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    # Short unit names fit a phone; each is unambiguous (g, mg, capsule, tablet, ml).
    unit = forms.ChoiceField(
        choices=[("", gettext_lazy("Unit"))] + [(u.value, u.value) for u in Unit], required=False
    )
    lot = LotChoiceField()
    at = forms.TimeField(
        required=False,
        label=gettext_lazy("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    confirm = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(
        self,
        *args: Any,
        patient: PatientProfile,
        day: Any,
        now: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.patient, self.day, self.now = patient, day, now
        self.fields["product"].queryset = patient.products.filter(archived=False)  # type: ignore[attr-defined]
        self.fields["lot"].queryset = lot_choices(patient)  # type: ignore[attr-defined]
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
            "product": gettext("Choose the product."),
            "amount": gettext("Enter the amount."),
            "unit": gettext("Choose a unit."),
            "at": gettext("Enter the time you took it."),
        }
        for name, message in missing.items():
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        if self.errors or not _lot_matches(self, data["product"], data.get("lot")):
            return data
        taken_at = timezone.make_aware(datetime.combine(self.day, data["at"]))
        self.checked = check_dose_on_form(
            self,
            amount=data["amount"],
            unit=data["unit"],
            taken_at=taken_at,
            product=dose_spec(data["product"], data.get("lot")),
            field_map={"taken_at": "at"},
            now=self.now,
            prompt=gettext("Please check this dose and tick to confirm it is right."),
        )
        return data


class BaseDoseRows(forms.BaseFormSet):  # type: ignore[type-arg]
    def __init__(
        self,
        *args: Any,
        patient: PatientProfile,
        day: Any,
        now: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        self.patient, self.day, self.now = patient, day, now
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"patient": self.patient, "day": self.day, "now": self.now}

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
            patient.doses.select_related("product", "lot")
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
                    "lot": dose.lot.uuid if dose.lot else None,
                    "at": timezone.localtime(dose.taken_at).time().replace(second=0, microsecond=0),
                }
            )
    blank: dict[str, Any] = {"took": False, "at": now}
    if last is not None:
        blank.update(product=last.product.uuid, unit=last.unit, lot=_latest_lot(last.product))
    rows.append(blank)
    return rows


def _latest_lot(product: Product) -> Any:
    """The product's latest lot, offered by default on a new dose of it (or None)."""
    lot = product.lots.first()
    return lot.uuid if lot is not None else None


def new_key() -> str:
    return uuid.uuid4().hex
