"""The clinic admin registers and deactivates EHR clients; the care team links EHR ids."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic.models import AuditEvent, EhrClient, EhrPatientLink
from tests.ehr_keys import claims, new_key

from .conftest import Triangle


def make_ehr_client(t: Triangle, kind: str = "cds-hooks") -> EhrClient:
    """A CDS Hooks client of clinic A (the patient's clinic)."""
    return EhrClient.objects.create(
        clinic=t.clinic,
        kind=kind,
        name="Hospital EHR",
        issuer=f"https://ehr.example.org/{EhrClient.objects.count()}",
        jwks=new_key("ES256").jwks,
    )


ADD = "/clinic/ehr-clients/add/"


def test_an_admin_registers_a_cds_hooks_client(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    jwks = new_key("RS384").jwks
    response = client.post(
        ADD,
        {
            "name": "Hospital EHR",
            "kind": "cds-hooks",
            "issuer": "https://ehr.example.org",
            "jwks": json.dumps(jwks),
        },
    )
    added = EhrClient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ehr_client", kwargs={"client_uuid": added.uuid})
    assert (added.clinic, added.issuer, added.jwks, added.created_by) == (
        tri.clinic,
        "https://ehr.example.org",
        jwks,
        tri.admin,
    )
    assert AuditEvent.objects.filter(action="ehr_client.create", object_uuid=added.uuid).exists()
    page = client.get(response["Location"]).content.decode()
    assert "https://ehr.example.org" in page and "1 public key" in page
    assert "Hospital EHR" in client.get("/clinic/ehr-clients/").content.decode()
    # The other clinic's admin sees none of it.
    client.force_login(tri.other_admin)
    assert "Hospital EHR" not in client.get("/clinic/ehr-clients/").content.decode()
    assert client.get(response["Location"]).status_code == 404


def test_a_bulk_client_gets_a_client_id_and_its_scopes(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    response = client.post(
        ADD,
        {
            "name": "Registry",
            "kind": "bulk",
            "issuer": "ignored",
            "jwks_url": "https://registry.example.org/jwks.json",
            "scopes": ["system/Patient.read", "system/Observation.read"],
        },
    )
    assert response.status_code == 302
    added = EhrClient.objects.get()
    assert added.issuer.startswith("kw-") and len(added.issuer) > 20
    assert added.scopes == "system/Patient.read system/Observation.read"
    assert added.jwks_url == "https://registry.example.org/jwks.json"
    assert added.issuer in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"kind": "cds-hooks", "issuer": "x"}, "jwks", "Paste the client"),
        ({"kind": "cds-hooks", "issuer": "x", "jwks": "{not json"}, "jwks", "not valid JSON"),
        ({"kind": "cds-hooks", "issuer": "x", "jwks": '{"keys": []}'}, "jwks", "no keys"),
        ({"kind": "cds-hooks", "jwks_url": "http://ehr.example.org/k"}, "jwks_url", "https"),
        ({"kind": "cds-hooks", "jwks_url": "https://10.0.0.1/k"}, "jwks_url", "IP address"),
        ({"kind": "cds-hooks", "jwks_url": "https://ehr.example.org/k"}, "issuer", "issuer"),
        ({"kind": "bulk", "jwks_url": "https://ehr.example.org/k"}, "scopes", "export"),
        ({"kind": "odd", "jwks_url": "https://ehr.example.org/k"}, "kind", "valid choice"),
    ],
)
def test_a_bad_registration_says_what_is_wrong_and_keeps_the_values(
    client: Client, tri: Triangle, fields: dict[str, str], field: str, words: str
) -> None:
    client.force_login(tri.admin)
    response = client.post(ADD, {"name": "My EHR", **fields})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and words in " ".join(errors[field]), errors
    assert 'value="My EHR"' in response.content.decode()
    assert not EhrClient.objects.exists()


def test_a_private_key_is_refused(client: Client, tri: Triangle) -> None:
    key = new_key("ES256")
    private = key.public_jwk | {"d": "c2VjcmV0"}
    client.force_login(tri.admin)
    response = client.post(
        ADD,
        {"name": "E", "kind": "cds-hooks", "issuer": "i", "jwks": json.dumps({"keys": [private]})},
    )
    assert response.status_code == 400
    assert "private key" in " ".join(response.context["form"].errors["jwks"])


def _register(client: Client, issuer: str) -> object:
    return client.post(
        ADD,
        {
            "name": "E",
            "kind": "cds-hooks",
            "issuer": issuer,
            "jwks": json.dumps(new_key().jwks),
        },
    )


def test_an_issuer_active_elsewhere_is_refused_without_saying_where(
    client: Client, tri: Triangle
) -> None:
    taken = make_ehr_client(tri)
    client.force_login(tri.other_admin)
    response = _register(client, taken.issuer)
    assert response.status_code == 400
    error = " ".join(response.context["form"].errors["issuer"])
    assert "cannot be registered here" in error and "operator" in error
    assert "already" not in error and tri.clinic.name not in response.content.decode()
    # Within the clinic it may say so.
    client.force_login(tri.admin)
    response = _register(client, taken.issuer)
    assert response.status_code == 400
    assert "already registered" in " ".join(response.context["form"].errors["issuer"])


def test_a_deactivated_issuer_can_be_registered_again(client: Client, tri: Triangle) -> None:
    old = make_ehr_client(tri)
    old.active = False
    old.save()
    client.force_login(tri.admin)
    assert _register(client, old.issuer).status_code == 302
    client.force_login(tri.other_admin)
    assert _register(client, old.issuer).status_code == 400  # active again, in clinic A
    assert EhrClient.objects.filter(issuer=old.issuer, active=True).count() == 1
    assert EhrClient.objects.filter(issuer=old.issuer).count() == 2


def test_deactivation_needs_confirmation(client: Client, tri: Triangle) -> None:
    ehr = make_ehr_client(tri)
    url = reverse("ehr_client_deactivate", kwargs={"client_uuid": ehr.uuid})
    client.force_login(tri.admin)
    response = client.post(url, {})
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    ehr.refresh_from_db()
    assert ehr.active
    assert client.post(url, {"confirm": "on"}).status_code == 302
    ehr.refresh_from_db()
    assert not ehr.active and ehr.deactivated_at is not None
    assert AuditEvent.objects.filter(action="ehr_client.deactivate").count() == 1


@pytest.mark.parametrize("who", ["patient", "clinician", "outsider", "other_admin"])
def test_only_the_clinics_admin_deactivates(client: Client, tri: Triangle, who: str) -> None:
    ehr = make_ehr_client(tri)
    client.force_login(tri.users()[who])
    url = reverse("ehr_client_deactivate", kwargs={"client_uuid": ehr.uuid})
    assert client.post(url, {"confirm": "on"}).status_code in (403, 404)
    ehr.refresh_from_db()
    assert ehr.active


def test_the_care_team_sets_and_removes_an_ehr_id(client: Client, tri: Triangle) -> None:
    ehr = make_ehr_client(tri)
    make_ehr_client(tri, kind="bulk")  # not offered: bulk export links no patient
    url = reverse("ehr_links", kwargs={"patient_uuid": tri.patient.uuid})
    client.force_login(tri.clinician)
    page = client.get(url).content.decode()
    assert page.count("<option") == 2  # the empty choice and the CDS Hooks client
    response = client.post(url, {"client": str(ehr.uuid), "ehr_patient_id": "1288992"})
    assert response.status_code == 302
    link = EhrPatientLink.objects.get()
    assert (link.client, link.patient, link.ehr_patient_id) == (ehr, tri.patient, "1288992")
    # Setting it again replaces it.
    client.post(url, {"client": str(ehr.uuid), "ehr_patient_id": "55"})
    assert EhrPatientLink.objects.get().ehr_patient_id == "55"
    remove = reverse("ehr_link_remove", kwargs={"patient_uuid": tri.patient.uuid})
    assert client.post(remove, {"link": str(link.uuid)}).status_code == 302
    assert not EhrPatientLink.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="ehr_link.")
        .order_by("seq")
        .values_list("action")
    )
    assert actions == [("ehr_link.set",), ("ehr_link.set",), ("ehr_link.remove",)]


def test_one_ehr_id_names_one_patient(client: Client, tri: Triangle) -> None:
    ehr = make_ehr_client(tri)
    EhrPatientLink.objects.create(client=ehr, patient=tri.other_patient, ehr_patient_id="7")
    client.force_login(tri.clinician)
    url = reverse("ehr_links", kwargs={"patient_uuid": tri.patient.uuid})
    response = client.post(url, {"client": str(ehr.uuid), "ehr_patient_id": "7"})
    assert response.status_code == 400
    assert "already linked to another patient" in response.content.decode()
    assert EhrPatientLink.objects.count() == 1


def test_another_clinics_client_cannot_be_chosen(client: Client, tri: Triangle) -> None:
    other = EhrClient.objects.create(
        clinic=tri.other_clinic, kind="cds-hooks", name="B", issuer="b", jwks=new_key().jwks
    )
    client.force_login(tri.clinician)
    url = reverse("ehr_links", kwargs={"patient_uuid": tri.patient.uuid})
    response = client.post(url, {"client": str(other.uuid), "ehr_patient_id": "1"})
    assert response.status_code == 400
    assert "this clinic" in response.content.decode()
    assert not EhrPatientLink.objects.exists()


@pytest.mark.parametrize("who", ["patient", "colleague", "outsider", "admin", "other_admin"])
def test_only_the_care_team_links_or_unlinks(client: Client, tri: Triangle, who: str) -> None:
    ehr = make_ehr_client(tri)
    link = EhrPatientLink.objects.create(client=ehr, patient=tri.patient, ehr_patient_id="1")
    client.force_login(tri.users()[who])
    remove = reverse("ehr_link_remove", kwargs={"patient_uuid": tri.patient.uuid})
    assert client.post(remove, {"link": str(link.uuid)}).status_code in (403, 404)
    url = reverse("ehr_links", kwargs={"patient_uuid": tri.patient.uuid})
    assert client.post(url, {"client": str(ehr.uuid), "ehr_patient_id": "2"}).status_code in (
        403,
        404,
    )
    assert EhrPatientLink.objects.get().ehr_patient_id == "1"


def test_an_admin_cannot_reach_a_record_through_a_client_of_their_own(
    client: Client, tri: Triangle
) -> None:
    """The admin registers a CDS Hooks client with keys they hold, but cannot link a patient
    to it, so a token they sign reaches no record."""
    key = new_key("ES384")
    client.force_login(tri.admin)
    response = client.post(
        ADD,
        {
            "name": "Mine",
            "kind": "cds-hooks",
            "issuer": "https://admin.example.org",
            "jwks": json.dumps(key.jwks),
        },
    )
    assert response.status_code == 302
    ehr = EhrClient.objects.get()
    url = reverse("ehr_links", kwargs={"patient_uuid": tri.patient.uuid})
    assert client.get(url).status_code == 403
    assert client.post(url, {"client": str(ehr.uuid), "ehr_patient_id": "1"}).status_code == 403
    assert not EhrPatientLink.objects.exists()
    page = client.get(reverse("clinic_user", kwargs={"user_uuid": tri.patient.user.uuid}))
    assert url not in page.content.decode()
    service = "/cds-services/kratomwatch-patient-view"
    token = key.sign(claims(ehr.issuer, settings.KRATOMWATCH_BASE_URL.rstrip("/") + service))
    answer = Client().post(
        service,
        {
            "hookInstance": "h",
            "hook": "patient-view",
            "context": {"userId": "Practitioner/1", "patientId": "1"},
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 200 and answer.json() == {"cards": []}
