"""KratomWatch's benchmark suite: one command, a table of medians and p95, figures as JSON.

Usage:
    python bench/run.py --quick --json OUT.json     # one size, a few minutes
    python bench/run.py --json OUT.json             # three sizes: the figures in the docs

For each size, a fresh database is filled by ``kratomwatch synth`` (SQLite in a temporary
directory, or a new PostgreSQL database next to the one DATABASE_URL names), then:

* server time of single requests, through Django's test client (the whole request stack:
  middleware, view, templates, database, screening on commit): the patient's check-in
  submit, the dose API POST, the clinician's panel (500 patients) and patient page, the visit
  report PDF; and of safety screening and the personal dose-response analysis of one patient;
* cohort statistics over the whole clinic;
* throughput under load: ``kratomwatch serve`` (gunicorn, --workers N) on 127.0.0.1, loaded
  by wrk (Debian package ``wrk``) from a separate process: a trivial authenticated JSON
  endpoint (GET /api/me) and the dose API (POST, a new Idempotency-Key each time), in the same
  run with the same server and workers, in turns (the trivial endpoint first and last); their
  ratio is kept as a figure, without a target; then how long the screening queue takes to
  drain after a dose load (the longest of the turns);
* capacity: the same server loaded by locust (bench/peak.py) with a clinic's peak-hour mix of
  patients' pages, check-ins, app doses and clinicians' pages, in steps of more and more
  concurrent users; the highest throughput of a step whose p95 stays under 300 ms, over the
  CPU the server's processes and the database's used meanwhile (read from /proc), gives the
  patients one CPU core serves at peak (see CAPACITY below and docs/performance.md);
  then the workers' resident memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkin import checkin_form  # noqa: E402
from report import MEASURES  # noqa: E402

QUICK_SIZES = [(500, 365)]
FULL_SIZES = [(1000, 90), (1000, 365), (5000, 365)]

#: The request model of the capacity figure (bench/peak.py has the day's requests): a patient
#: makes 15 requests a day, one clinician per 100 patients 70 (0.7 per patient), and the peak
#: hour carries 15% of a day's requests.
REQUESTS_PER_PATIENT_DAY = 15 + 70 / 100
PEAK_HOUR_SHARE = 0.15
#: A step of the capacity search counts if its p95 over all requests stays under this.
P95_LIMIT_MS = 300.0
QUICK_PEAK_USERS = [1, 2, 4, 8, 16]
FULL_PEAK_USERS = [1, 2, 4, 8, 16, 32]
SECRET = "bench-only-" + "x" * 40  # noqa: S105 - a throwaway key for a throwaway database


# --------------------------------------------------------------------------------------
# The parent: one child process per size, then the table.
# --------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one size, fewer runs (minutes)")
    parser.add_argument("--json", metavar="OUT.json", help="write the figures here")
    parser.add_argument(
        "--size",
        action="append",
        metavar="PATIENTSxDAYS",
        help="size(s) to run instead of the defaults, e.g. --size 2000x365",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    parser.add_argument("--duration", type=int, help="seconds of each load test")
    parser.add_argument("--runs", type=int, help="timed requests per measurement")
    parser.add_argument(
        "--peak-users",
        metavar="N,N,...",
        help="locust users of the capacity steps (default 1,2,4,8,16 quick; ...,32 full)",
    )
    parser.add_argument("--peak-seconds", type=int, help="measured seconds of each step")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    if shutil.which("locust", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}") is None:
        print(
            "bench/run.py: the capacity test needs locust: install the development extra "
            "(pip install -e '.[dev]') or 'pip install locust'.",
            file=sys.stderr,
        )
        return 2
    if shutil.which("wrk") is None:
        print(
            "bench/run.py: the load test needs wrk: install it with "
            "'sudo apt-get install wrk' (Debian/Ubuntu).",
            file=sys.stderr,
        )
        return 2
    sizes = [_size(s) for s in args.size] if args.size else (
        QUICK_SIZES if args.quick else FULL_SIZES
    )  # fmt: skip
    options = {
        "workers": args.workers,
        "threads": args.threads,
        "duration": args.duration or (8 if args.quick else 30),
        "runs": args.runs or (20 if args.quick else 60),
        "peak_users": [int(n) for n in args.peak_users.split(",")] if args.peak_users else (
            QUICK_PEAK_USERS if args.quick else FULL_PEAK_USERS
        ),
        "peak_seconds": args.peak_seconds or (8 if args.quick else 20),
        "peak_warmup_seconds": 1 if (args.peak_seconds or 8) < 5 else 2 if args.quick else 3,
    }  # fmt: skip
    started = time.perf_counter()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()[1]
    results = []
    for patients, days in sizes:
        results.append(run_size(patients, days, options))
    figures = {
        "machine": machine(),
        "database": results[0]["database"],
        "mode": "quick" if args.quick else "full",
        "date": date,
        # The machine's 5-minute load average as the run began and ended: other programs
        # running at the same time slow the measurements down.
        "load_average": [round(load_before, 1), round(os.getloadavg()[1], 1)],
        "options": options,
        "sizes": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print_table(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


def _size(text: str) -> tuple[int, int]:
    patients, _, days = text.lower().partition("x")
    return int(patients), int(days)


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def run_size(patients: int, days: int, options: dict[str, Any]) -> dict[str, Any]:
    """Run one size in a child process with its own fresh database."""
    env = dict(os.environ, KRATOMWATCH_SECRET_KEY=SECRET, KRATOMWATCH_API_RATE_LIMIT="100000000")
    base = os.environ.get("DATABASE_URL", "")
    tmp = Path(tempfile.mkdtemp(prefix="kw-bench-"))
    dropper = None
    if base.startswith("postgres"):
        name = f"kw_bench_{patients}x{days}_{os.getpid()}"
        env["DATABASE_URL"] = _pg_create(base, name)
        dropper = (base, name)
    else:
        env.pop("DATABASE_URL", None)
        env["KRATOMWATCH_DATA_DIR"] = str(tmp)
    out = tmp / "figures.json"
    spec = {"patients": patients, "days": days, "out": str(out), **options}
    print(f"== {patients} patients x {days} days", flush=True)
    try:
        subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env, check=True)
        return dict(json.loads(out.read_text()))
    finally:
        if dropper:
            _pg_drop(*dropper)
        shutil.rmtree(tmp, ignore_errors=True)


def _pg_create(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def _pg_drop(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def print_table(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    m = figures["machine"]
    console.print(
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}; "
        f"database: {figures['database']}"
    )
    for size in figures["sizes"]:
        title = f"{size['patients']} patients x {size['days']} days "
        title += f"(synth {size['synth_seconds']} s, {size['rows_total']:,} rows)"
        table = Table(title=title)
        for column in ("measure", "median ms", "p95 ms", "runs"):
            table.add_column(column, justify="left" if column == "measure" else "right")
        for label, key in MEASURES:
            t = size["latency"].get(key)
            if t:
                table.add_row(label, f"{t['median_ms']:.1f}", f"{t['p95_ms']:.1f}", str(t["runs"]))
        console.print(table)
        load = size["load"]
        title = f"Under load: gunicorn, {load['workers']} workers x {load['threads']} threads, wrk "
        title += f"{load['connections']} connections, {load['duration_s']} s each"
        table = Table(title=title)
        for column in ("endpoint", "requests/s", "p50 ms", "p99 ms", "errors"):
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        for key, label in (("me", "GET /api/me (trivial)"), ("dose", "POST dose API")):
            r = load[key]
            table.add_row(
                label, f"{r['rps']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                str(r["errors"]),
            )  # fmt: skip
        console.print(table)
        cpu = {key: load[key].get("cpu_ms_per_request") for key in ("me", "dose")}
        if cpu["me"] and cpu["dose"]:
            console.print(
                "CPU per request, ms (server + database + wrk): "
                + "; ".join(
                    f"{key} {c['server']:.2f} + {c['database']:.2f} + {c['wrk']:.2f}"
                    for key, c in cpu.items()
                )
            )
        console.print(
            f"dose/trivial throughput (a figure, no target): {load['ratio']:.1%}; "
            f"worker memory peak {load['worker_peak_rss_mb']:.0f} MB "
            f"(now {load['worker_rss_mb']:.0f} MB); "
            f"screening queue drained {load['queue_drain_s']:.1f} s after the dose load "
            f"({load['queue_after_load']} patients were waiting)"
        )
        print_capacity(console, size["capacity"], size["latency"]["visit_report_pdf"])


def print_capacity(console: Any, capacity: dict[str, Any], pdf: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(
        title=f"Capacity: peak-hour mix (locust), {capacity['seconds']} s measured per step, "
        f"p95 limit {P95_LIMIT_MS:.0f} ms"
    )
    columns = ("users", "requests/s", "p50 ms", "p95 ms", "errors", "cores: server + db",
               "load generator", "patients per core")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for step in capacity["steps"]:
        cores = step["cores"]
        table.add_row(
            str(step["users"]), f"{step['rps']:.1f}", f"{step['p50_ms']:.0f}",
            f"{step['p95_ms']:.0f}", str(step["errors"]),
            f"{cores['server']:.2f} + {cores['database']:.2f}", f"{cores['generator']:.2f}",
            f"{step['patients_per_core']:,.0f}",
        )  # fmt: skip
    console.print(table)
    best = capacity["best"]
    if best is None:
        console.print("Capacity: no step kept p95 under the limit", style="bold red")
    else:
        console.print(
            f"Capacity: {best['rps']:.1f} requests/s at p95 {best['p95_ms']:.0f} ms "
            f"({best['users']} users) = {best['patients']:,.0f} patients at peak on "
            f"{best['cores']['server'] + best['cores']['database']:.2f} cores: "
            f"patients per core {best['patients_per_core']:,.0f} (target 50,000); "
            f"load generator {best['cores']['generator']:.2f} cores"
        )
    console.print(
        f"Visit report PDF (single requests): p95 {pdf['p95_ms']:.0f} ms (target 300 ms), "
        f"median {pdf['median_ms']:.0f} ms, {pdf['runs']} runs"
    )


# --------------------------------------------------------------------------------------
# The child: one size, one database.
# --------------------------------------------------------------------------------------
def child(spec: dict[str, Any]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratomwatch.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.urls import get_resolver

    call_command("migrate", verbosity=0)
    from kratomwatch.synthetic.synth import synthesize

    started = time.perf_counter()
    summary = synthesize(patients=spec["patients"], days=spec["days"], seed=1, slug="bench")
    synth_s = time.perf_counter() - started
    print(f"   synth: {synth_s:.1f} s, {sum(summary.rows.values()):,} rows", flush=True)
    settle_s = settle()
    print(f"   database settled after the bulk load: {settle_s:.1f} s", flush=True)
    # As a server worker does after loading the app (gunicorn_conf.py): what is in memory now
    # is left out of the collector's full passes, so they time the requests, not the set-up.
    get_resolver().url_patterns  # noqa: B018
    gc.collect()
    gc.freeze()
    fixtures = Fixtures(summary.clinic)
    latency = measure_latency(fixtures, spec["runs"])
    print("   single requests timed", flush=True)
    load = measure_load(fixtures, spec)
    capacity = load.pop("capacity")
    figures = {
        "patients": spec["patients"],
        "days": spec["days"],
        "database": connection.vendor,
        "synth_seconds": round(synth_s, 1),
        "settle_seconds": round(settle_s, 1),
        "rows": summary.rows,
        "rows_total": sum(summary.rows.values()),
        "latency": latency,
        "load": load,
        "capacity": capacity,
    }
    Path(spec["out"]).write_text(json.dumps(figures))
    return 0


def settle() -> float:
    """Finish what the bulk load leaves the database to do, so that it is not done during the
    measurements: on PostgreSQL, VACUUM (the visibility map and hint bits of millions of new
    rows, which autovacuum would otherwise work through during the load tests) and a
    CHECKPOINT (writing out the load's pages; skipped without the privilege); on SQLite, a
    checkpoint that moves the write-ahead log into the database file. Returns the seconds
    it took."""
    from django.db import DatabaseError, connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM (ANALYZE)")
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError:  # needs superuser or pg_checkpoint
                pass
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


class Fixtures:
    """Accounts, tokens and ids the measurements use."""

    def __init__(self, clinic: Any) -> None:
        from kratomwatch.api.auth import create_token
        from kratomwatch.clinic.models import PatientProfile, TokenScope, User

        self.clinic = clinic
        self.clinician = User.objects.get(username="bench-dr01")
        leaf = (
            PatientProfile.objects.filter(
                clinic=clinic, products__form__in=["leaf_powder", "crushed_leaf"]
            )
            .select_related("user")
            .order_by("pk")
            .distinct()[:50]
        )
        self.patients = []
        for patient in leaf:
            product = patient.products.get()
            secret = create_token(patient.user, "bench", scope=TokenScope.WRITE).secret
            self.patients.append((patient, product, secret))
        self.clinician_patients = list(
            self.clinician.care_patients.order_by("pk").values_list("uuid", flat=True)[:20]
        )
        self.me_token = self.patients[0][2]


def _timed(fn: Any, runs: int) -> dict[str, Any]:
    fn(0)  # warm up
    times = []
    for i in range(1, runs + 1):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return summary_ms(times)


def summary_ms(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "runs": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(ordered[-1], 2),
    }


def measure_latency(fx: Fixtures, runs: int) -> dict[str, Any]:
    import uuid
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from kratomwatch.clinic.actions.screening import do_screen_patient
    from kratomwatch.clinic.analysis_app import dose_response
    from kratomwatch.clinic.cohort import cohort_statistics

    clinician = Client(HTTP_HOST="localhost")
    clinician.force_login(fx.clinician)
    patients = []
    for patient, product, secret in fx.patients:
        client = Client(HTTP_HOST="localhost")
        client.force_login(patient.user)
        patients.append((patient, product, secret, client))
    now = timezone.now()

    def checkin(i: int) -> None:
        _, product, _, client = patients[i % len(patients)]
        response = client.post("/me/checkin/", checkin_form(str(product.uuid), "2", "g"))
        assert response.status_code == 302, response.content[:300]

    def dose_api(i: int) -> None:
        patient, product, secret, client = patients[i % len(patients)]
        body = {
            "product": str(product.uuid),
            "amount": "2",
            "unit": "g",
            "taken_at": (now - timedelta(hours=30, seconds=i)).isoformat(),
        }
        response = client.post(
            f"/api/patients/{patient.uuid}/doses",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": uuid.uuid4().hex},
        )
        assert response.status_code == 201, response.content[:300]

    def get(path: str) -> Any:
        def fetch(i: int) -> None:
            response = clinician.get(
                path.format(fx.clinician_patients[i % len(fx.clinician_patients)])
            )
            assert response.status_code == 200, path

        return fetch

    def screening(i: int) -> None:
        do_screen_patient(patients[i % len(patients)][0].pk)

    def analysis(i: int) -> None:
        dose_response(patients[i % len(patients)][0])

    def cohort(i: int) -> None:
        cohort_statistics(fx.clinic)

    return {
        "checkin_submit": _timed(checkin, runs),
        "dose_api_post": _timed(dose_api, runs),
        "panel_page": _timed(get("/patients/"), runs),
        "patient_page": _timed(get("/patients/{}/"), runs),
        "visit_report_pdf": _timed(get("/patients/{}/report.pdf"), max(5, min(runs, 20))),
        "screening": _timed(screening, runs),
        "analysis": _timed(analysis, runs),
        "cohort_statistics": _timed(cohort, 5),
    }


#: How many times the dose API is loaded in a load test, between loads of the trivial endpoint
DOSE_BLOCKS = 2

WRK_SCRIPT = """
local targets = {%s}
local counter = 0
local thread_id = 0
local threads = {}
setup = function(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
init = function(args)
  thread_id = id
end
request = function()
  counter = counter + 1
  local t = targets[(counter %% #targets) + 1]
  local body = '{"product": "' .. t[3] .. '", "amount": "2", "unit": "g", "taken_at": "%s"}'
  return wrk.format("POST", "/api/patients/" .. t[1] .. "/doses", {
    ["Authorization"] = "Bearer " .. t[2],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "wrk-%s-" .. thread_id .. "-" .. counter,
  }, body)
end
"""


def measure_load(fx: Fixtures, spec: dict[str, Any]) -> dict[str, Any]:
    from datetime import timedelta

    from django.db import close_old_connections
    from django.utils import timezone

    from kratomwatch.clinic.screening_queue import backlog, screen_due

    workers, threads, duration = spec["workers"], spec["threads"], spec["duration"]
    connections = max(4, 4 * workers)
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "kratomwatch"), "serve", "--no-migrate",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, server)
        # Warm up every worker (imports, caches, database connections) before measuring.
        _wrk(base + "/api/me", 2, connections, headers={"Authorization": f"Bearer {fx.me_token}"})

        def trivial(seconds: int) -> dict[str, Any]:
            return _measured(server.pid, lambda: _wrk(
                base + "/api/me", seconds, connections,
                headers={"Authorization": f"Bearer {fx.me_token}"}))  # fmt: skip

        # The endpoints alternate, the trivial one first and last (me, dose, me, dose, me),
        # so that a machine getting faster or slower during the run affects both alike.
        dose_seconds = max(1, duration // DOSE_BLOCKS)
        me_seconds = max(1, round(duration / (DOSE_BLOCKS + 1)))
        me_parts = [trivial(me_seconds)]
        targets = ", ".join(
            f'{{"{p.uuid}", "{secret}", "{product.uuid}"}}' for p, product, secret in fx.patients
        )
        taken = (timezone.now() - timedelta(hours=30)).isoformat()
        folder = Path(tempfile.mkdtemp(prefix="kw-wrk-"))
        scripts = []
        for run in ["warm", *range(DOSE_BLOCKS)]:  # every request a new key: no replayed answers
            scripts.append(folder / f"dose-{run}.lua")
            scripts[-1].write_text(WRK_SCRIPT % (targets, taken, f"{os.getpid()}-{run}"))
        _wrk(base + "/", 2, connections, script=scripts[0])
        dose_parts, waiting, drain_s = [], 0, 0.0
        for script in scripts[1:]:
            close_old_connections()
            screen_due()  # start each dose load with an empty queue
            dose_parts.append(_measured(server.pid, lambda script=script: _wrk(
                base + "/", dose_seconds, connections, script=script)))  # fmt: skip
            close_old_connections()
            left, _ = backlog()
            started = time.perf_counter()
            while backlog()[0]:  # the servers' screening threads drain the queue
                if time.perf_counter() - started > 300:
                    break
                time.sleep(0.2)
            drained = time.perf_counter() - started
            if drained >= drain_s:  # the longest drain, and the queue it drained
                waiting, drain_s = left, drained
            screen_due()  # whatever is left (should be nothing)
            me_parts.append(trivial(me_seconds))
        me, dose = _together(me_parts), _together(dose_parts)
        shutil.rmtree(folder, ignore_errors=True)
        close_old_connections()
        capacity = measure_capacity(fx, base, server.pid, spec)
        rss, peak = _worker_memory(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    return {
        "workers": workers,
        "threads": threads,
        "connections": connections,
        "duration_s": duration,
        "me": me,
        "me_parts_rps": [part["rps"] for part in me_parts],
        "dose": dose,
        "dose_parts_rps": [part["rps"] for part in dose_parts],
        "ratio": round(dose["rps"] / me["rps"], 3) if me["rps"] else 0.0,
        "worker_rss_mb": rss,
        "worker_peak_rss_mb": peak,
        "queue_after_load": waiting,
        "queue_drain_s": round(drain_s, 1),
        "capacity": capacity,
    }


class CpuWatch:
    """Reads /proc every 0.2 s while it runs, and keeps a history of the CPU seconds used so
    far by the server's processes, the database's and the load generator's. A process that
    ends keeps its last reading; one that starts counts whole."""

    def __init__(self, master: int, database: str | None, generator: int) -> None:
        self.args = (master, database, generator)
        self.last: dict[tuple[int, str], float] = {}
        self.history: list[tuple[float, dict[str, float]]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _read(self) -> None:
        self.last.update(_cpu_seconds(*self.args))
        totals = {"server": 0.0, "database": 0.0, "generator": 0.0}
        for (_, kind), seconds in self.last.items():
            totals[kind] += seconds
        self.history.append((time.time(), totals))

    def _poll(self) -> None:
        self._read()
        while not self.done.wait(0.2):
            self._read()

    def __enter__(self) -> CpuWatch:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()
        self._read()

    def at(self, when: float) -> dict[str, float]:
        """The totals of the last reading at or before ``when``."""
        found = self.history[0][1]
        for at, totals in self.history:
            if at > when:
                break
            found = totals
        return found


def measure_capacity(fx: Fixtures, base: str, master: int, spec: dict[str, Any]) -> dict[str, Any]:
    """Load the server with bench/peak.py's peak-hour mix in steps of more locust users (each
    a stream of requests without pauses), ``spec["peak_seconds"]`` measured after a warm-up
    each, until a step's p95 reaches P95_LIMIT_MS or has errors; the capacity is the step
    with the highest throughput among those under the limit without errors. Each step's
    figures are over its measured seconds: requests that ended in them, and the CPU used
    in them by the server's processes, the database's and locust's, from /proc."""
    import secrets

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from kratomwatch.clinic.models import Finding, FindingStatus

    def session(user: Any) -> str:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        return str(client.cookies[settings.SESSION_COOKIE_NAME].value)

    care = list(fx.clinician.care_patients.order_by("pk").values_list("uuid", flat=True)[:100])
    findings = Finding.objects.filter(
        patient__uuid__in=care, status=FindingStatus.OPEN
    ).values_list("patient__uuid", "uuid")
    folder = Path(tempfile.mkdtemp(prefix="kw-peak-"))
    peak = {
        "patients": [
            {"uuid": str(p.uuid), "session": session(p.user), "token": secret,
             "product": str(product.uuid)}
            for p, product, secret in fx.patients
        ],
        "clinician": {"session": session(fx.clinician), "patients": [str(u) for u in care]},
        "findings": [[str(p), str(f)] for p, f in findings],
        "csrf": secrets.token_hex(16),
        "time_zone": settings.TIME_ZONE,
        "timings": str(folder / "timings.json"),
    }  # fmt: skip
    (folder / "peak.json").write_text(json.dumps(peak))
    database = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else None
    locust = str(Path(sys.executable).parent / "locust")
    warm, seconds = spec["peak_warmup_seconds"], spec["peak_seconds"]
    steps: list[dict[str, Any]] = []
    try:
        for users in spec["peak_users"]:
            Path(peak["timings"]).unlink(missing_ok=True)
            command = [locust, "-f", str(Path(__file__).with_name("peak.py")), "--headless",
                       "--host", base, "-u", str(users), "-r", str(users),
                       "-t", f"{warm + seconds + 1}s", "--only-summary", "--loglevel", "ERROR",
                       "--skip-log-setup", "--exit-code-on-error", "0"]  # fmt: skip
            env = dict(os.environ, KRATOMWATCH_PEAK=str(folder / "peak.json"))
            generator = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            with CpuWatch(master, database, generator.pid) as watch:
                _, errors = generator.communicate(timeout=warm + seconds + 120)
            if generator.returncode or not Path(peak["timings"]).exists():
                raise RuntimeError(f"locust failed: {errors.decode()[-3000:]}")
            timings = json.loads(Path(peak["timings"]).read_text())
            steps.append(_step(users, timings, watch, warm, seconds))
            step = steps[-1]
            print(
                f"   capacity step: {users} users, {step['rps']:.1f} requests/s, p95 "
                f"{step['p95_ms']:.0f} ms, {step['errors']} errors, patients per core "
                f"{step['patients_per_core']:,.0f}",
                flush=True,
            )
            if step["p95_ms"] >= P95_LIMIT_MS or step["errors"]:
                break
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    kept = [s for s in steps if s["p95_ms"] < P95_LIMIT_MS and not s["errors"]]
    best = max(kept, key=lambda s: s["rps"]) if kept else None
    return {
        "p95_limit_ms": P95_LIMIT_MS,
        "requests_per_patient_day": REQUESTS_PER_PATIENT_DAY,
        "peak_hour_share": PEAK_HOUR_SHARE,
        "seconds": seconds,
        "warmup_seconds": warm,
        "steps": [{k: v for k, v in s.items() if k != "by_request"} for s in steps],
        "best": best,
        "patients_per_core": best["patients_per_core"] if best else 0,
    }


def _step(
    users: int, timings: list[list[Any]], watch: CpuWatch, warm: int, seconds: int
) -> dict[str, Any]:
    """One capacity step's figures, over ``seconds`` from ``warm`` seconds after its first
    request ended (or over what there is, if the step was shorter)."""
    first = min(t[0] for t in timings)
    start = first + warm
    end = min(start + seconds, max(t[0] for t in timings))
    window = [t for t in timings if start <= t[0] <= end]
    wall = end - start
    if not window or wall <= 0:
        raise RuntimeError(f"no request ended in the measured seconds of the step of {users}")
    before, after = watch.at(start), watch.at(end)
    cores = {kind: round((after[kind] - before[kind]) / wall, 3) for kind in after}
    ms = [t[2] for t in window]
    rps = len(window) / wall
    patients = rps * 3600 / (REQUESTS_PER_PATIENT_DAY * PEAK_HOUR_SHARE)
    used = cores["server"] + cores["database"]
    by_request: dict[str, list[float]] = {}
    for t in window:
        by_request.setdefault(t[1], []).append(t[2])
    summary = summary_ms(ms)
    return {
        "users": users,
        "requests": len(window),
        "rps": round(rps, 2),
        "p50_ms": summary["median_ms"],
        "p95_ms": summary["p95_ms"],
        "p99_ms": round(sorted(ms)[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))], 2),
        "errors": sum(t[3] for t in window),
        "cores": cores,
        "cpu_ms_per_request": round(used * 1000 / rps, 2),
        "patients": round(patients),
        "patients_per_core": round(patients / used) if used else 0,
        "by_request": {name: summary_ms(v) for name, v in sorted(by_request.items())},
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(base: str, server: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(base + "/api/health", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not answer /api/health within 60 s")


def _wrk(url: str, duration: int, connections: int, *, headers: dict[str, str] | None = None,
         script: Path | None = None) -> dict[str, Any]:  # fmt: skip
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    return _parse_wrk(output)


def _measured(master: int, run: Any) -> dict[str, Any]:
    """Run one load test; add the CPU time it cost per request, in ms: the server's processes
    (gunicorn's master and workers, their screening threads included), PostgreSQL's processes
    (on SQLite the database works inside the server's), and wrk."""
    from django.db import connection

    pg = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else None
    before, wrk_before = _cpu_seconds(master, pg), resource.getrusage(resource.RUSAGE_CHILDREN)
    # Processes come and go during a test (database connections are replaced every minute):
    # reading /proc every 0.2 s keeps what an ended one used until its last reading.
    last = dict(before)
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.2):
            last.update(_cpu_seconds(master, pg))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        figures: dict[str, Any] = run()
    finally:
        done.set()
        poller.join()
    last.update(_cpu_seconds(master, pg))
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = {"server": 0.0, "database": 0.0}
    for (pid, kind), seconds in last.items():
        used[kind] += seconds - before.get((pid, kind), 0.0)  # a new process counts whole
    requests = figures.get("requests") or 1
    wrk = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
    figures["cpu_ms_per_request"] = {
        "server": round(used["server"] * 1000 / requests, 2),
        "database": round(used["database"] * 1000 / requests, 2),
        "wrk": round(wrk * 1000 / requests, 2),
    }
    return figures


def _together(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One endpoint's figures from loads of it at several times: requests per second over
    their whole time, CPU per request over all their requests, and each latency percentile
    as the mean of the parts' weighted by their requests (wrk reports percentiles, not the
    latencies themselves)."""
    requests = sum(part["requests"] for part in parts)
    seconds = sum(part["requests"] / part["rps"] for part in parts if part["rps"])
    together: dict[str, Any] = {
        "errors": sum(part["errors"] for part in parts),
        "requests": requests,
        "rps": round(requests / seconds, 2) if seconds else 0.0,
    }
    for key in ("p50_ms", "p99_ms"):
        together[key] = round(sum(p[key] * p["requests"] for p in parts) / (requests or 1), 2)
    together["cpu_ms_per_request"] = {
        kind: round(
            sum(p["cpu_ms_per_request"][kind] * p["requests"] for p in parts) / (requests or 1), 2
        )
        for kind in ("server", "database", "wrk")
    }
    return together


def _cpu_seconds(
    master: int, database: str | None, generator: int | None = None
) -> dict[tuple[int, str], float]:
    """CPU seconds used so far by each of the server's processes, PostgreSQL's (``database``
    names the bench's database; None on SQLite) and the load generator's, from /proc, by
    (pid, "server", "database" or "generator")."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[tuple[int, str], float] = {}
    for pid, parent, name, fields in _processes():
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if pid == master or parent == master:
            used[(pid, "server")] = seconds
        elif generator is not None and (pid == generator or parent == generator):
            used[(pid, "generator")] = seconds
        elif database and name.startswith("postgres") and _serves(pid, database):
            used[(pid, "database")] = seconds
    return used


def _serves(pid: int, database: str) -> bool:
    """Whether PostgreSQL process ``pid`` works for ``database``: its own connections and
    autovacuum workers, and the cluster's shared processes (postmaster, checkpointer, WAL
    and background writers); not the connections to other databases of the same server,
    which other programs on the machine may be using. The process title tells which."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    words = title.split()
    if database in words:
        return True
    client = "[local]" in title or any("(" in w and w.endswith(")") for w in words)
    return not client and "autovacuum worker" not in title


def _processes() -> Iterator[tuple[int, int, str, list[str]]]:
    """Every process now: its pid, its parent's pid, its name, and the rest of
    /proc/PID/stat from its state on."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        yield int(stat.parent.name), int(fields[1]), name, fields


def _parse_wrk(output: str) -> dict[str, Any]:
    def ms(text: str) -> float:
        for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor
        return float(text)

    figures: dict[str, Any] = {"errors": 0}
    for line in output.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(words[1])
        elif len(words) == 2 and words[0] in ("50%", "99%"):
            figures[f"p{words[0][:-1]}_ms"] = round(ms(words[1]), 2)
        elif "requests in" in line:
            figures["requests"] = int(words[0])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            figures["errors"] += int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            figures["errors"] += sum(int(w.rstrip(",")) for w in words[3::2])
    return figures


def _worker_memory(master: int) -> tuple[float, float]:
    """Largest resident set of the gunicorn workers now and at their peak, in MB."""
    rss, peak = 0.0, 0.0
    for pid, parent, _, _ in _processes():
        if parent != master:
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = max(rss, int(fields["VmRSS"].split()[0]) / 1024)
        peak = max(peak, int(fields["VmHWM"].split()[0]) / 1024)
    return round(rss, 1), round(peak, 1)


if __name__ == "__main__":
    sys.exit(main())
