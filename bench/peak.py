"""A clinic's peak hour, as a locust workload for bench/run.py.

bench/run.py starts ``locust -f bench/peak.py --headless`` against ``kratomwatch serve`` and
names, in the environment variable KRATOMWATCH_PEAK, a JSON file with the accounts to use
(session cookies of signed-in patients and of a clinician, API tokens, products, open
findings) and the file to write every request's timing to. It is not meant to be run alone.

The request model (docs/performance.md, "Capacity"). A patient makes 15 requests a day:

    3  home (GET /me/), morning, midday and evening
    1  the check-in form (GET /me/checkin/)
    1  the check-in with ratings and two doses (POST /me/checkin/)
    1  the page the check-in redirects to (GET /me/checkin/<id>/)
    2  trends (GET /me/trends/)
    1  personal dose-response (GET /me/trends/dose-response/)
    1  plan (GET /me/plan/)
    1  products (GET /me/products/)
    2  doses recorded by an app (POST /api/patients/<id>/doses: token, new Idempotency-Key)
    2  the app reading recent doses back (GET /api/patients/<id>/doses)

and one clinician per 100 patients makes 70: 60 pages (10 panels, 10 findings inboxes,
39 patient pages of which 10 are where an acknowledgement redirects to, 1 visit report PDF)
and 10 acknowledgements of a finding (POST), so 0.7 requests a day per patient.

Every locust user is one stream of requests drawn from that mix, per request: the patient
requests of 100 patients and the requests of their clinician, weighted by how many of each a
day has, so the mix is that of the model whatever the users' number and however slow one
kind of request is. Each task picks a patient at random; a task of several requests (the
check-in, an acknowledgement) sends them one after the other, each timed on its own.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from locust import FastHttpUser, constant, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkin import checkin_form  # noqa: E402

SPEC: dict[str, Any] = json.loads(Path(os.environ["KRATOMWATCH_PEAK"]).read_text())
PATIENTS: list[dict[str, str]] = SPEC["patients"]
CLINICIAN: dict[str, Any] = SPEC["clinician"]
FINDINGS: list[list[str]] = list(SPEC["findings"])
CSRF: str = SPEC["csrf"]
TIMINGS: list[tuple[float, str, float, int]] = []  # (ended at, name, ms, failed)

#: Requests of each kind in a day, per 100 patients (the tasks below).
PATIENT_DAY = {
    "home": 3, "checkin": 1, "trends": 2, "dose_response": 1, "plan": 1, "products": 1,
    "api_dose": 2, "api_doses_read": 2,
}  # fmt: skip
CLINICIAN_DAY = {"panel": 10, "findings": 10, "patient_page": 29, "report_pdf": 1, "ack": 10}


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, **_: Any) -> None:
    TIMINGS.append((time.time(), name, response_time, 1 if exception else 0))


@events.test_stop.add_listener
def _write(**_: Any) -> None:
    Path(SPEC["timings"]).write_text(json.dumps(TIMINGS))


def _cookie(session: str) -> dict[str, str]:
    return {"Cookie": f"sessionid={session}; csrftoken={CSRF}"}


class PeakHour(FastHttpUser):
    wait_time = constant(0)

    def _get(self, path: str, name: str, headers: dict[str, str]) -> Any:
        self.client.cookiejar.clear()  # every request carries its account's cookies itself
        with self.client.get(
            path, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")
            return response

    def _post(self, path: str, name: str, headers: dict[str, str], expect: int, **kw: Any) -> Any:
        self.client.cookiejar.clear()
        with self.client.post(
            path, name=name, headers=headers, allow_redirects=False, catch_response=True, **kw
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code} for {path}")
            return response

    # ---------------------------------------------------------------- patients (x 100)
    @task(100 * PATIENT_DAY["home"])
    def home(self) -> None:
        self._get("/me/", "patient: home", _cookie(random.choice(PATIENTS)["session"]))

    @task(100 * PATIENT_DAY["checkin"])
    def checkin(self) -> None:
        patient = random.choice(PATIENTS)
        headers = _cookie(patient["session"])
        self._get("/me/checkin/", "patient: check-in form", headers)
        form = _checkin_form(patient["product"])
        response = self._post("/me/checkin/", "patient: check-in POST (2 doses)", headers, 302,
                              data=form)  # fmt: skip
        where = response.headers.get("Location") if response.status_code == 302 else None
        if where:
            self._get(where, "patient: check-in done (redirect)", headers)

    @task(100 * PATIENT_DAY["trends"])
    def trends(self) -> None:
        self._get("/me/trends/", "patient: trends", _cookie(random.choice(PATIENTS)["session"]))

    @task(100 * PATIENT_DAY["dose_response"])
    def dose_response(self) -> None:
        self._get("/me/trends/dose-response/", "patient: dose-response",
                  _cookie(random.choice(PATIENTS)["session"]))  # fmt: skip

    @task(100 * PATIENT_DAY["plan"])
    def plan(self) -> None:
        self._get("/me/plan/", "patient: plan", _cookie(random.choice(PATIENTS)["session"]))

    @task(100 * PATIENT_DAY["products"])
    def products(self) -> None:
        self._get("/me/products/", "patient: products",
                  _cookie(random.choice(PATIENTS)["session"]))  # fmt: skip

    @task(100 * PATIENT_DAY["api_dose"])
    def api_dose(self) -> None:
        patient = random.choice(PATIENTS)
        taken = datetime.now(UTC) - timedelta(hours=30, seconds=random.randrange(3600))
        body = {"product": patient["product"], "amount": "2", "unit": "g",
                "taken_at": taken.isoformat()}  # fmt: skip
        headers = {
            "Authorization": f"Bearer {patient['token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        self._post(f"/api/patients/{patient['uuid']}/doses", "api: POST dose", headers, 201,
                   data=json.dumps(body))  # fmt: skip

    @task(100 * PATIENT_DAY["api_doses_read"])
    def api_doses_read(self) -> None:
        patient = random.choice(PATIENTS)
        self._get(f"/api/patients/{patient['uuid']}/doses", "api: GET doses",
                  {"Authorization": f"Bearer {patient['token']}"})  # fmt: skip

    # ---------------------------------------------------------------- the clinician (x 1)
    @task(CLINICIAN_DAY["panel"])
    def panel(self) -> None:
        self._get("/patients/", "clinician: panel", _cookie(CLINICIAN["session"]))

    @task(CLINICIAN_DAY["findings"])
    def findings(self) -> None:
        self._get("/findings/", "clinician: findings", _cookie(CLINICIAN["session"]))

    @task(CLINICIAN_DAY["patient_page"])
    def patient_page(self) -> None:
        self._get(f"/patients/{random.choice(CLINICIAN['patients'])}/",
                  "clinician: patient page", _cookie(CLINICIAN["session"]))  # fmt: skip

    @task(CLINICIAN_DAY["report_pdf"])
    def report_pdf(self) -> None:
        self._get(f"/patients/{random.choice(CLINICIAN['patients'])}/report.pdf",
                  "clinician: visit report PDF", _cookie(CLINICIAN["session"]))  # fmt: skip

    @task(CLINICIAN_DAY["ack"])
    def acknowledge(self) -> None:
        # Each open finding once; when none is left, the last ones again (then the view
        # answers that only an open finding can be acknowledged, and redirects the same way).
        patient, finding = FINDINGS.pop() if len(FINDINGS) > 1 else FINDINGS[0]
        headers = _cookie(CLINICIAN["session"])
        path = f"/patients/{patient}/findings/{finding}/"
        response = self._post(path, "clinician: acknowledge finding (POST)", headers, 302,
                              data={"csrfmiddlewaretoken": CSRF, "action": "acknowledge",
                                    "reason": "Seen; discussed at the visit."})  # fmt: skip
        where = response.headers.get("Location") if response.status_code == 302 else None
        if where:
            self._get(where.split("#")[0], "clinician: patient page", headers)


def _checkin_form(product: str) -> dict[str, str]:
    """The check-in bench/checkin.py submits: ratings and two doses earlier today."""
    now = datetime.now(ZoneInfo(SPEC["time_zone"]))
    return {"csrfmiddlewaretoken": CSRF, **checkin_form(product, "2", "g", now)}
