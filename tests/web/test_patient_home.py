"""The patient's home: what they came to do first, safety messages compact, red flags in full,
and the patient's main pages one tap away on every patient page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from kratomwatch.clinic.models import Finding, PatientProfile
from kratomwatch.domain.safety import load_knowledge

from .conftest import Triangle

NAV = {
    "Check in": "checkin",
    "My plan": "my_plan",
    "My trends": "trends",
    "My products": "my_products",
}


def add_findings(patient: PatientProfile, rule_ids: list[str]) -> list[Finding]:
    """Open findings with the knowledge base's own titles and patient messages, the first
    one the oldest."""
    rules = {r.id: r for r in load_knowledge().rules}
    now = timezone.now()
    out = []
    for k, rule_id in enumerate(rule_ids):
        rule = rules[rule_id]
        seen = now - timedelta(minutes=len(rule_ids) - k)
        out.append(
            Finding.objects.create(
                patient=patient,
                code=rule.id,
                fingerprint=f"{rule.id}-test",
                severity=str(getattr(rule.severity, "value", rule.severity)),
                category=str(getattr(rule.category, "value", rule.category)),
                title=rule.title,
                rationale="test",
                patient_message=rule.patient_message,
                first_seen=seen,
                last_seen=seen,
            )
        )
    return out


OTHERS = [
    "dependence.daily_use",  # low
    "interaction.muscle_relaxant",  # moderate
    "product.potency_unknown",  # low
    "interaction.opioid_agonist",  # high: the most severe, shown first
    "dependence.frequent_dosing",  # moderate
    "condition.older_age",  # moderate
]


def _home(client: Client, tri: Triangle) -> str:
    client.force_login(tri.patient.user)
    response = client.get(reverse("patient_home"))
    assert response.status_code == 200
    return response.content.decode()


def _folded(body: str) -> tuple[str, str]:
    """The page without the folded list, and the folded list."""
    match = re.search(r"<details class=\"more-messages\">(.*?)</details>", body, re.S)
    assert match, "the other safety messages are one tap away, in a <details> list"
    return body[: match.start()] + body[match.end() :], match.group(1)


def test_home_leads_with_the_check_in_and_folds_all_but_the_most_severe_message(
    client: Client, tri: Triangle
) -> None:
    tri.finding.delete()
    findings = {f.code: f for f in add_findings(tri.patient, OTHERS)}
    body = _home(client, tri)
    shown, folded = _folded(body)
    # The most severe message is in full, outside the fold; every other one is in it.
    first = findings["interaction.opioid_agonist"]
    assert first.title in shown and escape(first.patient_message) in shown
    for code in OTHERS[:3] + OTHERS[4:]:
        assert findings[code].title not in shown, code
        assert findings[code].title in folded, code
    assert "5 more safety messages" in folded
    # Check-in comes before the safety messages, which come before the other pages.
    assert body.index('id="checkin-link"') < body.index(first.title)
    assert body.index(first.title) < body.index('aria-label="More pages"')
    assert 'role="alert"' not in body  # nothing urgent here


def test_red_flags_stay_in_full_at_the_top_and_are_never_folded(
    client: Client, tri: Triangle
) -> None:
    flags = add_findings(tri.patient, ["red_flag.breathing_difficulty", "red_flag.phq9_self_harm"])
    add_findings(tri.patient, OTHERS)
    body = _home(client, tri)
    shown, folded = _folded(body)
    for flag in flags:
        assert flag.title not in folded
        alert = re.search(
            r'<div class="alert sev-high urgent" role="alert"><strong>'
            + re.escape(flag.title)
            + r"\.</strong> (.*?)</div>",
            shown,
            re.S,
        )
        assert alert, flag.code
        assert alert.group(1).strip() == escape(flag.patient_message)
        assert body.index(flag.title) < body.index('id="checkin-link"')


def test_no_fold_for_a_single_message(client: Client, tri: Triangle) -> None:
    body = _home(client, tri)
    assert tri.finding.title not in body  # the fixture's finding has no patient message
    tri.finding.patient_message = "Please talk to your care team."
    tri.finding.save()
    body = _home(client, tri)
    assert "Please talk to your care team." in body and "<details" not in body


@pytest.mark.parametrize(
    ("url_name", "current"),
    [
        ("patient_home", "Today"),
        ("checkin", "Check in"),
        ("my_plan", "My plan"),
        ("trends", "My trends"),
        ("my_dose_response", "My trends"),
        ("my_products", "My products"),
        ("product_add", "My products"),
        ("my_data", None),
    ],
)
def test_every_patient_page_has_the_main_pages_one_tap_away(
    client: Client, tri: Triangle, url_name: str, current: str | None
) -> None:
    client.force_login(tri.patient.user)
    body = client.get(reverse(url_name)).content.decode()
    nav = re.search(r'<nav class="patient-nav" aria-label="My pages">(.*?)</nav>', body, re.S)
    assert nav, url_name
    links = dict(re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1)))
    for text, name in NAV.items():
        assert links.get(reverse(name)) == text
    marked = re.findall(r'aria-current="page">([^<]+)</a>', nav.group(1))
    assert marked == ([current] if current else [])


def test_the_patient_navigation_is_for_patients_only(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    body = client.get(reverse("patient_list")).content.decode()
    assert "patient-nav" not in body
    client.logout()
    assert "patient-nav" not in client.get(reverse("evidence")).content.decode()
