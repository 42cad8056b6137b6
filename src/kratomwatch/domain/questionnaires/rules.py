"""Band rules built into the engine, for instruments whose result is not a range of the total.

An instrument file names a rule with ``scoring.band_rule``; the loader checks that the
subscales and items the rule reads exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kratomwatch.domain.questionnaires.model import Answer, Number

ACR2016_MET = "criteria met"
ACR2016_NOT_MET = "criteria not met"


@dataclass(frozen=True)
class RuleNeeds:
    subscales: tuple[str, ...]
    items: tuple[str, ...]


@dataclass(frozen=True)
class BandRule:
    requires: RuleNeeds
    labels: tuple[str, ...]
    decide: Callable[[Mapping[str, Answer], Mapping[str, Number | None]], str | None]


def acr2016_fm(answers: Mapping[str, Answer], subscales: Mapping[str, Number | None]) -> str | None:
    """ACR 2016 fibromyalgia criteria (Wolfe et al. 2016): all three must hold.

    1. generalized pain: pain in at least 4 of the 5 regions (jaw, chest and abdomen do not
       count towards regions);
    2. symptoms at a similar level for at least 3 months;
    3. WPI >= 7 and SSS >= 5, or WPI 4-6 and SSS >= 9.
    """
    wpi, sss, regions = subscales["wpi"], subscales["sss"], subscales["regions"]
    duration = answers["symptoms_3_months"]
    if wpi is None or sss is None or regions is None or duration is None:
        return None
    severity = (wpi >= 7 and sss >= 5) or (4 <= wpi <= 6 and sss >= 9)
    met = severity and regions >= 4 and duration == 1
    return ACR2016_MET if met else ACR2016_NOT_MET


BAND_RULES: dict[str, BandRule] = {
    "acr2016_fm": BandRule(
        requires=RuleNeeds(subscales=("wpi", "sss", "regions"), items=("symptoms_3_months",)),
        labels=(ACR2016_MET, ACR2016_NOT_MET),
        decide=acr2016_fm,
    ),
}
