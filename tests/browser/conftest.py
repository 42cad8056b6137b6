"""Real Chromium (Debian's package) driven by Playwright against a live server.

Screenshots are written to build/screenshots/ (set KRATOMWATCH_SCREENSHOTS to change it).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(
    os.environ.get(
        "KRATOMWATCH_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build" / "screenshots"
    )
)


@pytest.fixture(autouse=True)
def _database_connection_per_request(settings: Any) -> None:
    """The live server gives each of the browser's connections a thread of its own, which
    keeps its database connection as long as the browser keeps the socket open (keep-alive,
    pages and service workers left open) when connections persist (CONN_MAX_AGE, 60 s on
    PostgreSQL): a run of browser tests would use up the server's connections. Here each
    request closes its database connection when it ends."""
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shot() -> Any:
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, full_page: bool = True) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def wait_until(page: Any, expression: str, seconds: float = 30) -> None:
    """Wait until ``expression`` is true in the page, polled from here.

    Not ``page.wait_for_function``: it runs its predicate through ``eval`` in the page, which
    the app's Content-Security-Policy refuses whenever the first check is false (so it passed
    or failed by timing), and a predicate returning a promise passes at once. An expression
    given to ``page.evaluate`` runs outside the page's policy and its promise is awaited.
    """
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        page.wait_for_timeout(100)


def no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


# axe-core, pinned in tests/browser/axe/package-lock.json and installed there by scripts/test
# (`npm ci --prefix tests/browser/axe`).
AXE_JS = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
AXE_RUN = """
async tags => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))
  }));
}
"""


@pytest.fixture(scope="session")
def axe() -> Any:
    """``axe(page)``: the page's axe-core violations (a list, empty when there are none).
    The page's context needs ``bypass_csp=True``: the app's CSP allows only its own scripts."""
    if not AXE_JS.exists():
        pytest.fail("axe-core is needed: npm ci --prefix tests/browser/axe (scripts/test does it)")
    source = AXE_JS.read_text(encoding="utf-8")

    def run(page: Any) -> list[dict[str, Any]]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=source)
        return list(page.evaluate(AXE_RUN, AXE_TAGS))

    return run


def axe_report(found: list[tuple[str, dict[str, Any]]]) -> str:
    """One block per violation: where, the rule's id and help, each element that fails."""
    lines = [f"{len(found)} axe violation(s):"]
    for where, v in found:
        lines.append(f"\n{where}: {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}  {summary[:300]}")
    return "\n".join(lines)
