"""Two app servers on one PostgreSQL database act as one application: the servers keep no state.

Two real servers (``kratomwatch serve``: gunicorn with two worker processes each) run on the
test run's PostgreSQL database with the same secret key, as two hosts behind a load balancer
would. A dose written through one is read back through the other; the same request sent to
both at once is stored once; a web session, an API rate-limit count and a log-in lockout
started on one server hold on the other. docs/deployment.md relies on these tests.

The servers use the database pytest-django creates for the run (``test_<name>``), and the
tests commit what they create, so that the servers, which have connections of their own, see
it. The tests are not ``django_db(transaction=True)`` tests: those empty every table after
each test (one TRUNCATE of all tables) while the servers' background screening may be reading
several of them, and PostgreSQL then finds a deadlock and cancels one of the two. Instead the
module opens database access for its own duration (autocommit: every write is committed at
once), gives each test a clinic of its own, and empties the database once, after the servers
have stopped. On SQLite there is no shared database for two hosts, and the module is skipped.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

import kratomwatch
from kratomwatch.api.auth import create_token
from kratomwatch.clinic.audit_chain import verify_chain
from kratomwatch.clinic.models import AuditEvent, DoseEntry, PatientProfile, Product, TokenScope
from kratomwatch.synthetic.seed import seed_demo_clinic
from tests.ops.conftest import clean_env
from tests.ops.test_crash import TOKEN, NoRedirect, Phone, free_port

T = TypeVar("T")
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
pytestmark = [
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="two app servers need a shared PostgreSQL database; this run is on SQLite "
        "(set DATABASE_URL=postgres://... to run it, as .ci/run does)",
    ),
]

SECRET = "scale-out-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
KRATOMWATCH = Path(sys.executable).with_name("kratomwatch")
STARTUP_TIMEOUT = 30.0
RATE_LIMIT = 60  # API requests a minute per token, set on both servers; no test sends more


@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def database_url() -> str:
    """DATABASE_URL of the test database: the run's URL with the test database's name."""
    name = connection.settings_dict["NAME"]
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))


def start(name: str, tmp: Path, secret: str = SECRET) -> Server:
    """Start ``kratomwatch serve`` on a free port, as a host of its own would run it."""
    workdir = tmp / f"server-{name}"
    workdir.mkdir()
    log = tmp / f"server-{name}.log"
    port = free_port()
    env = clean_env(
        DATABASE_URL=database_url(),
        KRATOMWATCH_SECRET_KEY=secret,
        KRATOMWATCH_TIME_ZONE=settings.TIME_ZONE,
        KRATOMWATCH_ALLOWED_HOSTS="127.0.0.1",
        KRATOMWATCH_API_RATE_LIMIT=str(RATE_LIMIT),
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(KRATOMWATCH),
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--no-migrate",  # pytest-django migrated the test database
            ],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: gunicorn and its workers
        )
    return Server(name, f"http://127.0.0.1:{port}", proc, log)


def wait_ready(server: Server) -> None:
    """Wait until the server answers ``GET /api/health`` with 200."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{server.base}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.proc.poll() is not None:
            pytest.fail(
                f"server {server.name} exited with status {server.proc.returncode}:\n"
                f"{server.output()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"server {server.name} did not answer /api/health with 200 within "
                f"{STARTUP_TIMEOUT:.0f} s:\n{server.output()}"
            )
        time.sleep(0.2)


def stop(server: Server) -> None:
    """SIGTERM the server's process group (gunicorn stops gracefully); SIGKILL if it hangs."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGTERM)
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)


def wait_until_disconnected(timeout: float = 10) -> None:
    """Wait for the servers' database sessions to end, so that the test database can be
    dropped at the end of the run."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


@pytest.fixture(scope="module")
def servers(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Servers A and B: same database, same secret key, same settings.

    Database access is open for the whole module, outside any test transaction; the test
    database is emptied once the servers have stopped, for the tests that run after these.
    """
    tmp = tmp_path_factory.mktemp("scaleout")
    with django_db_blocker.unblock():
        pair = (start("A", tmp), start("B", tmp))
        try:
            for server in pair:
                wait_ready(server)
            yield pair
        finally:
            for server in pair:
                stop(server)
            wait_until_disconnected()
            call_command("flush", interactive=False, verbosity=0)


@dataclass
class Clinic:
    patient: PatientProfile
    product: Product
    other: PatientProfile  # a second patient of the same clinic
    password: str

    @property
    def doses_path(self) -> str:
        return f"/api/patients/{self.patient.uuid}/doses"


CLINICS = itertools.count(1)


@pytest.fixture
def clinic(servers: tuple[Server, Server]) -> Clinic:
    """A small synthetic clinic of the test's own (3 patients, 10 days of records), committed."""
    slug = f"scaleout-{next(CLINICS)}"
    summary = seed_demo_clinic(patients=3, days=10, slug=slug, screen=False)
    patients = list(
        PatientProfile.objects.filter(clinic=summary.clinic)
        .select_related("user")
        .order_by("user__username")
    )
    product = patients[0].products.filter(archived=False).order_by("pk").first()
    assert product is not None
    return Clinic(patients[0], product, patients[1], summary.password)


def api(
    server: Server,
    method: str,
    path: str,
    secret: str,
    body: dict[str, Any] | None = None,
    key: str | None = None,
) -> tuple[int, Any]:
    """One API request with a bearer token; the status and the decoded JSON answer."""
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(server.base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text


def dose(clinic: Clinic, amount: str, minutes_ago: int) -> dict[str, Any]:
    taken = (timezone.now() - timedelta(minutes=minutes_ago)).replace(microsecond=0)
    return {
        "product": str(clinic.product.uuid),
        "amount": amount,
        "unit": "g",
        "taken_at": taken.isoformat(),
    }


def doses_seen_by(server: Server, clinic: Clinic, secret: str) -> dict[str, dict[str, Any]]:
    """The patient's doses as listed by ``server``, by uuid (one page holds them all)."""
    status, page = api(server, "GET", f"{clinic.doses_path}?limit=200", secret)
    assert status == 200, page
    assert page["next"] is None
    return {item["uuid"]: item for item in page["items"]}


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call in a thread of its own, all released together; the results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout=20)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def post_at_once(
    requests: list[tuple[Server, dict[str, Any], str]], path: str, secret: str
) -> list[tuple[int, Any]]:
    """Send every (server, body, key) POST at the same moment."""
    return at_once(
        [partial(api, server, "POST", path, secret, body, key) for server, body, key in requests]
    )


def write_token(clinic: Clinic) -> str:
    return create_token(clinic.patient.user, "scale-out test", scope=TokenScope.WRITE).secret


@pytest.mark.django_db  # this mark also has pytest-django create the test database when the
# module runs on its own: it creates one only for runs with a test that asks for the database.
def test_the_servers_are_given_the_test_database() -> None:
    name = connection.settings_dict["NAME"]
    assert name.startswith("test_")
    assert urlsplit(database_url()).path == f"/{name}"


def test_a_dose_written_through_one_server_is_read_through_the_other(
    servers: tuple[Server, Server], clinic: Clinic
) -> None:
    a, b = servers
    secret = write_token(clinic)
    before = set(doses_seen_by(b, clinic, secret))
    assert before == set(doses_seen_by(a, clinic, secret))
    assert before  # the seeded history

    body_a = dose(clinic, "2.5", minutes_ago=90)
    status, via_a = api(a, "POST", clinic.doses_path, secret, body_a, key="written-on-a")
    assert status == 201, via_a
    seen_by_b = doses_seen_by(b, clinic, secret)
    assert seen_by_b[via_a["uuid"]] == via_a

    status, via_b = api(
        b, "POST", clinic.doses_path, secret, dose(clinic, "1.5", 30), key="written-on-b"
    )
    assert status == 201, via_b
    seen_by_a = doses_seen_by(a, clinic, secret)
    assert seen_by_a[via_b["uuid"]] == via_b
    assert set(seen_by_a) - before == {via_a["uuid"], via_b["uuid"]}
    assert seen_by_a == doses_seen_by(b, clinic, secret)

    # A retry of A's request that reaches B is answered with the dose A stored.
    status, retried = api(b, "POST", clinic.doses_path, secret, body_a, key="written-on-a")
    assert (status, retried) == (200, via_a)
    stored = DoseEntry.objects.filter(
        patient=clinic.patient, idempotency_key__in=["api:written-on-a", "api:written-on-b"]
    )
    assert sorted(str(u) for u in stored.values_list("uuid", flat=True)) == sorted(
        [via_a["uuid"], via_b["uuid"]]
    )


def test_the_same_request_sent_to_both_servers_at_once_is_stored_once(
    servers: tuple[Server, Server], clinic: Clinic
) -> None:
    secret = write_token(clinic)
    body = dose(clinic, "2", minutes_ago=45)
    answers = post_at_once(
        [(servers[i % 2], body, "one-key") for i in range(20)], clinic.doses_path, secret
    )
    statuses = sorted(status for status, _ in answers)
    assert set(statuses) <= {200, 201}, answers
    assert statuses.count(201) == 1, statuses
    uuids = {answer["uuid"] for _, answer in answers}
    assert len(uuids) == 1, uuids
    stored = DoseEntry.objects.get(patient=clinic.patient, idempotency_key="api:one-key")
    assert {str(stored.uuid)} == uuids
    assert AuditEvent.objects.filter(action="dose.create", object_uuid=stored.uuid).count() == 1


def test_concurrent_requests_with_different_keys_store_one_dose_per_key(
    servers: tuple[Server, Server], clinic: Clinic
) -> None:
    secret = write_token(clinic)
    keys = [f"key-{n}" for n in range(5)]
    bodies = {key: dose(clinic, f"{1 + n / 2:.1f}", 60 + n) for n, key in enumerate(keys)}
    # Each key four times, alternately to A and B, all 20 requests at once.
    requests = [(servers[i % 2], bodies[key], key) for i, key in enumerate(keys * 4)]
    answers = post_at_once(requests, clinic.doses_path, secret)

    by_key: dict[str, list[tuple[int, Any]]] = {}
    for (_, _, key), answer in zip(requests, answers, strict=True):
        by_key.setdefault(key, []).append(answer)
    for key, got in by_key.items():
        assert sorted(status for status, _ in got) == [200, 200, 200, 201], (key, got)
        assert len({answer["uuid"] for _, answer in got}) == 1, (key, got)
    doses = DoseEntry.objects.filter(patient=clinic.patient, idempotency_key__startswith="api:key-")
    assert sorted(doses.values_list("idempotency_key", flat=True)) == ["api:" + k for k in keys]
    assert {str(u) for u in doses.values_list("uuid", flat=True)} == {
        got[0][1]["uuid"] for got in by_key.values()
    }
    for entry in doses:
        assert entry.amount == Decimal(bodies[entry.idempotency_key.removeprefix("api:")]["amount"])
    events = AuditEvent.objects.filter(
        action="dose.create", object_uuid__in=doses.values_list("uuid", flat=True)
    )
    assert events.count() == len(keys)
    report = verify_chain()  # appends from both servers form one unbroken chain
    assert report.ok, report.problem


def test_a_web_session_started_on_one_server_works_on_the_other(
    servers: tuple[Server, Server], clinic: Clinic
) -> None:
    a, b = servers
    phone = Phone(clinic.patient.user.username, clinic.password)
    phone.login(a.base)  # the password is checked and the session created by A
    session = next(cookie.value for cookie in phone.jar if cookie.name == "sessionid")

    phone.base = b.base
    status, page = phone.request("/me/")
    assert status == 200
    assert f"Hello, {html.escape(clinic.patient.display_name)}" in page

    # B takes a dose from the form of its own page, for the session A created.
    token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    taken = timezone.localtime() - timedelta(minutes=20)
    status, location = phone.request(
        "/me/",
        {
            "csrfmiddlewaretoken": token,
            "product": str(clinic.product.uuid),
            "amount": "2",
            "unit": "g",
            "taken_at": taken.strftime("%Y-%m-%dT%H:%M"),
            "preparation": "",
            "idempotency_key": "web-on-b",
        },
    )
    assert status == 302 and location.endswith("/me/"), (status, location)
    assert DoseEntry.objects.filter(patient=clinic.patient, idempotency_key="web-on-b").count() == 1

    # The session is a row in the database, not something a server or the cookie holds:
    # the same cookie works on A, and once B logs the session out, A refuses it too.
    assert get_with_cookie(a, "/me/", session)[0] == 200
    status, _ = phone.request("/logout/", {"csrfmiddlewaretoken": token})
    assert status == 302
    status, location = get_with_cookie(a, "/me/", session)
    assert status == 302 and location.startswith("/login/"), (status, location)


def get_with_cookie(server: Server, path: str, session: str) -> tuple[int, str]:
    """GET with only this session cookie; the status and the page (or the redirect target)."""
    opener = urllib.request.build_opener(NoRedirect())
    request = urllib.request.Request(server.base + path, headers={"Cookie": f"sessionid={session}"})
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def test_a_server_with_another_secret_key_does_not_accept_the_session(
    servers: tuple[Server, Server], clinic: Clinic, tmp_path: Path
) -> None:
    """Why every host needs the same KRATOMWATCH_SECRET_KEY: session data are signed with it."""
    a, _ = servers
    phone = Phone(clinic.patient.user.username, clinic.password)
    phone.login(a.base)
    session = next(cookie.value for cookie in phone.jar if cookie.name == "sessionid")
    other = start("C", tmp_path, secret="another-secret-key-" + "x" * 40)
    try:
        wait_ready(other)
        status, location = get_with_cookie(other, "/me/", session)
    finally:
        stop(other)
    assert status == 302 and location.startswith("/login/"), (status, location)
    assert get_with_cookie(a, "/me/", session)[0] == 200  # A still accepts it


def test_the_api_rate_limit_counts_requests_to_both_servers_together(
    servers: tuple[Server, Server], clinic: Clinic
) -> None:
    limit = RATE_LIMIT
    path = f"{clinic.doses_path}?limit=1"
    for attempt in range(3):
        secret = create_token(clinic.patient.user, f"rate limit {attempt}").secret
        minute = int(time.time() // 60)
        # The whole allowance of a minute at once, half to each server, from a fresh count.
        answers = at_once([partial(api, servers[i % 2], "GET", path, secret) for i in range(limit)])
        over = [api(server, "GET", path, secret) for server in servers]
        if int(time.time() // 60) != minute:
            continue  # a new minute started the count again meanwhile: try again
        assert [status for status, _ in answers] == [200] * limit, answers
        assert [status for status, _ in over] == [429, 429], over
        assert all("requests a minute" in problem["detail"] for _, problem in over), over
        return
    pytest.fail("every attempt straddled the start of a minute")


def test_failed_logins_on_both_servers_add_up_to_one_lockout(
    servers: tuple[Server, Server], clinic: Clinic
) -> None:
    a, b = servers
    username = clinic.other.user.username
    phone = Phone(username, clinic.password)

    def log_in(server: Server, password: str) -> int:
        phone.base = server.base
        status, page = phone.request("/login/")
        assert status == 200
        status, _ = phone.request(
            "/login/",
            {
                "csrfmiddlewaretoken": TOKEN.search(page).group(1),  # type: ignore[union-attr]
                "username": username,
                "password": password,
            },
        )
        return status

    # Five wrong passwords in all, but neither server sees five.
    wrong = [log_in(server, "not the password") for server in (a, b, a, b)]
    assert wrong == [200] * 4  # the form again, with an error
    log_in(a, "not the password")
    # The right password is now refused on both (429: the lockout page).
    assert log_in(b, clinic.password) == 429
    assert log_in(a, clinic.password) == 429
    for server in servers:
        phone.base = server.base
        assert phone.request("/me/")[0] == 302  # not logged in


def test_both_servers_serve_the_static_files_from_the_installed_package(
    servers: tuple[Server, Server],
) -> None:
    source = Path(kratomwatch.__file__).parent / "clinic" / "static" / "kratomwatch" / "site.css"
    for server in servers:
        url = f"{server.base}/static/kratomwatch/site.css"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert response.read() == source.read_bytes()


def test_doses_sent_through_the_api_are_screened_by_the_servers(
    servers: tuple[Server, Server], clinic: Clinic
) -> None:
    """The API only queues screening; the servers' screening threads then do it, once."""
    a, b = servers
    secret = write_token(clinic)
    started = timezone.now()
    answers = post_at_once(
        # 4 g at once is above the first patient's plan (at most 3 g a dose).
        [(server, dose(clinic, "4", 60 + i), f"queued-{i}") for i, server in enumerate([a, b, a])],
        clinic.doses_path,
        secret,
    )
    assert [status for status, _ in answers] == [201, 201, 201], answers
    profile = PatientProfile.objects.filter(pk=clinic.patient.pk)
    deadline = time.monotonic() + 30
    while profile.values_list("screening_due_at", flat=True).get() is not None:
        assert time.monotonic() < deadline, "the servers did not screen the queued patient"
        time.sleep(0.2)
    # Screened after the doses arrived: the plan was exceeded, and every finding still present
    # was seen again.
    findings = clinic.patient.findings.filter(active=True)
    assert findings.filter(code="plan.single_dose_exceeded").exists()
    assert all(f.last_seen >= started for f in findings)
