"""The buprenorphine transition summary on the clinician's patient page."""

from __future__ import annotations

from typing import Any

from django import template

from kratomwatch.clinic.actions.induction import open_plan
from kratomwatch.clinic.induction_input import latest_scores
from kratomwatch.clinic.models import PatientProfile

register = template.Library()


@register.simple_tag
def induction_summary(patient: PatientProfile) -> dict[str, Any]:
    """The open transition plan (or None) and the context scores, for a patient the view
    has already authorized."""
    return {"plan": open_plan(patient), "scores": latest_scores(patient)}
