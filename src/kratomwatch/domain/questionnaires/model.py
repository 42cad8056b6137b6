"""The shape of an instrument, a score and the errors raised while loading or scoring.

Instruments are immutable once loaded. Totals made by summing are ``int``; totals and
subscales made by averaging are ``Decimal`` rounded half-up to the instrument's precision
(one decimal place unless the file says otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, Literal

Number = int | Decimal
"""A score value: ``int`` for sums and counts, ``Decimal`` for means and percentages."""

Answer = int | None
"""A validated answer: the item's value, or ``None`` when the item was not answered."""

CompletedBy = Literal["patient", "clinician"]
Wording = Literal["original", "paraphrase", "own_words"]
TotalMethod = Literal["sum", "mean"]
SubscaleMethod = Literal["sum", "mean", "region_count"]
MissingPolicy = Literal["require_all", "prorate"]
Direction = Literal["lower_is_better", "higher_is_better"]
ChangeBasis = Literal["percent", "absolute"]


class InstrumentError(Exception):
    """Base class for every error raised by the questionnaire engine."""


class InstrumentDefinitionError(InstrumentError):
    """An instrument file is unreadable, fails the schema, or is inconsistent."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        joined = "; ".join(self.problems)
        super().__init__(f"invalid instrument definition {source}: {joined}")


class UnknownInstrumentError(InstrumentError, KeyError):
    """No instrument with that id is loaded."""

    def __init__(self, instrument_id: str, known: list[str]) -> None:
        self.instrument_id = instrument_id
        self.known = sorted(known)
        super().__init__(instrument_id)

    def __str__(self) -> str:
        return f"unknown instrument {self.instrument_id!r}; known: {', '.join(self.known)}"


class ScoringError(InstrumentError, ValueError):
    """Answers cannot be scored. ``errors`` lists ``(item id, message)`` pairs.

    Problems that belong to no single item use the pseudo item ids ``"answers"`` (wrong
    count or shape) and ``"context"`` (unknown or malformed context flag).
    """

    def __init__(self, instrument_id: str, errors: list[tuple[str, str]]) -> None:
        self.instrument_id = instrument_id
        self.errors = list(errors)
        detail = "; ".join(f"{item}: {message}" for item, message in self.errors)
        super().__init__(f"cannot score {instrument_id}: {detail}")


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    allowed: frozenset[int]
    """Every value the item accepts."""
    options: tuple[Option, ...] = ()
    """Labelled values, when the item is a list of options (empty for a numeric range)."""
    min_label: str | None = None
    max_label: str | None = None
    required: bool = True
    scored: bool = True
    region: str | None = None

    @property
    def min_value(self) -> int:
        return min(self.allowed)

    @property
    def max_value(self) -> int:
        return max(self.allowed)

    def describe_allowed(self) -> str:
        values = sorted(self.allowed)
        if values == list(range(values[0], values[-1] + 1)) and len(values) > 4:
            return f"{values[0]}-{values[-1]}"
        return ", ".join(str(v) for v in values)


@dataclass(frozen=True)
class Subscale:
    id: str
    label: str
    method: SubscaleMethod
    items: tuple[str, ...]


@dataclass(frozen=True)
class Band:
    min: int
    max: int
    label: str
    description: str | None = None

    def contains(self, value: Number) -> bool:
        return self.min <= value <= self.max


@dataclass(frozen=True)
class ContextFlag:
    id: str
    description: str
    exclude_items: tuple[str, ...]


@dataclass(frozen=True)
class SafetyRule:
    item: str
    greater_than: int
    flag: str
    message: str
    symptom: str | None = None
    """The red-flag symptom (an id of the knowledge base's symptoms) that such an answer
    reports: saved on its own, with its urgent guidance, even when the rest of the
    questionnaire is not complete (see :func:`~.scoring.urgent_symptoms`)."""


@dataclass(frozen=True)
class MissingRule:
    policy: MissingPolicy
    note: str
    max_missing: int = 0
    source: str | None = None


@dataclass(frozen=True)
class Scoring:
    method: TotalMethod
    total_items: tuple[str, ...]
    missing: MissingRule
    precision: int = 1
    total_label: str | None = None
    subscales: tuple[Subscale, ...] = ()
    bands: tuple[Band, ...] = ()
    band_rule: str | None = None
    band_note: str | None = None
    context_flags: tuple[ContextFlag, ...] = ()
    safety_rules: tuple[SafetyRule, ...] = ()


@dataclass(frozen=True)
class ChangeThreshold:
    label: str
    at_least: Decimal


@dataclass(frozen=True)
class ChangeRule:
    target: str
    direction: Direction
    source: str
    basis: ChangeBasis | None = None
    thresholds: tuple[ChangeThreshold, ...] = ()
    """Sorted from the largest threshold to the smallest; empty when none is published."""
    note: str | None = None


@dataclass(frozen=True)
class Licence:
    status: str
    redistributable: bool
    copyright: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Reference:
    citation: str
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    used_for: str | None = None


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: str
    description: str
    completed_by: CompletedBy
    recall_period: str
    wording: Wording
    validated: bool
    validation_note: str
    licence: Licence
    references: tuple[Reference, ...]
    items: tuple[Item, ...]
    scoring: Scoring
    change: ChangeRule | None = None
    short_title: str | None = None
    instructions: str | None = None
    wording_note: str | None = None
    notes: str | None = None
    source: str = ""
    """Where the definition was loaded from (for messages)."""
    total_range: tuple[Number, Number] = (0, 0)
    """Smallest and largest possible total."""

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def subscale(self, subscale_id: str) -> Subscale:
        for sub in self.scoring.subscales:
            if sub.id == subscale_id:
                return sub
        raise KeyError(subscale_id)

    @property
    def context_flag_ids(self) -> tuple[str, ...]:
        return tuple(flag.id for flag in self.scoring.context_flags)


def number_to_json(value: Number | None) -> int | float | None:
    """A score value as a JSON number (``Decimal`` becomes ``float``)."""
    if value is None or isinstance(value, int):
        return value
    return float(value)


@dataclass(frozen=True)
class Score:
    instrument: str
    version: str
    total: Number
    subscales: dict[str, Number | None]
    """A subscale is ``None`` when one of its items was missing (allowed only for optional
    items, or under an instrument's prorating rule)."""
    band: str | None
    flags: list[str]
    answers: dict[str, Answer] = field(default_factory=dict)
    context: dict[str, bool] = field(default_factory=dict)
    excluded_items: tuple[str, ...] = ()
    """Items ignored because of a context flag."""
    missing_items: tuple[str, ...] = ()
    prorated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary; ``Decimal`` values become ``float``."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": number_to_json(self.total),
            "subscales": {key: number_to_json(val) for key, val in self.subscales.items()},
            "band": self.band,
            "flags": list(self.flags),
            "answers": dict(self.answers),
            "context": dict(self.context),
            "excluded_items": list(self.excluded_items),
            "missing_items": list(self.missing_items),
            "prorated": self.prorated,
        }


def freeze_mapping(data: Mapping[str, Instrument]) -> Mapping[str, Instrument]:
    """A read-only view used for the cached catalogue."""
    return MappingProxyType(dict(data))


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round to ``places`` decimal places, halves away from zero (2.25 -> 2.3)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
