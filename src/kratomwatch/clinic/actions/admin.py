"""Changes a clinic admin makes to the accounts of their clinic. One transaction each.

Usernames are unique across the installation, so a refusal of a username already in use would
tell a clinic's admin which usernames other clinics have. Invitations therefore never refuse
one: the admin proposes the start of the username and KratomWatch always adds a random
number (:func:`new_username`, e.g. ``petra-4821``), whether or not the proposal is in use.

Accounts are never deleted: they are deactivated, which stops sign-in at once and keeps
every record they wrote attributable. New accounts get an unusable password and an
invitation link with a one-time token (Django's ``default_token_generator``): the link stops
working once a password is set, when a newer invitation is made, or after
``PASSWORD_RESET_TIMEOUT``. Invitation e-mails are sent after the transaction commits and
carry no health information.

Who may make these changes is decided before they are called: the clinic, accounts, patients
and clinicians passed in come from the getters of :mod:`kratomwatch.clinic.access`
(``managed_clinic``, ``managed_user``, ``managed_patient``, ``care_team_clinicians``), and
the actions check no role or clinic themselves.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext, gettext_noop

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.access import INVITABLE_ROLES, managed_patients
from kratomwatch.clinic.language import email_language
from kratomwatch.clinic.models import CareTeamMembership, Clinic, PatientProfile, Role, Sex, User
from kratomwatch.clinic.signals import mark_due

logger = logging.getLogger(__name__)

SUBJECT = gettext_noop("Your KratomWatch account")
BODY = gettext_noop(
    "Hello %(name)s,\n\n"
    "An account has been opened for you on KratomWatch. Your username is: %(username)s\n\n"
    "Choose your password with this link. It works once and expires in %(days)s days:\n\n"
    "%(url)s\n\n"
    "If the link has expired, ask your clinic for a new one. If you did not expect this "
    "e-mail, you can ignore it.\n"
)


class AdminError(ValueError):
    """The change is refused; the message says why, in words an admin can act on."""


class UsernameTaken(AdminError):
    """Another account took this username at the same moment (tried again with another)."""


@dataclass
class Invitation:
    """A new invitation: its link, shown to the admin once, and whether e-mailing it failed."""

    user: User
    url: str
    mail_failed: bool = False


def invitation_uid(user: User) -> str:
    """The account part of an invitation link: the public UUID, never the database id."""
    return urlsafe_base64_encode(user.uuid.bytes)


def user_from_invitation_uid(uidb64: str) -> User | None:
    try:
        return User.objects.get(uuid=uuid.UUID(bytes=urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, User.DoesNotExist):
        return None


def account_link(user: User, url_name: str) -> str:
    """A one-time link for the account (an invitation or a password reset), on the public
    address ``KRATOMWATCH_BASE_URL``."""
    path = reverse(
        url_name,
        kwargs={
            "uidb64": invitation_uid(user),
            "token": default_token_generator.make_token(user),
        },
    )
    return str(settings.KRATOMWATCH_BASE_URL).rstrip("/") + path


def invitation_url(user: User) -> str:
    return account_link(user, "invite_accept")


def invitation_days() -> int:
    return max(1, int(settings.PASSWORD_RESET_TIMEOUT) // 86400)


def _send_invitation(invitation: Invitation) -> None:
    user = invitation.user
    if not user.email:
        return
    with translation.override(email_language(user)):
        subject = gettext(SUBJECT)
        body = gettext(BODY) % {
            "name": user.first_name or user.username,
            "username": user.username,
            "days": invitation_days(),
            "url": invitation.url,
        }
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:  # smtplib errors included: the admin still has the link on screen
        logger.exception("invitation e-mail to user %s failed", user.uuid)
        invitation.mail_failed = True


def _check_active(clinician: User) -> None:
    if not clinician.is_active:
        raise AdminError(
            gettext("%(name)s is deactivated and cannot join a care team.")
            % {"name": clinician.username}
        )


USERNAME_DIGITS = 4


def new_username(proposal: str) -> str:
    """``proposal`` with a random number of :data:`USERNAME_DIGITS` digits added, not in use.

    The same for every proposal, in use or not, here or in another clinic: the result tells
    nothing about other accounts.
    """
    base = proposal.strip()[: 150 - USERNAME_DIGITS - 2]
    while True:
        number = secrets.randbelow(9 * 10 ** (USERNAME_DIGITS - 1)) + 10 ** (USERNAME_DIGITS - 1)
        candidate = f"{base}-{number}"
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate


def do_invite_user(
    *,
    admin: User,
    clinic: Clinic,
    username: str,
    role: Role | str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    display_name: str = "",
    year_of_birth: int | None = None,
    sex: Sex | str = Sex.UNKNOWN,
    clinicians: Sequence[User] = (),
    ip: str | None = None,
) -> Invitation:
    """Open an account of ``clinic``, the one ``admin`` manages (``access.managed_clinic``),
    with a patient profile and care team (``access.care_team_clinicians``) for a patient and
    no usable password, and e-mail the invitation link after commit.

    ``username`` is the proposed start of the username; the account's is :func:`new_username`.
    """
    if role not in INVITABLE_ROLES:
        raise AdminError(gettext("Only clinicians and patients can be invited."))
    if role == Role.CLINICIAN and not email:
        raise AdminError(gettext("A clinician needs an e-mail address for the invitation."))
    if role == Role.PATIENT:
        if not clinicians:
            raise AdminError(gettext("A patient needs at least one clinician on the care team."))
        for clinician in clinicians:
            _check_active(clinician)
    for _attempt in range(5):
        try:
            return _open_account(
                admin=admin,
                clinic_id=clinic.pk,
                username=new_username(username),
                role=role,
                first_name=first_name,
                last_name=last_name,
                email=email,
                display_name=display_name,
                year_of_birth=year_of_birth,
                sex=sex,
                clinicians=clinicians,
                ip=ip,
            )
        except UsernameTaken:
            continue  # another admin took the same number between the check and the insert
    raise AdminError(gettext("No free username could be made from this one; try a longer one."))


def _open_account(
    *,
    admin: User,
    clinic_id: int,
    username: str,
    role: Role | str,
    first_name: str,
    last_name: str,
    email: str,
    display_name: str,
    year_of_birth: int | None,
    sex: Sex | str,
    clinicians: Sequence[User],
    ip: str | None,
) -> Invitation:
    try:
        with transaction.atomic():
            user = User(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=email,
                role=role,
                clinic_id=clinic_id,
            )
            user.set_unusable_password()
            user.save()
            patient = None
            if role == Role.PATIENT:
                patient = PatientProfile.objects.create(
                    user=user,
                    clinic_id=clinic_id,
                    display_name=display_name or user.get_full_name() or username,
                    year_of_birth=year_of_birth,
                    sex=sex,
                )
            audit_chain.append(
                admin,
                "user.invite",
                patient=patient,
                object_type="user",
                object_uuid=user.uuid,
                ip=ip,
            )
            if patient is not None:
                for clinician in clinicians:
                    CareTeamMembership.objects.create(patient=patient, clinician=clinician)
                    audit_chain.append(
                        admin,
                        "careteam.add",
                        patient=patient,
                        object_type="user",
                        object_uuid=clinician.uuid,
                        ip=ip,
                    )
            invitation = Invitation(user=user, url=invitation_url(user))
            transaction.on_commit(lambda: _send_invitation(invitation))
    except IntegrityError as exc:
        raise UsernameTaken(username) from exc
    return invitation


def do_reinvite_user(*, admin: User, user: User, ip: str | None = None) -> Invitation:
    """A new invitation link for an account whose password was never set.

    Earlier links stop working: the unusable password they were made against changes.
    """
    if not user.is_active:
        raise AdminError(
            gettext("This account is deactivated: reactivate it before inviting again.")
        )
    if user.has_usable_password():
        raise AdminError(
            gettext("This person has already chosen a password; no invitation is needed.")
        )
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password", "modified"])
        audit_chain.append(admin, "user.reinvite", object_type="user", object_uuid=user.uuid, ip=ip)
        invitation = Invitation(user=user, url=invitation_url(user))
        transaction.on_commit(lambda: _send_invitation(invitation))
    return invitation


def do_accept_invitation(*, form: SetPasswordForm, ip: str | None = None) -> User:
    """Store the password chosen through an invitation link (the form is valid)."""
    with transaction.atomic():
        user = form.save()
        assert isinstance(user, User)
        audit_chain.append(
            user, "user.accept_invitation", object_type="user", object_uuid=user.uuid, ip=ip
        )
    return user


def do_add_to_care_team(
    *, admin: User, patient: PatientProfile, clinician: User, ip: str | None = None
) -> None:
    """Put a clinician of the patient's own clinic on the patient's care team."""
    _check_active(clinician)
    with transaction.atomic():
        _, created = CareTeamMembership.objects.get_or_create(patient=patient, clinician=clinician)
        if not created:
            raise AdminError(
                gettext("%(name)s is already on the care team.") % {"name": _name(clinician)}
            )
        audit_chain.append(
            admin,
            "careteam.add",
            patient=patient,
            object_type="user",
            object_uuid=clinician.uuid,
            ip=ip,
        )


def do_remove_from_care_team(
    *, admin: User, patient: PatientProfile, clinician: User, ip: str | None = None
) -> None:
    """Take a clinician off a care team, unless it would leave no active clinician on it."""
    with transaction.atomic():
        members = CareTeamMembership.objects.select_for_update().filter(patient=patient)
        membership = members.filter(clinician=clinician).first()
        if membership is None:
            raise AdminError(
                gettext("%(name)s is not on the care team.") % {"name": _name(clinician)}
            )
        others_active = members.exclude(clinician=clinician).filter(clinician__is_active=True)
        if clinician.is_active and not others_active.exists():
            raise AdminError(
                gettext(
                    "%(name)s is the only active clinician on this care team: "
                    "add another clinician first."
                )
                % {"name": _name(clinician)}
            )
        membership.delete()
        audit_chain.append(
            admin,
            "careteam.remove",
            patient=patient,
            object_type="user",
            object_uuid=clinician.uuid,
            ip=ip,
        )


def do_set_active(
    *, admin: User, user: User, active: bool, ip: str | None = None
) -> list[PatientProfile]:
    """Deactivate or reactivate an account (never delete it).

    A deactivated account cannot sign in, and its open sessions stop working at their next
    request. Returns the patients left with no active clinician by deactivating a clinician,
    so that the admin can assign another.
    """
    if user.pk == admin.pk:
        raise AdminError(
            gettext("You cannot deactivate your own account; ask another clinic admin.")
        )
    if user.is_active == active:
        already = (
            gettext("%(name)s is already active.")
            if active
            else gettext("%(name)s is already deactivated.")
        )
        raise AdminError(already % {"name": _name(user)})
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active", "modified"])
        audit_chain.append(
            admin,
            "user.reactivate" if active else "user.deactivate",
            object_type="user",
            object_uuid=user.uuid,
            ip=ip,
        )
    if active:
        return []
    # Only a clinician is on care teams: for anyone else this is empty.
    return list(
        PatientProfile.objects.filter(careteammembership__clinician=user).exclude(
            careteammembership__clinician__is_active=True
        )
    )


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def do_set_clinic_settings(
    *,
    admin: User,
    clinic: Clinic,
    require_two_factor: bool,
    jurisdiction: str | None = None,
    ip: str | None = None,
) -> list[str]:
    """Change the settings of ``clinic``, the one ``admin`` manages (``jurisdiction`` None:
    unchanged); the names of the settings that changed, each audited."""
    changed: list[str] = []
    with transaction.atomic():
        clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
        if clinic.require_two_factor != require_two_factor:
            clinic.require_two_factor = require_two_factor
            changed.append("require_two_factor")
            audit_chain.append(
                admin,
                "clinic.require_two_factor" if require_two_factor else "clinic.allow_password_only",
                object_type="clinic",
                object_uuid=clinic.uuid,
                ip=ip,
            )
        if jurisdiction is not None and clinic.jurisdiction != jurisdiction:
            clinic.jurisdiction = jurisdiction
            changed.append("jurisdiction")
            audit_chain.append(
                admin, "clinic.jurisdiction", object_type="clinic", object_uuid=clinic.uuid, ip=ip
            )
            # The lots' checks change with the jurisdiction: the screening queue re-screens
            # the clinic's patients who have lots.
            with_lots = managed_patients(admin).filter(products__lots__isnull=False).distinct()
            for patient_id in with_lots.values_list("pk", flat=True):
                mark_due(patient_id)
        if changed:
            clinic.save(update_fields=[*changed, "modified"])
    return changed
