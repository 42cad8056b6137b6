"""The clinic admin's pages: the clinic's accounts, invitations, care teams, deactivation.

A clinic admin manages accounts of their own clinic only (:func:`access.manageable_users`)
and sees no clinical data: the pages show names, roles and care teams, nothing else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.admin import (
    AdminError,
    Invitation,
    do_accept_invitation,
    do_add_to_care_team,
    do_invite_user,
    do_reinvite_user,
    do_remove_from_care_team,
    do_set_active,
    do_set_clinic_settings,
    invitation_days,
    user_from_invitation_uid,
)
from kratomwatch.clinic.forms.admin import ActiveForm, CareTeamForm, ClinicSettingsForm, InviteForm
from kratomwatch.clinic.forms.clinician import StaffLanguageForm
from kratomwatch.clinic.models import PatientProfile, Role, User
from kratomwatch.clinic.views.common import client_ip, user_of

SHOWN_ONCE = "kw-invitation"


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _remember_invitation(request: HttpRequest, invitation: Invitation) -> None:
    """Keep the link for the next page only: it is shown to the admin once."""
    request.session[SHOWN_ONCE] = {
        "user": str(invitation.user.uuid),
        "url": invitation.url,
        "mail_failed": invitation.mail_failed,
    }


@access.role_required(Role.CLINIC_ADMIN)
def clinic_users(request: HttpRequest) -> HttpResponse:
    admin = user_of(request)
    clinic = access.managed_clinic(admin)
    users = list(
        access.manageable_users(admin)
        .select_related("patient_profile")
        .prefetch_related("patient_profile__care_team")
        .annotate(
            n_patients=Count(
                "care_patients",
                filter=Q(care_patients__in=access.managed_patients(admin)),
                distinct=True,
            )
        )
        .order_by("role", "last_name", "first_name", "username")
    )
    for u in users:
        profile: PatientProfile | None = getattr(u, "patient_profile", None)
        team = list(profile.care_team.all()) if profile is not None else []
        u.team = team  # type: ignore[attr-defined]
        u.unsupervised = (  # type: ignore[attr-defined]
            profile is not None and u.is_active and not any(c.is_active for c in team)
        )
    return render(
        request,
        "clinic/clinic_users.html",
        {"users": users, "clinic": clinic, "me": admin},
    )


@access.role_required(Role.CLINIC_ADMIN)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    admin = user_of(request)
    clinic = access.managed_clinic(admin)
    if request.method == "POST":
        form = InviteForm(admin, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation = do_invite_user(
                    admin=admin,
                    clinic=clinic,
                    username=data["username"],
                    role=data["role"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    display_name=data.get("display_name") or "",
                    year_of_birth=data.get("year_of_birth"),
                    sex=data.get("sex") or "unknown",
                    clinicians=list(data.get("clinicians") or []),
                    ip=client_ip(request),
                )
            except AdminError as exc:
                form.add_error(None, str(exc))
            else:
                _remember_invitation(request, invitation)
                messages.success(
                    request, gettext("Invited %(name)s.") % {"name": _name(invitation.user)}
                )
                return redirect("clinic_user", user_uuid=invitation.user.uuid)
        status = 400
    else:
        role = request.GET.get("role")
        form = InviteForm(admin, initial={"role": role} if role in ("patient", "clinician") else {})
        status = 200
    return render(
        request, "clinic_admin/invite.html", {"form": form, "clinic": clinic}, status=status
    )


def _user_page(
    request: HttpRequest,
    admin: User,
    target: User,
    care_form: CareTeamForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {"target": target, "me": admin, "days": invitation_days()}
    shown = request.session.pop(SHOWN_ONCE, None)
    if shown and shown.get("user") == str(target.uuid):
        context["invitation"] = shown
    patient = access.managed_profile(admin, target)
    if patient is not None:
        context["patient"] = patient
        context["team"] = patient.care_team.order_by("last_name", "first_name", "username")
        context["care_form"] = care_form or CareTeamForm.for_adding(admin, patient)
    patients = access.patients_of_clinician(admin, target)
    if patients is not None:
        context["patients"] = patients.select_related("user")
    return render(request, "clinic_admin/user.html", context, status=status)


@access.role_required(Role.CLINIC_ADMIN)
def user_detail(request: HttpRequest, user_uuid: str) -> HttpResponse:
    admin = user_of(request)
    return _user_page(request, admin, access.managed_user(admin, user_uuid))


@access.role_required(Role.CLINIC_ADMIN)
@require_POST
def care_team(request: HttpRequest, user_uuid: str) -> HttpResponse:
    admin = user_of(request)
    patient = access.managed_patient(admin, user_uuid)
    form = CareTeamForm(admin, patient, request.POST)
    if form.is_valid():
        clinician = form.cleaned_data["clinician"]
        adding = form.cleaned_data["action"] == "add"
        act = do_add_to_care_team if adding else do_remove_from_care_team
        try:
            act(admin=admin, patient=patient, clinician=clinician, ip=client_ip(request))
        except AdminError as exc:
            form.add_error("clinician", str(exc))
        else:
            done = (
                gettext("%(name)s added to the care team.")
                if adding
                else gettext("%(name)s removed from the care team.")
            )
            messages.success(request, done % {"name": _name(clinician)})
            return redirect("clinic_user", user_uuid=patient.user.uuid)
    return _user_page(request, admin, patient.user, care_form=form, status=400)


@access.role_required(Role.CLINIC_ADMIN)
@require_POST
def set_active(request: HttpRequest, user_uuid: str) -> HttpResponse:
    admin = user_of(request)
    target = access.managed_user(admin, user_uuid)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose whether to deactivate or reactivate the account."))
        return redirect("clinic_user", user_uuid=target.uuid)
    try:
        orphans = do_set_active(
            admin=admin, user=target, active=form.cleaned_data["active"], ip=client_ip(request)
        )
    except AdminError as exc:
        messages.error(request, str(exc))
    else:
        state = (
            gettext("%(name)s reactivated.")
            if target.is_active
            else gettext("%(name)s deactivated.")
        )
        messages.success(request, state % {"name": _name(target)})
        if orphans:
            names = ", ".join(p.display_name for p in orphans)
            messages.warning(
                request,
                gettext(
                    "These patients now have no active clinician: %(names)s. "
                    "Add another clinician to their care team."
                )
                % {"names": names},
            )
    if form.cleaned_data.get("back") == "list":
        return redirect("clinic_users")
    return redirect("clinic_user", user_uuid=target.uuid)


@access.role_required(Role.CLINIC_ADMIN)
@require_POST
def reinvite(request: HttpRequest, user_uuid: str) -> HttpResponse:
    admin = user_of(request)
    target = access.managed_user(admin, user_uuid)
    try:
        invitation = do_reinvite_user(admin=admin, user=target, ip=client_ip(request))
    except AdminError as exc:
        messages.error(request, str(exc))
    else:
        _remember_invitation(request, invitation)
        messages.success(
            request,
            gettext("New invitation for %(name)s; earlier links no longer work.")
            % {"name": _name(target)},
        )
    return redirect("clinic_user", user_uuid=target.uuid)


@access.role_required(Role.CLINIC_ADMIN)
@require_http_methods(["GET", "POST"])
def clinic_settings(request: HttpRequest) -> HttpResponse:
    """The clinic's own settings: whether clinicians and admins must use two factors."""
    admin = user_of(request)
    clinic = access.managed_clinic(admin)
    form = ClinicSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "require_two_factor": clinic.require_two_factor,
            "jurisdiction": clinic.jurisdiction,
        },
    )
    if form.is_valid():
        required = form.cleaned_data["require_two_factor"]
        changed = do_set_clinic_settings(
            admin=admin,
            clinic=clinic,
            require_two_factor=required,
            jurisdiction=form.cleaned_data.get("jurisdiction") or None,
            ip=client_ip(request),
        )
        if "jurisdiction" in changed:
            messages.success(request, gettext("Saved: the clinic's jurisdiction."))
        if "require_two_factor" in changed:
            messages.success(
                request,
                gettext("Saved: clinicians and admins now log in with an authenticator app.")
                if required
                else gettext(
                    "Saved: clinicians and admins without an authenticator app log in with "
                    "their password alone."
                ),
            )
        return redirect("clinic_settings")
    context = {
        "form": form,
        "clinic": clinic,
        "language_form": StaffLanguageForm(initial={"language": admin.language}),
    }
    return render(request, "clinic_admin/settings.html", context)


class InviteAcceptView(PasswordResetConfirmView):
    """Public: the invited person chooses a password with the one-time link.

    Only for active accounts that have no password yet; the token stops working once the
    password is set. On success the person is sent to the login page.
    """

    template_name = "clinic_admin/invite_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False
    title = "Choose your password"

    def get_user(self, uidb64: str) -> User | None:
        user = user_from_invitation_uid(uidb64)
        if user is None or not user.is_active or user.has_usable_password():
            return None
        return user

    def form_valid(self, form: Any) -> HttpResponse:
        user = do_accept_invitation(form=form, ip=client_ip(self.request))
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(
            self.request,
            gettext("Your password is set. Log in with your username, %(username)s.")
            % {"username": user.username},
        )
        return HttpResponseRedirect(str(self.get_success_url()))


invite_accept = InviteAcceptView.as_view()
