"""Free text that people type (names, notes, reasons): what it may hold.

One rule for every boundary: the web forms (``kratomwatch.clinic.text``) and the API's
request documents (``kratomwatch.api.schemas.Text``) both apply :func:`text_problem`.

Any Unicode character may be stored (emoji, accents, scripts written right to left, ``$``)
except control characters: NUL (which PostgreSQL cannot store in text) and the other C0 and
C1 controls, and lone UTF-16 surrogates (which are not characters at all and cannot be
encoded as UTF-8). Tab, line feed and carriage return are allowed: a browser sends line
breaks in a text area as carriage return + line feed. Refused text is never altered or
shortened silently: the person gets the field's error and corrects it.
"""

from __future__ import annotations

import re

#: C0 controls except tab, line feed and carriage return; DEL and the C1 controls; surrogates.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored, in words for the person who typed it; ``None`` if it
    can."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return (
            f"This text contains an invalid character (a lone surrogate, U+{code:04X}) at "
            f"position {found.start() + 1}: remove it."
        )
    return (
        f"This text contains an invisible control character (U+{code:04X}) at position "
        f"{found.start() + 1}, which cannot be saved: remove it (tabs and line breaks are "
        "fine)."
    )
