"""The lots API: who may list and add lots, explicit units, and doses naming a lot."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from kratomwatch.clinic.models import ProductLot, TokenScope

from ..web.test_lots import make_lot
from .conftest import Api, Triangle

WHO = ["patient", "other_patient", "clinician", "colleague", "outsider", "admin", "other_admin"]


def lots_url(t: Triangle) -> str:
    return f"/api/patients/{t.patient.uuid}/products/{t.product.uuid}/lots"


@pytest.mark.parametrize("who", WHO)
def test_lots_are_listed_for_the_patient_and_their_care_team(
    api_as: Callable[..., Api], tri: Triangle, who: str
) -> None:
    make_lot(tri)
    response = api_as(who, TokenScope.READ).get(lots_url(tri))
    if who in ("patient", "clinician"):
        assert response.status_code == 200
        (item,) = response.json()["items"]
        assert item["lot_number"] == "L-42" and item["has_certificate"] is True
        assert item["hydroxymitragynine_mg_per_g"] == "0.2"
    else:
        assert response.status_code == 404
        assert b"L-42" not in response.content


def test_the_patient_adds_a_lot_in_percent_stored_in_mg_per_g(
    api_as: Callable[..., Api], tri: Triangle
) -> None:
    api = api_as("patient")
    body = {"lot_number": "A1", "unit": "%", "mitragynine": "1.5", "hydroxymitragynine": "0.02"}
    response = api.post(lots_url(tri), body, key="lot-1")
    assert response.status_code == 201, response.content
    assert response.json()["mitragynine_mg_per_g"] == "15"
    assert response.json()["entered_unit"] == "%"
    again = api.post(lots_url(tri), body, key="lot-1")
    assert again.status_code == 200
    assert ProductLot.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lot_number": "A1", "unit": "g", "mitragynine": "1"}, "unit"),
        ({"lot_number": "A1", "unit": "%", "mitragynine": "1,5"}, "mitragynine"),
        ({"lot_number": "A1", "mitragynine": "15", "total_alkaloids": "10"}, "total_alkaloids"),
    ],
)
def test_bad_figures_are_422_and_store_nothing(
    api_as: Callable[..., Api], tri: Triangle, body: dict[str, str], field: str
) -> None:
    response = api_as("patient").post(lots_url(tri), body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not ProductLot.objects.exists()


@pytest.mark.parametrize("who", ["clinician", "colleague", "outsider", "admin", "other_patient"])
def test_only_the_patient_adds_lots(api_as: Callable[..., Api], tri: Triangle, who: str) -> None:
    response = api_as(who).post(lots_url(tri), {"lot_number": "A1"})
    assert response.status_code in (403, 404)
    assert not ProductLot.objects.exists()


def test_a_dose_naming_a_lot_uses_its_figures(api_as: Callable[..., Api], tri: Triangle) -> None:
    lot = make_lot(tri)
    body = {
        "product": str(tri.product.uuid),
        "lot": str(lot.uuid),
        "amount": "2",
        "unit": "g",
        "taken_at": "2026-01-05T08:30+00:00",
    }
    response = api_as("patient").post(f"/api/patients/{tri.patient.uuid}/doses", body)
    assert response.status_code == 201, response.content
    assert response.json()["lot"] == str(lot.uuid)
    assert response.json()["hydroxymitragynine_mg"] == "0.4"
    dose = tri.patient.doses.get()
    assert dose.lot == lot and dose.hydroxymitragynine_mg == Decimal("0.4")


def test_a_dose_naming_an_unknown_lot_is_422(api_as: Callable[..., Api], tri: Triangle) -> None:
    body = {
        "product": str(tri.product.uuid),
        "lot": "00000000-0000-4000-8000-000000000000",
        "amount": "2",
        "unit": "g",
        "taken_at": "2026-01-05T08:30+00:00",
    }
    response = api_as("patient").post(f"/api/patients/{tri.patient.uuid}/doses", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lot"
    assert not tri.patient.doses.exists()
