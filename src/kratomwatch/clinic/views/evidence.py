"""The evidence library: claims and the rules that cite them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kratomwatch.domain.evidence import GRADE_LABELS, VERDICT_LABELS, load_library
from kratomwatch.domain.safety import load_knowledge
from kratomwatch.domain.safety.knowledge import release_notes


def evidence_library(request: HttpRequest) -> HttpResponse:
    """Public: what is and is not known, statement by statement, with references."""
    return render(
        request, "clinic/evidence.html", {"library": load_library(), "grades": GRADE_LABELS}
    )


def evidence_claims(request: HttpRequest) -> HttpResponse:
    """Public, for patients: common claims about kratom and what the evidence says."""
    return render(
        request, "clinic/claims.html", {"library": load_library(), "verdicts": VERDICT_LABELS}
    )


def evidence_rules(request: HttpRequest) -> HttpResponse:
    """Public: every safety rule, its trigger, evidence level and references."""
    kb = load_knowledge()
    heading, notes = release_notes()
    context = {"kb": kb, "grades": GRADE_LABELS, "release": heading, "release_notes": notes}
    return render(request, "clinic/rules.html", context)
