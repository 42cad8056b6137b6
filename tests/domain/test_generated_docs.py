"""Docs generated from the knowledge base are current, and the screening doc covers the format."""

from __future__ import annotations

from pathlib import Path

import pytest

from kratomwatch.domain.evidence import generated_docs, load_library
from kratomwatch.domain.safety.snapshot import _POTENCY_FIELDS, SNAPSHOT_FIELDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(generated_docs()))
def test_generated_docs_are_current(name: str) -> None:
    expected = generated_docs()[name]
    actual = (DOCS / name).read_text(encoding="utf-8")
    assert actual == expected, f"docs/{name} is stale: run python -m kratomwatch.domain.evidence"


def test_the_screening_doc_names_every_snapshot_field() -> None:
    text = (DOCS / "screening.md").read_text()
    for field in (*SNAPSHOT_FIELDS, *_POTENCY_FIELDS):
        assert f"`{field}`" in text, field


def test_the_library_has_the_required_claims_and_graded_statements() -> None:
    lib = load_library()
    topics = {t.id for t in lib.topics}
    assert {
        "pain",
        "pharmacology",
        "interactions",
        "dependence_withdrawal",
        "adverse_events",
        "products_regulation",
    } <= topics
    claims = " ".join(c.claim.lower() for c in lib.claims)
    for phrase in (
        "not addictive",
        "dopamine",
        "back pain",
        "starting dose",
        "topical",
        "side effects",
    ):
        assert phrase in claims, phrase
    for topic in lib.topics:
        for statement in topic.statements:
            assert statement.grade and statement.references, statement.id
