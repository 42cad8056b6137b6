from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

from kratomwatch.domain.products import format_decimal
from kratomwatch.domain.safety import load_knowledge

register = template.Library()


@register.filter
def reference(ref_id: str) -> Any:
    """The Reference for an id, or None."""
    return load_knowledge().references.get(ref_id)


@register.filter
def label(mapping: dict[str, str], key: str) -> str:
    return mapping.get(key, key)


@register.filter
def severity_field(form: Any, symptom_id: str) -> Any:
    """The bound severity radio group of a side-effect chip."""
    return form[f"severity_{symptom_id}"]


@register.filter
def split(text: str) -> list[str]:
    return text.split()


@register.filter
def field(form: Any, name: str) -> Any:
    """A bound field by name, for loops over field names."""
    return form[name]


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def amount(value: Any, places: int = 3) -> str:
    """A number as people read it: at most ``places`` decimals and no trailing zeros
    ("2.5 g", not "2.500 g"; "3 g", not "3.00 g")."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
        if not number.is_finite():
            return str(value)
        return format_decimal(number.quantize(Decimal(1).scaleb(-int(places)), ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        return str(value)
