"""The language a page or an e-mail is written in.

Before log-in, Django's LocaleMiddleware follows the browser's Accept-Language. A signed-in
patient is served in the language chosen on their "Reminders and my data" page, whatever the
browser says; a signed-in clinician or clinic admin in the language chosen on "My alerts" or
the clinic settings (English or Spanish: the staff pages have no Malay yet), else English
(docs/languages.md). E-mails to an account use its language too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from kratomwatch.clinic import access
from kratomwatch.clinic.models import Language, StaffLanguage, User


def language_of(user: User) -> str | None:
    """The language chosen by the account: a patient's on their profile, a staff member's on
    the account; None when there is none that the app offers them."""
    if access.is_clinic_staff(user):
        return user.language if user.language in StaffLanguage.values else None
    profile = access.own_profile_if_patient(user)
    code = profile.language if profile is not None else None
    return code if code in Language.values else None


def email_language(user: User) -> str:
    """The language of an e-mail to this account: the patient's choice, else the default."""
    return language_of(user) or settings.LANGUAGE_CODE


class PatientLanguageMiddleware:
    """Activates the signed-in account's language for the rest of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        code = None
        if user is not None and user.is_authenticated:
            code = language_of(user) or settings.LANGUAGE_CODE
        if code is not None:
            translation.activate(code)
            request.LANGUAGE_CODE = code  # type: ignore[attr-defined]
        return self.get_response(request)
