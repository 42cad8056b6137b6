"""The daily check-in and questionnaire forms."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.text import Form
from kratomwatch.domain.doses import default_limits
from kratomwatch.domain.questionnaires import Instrument, ScoringError
from kratomwatch.domain.safety import load_knowledge


class QuestionnaireForm(Form):
    """One radio group per item of an instrument; answers are scored by the domain."""

    def __init__(self, instrument: Instrument, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        # A validated instrument is shown exactly as published; the project's own checklists
        # are translated like any page text (docs/languages.md).
        text = (lambda s: s) if instrument.validated else (lambda s: data_text(s) if s else s)
        for item in instrument.items:
            values = sorted(item.allowed)
            labels = {o.value: text(o.label) for o in item.options}
            choices = [(str(v), labels.get(v, str(v))) for v in values]
            self.fields[item.id] = forms.TypedChoiceField(
                label=text(item.text),
                choices=choices,
                coerce=int,
                empty_value=None,
                required=item.required,
                widget=forms.RadioSelect(attrs={"class": "scale"}),
                error_messages={"required": gettext("Choose one answer for this question.")},
            )
            self.fields[item.id].min_label = text(item.min_label)  # type: ignore[attr-defined]
            self.fields[item.id].max_label = text(item.max_label)  # type: ignore[attr-defined]

    def answers(self) -> dict[str, int | None]:
        return {item.id: self.cleaned_data.get(item.id) for item in self.instrument.items}

    def add_scoring_errors(self, exc: ScoringError) -> None:
        for item_id, message in exc.errors:
            self.add_error(item_id if item_id in self.fields else None, message)


def symptom_choices(red_flag: bool) -> list[tuple[str, str]]:
    kb = load_knowledge()
    return [(s.id, data_text(s.label)) for s in kb.symptoms.values() if s.red_flag is red_flag]


class CheckInForm(Form):
    """The parts of a check-in besides the ratings and the doses."""

    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    # Set by the phone on a check-in entered with no connection and sent later: the moment
    # it was entered, which the check-in, its answers and its symptoms keep.
    entered_at = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    side_effects = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Side effects today"),
    )
    red_flags = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Any of these?")
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Anything else (optional)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["side_effects"].choices = symptom_choices(False)  # type: ignore[attr-defined]
        self.fields["red_flags"].choices = symptom_choices(True)  # type: ignore[attr-defined]
        for sid, _ in self.fields["side_effects"].choices:  # type: ignore[attr-defined]
            self.fields[f"severity_{sid}"] = forms.TypedChoiceField(
                choices=[
                    ("1", gettext_lazy("Mild")),
                    ("2", gettext_lazy("Moderate")),
                    ("3", gettext_lazy("Severe")),
                ],
                coerce=int,
                required=False,
                initial="1",
                widget=forms.RadioSelect,
            )

    def clean_entered_at(self) -> datetime | None:
        return entry_time(self.cleaned_data.get("entered_at") or "", timezone.now())

    def severities(self) -> dict[str, int]:
        return {
            sid: self.cleaned_data.get(f"severity_{sid}") or 1
            for sid in self.cleaned_data.get("side_effects", [])
        }


#: How old a check-in sent late from a phone may be. Older entries are refused with a reason
#: rather than stored as if they were recent.
LATE_ENTRY_DAYS = 30


def entry_time(text: str, now: datetime) -> datetime | None:
    """The moment a check-in entered on a phone with no connection was entered (ISO 8601
    with a time zone), checked against ``now``; None when not given."""
    text = text.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise forms.ValidationError(
            f"The time this check-in was entered ({text!r}) is not a date and time."
        ) from None
    if when.utcoffset() is None:
        raise forms.ValidationError(
            "The time this check-in was entered has no time zone, so its day is unknown."
        )
    try:
        timezone.localtime(when)
    except OverflowError:
        raise forms.ValidationError(
            f"The time this check-in was entered ({text!r}) is not a date and time."
        ) from None
    ahead = timedelta(minutes=int(default_limits().value("timestamp.future_tolerance")))
    if when > now + ahead:
        raise forms.ValidationError(
            "This check-in was entered at "
            f"{timezone.localtime(when):%d %b %Y %H:%M}, which is later than now: "
            "check the date and time on your phone."
        )
    if when < now - timedelta(days=LATE_ENTRY_DAYS):
        raise forms.ValidationError(
            f"This check-in was entered more than {LATE_ENTRY_DAYS} days ago "
            f"({timezone.localtime(when):%d %b %Y}) and can no longer be sent. Please tell "
            "your care team at your next contact."
        )
    return min(when, now)
