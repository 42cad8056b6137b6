"""Take the README's screenshots from a running demo (``kratomwatch demo``) with Chromium.

Usage: python scripts/screenshots.py [BASE_URL]   (default http://127.0.0.1:8000)
Needs Debian's chromium (/usr/bin/chromium) and the playwright package.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "kratomwatch-demo")
    page.click("button[type=submit]")


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        desk = browser.new_page(viewport={"width": 1200, "height": 900})
        login(desk, base, "dr.lee")
        desk.screenshot(path=str(OUT / "clinician-panel.png"))
        desk.click("table.panel a >> nth=0")
        desk.screenshot(path=str(OUT / "clinician-patient.png"))
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        login(phone, base, "patient02")
        phone.screenshot(path=str(OUT / "patient-home.png"), full_page=False)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
