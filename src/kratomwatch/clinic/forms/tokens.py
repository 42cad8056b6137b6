"""The form that creates an API token on the account's tokens page."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic.actions.tokens import MAX_DAYS
from kratomwatch.clinic.text import Form

SCOPES = [
    ("read", _("Read only: see records")),
    ("write", _("Read and write: also add records")),
]


class TokenForm(Form):
    name = forms.CharField(
        max_length=100,
        label=_("Name"),
        help_text=_("What the token is for, e.g. the program or device that will use it."),
        error_messages={"required": _("Enter a name for the token.")},
    )
    scope = forms.ChoiceField(
        choices=SCOPES,
        initial="read",
        widget=forms.RadioSelect,
        label=_("What it may do"),
        error_messages={"required": _("Choose what the token may do.")},
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        initial=90,
        label=_("Expires after (days)"),
        help_text=format_lazy(_("From 1 to {max} days."), max=MAX_DAYS),
        error_messages={
            "required": _("Enter after how many days the token expires."),
            "invalid": _("Enter a whole number of days, e.g. 90."),
            "min_value": _("Enter at least 1 day."),
            "max_value": _("Enter at most %(limit_value)s days."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
