from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import format_html, json_script
from django.utils.translation import get_language, pgettext_lazy

from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.clinic.phone_text import phone_texts as _phone_texts
from kratomwatch.domain.products import format_decimal
from kratomwatch.domain.safety import load_knowledge

register = template.Library()


@register.filter
def reference(ref_id: str) -> Any:
    """The Reference for an id, or None."""
    return load_knowledge().references.get(ref_id)


@register.filter
def translated(value: object) -> str:
    """A data file's text (a rule's message, a symptom's label, a claim) in the active
    language; empty for None. The texts are in the catalogs through data_strings.py."""
    return data_text(str(value)) if value else ""


@register.filter
def kb_title(value: object) -> str:
    """A knowledge-base title in the reader's language when the catalog has it; else in
    English, marked ``lang="en"`` (clinician-only titles are not translated yet)."""
    text = str(value) if value else ""
    shown = data_text(text) if text else ""
    if shown == text and get_language() != "en":
        return format_html('<span lang="en">{}</span>', text)
    return shown


@register.filter
def label(mapping: dict[str, str], key: str) -> str:
    return mapping.get(key, key)


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


#: The patient's persistent navigation: (URL name, label, URL names of the pages it covers).
#: Five tabs share a 360 px screen: translations may shorten a label (context "tab").
PATIENT_NAV = (
    ("patient_home", pgettext_lazy("tab", "Today"), {"patient_home"}),
    ("checkin", pgettext_lazy("tab", "Check in"), {"checkin", "checkin_done"}),
    ("my_plan", pgettext_lazy("tab", "My plan"), {"my_plan"}),
    ("trends", pgettext_lazy("tab", "My trends"), {"trends", "my_dose_response"}),
    ("my_products", pgettext_lazy("tab", "My products"), {"my_products", "product_add"}),
)


@register.inclusion_tag("clinic/_patient_nav.html", takes_context=True)
def patient_nav(context: template.Context) -> dict[str, Any]:
    """The patient's main pages, one tap away on every patient page; the current one marked."""
    match = getattr(context.get("request"), "resolver_match", None)
    current = match.url_name if match is not None else None
    return {"items": [(name, text, current in covers) for name, text, covers in PATIENT_NAV]}


@register.simple_tag
def phone_texts() -> str:
    """The patient app scripts' words, in the page's language, as a JSON script element."""
    return json_script(_phone_texts(), "kw-texts")
