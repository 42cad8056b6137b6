"""The demo, migrate and help commands from a real process, on a fresh data directory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest


def kratomwatch(
    *args: str, env: dict[str, str] | None = None, timeout: int = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kratomwatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KRATOMWATCH_") and k != "DATABASE_URL"
    }
    env.update(extra)
    return env


def test_help_lists_the_commands() -> None:
    out = kratomwatch("--help")
    assert out.returncode == 0
    for command in ("demo", "serve", "migrate", "instruments", "score"):
        assert re.search(rf"^\s+{command}\s", out.stdout, re.M), command


def test_seed_only_creates_the_database_and_exits(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    out = kratomwatch("demo", "--seed-only", "--data-dir", str(data), env=clean_env())
    assert out.returncode == 0, out.stderr
    assert (data / "kratomwatch.sqlite3").exists()
    assert "dr.lee" in out.stdout and "patient02" in out.stdout and "Created" in out.stdout
    again = kratomwatch("demo", "--seed-only", "--data-dir", str(data), env=clean_env())
    assert again.returncode == 0 and "Reusing" in again.stdout


def test_the_data_dir_also_comes_from_the_environment(tmp_path: Path) -> None:
    out = kratomwatch(
        "migrate",
        env=clean_env(KRATOMWATCH_DATA_DIR=str(tmp_path / "env"), KRATOMWATCH_SECRET_KEY="s" * 40),
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "env" / "kratomwatch.sqlite3").exists()
    out = kratomwatch("serve", env=clean_env(KRATOMWATCH_DATA_DIR=str(tmp_path / "env")))
    assert out.returncode == 2 and "KRATOMWATCH_SECRET_KEY must be set" in out.stderr
    # Commands that serve nothing run without a configured key.
    out = kratomwatch("migrate", env=clean_env(KRATOMWATCH_DATA_DIR=str(tmp_path / "env")))
    assert out.returncode == 0, out.stderr


def test_bad_configuration_fails_with_a_clear_message(tmp_path: Path) -> None:
    out = kratomwatch("migrate", env=clean_env(DATABASE_URL="mysql://nope/x"))
    assert out.returncode == 2
    assert "DATABASE_URL must be a postgres:// URL" in out.stderr
    out = kratomwatch("demo", "--port", "0", "--data-dir", str(tmp_path))
    assert out.returncode == 2 and "--port" in out.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the demo's own SQLite run")
def test_demo_serves_the_login_page_and_the_logins_work(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kratomwatch",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                page = urllib.request.urlopen(f"{base}/login/", timeout=5).read().decode()
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout else "no output"
                    raise AssertionError(output) from exc
                time.sleep(0.5)
        assert "Log in" in page
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = opener.open(f"{base}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        body = urlencode(
            {"csrfmiddlewaretoken": token, "username": "dr.lee", "password": "kratomwatch-demo"}
        ).encode()
        request = urllib.request.Request(
            f"{base}/login/", data=body, headers={"Referer": f"{base}/login/"}
        )
        landed = opener.open(request)
        assert landed.url.endswith("/patients/")
        assert "My patients" in landed.read().decode()

        # The demo's admin invites someone: the link points at this demo, not another port.
        jar = CookieJar()
        admin = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def post(path: str, fields: dict[str, str]) -> str:
            page = admin.open(f"{base}{path}").read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            data = urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
            headers = {"Referer": f"{base}{path}"}
            request = urllib.request.Request(f"{base}{path}", data=data, headers=headers)
            return str(admin.open(request).read().decode())

        post("/login/", {"username": "admin", "password": "kratomwatch-demo"})
        page = post(
            "/clinic/users/invite/",
            {"role": "clinician", "username": "cleo", "email": "cleo@example.org"},
        )
        link = re.search(r'id="invitation-url" type="text" readonly value="([^"]+)"', page)
        assert link, page[:3000]
        assert link.group(1).startswith(f"{base}/invite/")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="uses its own SQLite directory")
def test_serve_runs_gunicorn_and_answers_health(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(KRATOMWATCH_SECRET_KEY="x" * 40, KRATOMWATCH_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kratomwatch",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5)
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read() if proc.stdout else "no output"
                    raise AssertionError(output) from exc
                time.sleep(0.5)
        assert b'"status":"ok"' in body.read().replace(b" ", b"")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
