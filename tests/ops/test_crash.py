"""Acknowledged doses survive the server being killed, and retries never duplicate them.

The real server (``kratomwatch serve``: gunicorn, two worker processes) runs on a fresh demo
database. Several patients' phones, simulated by threads with their own sessions, submit doses
at once, each with its own idempotency key, until the whole process group is killed with
SIGKILL: no shutdown, no flush, no chance to finish a request. After a restart, every dose the
server had acknowledged (302 redirect) must be there exactly once; then every submission,
acknowledged or not, is sent again with its key, and each must now be stored exactly once.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .conftest import Target

CLIENTS = 6
PER_CLIENT = 40  # upper bound; the kill comes long before
ACKS_BEFORE_KILL = 24
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(target: Target, log: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    with log.open("a") as out:
        proc = target.popen(
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-migrate",  # the probe's seeding migrated it
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: gunicorn and its workers
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2).read()
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from exc
                time.sleep(0.2)
        yield base, proc
    finally:
        kill(proc)


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the server's whole process group (gunicorn's master and workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Phone:
    """One logged-in session of the patient: its own cookies and CSRF token."""

    username: str
    password: str
    base: str = ""
    jar: CookieJar = field(default_factory=CookieJar)
    token: str = ""

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(
            f"{self.base}{path}", data=body, headers={"Referer": f"{self.base}{path}"}
        )
        try:
            with self.opener.open(req, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", "")

    def login(self, base: str) -> None:
        self.base = base
        status, page = self.request("/me/")
        if status != 200:  # not logged in (yet): log in
            status, page = self.request("/login/")
            assert status == 200
            status, _ = self.request(
                "/login/",
                {
                    "csrfmiddlewaretoken": TOKEN.search(page).group(1),  # type: ignore[union-attr]
                    "username": self.username,
                    "password": self.password,
                },
            )
            assert status == 302, status
            status, page = self.request("/me/")
        assert status == 200, status
        self.token = TOKEN.search(page).group(1)  # type: ignore[union-attr]

    def submit(self, dose: dict[str, str]) -> int:
        status, location = self.request("/me/", {"csrfmiddlewaretoken": self.token, **dose})
        if status == 302:
            assert location.endswith("/me/"), location
        return status


def test_acknowledged_doses_survive_sigkill_and_retries_do_not_duplicate(
    seeded: Callable[[], tuple[Target, Any]], tmp_path: Path
) -> None:
    started = time.monotonic()
    target, clinic = seeded()
    log = tmp_path / "server.log"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    sent: dict[str, dict[str, str]] = {}  # idempotency key -> the dose submitted
    acked: set[str] = set()
    outcome: dict[str, str] = {}  # key -> "ack", an HTTP status, or the connection error
    lock = threading.Lock()
    stop = threading.Event()
    phones = [Phone(clinic["username"], clinic["password"]) for _ in range(CLIENTS)]

    def dose(client: int, n: int) -> dict[str, str]:
        return {
            "product": clinic["product"],
            "amount": f"{1 + (client * PER_CLIENT + n) % 40 / 10:.1f}",
            "unit": "g",
            "taken_at": (now - timedelta(minutes=client * PER_CLIENT + n)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "preparation": f"crash test {client}/{n}",
            "idempotency_key": f"crash-{client}-{n:03d}",
        }

    def hammer(client: int) -> None:
        phone = phones[client]
        for n in range(PER_CLIENT):
            if stop.is_set():
                return
            submission = dose(client, n)
            key = submission["idempotency_key"]
            with lock:
                sent[key] = submission
            try:
                status = phone.submit(submission)
            except OSError as exc:  # the server died under this request
                with lock:
                    outcome[key] = f"error: {exc}"
                return
            with lock:
                outcome[key] = "ack" if status == 302 else str(status)
                if status == 302:
                    acked.add(key)
            if status != 302:
                return

    with server(target, log) as (base, proc):
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(lambda phone: phone.login(base), phones))
        threads = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acked) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
            assert any(t.is_alive() for t in threads), outcome
            time.sleep(0.02)
        with lock:
            in_flight = len(sent) - len(outcome)
        kill(proc)  # in the middle of the submissions
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        assert not any(t.is_alive() for t in threads)
    rejected = {k: v for k, v in outcome.items() if v != "ack" and not v.startswith("error")}
    assert not rejected, rejected  # every answer before the kill was an acknowledgement
    assert len(acked) >= ACKS_BEFORE_KILL, (outcome, log.read_text()[-3000:])

    with server(target, tmp_path / "server-after.log") as (base, _):
        stored = target.probe("doses", "crash-")
        for key in acked:
            assert key in stored, f"acknowledged dose {key} was lost"
            assert stored[key]["count"] == 1
            assert Decimal(stored[key]["amount"]) == Decimal(sent[key]["amount"])
            taken = datetime.strptime(sent[key]["taken_at"], "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
            assert datetime.fromisoformat(stored[key]["taken_at"]) == taken
        assert set(stored) <= set(sent)
        assert all(row["count"] == 1 for row in stored.values())

        # Every phone sends everything again with the same keys, all at once.
        with ThreadPoolExecutor(CLIENTS) as pool:
            # The sessions survived the crash; this only fetches a fresh form token.
            list(pool.map(lambda phone: phone.login(base), phones))
        keys = sorted(sent)
        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(
                pool.map(lambda i: phones[i % CLIENTS].submit(sent[keys[i]]), range(len(keys)))
            )
        assert statuses == [302] * len(keys)
        after = target.probe("doses", "crash-")
        assert set(after) == set(sent)  # every retried dose is now stored
        assert all(row["count"] == 1 for row in after.values())  # and none twice
        assert {k: after[k] for k in stored} == stored  # what was stored was left alone
        audit = target.probe("consistency", "crash-")
        assert audit["doses"] == len(sent)
        assert audit["doses_without_exactly_one_event"] == []
        assert audit["events_without_dose"] == 0
    print(
        f"{len(sent)} submitted, {len(acked)} acknowledged before the kill "
        f"({in_flight} in flight at the kill), "
        f"{len(stored) - len(acked)} stored but unacknowledged, "
        f"{time.monotonic() - started:.1f} s"
    )
