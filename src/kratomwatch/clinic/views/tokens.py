"""The account's API tokens page: every signed-in person lists, creates and revokes their own
tokens for the JSON API (docs/api.md). The secret of a new token is shown once, on the page
the creation redirects to, and never again: it waits in the session for that one page view,
so reloading the page neither shows it again nor creates a second token."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.tokens import NewToken, do_create_token, do_revoke_token
from kratomwatch.clinic.form_errors import error_summary
from kratomwatch.clinic.forms.tokens import TokenForm
from kratomwatch.clinic.models import ApiToken, Role, User
from kratomwatch.clinic.views.common import client_ip, user_of

EVERY_ROLE = (Role.PATIENT, Role.CLINICIAN, Role.CLINIC_ADMIN)


@access.role_required(*EVERY_ROLE)
@require_http_methods(["GET", "POST"])
@never_cache
def api_tokens(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    status = 200
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            created = do_create_token(
                user=user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                days=form.cleaned_data["days"],
                ip=client_ip(request),
            )
            request.session[SHOWN_ONCE_KEY] = {
                "uuid": str(created.token.uuid),
                "secret": created.secret,
            }
            return redirect("api_tokens")
        status = 400
    else:
        form = TokenForm()
    new = _shown_once(request, user)
    return render(
        request,
        "clinic/api_tokens.html",
        {
            "form": form,
            "new": new,
            "tokens": _listed(user),
            "errors": error_summary(form) if form.is_bound else [],
        },
        status=status,
    )


SHOWN_ONCE_KEY = "new_api_token"


def _shown_once(request: HttpRequest, user: User) -> NewToken | None:
    """The token just created, taken out of the session so that it is shown this once."""
    kept = request.session.pop(SHOWN_ONCE_KEY, None)
    if not isinstance(kept, dict):
        return None
    token = access.own_tokens(user).filter(uuid=kept.get("uuid")).first()
    if token is None:
        return None
    return NewToken(token=token, secret=str(kept.get("secret", "")))


def _listed(user: User) -> list[tuple[ApiToken, str, bool]]:
    """Each of ``user``'s tokens, newest first, with its state in words and whether it works."""
    now = timezone.now()
    listed = []
    for token in access.own_tokens(user).order_by("-created"):
        if token.revoked_at is not None:
            listed.append((token, pgettext("token", "Revoked"), False))
        elif token.expires_at is not None and token.expires_at <= now:
            listed.append((token, pgettext("token", "Expired"), False))
        else:
            listed.append((token, pgettext("token", "Active"), True))
    return listed


@access.role_required(*EVERY_ROLE)
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: HttpRequest, token_uuid: str) -> HttpResponse:
    """Asks first (GET), then revokes (POST): programs using the token stop working at once."""
    user = user_of(request)
    token = access.own_token(user, token_uuid)  # 404 for anyone else's
    if request.method == "POST":
        if do_revoke_token(user=user, token=token, ip=client_ip(request)):
            messages.success(
                request, gettext("The token “%(name)s” is revoked.") % {"name": token.name}
            )
        else:
            messages.info(
                request,
                gettext("The token “%(name)s” was already revoked.") % {"name": token.name},
            )
        return redirect("api_tokens")
    return render(request, "clinic/api_token_revoke.html", {"token": token})
