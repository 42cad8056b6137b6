"""`kratomwatch token`: a created secret works on the API once shown, and revoking stops it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kratomwatch.cli import main
from kratomwatch.clinic.models import ApiToken, AuditEvent, Role, User


@pytest.mark.django_db
def test_create_list_and_revoke(capsys: Any, client: Client) -> None:
    User.objects.create(username="doc", role=Role.CLINICIAN)
    assert main(["token", "create", "--user", "doc", "--name", "EHR sync", "--days", "30"]) == 0
    secret = capsys.readouterr().out.splitlines()[0]
    assert secret.startswith("kw_")
    token = ApiToken.objects.get()
    assert secret not in token.token_hash and token.scope == "read"
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert main(["token", "list", "--user", "doc"]) == 0
    listing = capsys.readouterr().out
    assert f"kw_{token.prefix}" in listing and secret not in listing
    # As listed (kw_…): a prefix may begin with "-", which would read as an option alone.
    assert main(["token", "revoke", "--user", "doc", f"kw_{token.prefix}"]) == 0
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    # Both are in the audit trail, made by an operator (no account), as the page's are not.
    events = AuditEvent.objects.filter(object_uuid=token.uuid).order_by("seq")
    assert [(e.action, e.actor) for e in events] == [("token.create", None), ("token.revoke", None)]


@pytest.mark.django_db
def test_bad_calls_fail_with_a_message(capsys: Any) -> None:
    assert main(["token", "create", "--user", "nobody", "--name", "x"]) == 2
    assert "no user named" in capsys.readouterr().err
    User.objects.create(username="doc", role=Role.CLINICIAN)
    assert main(["token", "create", "--user", "doc", "--name", "x", "--days", "0"]) == 2
    assert main(["token", "revoke", "--user", "doc", "zzzzzzzz"]) == 2
