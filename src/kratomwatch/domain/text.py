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

#: C0 controls except tab, line feed and carriage return; DEL and the C1 controls; surrogates;
#: the controls that override or isolate the direction of text (U+202A-U+202E, U+2066-U+2069),
#: which make stored text read otherwise than it is ("10 mg" written as "gm 01").
_REFUSED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)
#: Characters that show nothing: zero-width spaces and joiners, the word joiner, the
#: zero-width no-break space (U+FEFF, often pasted in) and the soft hyphen.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored, in words for the person who typed it; ``None`` if it
    can."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return (
            f"This text contains a character that changes the direction of the text around it "
            f"(U+{code:04X}) at position {found.start() + 1}, which would make it read "
            "otherwise than it is: remove it."
        )
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


def is_blank(value: str) -> bool:
    """Whether ``value`` shows nothing: only spaces and invisible characters. A required
    answer (a reason, a name) that is blank has not been given."""
    return not _INVISIBLE.sub("", value).strip()
