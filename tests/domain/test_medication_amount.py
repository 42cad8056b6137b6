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
        "loperamide 2 mg",  # one dose, no frequency
        "loperamide 2mg prn",
        "loperamide 4 mg then 2 mg after each loose stool",
        "loperamide 16mg",
        "loperamide 2 caps",
        "loperamide 40 a day",  # a number without a unit: never a guess between mg and g
        "loperamide 2mg q6h prn",  # as needed: the most allowed, not the amount taken
        "Tylenol 500 mg 2 tabs every 4 hours as needed",
        "vitamin B12 500 mcg daily",
    ],
)
def test_no_daily_amount_is_invented(text: str) -> None:
    assert daily_mg(text, unit_mg=TWO) is None


def test_tablets_are_counted_only_with_a_known_strength() -> None:
    assert daily_mg("loperamide 30 caps a day") is None
    assert daily_mg("loperamide 30 caps a day", unit_mg=TWO).mg == 60  # type: ignore[union-attr]


@given(st.text(max_size=200))
def test_any_text_gives_an_amount_or_none(text: str) -> None:
    amount = daily_mg(text, unit_mg=TWO)
    assert amount is None or amount.mg >= 0
