"""The error summary at the top of a form that could not be saved (as GOV.UK's design system
does it): one line per problem, in the order of the page, each naming its question or field
and linking to it, so that nobody has to hunt for what is wrong on a long form on a phone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

Problem = tuple[str, str]
"""(id of the element the link moves to, words shown)."""


def _anchor(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        # Choice groups are written out as one input per choice: link to the first.
        choices = list(getattr(field.field, "choices", []))
        first = next((str(value) for value, _ in choices if str(value) != ""), None)
        if first is not None:
            return f"id_{field.html_name}_{first}"
    return field.id_for_label or f"id_{field.html_name}"


def _label(field: forms.BoundField, where: str) -> str:
    label = str(field.label or "").rstrip(":? ").strip()
    return ", ".join(p for p in (where, label) if p)


def _form_problems(form: forms.BaseForm, where: str = "") -> list[Problem]:
    problems: list[Problem] = []
    fields = list(form)
    first = _anchor(fields[0]) if fields else ""
    for message in form.non_field_errors():
        problems.append((first, f"{where}: {message}" if where else str(message)))
    for field in fields:
        for message in field.errors:
            label = _label(field, where)
            named = str(field.label or "").strip()
            if not label or (named and str(message).lower().startswith(named.lower())):
                # The message names its field already ("Amount must be greater than 0").
                text = f"{where}: {message}" if where else str(message)
            else:
                text = f"{label}: {message}"
            problems.append((_anchor(field), text))
    return problems


def error_summary(*parts: Any, names: Iterable[str] = ()) -> list[Problem]:
    """The problems of bound forms and formsets, in the order given (the page's order).

    A formset's forms are named by ``names`` (e.g. "Dose") and their number: "Dose 2, Amount".
    """
    problems: list[Problem] = []
    labels = list(names)
    for n, part in enumerate(parts):
        if part is None:
            continue
        if isinstance(part, forms.BaseFormSet):
            noun = labels[n] if n < len(labels) else "Entry"
            for message in part.non_form_errors():
                anchor = _anchor(next(iter(part.forms[0]))) if part.forms else ""
                problems.append((anchor, str(message)))
            for number, form in enumerate(part.forms, start=1):
                problems.extend(_form_problems(form, f"{noun} {number}"))
        elif part.is_bound:
            problems.extend(_form_problems(part))
    return problems
