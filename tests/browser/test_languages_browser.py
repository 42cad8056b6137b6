"""A patient who reads Spanish or Malay, on a 360 px phone: the pages fit and speak their
language, down to the urgent guidance a ticked red flag shows at once (Chromium)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from kratomwatch.clinic.models import PatientProfile
from kratomwatch.domain.safety import load_knowledge

from .conftest import no_horizontal_scroll
from .test_patient_browser import PHONE, login, patient  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["es", "ms"])
def test_a_patient_reads_their_language_on_a_phone(
    live_server: Any,
    browser: Any,
    patient: PatientProfile,  # noqa: F811 - the fixture
    shot: Any,
    language: str,
) -> None:
    PatientProfile.objects.filter(pk=patient.pk).update(language=language)
    (rule,) = [r for r in load_knowledge().rules if r.id == "red_flag.breathing_difficulty"]
    with translation.override(language):
        heading = translation.gettext("Today's check-in")
        guidance = translation.gettext(rule.patient_message or "")
        nav = translation.pgettext("tab", "My plan")
    assert guidance != rule.patient_message
    page = browser.new_page(viewport=PHONE, locale="en-US")  # the browser asks for English
    base = live_server.url
    login(page, base)
    assert page.get_attribute("html", "lang") == language
    assert nav in page.inner_text(".patient-nav")
    for path in ("/me/", "/me/plan/", "/me/data/", "/urgent/"):
        page.goto(f"{base}{path}")
        assert no_horizontal_scroll(page), path
        # Every tab of the bottom navigation shows its whole label.
        cut = page.evaluate(
            "[...document.querySelectorAll('.patient-nav a')].filter(a => {"
            " const r = document.createRange(); r.selectNodeContents(a);"
            " const t = r.getBoundingClientRect(), b = a.getBoundingClientRect();"
            " return t.left < b.left - 1 || t.right > b.right + 1 || t.top < b.top - 1"
            " || t.bottom > Math.min(b.bottom, innerHeight) + 1 }).map(a => a.textContent)"
        )
        assert cut == [], (path, cut)
    page.goto(f"{base}/me/checkin/")
    assert heading in page.inner_text("h1")
    assert no_horizontal_scroll(page)
    flag = page.locator("input[name=red_flags][value=breathing_difficulty]").get_attribute("id")
    page.click(f"label[for='{flag}']")
    alert = page.locator("#flag-guidance")
    alert.wait_for(state="visible")
    assert guidance in alert.inner_text()
    shot(page, f"checkin-red-flag-{language}")
