"""The one CSV writer of every file exported for a person, and its guard against formulas.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP, "CSV Injection"), so a product name such as
``=HYPERLINK("http://…")`` would become a live link in the patient's own export. Every cell
written by :class:`CsvWriter` goes through :func:`neutralise`: such a cell gets a leading
``'``, which spreadsheets read as "this is text". Plain numbers (``-1``, ``+2.5``, ``-3e2``)
are left alone: a spreadsheet reads them as numbers, never as formulas, and the values stay
exact. A cell that already starts with ``'`` in front of one of those characters gets one
more, so that :func:`restore` (used by the clinic import, ``interop.csv_clinic``) gives back
exactly what was stored: ``restore(neutralise(text)) == text`` for every text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _guarded(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_START) and not _NUMBER.fullmatch(text)


def neutralise(value: object) -> str:
    """The cell as written: text that a spreadsheet would run gets a leading ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if _guarded(text) else text


def restore(cell: str) -> str:
    """Undo :func:`neutralise` on a cell read back from an export."""
    return cell[1:] if cell.startswith("'") and _guarded(cell[1:]) else cell


class CsvWriter:
    """``csv.writer`` whose every cell goes through :func:`neutralise`."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
