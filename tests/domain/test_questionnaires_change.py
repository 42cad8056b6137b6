"""compare(): absolute and percent change, direction and classification."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from kratomwatch.domain.questionnaires import (
    NO_IMPORTANT_CHANGE,
    Score,
    compare,
    get_instrument,
    score,
)


def pain(now: int, average: int) -> Score:
    return score(get_instrument("kw-daily-pain"), [now, average, 5, 5, 5])


def phq9(total: int) -> Score:
    answers = [min(3, max(0, total - 3 * i)) for i in range(9)]
    assert sum(answers) == total
    return score(get_instrument("phq9"), answers)


@pytest.mark.parametrize(
    ("before", "after", "percent", "category"),
    [
        ((6, 6), (4, 4), Decimal("-33.3"), "moderate improvement"),
        ((10, 10), (5, 5), Decimal("-50.0"), "substantial improvement"),  # exactly 50%
        ((10, 10), (5, 6), Decimal("-45.0"), "moderate improvement"),
        ((10, 10), (7, 7), Decimal("-30.0"), "moderate improvement"),  # exactly 30%
        ((10, 10), (7, 8), Decimal("-25.0"), "minimal improvement"),
        ((10, 10), (9, 9), Decimal("-10.0"), "minimal improvement"),  # exactly 10%
        ((10, 10), (9, 10), Decimal("-5.0"), NO_IMPORTANT_CHANGE),
        ((4, 4), (6, 6), Decimal("50.0"), "substantial worsening"),
        ((5, 5), (5, 5), Decimal("0.0"), NO_IMPORTANT_CHANGE),
    ],
)
def test_daily_pain_immpact_classes(
    before: tuple[int, int], after: tuple[int, int], percent: Decimal, category: str
) -> None:
    change = compare(pain(*before), pain(*after))
    assert change.target == "pain"
    assert change.percent_change == percent
    assert change.category == category
    assert change.basis == "percent"


def test_threshold_compared_exactly_not_after_rounding() -> None:
    # 3.0 -> 2.0 is a 33.3% fall; 3.0 -> 2.5 is 16.7%: minimal, never rounded up to 20 or 30.
    assert compare(pain(3, 3), pain(2, 2)).category == "moderate improvement"
    assert compare(pain(3, 3), pain(2, 3)).category == "minimal improvement"


def test_direction_is_lower_is_better_for_pain() -> None:
    better = compare(pain(8, 8), pain(4, 4))
    assert better.direction == "improved"
    assert better.absolute_change == Decimal("-4.0")
    worse = compare(pain(4, 4), pain(8, 8))
    assert worse.direction == "worsened"
    assert worse.absolute_change == Decimal("4.0")
    assert compare(pain(4, 4), pain(4, 4)).direction == "unchanged"


def test_zero_baseline_has_no_percent() -> None:
    change = compare(pain(0, 0), pain(2, 2))
    assert change.percent_change is None
    assert change.category is None
    assert change.direction == "worsened"
    assert change.absolute_change == Decimal("2.0")


@pytest.mark.parametrize(
    ("before", "after", "category", "direction"),
    [
        (15, 10, "clinically important improvement", "improved"),
        (15, 11, NO_IMPORTANT_CHANGE, "improved"),
        (10, 15, "clinically important worsening", "worsened"),
        (9, 9, NO_IMPORTANT_CHANGE, "unchanged"),
    ],
)
def test_phq9_absolute_threshold(before: int, after: int, category: str, direction: str) -> None:
    change = compare(phq9(before), phq9(after))
    assert change.target == "total"
    assert change.absolute_change == after - before
    assert isinstance(change.absolute_change, int)
    assert change.category == category
    assert change.direction == direction


def test_percent_change_for_integer_totals() -> None:
    change = compare(phq9(12), phq9(9))
    assert change.percent_change == Decimal("-25.0")
    change = compare(phq9(0), phq9(9))
    assert change.percent_change is None
    assert change.category == "clinically important worsening"


def test_instrument_without_thresholds_gives_direction_only() -> None:
    gad7 = get_instrument("gad7")
    change = compare(score(gad7, [3] * 7), score(gad7, [1] * 7))
    assert change.direction == "improved"
    assert change.category is None
    assert change.percent_change == Decimal("-66.7")


def test_other_target_has_no_threshold() -> None:
    before = score(get_instrument("kw-daily-pain"), [5, 5, 8, 8, 2])
    after = score(get_instrument("kw-daily-pain"), [5, 5, 4, 4, 6])
    change = compare(before, after, target="interference")
    assert change.direction == "improved"
    assert change.category is None
    assert change.percent_change == Decimal("-50.0")
    sleep = compare(before, after, target="sleep")
    assert sleep.absolute_change == 4


def test_unknown_target() -> None:
    with pytest.raises(ValueError, match="no subscale"):
        compare(pain(1, 1), pain(2, 2), target="mood")


def test_cannot_compare_different_instruments_or_versions() -> None:
    with pytest.raises(ValueError, match="different instruments"):
        compare(phq9(5), pain(5, 5))
    newer = dataclasses.replace(phq9(5), version="2.0")
    with pytest.raises(ValueError, match="version"):
        compare(phq9(5), newer)


def test_change_to_dict_is_json_ready() -> None:
    data = compare(pain(6, 6), pain(4, 4)).to_dict()
    text = json.dumps(data)
    assert json.loads(text)["percent_change"] == -33.3
    assert data["category"] == "moderate improvement"
