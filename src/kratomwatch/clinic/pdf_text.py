"""Text from the database, made drawable on the PDF pages that matplotlib writes.

Names, notes and reasons may hold any Unicode (see kratomwatch.domain.text); the PDFs use
one font, DejaVu Sans, shipped with matplotlib so that every server draws the same page.
Whatever it holds is drawn as it is. A character it has no glyph for (Chinese, many emoji)
is drawn as the replacement character U+FFFD, so the reader sees that something is there;
an invisible one it lacks (a combining mark) and every format character (zero-width spaces
and joiners, direction overrides) is left out; control characters
(older records may hold them) become spaces. Every call that draws such text also passes
``parse_math=False``, so a ``$`` is a dollar sign, never the start of a formula.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import FT2Font

FONT = "DejaVu Sans"
REPLACEMENT = "\ufffd"
_INVISIBLE = {"Cf", "Mn", "Me"}


@cache
def _fonts() -> tuple[FT2Font, ...]:
    """The regular and the bold face: a character is drawable if both have it."""
    return tuple(
        get_font(findfont(FontProperties(family=FONT, weight=weight), fallback_to_default=False))
        for weight in ("normal", "bold")
    )


@cache
def _drawable_char(char: str) -> str:
    category = unicodedata.category(char)
    if category in {"Cc", "Cs", "Zl", "Zp"}:
        return " "
    if category == "Cf":
        # Format characters draw nothing, and some break the PDF writer even where the font
        # has them (a zero-width no-break space, U+FEFF); direction overrides would reorder
        # the text around them.
        return ""
    if all(font.get_char_index(ord(char)) for font in _fonts()):
        return char
    return "" if category in _INVISIBLE else REPLACEMENT


def drawable(text: str) -> str:
    """``text`` with every character the PDF font can draw, the others replaced or left out
    as described above."""
    return "".join(_drawable_char(c) for c in text)
