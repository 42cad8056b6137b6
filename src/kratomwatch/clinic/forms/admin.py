"""Forms of the clinic admin's pages: inviting people, care teams, deactivation.

Each form keeps what was typed when validation fails and names the field at fault. Which
clinicians may be chosen comes from :mod:`access`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kratomwatch.clinic import access
from kratomwatch.clinic.models import PatientProfile, Role, Sex, User
from kratomwatch.clinic.text import Form
from kratomwatch.domain.lots import default_jurisdictions


class ClinicianChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.username
        return name if obj.is_active else gettext("%(name)s (deactivated)") % {"name": name}


NOT_OF_THIS_CLINIC = _("Choose a clinician of this clinic.")


class ClinicianChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)

    def clean(self, value: Any) -> Any:
        try:
            return super().clean(value)
        except forms.ValidationError as exc:
            # A malformed id says no more than an id of another clinic's clinician.
            if getattr(exc, "code", None) == "required":
                raise
            raise forms.ValidationError(NOT_OF_THIS_CLINIC, code="invalid_choice") from exc


class InviteForm(Form):
    """A new clinician or patient of the admin's clinic."""

    role = forms.ChoiceField(
        choices=[(Role.CLINICIAN.value, _("Clinician")), (Role.PATIENT.value, _("Patient"))],
        widget=forms.RadioSelect,
        label=_("Invite a"),
        error_messages={"required": _("Choose clinician or patient.")},
    )
    username = forms.CharField(
        max_length=140,
        label=_("Start of the username"),
        help_text=_(
            "Letters, digits and @ . + - _ only. KratomWatch adds a random number to it "
            "(for example petra-4821): that is what they will type to log in."
        ),
        validators=[User.username_validator],
        error_messages={"required": _("Enter a username.")},
    )
    first_name = forms.CharField(max_length=150, required=False, label=_("First name"))
    last_name = forms.CharField(max_length=150, required=False, label=_("Last name"))
    email = forms.EmailField(
        required=False,
        label=_("E-mail"),
        help_text=_(
            "The invitation link is sent here. Required for clinicians; for a patient "
            "without e-mail, give them the link shown after inviting."
        ),
        error_messages={"invalid": _("Enter a valid e-mail address, like name@example.org.")},
    )
    display_name = forms.CharField(
        max_length=120,
        required=False,
        label=_("Name shown to the care team"),
        help_text=_("Patients only. Leave empty to use the first and last name."),
    )
    year_of_birth = forms.IntegerField(
        required=False,
        label=_("Year of birth"),
        help_text=_("Patients only; optional."),
        error_messages={"invalid": _("Enter a year, like 1980.")},
    )
    sex = forms.ChoiceField(
        choices=Sex.choices, initial=Sex.UNKNOWN, label=_("Sex"), required=False
    )
    clinicians = ClinicianChoices(
        queryset=User.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Care team"),
        help_text=_("Patients only: the clinicians who will see this patient's record."),
        error_messages={
            "invalid_choice": NOT_OF_THIS_CLINIC,
            "invalid_pk_value": NOT_OF_THIS_CLINIC,
        },
    )

    def __init__(self, admin: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queryset: QuerySet[User] = (
            access.care_team_clinicians(admin)
            .filter(is_active=True)
            .order_by("last_name", "first_name", "username")
        )
        self.fields["clinicians"].queryset = queryset  # type: ignore[attr-defined]

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip()

    def clean_year_of_birth(self) -> int | None:
        year = self.cleaned_data.get("year_of_birth")
        this_year = timezone.localdate().year
        if year is not None and not 1900 <= year <= this_year:
            raise forms.ValidationError(
                gettext("Enter a year between 1900 and %(year)s.") % {"year": this_year}
            )
        return year

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role == Role.CLINICIAN and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("A clinician needs an e-mail address for the invitation."))
        if role == Role.PATIENT:
            if not data.get("clinicians") and "clinicians" not in self.errors:
                self.add_error("clinicians", _("Choose at least one clinician for the care team."))
            full_name = f"{data.get('first_name', '')} {data.get('last_name', '')}".strip()
            if not data.get("display_name"):
                if full_name:
                    data["display_name"] = full_name
                else:
                    self.add_error(
                        "display_name",
                        _("Enter the name the care team will see, or a first and last name."),
                    )
        return data


class CareTeamForm(Form):
    """Add a clinician of this clinic to a patient's care team, or take one off."""

    action = forms.ChoiceField(
        choices=[("add", "Add"), ("remove", "Remove")], widget=forms.HiddenInput
    )
    clinician = ClinicianChoice(
        queryset=User.objects.none(),
        to_field_name="uuid",
        label=_("Clinician"),
        empty_label=_("Choose a clinician"),
        error_messages={
            "required": _("Choose a clinician."),
            "invalid_choice": NOT_OF_THIS_CLINIC,
        },
    )

    def __init__(self, admin: User, patient: PatientProfile, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        clinicians = access.care_team_clinicians(admin)
        field: Any = self.fields["clinician"]
        field.queryset = clinicians.order_by("last_name", "first_name", "username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        clinician = data.get("clinician")
        if clinician is None:
            return data
        on_team = self.patient.care_team.filter(pk=clinician.pk).exists()
        name = clinician.get_full_name() or clinician.username
        if data.get("action") == "add":
            if not clinician.is_active:
                self.add_error(
                    "clinician",
                    gettext("%(name)s is deactivated and cannot join a care team.")
                    % {"name": name},
                )
            elif on_team:
                self.add_error(
                    "clinician", gettext("%(name)s is already on the care team.") % {"name": name}
                )
        elif data.get("action") == "remove" and not on_team:
            self.add_error(
                "clinician", gettext("%(name)s is not on the care team.") % {"name": name}
            )
        return data

    @classmethod
    def for_adding(cls, admin: User, patient: PatientProfile) -> CareTeamForm:
        """The blank "add" form, offering only active clinicians not yet on the team."""
        form = cls(admin, patient, initial={"action": "add"})
        field: Any = form.fields["clinician"]
        candidates = field.queryset.filter(is_active=True)
        field.queryset = candidates.exclude(pk__in=patient.care_team.values("pk"))
        return form


class ActiveForm(Form):
    """Deactivate (active=0) or reactivate (active=1) an account."""

    active = forms.TypedChoiceField(
        choices=[("1", "Reactivate"), ("0", "Deactivate")],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    back = forms.ChoiceField(
        choices=[("user", "user"), ("list", "list")],
        required=False,
        widget=forms.HiddenInput,
    )


class ClinicSettingsForm(Form):
    jurisdiction = forms.ChoiceField(
        required=False,
        label=_("The clinic's state or jurisdiction"),
        help_text=_(
            "Its rules on kratom products (such as a cap on 7-OH) are checked against the lab "
            "figures of your patients' product lots."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = default_jurisdictions().choices()  # type: ignore[attr-defined]

    require_two_factor = forms.BooleanField(
        required=False,
        label=_("Clinicians and admins log in with a second step (an authenticator app)"),
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_require_two_factor_help"}),
        help_text=_(
            "At their next log-in, anyone without an authenticator app is asked to set "
            "one up. Patients log in with their password alone."
        ),
    )
