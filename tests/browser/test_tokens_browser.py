"""A patient on a phone makes an API token on their tokens page, copies it, uses it, sees its
last use, and revokes it: the API then refuses it."""

from __future__ import annotations

from typing import Any

import pytest

from kratomwatch.clinic.models import ApiToken, Clinic, Role
from tests.web.conftest import make_patient, make_user

from .conftest import no_horizontal_scroll

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 360, "height": 780}
PASSWORD = "a long and unusual passphrase 42"  # noqa: S105 - a test account's


def test_a_token_made_on_the_page_works_until_it_is_revoked(
    live_server: Any, browser: Any, shot: Any, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    patient = make_patient("paul", clinic, make_user("alice", clinic, Role.CLINICIAN))
    patient.user.set_password(PASSWORD)
    patient.user.save()
    base = live_server.url
    context = browser.new_context(viewport=PHONE, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "paul")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    # From any page, the header leads to the tokens page.
    page.click("header >> text=API tokens")
    page.wait_for_url("**/account/tokens/")
    assert "You have no tokens." in page.inner_text("main")
    # A mistake first: the error is named, what was typed is kept.
    page.fill("#id_name", "Health diary app")
    page.fill("#id_days", "400")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "Enter at most 365 days." in page.inner_text(".error-summary")
    assert page.input_value("#id_name") == "Health diary app"
    page.fill("#id_days", "30")
    page.check("input[name=scope][value=write]")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    secret = page.input_value("#new-secret")
    assert secret.startswith("kw_")
    assert "shown only this once" in page.inner_text("[data-new-token]")
    page.click("button[data-copy]")
    page.wait_for_selector("[data-copy-status]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "tokens-new-phone")
    assert no_horizontal_scroll(page)

    # The copied token reaches the API, as the patient.
    auth = {"Authorization": f"Bearer {secret}"}
    me = context.request.get(f"{base}/api/me", headers=auth)
    assert me.status == 200 and me.json()["username"] == "paul"
    assert me.json()["token_scope"] == "write"
    checkins = context.request.get(f"{base}/api/patients/{patient.uuid}/checkins", headers=auth)
    assert checkins.status == 200

    # Its last use is on the page; the secret is not.
    page.goto(f"{base}/account/tokens/")
    listed = page.inner_text(".token-list")
    assert "Health diary app" in listed and "Not used yet" not in listed
    assert secret not in page.content()
    assert no_horizontal_scroll(page)
    shot(page, "tokens-list-phone")

    # Revoked after a confirmation, it is refused at once.
    page.click("text=Revoke “Health diary app”")
    page.wait_for_url("**/revoke/")
    assert "stops working at once" in page.inner_text("main")
    assert no_horizontal_scroll(page)
    page.click("main button[type=submit]")
    page.wait_for_url("**/account/tokens/")
    assert "is revoked" in page.inner_text(".messages")
    assert "Revoked" in page.inner_text(".token-list")
    assert ApiToken.objects.get(user=patient.user).revoked_at is not None
    refused = context.request.get(f"{base}/api/me", headers=auth)
    assert refused.status == 401
    assert refused.headers["content-type"] == "application/problem+json"
    context.close()
