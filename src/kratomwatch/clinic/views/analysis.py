"""The personal dose-response section, for the clinician and for the patient.

The clinician's section is its own small page, loaded into the patient page (htmx; a plain
link without JavaScript), with the figures and association wording. It shows the words the
patient would see, and the clinician may share them (an explicit, audited act). The patient
sees only words their clinician has shared, never a figure per gram; until then, that their
clinician will go through it with them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.actions.analysis import do_release_analysis
from kratomwatch.clinic.analysis_app import (
    WINDOW_DAYS,
    DoseResponseView,
    dose_response,
    latest_release,
    patient_summary,
    summary_digest,
)
from kratomwatch.clinic.models import Role
from kratomwatch.clinic.views.common import client_ip, user_of
from kratomwatch.domain.analysis import Summary


def fragment(request: HttpRequest) -> bool:
    """Whether htmx asked for the section alone."""
    return request.headers.get("HX-Request") == "true"


def pct(p: float | None) -> str:
    if p is None:
        return "—"
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    return f"{round(100 * p)}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def signed(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:+.{digits}f}"


def ci(s: Summary | None) -> str:
    """Mean and 90% credible interval, signed: "-0.12 (-0.30 to +0.05)"."""
    if s is None:
        return "—"
    return interval(signed(s.mean), signed(s.ci90[0]), signed(s.ci90[1]))


def interval(mean: str, low: str, high: str) -> str:
    """A value and its interval in the reader's language: "0.12 (0.05 to 0.30)"."""
    return gettext("%(mean)s (%(low)s to %(high)s)") % {"mean": mean, "low": low, "high": high}


def grams_a_day(g: float) -> str:
    return gettext("%(g)s g/day") % {"g": f"{g:.1f}"}


def _clinician_rows(view: DoseResponseView) -> dict[str, Any]:
    """Formatted figures for the clinician's section (the template does no arithmetic)."""
    pain = view.pain
    out: dict[str, Any] = {"view": view, "pain": pain, "window_days": WINDOW_DAYS}
    if pain.sufficient:
        assert pain.effect is not None and pain.typical_dose is not None
        assert pain.ar1 is not None and pain.comparison is not None

        out |= {
            "effect": ci(pain.effect),
            "effect_same": ci(pain.effect_same_day),
            "effect_prev": ci(pain.effect_previous_day),
            "trend": ci(pain.trend_per_30_days),
            "typical": gettext("%(low)s to %(high)s g/day")
            % {"low": f"{pain.typical_dose[0]:.1f}", "high": f"{pain.typical_dose[1]:.1f}"},
            "p_points": pct(pain.prob_benefit_points),
            "p_fraction": pct(pain.prob_benefit_fraction),
            "baseline": num(pain.baseline, 1),
            "plateau": None if pain.plateau is None else grams_a_day(pain.plateau),
            "plateau_reason": pain.comparison.reason,
            "ar1": interval(
                f"{pain.ar1.mean:.2f}", f"{pain.ar1.ci90[0]:.2f}", f"{pain.ar1.ci90[1]:.2f}"
            ),
            "residual_sd": num(pain.residual_sd, 2),
        }
    effects = view.side_effects
    if effects is not None:
        out["side_effects"] = effects
        out["bands"] = [
            {
                "label": b.label,
                "range": f"{b.dose_min:.1f}–{b.dose_max:.1f} g",
                "days": b.n_days,
                "with": b.n_with_side_effect,
                "share": f"{round(100 * b.proportion)}%",
            }
            for b in effects.bands
        ]
        if effects.odds_ratio_per_unit is not None:
            o = effects.odds_ratio_per_unit
            out["odds"] = interval(f"{o.mean:.2f}", f"{o.ci90[0]:.2f}", f"{o.ci90[1]:.2f}")
            out["p_increase"] = pct(effects.prob_increase)
        out["side_effect_reason"] = next(
            (n for n in effects.notes if n.startswith(("Insufficient", "No trend"))), ""
        )
    lines = patient_summary(view)
    out |= {"patient_lines": lines, "digest": summary_digest(lines)}
    return out


@access.role_required(Role.CLINICIAN)
@require_GET
def patient_dose_response(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    audit_chain.append(
        user,
        "analysis.view",
        patient=patient,
        object_type="patient",
        object_uuid=patient.uuid,
        ip=client_ip(request),
    )
    context = {
        "patient": patient,
        "release": latest_release(patient),
        **_clinician_rows(dose_response(patient, request)),
    }
    if fragment(request):
        return render(request, "analysis/_dose_response.html", context)
    return render(request, "analysis/dose_response_page.html", context)


@access.role_required(Role.CLINICIAN)
@require_POST
def release_dose_response(request: HttpRequest, patient_uuid: str) -> HttpResponse:
    """Share the plain-language summary the clinician was shown with the patient."""
    user = user_of(request)
    patient = access.patient_for(user, patient_uuid)
    # Back to the section as a page of its own: the message and the section in one screen.
    back = reverse("patient_dose_response", kwargs={"patient_uuid": patient.uuid})
    view = dose_response(patient, request)
    lines = patient_summary(view)
    if request.POST.get("digest") != summary_digest(lines):
        messages.error(
            request,
            gettext(
                "Nothing was shared: the diary has changed since the analysis was shown. "
                "Read the words again, then share them."
            ),
        )
        return redirect(back)
    # The same words, in the language the patient reads their pages in.
    with translation.override(patient.language):
        words = patient_summary(view)
    do_release_analysis(
        patient=patient, clinician=user, view=view, lines=words, ip=client_ip(request)
    )
    messages.success(
        request,
        gettext("Shared with %(name)s: they see these words on their trends page.")
        % {"name": patient.display_name},
    )
    return redirect(back)


@access.role_required(Role.PATIENT)
@require_GET
def my_dose_response(request: HttpRequest) -> HttpResponse:
    patient = access.own_profile(user_of(request))
    context = {"release": latest_release(patient)}
    if fragment(request):
        return render(request, "analysis/_my_dose_response.html", context)
    return render(request, "analysis/my_dose_response_page.html", context)
