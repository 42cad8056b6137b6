"""A clinician or clinic admin chooses the language of their own pages (docs/languages.md).

The form is shown on the clinician's "My alerts" page and on the admin's clinic settings;
the choice is served by ``PatientLanguageMiddleware`` from the next page on.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.language import do_set_staff_language
from kratomwatch.clinic.forms.clinician import StaffLanguageForm
from kratomwatch.clinic.models import Role
from kratomwatch.clinic.text import first_error
from kratomwatch.clinic.views.common import user_of


@access.role_required(Role.CLINICIAN, Role.CLINIC_ADMIN)
@require_POST
def staff_language(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    back = access.own_settings_page(user) or "home"
    form = StaffLanguageForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            gettext("Your language was not changed. %(error)s") % {"error": first_error(form)},
        )
        return redirect(back)
    do_set_staff_language(user=user, language=form.cleaned_data["language"])
    translation.activate(user.language)  # the message below is already in the new language
    messages.success(request, gettext("Your pages are now in this language."))
    return redirect(back)
