"""A move from kratom to buprenorphine: the readiness checklist and what an induction log shows.

Pure functions of facts. The clinician writes the induction plan, its thresholds and every
buprenorphine dose; nothing here proposes a dose, a schedule or a start time. The checklist
follows what the published kratom case series checked before the first dose (time since the
last kratom dose, an objective withdrawal score, no opioid antagonist); its support is case
reports and small case series only (evidence claim ``dep_buprenorphine_treatment``).

Each item is met, not met or unknown, with the facts it is based on, so that the page can
show why. Warnings (other depressants) and notes (pregnancy) never block; they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

#: The defaults shown in a new plan form, as used in the case series; the clinician sets their
#: own. Lei 2021: induction appeared safe as early as 8 hours after the last kratom use. The
#: COWS of at least 8 is the usual "at least mild withdrawal" threshold for a first
#: buprenorphine dose (ACEP buprenorphine tool), not a kratom-specific one.
DEFAULT_MIN_HOURS_SINCE_KRATOM = 8
DEFAULT_COWS_THRESHOLD = 8
#: A COWS older than this is not used as "the score before the first dose": the project's own
#: choice, so that a score from yesterday does not stand for today's withdrawal.
COWS_FRESH_HOURS = 24
COWS_MAX = 48

#: Medications that block: opioid antagonists. Naloxone is not counted: it is kept for
#: overdose rescue and is part of buprenorphine-naloxone itself.
BLOCKING_SUBSTANCES = frozenset({"naltrexone", "nalmefene", "samidorphan"})
#: Other depressants listed as a warning (ACEP buprenorphine tool: caution with sedating
#: medications and alcohol use; the substance classes of substances.yaml).
DEPRESSANT_CLASSES = frozenset(
    {"benzodiazepine", "z_drug", "gabapentinoid", "alcohol", "barbiturate"}
)

#: Sedation levels as the log records them (after the Pasero opioid-induced sedation scale;
#: levels 3 and 4 are the scale's unacceptable ones).
SEDATION_LEVELS = (1, 2, 3, 4)


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class Level(StrEnum):
    REQUIREMENT = "requirement"  # not met: the checklist is not complete
    WARNING = "warning"  # not met: shown as a warning, the clinician weighs it
    NOTE = "note"  # not met: shown as a note


@dataclass(frozen=True)
class MedicationFacts:
    """One medication-list entry as entered, with the substances and classes it names."""

    entry: str
    substances: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CowsScore:
    at: datetime
    total: int


@dataclass(frozen=True)
class ReadinessFacts:
    now: datetime
    last_kratom_dose_at: datetime | None
    min_hours_since_kratom: Decimal
    cows_threshold: int
    cows: Sequence[CowsScore] = ()
    medications: Sequence[MedicationFacts] = ()
    pregnant: bool = False


@dataclass(frozen=True)
class Item:
    key: str
    level: Level
    status: Status
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Readiness:
    items: tuple[Item, ...]

    @property
    def requirements_met(self) -> bool:
        """Every requirement met (warnings and notes aside). The clinician still decides."""
        return all(i.status is Status.MET for i in self.items if i.level is Level.REQUIREMENT)

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)


def hours_between(earlier: datetime, later: datetime) -> Decimal:
    """Whole and tenth hours from ``earlier`` to ``later``, rounded down."""
    tenths = int((later - earlier) / timedelta(minutes=6))
    return Decimal(tenths) / 10


def readiness(facts: ReadinessFacts) -> Readiness:
    return Readiness(
        (
            _time_since_kratom(facts),
            _objective_withdrawal(facts),
            _no_antagonist(facts.medications),
            _depressants(facts.medications),
            _pregnancy(facts.pregnant),
        )
    )


def _time_since_kratom(facts: ReadinessFacts) -> Item:
    last = facts.last_kratom_dose_at
    wanted = {"min_hours": facts.min_hours_since_kratom}
    if last is None:
        return Item("time_since_kratom", Level.REQUIREMENT, Status.UNKNOWN, wanted)
    hours = hours_between(last, facts.now)
    status = Status.MET if hours >= facts.min_hours_since_kratom else Status.NOT_MET
    return Item(
        "time_since_kratom",
        Level.REQUIREMENT,
        status,
        wanted | {"last_dose_at": last, "hours": hours},
    )


def latest_cows(
    cows: Iterable[CowsScore], *, after: datetime | None, now: datetime
) -> CowsScore | None:
    """The newest COWS taken after ``after`` (the last kratom dose) and within the last
    :data:`COWS_FRESH_HOURS` hours, not in the future."""
    since = now - timedelta(hours=COWS_FRESH_HOURS)
    usable = [c for c in cows if since <= c.at <= now and (after is None or c.at > after)]
    return max(usable, key=lambda c: c.at) if usable else None


def _objective_withdrawal(facts: ReadinessFacts) -> Item:
    wanted: dict[str, Any] = {"threshold": facts.cows_threshold, "fresh_hours": COWS_FRESH_HOURS}
    score = latest_cows(facts.cows, after=facts.last_kratom_dose_at, now=facts.now)
    if score is None:
        older = [c for c in facts.cows if c.at <= facts.now]
        if older:
            newest = max(older, key=lambda c: c.at)
            wanted |= {"older_score": newest.total, "older_at": newest.at}
        return Item("objective_withdrawal", Level.REQUIREMENT, Status.UNKNOWN, wanted)
    status = Status.MET if score.total >= facts.cows_threshold else Status.NOT_MET
    return Item(
        "objective_withdrawal",
        Level.REQUIREMENT,
        status,
        wanted | {"score": score.total, "at": score.at},
    )


def _no_antagonist(medications: Sequence[MedicationFacts]) -> Item:
    found = [m.entry for m in medications if m.substances & BLOCKING_SUBSTANCES]
    return Item(
        "no_antagonist",
        Level.REQUIREMENT,
        Status.NOT_MET if found else Status.MET,
        {"entries": found},
    )


def _depressants(medications: Sequence[MedicationFacts]) -> Item:
    found = [m.entry for m in medications if m.classes & DEPRESSANT_CLASSES]
    return Item(
        "other_depressants",
        Level.WARNING,
        Status.NOT_MET if found else Status.MET,
        {"entries": found},
    )


def _pregnancy(pregnant: bool) -> Item:
    return Item("pregnancy", Level.NOTE, Status.NOT_MET if pregnant else Status.MET)


# --------------------------------------------------------------------- during an induction


@dataclass(frozen=True)
class BuprenorphineDose:
    at: datetime
    mg: Decimal


@dataclass(frozen=True)
class Observation:
    at: datetime
    cows: int | None = None
    sedation: int | None = None


@dataclass(frozen=True)
class InductionRecord:
    """An active transition plan as the safety engine sees it: the buprenorphine doses and
    observations logged by the clinician, and COWS scores from questionnaires."""

    started_at: datetime
    doses: tuple[BuprenorphineDose, ...] = ()
    observations: tuple[Observation, ...] = ()
    cows: tuple[CowsScore, ...] = ()

    @property
    def first_dose_at(self) -> datetime | None:
        return min((d.at for d in self.doses), default=None)

    def all_cows(self) -> list[CowsScore]:
        logged = [CowsScore(o.at, o.cows) for o in self.observations if o.cows is not None]
        return sorted([*logged, *self.cows], key=lambda c: c.at)


@dataclass(frozen=True)
class CowsRise:
    dose: BuprenorphineDose
    before: CowsScore
    after: CowsScore

    @property
    def rise(self) -> int:
        return self.after.total - self.before.total


def cows_rise_after_dose(
    record: InductionRecord, *, min_rise: int, within_hours: int, before_hours: int
) -> CowsRise | None:
    """A COWS within ``within_hours`` after a logged buprenorphine dose that is at least
    ``min_rise`` points above the last COWS in the ``before_hours`` up to that dose; the
    largest such rise (the latest dose on a tie), or None."""
    scores = record.all_cows()
    found: CowsRise | None = None
    for dose in sorted(record.doses, key=lambda d: d.at):
        before = [c for c in scores if dose.at - timedelta(hours=before_hours) <= c.at <= dose.at]
        if not before:
            continue
        baseline = before[-1]
        after = [c for c in scores if dose.at < c.at <= dose.at + timedelta(hours=within_hours)]
        for score in after:
            rise = CowsRise(dose, baseline, score)
            if rise.rise >= min_rise and (found is None or rise.rise >= found.rise):
                found = rise
    return found


def sedated(record: InductionRecord, *, min_level: int) -> list[Observation]:
    """Observations with a sedation level of ``min_level`` or more."""
    return [o for o in record.observations if o.sedation is not None and o.sedation >= min_level]


def kratom_after_first_dose(
    record: InductionRecord, kratom_doses: Iterable[datetime]
) -> list[datetime]:
    """Kratom doses from the diary taken after the first logged buprenorphine dose."""
    first = record.first_dose_at
    if first is None:
        return []
    return sorted(at for at in kratom_doses if at > first)
