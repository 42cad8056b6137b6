"""Triggers that watch an active buprenorphine transition (see :mod:`..induction`).

Each applies only while the patient has an active transition plan; its inputs are the
buprenorphine doses and observations the clinician logged, COWS scores, and the kratom diary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..induction import cows_rise_after_dose, kratom_after_first_dose, sedated
from .trigger_context import Context, Hit, _fmt


def _when(value: Any, ctx: Context) -> str:
    """A time as the clinic reads it (the snapshot's time zone)."""
    return f"{value.astimezone(ctx.snapshot.tz):%Y-%m-%d %H:%M}"


def induction_cows_rise(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    record = ctx.snapshot.induction
    if record is None:
        return None
    found = cows_rise_after_dose(
        record,
        min_rise=spec["min_rise"],
        within_hours=spec["within_hours"],
        before_hours=spec["before_hours"],
    )
    if found is None:
        return None
    return Hit(
        (
            {
                "type": "induction",
                "dose_at": found.dose.at.isoformat(),
                "dose_mg": _fmt(found.dose.mg, "0.01"),
                "cows_before": found.before.total,
                "cows_before_at": found.before.at.isoformat(),
                "cows_after": found.after.total,
                "cows_after_at": found.after.at.isoformat(),
                # when the cause happened: the higher score was taken
                "reported_at": found.after.at.isoformat(),
            },
        ),
        f"COWS rose from {found.before.total} ({_when(found.before.at, ctx)}) to "
        f"{found.after.total} ({_when(found.after.at, ctx)}) after the buprenorphine dose of "
        f"{_fmt(found.dose.mg, '0.01')} mg logged at {_when(found.dose.at, ctx)}: a rise of "
        f"{found.rise} points (threshold {spec['min_rise']} within {spec['within_hours']} hours).",
        found.dose.at.isoformat(),
    )


def induction_sedation(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    record = ctx.snapshot.induction
    if record is None:
        return None
    hits = sedated(record, min_level=spec["min_level"])
    if not hits:
        return None
    latest = hits[-1]
    return Hit(
        tuple(
            {"type": "induction", "reported_at": o.at.isoformat(), "sedation_level": o.sedation}
            for o in hits
        ),
        f"Sedation level {latest.sedation} logged at {_when(latest.at, ctx)} during the "
        f"buprenorphine transition (threshold {spec['min_level']}).",
        latest.at.isoformat(),
    )


def induction_kratom_use(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    record = ctx.snapshot.induction
    if record is None:
        return None
    taken = kratom_after_first_dose(record, (d.taken_at for d in ctx.snapshot.doses))
    if not taken:
        return None
    first = record.first_dose_at
    assert first is not None
    return Hit(
        tuple({"type": "dose", "taken_at": at.isoformat()} for at in taken),
        f"{len(taken)} kratom dose(s) recorded after the first buprenorphine dose "
        f"({_when(first, ctx)}), the latest at {_when(taken[-1], ctx)}.",
        first.isoformat(),
    )
