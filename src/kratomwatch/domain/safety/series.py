"""Daily series derived from a snapshot: dose totals, dose counts and pain, by local day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .snapshot import Snapshot

PAIN_INSTRUMENT = "kw-daily-pain"


@dataclass(frozen=True)
class Daily:
    dose_g: dict[date, Decimal]  # leaf-equivalent grams, days with at least one known dose
    dose_count: dict[date, int]
    pain: dict[date, Decimal]  # mean of the day's pain scores

    @staticmethod
    def of(snapshot: Snapshot) -> Daily:
        dose_g: dict[date, Decimal] = defaultdict(Decimal)
        count: dict[date, int] = defaultdict(int)
        for dose in snapshot.doses:
            day = dose.taken_at.astimezone(snapshot.tz).date()
            count[day] += 1
            if dose.exposure.leaf_equivalent_g is not None:
                dose_g[day] += dose.exposure.leaf_equivalent_g
        pains: dict[date, list[Decimal]] = defaultdict(list)
        for response in snapshot.responses:
            if response.instrument == PAIN_INSTRUMENT:
                value = response.score.subscales.get("pain", response.score.total)
                if value is not None:
                    pains[response.taken_at.astimezone(snapshot.tz).date()].append(
                        Decimal(str(value))
                    )
        pain = {d: sum(v, Decimal(0)) / len(v) for d, v in pains.items()}
        return Daily(dict(dose_g), dict(count), pain)


def window(end: date, days: int, offset: int = 0) -> tuple[date, date]:
    """Inclusive (first, last) of ``days`` days ending ``offset`` days before ``end``."""
    last = end - timedelta(days=offset)
    return last - timedelta(days=days - 1), last


def in_window(series: dict[date, Decimal], span: tuple[date, date]) -> list[Decimal]:
    return [v for d, v in series.items() if span[0] <= d <= span[1]]


def mean(values: list[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None


def pct_change(before: Decimal, after: Decimal) -> Decimal | None:
    """Percent change from ``before`` to ``after``; None when ``before`` is 0."""
    if before == 0:
        return None
    return (after - before) / before * 100
