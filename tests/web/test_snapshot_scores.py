"""Screening scores each response of its window; scores seen before are remembered."""

from __future__ import annotations

import json
from typing import Any

from kratomwatch.clinic import snapshot
from kratomwatch.domain.questionnaires import get_instrument, score
from kratomwatch.domain.questionnaires.loader import clear_cache

from .conftest import Triangle


def _decoded(stored: Any) -> Any:
    decoded.append(stored)
    return json.loads(stored) if isinstance(stored, str) else stored


decoded: list[Any] = []


def test_a_remembered_score_is_the_score(tri: Triangle) -> None:
    response = tri.response
    stored = json.dumps(response.answers)  # as the database hands it over
    direct = score(get_instrument(response.instrument_id), response.answers)
    snapshot._scores.clear()  # screening the fixture's record scored it already
    decoded.clear()
    first = snapshot._score(get_instrument(response.instrument_id), stored, _decoded)
    assert first == direct and decoded == [stored]
    # The same answers again: neither decoded nor scored again.
    assert snapshot._score(get_instrument(response.instrument_id), str(stored), _decoded) is first
    assert decoded == [stored]
    # Other answers are scored afresh.
    other = json.loads(stored)
    item = next(iter(other)) if isinstance(other, dict) else 0
    other[item] = 0 if other[item] else 1
    direct_other = score(get_instrument(response.instrument_id), other)
    assert direct_other != first
    assert (
        snapshot._score(get_instrument(response.instrument_id), json.dumps(other), _decoded)
        == direct_other
    )
    # Answers handed over already decoded are remembered too.
    assert snapshot._score(get_instrument(response.instrument_id), other, _decoded) == direct_other
    assert snapshot._score(
        get_instrument(response.instrument_id), json.loads(json.dumps(other)), _decoded
    ) is (snapshot._score(get_instrument(response.instrument_id), other, _decoded))


def test_a_reloaded_instrument_is_scored_afresh(tri: Triangle) -> None:
    response = tri.response
    stored = json.dumps(response.answers)
    before = snapshot._score(get_instrument(response.instrument_id), stored, _decoded)
    clear_cache()  # as after the instrument files changed
    after = snapshot._score(get_instrument(response.instrument_id), stored, _decoded)
    assert after is not before and after == before


def test_screening_uses_the_scores_of_its_responses(tri: Triangle) -> None:
    from django.utils import timezone

    taken = snapshot.patient_snapshot(tri.patient, timezone.now())
    [found] = [r for r in taken.responses if r.taken_at == tri.response.taken_at]
    assert found.score == score(get_instrument(tri.response.instrument_id), tri.response.answers)
