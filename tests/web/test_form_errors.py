"""Errors are findable: a summary at the top names each problem and links to its field, and
repeated doses keep their own time of day."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kratomwatch.clinic.models import DoseEntry

from .conftest import Triangle
from .test_patient_checkin import checkin_data, dose


def summary_links(html: str) -> list[tuple[str, str]]:
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert box is not None, "no error summary"
    return re.findall(r'<a href="#([^"]+)">([^<]+)</a>', box.group(0))


def test_the_check_in_summary_links_every_problem_to_its_field(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.patient.user)
    data = checkin_data(tri, [dose(tri, "2"), dose(tri, "")])
    del data["r-sleep_quality"], data["r-pain_now"]
    html = client.post(reverse("checkin"), data).content.decode()
    links = summary_links(html)
    assert len(links) == 3
    for anchor, _ in links:
        assert f'id="{anchor}"' in html  # every link leads to a field on the page
    (a1, t1), (a2, t2), (a3, t3) = links
    assert a1 == "id_r-pain_now_0" and "pain" in t1.lower() and "Choose one answer" in t1
    assert a2 == "id_r-sleep_quality_0" and "sleep" in t2.lower()
    assert a3 == "id_dose-1-amount" and t3.startswith("Dose 2, ") and "amount" in t3.lower()
    assert html.index("error-summary") < html.index("<h1>Today")  # at the top of the page


def test_a_failed_single_dose_on_home_says_so_at_the_top(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    response = client.post(
        reverse("patient_home"),
        {
            "product": str(tri.product.uuid),
            "amount": "",
            "unit": "g",
            "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "idempotency_key": "k-home",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    links = summary_links(html)
    assert links and links[0][0] == "id_amount" and f'id="{links[0][0]}"' in html
    assert html.index("error-summary") < html.index("<h1>Hello")


@pytest.mark.parametrize("url", ["checkin", "patient_home"])
def test_a_page_without_errors_has_no_summary(client: Client, tri: Triangle, url: str) -> None:
    client.force_login(tri.patient.user)
    assert "error-summary" not in client.get(reverse(url)).content.decode()


def test_repeated_doses_keep_their_own_time_of_day(client: Client, tri: Triangle) -> None:
    yesterday = timezone.localtime() - timedelta(days=1)
    for hour, minute in ((0, 5), (23, 55)):
        DoseEntry.objects.create(
            patient=tri.patient,
            product=tri.product,
            amount=Decimal("2.500"),
            unit="g",
            idempotency_key=f"y{hour}",
            taken_at=yesterday.replace(hour=hour, minute=minute),
        )
    client.force_login(tri.patient.user)
    html = client.get(reverse("checkin")).content.decode()
    rows = re.findall(
        r'<div class="dose-row card"[^>]*data-yesterday[^>]*>.*?</div>\s*</div>', html, re.S
    )
    assert len(rows) == 2
    assert 'name="dose-0-at" value="00:05"' in rows[0]
    assert 'name="dose-1-at" value="23:55"' in rows[1]
    if timezone.localtime().time() < yesterday.replace(hour=23, minute=55).time():
        assert "data-later" in rows[1] and "data-later" not in rows[0]
