"""Every form of the app refuses text that cannot be stored, with the field's own error.

Forms derive from :class:`Form` or :class:`ModelForm` here (a test checks that they all do):
each of their text fields gets :func:`validate_text`, the web's side of the one rule in
:mod:`kratomwatch.domain.text` (the API applies the same rule to its request documents).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError

from kratomwatch.domain.text import is_blank, text_problem


def validate_text(value: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="control_character")


class _NotBlank:
    """A required answer made only of invisible characters has not been given."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, value: str) -> None:
        if is_blank(value):
            raise ValidationError(self.message, code="required")


class CleanText:
    """Adds :func:`validate_text` to every text field of the form (e-mail fields included)."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and validate_text not in field.validators:
                # Django's own NUL check says less (no position): this rule replaces it.
                field.validators = [
                    v
                    for v in field.validators
                    if not isinstance(v, validators.ProhibitNullCharactersValidator)
                ] + [validate_text]
                if field.required:
                    field.validators.append(_NotBlank(field.error_messages["required"]))


class Form(CleanText, forms.Form):
    pass


class ModelForm(CleanText, forms.ModelForm):  # type: ignore[type-arg]
    pass


def first_error(form: forms.BaseForm) -> str:
    """The form's first error, led by the label of its field (a missing field's message names
    it already): for views that answer with a message and a redirect, not the form again."""
    for name, errors in form.errors.as_data().items():
        error = errors[0]
        message = " ".join(error.messages)
        label = form.fields[name].label if name in form.fields else None
        return f"{label}: {message}" if label and error.code != "required" else message
    return ""
