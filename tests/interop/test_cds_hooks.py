"""The CDS Hooks 2.0 service: discovery, the three hooks, authentication, linking, audit.

Requests are shaped as the specification's examples (https://cds-hooks.hl7.org/2.0/,
"Calling a CDS Service" and the order-select hook's R4 example): ``hookInstance``, ``hook``,
``fhirServer``, ``context`` and, where the EHR sends it, ``prefetch``. Every answer with
cards is validated against tests/data/cds_hooks_response.schema.json.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from kratomwatch.clinic.models import AuditEvent, DoseEntry, EhrClient, EhrPatientLink
from kratomwatch.interop import cds_hooks
from tests.ehr_keys import ClientKey, claims, new_key
from tests.web.conftest import Triangle, tri  # noqa: F401 - the fixture

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "cds_hooks_response.schema.json").read_text()
)
EHR_ID = "1288992"
ISSUER = "https://ehr-a.example.org"


def url(service: str) -> str:
    return f"/cds-services/{service}"


def audience(service: str) -> str:
    return django_settings.KRATOMWATCH_BASE_URL.rstrip("/") + url(service)


@pytest.fixture
def key() -> ClientKey:
    return new_key("ES384")


@pytest.fixture
def ehr(tri: Triangle, key: ClientKey) -> EhrClient:  # noqa: F811
    """Clinic A's EHR, Paul linked as 1288992; Paul takes kratom every day."""
    client = EhrClient.objects.create(
        clinic=tri.clinic, kind="cds-hooks", name="EHR A", issuer=ISSUER, jwks=key.jwks
    )
    EhrPatientLink.objects.create(client=client, patient=tri.patient, ehr_patient_id=EHR_ID)
    now = timezone.now()
    for day in range(1, 8):
        DoseEntry.objects.create(
            patient=tri.patient,
            product=tri.product,
            taken_at=now - timedelta(days=day),
            amount=Decimal("3"),
            unit="g",
            leaf_equivalent_g=Decimal("3"),
            idempotency_key=f"daily-{day}",
        )
    return client


def medication_request(rid: str, text: str, rxnorm: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": rxnorm,
                    "display": text,
                }
            ],
            "text": text,
        },
        "subject": {"reference": f"Patient/{EHR_ID}"},
        "dosageInstruction": [{"text": "1 tablet at night"}],
    }


DIAZEPAM = ("smart-MedicationRequest-103", "Diazepam 5 MG Oral Tablet", "197589")
AMOXICILLIN = ("smart-MedicationRequest-104", "Amoxicillin 500 MG Oral Capsule", "308191")


def order_request(
    hook: str, *orders: tuple[str, str, str], selections: list[str] | None = None
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": "PractitionerRole/123",
        "patientId": EHR_ID,
        "encounterId": "89284",
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": medication_request(*o)} for o in orders],
        },
    }
    if hook == "order-select":
        context["selections"] = (
            selections if selections is not None else [f"MedicationRequest/{o[0]}" for o in orders]
        )
    return {
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "https://ehr-a.example.org/fhir",
        "hook": hook,
        "context": context,
    }


def patient_view_request(patient_id: str = EHR_ID) -> dict[str, Any]:
    return {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "http://hooks.smarthealthit.org:9080",
        "hook": "patient-view",
        "context": {
            "userId": "Practitioner/example",
            "patientId": patient_id,
            "encounterId": "89284",
        },
        "prefetch": {
            "patient": {
                "resourceType": "Patient",
                "gender": "male",
                "birthDate": "1925-12-23",
                "id": patient_id,
                "active": True,
            }
        },
    }


def call(
    client: Client, service: str, body: Any, token: str | None, raw: bytes | None = None
) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(url(service), data, content_type="application/json", **headers)


def signed(key: ClientKey, service: str, issuer: str = ISSUER) -> str:
    return key.sign(claims(issuer, audience(service)))


def cards_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    body = response.json()
    jsonschema.validate(body, SCHEMA)
    cards: list[dict[str, Any]] = body["cards"]
    return cards


SELECT = "kratomwatch-order-select"
SIGN = "kratomwatch-order-sign"
VIEW = "kratomwatch-patient-view"


# --------------------------------------------------------------------------- discovery


def test_discovery_lists_the_three_services(client: Client, db: None) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-select", "order-sign"}
    assert services[SIGN]["prefetch"] == {
        "patient": "Patient/{{context.patientId}}",
        "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    }
    assert all(s["title"] and s["description"] for s in services.values())


# --------------------------------------------------------------------------- orders


@pytest.mark.parametrize("service, hook", [(SIGN, "order-sign"), (SELECT, "order-select")])
def test_a_benzodiazepine_order_for_a_daily_kratom_user_gets_a_critical_card(
    client: Client, ehr: EhrClient, key: ClientKey, service: str, hook: str
) -> None:
    cards = cards_of(call(client, service, order_request(hook, DIAZEPAM), signed(key, service)))
    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "critical"
    assert card["summary"] == "Kratom with a benzodiazepine or Z-drug"
    assert card["source"]["label"].startswith("US Food and Drug Administration")
    assert card["source"]["url"].startswith("https://www.fda.gov/")
    assert card["source"]["topic"]["code"] == "interaction.benzodiazepine"
    assert "Diazepam" in card["detail"] and "What to do" in card["detail"]
    # The rule's management is a review, not an action on the order: no suggestion.
    assert "suggestions" not in card


def test_a_benign_order_gets_no_card(client: Client, ehr: EhrClient, key: ClientKey) -> None:
    assert (
        cards_of(call(client, SIGN, order_request("order-sign", AMOXICILLIN), signed(key, SIGN)))
        == []
    )


@pytest.mark.parametrize(
    "name, summary",
    [
        ("Kratomwatch-unknown-drug 5 MG Oral Tablet", None),
        ("fentanyl 25 MCG/HR Transdermal System", "Kratom with an opioid"),
        ("{Suboxone 8 MG / 2 MG Sublingual Film} Pack", "Kratom with buprenorphine"),
    ],
)
def test_an_order_not_recognized_says_it_was_not_screened(
    client: Client, ehr: EhrClient, key: ClientKey, name: str, summary: str | None
) -> None:
    body = order_request("order-sign", ("rx-1", name, "0"), DIAZEPAM)
    cards = cards_of(call(client, SIGN, body, signed(key, SIGN)))
    unscreened = [c for c in cards if c["summary"].startswith("KratomWatch could not screen")]
    if summary is None:
        assert [c["summary"] for c in unscreened] == [f"KratomWatch could not screen {name}"]
        card = unscreened[0]
        assert card["indicator"] == "info"
        assert "does not mean it carries no risk" in card["detail"]
        assert "dose" not in card["detail"].lower()
    else:
        assert unscreened == []
        assert any(c["summary"].startswith(summary) for c in cards), cards


def test_order_select_screens_only_the_selected_orders(
    client: Client, ehr: EhrClient, key: ClientKey
) -> None:
    body = order_request(
        "order-select",
        DIAZEPAM,
        AMOXICILLIN,
        selections=[f"MedicationRequest/{AMOXICILLIN[0]}"],
    )
    assert cards_of(call(client, SELECT, body, signed(key, SELECT))) == []


def test_prefetched_medications_are_screened_too(
    client: Client, ehr: EhrClient, key: ClientKey
) -> None:
    """Amoxicillin drafted gets no card; with the EHR's active list (prefetch) holding
    alprazolam it still gets none: what the list brings is no finding of the order's."""
    body = order_request("order-sign", AMOXICILLIN)
    active = medication_request("active-1", "Alprazolam 0.5 MG Oral Tablet", "308047")
    body["prefetch"] = {
        "patient": {"resourceType": "Patient", "id": EHR_ID},
        "medications": {
            "resourceType": "Bundle",
            "entry": [{"resource": active | {"status": "active"}}],
        },
    }
    assert cards_of(call(client, SIGN, body, signed(key, SIGN))) == []


def test_a_reorder_of_an_active_medication_is_still_warned_about(
    client: Client, ehr: EhrClient, key: ClientKey
) -> None:
    """Alprazolam drafted while the EHR's active list already holds alprazolam: the card is
    shown, because the screening without the order leaves out the medication it renews."""
    alprazolam = ("rx-9", "Alprazolam 0.5 MG Oral Tablet", "308047")
    body = order_request("order-sign", alprazolam)
    alone = cards_of(call(client, SIGN, body, signed(key, SIGN)))
    assert "Kratom with a benzodiazepine or Z-drug" in [c["summary"] for c in alone]
    active = medication_request("active-1", "Alprazolam 0.5 MG Oral Tablet", "308047")
    body["prefetch"] = {
        "patient": {"resourceType": "Patient", "id": EHR_ID},
        "medications": {
            "resourceType": "Bundle",
            "entry": [{"resource": active | {"status": "active"}}],
        },
    }
    renewed = cards_of(call(client, SIGN, body, signed(key, SIGN)))
    assert [c["summary"] for c in renewed] == [c["summary"] for c in alone]


def test_order_select_screens_the_unselected_drafts_as_taken() -> None:
    """The drafts not selected are part of what the patient takes (the screening's
    baseline); only the selected ones are screened on top of it."""
    alprazolam = ("rx-9", "Alprazolam 0.5 MG Oral Tablet", "308047")
    body = order_request(
        "order-select",
        DIAZEPAM,
        alprazolam,
        AMOXICILLIN,
        selections=[f"MedicationRequest/{alprazolam[0]}"],
    )
    parsed = cds_hooks.parse_call(
        json.dumps(body).encode(), cds_hooks.SERVICES_BY_ID["kratomwatch-order-select"]
    )
    assert [d.reference for d in parsed.drafts] == ["MedicationRequest/rx-9"]
    assert [m.name for m in parsed.others] == [DIAZEPAM[1], AMOXICILLIN[1]]
    sign = cds_hooks.parse_call(
        json.dumps(order_request("order-sign", DIAZEPAM, alprazolam)).encode(),
        cds_hooks.SERVICES_BY_ID[SIGN],
    )
    assert len(sign.drafts) == 2 and sign.others == ()


def test_without_prefetch_and_with_it_the_card_is_the_same(
    client: Client, ehr: EhrClient, key: ClientKey
) -> None:
    plain = cards_of(call(client, SIGN, order_request("order-sign", DIAZEPAM), signed(key, SIGN)))
    body = order_request("order-sign", DIAZEPAM)
    body["prefetch"] = {
        "patient": {"resourceType": "Patient", "id": EHR_ID},
        "medications": {"resourceType": "Bundle", "entry": []},
    }
    with_prefetch = cards_of(call(client, SIGN, body, signed(key, SIGN)))
    assert [c["summary"] for c in plain] == [c["summary"] for c in with_prefetch]


def test_a_removal_is_suggested_only_where_the_rule_says_so(
    client: Client, ehr: EhrClient, key: ClientKey
) -> None:
    """interaction.mixed_agonist_antagonist's management prefers another analgesic: its card
    offers to remove the drafted order (and nothing else, never a dose)."""
    nalbuphine = ("rx-nal", "Nalbuphine 10 MG/ML Injectable Solution", "1867477")
    body = order_request("order-sign", nalbuphine)
    (card,) = [
        c
        for c in cards_of(call(client, SIGN, body, signed(key, SIGN)))
        if c["source"]["topic"]["code"] == "interaction.mixed_agonist_antagonist"
    ]
    assert card["indicator"] == "warning"
    assert card["selectionBehavior"] == "at-most-one"
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Remove the order"
    assert suggestion["actions"] == [
        {
            "type": "delete",
            "description": "Remove the order for Nalbuphine 10 MG/ML Injectable Solution",
            "resourceId": "MedicationRequest/rx-nal",
        }
    ]


# --------------------------------------------------------------------------- patient-view


def test_patient_view_summarises_open_findings_with_a_link(
    client: Client,
    ehr: EhrClient,
    key: ClientKey,
    tri: Triangle,  # noqa: F811
) -> None:
    (card,) = cards_of(call(client, VIEW, patient_view_request(), signed(key, VIEW)))
    assert card["indicator"] == "critical"  # the fixture's high-severity finding
    assert "open safety finding" in card["summary"]
    assert "**high**: Kratom with a benzodiazepine" in card["detail"]
    link = card["links"][0]
    assert link["type"] == "absolute"
    assert link["url"] == (
        django_settings.KRATOMWATCH_BASE_URL.rstrip("/") + f"/patients/{tri.patient.uuid}/"
    )


def test_patient_view_without_findings_has_no_card(
    client: Client,
    ehr: EhrClient,
    key: ClientKey,
    tri: Triangle,  # noqa: F811
) -> None:
    tri.patient.findings.update(status="resolved")
    assert cards_of(call(client, VIEW, patient_view_request(), signed(key, VIEW))) == []


def test_an_unlinked_patient_gets_no_card(client: Client, ehr: EhrClient, key: ClientKey) -> None:
    body = patient_view_request("someone-else")
    assert cards_of(call(client, VIEW, body, signed(key, VIEW))) == []


def test_a_client_never_reaches_another_clinics_patient(
    client: Client,
    ehr: EhrClient,
    key: ClientKey,
    tri: Triangle,  # noqa: F811
) -> None:
    """Clinic B links Otto as 777 for its own EHR; clinic A's client asking for 777 (or for
    a link forged onto clinic A's client) gets nothing."""
    key_b = new_key("ES256")
    ehr_b = EhrClient.objects.create(
        clinic=tri.other_clinic,
        kind="cds-hooks",
        name="EHR B",
        issuer="https://ehr-b.example.org",
        jwks=key_b.jwks,
    )
    EhrPatientLink.objects.create(client=ehr_b, patient=tri.outsider_patient, ehr_patient_id="777")
    tri.outsider_patient.findings.create(
        code="interaction.alcohol",
        fingerprint="x",
        severity="high",
        category="interaction",
        title="Otto's finding",
        rationale="r",
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    assert cards_of(call(client, VIEW, patient_view_request("777"), signed(key, VIEW))) == []
    # Even a link row pointing clinic A's client at clinic B's patient is not followed.
    EhrPatientLink.objects.create(client=ehr, patient=tri.outsider_patient, ehr_patient_id="778")
    response = call(client, VIEW, patient_view_request("778"), signed(key, VIEW))
    assert cards_of(response) == [] and b"Otto" not in response.content
    # Clinic B's own client sees its patient.
    (card,) = cards_of(
        call(
            client,
            VIEW,
            patient_view_request("777"),
            signed(key_b, VIEW, "https://ehr-b.example.org"),
        )
    )
    assert "Otto's finding" in card["summary"]


# --------------------------------------------------------------------------- tokens


def test_expired_replayed_and_wrongly_signed_tokens_get_401(
    client: Client, ehr: EhrClient, key: ClientKey
) -> None:
    body = order_request("order-sign", DIAZEPAM)
    now = int(time.time())
    expired = key.sign(claims(ISSUER, audience(SIGN)) | {"iat": now - 600, "exp": now - 300})
    token = signed(key, SIGN)
    assert call(client, SIGN, body, token).status_code == 200
    impostor = new_key("ES384", kid=key.kid).sign(claims(ISSUER, audience(SIGN)))
    wrong_audience = key.sign(claims(ISSUER, audience(VIEW)))
    for bad, words in [
        (expired, "expired"),
        (token, "already used"),
        (impostor, "not signed by a registered client's key"),
        (wrong_audience, "audience"),
        (None, "No usable token"),
    ]:
        response = call(client, SIGN, body, bad)
        assert response.status_code == 401, words
        assert words in response.json()["error"]
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"Diazepam" not in response.content


def test_the_audience_is_the_configured_url_not_the_host_header(
    client: Client, ehr: EhrClient, key: ClientKey, settings: Any
) -> None:
    """A token meant for another host that also reaches this server (another name the
    server answers to) is refused: only the configured URL is the audience."""
    settings.KRATOMWATCH_BASE_URL = "https://kw.example.org/"
    settings.ALLOWED_HOSTS = ["testserver", "kw-internal.example.net"]
    body = order_request("order-sign", DIAZEPAM)
    by_host = key.sign(claims(ISSUER, "http://kw-internal.example.net" + url(SIGN)))
    response = client.post(
        url(SIGN),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {by_host}",
        HTTP_HOST="kw-internal.example.net",
    )
    assert response.status_code == 401
    assert "https://kw.example.org/cds-services/" in response.json()["error"]
    configured = key.sign(claims(ISSUER, "https://kw.example.org" + url(SIGN)))
    assert cards_of(call(client, SIGN, body, configured))


def test_a_deactivated_client_is_refused(client: Client, ehr: EhrClient, key: ClientKey) -> None:
    ehr.active = False
    ehr.save()
    response = call(client, VIEW, patient_view_request(), signed(key, VIEW))
    assert response.status_code == 401


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    "body, words",
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (json.dumps({"hook": "order-sign"}).encode(), "hookInstance"),
        (
            json.dumps({"hook": "patient-view", "hookInstance": "x", "context": {}}).encode(),
            "answers",
        ),
        (
            json.dumps(
                {"hook": "order-sign", "hookInstance": "x", "context": {"userId": "u"}}
            ).encode(),
            "patientId",
        ),
        (
            json.dumps(
                {
                    "hook": "order-sign",
                    "hookInstance": "x",
                    "context": {"userId": "u", "patientId": "p"},
                }
            ).encode(),
            "draftOrders",
        ),
        (
            json.dumps(
                {
                    "hook": "order-sign",
                    "hookInstance": "x",
                    "context": {
                        "userId": "u",
                        "patientId": "p",
                        "draftOrders": {"resourceType": "Bundle", "entry": "x"},
                    },
                }
            ).encode(),
            "entry",
        ),
    ],
)
def test_malformed_requests_get_400_with_the_reason(
    client: Client, ehr: EhrClient, key: ClientKey, body: bytes, words: str
) -> None:
    response = call(client, SIGN, None, signed(key, SIGN), raw=body)
    assert response.status_code == 400
    assert words in response.json()["error"]


def test_a_deeply_nested_body_is_400(client: Client, ehr: EhrClient, key: ClientKey) -> None:
    response = call(client, SIGN, None, signed(key, SIGN), raw=b"[" * 100_000)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]


def test_at_most_fifty_drafts_are_screened(client: Client, ehr: EhrClient, key: ClientKey) -> None:
    orders = [(f"rx-{i}", "Amoxicillin 500 MG Oral Capsule", "308191") for i in range(51)]
    response = call(client, SIGN, order_request("order-sign", *orders), signed(key, SIGN))
    assert response.status_code == 400
    assert "at most 50" in response.json()["error"]
    fifty = order_request("order-sign", *orders[:50])
    assert cards_of(call(client, SIGN, fifty, signed(key, SIGN))) == []


def test_order_select_needs_its_selections(client: Client, ehr: EhrClient, key: ClientKey) -> None:
    body = order_request("order-select", DIAZEPAM)
    del body["context"]["selections"]
    response = call(client, SELECT, body, signed(key, SELECT))
    assert response.status_code == 400 and "selections" in response.json()["error"]


def test_an_unknown_service_is_404_and_get_is_405(client: Client, db: None) -> None:
    assert client.post(url("nope"), "{}", content_type="application/json").status_code == 404
    assert client.get(url(SIGN)).status_code == 405


def test_odd_bundles_are_read_without_error(client: Client, ehr: EhrClient, key: ClientKey) -> None:
    body = order_request("order-sign", DIAZEPAM)
    body["context"]["draftOrders"]["entry"] += [
        "x",
        {"resource": "x"},
        {"resource": {"resourceType": "MedicationRequest", "id": 5}},
        {"resource": {"resourceType": "MedicationRequest", "medicationReference": "x"}},
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "medicationReference": {"reference": "Medication/none"},
            }
        },
        {"resource": {"resourceType": "ServiceRequest", "id": "s"}},
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "medicationCodeableConcept": {"coding": 5},
            }
        },
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "contained": 5,
                "medicationReference": {"reference": "#m"},
                "dosageInstruction": [7],
            }
        },
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "medicationCodeableConcept": {"text": 5},
            }
        },
    ]
    body["prefetch"] = {"medications": None}
    cards = cards_of(call(client, SIGN, body, signed(key, SIGN)))
    # The diazepam card, then one "not screened" card per order naming no medication.
    assert [c["indicator"] for c in cards] == ["critical"] + ["info"] * 4


# --------------------------------------------------------------------------- audit


def test_every_call_is_audited(
    client: Client,
    ehr: EhrClient,
    key: ClientKey,
    tri: Triangle,  # noqa: F811
) -> None:
    call(client, SIGN, order_request("order-sign", DIAZEPAM), signed(key, SIGN))
    call(client, VIEW, patient_view_request("unlinked"), signed(key, VIEW))
    call(client, SIGN, order_request("order-sign", DIAZEPAM), None)
    call(client, SIGN, None, signed(key, SIGN), raw=b"[")
    assert call(client, "nope", {}, signed(key, SIGN)).status_code == 404
    events = list(
        AuditEvent.objects.filter(action__startswith="cds.")
        .order_by("seq")
        .values_list("action", "patient", "object_uuid", "object_type")
    )
    assert events == [
        ("cds.order-sign", tri.patient.pk, ehr.uuid, "ehr_client"),
        ("cds.patient-view", None, ehr.uuid, "ehr_client"),
        ("cds.refused", None, None, "refused:token"),
        ("cds.refused", None, ehr.uuid, "refused:request"),
        ("cds.refused", None, None, "refused:unknown-service"),
    ]


def test_card_text_is_escaped_and_the_summary_kept_short() -> None:
    from kratomwatch.domain.findings import Finding, Severity

    finding = Finding(
        code="interaction.benzodiazepine",
        severity=Severity.HIGH,
        category="interaction",
        title="t" * 200,
        rationale="because",
        management="review",
        patient_message=None,
        references=("r1",),
    )
    finding = replace(finding, rationale="Diazepam *bold* listed.")
    draft = cds_hooks.DraftMedication("MedicationRequest/1", "Diazepam", None)
    card = cds_hooks.order_card(
        finding, draft, {"r1": {"citation": "C", "url": "https://x.org"}}, removable=False
    )
    jsonschema.validate({"cards": [card]}, SCHEMA)
    assert len(card["summary"]) < 140
    assert "Diazepam \\*bold\\*" in card["detail"]


def test_the_patient_sees_the_ehr_calls_about_them(
    client: Client,
    ehr: EhrClient,
    key: ClientKey,
    tri: Triangle,  # noqa: F811
) -> None:
    call(client, VIEW, patient_view_request(), signed(key, VIEW))
    client.force_login(tri.patient.user)
    page = client.get("/me/record-views/").content.decode()
    assert "The clinic&#x27;s EHR" in page or "The clinic's EHR" in page
    assert "chart opened" in page


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "resourceType",
        "id",
        "status",
        "medicationCodeableConcept",
        "medicationReference",
        "contained",
        "dosageInstruction",
        "coding",
        "text",
        "display",
        "reference",
        "entry",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    resource=st.dictionaries(FIELDS, JSON | st.just("MedicationRequest"), max_size=6),
    entry=JSON,
    selections=JSON,
    prefetch=JSON,
)
def test_any_json_is_read_or_refused_with_a_reason(
    resource: dict[str, Any], entry: Any, selections: Any, prefetch: Any
) -> None:
    resource.setdefault("resourceType", "MedicationRequest")
    for hook, service in [("order-select", SELECT), ("order-sign", SIGN)]:
        body = {
            "hook": hook,
            "hookInstance": "x",
            "context": {
                "userId": "u",
                "patientId": "p",
                "selections": selections,
                "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": resource}, entry]},
            },
            "prefetch": {"medications": prefetch},
        }
        try:
            cds_hooks.parse_call(json.dumps(body).encode(), cds_hooks.SERVICES_BY_ID[service])
        except cds_hooks.BadHookRequest as exc:
            assert str(exc)
