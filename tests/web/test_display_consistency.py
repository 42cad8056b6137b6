"""What people read is consistent: one date style, amounts without trailing zeros."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic.models import PatientProfile, Role, User
from kratomwatch.clinic.views.patient_page import TABS
from kratomwatch.synthetic.seed import seed_demo_clinic

TODAY = date(2026, 11, 20)
TRAILING_ZERO = re.compile(r"\b\d+\.\d*0\s?(?:g|mg|ml|capsules?|tablets?)\b")
# Dates written another way than "20 Nov 2026" (with or without a weekday and a time).
OTHER_DATES = [
    re.compile(
        r"\b(?:January|February|March|April|June|July|August|September|October|November|December)\b"
    ),
    re.compile(r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\.\s\d"),  # "Nov. 20"
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b(?! \d{4})"),
]


def visible(html: str) -> str:
    """The page's own words: not scripts, charts or the titles of cited references."""
    html = re.sub(r"<(script|style|svg|template)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<ul class="refs">.*?</ul>', " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


@pytest.fixture
def pages(db: None, client: Client) -> list[tuple[str, str]]:
    seed_demo_clinic(patients=6, days=30, today=TODAY)
    shown = []
    patient = PatientProfile.objects.order_by("pk").first()
    assert patient is not None
    client.force_login(patient.user)
    for name in ("patient_home", "checkin", "my_plan", "trends", "my_products", "record_views"):
        shown.append((name, visible(client.get(reverse(name)).content.decode())))
    clinician = User.objects.filter(role=Role.CLINICIAN).order_by("pk").first()
    client.force_login(clinician)
    shown.append(("panel", visible(client.get(reverse("patient_list")).content.decode())))
    shown.append(("findings", visible(client.get(reverse("findings_inbox")).content.decode())))
    for p in PatientProfile.objects.filter(careteammembership__clinician=clinician)[:3]:
        url = reverse("patient_detail", kwargs={"patient_uuid": p.uuid})
        for tab, _, _ in TABS:
            page = client.get(f"{url}?tab={tab}").content.decode()
            shown.append((f"patient {p.pk} {tab}", visible(page)))
    return shown


def test_amounts_have_no_trailing_zeros(pages: list[tuple[str, str]]) -> None:
    for name, text in pages:
        assert not TRAILING_ZERO.findall(text), (name, TRAILING_ZERO.findall(text)[:5])


def test_dates_are_written_one_way(pages: list[tuple[str, str]]) -> None:
    for name, text in pages:
        for pattern in OTHER_DATES:
            found = pattern.findall(text)
            assert not found, (name, pattern.pattern, found[:5])
