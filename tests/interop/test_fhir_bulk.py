"""FHIR Bulk Data export through HTTP: SMART Backend Services token, kick-off, worker, status,
download, cancellation, expiry, and that a client sees only its own clinic."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kratomwatch.clinic import access, bulk_queue
from kratomwatch.clinic.models import (
    AuditEvent,
    BulkAccessToken,
    BulkExportFile,
    BulkExportJob,
    Clinic,
    EhrClient,
    PatientProfile,
)
from kratomwatch.interop import fhir_bulk
from tests.ehr_keys import ClientKey, claims, new_key
from tests.nasty import NASTY

TOKEN_URL = "http://testserver/oauth/token"
ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def key() -> ClientKey:
    return new_key("ES384")


def register(clinic: Clinic, key: ClientKey, issuer: str, scopes: str = "system/*.read") -> None:
    EhrClient.objects.create(
        clinic=clinic, kind="bulk", name=issuer, issuer=issuer, jwks=key.jwks, scopes=scopes
    )


@pytest.fixture
def bulk_a(clinic: Clinic, key: ClientKey) -> str:
    register(clinic, key, "bulk-a")
    return "bulk-a"


def token_reply(
    http: Client, key: ClientKey, issuer: str, scope: str = "system/*.read", **over: Any
) -> Any:
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION,
        "client_assertion": key.sign(claims(issuer, TOKEN_URL, sub=issuer)),
        **over,
    }
    return http.post("/oauth/token", form)


def access_token(http: Client, key: ClientKey, issuer: str, scope: str = "system/*.read") -> str:
    reply = token_reply(http, key, issuer, scope)
    assert reply.status_code == 200, reply.content
    return str(reply.json()["access_token"])


def kickoff(http: Client, token: str, path: str = "/fhir/$export", **params: Any) -> Any:
    return http.get(
        path,
        params,
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_PREFER="respond-async",
        HTTP_ACCEPT="application/fhir+json",
    )


def get(http: Client, url: str, token: str) -> Any:
    return http.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def finished_manifest(http: Client, token: str, **params: Any) -> dict[str, Any]:
    started = kickoff(http, token, **params)
    assert started.status_code == 202, started.content
    assert bulk_queue.run_round() == 1
    status = get(http, started["Content-Location"], token)
    assert status.status_code == 200, status.content
    return dict(status.json())


def lines(http: Client, url: str, token: str) -> list[dict[str, Any]]:
    reply = get(http, url, token)
    assert reply.status_code == 200
    assert reply["Content-Type"] == "application/fhir+ndjson"
    text = b"".join(reply.streaming_content).decode()
    return [json.loads(line) for line in text.splitlines()]


def test_the_whole_flow_gives_valid_r4b_resources_of_every_patient(
    client: Client, clinic: Clinic, key: ClientKey, bulk_a: str
) -> None:
    config = client.get("/fhir/.well-known/smart-configuration").json()
    assert config["token_endpoint"].endswith("/oauth/token")
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    reply = token_reply(client, key, bulk_a)
    body = reply.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 300
    assert body["scope"] == "system/*.read"
    token = body["access_token"]
    assert not BulkAccessToken.objects.filter(token_hash=token).exists()  # only its hash

    started = kickoff(client, token)
    assert started.status_code == 202
    assert started.json()["issue"][0]["severity"] == "information"
    status_url = started["Content-Location"]
    waiting = get(client, status_url, token)
    assert waiting.status_code == 202 and waiting["X-Progress"] == "queued"
    assert int(waiting["Retry-After"]) > 0

    assert bulk_queue.run_round() == 1
    done = get(client, status_url, token)
    assert done.status_code == 200 and "Expires" in done
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("/fhir/$export") and manifest["error"] == []
    types = [o["type"] for o in manifest["output"]]
    assert {"Patient", "Observation", "QuestionnaireResponse", "Provenance"} <= set(types)
    total = 0
    patient_ids: set[str] = set()
    for entry in manifest["output"]:
        resources = lines(client, entry["url"], token)
        assert len(resources) == entry["count"]
        for resource in resources:
            assert resource["resourceType"] == entry["type"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            if resource["resourceType"] == "Patient":
                patient_ids.add(resource["id"])
        total += len(resources)
    mine = {
        str(u) for u in PatientProfile.objects.filter(clinic=clinic).values_list("uuid", flat=True)
    }
    assert patient_ids == mine and total > len(mine)
    exported = AuditEvent.objects.filter(action="fhir.export", actor=None)
    assert exported.count() == len(mine)
    assert AuditEvent.objects.filter(
        action="bulk.export.download", object_type="bulk_export"
    ).count() == len(manifest["output"])
    assert AuditEvent.objects.filter(action="bulk.token").count() == 1


def test_group_and_patient_level_kick_offs_export_the_clinic(
    client: Client, clinic: Clinic, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    for path in (f"/fhir/Group/{clinic.uuid}/$export", "/fhir/Patient/$export"):
        manifest = finished_manifest(client, token, path=path, _type="Patient")
        (patients,) = manifest["output"]
        assert patients["count"] == PatientProfile.objects.filter(clinic=clinic).count()


def test_a_kick_off_without_prefer_respond_async_is_400(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    reply = client.get("/fhir/$export", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert reply.status_code == 400
    assert reply.json()["resourceType"] == "OperationOutcome"
    assert "respond-async" in reply.json()["issue"][0]["diagnostics"]
    assert not BulkExportJob.objects.exists()


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"_type": "Patient,Encounter"}, "Encounter"),
        ({"_type": ","}, "(empty)"),
        ({"_outputFormat": "text/csv"}, "_outputFormat"),
        ({"_since": "yesterday"}, "_since"),
        ({"_since": "2026-01-01T00:00:00"}, "time zone"),
        ({"_since": "0001-01-01T00:00:00+01:00"}, "FHIR instant"),
        ({"_since": "9999-12-31T23:59:59-01:00"}, "FHIR instant"),
        ({"_since": "9999-12-31T00:00:00Z"}, "between"),
        ({"_since": "1899-12-31T23:59:59Z"}, "between"),
        ({"_since": "2026-01-01T00:00:00+20:00"}, "offset"),
        ({"_since": "2026-01-01T00:00:00-13:00"}, "offset"),
        ({"_typeFilter": "Observation?code=x"}, "_typeFilter"),
    ],
)
def test_bad_kick_off_parameters_are_400(
    client: Client, key: ClientKey, bulk_a: str, params: dict[str, str], says: str
) -> None:
    token = access_token(client, key, bulk_a)
    reply = kickoff(client, token, **params)
    assert reply.status_code == 400
    assert says in reply.json()["issue"][0]["diagnostics"]
    assert not BulkExportJob.objects.exists()


def test_lenient_handling_ignores_unknown_parameters(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    reply = client.get(
        "/fhir/$export",
        {"_elements": "id"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_PREFER="respond-async, handling=lenient",
    )
    assert reply.status_code == 202


def test_type_and_since_limit_what_is_written(
    client: Client, clinic: Clinic, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    manifest = finished_manifest(client, token, _type="Patient,Condition")
    assert {o["type"] for o in manifest["output"]} <= {"Patient", "Condition"}
    later = (timezone.now() + timedelta(days=1)).isoformat()
    assert finished_manifest(client, token, _since=later)["output"] == []
    PatientProfile.objects.filter(user__username="patient01").update(
        modified=timezone.now() + timedelta(days=2)
    )
    (patients,) = finished_manifest(client, token, _since=later, _type="Patient")["output"]
    assert patients["count"] == 1


def test_per_type_scopes_limit_the_export(clinic: Clinic, client: Client) -> None:
    key = new_key("RS384")
    register(clinic, key, "bulk-p", scopes="system/Patient.rs")
    reply = token_reply(client, key, "bulk-p", scope="system/*.read")
    assert reply.json()["scope"] == "system/Patient.rs"  # narrowed to what it is allowed
    token = reply.json()["access_token"]
    assert kickoff(client, token, _type="Observation").status_code == 400
    manifest = finished_manifest(client, token)
    assert [o["type"] for o in manifest["output"]] == ["Patient"]
    refused = token_reply(client, key, "bulk-p", scope="system/Observation.read")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


def test_parts_are_split_and_every_part_is_listed(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    started = kickoff(client, token, _type="Patient")
    job = bulk_queue.claim_job()
    assert job is not None
    assert fhir_bulk.run_job(job, max_resources=4) == "done"
    manifest = get(client, started["Content-Location"], token).json()
    counts = [o["count"] for o in manifest["output"]]
    assert len(counts) == 2 and counts[0] == 4 and sum(counts) == 6


def test_a_cancelled_export_is_gone_with_its_files(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    url = kickoff(client, token)["Content-Location"]
    cancelled = client.delete(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert cancelled.status_code == 202
    assert get(client, url, token).status_code == 404
    assert bulk_queue.run_round() == 0
    assert not BulkExportFile.objects.exists()


def test_cancellation_is_noticed_between_patients(
    client: Client, key: ClientKey, bulk_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = access_token(client, key, bulk_a)
    url = kickoff(client, token)["Content-Location"]
    job = bulk_queue.claim_job()
    assert job is not None
    built = []
    original = fhir_bulk.patient_resources

    def cancel_after_first(ex: Any, patient: PatientProfile) -> Any:
        if built:
            client.delete(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        built.append(patient)
        return original(ex, patient)

    monkeypatch.setattr(fhir_bulk, "patient_resources", cancel_after_first)
    assert fhir_bulk.run_job(job, max_resources=1) == "cancelled"
    assert len(built) == 2
    assert not BulkExportFile.objects.filter(job=job).exists()
    assert get(client, url, token).status_code == 404


def test_expired_exports_answer_410_then_are_purged(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    manifest = finished_manifest(client, token, _type="Patient")
    job = BulkExportJob.objects.get()
    BulkExportJob.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    status_url = f"/fhir/bulk-status/{job.uuid}"
    assert get(client, status_url, token).status_code == 410
    expired = get(client, manifest["output"][0]["url"], token)
    assert expired.status_code == 410
    assert expired.json()["resourceType"] == "OperationOutcome"
    bulk_queue.purge_expired()
    assert not BulkExportFile.objects.exists()
    assert get(client, status_url, token).status_code == 404


def test_an_expired_access_token_is_401(client: Client, key: ClientKey, bulk_a: str) -> None:
    token = access_token(client, key, bulk_a)
    BulkAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    reply = kickoff(client, token)
    assert reply.status_code == 401
    assert reply.json()["resourceType"] == "OperationOutcome"
    assert "Bearer" in reply["WWW-Authenticate"]
    assert kickoff(client, "not-a-token").status_code == 401


def test_refused_assertions_are_invalid_client(client: Client, key: ClientKey, bulk_a: str) -> None:
    expired = key.sign(claims(bulk_a, TOKEN_URL, sub=bulk_a, lifetime=-120))
    wrong_key = new_key("ES384", kid=key.kid).sign(claims(bulk_a, TOKEN_URL, sub=bulk_a))
    replayed = key.sign(claims(bulk_a, TOKEN_URL, sub=bulk_a))
    assert token_reply(client, key, bulk_a, client_assertion=replayed).status_code == 200
    for assertion, reason in (
        (expired, "expired"),
        (wrong_key, "not signed by a registered"),
        (replayed, "already used"),
    ):
        reply = token_reply(client, key, bulk_a, client_assertion=assertion)
        assert reply.status_code == 401
        assert reply.json()["error"] == "invalid_client"
        assert reason in reply.json()["error_description"]


@pytest.mark.parametrize(
    ("over", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "invalid_request"),
        ({"client_assertion_type": "x"}, "invalid_request"),
        ({"client_assertion": ""}, "invalid_request"),
        ({"scope": ""}, "invalid_request"),
        ({"scope": "system/*.write"}, "invalid_scope"),
        ({"scope": "patient/*.read"}, "invalid_scope"),
    ],
)
def test_token_request_errors_follow_rfc_6749(
    client: Client, key: ClientKey, bulk_a: str, over: dict[str, str], error: str
) -> None:
    reply = token_reply(client, key, bulk_a, **over)
    assert reply.status_code == 400
    assert reply.json()["error"] == error


def test_a_client_of_another_clinic_sees_nothing_of_this_one(
    client: Client, clinic: Clinic, key: ClientKey, bulk_a: str
) -> None:
    token_a = access_token(client, key, bulk_a)
    manifest_a = finished_manifest(client, token_a, _type="Patient")
    status_a = f"/fhir/bulk-status/{BulkExportJob.objects.get().uuid}"

    other = Clinic.objects.create(name="Clinic B", slug="b")
    key_b = new_key("ES256")
    register(other, key_b, "bulk-b")
    token_b = access_token(client, key_b, "bulk-b")
    assert kickoff(client, token_b, f"/fhir/Group/{clinic.uuid}/$export").status_code == 404
    assert get(client, status_a, token_b).status_code == 404
    assert get(client, manifest_a["output"][0]["url"], token_b).status_code == 404
    assert client.delete(status_a, HTTP_AUTHORIZATION=f"Bearer {token_b}").status_code == 404
    assert get(client, status_a, token_a).status_code == 200  # not cancelled by B

    manifest_b = finished_manifest(client, token_b, path=f"/fhir/Group/{other.uuid}/$export")
    assert manifest_b["output"] == []  # clinic B has no patients; none of A's leak
    assert AuditEvent.objects.filter(action="fhir.export").count() == 6


def test_a_failed_job_reports_an_operation_outcome(
    client: Client, key: ClientKey, bulk_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = access_token(client, key, bulk_a)
    url = kickoff(client, token, _type="Patient")["Content-Location"]

    def broken(job: Any) -> Any:
        raise RuntimeError("database gone")

    monkeypatch.setattr(fhir_bulk, "_patients", broken)
    assert bulk_queue.run_round() == 1
    reply = get(client, url, token)
    assert reply.status_code == 200
    manifest = reply.json()
    assert manifest["output"] == []
    (error,) = manifest["error"]
    (outcome,) = lines(client, error["url"], token)
    assert outcome["resourceType"] == "OperationOutcome"
    assert "database gone" not in json.dumps(outcome)


TOKEN_FIELDS = ["grant_type", "scope", "client_assertion_type", "client_assertion"]
KICKOFF_PARAMS = ["_type", "_since", "_outputFormat", "_typeFilter", "patient"]


def test_any_token_request_gets_a_json_answer_never_a_5xx(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.dictionaries(st.sampled_from(TOKEN_FIELDS), NASTY, max_size=4))
    def check(form: dict[str, str]) -> None:
        reply = client.post("/oauth/token", form)
        assert reply.status_code in (400, 401), form
        assert reply.json()["error"] in ("invalid_request", "invalid_client",
                                         "unsupported_grant_type", "invalid_scope")  # fmt: skip

    check()
    assert not BulkAccessToken.objects.exists()


def test_any_kick_off_query_is_202_or_an_operation_outcome(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.dictionaries(st.sampled_from(KICKOFF_PARAMS), NASTY, max_size=3))
    def check(params: dict[str, str]) -> None:
        BulkExportJob.objects.update(status="done")  # one export at a time per client
        jobs = BulkExportJob.objects.count()
        reply = kickoff(client, token, **params)
        assert reply.status_code in (202, 400), params
        assert reply.json()["resourceType"] == "OperationOutcome"
        assert BulkExportJob.objects.count() == jobs + (reply.status_code == 202)

    check()


@pytest.mark.parametrize(
    "path",
    ["/fhir/bulk-status/{job}", "/fhir/bulk-files/{job}/{job}.ndjson", "/fhir/Group/{job}/$export"],
)
def test_unknown_ids_are_404_operation_outcomes(
    client: Client, key: ClientKey, bulk_a: str, path: str
) -> None:
    token = access_token(client, key, bulk_a)
    reply = client.get(
        path.format(job="00000000-0000-4000-8000-000000000000"),
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_PREFER="respond-async",
    )
    assert reply.status_code == 404
    assert reply.json()["resourceType"] == "OperationOutcome"


def test_only_exported_types_are_granted_and_the_scope_stays_short(
    clinic: Clinic, client: Client
) -> None:
    key = new_key("ES384")
    register(clinic, key, "bulk-w", scopes="system/*.*")
    reply = token_reply(client, key, "bulk-w", scope="system/Encounter.read system/Patient.read")
    assert reply.json()["scope"] == "system/Patient.read"
    many = " ".join(f"system/{t}.{p}" for t in fhir_bulk.EXPORT_TYPES for p in ("read", "rs", "*"))
    assert len(many) > fhir_bulk.MAX_SCOPE_CHARS
    reply = token_reply(client, key, "bulk-w", scope=many * 2)  # read forms only, once each
    assert reply.status_code == 200
    assert len(reply.json()["scope"]) <= fhir_bulk.MAX_SCOPE_CHARS
    assert set(reply.json()["scope"].split()) == {
        f"system/{t}.{p}" for t in fhir_bulk.EXPORT_TYPES for p in ("read", "rs")
    }


def test_a_deactivated_clients_tokens_and_jobs_stop(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    url = kickoff(client, token)["Content-Location"]
    EhrClient.objects.update(active=False)
    assert get(client, url, token).status_code == 401
    assert bulk_queue.run_round() == 0  # its queued job is not run
    EhrClient.objects.update(active=True)
    job = bulk_queue.claim_job()
    assert job is not None
    EhrClient.objects.update(active=False)
    assert fhir_bulk.run_job(job) == "cancelled"
    assert not BulkExportFile.objects.filter(job=job).exists()


def test_questionnaires_can_be_asked_for_alone(
    client: Client, clinic: Clinic, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    manifest = finished_manifest(client, token, _type="Questionnaire")
    (entry,) = manifest["output"]
    assert entry["type"] == "Questionnaire"
    resources = lines(client, entry["url"], token)
    assert len({r["id"] for r in resources}) == len(resources) > 0


def test_provenance_names_only_resources_of_the_types_exported(
    clinic: Clinic, client: Client
) -> None:
    key = new_key("ES384")
    register(clinic, key, "bulk-pp", scopes="system/Patient.rs system/Provenance.rs")
    token = access_token(client, key, "bulk-pp", scope="system/Patient.rs system/Provenance.rs")
    manifest = finished_manifest(client, token)
    by_type = {o["type"]: o for o in manifest["output"]}
    assert set(by_type) == {"Patient", "Provenance"}
    provenances = lines(client, by_type["Provenance"]["url"], token)
    assert len(provenances) == PatientProfile.objects.filter(clinic=clinic).count()
    targets = {t["reference"].split("/")[0] for p in provenances for t in p["target"]}
    assert targets == {"Patient"}
    assert finished_manifest(client, token, _type="Provenance")["output"] == []


def test_since_is_kept_in_utc(client: Client, key: ClientKey, bulk_a: str) -> None:
    token = access_token(client, key, bulk_a)
    assert kickoff(client, token, _since="2026-01-01T10:00:00+14:00").status_code == 202
    since = BulkExportJob.objects.get().since
    assert since == timezone.make_aware(datetime(2025, 12, 31, 20, 0), UTC)


def store_unreadable_since(pk: int) -> None:
    """Store a ``since`` that cannot be read back, as a row written before it was checked."""
    assert BulkExportJob._meta.db_table == "clinic_bulkexportjob"
    # PostgreSQL stores year 10000 (UTC) but Python cannot load it; SQLite stores any text.
    value = (
        "9999-12-31 23:00:00-15:00" if connection.vendor == "postgresql" else "2026-13-45 00:00:00"
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_bulkexportjob SET since = %s WHERE id = %s", [value, pk])


def test_a_job_row_that_cannot_be_loaded_does_not_stop_the_queue(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    assert kickoff(client, token, _type="Patient").status_code == 202
    bad = BulkExportJob.objects.get()  # its row gets a stored time Python cannot read back
    store_unreadable_since(bad.pk)
    with pytest.raises((ValueError, OverflowError, DatabaseError)), transaction.atomic():
        BulkExportJob.objects.get(pk=bad.pk)
    BulkExportJob.objects.filter(pk=bad.pk).update(created=timezone.now() - timedelta(hours=1))
    other_key = new_key("ES384")
    register(bad.clinic, other_key, "bulk-other")
    token = access_token(client, other_key, "bulk-other")
    started = kickoff(client, token, _type="Patient")
    assert started.status_code == 202
    assert bulk_queue.run_round() == 1  # the good job runs; the bad one is failed and skipped
    assert get(client, started["Content-Location"], token).status_code == 200
    failed = BulkExportJob.objects.get(pk=bad.pk)
    assert failed.status == "failed" and failed.since is None
    store_unreadable_since(bad.pk)
    BulkExportJob.objects.filter(pk=bad.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bulk_queue.purge_expired() == 1
    assert not BulkExportJob.objects.filter(pk=bad.pk).exists()


def stall(job: BulkExportJob) -> None:
    """Make the job look as if its worker stopped reporting."""
    BulkExportJob.objects.filter(pk=job.pk).update(
        modified=timezone.now() - fhir_bulk.STALLED_AFTER - timedelta(seconds=1)
    )


def test_a_worker_whose_job_was_taken_over_stops_quietly(
    client: Client, key: ClientKey, bulk_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = access_token(client, key, bulk_a)
    url = kickoff(client, token, _type="Patient")["Content-Location"]
    first = bulk_queue.claim_job()
    assert first is not None
    taken: list[BulkExportJob] = []
    original = fhir_bulk.patient_resources

    def taken_over_midway(ex: Any, patient: PatientProfile) -> Any:
        if not taken:  # the first worker looks stalled; another worker claims the job
            stall(first)
            second = bulk_queue.claim_job()
            assert second is not None
            taken.append(second)
        return original(ex, patient)

    monkeypatch.setattr(fhir_bulk, "patient_resources", taken_over_midway)
    assert fhir_bulk.run_job(first, max_resources=1) == "cancelled"
    assert BulkExportJob.objects.get().status == "running"  # the second claim still runs
    monkeypatch.setattr(fhir_bulk, "patient_resources", original)
    assert fhir_bulk.run_job(taken[0], max_resources=1) == "done"
    manifest = get(client, url, token).json()
    ids = [r["id"] for o in manifest["output"] for r in lines(client, o["url"], token)]
    assert len(ids) == len(set(ids)) == 6


def test_a_running_job_reports_between_patients_so_it_is_not_taken(
    client: Client, key: ClientKey, bulk_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = access_token(client, key, bulk_a)
    kickoff(client, token, _type="Patient")
    job = bulk_queue.claim_job()
    assert job is not None
    original = fhir_bulk.patient_resources

    def slow(ex: Any, patient: PatientProfile) -> Any:
        stall(job)  # each patient takes the whole stall time, the page much longer
        return original(ex, patient)

    monkeypatch.setattr(fhir_bulk, "patient_resources", slow)
    original_check = fhir_bulk._still_running

    def check_then_claim(j: BulkExportJob) -> bool:
        running = original_check(j)
        assert bulk_queue.claim_job() is None  # the heartbeat keeps the job its worker's
        return running

    monkeypatch.setattr(fhir_bulk, "_still_running", check_then_claim)
    assert fhir_bulk.run_job(job) == "done"


def test_a_job_taken_too_many_times_fails_with_an_operation_outcome(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    url = kickoff(client, token, _type="Patient")["Content-Location"]
    for _ in range(fhir_bulk.MAX_ATTEMPTS):
        job = bulk_queue.claim_job()
        assert job is not None
        stall(job)
    assert bulk_queue.claim_job() is None
    manifest = get(client, url, token).json()
    assert manifest["output"] == []
    (error,) = manifest["error"]
    (outcome,) = lines(client, error["url"], token)
    assert "times" in outcome["issue"][0]["diagnostics"]


def test_since_finds_a_change_in_the_same_second(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    second = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    PatientProfile.objects.update(modified=second - timedelta(days=1))
    PatientProfile.objects.filter(user__username="patient01").update(
        modified=second + timedelta(microseconds=700_000)
    )
    since = (second + timedelta(microseconds=500_000)).isoformat()
    (patients,) = finished_manifest(client, token, _since=since, _type="Patient")["output"]
    assert patients["count"] == 1
    manifest = finished_manifest(client, token, _type="Patient")
    job = BulkExportJob.objects.latest("created")
    assert job.transaction_time is not None and job.started_at is not None
    transaction_time = datetime.fromisoformat(manifest["transactionTime"])
    assert transaction_time <= job.started_at  # a client reusing it as _since misses nothing


def test_a_second_export_of_a_client_waits_for_the_first(
    client: Client, clinic: Clinic, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    first = kickoff(client, token, _type="Patient")
    assert first.status_code == 202
    busy = kickoff(client, token, _type="Patient")
    assert busy.status_code == 429
    assert int(busy["Retry-After"]) > 0
    issue = busy.json()["issue"][0]
    assert issue["code"] == "throttled" and first["Content-Location"] in issue["diagnostics"]
    other_key = new_key("ES384")
    register(clinic, other_key, "bulk-b")  # another client is not held up
    assert kickoff(client, access_token(client, other_key, "bulk-b")).status_code == 202
    assert BulkExportJob.objects.count() == 2
    assert bulk_queue.run_round() == 2
    assert kickoff(client, token, _type="Patient").status_code == 202  # the first one is done


@pytest.mark.parametrize(
    ("allowed", "asked", "granted"),
    [
        ("system/*.*", "system/Patient.cruds", "system/Patient.rs"),
        ("system/*.*", "system/Patient.*", "system/Patient.read"),
        ("system/*.cruds", "system/*.*", "system/*.read"),
        ("system/Patient.*", "system/*.cruds", "system/Patient.read"),
        ("system/*.read", "system/Patient.read", "system/Patient.read"),
    ],
)
def test_only_read_scopes_are_granted(
    clinic: Clinic, client: Client, allowed: str, asked: str, granted: str
) -> None:
    key = new_key("ES384")
    register(clinic, key, "bulk-rw", scopes=allowed)
    reply = token_reply(client, key, "bulk-rw", scope=asked)
    assert reply.status_code == 200, reply.content
    assert reply.json()["scope"] == granted


def test_parts_stay_within_their_size_in_bytes(client: Client, key: ClientKey, bulk_a: str) -> None:
    token = access_token(client, key, bulk_a)
    kickoff(client, token, _type="Patient")
    job = bulk_queue.claim_job()
    assert job is not None
    writer = fhir_bulk.PartWriter(job, max_resources=100, max_bytes=400)
    for n in range(10):  # each line ~130 characters, ~250 bytes
        writer.write(fhir_bulk.outcome(f"{n} " + "\u00e4\u20ac" * 40))
    writer.flush_all()
    parts = BulkExportFile.objects.filter(job=job)
    assert parts.count() == 10
    assert all(len(p.content.encode()) <= 400 for p in parts)


def test_a_file_is_looked_up_without_its_content(
    client: Client, key: ClientKey, bulk_a: str
) -> None:
    token = access_token(client, key, bulk_a)
    manifest = finished_manifest(client, token, _type="Patient")
    part = BulkExportFile.objects.get()
    found = access.bulk_file_for(BulkAccessToken.objects.get(), part.job.uuid, part.uuid)
    assert "content" in found.get_deferred_fields()
    assert len(lines(client, manifest["output"][0]["url"], token)) == 6


def test_a_stopping_worker_puts_its_job_back_in_the_queue(
    client: Client, key: ClientKey, bulk_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = access_token(client, key, bulk_a)
    url = kickoff(client, token, _type="Patient")["Content-Location"]
    job = bulk_queue.claim_job()
    assert job is not None
    stop = threading.Event()
    original = fhir_bulk.patient_resources

    def shutdown_after_first(ex: Any, patient: PatientProfile) -> Any:
        stop.set()  # SIGTERM arrives while the first patient is written
        return original(ex, patient)

    monkeypatch.setattr(fhir_bulk, "patient_resources", shutdown_after_first)
    assert fhir_bulk.run_job(job, max_resources=1, stop=stop) == "queued"
    queued = BulkExportJob.objects.get()
    assert queued.status == "queued" and queued.attempt == 0  # a shutdown is no attempt
    assert not BulkExportFile.objects.exists()
    assert bulk_queue.run_round(stop=stop) == 0  # a stopping worker claims nothing more
    monkeypatch.setattr(fhir_bulk, "patient_resources", original)
    assert bulk_queue.run_round() == 1
    (patients,) = get(client, url, token).json()["output"]
    assert patients["count"] == 6


def test_gunicorn_worker_exit_stops_the_bulk_thread() -> None:
    from kratomwatch import gunicorn_conf

    worker = bulk_queue.BulkExportWorker(interval=3600)
    worker.start()
    assert worker.is_alive()
    gunicorn_conf.worker_exit(None, None)
    worker.join(5)
    assert not worker.is_alive()
