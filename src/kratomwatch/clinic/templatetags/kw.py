from typing import Any

from django import template

from kratomwatch.domain.safety import load_knowledge

register = template.Library()


@register.filter
def reference(ref_id: str) -> Any:
    """The Reference for an id, or None."""
    return load_knowledge().references.get(ref_id)


@register.filter
def label(mapping: dict[str, str], key: str) -> str:
    return mapping.get(key, key)
