"""Product lots through FHIR (Medication with batch and ingredient strengths) and CSV."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from fhir.resources.R4B.medication import Medication

from kratomwatch.clinic.models import Clinic, PatientProfile, ProductLot
from kratomwatch.interop.fhir_export import patient_bundle
from kratomwatch.interop.fhir_import import do_import_fhir
from kratomwatch.interop.fhir_lots import SID_PRODUCT, lots_from_bundle

from .conftest import patient


def _lots(p: PatientProfile) -> list[ProductLot]:
    product = p.products.order_by("pk").first()
    assert product is not None
    return [
        ProductLot.objects.create(
            product=product,
            lot_number="B-2026-11",
            purchased_on=date(2026, 11, 2),
            lab_name="Lab Co",
            tested_on=date(2026, 10, 20),
            entered_unit="%",
            mitragynine_mg_per_g=Decimal("15.25"),
            hydroxymitragynine_mg_per_g=Decimal("0.3"),
            total_alkaloids_mg_per_g=Decimal("21"),
        ),
        ProductLot.objects.create(product=product, lot_number="no figures"),
    ]


def _fields(lot: ProductLot) -> tuple[object, ...]:
    return (
        lot.product_id,
        lot.lot_number,
        lot.purchased_on,
        lot.lab_name,
        lot.tested_on,
        lot.entered_unit,
        lot.mitragynine_mg_per_g,
        lot.hydroxymitragynine_mg_per_g,
        lot.total_alkaloids_mg_per_g,
    )


def test_lots_are_exported_as_valid_r4b_medications(clinic: Clinic) -> None:
    p = patient(clinic, 1)
    lot, _ = _lots(p)
    bundle = json.loads(json.dumps(patient_bundle(p)))
    medications = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Medication"
    ]
    assert len(medications) == 2
    first = next(m for m in medications if m["id"] == str(lot.uuid))
    Medication.model_validate(first)
    assert first["batch"]["lotNumber"] == "B-2026-11"
    assert first["identifier"] == [{"system": SID_PRODUCT, "value": str(lot.product.uuid)}]
    strengths = {
        i["itemCodeableConcept"]["coding"][0]["code"]: i["strength"] for i in first["ingredient"]
    }
    assert strengths["hydroxymitragynine"]["numerator"] == {
        "value": 0.3,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    assert strengths["hydroxymitragynine"]["denominator"]["code"] == "g"


def test_lots_round_trip_through_fhir(clinic: Clinic) -> None:
    p = patient(clinic, 1)
    before = sorted(_fields(lot) for lot in _lots(p))
    bundle = json.loads(json.dumps(patient_bundle(p)))
    ProductLot.objects.filter(product__patient=p).delete()
    report = do_import_fhir(p, bundle)
    assert report.lots_added == 2
    after = sorted(_fields(lot) for lot in ProductLot.objects.filter(product__patient=p))
    assert after == before
    # Importing again adds nothing.
    assert do_import_fhir(p, bundle).lots_added == 0


def test_a_strength_in_another_unit_is_not_guessed(clinic: Clinic) -> None:
    p = patient(clinic, 1)
    _lots(p)
    bundle = json.loads(json.dumps(patient_bundle(p)))
    for entry in bundle["entry"]:
        for ingredient in entry["resource"].get("ingredient", []):
            ingredient["strength"]["denominator"]["code"] = "kg"
    parsed = {lot.lot_number: lot for lot in lots_from_bundle(bundle)}
    assert parsed["B-2026-11"].figures.hydroxymitragynine_mg_per_g is None


def test_lots_of_another_patients_products_are_not_imported(clinic: Clinic) -> None:
    source, target = patient(clinic, 1), patient(clinic, 2)
    _lots(source)
    bundle = json.loads(json.dumps(patient_bundle(source)))
    report = do_import_fhir(target, bundle, override_patient_check=True)
    assert report.lots_added == 0
    assert not ProductLot.objects.filter(product__patient=target).exists()
