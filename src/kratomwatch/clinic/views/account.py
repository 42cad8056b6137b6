"""Public pages of the password reset by e-mail (Django's own views; see actions.account)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext

from kratomwatch.clinic.actions.account import do_request_password_reset, do_reset_password
from kratomwatch.clinic.actions.admin import user_from_invitation_uid
from kratomwatch.clinic.models import User


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a link by e-mail address; the same answer whether the address is known or not."""

    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        sent = do_request_password_reset(
            form.cleaned_data["email"], ip=self.request.META.get("REMOTE_ADDR")
        )
        if not sent:
            return render(
                self.request,
                "registration/password_reset_throttled.html",
                {},
                status=429,
            )
        return HttpResponseRedirect(str(self.get_success_url()))


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password with the one-time link; then log in as usual (with the code
    step where it applies: a reset never skips the second factor)."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def get_user(self, uidb64: str) -> User | None:
        user = user_from_invitation_uid(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: Any) -> HttpResponse:
        user = do_reset_password(form=form, ip=self.request.META.get("REMOTE_ADDR"))
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(
            self.request,
            gettext("Your password is changed. Log in with your username, %(username)s.")
            % {"username": user.username},
        )
        return HttpResponseRedirect(str(self.get_success_url()))


class LogoutView(auth_views.LogoutView):
    """Logging out also clears what the browser kept of the site (pages kept for offline use,
    the service worker), so that the next person on a shared phone sees none of it."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
