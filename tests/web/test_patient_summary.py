"""The top of the patient page: its numbers for a record built here, and the sections."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from kratomwatch.api.auth import create_token
from kratomwatch.clinic import attention, timeline
from kratomwatch.clinic.charts import Marker
from kratomwatch.clinic.models import (
    AuditEvent,
    CheckIn,
    ClinicalNote,
    DoseEntry,
    Finding,
    PatientProfile,
    Plan,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)
from kratomwatch.clinic.panel import panel_rows
from kratomwatch.clinic.views.patient_page import TABS
from tests.nasty import NASTY

from .conftest import Triangle

pytestmark = pytest.mark.django_db
ONE_DAY = timedelta(days=1)
CURRENT = re.compile(r'<a href="\?tab=(\w+)"[^>]*aria-current="page"')


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def dose(tri: Triangle, when: datetime, grams: str | None) -> None:
    DoseEntry.objects.create(
        patient=tri.patient,
        product=tri.product,
        taken_at=when,
        amount=Decimal(grams or "1"),
        unit="g",
        leaf_equivalent_g=None if grams is None else Decimal(grams),
        idempotency_key=f"{when.isoformat()}-{grams}",
    )


def pain(tri: Triangle, day: date, total: str) -> None:
    QuestionnaireResponse.objects.create(
        patient=tri.patient,
        instrument_id="kw-daily-pain",
        instrument_version="1.0",
        answers={},
        total=Decimal(total),
        scores={"subscales": {"pain": float(total)}},
        taken_at=at(day, 20),
        idempotency_key=f"pain-{day}",
    )


def checkin(tri: Triangle, day: date) -> None:
    """A check-in with no dose: a day logged with 0 g."""
    CheckIn.objects.create(
        patient=tri.patient, day=day, submitted_at=at(day, 21), idempotency_key=f"ci-{day}"
    )


def url(tri: Triangle, tab: str = "") -> str:
    base = reverse("patient_detail", kwargs={"patient_uuid": tri.patient.uuid})
    return f"{base}?tab={tab}" if tab else base


def test_adherence_this_week_counts_the_plans_own_limits(client: Client, tri: Triangle) -> None:
    today = timezone.localdate()
    Plan.objects.create(
        patient=tri.patient,
        version=1,
        kind="maintenance",
        max_single_dose_g=Decimal("3"),
        max_daily_dose_g=Decimal("6"),
        review_on=today + timedelta(days=30),
        author=tri.clinician,
        reason="Agreed",
        approved_at=at(today - timedelta(days=20)),
    )
    dose(tri, at(today - timedelta(days=6), 8), "3")  # within
    dose(tri, at(today - timedelta(days=5), 8), "4")  # over the single-dose limit
    dose(tri, at(today - timedelta(days=4), 8), "3")  # 3 + 3 + 2 = 8 g: over the daily limit
    dose(tri, at(today - timedelta(days=4), 13), "3")
    dose(tri, at(today - timedelta(days=4), 18), "2")
    dose(tri, at(today - timedelta(days=3), 8), None)  # unknown amount: not checked
    dose(tri, at(today - timedelta(days=9), 8), "9")  # before the week: not counted
    CheckIn.objects.filter(pk=tri.checkin.pk).update(day=today - timedelta(days=1))  # no dose
    client.force_login(tri.clinician)
    page = client.get(url(tri))
    a = page.context["summary"].adherence
    assert (a.days_logged, a.days_within, a.days_over, a.days_unchecked) == (5, 2, 2, 1)
    assert (a.doses_over_single, a.days_over_daily, a.unchecked_doses) == (1, 1, 1)
    html = page.content.decode()
    assert "Maintenance, version 1" in html and "max 3 g a dose · 6 g a day" in html
    assert "within the plan on 2 of 5 days logged" in html
    assert "1 dose above the single-dose limit" in html and "1 day above the daily limit" in html
    assert "1 dose of unknown amount, not checked" in html
    assert f"Review on {(today + timedelta(days=30)).day} " in html


def test_with_no_plan_the_summary_says_so(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    page = client.get(url(tri))
    assert page.context["summary"].adherence is None
    assert "No plan." in page.content.decode()


def test_dose_and_pain_since_the_last_visit(client: Client, tri: Triangle) -> None:
    """The last visit is the latest note before today; then is the 14 days up to it, now the
    days since (at most 14)."""
    today = timezone.localdate()
    visit = today - timedelta(days=10)
    for day, note_text in ((visit - timedelta(days=30), "Older visit"), (visit, "Visit")):
        note = ClinicalNote.objects.create(
            patient=tri.patient, author=tri.clinician, text=note_text
        )
        ClinicalNote.objects.filter(pk=note.pk).update(created=at(day, 9))
    ClinicalNote.objects.create(patient=tri.patient, author=tri.clinician, text="Today")
    for i in range(14):  # then: 28 g over 14 logged days (7 of them 0 g) = 2 g a day; pain 6
        if i % 2 == 0:
            dose(tri, at(visit - timedelta(days=i), 8), "4")
        else:
            checkin(tri, visit - timedelta(days=i))
        pain(tri, visit - timedelta(days=i), "6")
    for i in range(10):  # now: 9 complete days of 5 g (today is not over); pain 3
        dose(tri, at(today - timedelta(days=i), 8), "5")
        pain(tri, today - timedelta(days=i), "3")
    dose(tri, at(today - timedelta(days=1), 9), None)  # that day's total is unknown
    dose(tri, at(visit - timedelta(days=20), 8), "50")  # before "then": not counted
    client.force_login(tri.clinician)
    page = client.get(url(tri))
    change = page.context["summary"].change
    assert change.visit == visit
    assert (change.then.first, change.then.last) == (visit - timedelta(days=13), visit)
    assert (change.now.first, change.now.last) == (visit + timedelta(days=1), today - ONE_DAY)
    assert change.then.dose_g == Decimal(2) and change.now.dose_g == Decimal(5)
    assert (change.then.dose_days, change.now.dose_days) == (14, 8)
    assert (change.then.pain_days, change.now.pain_days) == (14, 9)
    assert change.then.pain == Decimal(6) and change.now.pain == Decimal(3)
    assert change.now.unknown_doses == 1 and change.then.unknown_doses == 0
    assert (change.dose_trend, change.pain_trend) == ("up", "down")
    html = page.content.decode()
    dose_line = html[html.index('id="sum-dose"') :][:400]
    assert "2 → 5" in dose_line and "↑</span> up" in dose_line
    pain_line = html[html.index('id="sum-pain"') :][:400]
    assert "6 → 3" in pain_line and "↓</span> down" in pain_line
    assert "(then over 14 logged days, now over 8 logged days)" in dose_line
    assert "(then over 14 rated days, now over 9 rated days)" in pain_line
    assert "1 dose of unknown amount: its day is not in the means." in html
    assert f"Last visit {visit.day} " in html


def test_with_no_note_the_last_two_weeks_are_compared_with_the_two_before(
    client: Client, tri: Triangle
) -> None:
    today = timezone.localdate()
    client.force_login(tri.clinician)
    change = client.get(url(tri)).context["summary"].change
    assert change.visit is None
    assert change.now.first == today - timedelta(days=14) and change.now.last == today - ONE_DAY
    assert change.then.last == today - timedelta(days=15) and change.then.days == 14
    assert change.now.dose_g is None and change.dose_trend == "—"


def test_new_findings_are_those_since_this_clinician_last_looked(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.clinician)
    page = client.get(url(tri))
    first = page.context["summary"]
    assert first.looked is None
    assert tri.finding in first.new_findings  # never looked: everything open is new
    assert "You have not opened this record before." in page.content.decode()
    assert "You last looked on" in client.get(url(tri)).content.decode()
    later = timezone.now() + timedelta(minutes=5)
    new = Finding.objects.create(
        patient=tri.patient,
        code="red_flag.seizure",
        fingerprint="s1",
        severity="high",
        category="red_flag",
        title="Seizure reported",
        rationale="Reported.",
        first_seen=later,
        last_seen=later,
        cause_first_at=later,
        cause_last_at=later,
    )
    page = client.get(url(tri))
    summary = page.context["summary"]
    assert summary.new_findings == [new]
    html = page.content.decode()
    assert "1 new finding" in html and f'href="?tab=findings#f-{new.uuid}"' in html
    # The colleague has never looked: both are new to them.
    client.force_login(tri.colleague)
    tri.patient.careteammembership_set.create(clinician=tri.colleague)
    assert len(client.get(url(tri)).context["summary"].new_findings) >= 2
    # Acknowledged: no longer new.
    Finding.objects.filter(pk=new.pk).update(status="acknowledged")
    client.force_login(tri.clinician)
    assert new not in client.get(url(tri)).context["summary"].new_findings


def test_next_questionnaires_due_from_the_schedules(client: Client, tri: Triangle) -> None:
    """phq9 every 14 days is in the fixture, never answered."""
    today = timezone.localdate()
    for instrument_id, every, days_ago in (("gad7", 7, 2), ("pcl5", 28, 40)):
        QuestionnaireSchedule.objects.create(
            patient=tri.patient,
            instrument_id=instrument_id,
            every_days=every,
            created_by=tri.clinician,
        )
        QuestionnaireResponse.objects.create(
            patient=tri.patient,
            instrument_id=instrument_id,
            instrument_version="1",
            answers={},
            total=1,
            taken_at=at(today - timedelta(days=days_ago)),
            idempotency_key=instrument_id,
        )
    QuestionnaireSchedule.objects.create(  # part of the daily check-in: not listed
        patient=tri.patient, instrument_id="kw-withdrawal", every_days=1, created_by=tri.clinician
    )
    client.force_login(tri.clinician)
    page = client.get(url(tri))
    due = page.context["summary"].due
    assert [(d.instrument_id, d.due_on) for d in due] == [
        ("phq9", None),
        ("pcl5", today - timedelta(days=12)),
        ("gad7", today + timedelta(days=5)),
    ]
    assert [d.overdue for d in due] == [True, True, False]
    html = page.content.decode()
    section = html[html.index('id="sum-due"') :]
    assert "PHQ-9: due now (not answered yet)" in section
    assert "GAD-7: due " in section and "Withdrawal" not in section[: section.index("</section>")]
    QuestionnaireSchedule.objects.create(
        patient=tri.patient, instrument_id="gad2", every_days=90, created_by=tri.clinician
    )
    html = client.get(url(tri)).content.decode()
    section = html[html.index('id="sum-due"') :]
    section = section[: section.index("</section>")]
    assert "GAD-7" in section and "GAD-2" not in section  # due last of four: counted
    assert "and 1 more" in section


@pytest.mark.parametrize("tab", [name for name, _, _ in TABS])
def test_each_section_is_a_page_and_a_fragment(client: Client, tri: Triangle, tab: str) -> None:
    client.force_login(tri.clinician)
    page = client.get(url(tri, tab))
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and 'id="summary"' in html
    assert f'<a href="?tab={tab}" hx-get="?tab={tab}"' in html
    assert CURRENT.findall(html) == [tab]
    fragment = client.get(url(tri, tab), headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in body and 'id="summary"' not in body
    assert 'hx-swap-oob="true"' in body and CURRENT.findall(body) == [tab]
    # Restoring a page from htmx's history needs the whole page.
    restored = client.get(
        url(tri, tab), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.content.decode()
    # One patient.view for each answer, page or section.
    assert AuditEvent.objects.filter(action="patient.view", actor=tri.clinician).count() == 3


def test_the_sections_hold_the_record(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    assert 'id="timeline"' in client.get(url(tri)).content.decode()
    plan = client.get(url(tri, "plan")).content.decode()
    for anchor in ("conditions", "medications", "pgx", "plan", "products"):
        assert f'id="{anchor}"' in plan
    assert "sertraline 50 mg" in plan and "Red Bali powder" in plan
    assert f'id="f-{tri.finding.uuid}"' in client.get(url(tri, "findings")).content.decode()
    records = client.get(url(tri, "records")).content.decode()
    assert 'id="doses"' in records and 'id="questionnaires"' in records
    assert 'id="notes"' in client.get(url(tri, "notes")).content.decode()
    analysis = client.get(url(tri, "analysis")).content.decode()
    assert 'id="dose-response"' in analysis and 'id="nof1"' in analysis


def test_an_unknown_section_is_not_found(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    response = client.get(url(tri, "everything"))
    assert response.status_code == 404 and b"Paul" not in response.content


def test_changes_come_back_to_their_section(client: Client, tri: Triangle) -> None:
    client.force_login(tri.clinician)
    base = url(tri)
    response = client.post(
        reverse("medication_add", kwargs={"patient_uuid": tri.patient.uuid}),
        {"name": "ibuprofen", "dose_text": ""},
    )
    assert response.url == f"{base}?tab=plan#medications"
    response = client.post(
        reverse("note_add", kwargs={"patient_uuid": tri.patient.uuid}), {"text": "Seen"}
    )
    assert response.url == f"{base}?tab=notes#notes"
    response = client.post(
        reverse(
            "finding_action",
            kwargs={"patient_uuid": tri.patient.uuid, "finding_uuid": tri.finding.uuid},
        ),
        {"action": "acknowledge", "reason": "Discussed"},
    )
    assert response.url == f"{base}?tab=findings#f-{tri.finding.uuid}"


def test_the_timeline_puts_everything_on_one_axis(
    client: Client, tri: Triangle, monkeypatch: Any
) -> None:
    today = timezone.localdate()
    Plan.objects.create(
        patient=tri.patient,
        version=2,
        kind="taper",
        author=tri.clinician,
        reason="Taper",
        approved_at=at(today - timedelta(days=3)),
    )
    dose(tri, at(today - timedelta(days=2)), "4")
    pain(tri, today - timedelta(days=2), "5")
    tri.patient.symptoms.create(term="nausea", severity=1, reported_at=at(today))

    def results(patient: Any, first: date, last: date) -> list[Marker]:
        return [Marker(today - timedelta(days=1), "result", "Urine drug screen: negative")]

    monkeypatch.setattr(timeline, "MARKER_SOURCES", [*timeline.MARKER_SOURCES, results])
    client.force_login(tri.clinician)
    html = client.get(url(tri)).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<title>Daily dose, pain and interference" in svg and "<desc>" in svg
    assert "Plan version 2 (Taper)" in svg and "Results" in svg and "Findings" in svg
    assert "GAD-2" in svg and "Side effects" in svg
    table = html[html.index('id="timeline-table"') :]
    table = table[: table.index("</details>")]
    assert "Plan version 2 (Taper)" in table
    assert "Urine drug screen: negative" in table
    assert "Finding (High): Kratom with a benzodiazepine" in table
    assert "GAD-2 1" in table
    row = table[table.index(f"{(today - timedelta(days=2)).day} ") :]
    row = row[: row.index("</tr>")]
    assert "<td>4</td><td>5</td>" in row


@pytest.mark.parametrize("who", ["outsider", "colleague", "patient"])
def test_no_one_else_gets_a_section(client: Client, tri: Triangle, who: str) -> None:
    client.force_login(tri.users()[who])
    for tab in ("findings", "plan"):
        response = client.get(url(tri, tab), headers={"HX-Request": "true"})
        assert response.status_code in (403, 404) and b"Paul" not in response.content
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_any_section_name_gets_an_answer(client: Client, tri: Triangle) -> None:
    """The one input the page reads: a known section, else not found; never a 5xx."""
    client.force_login(tri.clinician)
    known = {name for name, _, _ in TABS}

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(NASTY)
    def check(value: str) -> None:
        response = client.get(url(tri), {"tab": value})
        assert response.status_code == (200 if value in known or value == "" else 404)

    check()


def seizure(tri: Triangle, cause_at: datetime, first_seen: datetime) -> Finding:
    return Finding.objects.create(
        patient=tri.patient,
        code="red_flag.seizure",
        fingerprint="seizure",
        severity="high",
        category="red_flag",
        title="Seizure reported",
        rationale="Reported.",
        first_seen=first_seen,
        last_seen=first_seen,
        cause_first_at=cause_at,
        cause_last_at=cause_at,
    )


def test_only_views_that_show_the_findings_count_as_looking(client: Client, tri: Triangle) -> None:
    """An API read, another page about the patient or another section leave the findings new;
    the page itself and its Findings section do not."""
    flag = seizure(tri, timezone.now(), timezone.now())
    secret = create_token(tri.clinician, "t").secret
    api = client.get(
        f"/api/patients/{tri.patient.uuid}/doses", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert api.status_code == 200
    client.force_login(tri.clinician)
    assert client.get(reverse("plan_edit", kwargs={"patient_uuid": tri.patient.uuid})).status_code
    for tab in ("plan", "records", "notes"):
        client.get(url(tri, tab), headers={"HX-Request": "true"})
    assert AuditEvent.objects.filter(action="patient.view", actor=tri.clinician).count() == 5
    assert attention.last_looked(tri.clinician, [tri.patient.pk]) == {}
    page = client.get(url(tri))
    assert page.context["summary"].looked is None and flag in page.context["summary"].new_findings
    # The page showed it: no longer new.
    assert flag not in client.get(url(tri)).context["summary"].new_findings
    # New again; the Findings section alone shows it too.
    Finding.objects.filter(pk=flag.pk).update(modified=timezone.now())
    client.get(url(tri, "records"), headers={"HX-Request": "true"})
    assert flag in client.get(url(tri)).context["summary"].new_findings
    Finding.objects.filter(pk=flag.pk).update(modified=timezone.now())
    client.get(url(tri, "findings"), headers={"HX-Request": "true"})
    assert flag not in client.get(url(tri)).context["summary"].new_findings


def test_a_red_flag_that_arrives_late_is_new(client: Client, tri: Triangle) -> None:
    """A seizure kept on a phone for two hours reaches the record after the clinician looked:
    it is new though it happened before, in the summary, the findings list and the panel."""
    client.force_login(tri.clinician)
    client.get(url(tri))
    looked = attention.last_looked(tri.clinician, [tri.patient.pk])[tri.patient.pk]
    flag = seizure(tri, looked - timedelta(hours=2), timezone.now())
    row = next(r for r in panel_rows(PatientProfile.objects.all(), viewer=tri.clinician))
    assert row.patient == tri.patient and row.new_at == {"high"}
    summary = client.get(url(tri)).context["summary"]
    assert summary.new_findings == [flag]
    # Seen now: no longer new, in the panel either.
    row = next(
        iter(panel_rows(PatientProfile.objects.filter(pk=tri.patient.pk), viewer=tri.clinician))
    )
    assert not row.is_new
    assert flag not in client.get(url(tri)).context["summary"].new_findings
    # Rewritten with a late report of its cause: new again.
    Finding.objects.filter(pk=flag.pk).update(modified=timezone.now())
    assert client.get(url(tri)).context["summary"].new_findings == [flag]
    # Its cause no longer present: that is not news.
    looked = attention.last_looked(tri.clinician, [tri.patient.pk])[tri.patient.pk]
    Finding.objects.filter(pk=flag.pk).update(active=False, modified=looked + timedelta(seconds=1))
    assert client.get(url(tri)).context["summary"].new_findings == []


def test_today_is_left_out_and_only_logged_days_count(client: Client, tri: Triangle) -> None:
    """A steady 6 g a day, with one 2 g dose so far today, is steady; a day with a dose of
    unknown amount is not a day of 0 g; days with nothing recorded are not days of 0 g."""
    today = timezone.localdate()
    for i in range(1, 13):  # 12 logged days of 6 g; two days of the 14 with nothing
        dose(tri, at(today - timedelta(days=i), 8), "3")
        dose(tri, at(today - timedelta(days=i), 18), "3")
        dose(tri, at(today - timedelta(days=i + 14), 8), "6")
    dose(tri, at(today, 8), "2")
    dose(tri, at(today - timedelta(days=13), 8), None)  # total unknown: not 0 g
    client.force_login(tri.clinician)
    page = client.get(url(tri))
    change = page.context["summary"].change
    assert change.now.dose_g == Decimal(6) and change.now.dose_days == 12
    assert change.then.dose_g == Decimal(6) and change.dose_trend == "steady"
    html = page.content.decode()
    dose_line = html[html.index('id="sum-dose"') :][:600]
    assert "6 → 6" in dose_line and "now over 12 logged days" in dose_line
    assert "Today is not counted until it is over." in html


def test_mean_pain_is_one_rating_a_day(client: Client, tri: Triangle) -> None:
    """Two ratings on one day count as that day's own (the latest), as on the timeline."""
    today = timezone.localdate()
    for day, hour, value in ((2, 8, "9"), (2, 20, "3"), (3, 20, "5")):
        QuestionnaireResponse.objects.create(
            patient=tri.patient,
            instrument_id="kw-daily-pain",
            instrument_version="1.0",
            answers={},
            total=Decimal(value),
            scores={"subscales": {"pain": float(value)}},
            taken_at=at(today - timedelta(days=day), hour),
            idempotency_key=f"pain-{day}-{hour}",
        )
    client.force_login(tri.clinician)
    change = client.get(url(tri)).context["summary"].change
    assert change.now.pain == Decimal(4) and change.now.pain_days == 2


def test_a_questionnaire_due_today_says_so(client: Client, tri: Triangle) -> None:
    today = timezone.localdate()
    QuestionnaireResponse.objects.create(
        patient=tri.patient,
        instrument_id="phq9",
        instrument_version="1",
        answers={},
        total=1,
        taken_at=at(today - timedelta(days=14)),
        idempotency_key="phq9-due-today",
    )
    client.force_login(tri.clinician)
    html = client.get(url(tri)).content.decode()
    section = html[html.index('id="sum-due"') :]
    section = section[: section.index("</section>")]
    assert "PHQ-9: due today" in section and "due since" not in section


def test_a_visit_yesterday_leaves_no_complete_day_since(client: Client, tri: Triangle) -> None:
    today = timezone.localdate()
    note = ClinicalNote.objects.create(patient=tri.patient, author=tri.clinician, text="Seen")
    ClinicalNote.objects.filter(pk=note.pk).update(created=at(today - ONE_DAY, 9))
    dose(tri, at(today, 8), "2")
    client.force_login(tri.clinician)
    page = client.get(url(tri))
    change = page.context["summary"].change
    assert change.now.days == 0 and change.now.dose_g is None and change.dose_trend == "—"
    assert "no complete day since" in page.content.decode()
