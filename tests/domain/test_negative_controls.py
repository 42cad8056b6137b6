"""Negative controls: common medicines, conditions and patterns of use that must raise nothing.

Alert fatigue is how decision support fails: a finding must be worth a clinician's time. Each
entry here is common in people with chronic pain and has no known interaction or concern with
kratom at ordinary use; screening it alone must produce no finding and no "not recognized"
notice. Positive scenarios are in test_rules_scenarios.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.plan_check import PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.safety import screen
from kratomwatch.domain.safety.snapshot import (
    DoseTaken,
    Medication,
    ProductUse,
    Snapshot,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

MEDICINES = [
    # Ordinary doses whose possible effects are shown as notes, never findings:
    "Imodium 2 mg after each loose stool",
    "loperamide 2mg 2 caps bid",
    "sertraline 50 mg daily",
    "nortriptyline 25 mg at night",
    "diltiazem 120 mg daily",
    "CBD oil 10 drops",
    "ibuprofen 400 mg tid prn",
    "Advil 200mg 2 tabs",
    "paracetamol 1 g qds",
    "Tylenol 500 mg prn",
    "naproxen 500 mg bid",
    "omeprazole 20mg daily",
    "pantoprazole 40 mg",
    "lisinopril 10mg",
    "amlodipine 5 mg daily",
    "losartan 50mg",
    "hydrochlorothiazide 25 mg",
    "furosemide 40mg",
    "rosuvastatin 10 mg at night",
    "metformin 1 g bd",
    "sitagliptin 100mg",
    "insulin glargine 20 units at night",
    "levothyroxine 100 mcg",
    "aspirin 81 mg",
    "clopidogrel 75mg",
    "allopurinol 300 mg",
    "prednisone 5mg",
    "tamsulosin 0.4 mg",
    "finasteride 5 mg",
    "amoxicillin 500mg tds",
    "cetirizine 10 mg",
    "loratadine",
    "montelukast 10mg nocte",
    "fluticasone nasal spray 2 sprays each nostril",
    "salbutamol inhaler 2 puffs prn",
    "albuterol HFA",
    "melatonin 3 mg at night",
    "vitamin D 1000 IU",
    "fish oil",
    "multivitamin",
    "magnesium citrate 400mg",
    "calcium + vitamin D",
    "folic acid",
    "the pill",
    "levonorgestrel/ethinyl estradiol",
    "lidocaine 5% patch",
    "capsaicin cream",
    "ketoconazole 2% cream",
    "Nizoral shampoo",
    "timolol eye drops",
    "latanoprost eye drops",
    "nicotine patch 21 mg",
    "coffee 3 cups a day",
    "green tea",
]

CONDITIONS = [
    "hypertension",
    "high blood pressure",
    "asthma",
    "type 2 diabetes",
    "hypothyroidism",
    "GERD",
    "acid reflux",
    "migraines",
    "high cholesterol",
    "osteoarthritis",
    "arthritis in my hands",
    "chronic low back pain",
    "sciatica",
    "fibromyalgia",
    "diabetic neuropathy",
    "gout",
    "eczema",
    "hay fever",
    "obesity",
    "glaucoma",
]


@pytest.mark.parametrize("entry", MEDICINES)
def test_a_common_medicine_alone_raises_nothing(entry: str) -> None:
    result = screen(Snapshot(as_of=NOW, medications=(Medication(entry),)))
    assert [f.code for f in result.findings] == []
    assert not any(result.not_recognized.values())


@pytest.mark.parametrize("condition", CONDITIONS)
def test_a_common_condition_alone_raises_nothing(condition: str) -> None:
    result = screen(Snapshot(as_of=NOW, conditions=(condition,)))
    assert [f.code for f in result.findings] == []
    assert not any(result.not_recognized.values())


LEAF = ProductUse("Maeng Da leaf", ProductSpec(ProductForm.LEAF_POWDER, Decimal(15)))


def _doses(days: int, grams: str, per_day: int) -> tuple[DoseTaken, ...]:
    g = Decimal(grams)
    return tuple(
        DoseTaken(
            NOW - timedelta(days=d, hours=6 * k),
            g,
            "g",
            LEAF.name,
            Exposure(g, g * 15, None),
        )
        for d in range(days)
        for k in range(per_day)
    )


@pytest.mark.parametrize(
    ("label", "snapshot"),
    [
        (
            "leaf of known strength, 3 g twice a day for two weeks, within the plan",
            Snapshot(
                as_of=NOW,
                products=(LEAF,),
                doses=_doses(14, "3", 2),
                plan=PlanLimits(1, max_single_dose_g=Decimal(4), max_daily_dose_g=Decimal(8)),
            ),
        ),
        (
            "leaf of known strength, 2 g once a day for ten days, no plan",
            Snapshot(as_of=NOW, products=(LEAF,), doses=_doses(10, "2", 1)),
        ),
        (
            "a product on record, no doses",
            Snapshot(as_of=NOW, products=(LEAF,)),
        ),
        (
            "an adult with pain conditions and everyday medicines",
            Snapshot(
                as_of=NOW,
                year_of_birth=1980,
                conditions=("low back pain", "hypertension"),
                medications=(Medication("amlodipine 5mg"), Medication("vitamin D")),
            ),
        ),
    ],
)
def test_an_ordinary_pattern_of_use_raises_nothing(label: str, snapshot: Snapshot) -> None:
    result = screen(snapshot)
    assert [f.code for f in result.findings] == [], label


def test_the_negative_controls_are_at_least_forty() -> None:
    assert len(MEDICINES) + len(CONDITIONS) >= 40
