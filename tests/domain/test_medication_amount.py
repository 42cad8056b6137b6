"""Daily amounts read from medication entries as people and prescribers write them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kratomwatch.domain.medication_amount import daily_mg

TWO = Decimal(2)


@pytest.mark.parametrize(
    "text, mg",
    [
        ("loperamide 2 mg, 2 caps four times a day", 16),
        ("loperamide 2mg 2 caps qid", 16),
        ("Imodium 40 mg/day", 40),
        ("loperamide 100mg daily", 100),
        ("loperamide 24 mg per day", 24),
        ("loperamide 2 mg 3x/day", 6),
        ("loperamide 2 mg twice daily", 4),
        ("loperamide 2 mg bid", 4),
        ("loperamide 2 mg TID", 6),
        ("paracetamol 1 g qds", 4000),
        ("Tylenol 500 mg 2 tabs q4h", 6000),
        ("paracetamol 8 g/day", 8000),
        ("loperamide 2mg prn, 60 mg a day", 60),
        ("loperamide 2 mg every 4 hours", 12),
        ("loperamide 2 mg 1 tab at night", 2),
        ("lope 50 tabs a day", 100),  # 2 mg in every tablet (the label's strength)
        ("Imodium two caps three times a day", 12),
        ("loperamide 2,5 mg bid", 5),
        # A stated total and a strength times a frequency: the higher reading counts.
        ("loperamide 2 mg qid, 60 mg a day", 60),
        # One dose is a reading of its own: a day holds at least that much.
        ("loperamide 60 mg", 60),
        ("Imodium 70 caps", 140),
        ("loperamide 2mg 25 tabs at once", 50),
        ("loperamide 2mg 15 capsules twice daily prn", 30),
        ("loperamide 2mg prn", 2),
        # Thousands, number words, "x" counts and frequencies.
        ("paracetamol 1,000 mg 5 times a day", 5000),
        ("paracetamol 1,000mg/day", 1000),
        ("loperamide 2mg thirty caps daily", 60),
        ("loperamide 2mg twenty-five caps daily", 50),
        ("loperamide 2mg x 30 daily", 60),
        ("loperamide 2 x 2mg 6 times a day", 24),
        ("paracetamol 500mg 2 tabs x4 daily", 4000),
        ("paracetamol 500 mg 2 tablets every four hours", 6000),
        # A supply, a limit or a later step is not the dose.
        ("loperamide 2mg 1 tab od, dispense 28 tabs", 2),
        ("loperamide 2mg 1 capsule twice a day, 30 capsules", 4),
        ("paracetamol 500mg 2 tablets qds, 100 tablets", 4000),
        ("paracetamol 1g q6h (4g max)", 4000),
        ("loperamide 2mg prn, max 16 mg/day", 2),
        ("loperamide 4 mg then 2 mg after each loose stool", 4),
        # Weekly is not daily: one dose only.
        ("loperamide 2mg twice weekly", 2),
    ],
)
def test_daily_amounts(text: str, mg: int) -> None:
    amount = daily_mg(text, unit_mg=TWO)
    assert amount is not None and amount.mg == mg, amount
    assert amount.how


@pytest.mark.parametrize(
    "text",
    [
        "loperamide",
        "Imodium",
        "loperamide 40 a day",  # a number without a unit: never a guess between mg and g
        "vitamin B12 500 mcg daily",
        "paracetamol 250mg/5ml 20 ml qds",  # a liquid's concentration is not a dose
        "999999999999999999999999999999 mg/day",  # not a number anyone takes
    ],
)
def test_no_daily_amount_is_invented(text: str) -> None:
    assert daily_mg(text, unit_mg=TWO) is None


def test_as_needed_frequencies_are_the_most_allowed_not_what_is_taken() -> None:
    amount = daily_mg("Tylenol 500 mg 2 tabs every 4 hours as needed")
    assert amount is not None and amount.mg == 1000  # one dose, not six


def test_a_huge_frequency_does_not_break_the_reader() -> None:
    assert daily_mg("1 mg q" + "9" * 5000 + "h") is not None


def test_tablets_are_counted_only_with_a_known_strength() -> None:
    assert daily_mg("loperamide 30 caps a day") is None
    assert daily_mg("loperamide 30 caps a day", unit_mg=TWO).mg == 60  # type: ignore[union-attr]


@given(st.text(max_size=200))
def test_any_text_gives_an_amount_or_none(text: str) -> None:
    amount = daily_mg(text, unit_mg=TWO)
    assert amount is None or amount.mg >= 0
