"""Self-service password reset by e-mail, for every role.

Anyone may ask for a reset link for an e-mail address; the answer is the same whether or not
an account has that address, so the page tells nobody which addresses are registered. Each
active account with the address gets a one-time link (Django's ``default_token_generator``,
valid for ``PASSWORD_RESET_TIMEOUT``; it stops working once the password changes) on the
public address ``KRATOMWATCH_BASE_URL``. Requests are throttled in the database, so that all
app servers count them alike: at most :data:`PER_ADDRESS` e-mails an hour to one address
(later requests are answered alike and send nothing) and at most :data:`PER_CLIENT` requests an
hour from one client address (later ones are refused with a message). Every e-mail sent and
every password set through a link is written to the audit trail.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth.forms import SetPasswordForm
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, gettext_noop

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.admin import account_link
from kratomwatch.clinic.audit_chain import storable_ip
from kratomwatch.clinic.language import email_language
from kratomwatch.clinic.models import PasswordResetRequest, User

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
KEEP = timedelta(days=1)
PER_ADDRESS = 3
PER_CLIENT = 20
SUBJECT = gettext_noop("Reset your KratomWatch password")


def address_digest(email: str) -> str:
    return salted_hmac("kratomwatch.password_reset", email.strip().lower()).hexdigest()


def reset_accounts(email: str) -> QuerySet[User]:
    """Active accounts with this address, whatever their role, with or without a password yet
    (an account made by an import has none until the person sets one)."""
    return User.objects.filter(is_active=True, email__iexact=email.strip()).exclude(email="")


def _send_reset_link(user: User) -> None:
    with translation.override(email_language(user)):
        subject = gettext(SUBJECT)
        body = render_to_string(
            "registration/password_reset_email.txt",
            {"user": user, "url": account_link(user, "password_reset_confirm")},
        )
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:  # smtplib errors included; the person can ask again
        logger.exception("password reset e-mail failed for user %s", user.uuid)


def do_request_password_reset(email: str, *, ip: str | None = None) -> bool:
    """Send a reset link to each active account with this address, within the limits.

    False if the client address has made too many requests this hour (nothing is sent);
    True otherwise, whether or not an e-mail went out.
    """
    now = timezone.now()
    client = storable_ip(ip)
    digest = address_digest(email)
    with transaction.atomic():
        PasswordResetRequest.objects.filter(at__lt=now - KEEP).delete()
        recent = PasswordResetRequest.objects.filter(at__gte=now - WINDOW)
        if recent.filter(ip=client).count() >= PER_CLIENT:
            return False
        already = recent.filter(address_digest=digest).count()
        PasswordResetRequest.objects.create(at=now, ip=client, address_digest=digest)
        if already >= PER_ADDRESS:
            return True
        for user in reset_accounts(email):
            audit_chain.append(
                user, "password.reset_requested", object_type="user", object_uuid=user.uuid, ip=ip
            )
            transaction.on_commit(lambda user=user: _send_reset_link(user))  # type: ignore[misc]
    return True


def do_reset_password(*, form: SetPasswordForm, ip: str | None = None) -> User:
    """Store the password chosen through a reset link (the form is valid)."""
    with transaction.atomic():
        user = form.save()
        assert isinstance(user, User)
        audit_chain.append(user, "password.reset", object_type="user", object_uuid=user.uuid, ip=ip)
    return user
