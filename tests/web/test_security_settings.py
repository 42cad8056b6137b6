"""Log-in lockout, the content security policy, and production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import Triangle


@pytest.mark.axes
def test_five_wrong_passwords_lock_the_account_from_that_address(client: Client,
                                                                tri: Triangle) -> None:
    url = reverse("login")
    for _ in range(5):
        response = client.post(url, {"username": "paul", "password": "wrong"})
    response = client.post(url, {"username": "paul",
                                 "password": "correct horse battery staple"})
    assert response.status_code == 429
    assert "paused for 15 minutes" in response.content.decode()
    assert client.get(reverse("patient_home")).status_code == 302  # not logged in
    other = Client(REMOTE_ADDR="10.9.9.9")  # another address is not locked out
    response = other.post(url, {"username": "paul",
                                "password": "correct horse battery staple"})
    assert response.status_code == 302


@pytest.mark.axes
def test_a_success_before_the_limit_resets_the_count(client: Client, tri: Triangle) -> None:
    url = reverse("login")
    for _ in range(4):
        client.post(url, {"username": "alice", "password": "wrong"})
    assert client.post(url, {"username": "alice",
                             "password": "correct horse battery staple"}).status_code == 302


def test_pages_carry_a_strict_content_security_policy(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    for name in ("patient_home", "checkin", "trends"):
        policy = client.get(reverse(name))["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy


def test_templates_have_no_inline_script_or_style() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "kratomwatch" / "clinic" / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text()
        for needle in ("<script>", "<style", ' style="', " onclick=", " onchange="):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle.strip()}")
    assert not offenders, offenders


def test_production_settings_pass_the_deployment_checks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRATOMWATCH_")}
    env.update(KRATOMWATCH_SECRET_KEY="p" * 20 + "production-key-with-enough-entropy-1234567",
               KRATOMWATCH_SECURE_COOKIES="true", KRATOMWATCH_DATA_DIR=str(tmp_path),
               KRATOMWATCH_ALLOWED_HOSTS="kratomwatch.example.org",
               DJANGO_SETTINGS_MODULE="kratomwatch.settings")
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' Playwright fixture
    out = subprocess.run([sys.executable, "-m", "django", "check", "--deploy",
                          "--fail-level", "WARNING"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
