from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from kratomwatch.domain.taper import TaperError, propose_taper

START = date(2026, 12, 1)


def test_a_ten_percent_taper_with_a_half_gram_floor() -> None:
    steps = propose_taper(
        recent_daily_g=Decimal(8),
        reduction_pct=Decimal(10),
        min_step_g=Decimal("0.5"),
        step_days=7,
        start=START,
    )
    assert [s.daily_g for s in steps[:4]] == [
        Decimal("7.2"),
        Decimal("6.5"),
        Decimal("5.9"),
        Decimal("5.3"),
    ]
    assert steps[1].start == date(2026, 12, 8)
    assert steps[-1].daily_g == 0
    # Below 5 g, 10 % is less than the 0.5 g minimum step, so steps are 0.5 g.
    small = [s.daily_g for s in steps if s.daily_g < 5]
    assert all(a - b >= Decimal("0.5") or b == 0 for a, b in zip(small, small[1:], strict=False))


@given(
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal(60), places=1),
    st.integers(min_value=5, max_value=50),
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal(2), places=1),
)
def test_steps_always_fall_and_end_at_zero(daily: Decimal, pct: int, min_step: Decimal) -> None:
    try:
        steps = propose_taper(
            recent_daily_g=daily,
            reduction_pct=Decimal(pct),
            min_step_g=min_step,
            step_days=7,
            start=START,
        )
    except TaperError as exc:
        # A high dose with small cuts (60 g at 5 % and 0.5 g) needs more steps than a plan
        # may have: refused by design (tested below), not a counterexample.
        assert "more than 52 steps" in str(exc)
        reject()
    values = [daily] + [s.daily_g for s in steps]
    assert all(b < a for a, b in zip(values, values[1:], strict=False))
    assert values[-1] == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"recent_daily_g": Decimal(0)}, "above 0"),
        ({"reduction_pct": Decimal(80)}, "between 1 and 50"),
        ({"min_step_g": Decimal(0)}, "between 0.1 and 10"),
        ({"step_days": 0}, "between 1 and 28"),
        (
            {
                "recent_daily_g": Decimal(500),
                "reduction_pct": Decimal(1),
                "min_step_g": Decimal("0.1"),
            },
            "more than 52 steps",
        ),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    base = {
        "recent_daily_g": Decimal(8),
        "reduction_pct": Decimal(10),
        "min_step_g": Decimal("0.5"),
        "step_days": 7,
        "start": START,
    }
    with pytest.raises(TaperError, match=message):
        propose_taper(**(base | kwargs))
