"""The Spanish and Malay catalogs are complete, and the patient's pages, PDF and e-mails
carry no English text that the catalogs translate."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from kratomwatch.clinic.actions.account import do_request_password_reset
from kratomwatch.clinic.actions.admin import invitation_uid
from kratomwatch.clinic.data_msgids import MODULE, module_source
from kratomwatch.clinic.models import (
    DoseEntry,
    Finding,
    PatientProfile,
    Plan,
    PlanKind,
    QuestionnaireSchedule,
)
from kratomwatch.clinic.reminders import send_due_reminders
from kratomwatch.domain.safety import load_knowledge

from .conftest import Triangle
from .test_trials import make_trial

LOCALE = Path(__file__).resolve().parents[2] / "src" / "kratomwatch" / "locale"
LANGUAGES = ["es", "ms"]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%|\{[a-z_0-9]*\}")


@pytest.fixture(autouse=True)
def back_to_the_default_language() -> Iterator[None]:
    """A request leaves its language active in the thread (Django's LocaleMiddleware does):
    later tests that call code directly expect the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


# ------------------------------------------------------------------------------ catalogs


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    po = catalog(language)
    assert len(po) > 400
    assert not po.metadata_is_fuzzy
    assert [e.msgid for e in po if "fuzzy" in e.flags] == []
    assert [e.msgid for e in po.untranslated_entries()] == []
    for entry in po:
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        assert all(form.strip() for form in forms), entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_markup_are_kept(language: str) -> None:
    for entry in catalog(language):
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        tags = sorted(re.findall(r"</?[a-z]+", entry.msgid))
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == set(expected), (entry.msgid, form)
            assert sorted(re.findall(r"</?[a-z]+", form)) == tags, (entry.msgid, form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_compiled_catalog_matches_its_source(language: str) -> None:
    po = catalog(language)
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))

    def messages(entries: polib._BaseFile) -> dict[tuple[str | None, str], object]:
        return {
            (e.msgctxt, e.msgid): dict(e.msgstr_plural) if e.msgid_plural else e.msgstr
            for e in entries
            if e.msgid
        }

    assert messages(mo) == messages(po), "run scripts/catalogs.py compile"


def test_the_data_texts_module_is_up_to_date() -> None:
    assert MODULE.read_text(encoding="utf-8") == module_source(), (
        "run the data_msgids command (scripts/catalogs.py update)"
    )


def test_emergency_numbers_are_kept_in_every_language() -> None:
    for language in LANGUAGES:
        for entry in catalog(language):
            for number in re.findall(r"\b(?:911|999|112|988)\b", entry.msgid):
                assert number in entry.msgstr, (language, entry.msgid)


# ------------------------------------------------------------------------- what is shown


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _Text(HTMLParser):
    """The text a reader sees, less scripts and the parts marked as English on purpose
    (``lang="en"``: a validated questionnaire shown in its published wording)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._open: list[tuple[str, bool]] = []
        self._page_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        if tag == "html":
            self._page_lang = dict(attrs).get("lang")
        english = dict(attrs).get("lang") == "en" and tag != "html" and self._page_lang != "en"
        hidden = tag in ("script", "style") or english
        self._open.append((tag, hidden or bool(self._open and self._open[-1][1])))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not (self._open and self._open[-1][1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_phrases(language: str) -> Iterator[str]:
    """Every English text of 3 or more words in the catalog (the literal runs between
    placeholders and tags) that the translation does not keep as it is."""
    for entry in catalog(language):
        if entry.msgstr == entry.msgid:
            continue
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            for run in re.split(r"%\([a-z_]+\)[sd]|<[^>]+>", msgid.replace("%%", "%")):
                run = " ".join(run.split()).strip(" .,:;()")
                if len(run.split()) >= 3:
                    yield run


def assert_no_english(text: str, language: str, where: str) -> None:
    found = sorted({p for p in english_phrases(language) if p in text})
    assert found == [], f"{where} in {language} still shows English: {found}"


def rich_record(tri: Triangle, language: str) -> PatientProfile:
    """Paul, in ``language``, with a plan, a dose, a trial and a safety message."""
    patient = tri.patient
    PatientProfile.objects.filter(pk=patient.pk).update(language=language)
    Plan.objects.create(
        patient=patient,
        version=1,
        kind=PlanKind.TAPER,
        max_single_dose_g=Decimal("3"),
        max_daily_dose_g=Decimal("9"),
        max_doses_per_day=3,
        min_hours_between=Decimal("4"),
        review_on=timezone.localdate() + timedelta(days=20),
        author=tri.clinician,
        reason="taper",
        approved_at=timezone.now() - timedelta(days=1),
        details={"steps": [{"start": timezone.localdate().isoformat(), "daily_g": "8"}]},
    )
    DoseEntry.objects.create(
        patient=patient,
        product=tri.product,
        amount=Decimal("2.5"),
        unit="g",
        taken_at=timezone.now() - timedelta(hours=3),
    )
    rule = next(r for r in load_knowledge().rules if r.id == "interaction.alcohol")
    now = timezone.now()
    Finding.objects.create(
        patient=patient,
        code=rule.id,
        fingerprint="alcohol",
        severity="moderate",
        category="interaction",
        title=rule.title,
        rationale="Alcohol listed.",
        patient_message=rule.patient_message or "",
        first_seen=now,
        last_seen=now,
    )
    make_trial(tri)
    QuestionnaireSchedule.objects.create(
        patient=patient, instrument_id="kw-withdrawal", every_days=7, created_by=tri.clinician
    )
    patient.refresh_from_db()
    return patient


PATIENT_PAGES = [
    ("patient_home", {}),
    ("checkin", {}),
    ("checkin_done", {"checkin_uuid": "checkin"}),
    ("questionnaire", {"instrument_id": "phq9"}),
    ("questionnaire", {"instrument_id": "kw-withdrawal"}),
    ("questionnaire_done", {"response_uuid": "response"}),
    ("my_products", {}),
    ("product_add", {}),
    ("my_plan", {}),
    ("trends", {}),
    ("my_dose_response", {}),
    ("my_trial", {}),
    ("my_data", {}),
    ("record_views", {}),
    ("evidence_claims", {}),
    ("urgent_guidance", {}),
    ("offline", {}),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_patient_page_is_in_the_patients_language(tri: Triangle, language: str) -> None:
    rich_record(tri, language)
    client = Client()
    client.force_login(tri.patient.user)
    objects = {"checkin": tri.checkin.uuid, "response": tri.response.uuid}
    for name, kwargs in PATIENT_PAGES:
        url = reverse(name, kwargs={k: objects.get(str(v), v) for k, v in kwargs.items()})
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        assert response["Content-Language"] == language, url
        assert_no_english(visible_text(response.content.decode()), language, url)
    home = visible_text(client.get(reverse("patient_home")).content.decode())
    urgent = visible_text(client.get(reverse("urgent_guidance")).content.decode())
    seizure = next(r for r in load_knowledge().rules if r.id.startswith("red_flag.seizure"))
    with translation.override(language):
        assert translation.gettext("Reminders and my data") in home
        assert translation.gettext(seizure.title) in urgent
        assert translation.gettext(seizure.patient_message or "") in urgent
        assert translation.gettext(seizure.patient_message or "") != seizure.patient_message


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_follow_the_browser(tri: Triangle, language: str) -> None:
    link = {"uidb64": invitation_uid(tri.patient.user), "token": "not-a-token"}
    pages = [(name, {}) for name in ("login", "password_reset", "password_reset_done")]
    pages += [("evidence_claims", {}), ("invite_accept", link), ("password_reset_confirm", link)]
    for name, kwargs in pages:
        client = Client()
        response = client.get(reverse(name, kwargs=kwargs), HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code == 302:  # Django's reset views hide the token first
            response = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, name
        assert_no_english(visible_text(response.content.decode()), language, name)
        with translation.override(language):
            assert translation.gettext("Skip to content") in visible_text(response.content.decode())


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_validated_questionnaire_is_shown_in_english_with_a_note(
    tri: Triangle, language: str
) -> None:
    PatientProfile.objects.filter(pk=tri.patient.pk).update(language=language)
    client = Client()
    client.force_login(tri.patient.user)
    page = client.get(reverse("questionnaire", kwargs={"instrument_id": "phq9"}))
    html = page.content.decode()
    assert 'id="shown-in-english"' in html
    assert "Little interest or pleasure in doing things" in html  # the published wording
    with translation.override(language):
        note = translation.gettext(
            "This questionnaire is shown in English because a validated translation is not "
            "available here. If a word is unclear, ask your care team."
        )
    assert note in visible_text(html)
    assert "shown in English" not in visible_text(html)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pdf_export_is_in_the_patients_language(tri: Triangle, language: str) -> None:
    rich_record(tri, language)
    client = Client()
    client.force_login(tri.patient.user)
    response = client.get(reverse("my_data_pdf"))
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    assert_no_english(text, language, "my_data_pdf")
    with translation.override(language):
        assert translation.gettext("Most recent doses:") in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_reminder_and_password_emails_are_in_the_patients_language(
    tri: Triangle, language: str, django_capture_on_commit_callbacks: Any
) -> None:
    user = tri.patient.user
    user.email = "paul@example.org"
    user.save()
    PatientProfile.objects.filter(pk=tri.patient.pk).update(
        language=language, reminder_time="06:00"
    )
    tri.checkin.delete()
    mail.outbox = []
    now = timezone.now().replace(hour=12)
    assert send_due_reminders(now) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert do_request_password_reset("paul@example.org")
    assert len(mail.outbox) == 2
    with translation.override(language):
        subjects = {
            translation.gettext("Your KratomWatch check-in"),
            translation.gettext("Reset your KratomWatch password"),
        }
    assert {m.subject for m in mail.outbox} == subjects
    for message in mail.outbox:
        assert_no_english(f"{message.subject} {message.body}", language, message.subject)


# ------------------------------------------------------- the clinical core's dose messages


def _post_dose(client: Client, tri: Triangle, **data: str) -> str:
    fields = {
        "product": str(tri.product.uuid),
        "amount": "2.5",
        "unit": "g",
        "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "idempotency_key": uuid.uuid4().hex,
    } | data
    response = client.post(reverse("patient_home"), fields)
    assert response.status_code == 400
    return visible_text(response.content.decode())


@pytest.mark.parametrize("language", LANGUAGES)
def test_dose_refusals_and_confirmations_reach_the_patient_translated(
    tri: Triangle, language: str
) -> None:
    PatientProfile.objects.filter(pk=tri.patient.pk).update(language=language)
    client = Client()
    client.force_login(tri.patient.user)
    comma = _post_dose(client, tri, amount="2,5")
    unusual = _post_dose(client, tri, amount="50", unit="mg")  # 0.05 g: meant 50 g?
    with translation.override(language):
        said = {
            "comma": translation.gettext(
                "Amount {value} contains a comma, which is ambiguous (1,5 could mean 1.5 or "
                "15): write it with a dot as the decimal separator and no thousands separator."
            ).format(value="'2,5'"),
            "mg": translation.gettext(
                "{quantity} of {form} is only {grams} g. Did you mean {amount} g? Confirm only "
                "if {quantity} is right; it will not be changed."
            ).format(
                quantity="50 mg",
                form=translation.gettext("leaf powder"),
                grams="0.05",
                amount="50",
            ),
        }
    assert said["comma"] in comma
    assert said["mg"] in unusual
    assert "contains a comma" not in comma and "Did you mean" not in unusual
    assert_no_english(comma + unusual, language, "refused dose")
    assert not DoseEntry.objects.filter(patient=tri.patient).exists()


def test_dose_messages_stay_english_for_english_patients(tri: Triangle) -> None:
    client = Client()
    client.force_login(tri.patient.user)
    assert "Amount '2,5' contains a comma" in _post_dose(client, tri, amount="2,5")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shared_analysis_reaches_the_patient_in_their_language(
    tri: Triangle, language: str
) -> None:
    from .test_analysis_release import clinicians_section, digest_in, pain_falls_with_dose, share

    pain_falls_with_dose(tri)
    PatientProfile.objects.filter(pk=tri.patient.pk).update(language=language)
    clinician = Client()
    preview = clinicians_section(clinician, tri.patient, tri.clinician)
    assert "Your diary" in preview or "your diary" in preview  # the clinician reads English
    assert 'id="shared-language"' in preview
    assert share(clinician, tri.patient, digest_in(preview)) == 302
    patient = Client()
    patient.force_login(tri.patient.user)
    page = visible_text(patient.get(reverse("my_dose_response")).content.decode())
    with translation.override(language):
        closing = translation.gettext(
            "Please do not change how much you take because of this page. If you have "
            "questions about it, talk with your care team."
        )
    assert closing in page
    assert_no_english(page, language, "my_dose_response")


def test_data_texts_are_translated_with_their_percent_signs_and_none_is_empty() -> None:
    from django.template import Context, Template

    title = next(r.title for r in load_knowledge().rules if "%" in r.title)
    page = Template("{% load kw %}[{{ title|translated }}][{{ none|translated }}]")
    with translation.override("es"):
        shown = page.render(Context({"title": title, "none": None}))
    assert shown.startswith("[") and shown.endswith("][]")
    assert "%" in shown and title not in shown
