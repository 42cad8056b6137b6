"""Lighthouse on the patient's pages, mobile preset, in each language: the figures in
docs/patient-app.md.

Usage (Lighthouse from npm, run on Debian's Chromium; Node 20 takes Lighthouse 12):

    npm install --prefix /tmp/lh lighthouse@12.8.2
    python bench/lighthouse.py --lighthouse /tmp/lh/node_modules/.bin/lighthouse

The script serves the demo clinic (``kratomwatch demo``, SQLite in a temporary directory),
signs in as ``patient01``, sets the patient's language for each run, and runs Lighthouse's
performance, accessibility and best-practices categories on each page, printing one row per
page and language (scores 0-100, bytes transferred).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

#: The demo clinic's password for every login (kratomwatch.synthetic.seed.DEMO_PASSWORD; not
#: imported, which would need Django set up).
DEMO_PASSWORD = "kratomwatch-demo"  # noqa: S105 - synthetic demo accounts only

PAGES = (
    "/me/",
    "/me/checkin/",
    "/me/plan/",
    "/me/trends/",
    "/me/products/",
    "/me/data/",
    "/urgent/",
)
CATEGORIES = ("performance", "accessibility", "best-practices")


def sign_in(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise SystemExit("no sign-in form at /login/")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the local demo server
        f"{base}/login/", data, headers={"Referer": f"{base}/login/"}
    )
    opener.open(request).read()
    opener.jar = jar  # type: ignore[attr-defined]
    return opener


def set_language(opener: urllib.request.OpenerDirector, base: str, language: str) -> None:
    """The patient's language, chosen on their settings page as a patient does."""
    page = opener.open(f"{base}/me/data/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "language": language}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the local demo server
        f"{base}/me/data/language/", data, headers={"Referer": base}
    )
    try:
        opener.open(request).read()
    except urllib.error.HTTPError as exc:  # the page may answer a form error: say so
        raise SystemExit(f"could not set the language {language}: HTTP {exc.code}") from exc


def cookie_header(opener: urllib.request.OpenerDirector) -> str:
    jar = opener.jar  # type: ignore[attr-defined]
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def run(lighthouse: str, url: str, headers: Path, tries: int = 3) -> dict[str, float]:
    """One page's scores; a run Lighthouse itself stops (its trace error NO_NAVSTART, seen
    now and then) is run again."""
    for _ in range(tries - 1):
        try:
            return _run(lighthouse, url, headers)
        except subprocess.CalledProcessError:
            continue
    return _run(lighthouse, url, headers)


def _run(lighthouse: str, url: str, headers: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            lighthouse,
            url,
            "--quiet",
            "--chrome-flags=--headless=new --no-sandbox",
            f"--extra-headers={headers}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            "--output-path=stdout",
        ],
        env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    report = json.loads(out)
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    transferred = report["audits"]["total-byte-weight"]["numericValue"]
    return {**scores, "KiB": round(transferred / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lighthouse", required=True, help="path of the lighthouse command")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--languages", default="en,es,ms")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated paths")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="kw-lighthouse-") as tmp:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kratomwatch",
                "demo",
                "--data-dir",
                tmp,
                "--port",
                str(args.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"{base}/api/health").read()  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.5)
            opener = sign_in(base, "patient01", DEMO_PASSWORD)
            headers = Path(tmp) / "headers.json"
            print("| page | language | performance | accessibility | best practices | KiB |")
            print("|---|---|---|---|---|---|")
            for language in args.languages.split(","):
                set_language(opener, base, language)
                headers.write_text(json.dumps({"Cookie": cookie_header(opener)}))
                for path in args.pages.split(","):
                    s = run(args.lighthouse, base + path, headers)
                    print(
                        f"| `{path}` | {language} | {s['performance']} | {s['accessibility']} "
                        f"| {s['best-practices']} | {s['KiB']} |",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
