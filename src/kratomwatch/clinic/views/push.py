"""Web Push subscriptions of the signed-in user, and the clinician's alert settings.

The subscription endpoints take the JSON of the browser's ``PushSubscription.toJSON()``,
posted by ``static/kratomwatch/push.js`` with the page's CSRF token in ``X-CSRFToken``. A
subscription that is not one the server takes is refused with 400 and a message saying why.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.clinic import access, push
from kratomwatch.clinic.actions.push import do_set_alerts, do_subscribe, do_unsubscribe
from kratomwatch.clinic.forms.clinician import AlertSettingsForm, StaffLanguageForm
from kratomwatch.clinic.models import Role
from kratomwatch.clinic.views.common import user_of

#: The largest subscription document taken (a real one is well under 1 KB).
MAX_BODY = 4096


def _refuse(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json_body(request: HttpRequest) -> bytes | JsonResponse:
    if request.content_type != "application/json":
        return _refuse(_("Send the subscription as JSON (application/json)."), status=415)
    if len(request.body) > MAX_BODY:
        return _refuse(_("The subscription is too large."), status=413)
    return request.body


@access.role_required(Role.PATIENT, Role.CLINICIAN)
@require_POST
def subscribe(request: HttpRequest) -> JsonResponse:
    body = _json_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        subscription = push.parse_subscription(body)
    except push.BadSubscription as exc:
        return _refuse(str(exc))
    do_subscribe(user=user_of(request), subscription=subscription)
    return JsonResponse({"subscribed": True}, status=201)


@access.role_required(Role.PATIENT, Role.CLINICIAN)
@require_POST
def unsubscribe(request: HttpRequest) -> JsonResponse:
    body = _json_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _refuse(_("The subscription must be sent as JSON."))
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 2000:
        return _refuse(_("Give the endpoint of the subscription to end."))
    found = do_unsubscribe(user=user_of(request), endpoint=endpoint)
    return JsonResponse({"unsubscribed": found})


@access.role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest) -> HttpResponse:
    """How the clinician is told of their patients' findings."""
    user = user_of(request)
    if request.method == "POST":
        form = AlertSettingsForm(request.POST)
        if form.is_valid():
            do_set_alerts(
                user=user,
                channel=form.cleaned_data["alert_channel"],
                digest=form.cleaned_data["alert_digest"],
            )
            messages.success(request, _("Your alert settings were saved."))
            return redirect("alert_settings")
        status = 400
    else:
        form = AlertSettingsForm(
            initial={"alert_channel": user.alert_channel, "alert_digest": user.alert_digest}
        )
        status = 200
    context = {
        "form": form,
        "vapid_key": push.public_key(),
        "devices": user.push_subscriptions.count(),
        "language_form": StaffLanguageForm(initial={"language": user.language}),
    }
    return render(request, "clinician/alerts.html", context, status=status)
