"""Turn stored records into the plain objects of the clinical core."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from kratomwatch.domain.doses import Exposure
from kratomwatch.domain.plan_check import DoseEvent, PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.safety import (
    DoseTaken,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SymptomReport,
)

from .models import DoseEntry, PatientProfile, Plan, Product

#: How far back screening looks: long enough for the lack-of-benefit rule (90 days plus a
#: two-week baseline) with room to spare.
SCREENING_WINDOW = timedelta(days=120)


def product_spec(product: Product) -> ProductSpec:
    return ProductSpec(
        form=ProductForm(product.form),
        mitragynine_mg_per_g=product.mitragynine_mg_per_g,
        hydroxymitragynine_mg_per_g=product.hydroxymitragynine_mg_per_g,
        unit_material_mg=product.unit_material_mg,
        mitragynine_mg_per_unit=product.mitragynine_mg_per_unit,
        hydroxymitragynine_mg_per_unit=product.hydroxymitragynine_mg_per_unit,
        leaf_g_per_ml=product.leaf_g_per_ml,
        mitragynine_mg_per_ml=product.mitragynine_mg_per_ml,
        hydroxymitragynine_mg_per_ml=product.hydroxymitragynine_mg_per_ml,
        extract_ratio=product.extract_ratio,
    )


def plan_limits(plan: Plan) -> PlanLimits:
    return PlanLimits(
        version=plan.version,
        max_single_dose_g=plan.max_single_dose_g,
        max_daily_dose_g=plan.max_daily_dose_g,
        max_doses_per_day=plan.max_doses_per_day,
        min_hours_between=plan.min_hours_between,
    )


def dose_event(dose: DoseEntry) -> DoseEvent:
    return DoseEvent(
        id=str(dose.uuid), taken_at=dose.taken_at, leaf_equivalent_g=dose.leaf_equivalent_g
    )


def patient_snapshot(patient: PatientProfile, now: datetime) -> Snapshot:
    """Everything the safety engine needs about one patient, as of ``now``."""
    since = now - SCREENING_WINDOW
    today = now.date()
    products = {p.pk: p for p in patient.products.all()}
    specs = {pk: product_spec(p) for pk, p in products.items()}
    doses = tuple(
        DoseTaken(
            d.taken_at,
            d.amount,
            d.unit,
            products[d.product_id].name,
            Exposure(d.leaf_equivalent_g, d.mitragynine_mg, d.hydroxymitragynine_mg),
        )
        for d in patient.doses.filter(taken_at__gte=since, taken_at__lte=now).order_by("taken_at")
    )
    responses = []
    for r in patient.responses.filter(taken_at__gte=since, taken_at__lte=now):
        instrument = get_instrument(r.instrument_id)
        responses.append(Response(r.instrument_id, r.taken_at, score(instrument, r.answers)))
    plan = patient.plans.filter(active=True).order_by("-version").first()
    meds = patient.medications.filter(Q(stopped_on__isnull=True) | Q(stopped_on__gte=today))
    return Snapshot(
        as_of=now,
        tz=ZoneInfo(settings.TIME_ZONE),
        medications=tuple(Medication(m.name_entered, m.dose_text or None) for m in meds),
        conditions=tuple(patient.conditions.filter(active=True).values_list("code", flat=True)),
        symptoms=tuple(
            SymptomReport(s.term, s.reported_at, s.severity)
            for s in patient.symptoms.filter(reported_at__gte=since, reported_at__lte=now)
        ),
        products=tuple(ProductUse(products[pk].name, spec) for pk, spec in specs.items()),
        doses=doses,
        responses=tuple(responses),
        plan=plan_limits(plan) if plan else None,
        year_of_birth=patient.year_of_birth,
        pharmacogenomics={g.gene: g.phenotype for g in patient.pharmacogenomics.all()},
        benefit_review_days=plan.benefit_review_days if plan else None,
    )
