"""A clinic admin on a phone and at a desk: readable buttons, the safe action first."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import Role, User
from kratomwatch.synthetic.seed import DEMO_PASSWORD, seed_demo_clinic

from .conftest import no_horizontal_scroll

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORTS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}

# WCAG 2.1 contrast ratio of every button's text on what is behind it; the nearest ancestor
# with a background colour stands in for a transparent button.
CONTRAST = """
() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll('main button, main a.button')].map(el => {
    const a = lum(rgb(getComputedStyle(el).color).slice(0, 3)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    return {text: el.innerText.trim(), ratio: Math.round(ratio * 10) / 10,
            primary: getComputedStyle(el).backgroundColor === 'rgb(11, 92, 173)'};
  });
}
"""


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_admin_buttons_are_readable_and_deactivating_is_not_the_main_action(
    live_server: Any, browser: Any, shot: Any, viewport: str
) -> None:
    seed_demo_clinic(patients=3, days=3, today=timezone.localdate())
    admin = User.objects.get(role=Role.CLINIC_ADMIN, username="admin")
    patient = User.objects.filter(clinic=admin.clinic, role=Role.PATIENT).first()
    assert patient is not None
    User.objects.filter(pk=patient.pk).update(password="!")  # invited, no password yet
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    login(page, live_server.url, "admin")
    pages = {
        "users": "/clinic/users/",
        "user": f"/clinic/users/{patient.uuid}/",
        "settings": "/clinic/settings/",
    }
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        shot(page, f"admin-{name}-{viewport}")
        assert no_horizontal_scroll(page), name
        buttons = page.evaluate(CONTRAST)
        assert buttons, name
        unreadable = [b for b in buttons if b["ratio"] < 4.5]
        assert unreadable == [], (name, unreadable)
        destructive = [b for b in buttons if b["text"].startswith(("Deactivate", "Remove"))]
        assert not any(b["primary"] for b in destructive), (name, destructive)
    # On a patient's page the main action is the invitation, not the deactivation.
    page.goto(f"{live_server.url}/clinic/users/{patient.uuid}/")
    buttons = page.evaluate(CONTRAST)
    primary = [b["text"] for b in buttons if b["primary"]]
    assert "New invitation link" in primary and "Deactivate account" not in primary
