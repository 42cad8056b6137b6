"""A finding's cause has times of its own: when the symptom was reported, the dose taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kratomwatch.domain.findings import cause_times
from kratomwatch.domain.safety import Medication, Snapshot, SymptomReport, screen

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_a_red_flag_carries_when_and_what_was_reported() -> None:
    first, again = NOW - timedelta(days=3), NOW - timedelta(hours=2)
    snapshot = Snapshot(
        as_of=NOW,
        symptoms=(
            SymptomReport("short of breath", first, 3),
            SymptomReport("difficulty breathing", again, 3),
        ),
    )
    [finding] = [f for f in screen(snapshot).findings if f.category == "red_flag"]
    assert {t["reported_at"] for t in finding.triggers} == {first.isoformat(), again.isoformat()}
    assert {t["label"] for t in finding.triggers} == {
        "Difficulty breathing or slow, shallow breathing"
    }
    assert finding.cause_times() == (first, again)


def test_a_cause_with_no_time_of_its_own_has_none() -> None:
    snapshot = Snapshot(as_of=NOW, medications=(Medication("Xanax 0.5 mg"),))
    finding = next(f for f in screen(snapshot).findings if f.category == "interaction")
    assert finding.cause_times() == (None, None)


def test_times_are_read_from_doses_and_answers_and_bad_ones_are_ignored() -> None:
    a, b = NOW - timedelta(days=2), NOW - timedelta(days=1)
    triggers = [
        {"type": "dose", "taken_at": b.isoformat()},
        {"type": "response", "taken_at": a.isoformat()},
        {"type": "dose", "taken_at": "not a time"},
        {"type": "dose", "taken_at": "2026-11-20T08:00:00"},  # no offset: not a moment
        {"type": "medication", "text": "Xanax"},
    ]
    assert cause_times(triggers) == (a, b)
    assert cause_times([]) == (None, None)
