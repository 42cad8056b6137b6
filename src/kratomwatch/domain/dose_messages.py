"""The words of the dose checks' messages: one template for each kind of message.

Every :class:`~kratomwatch.domain.doses.FieldError` and
:class:`~kratomwatch.domain.doses.Confirmation` carries, besides its English message, the
template it was written from and the values filled into it. A user interface in another
language translates the template (its msgid) and fills in the same values; the clinical
core itself has no translation machinery (docs/languages.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_HINT = "enter a number greater than 0, e.g. 2.5"

TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        "amount_missing": f"Amount is missing: {_HINT}.",
        "amount_bool": f"Amount must be a number, not true/false: {_HINT}.",
        "amount_not_finite": f"Amount must be a finite number: {_HINT}.",
        "amount_ambiguous_comma": (
            "Amount {value} contains a comma, which is ambiguous (1,5 could mean 1.5 or 15): "
            "write it with a dot as the decimal separator and no thousands separator."
        ),
        "amount_not_numeric_text": f"Amount {{value}} is not a number: {_HINT}.",
        "amount_not_numeric": f"Amount must be a number: {_HINT}.",
        "amount_not_positive": "Amount must be greater than 0.",
        "amount_too_large": "Amount must be at most {maximum}.",
        "amount_too_precise": "Amount may have at most {places} decimal places.",
        "unit_missing": "Unit is missing: choose one of {accepted}.",
        "unit_unknown": "Unit {value} is not recognised: use one of {accepted}.",
        "unit_not_allowed": "Unit {value} cannot be used for {form}: use {allowed}.",
        "unit_not_allowed_tea": (
            "Unit {value} cannot be used for {form}: use {allowed}. For tea made from a "
            "weighed amount of leaf and drunk in full, record the grams against the leaf "
            "product."
        ),
        "taken_at_missing": "Time taken is missing: enter when the dose was taken.",
        "taken_at_invalid": "Time taken must be a date and time with a time zone (ISO 8601).",
        "taken_at_naive": (
            "Time taken has no time zone, so the day it belongs to is ambiguous: give the time "
            "with its time zone."
        ),
        "taken_at_future": (
            "Time taken is in the future: accepted up to {minutes} minutes after now. Check "
            "the date and AM/PM."
        ),
        "amount_implausible": (
            "Amount {quantity} of {form} is implausible for one dose: accepted is more than 0 "
            "and at most {maximum}. Check the amount and the unit."
        ),
        "amount_step": (
            "Amount {quantity} cannot be counted: {units} are counted in steps of {step}. "
            "Record the mass in g or mg instead."
        ),
        "exposure_implausible": (
            "Amount {quantity} works out to {value} {unit} of {what}; accepted is at most "
            "{limit} {unit} per dose. Check the amount, the unit and the product's details."
        ),
        "mg_probably_g": (
            "{quantity} of {form} is only {grams} g. Did you mean {amount} g? Confirm only if "
            "{quantity} is right; it will not be changed."
        ),
        "amount_high": (
            "{quantity} of {form} is more than {maximum}, which is unusual for one dose. "
            "Please confirm the amount and the unit are right."
        ),
        "exposure_high": (
            "{quantity} works out to {value} {unit} of {what}, more than {limit} {unit}. "
            "Please confirm the amount, the unit and the product's potency are right."
        ),
    }
)

#: What an exposure is of, as the messages name it.
EXPOSURE_WHAT: Mapping[str, str] = MappingProxyType(
    {
        "leaf_equivalent_g": "leaf",
        "mitragynine_mg": "mitragynine",
        "hydroxymitragynine_mg": "7-hydroxymitragynine (7-OH)",
    }
)
