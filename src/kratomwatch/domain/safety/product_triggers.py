"""The product trigger: the kratom products in use, by form, measured content or name.

A product whose 7-OH content is unknown and that is sold in the forms or under the names of
concentrated 7-OH products is treated as possibly concentrated until a laboratory result
says otherwise (see :func:`possibly_concentrated`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ..lots import lot_concerns
from ..products import FORM_LABELS, ProductForm
from .trigger_context import RECENT_DAYS, Context, Hit


def _products_in_use(ctx: Context) -> list[Any]:
    if not ctx.snapshot.doses:
        return list(ctx.snapshot.products)
    since = ctx.snapshot.as_of - timedelta(days=RECENT_DAYS)
    used = {d.product for d in ctx.snapshot.doses if d.taken_at >= since}
    return [p for p in ctx.snapshot.products if p.name in used]


def product(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    products = _products_in_use(ctx)
    if "forms" in spec:
        forms = set(spec["forms"])
        hits = [p for p in products if p.spec.form.value in forms]
        if spec.get("unless_concentrated"):
            # Left to the rules on (possibly) concentrated 7-OH products, which say more.
            hits = [p for p in hits if not p.spec.high_risk and not possibly_concentrated(p)]
        reason = "form"
    elif spec.get("high_risk"):
        hits = [p for p in products if p.spec.high_risk]
        reason = "high-risk (7-OH, enhanced or concentrated 7-OH content)"
    elif spec.get("potency_unknown"):
        hits = [p for p in products if not p.spec.content_known]
        reason = "potency unknown (no mitragynine or 7-OH content recorded)"
    elif "lot_concern" in spec:
        return _lot_concern(spec["lot_concern"], products, ctx)
    elif spec.get("possibly_concentrated"):
        hits = [p for p in products if possibly_concentrated(p)]
        if not hits:
            return None
        names = "; ".join(f"{p.name}: {possibly_concentrated(p)}" for p in hits)
        return Hit(
            tuple({"type": "product", "name": p.name, "form": p.spec.form.value} for p in hits),
            "Product in use of unknown 7-OH content, possibly a concentrated 7-OH product "
            f"({names}).",
            ",".join(sorted(p.name for p in hits)),
        )
    else:  # pragma: no cover - the schema allows nothing else
        return None
    if not hits:
        return None
    names = ", ".join(f"{p.name} ({FORM_LABELS[p.spec.form]})" for p in hits)
    return Hit(
        tuple({"type": "product", "name": p.name, "form": p.spec.form.value} for p in hits),
        f"Product in use, {reason}: {names}.",
        ",".join(sorted(p.name for p in hits)),
    )


def _lot_concern(code: str, products: list[Any], ctx: Context) -> Hit | None:
    """Products in use with a lot whose lab figures show ``code`` (a
    :class:`kratomwatch.domain.lots.LotConcern` code) under the clinic's jurisdiction."""
    found: list[tuple[Any, str, str]] = []
    for p in products:
        for lot in p.lots:
            for concern in lot_concerns(lot.figures, ctx.snapshot.jurisdiction):
                if concern.code == code:
                    found.append((p, lot.lot_number, concern.detail))
    if not found:
        return None
    details = " ".join(f"{p.name}, lot {number}: {detail}" for p, number, detail in found)
    hit_products = {p.name: p for p, _, _ in found}.values()
    return Hit(
        tuple({"type": "product", "name": p.name, "form": p.spec.form.value} for p in hit_products),
        details,
        ",".join(sorted(f"{p.name}#{number}" for p, number, _ in found)),
    )


#: Words in a product's name that concentrated 7-OH and related semi-synthetic products are
#: sold under: "7-OH", "7OH", "7-hydroxy…", "pseudo…" (mitragynine pseudoindoxyl),
#: "enhanced", "OPMS", "shot", and the forms they come in: "extract", "tablets", "gummies".
_NAMED_7OH = re.compile(
    r"(?<![a-z0-9])(7\s*-?\s*oh|7\s*-?\s*hydroxy\w*|hydroxymitragynine|pseudo\w*|"
    r"enhanced|opms|shots?|extracts?|tabs?|tablets?|gumm(?:y|ies))(?![a-z0-9])",
    re.IGNORECASE,
)

#: Forms in which concentrated 7-OH products are sold under the name of kratom.
_CONCENTRATE_FORMS = {ProductForm.EXTRACT: "an extract", ProductForm.TABLET: "tablets"}


def possibly_concentrated(product: Any) -> str:
    """Why a product in use may be a concentrated 7-OH product, or "" when there is no
    reason to think so. A product whose 7-OH content is not recorded is treated as possibly
    concentrated until a laboratory result says otherwise when it is an extract or tablets
    (the forms these products are sold in as "kratom") or its name suggests it ("7-OH",
    "pseudo", "enhanced", "shot", "extract", …). Products already high-risk by form or
    measured content are left to that rule."""
    spec = product.spec
    if spec.high_risk or spec.hydroxymitragynine_known:
        return ""
    named = _NAMED_7OH.search(product.name)
    if named:
        return f"named '{named.group(0)}'"
    return f"sold as {_CONCENTRATE_FORMS[spec.form]}" if spec.form in _CONCENTRATE_FORMS else ""
