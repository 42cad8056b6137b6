"""A taper schedule proposed from the recent daily dose, for the clinician to edit and approve.

The proposal is arithmetic, not advice: each step lowers the daily limit by a chosen percentage
of the current limit, by at least a chosen minimum, until it reaches zero. The clinician decides
whether to use, change or discard it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

STEP_PRECISION = Decimal("0.1")  # grams
MAX_STEPS = 52


class TaperError(ValueError):
    """A taper parameter is out of range; the message names it and the accepted range."""


@dataclass(frozen=True)
class TaperStep:
    start: date
    daily_g: Decimal


def propose_taper(
    *,
    recent_daily_g: Decimal,
    reduction_pct: Decimal,
    min_step_g: Decimal,
    step_days: int,
    start: date,
) -> list[TaperStep]:
    """Steps from ``start``, each ``step_days`` long, ending with a step at 0 g."""
    if not recent_daily_g.is_finite() or recent_daily_g <= 0:
        raise TaperError("recent daily dose must be above 0 g")
    if not reduction_pct.is_finite() or not Decimal(1) <= reduction_pct <= Decimal(50):
        raise TaperError("reduction per step must be between 1 and 50 %")
    if not min_step_g.is_finite() or not Decimal("0.1") <= min_step_g <= Decimal(10):
        raise TaperError("minimum step must be between 0.1 and 10 g")
    if not 1 <= step_days <= 28:
        raise TaperError("step length must be between 1 and 28 days")
    steps: list[TaperStep] = []
    current = recent_daily_g
    day = start
    while current > 0:
        cut = max(current * reduction_pct / 100, min_step_g)
        current = max(Decimal(0), current - cut).quantize(STEP_PRECISION, ROUND_HALF_UP)
        steps.append(TaperStep(day, current))
        day += timedelta(days=step_days)
        if len(steps) > MAX_STEPS:
            raise TaperError(
                f"the taper would need more than {MAX_STEPS} steps: raise the "
                "reduction per step or the minimum step"
            )
    return steps
