"""Screening speed for a typical patient: 10 medications, 90 days of entries.

Usage: python bench/screening.py [--runs N] [--conditions] [--json OUT.json]
Prints the median and p95 time of one `screen()` call (knowledge base already loaded, as in
a running server). Target: median under 5 ms. With --conditions the patient's conditions are
free text (lay names, ICD-10-CM codes and titles) instead of condition codes.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.plan_check import PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.safety import (
    DoseTaken,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
    load_knowledge,
    screen,
)

MEDICATIONS = [
    "Xanax 0.5 mg",
    "oxycodone 10 mg",
    "gabapentin 300mg TID",
    "sertraline 50 mg",
    "Lisinopril 10mg",
    "metformin 500 mg",
    "atorvastatin 20 mg",
    "omeprazole 20 mg",
    "cyclobenzaprine 10 mg",
    "ibuprofen 400 mg",
]


FREE_TEXT_CONDITIONS = (
    "sciatica down my left leg",
    "high blood pressure",
    "type 2 diabetes",
    "E03.9",
    "acid reflux",
    "migraines",
    "Essential (primary) hypertension",
    "depression",
)


def typical_patient(now: datetime, conditions: tuple[str, ...] = ()) -> Snapshot:
    leaf = ProductUse(
        "Red Bali", ProductSpec(ProductForm.LEAF_POWDER, mitragynine_mg_per_g=Decimal(15))
    )
    caps = ProductUse("Caps", ProductSpec(ProductForm.CAPSULE, unit_material_mg=Decimal(500)))
    daily = get_instrument("kw-daily-pain")
    phq9 = get_instrument("phq9")
    doses, responses, symptoms = [], [], []
    for i in range(90):
        day = now - timedelta(days=89 - i)
        for k in range(3):
            grams = Decimal("2.5") + Decimal(i) / 100
            doses.append(
                DoseTaken(
                    day - timedelta(hours=4 * k),
                    grams,
                    "g",
                    leaf.name,
                    Exposure(grams, grams * 15, None),
                )
            )
        responses.append(Response("kw-daily-pain", day, score(daily, [6, 6, 5, 4, 5])))
        if i % 7 == 0:
            symptoms.append(SymptomReport("constipation", day))
        if i % 30 == 0:
            responses.append(Response("phq9", day, score(phq9, [1, 1, 0, 1, 0, 1, 0, 0, 0])))
    return Snapshot(
        as_of=now,
        medications=tuple(Medication(m) for m in MEDICATIONS),
        conditions=conditions or ("low_back_pain", "psychiatric"),
        symptoms=tuple(symptoms),
        products=(leaf, caps),
        doses=tuple(doses),
        responses=tuple(responses),
        plan=PlanLimits(1, Decimal(4), Decimal(12), 4, Decimal(3)),
        year_of_birth=1970,
    )


def measure(runs: int, free_text: bool = False) -> dict[str, object]:
    load_knowledge()
    conditions = FREE_TEXT_CONDITIONS if free_text else ()
    snapshot = typical_patient(datetime.now(UTC), conditions)
    screen(snapshot)  # warm caches (recognizer indexes, instruments)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = screen(snapshot)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "benchmark": "screen(typical patient: 10 medications, 90 days"
        + (", 8 free-text conditions)" if free_text else ")"),
        "runs": runs,
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "findings": len(result.findings),
        "doses": len(snapshot.doses),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--conditions", action="store_true", help="free-text conditions")
    parser.add_argument("--json", metavar="OUT.json")
    args = parser.parse_args()
    figures = measure(args.runs, args.conditions)
    print(
        f"{figures['benchmark']}: median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms"
        f" over {figures['runs']} runs ({figures['findings']} findings)"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)


if __name__ == "__main__":
    main()
