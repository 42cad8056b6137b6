"""Screening scores each response of its window; scores seen before are remembered."""

from __future__ import annotations

import json
from typing import Any

from kratomwatch.clinic import screening_input as snapshot
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.questionnaires.loader import clear_cache

from .conftest import Triangle


def test_a_remembered_score_is_the_score(tri: Triangle, monkeypatch: Any) -> None:
    response = tri.response
    instrument = get_instrument(response.instrument_id)
    direct = score(instrument, response.answers)
    snapshot._scores.clear()  # screening the fixture's record scored it already
    scored: list[Any] = []
    monkeypatch.setattr(snapshot, "score", lambda i, a: scored.append(a) or score(i, a))
    first = snapshot._score(instrument, response.answers)
    assert first == direct and len(scored) == 1
    # The same answers again (an equal copy, as the next read hands them over): not scored
    # again.
    assert snapshot._score(instrument, json.loads(json.dumps(response.answers))) is first
    assert len(scored) == 1
    # Other answers are scored afresh.
    other = json.loads(json.dumps(response.answers))
    item = next(iter(other)) if isinstance(other, dict) else 0
    other[item] = 0 if other[item] else 1
    direct_other = score(instrument, other)
    assert direct_other != first
    assert snapshot._score(instrument, other) == direct_other and len(scored) == 2


def test_a_reloaded_instrument_is_scored_afresh(tri: Triangle) -> None:
    response = tri.response
    before = snapshot._score(get_instrument(response.instrument_id), response.answers)
    clear_cache()  # as after the instrument files changed
    after = snapshot._score(get_instrument(response.instrument_id), response.answers)
    assert after is not before and after == before


def test_screening_uses_the_scores_of_its_responses(tri: Triangle) -> None:
    from django.utils import timezone

    taken = snapshot.patient_snapshot(tri.patient, timezone.now())
    [found] = [r for r in taken.responses if r.taken_at == tri.response.taken_at]
    assert found.score == score(get_instrument(tri.response.instrument_id), tri.response.answers)
