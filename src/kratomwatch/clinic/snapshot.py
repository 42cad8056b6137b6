"""Turn stored records into the plain objects of the clinical core."""

from __future__ import annotations

from kratomwatch.domain.plan_check import DoseEvent, PlanLimits
from kratomwatch.domain.products import ProductForm, ProductSpec

from .models import DoseEntry, Plan, Product


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
    return DoseEvent(id=str(dose.uuid), taken_at=dose.taken_at, leaf_equivalent_g=dose.leaf_equivalent_g)
