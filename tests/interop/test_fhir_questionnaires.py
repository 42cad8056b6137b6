"""Questionnaires of every instrument, and QuestionnaireResponses round-tripped through FHIR."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirResponse

from kratomwatch.clinic.actions.checkins import do_submit_questionnaire
from kratomwatch.clinic.models import (
    AuditEvent,
    CareTeamMembership,
    Clinic,
    EntrySource,
    Finding,
    PatientProfile,
    QuestionnaireResponse,
    Role,
    SymptomReport,
    User,
)
from kratomwatch.domain.questionnaires import Instrument, load_instruments
from kratomwatch.interop import codes
from kratomwatch.interop.fhir_export import patient_bundle, questionnaire_url
from kratomwatch.interop.fhir_import import do_import_fhir, plan_import
from kratomwatch.interop.fhir_instruments import instrument_questionnaires

from .conftest import patient

SHIPPED = {
    "acr2016-fm",
    "cows",
    "gad2",
    "gad7",
    "kw-daily-pain",
    "kw-use-criteria",
    "kw-withdrawal",
    "phq2",
    "phq9",
}


def answers_for(instrument: Instrument, offset: int) -> dict[str, int | None]:
    """Allowed answers for every item, different per instrument, no crisis answer."""
    out: dict[str, int | None] = {}
    for position, item in enumerate(instrument.items):
        allowed = sorted(item.allowed)
        out[item.id] = allowed[(position + offset) % len(allowed)]
    if instrument.id == "phq9":
        out["self_harm_thoughts"] = 0
    return out


def other_clinic_patient() -> PatientProfile:
    clinic = Clinic.objects.create(name="Clinic B", slug="b-clinic")
    clinician = User.objects.create(username="bea", clinic=clinic, role=Role.CLINICIAN)
    user = User.objects.create(username="bruno", clinic=clinic, role=Role.PATIENT)
    target = PatientProfile.objects.create(user=user, clinic=clinic, display_name="Bruno")
    CareTeamMembership.objects.create(patient=target, clinician=clinician)
    return target


def test_every_instrument_has_a_valid_questionnaire_with_its_licence() -> None:
    resources = instrument_questionnaires()
    assert {r["url"].rsplit("/", 1)[-1] for r in resources} == SHIPPED
    catalogue = load_instruments()
    for resource in resources:
        Questionnaire.model_validate(resource)
        instrument = catalogue[resource["url"].rsplit("/", 1)[-1]]
        assert resource["url"] == questionnaire_url(instrument.id)
        assert resource["version"] == instrument.version
        assert instrument.licence.status in resource["copyright"]
        if instrument.licence.copyright:
            assert instrument.licence.copyright in resource["copyright"]
        assert [i["linkId"] for i in resource["item"]] == list(instrument.item_ids)
    phq9 = next(r for r in resources if r["url"].endswith("/phq9"))
    assert "Pfizer" in phq9["copyright"]


def test_responses_of_every_instrument_round_trip_to_another_clinic(clinic: Clinic) -> None:
    source = patient(clinic, 1)
    source.responses.all().delete()
    catalogue = load_instruments()
    start = timezone.now().replace(microsecond=0) - timedelta(days=20)
    for offset, iid in enumerate(sorted(SHIPPED)):
        do_submit_questionnaire(
            patient=source,
            user=source.user,
            instrument=catalogue[iid],
            answers=answers_for(catalogue[iid], offset),
            key=f"rt-{iid}",
            taken_at=start + timedelta(days=offset, hours=offset),
        )
    bundle = json.loads(json.dumps(patient_bundle(source)))
    kinds: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        kinds.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    assert len(kinds["Questionnaire"]) == len(SHIPPED)
    assert len(kinds["QuestionnaireResponse"]) == len(SHIPPED)
    for resource in kinds["Questionnaire"]:
        Questionnaire.model_validate(resource)
    for resource in kinds["QuestionnaireResponse"]:
        FhirResponse.model_validate(resource)

    target = other_clinic_patient()
    dry = plan_import(target, bundle, override_patient_check=True)
    planned = [i for i in dry.items if i.kind == "response"]
    assert {i.code for i in planned} == SHIPPED
    assert {i.outcome for i in planned} == {"add"}
    assert not target.responses.exists()

    do_import_fhir(target, bundle, override_patient_check=True)
    got = {r.instrument_id: r for r in target.responses.all()}
    want = {r.instrument_id: r for r in source.responses.all()}
    assert set(got) == SHIPPED
    for iid, original in want.items():
        copy_ = got[iid]
        assert copy_.answers == original.answers
        assert copy_.total == original.total
        assert copy_.scores == original.scores
        assert copy_.taken_at == original.taken_at
        assert copy_.instrument_version == original.instrument_version
        assert copy_.source == EntrySource.IMPORT
        assert copy_.completed_by == target.user
    assert AuditEvent.objects.filter(patient=target, action="response.import").count() == 9

    again = do_import_fhir(target, bundle, override_patient_check=True)
    assert {i.outcome for i in again.items if i.kind == "response"} == {"present"}
    assert target.responses.count() == len(SHIPPED)


def ehr_response(**changes: Any) -> dict[str, Any]:
    """A PHQ-9 response as another app would send it: item 1 as a coding of our answer code
    system, the others as integers, no author, a canonical without a version."""
    items: list[dict[str, Any]] = [
        {
            "linkId": "little_interest",
            "answer": [{"valueCoding": {"system": codes.CS_ANSWER, "code": "2"}}],
        }
    ]
    items += [
        {"linkId": item.id, "answer": [{"valueInteger": int(item.id != "self_harm_thoughts")}]}
        for item in load_instruments()["phq9"].items[1:]
        if item.id != "difficulty"
    ]
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": "app-qr-1",
        "identifier": {"system": "https://app.example/responses", "value": "r-77"},
        "questionnaire": questionnaire_url("phq9"),
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "authored": "2026-11-18T08:30:00+01:00",
        "item": items,
    }
    resource.update(changes)
    return resource


def bundle_of(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def test_a_response_from_another_app_imports_with_its_time(clinic: Clinic) -> None:
    target = patient(clinic, 2)
    before = target.responses.count()
    report = do_import_fhir(target, bundle_of(ehr_response()), override_patient_check=True)
    item = next(i for i in report.items if i.kind == "response")
    assert item.outcome == "add", item.reason
    stored = target.responses.get(source=EntrySource.IMPORT)
    assert stored.answers == [2, 1, 1, 1, 1, 1, 1, 1, 0, None]
    assert stored.total == 9
    assert stored.taken_at == datetime.fromisoformat("2026-11-18T07:30:00+00:00")
    assert target.responses.count() == before + 1
    # The same response, sent again (another file, same identifier): nothing new.
    again = ehr_response(id="another-id")
    report = do_import_fhir(target, bundle_of(again), override_patient_check=True)
    assert [i.outcome for i in report.items] == ["present"]
    assert target.responses.count() == before + 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"questionnaire": "http://example.org/Questionnaire/phq9"}, "is not one of"),
        ({"questionnaire": questionnaire_url("phq9") + "|0.9"}, "version 0.9"),
        ({"status": "in-progress"}, "status in-progress"),
        ({"authored": "2026-11-18"}, "authored"),
    ],
)
def test_responses_that_cannot_be_stored_are_reported(
    clinic: Clinic, changes: dict[str, Any], reason: str
) -> None:
    target = patient(clinic, 2)
    before = target.responses.count()
    report = do_import_fhir(target, bundle_of(ehr_response(**changes)), override_patient_check=True)
    (item,) = report.items
    assert item.outcome in ("skipped", "not_recognized")
    assert reason in item.reason
    assert target.responses.count() == before


def test_each_bad_answer_is_named(clinic: Clinic) -> None:
    resource = ehr_response()
    resource["item"][0]["answer"] = [{"valueCoding": {"system": "http://x", "code": "2"}}]
    resource["item"][1]["answer"] = [{"valueInteger": 7}]
    resource["item"].append({"linkId": "mood", "answer": [{"valueInteger": 1}]})
    report = plan_import(patient(clinic, 2), bundle_of(resource), override_patient_check=True)
    (item,) = report.items
    assert item.outcome == "skipped"
    assert "little_interest: a coding of http://x" in item.reason
    assert "mood: not an item of phq9" in item.reason
    # Values are checked once every answer can be read:
    resource["item"][0] = ehr_response()["item"][0]
    del resource["item"][-1]
    report = plan_import(patient(clinic, 2), bundle_of(resource), override_patient_check=True)
    assert "feeling_down: 7 is not an allowed value" in report.items[0].reason


def test_a_crisis_answer_raises_the_finding_of_a_web_answer(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    target = other_clinic_patient()  # no screening of the demo's set-up pending
    resource = ehr_response(authored=timezone.now().replace(microsecond=0).isoformat())
    nine = next(i for i in resource["item"] if i["linkId"] == "self_harm_thoughts")
    nine["answer"] = [{"valueInteger": 2}]
    with django_capture_on_commit_callbacks(execute=True):
        do_import_fhir(target, bundle_of(resource), override_patient_check=True)
    assert Finding.objects.filter(
        patient=target, code="red_flag.phq9_self_harm", status="open"
    ).exists()


def test_a_crisis_answer_gets_through_a_response_that_cannot_be_stored(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    target = other_clinic_patient()  # no screening of the demo's set-up pending
    now = timezone.now().replace(microsecond=0).isoformat()
    resource = ehr_response(status="in-progress", authored=now)
    resource["item"] = [{"linkId": "self_harm_thoughts", "answer": [{"valueInteger": 1}]}]
    before = target.responses.count()
    with django_capture_on_commit_callbacks(execute=True):
        do_import_fhir(target, bundle_of(resource), override_patient_check=True)
        do_import_fhir(target, bundle_of(copy.deepcopy(resource)), override_patient_check=True)
    assert target.responses.count() == before
    assert SymptomReport.objects.filter(patient=target, source=EntrySource.IMPORT).count() == 1
    assert Finding.objects.filter(
        patient=target, code="red_flag.suicidal_thoughts", status="open"
    ).exists()
    assert not QuestionnaireResponse.objects.filter(patient=target, source=EntrySource.IMPORT)


def with_item(resource: dict[str, Any], link: str, *answers: dict[str, Any]) -> dict[str, Any]:
    """``resource`` with the answers of item ``link`` replaced."""
    for item in resource["item"]:
        if item["linkId"] == link:
            item["answer"] = list(answers)
    return resource


def now_text() -> str:
    return timezone.now().replace(microsecond=0).isoformat()


def test_an_amended_response_is_stored_as_a_new_version(
    clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    target = other_clinic_patient()
    first = ehr_response(authored=now_text())
    with django_capture_on_commit_callbacks(execute=True):
        do_import_fhir(target, bundle_of(first), override_patient_check=True)
    amended = with_item(
        copy.deepcopy(first) | {"status": "amended"}, "self_harm_thoughts", {"valueInteger": 2}
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = do_import_fhir(target, bundle_of(amended), override_patient_check=True)
    (item,) = report.items
    assert item.outcome == "add" and item.amends and report.to_dict()["items"][0]["amends"]
    assert [r.answers[8] for r in target.responses.order_by("created")] == [0, 2]
    assert Finding.objects.filter(
        patient=target, code="red_flag.phq9_self_harm", status="open"
    ).exists()
    # Either version sent again adds nothing; the first one is not taken for a change.
    for resource in (amended, first):
        again = do_import_fhir(target, bundle_of(resource), override_patient_check=True)
        assert [i.outcome for i in again.items] == ["present"]
    assert target.responses.count() == 2


def test_ids_are_told_apart_by_their_source(clinic: Clinic) -> None:
    target = other_clinic_patient()
    one = ehr_response(id="1", identifier=None, authored=now_text())
    del one["identifier"]
    two = copy.deepcopy(one)
    one["meta"] = {"source": "https://ehr-a.example"}
    two["meta"] = {"source": "https://ehr-b.example"}
    with_item(two, "little_interest", {"valueInteger": 3})
    report = do_import_fhir(target, bundle_of(one, two), override_patient_check=True)
    assert [(i.outcome, i.amends) for i in report.items] == [("add", False), ("add", False)]
    # Identifiers without a system are told apart by the Bundle's source.
    three, four = (ehr_response(identifier={"value": "r-1"}, authored=now_text()) for _ in range(2))
    with_item(four, "little_interest", {"valueInteger": 0})
    for resource, source in ((three, "https://ehr-a.example"), (four, "https://ehr-b.example")):
        bundle = bundle_of(resource) | {"meta": {"source": source}}
        report = do_import_fhir(target, bundle, override_patient_check=True)
        assert [(i.outcome, i.amends) for i in report.items] == [("add", False)]
    assert target.responses.count() == 4


def test_a_response_without_id_is_known_by_its_content_not_its_meta(clinic: Clinic) -> None:
    target = other_clinic_patient()
    resource = ehr_response(authored=now_text(), meta={"lastUpdated": "2026-11-18T09:00:00Z"})
    del resource["id"], resource["identifier"]
    do_import_fhir(target, bundle_of(resource), override_patient_check=True)
    resource["meta"] = {"lastUpdated": "2026-11-19T09:00:00Z"}
    resource["text"] = {"status": "generated", "div": "<div>PHQ-9</div>"}
    report = do_import_fhir(target, bundle_of(resource), override_patient_check=True)
    assert [i.outcome for i in report.items] == ["present"]
    assert target.responses.count() == 1


CRISIS_NINE = {"linkId": "self_harm_thoughts", "answer": [{"valueInteger": 2}]}


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda r: r["item"].append(copy.deepcopy(CRISIS_NINE)), "answered twice"),
        (lambda r: r["item"][8]["answer"].append({"valueInteger": 2}), "2 answers"),
        (
            lambda r: r["item"].append({"linkId": "g", "item": [copy.deepcopy(CRISIS_NINE)]}),
            "answered twice",
        ),
    ],
)
def test_a_crisis_answer_is_seen_in_a_response_skipped_for_its_form(
    clinic: Clinic, mangle: Any, reason: str
) -> None:
    target = other_clinic_patient()
    resource = ehr_response(authored=now_text())
    assert resource["item"][8] == {"linkId": "self_harm_thoughts", "answer": [{"valueInteger": 0}]}
    mangle(resource)  # item 9 answered 0, and 2 elsewhere
    report = do_import_fhir(target, bundle_of(resource), override_patient_check=True)
    (item,) = report.items
    assert item.outcome == "skipped" and reason in item.reason
    assert item.crisis and report.to_dict()["items"][0]["crisis_red_flags"] == list(item.crisis)
    assert SymptomReport.objects.filter(patient=target, source=EntrySource.IMPORT).count() == 1
    assert not target.responses.exists()


def test_a_response_authored_in_the_future_is_refused_but_its_crisis_is_saved(
    clinic: Clinic,
) -> None:
    target = other_clinic_patient()
    later = (timezone.now() + timedelta(days=2)).replace(microsecond=0).isoformat()
    resource = with_item(ehr_response(authored=later), "self_harm_thoughts", {"valueInteger": 3})
    report = do_import_fhir(target, bundle_of(resource), override_patient_check=True)
    (item,) = report.items
    assert item.outcome == "skipped" and "is in the future" in item.reason
    assert not target.responses.exists()
    flag = SymptomReport.objects.get(patient=target, source=EntrySource.IMPORT)
    assert abs(flag.reported_at - timezone.now()) < timedelta(minutes=1)


@pytest.mark.parametrize("code", ["²", "9" * 5000, "1.0", "--1", "0x1"])
def test_an_odd_answer_code_is_a_problem_of_its_item(clinic: Clinic, code: str) -> None:
    resource = ehr_response()
    resource["item"][0]["answer"] = [{"valueCoding": {"system": codes.CS_ANSWER, "code": code}}]
    report = plan_import(other_clinic_patient(), bundle_of(resource), override_patient_check=True)
    (item,) = report.items
    assert item.outcome == "skipped"
    assert (
        item.reason.startswith("little_interest: answer code") and "is not a number" in item.reason
    )


def test_an_entered_in_error_response_saves_no_crisis(clinic: Clinic) -> None:
    target = other_clinic_patient()
    resource = ehr_response(status="entered-in-error", authored=now_text())
    with_item(resource, "self_harm_thoughts", {"valueInteger": 3})
    report = do_import_fhir(target, bundle_of(resource), override_patient_check=True)
    (item,) = report.items
    assert item.outcome == "skipped" and "entered-in-error" in item.reason
    assert "crisis answer was not saved" in item.reason and not item.crisis
    assert not SymptomReport.objects.filter(patient=target).exists()


def test_a_response_by_a_practitioner_is_credited_to_nobody(clinic: Clinic) -> None:
    target = other_clinic_patient()
    importer = User.objects.get(username="bea")
    practitioner = {"resourceType": "Practitioner", "id": "dr"}
    resource = ehr_response(authored=now_text(), author={"reference": "Practitioner/dr"})
    report = do_import_fhir(
        target, bundle_of(resource, practitioner), actor=importer, override_patient_check=True
    )
    assert report.items[0].outcome == "add"
    logical = ehr_response(
        identifier={"system": "https://app.example/responses", "value": "r-78"},
        authored=now_text(),
        author={"type": "Practitioner", "display": "Dr Who"},
    )
    do_import_fhir(target, bundle_of(logical), actor=importer, override_patient_check=True)
    assert [r.completed_by for r in target.responses.all()] == [None, None]


def test_a_response_by_another_patient_is_skipped(clinic: Clinic) -> None:
    target = other_clinic_patient()
    subject = {"resourceType": "Patient", "id": "p1"}
    other = {"resourceType": "Patient", "id": "p2"}
    resource = ehr_response(authored=now_text(), author={"reference": "Patient/p2"})
    with_item(resource, "self_harm_thoughts", {"valueInteger": 3})
    report = do_import_fhir(
        target, bundle_of(resource, subject, other), override_patient_check=True
    )
    item = next(i for i in report.items if i.kind == "response")
    assert item.outcome == "skipped" and "another patient" in item.reason
    assert not target.responses.exists() and not SymptomReport.objects.filter(patient=target)
    by_patient = ehr_response(authored=now_text(), author={"reference": "Patient/p1"})
    report = do_import_fhir(target, bundle_of(by_patient, subject), override_patient_check=True)
    assert report.items[0].outcome == "add"
    assert target.responses.get().completed_by == target.user


def test_the_command_says_when_a_crisis_answer_was_saved(
    clinic: Clinic,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from kratomwatch.cli import main

    monkeypatch.setenv("KRATOMWATCH_DATA_DIR", os.environ["KRATOMWATCH_DATA_DIR"])
    target = other_clinic_patient()
    resource = ehr_response(status="in-progress", authored=now_text())
    with_item(resource, "self_harm_thoughts", {"valueInteger": 2})
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle_of(resource)), encoding="utf-8")
    argv = ["import-fhir", "--patient", str(target.uuid), str(path), "--override-patient-check"]
    assert main(argv) == 0
    out = "".join(capsys.readouterr().out.replace("│", "").split())  # the wrapped table
    assert "crisisanswertobesavedasaredflag" in out
    assert main([*argv, "--apply", "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)["items"]
    assert item["outcome"] == "skipped" and item["crisis_red_flags"]
    assert SymptomReport.objects.filter(patient=target).count() == 1


def test_keys_of_responses_imported_before_are_kept() -> None:
    """Responses imported by id or identifier before sources were read are still found."""
    import hashlib

    from kratomwatch.interop.fhir_questionnaires import KEY_PREFIX, import_key

    def old(basis: str) -> str:
        return KEY_PREFIX + hashlib.sha256(basis.encode()).hexdigest()[:40]

    assert import_key({"id": "x"}, "d") == old("id:x")
    assert import_key({"identifier": {"system": "s", "value": "v"}}, "d") == old("identifier:s|v")
    assert import_key({"id": "x", "meta": {"source": "a"}}, "d") != old("id:x")
