"""The installable patient app: manifest, service worker, and the pages kept for offline use."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from kratomwatch.domain.safety import load_knowledge

from .conftest import Triangle


def test_the_manifest_has_what_a_phone_needs_to_install(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] and data["short_name"]
    assert data["start_url"] == reverse("patient_home") and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]


def test_the_service_worker_is_served_from_the_root(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    config = json.loads(body.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert reverse("urgent_guidance") in config["precache"]
    assert reverse("offline") in config["precache"]
    assert reverse("checkin") in config["pages"]
    for path in config["precache"]:
        assert client.get(path).status_code == 200, path
    assert "__VERSION__" not in body


def test_urgent_guidance_is_public_and_gives_every_red_flag(client: Client) -> None:
    html = client.get(reverse("urgent_guidance")).content.decode()
    red_flags = [r for r in load_knowledge().rules if r.category == "red_flag"]
    assert red_flags
    for rule in red_flags:
        assert rule.title in html
    assert "emergency number" in html


def test_every_page_links_the_manifest_and_the_urgent_guidance(
    tri: Triangle, client: Client
) -> None:
    client.force_login(tri.patient.user)
    html = client.get(reverse("patient_home")).content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    assert reverse("urgent_guidance") in html and "pwa.js" in html


def test_logging_out_clears_what_the_browser_kept(tri: Triangle, client: Client) -> None:
    client.force_login(tri.patient.user)
    response = client.post(reverse("logout"))
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_every_red_flag_on_the_check_in_carries_its_guidance(
    tri: Triangle, client: Client
) -> None:
    import re

    client.force_login(tri.patient.user)
    html = client.get(reverse("checkin")).content.decode()
    boxes = re.findall(r'<input type="checkbox" name="red_flags"[^>]*>', html)
    assert boxes
    for box in boxes:
        title = re.search(r'data-guidance-title="([^"]*)"', box)
        text = re.search(r'data-guidance="([^"]*)"', box)
        assert title and title.group(1) and text and len(text.group(1)) > 20, box
