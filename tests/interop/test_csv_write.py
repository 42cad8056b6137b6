"""The CSV writer's guard against spreadsheet formulas, and its exact undoing on import."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from kratomwatch.interop.csv_write import CsvWriter, neutralise, restore

HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "'=x", "''@y", "=", "-"]


def test_text_a_spreadsheet_would_run_gets_an_apostrophe() -> None:
    assert [neutralise(t) for t in HOSTILE] == ["'" + t for t in HOSTILE]


def test_numbers_and_ordinary_text_are_left_alone() -> None:
    for text in [
        "-1",
        "+2.5",
        "-3e2",
        "-.5",
        "0",
        "2026-11-20T08:00:00+01:00",
        "Red Bali",
        "'quoted'",
        "",
        "a=b",
    ]:
        assert neutralise(text) == text


@given(st.text())
def test_restore_gives_back_exactly_what_was_written(text: str) -> None:
    assert restore(neutralise(text)) == text


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_every_cell_written_is_inert(row: list[str]) -> None:
    buffer = io.StringIO(newline="")
    CsvWriter(buffer).writerow(row)
    (cells,) = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    for cell, original in zip(cells, row, strict=True):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell == original
        assert restore(cell) == original


def test_no_other_module_writes_csv() -> None:
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "kratomwatch"
    writers = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if any(w in path.read_text(encoding="utf-8") for w in ("csv.writer(", "DictWriter("))
    ]
    assert writers == ["interop/csv_write.py"]
