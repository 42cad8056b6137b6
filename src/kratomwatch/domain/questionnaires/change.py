"""Change between two scores of the same instrument, classified against its thresholds.

``absolute_change`` and ``percent_change`` are always follow-up minus baseline (a fall in
pain is negative). ``direction`` and ``category`` read the instrument's ``change`` rule:
with ``lower_is_better`` a fall is an improvement. A change is classified by the largest
threshold whose size it reaches (``>=``, compared exactly, before any rounding), e.g.
"moderate improvement"; below every threshold it is "no important change". The same
thresholds are applied to worsening ("moderate worsening"); published thresholds were
mostly derived for improvement, so treat worsening labels as a project convention.
A percent-based rule cannot classify a change from a baseline of 0 (``category`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from kratomwatch.domain.questionnaires.model import (
    Instrument,
    Number,
    Score,
    number_to_json,
    round_half_up,
)

NO_IMPORTANT_CHANGE = "no important change"

ChangeDirection = Literal["improved", "worsened", "unchanged"]


@dataclass(frozen=True)
class Change:
    instrument: str
    version: str
    target: str
    baseline: Number
    followup: Number
    absolute_change: Number
    percent_change: Decimal | None
    """Rounded half-up to one decimal place; None when the baseline is 0."""
    direction: ChangeDirection | None
    """None when the instrument does not say which way is better."""
    category: str | None
    basis: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "version": self.version,
            "target": self.target,
            "baseline": number_to_json(self.baseline),
            "followup": number_to_json(self.followup),
            "absolute_change": number_to_json(self.absolute_change),
            "percent_change": number_to_json(self.percent_change),
            "direction": self.direction,
            "category": self.category,
            "basis": self.basis,
            "source": self.source,
        }


def _value(result: Score, target: str) -> Number:
    if target == "total":
        return result.total
    if target not in result.subscales:
        raise ValueError(f"{result.instrument} has no subscale {target!r}")
    value = result.subscales[target]
    if value is None:
        raise ValueError(f"subscale {target!r} was not computed for one of the scores")
    return value


def compare(
    baseline: Score,
    followup: Score,
    target: str | None = None,
    instrument: Instrument | None = None,
) -> Change:
    """Compare two scores of one instrument version.

    ``target`` is ``"total"`` or a subscale id; by default the target of the instrument's
    change rule (``pain`` for ``kw-daily-pain``), else the total. ``instrument`` defaults to
    the loaded instrument with the scores' id.
    """
    if baseline.instrument != followup.instrument:
        raise ValueError(
            f"cannot compare scores of different instruments "
            f"({baseline.instrument} and {followup.instrument})"
        )
    if baseline.version != followup.version:
        raise ValueError(
            f"cannot compare {baseline.instrument} version {baseline.version} "
            f"with version {followup.version}"
        )
    if instrument is None:
        from kratomwatch.domain.questionnaires.loader import get_instrument

        instrument = get_instrument(baseline.instrument)
    if instrument.id != baseline.instrument:
        raise ValueError(f"instrument {instrument.id} does not match {baseline.instrument}")
    rule = instrument.change
    chosen = target or (rule.target if rule else "total")
    before = _value(baseline, chosen)
    after = _value(followup, chosen)
    delta = after - before
    percent = None
    if before != 0:
        percent = round_half_up(Decimal(delta) * 100 / Decimal(before), 1)

    direction: ChangeDirection | None = None
    category: str | None = None
    if rule is not None:
        improvement = -delta if rule.direction == "lower_is_better" else delta
        if improvement > 0:
            direction = "improved"
        elif improvement < 0:
            direction = "worsened"
        else:
            direction = "unchanged"
        if rule.target == chosen and rule.thresholds:
            size = abs(Decimal(improvement))
            word = "improvement" if direction == "improved" else "worsening"
            if rule.basis == "percent" and before == 0:
                category = None
            else:
                category = NO_IMPORTANT_CHANGE
                for threshold in rule.thresholds:  # largest first
                    if rule.basis == "percent":
                        reached = size * 100 >= threshold.at_least * abs(Decimal(before))
                    else:
                        reached = size >= threshold.at_least
                    if reached and direction != "unchanged":
                        category = f"{threshold.label} {word}"
                        break

    return Change(
        instrument=instrument.id,
        version=baseline.version,
        target=chosen,
        baseline=before,
        followup=after,
        absolute_change=delta,
        percent_change=percent,
        direction=direction,
        category=category,
        basis=rule.basis if rule and rule.target == chosen and rule.thresholds else None,
        source=rule.source if rule else None,
    )
