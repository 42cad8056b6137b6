"""Products through the API: listed by the patient and their clinician, added and archived by
the patient, checked by the web page's own form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kratomwatch.clinic.models import AuditEvent, Product

from .conftest import Triangle


def url(t: Triangle) -> str:
    return f"/api/patients/{t.patient.uuid}/products"


CAPSULES = {
    "name": "Maeng Da capsules",
    "form": "capsule",
    "vendor": "Acme",
    "potency_source": "label",
    "mitragynine_mg_per_g": "15.5",
    "unit_material_mg": 500,
    "mitragynine_mg_per_unit": "7.75",
}


def test_the_patient_adds_a_product_once(api_as: Callable[..., Any], tri: Triangle) -> None:
    api = api_as("patient")
    response = api.post(url(tri), CAPSULES, key="p1")
    assert response.status_code == 201, response.content
    sent = response.json()
    product = Product.objects.get(uuid=sent["uuid"])
    assert product.patient == tri.patient and product.form == "capsule"
    assert str(product.mitragynine_mg_per_g) == "15.500"
    assert (sent["mitragynine_mg_per_g"], sent["unit_material_mg"]) == ("15.5", "500")
    assert sent["hydroxymitragynine_mg_per_g"] is None and sent["archived"] is False
    assert AuditEvent.objects.filter(action="product.create", object_uuid=product.uuid).exists()
    again = api.post(url(tri), CAPSULES, key="p1")
    assert again.status_code == 200 and again.json()["uuid"] == sent["uuid"]
    assert Product.objects.filter(patient=tri.patient).count() == 2  # the fixture's and this
    listed = api_as("clinician", scope="read").get(url(tri)).json()["items"]
    assert {p["name"] for p in listed} == {"Red Bali powder", "Maeng Da capsules"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"form": "gummy"}, "form"),
        ({"name": ""}, "name"),
        ({"potency_source": "rumour"}, "potency_source"),
        ({"mitragynine_mg_per_g": "2000"}, "mitragynine_mg_per_g"),  # above 1000 mg per g
        ({"mitragynine_mg_per_g": "-1"}, "mitragynine_mg_per_g"),
        ({"unit_material_mg": "0"}, "unit_material_mg"),
        ({"form": "leaf_powder"}, "unit_material_mg"),  # powder is not in capsules
        ({"leaf_g_per_ml": "0.1"}, "leaf_g_per_ml"),  # only teas and liquids in ml
        ({"mitragynine_mg_per_g": "twelve"}, "mitragynine_mg_per_g"),
    ],
)
def test_bad_products_are_refused_field_by_field(
    api_as: Callable[..., Any], tri: Triangle, change: dict[str, Any], field: str
) -> None:
    response = api_as("patient").post(url(tri), {**CAPSULES, **change})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert Product.objects.filter(patient=tri.patient).count() == 1


def test_the_patient_archives_a_product(api_as: Callable[..., Any], tri: Triangle) -> None:
    api = api_as("patient")
    archive = f"{url(tri)}/{tri.product.uuid}/archive"
    response = api.post(archive, {}, key="a1")
    assert response.status_code == 200 and response.json()["archived"] is True
    tri.product.refresh_from_db()
    assert tri.product.archived
    assert AuditEvent.objects.filter(action="product.archive").count() == 1
    # Archived again (another key): nothing changes, nothing is audited twice.
    assert api.post(archive, {}, key="a2").json()["archived"] is True
    assert AuditEvent.objects.filter(action="product.archive").count() == 1
    # An archived product takes no new doses.
    dose = {"product": str(tri.product.uuid), "amount": "1", "unit": "g",
            "taken_at": "2026-01-01T08:00Z"}  # fmt: skip
    refused = api.post(f"/api/patients/{tri.patient.uuid}/doses", dose, key="d1")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "product"


@pytest.mark.parametrize(
    ("who", "scope", "status"),
    [
        ("clinician", "write", 403),
        ("colleague", "write", 404),
        ("outsider", "write", 404),
        ("admin", "write", 404),
        ("other_patient", "write", 404),
        ("patient", "read", 403),
        ("anonymous", "write", 401),
    ],
)
def test_only_the_patient_adds_or_archives(
    api_as: Callable[..., Any], tri: Triangle, who: str, scope: str, status: int
) -> None:
    api = api_as(who, scope=scope)
    assert api.post(url(tri), CAPSULES).status_code == status
    assert api.post(f"{url(tri)}/{tri.product.uuid}/archive", {}).status_code == status
    tri.product.refresh_from_db()
    assert not tri.product.archived
    assert Product.objects.filter(patient=tri.patient).count() == 1


def test_archiving_an_unknown_product_is_404(api_as: Callable[..., Any], tri: Triangle) -> None:
    other = Product.objects.create(patient=tri.other_patient, name="Pia's", form="extract")
    response = api_as("patient").post(f"{url(tri)}/{other.uuid}/archive", {})
    assert response.status_code == 404
    other.refresh_from_db()
    assert not other.archived
