"""Forms for a product's lots: lot number, dates, a lab's figures and its certificate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.models import FigureUnit
from kratomwatch.clinic.text import Form
from kratomwatch.clinic.uploads import CheckedUpload, UploadRefused, check_upload, max_bytes
from kratomwatch.domain.lots import LotFigures, lot_figures

ACCEPT = "application/pdf,image/*"


class CertificateInput(forms.ClearableFileInput):
    """A file box that opens the phone's camera as well as its files."""

    def __init__(self) -> None:
        super().__init__(attrs={"accept": ACCEPT, "capture": "environment"})


class LotFiguresForm(Form):
    """A lab's figures for a lot, all in one explicit unit, and its certificate (optional)."""

    lab_name = forms.CharField(required=False, max_length=200, label=_("Laboratory"))
    tested_on = forms.DateField(
        required=False,
        label=_("Date of the lab test"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    unit = forms.ChoiceField(
        choices=FigureUnit.choices,
        initial=FigureUnit.MG_PER_G,
        label=_("Unit of the figures below, as on the certificate"),
    )
    mitragynine = forms.CharField(required=False, max_length=20, label=_("Mitragynine"))
    hydroxymitragynine = forms.CharField(
        required=False, max_length=20, label=_("7-hydroxymitragynine (7-OH)")
    )
    total_alkaloids = forms.CharField(
        required=False, max_length=20, label=_("Total alkaloids (if given)")
    )
    certificate = forms.FileField(
        required=False,
        label=_("Certificate of analysis: a PDF or a photo"),
        widget=CertificateInput(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["certificate"].help_text = gettext(
            "PDF, JPEG, PNG, WebP or HEIC, up to %(size)s. On a phone you can take a photo."
        ) % {"size": filesizeformat(max_bytes())}
        self.figures: LotFigures | None = None
        self.upload: CheckedUpload | None = None

    def clean_certificate(self) -> Any:
        upload = self.cleaned_data.get("certificate")
        if not upload:
            return None
        try:
            self.upload = check_upload(upload)
        except UploadRefused as refused:
            if refused.code == "too_large":
                raise forms.ValidationError(
                    gettext("The file is too large: the largest accepted is %(size)s.")
                    % {"size": filesizeformat(max_bytes())}
                ) from None
            if refused.code == "empty":
                raise forms.ValidationError(gettext("The file is empty.")) from None
            raise forms.ValidationError(
                gettext("This file is not a PDF or a photo (JPEG, PNG, WebP or HEIC).")
            ) from None
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unit = data.get("unit")
        if not unit:
            return data
        values = {}
        for name in ("mitragynine", "hydroxymitragynine", "total_alkaloids"):
            raw = (data.get(name) or "").strip()
            try:
                values[name] = lot_figures(raw, unit=unit).mitragynine_mg_per_g
            except ValueError as exc:
                too_fine = "decimal places" in str(exc)
                self.add_error(
                    name,
                    gettext("At most 4 decimal places in mg/g (3 in %).")
                    if too_fine
                    else gettext(
                        "Enter a number from 0 to 1000 mg/g (100 %), with a dot, e.g. 1.5."
                    ),
                )
        if self.errors:
            return data
        try:
            self.figures = LotFigures(
                values["mitragynine"], values["hydroxymitragynine"], values["total_alkaloids"]
            )
        except ValueError:
            self.add_error(
                "total_alkaloids",
                gettext("Total alkaloids cannot be less than mitragynine and 7-OH together."),
            )
        return data


class LotCreateForm(LotFiguresForm):
    """A new lot of a product: its number and purchase date, and what its lab found."""

    lot_number = forms.CharField(max_length=100, label=_("Lot or batch number"))
    purchased_on = forms.DateField(
        required=False,
        label=_("Date bought"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)

    field_order = ["lot_number", "purchased_on", "certificate", "lab_name", "tested_on", "unit"]
