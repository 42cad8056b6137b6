"""Two-factor log-in for clinicians and clinic admins, with an authenticator app (TOTP).

The password step never logs anyone in by itself when a second factor is due: it keeps the
user's id in the session as *pending*, and only a valid code completes the log-in. A user with
a confirmed device always gives a code; one whose clinic requires two factors and who has no
device must register one first. Codes are checked with pyotp, one 30-second step either side
is accepted for clock drift, and a code that was already used is refused.

Wrong codes count as failed log-ins for django-axes, with the same limit and pause as wrong
passwords (settings ``AXES_*``): once the limit is reached for the username from that address,
the pending log-in is dropped, the lockout is written to the audit trail and the lockout page
answers, so neither a code nor the password is tried again until the pause has passed.
"""

from __future__ import annotations

from typing import Any

import pyotp
import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.models import TOTPDevice, User
from kratomwatch.clinic.text import Form

PENDING = "kratomwatch_2fa_pending"
ISSUER = "KratomWatch"


def needs_second_factor(user: User) -> bool:
    if not access.is_clinic_staff(user):
        return False
    device = getattr(user, "totp_device", None)
    if device is not None and device.confirmed:
        return True
    return bool(user.clinic and user.clinic.require_two_factor)


def verify(device: TOTPDevice, code: str) -> bool:
    """True for a current, unused code; records its time step so it cannot be used again."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(device.secret)
    now = timezone.now()
    for drift in (0, -1, 1):
        step = int(now.timestamp()) // 30 + drift
        if step > device.last_step and totp.at(step * 30) == code:
            with transaction.atomic():
                locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
                if step <= locked.last_step:
                    return False
                locked.last_step = step
                locked.save(update_fields=["last_step", "modified"])
            device.last_step = step
            return True
    return False


class LoginView(auth_views.LoginView):
    """The password step; hands over to the code step when a second factor is due."""

    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not needs_second_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "id": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
        }
        return redirect("two_factor")


class CodeForm(Form):
    code = forms.CharField(
        max_length=8,
        label=gettext_lazy("6-digit code from your authenticator app"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    pending = request.session.get(PENDING) or {}
    user = User.objects.filter(pk=pending.get("id"), is_active=True).first()
    return user, pending


def _locked_out(request: HttpRequest, user: User) -> bool:
    credentials = {"username": user.username}
    return bool(settings.AXES_ENABLED) and AxesProxyHandler.is_locked(request, credentials)


def _refuse_locked_out(request: HttpRequest, user: User) -> HttpResponse:
    """Drop the pending log-in and answer with the lockout page."""
    request.session.pop(PENDING, None)
    return get_lockout_response(request, None, {"username": user.username})


def _wrong_code(request: HttpRequest, user: User) -> bool:
    """Count a wrong code as a failed log-in; True when it reaches the lockout."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username}, request=request
    )
    if not _locked_out(request, user):
        return False
    audit_chain.append(
        user,
        "two_factor.locked_out",
        object_type="user",
        object_uuid=user.uuid,
        ip=request.META.get("REMOTE_ADDR"),
    )
    return True


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enter a code, or first register an authenticator app when the clinic requires one."""
    user, pending = _pending_user(request)
    if user is None:
        return redirect("login")
    if _locked_out(request, user):
        return _refuse_locked_out(request, user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, defaults={"secret": pyotp.random_base32()}
    )
    enrolling = not device.confirmed
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if verify(device, form.cleaned_data["code"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed", "modified"])
                audit_chain.append(
                    user, "two_factor.enrol", object_type="user", object_uuid=user.uuid
                )
            del request.session[PENDING]
            login(request, user, backend=pending["backend"])
            return redirect(pending.get("next") or "home")
        if _wrong_code(request, user):
            return _refuse_locked_out(request, user)
        form.add_error(
            "code",
            gettext(
                "That code is not right or was already used. Enter the current code from the app."
            ),
        )
    context: dict[str, Any] = {"form": form, "enrolling": enrolling}
    if enrolling:
        uri = pyotp.TOTP(device.secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
        context["qr_svg"] = segno.make(uri, error="m").svg_inline(scale=4, title="QR code")
        context["secret"] = device.secret
    return render(
        request,
        "registration/two_factor.html",
        context,
        status=400 if request.method == "POST" else 200,
    )
