"""What every trigger function is given and returns: the patient's context and a hit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .knowledge import Knowledge
from .series import Daily
from .snapshot import Snapshot

RECENT_DAYS = 30  # questionnaire responses and product use older than this do not trigger
SYMPTOM_DAYS = 14


@dataclass(frozen=True)
class Context:
    snapshot: Snapshot
    knowledge: Knowledge
    medications: tuple[tuple[str, str | None, tuple[Any, ...]], ...]  # (name, dose, substances)
    conditions: tuple[tuple[str, str], ...]  # (as entered, code)
    symptoms: tuple[tuple[str, str, datetime | None], ...]  # (as entered, id, when), recent
    daily: Daily

    @property
    def today(self) -> date:
        return self.snapshot.as_of.astimezone(self.snapshot.tz).date()


@dataclass(frozen=True)
class Hit:
    triggers: tuple[dict[str, Any], ...]
    because: str
    key: str  # what makes this occurrence distinct, for deduplication


Trigger = Callable[[Mapping[str, Any], Context], Hit | None]


def _fmt(value: Decimal | None, places: str = "0.1") -> str:
    if value is None:
        return "unknown"
    return f"{value.quantize(Decimal(places)).normalize():f}"
