"""CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/): the services KratomWatch offers an EHR,
the requests it accepts and the cards it answers with.

This module reads requests and builds cards; it stores nothing and decides no access. The
view (:mod:`kratomwatch.clinic.views.cds_hooks`) checks the caller's token, finds the linked
patient through :mod:`kratomwatch.clinic.access` and screens with the same engine as the rest
of KratomWatch (:mod:`kratomwatch.domain.safety`).

- ``patient-view``: one card summarising the patient's open findings, most severe first, with
  a link to the patient's page in KratomWatch.
- ``order-select`` / ``order-sign``: each drafted MedicationRequest (for ``order-select`` only
  the newly selected ones) is screened with the patient's record, the EHR's active
  medications and (``order-select``) the drafts not selected, less those of the draft's own
  ingredients (so a re-order is not hidden by the list it renews); one card for each finding
  the draft adds (present with it, absent without it), and one ``info`` card for each draft
  naming no medication KratomWatch recognizes (it was not screened: no finding is not no
  risk). A card never proposes a kratom dose; it carries a suggestion only when the rule's
  management is an action on the order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kratomwatch.domain.findings import Finding, Severity
from kratomwatch.domain.safety import Medication
from kratomwatch.interop import codes as C
from kratomwatch.interop.fhir_import import match_medication, medication_of

PATIENT_VIEW = "patient-view"
ORDER_SELECT = "order-select"
ORDER_SIGN = "order-sign"

PATIENT_PREFETCH = "Patient/{{context.patientId}}"
MEDICATIONS_PREFETCH = "MedicationRequest?patient={{context.patientId}}&status=active"

#: The most a request body may hold (a large draft-orders bundle stays far below).
MAX_BODY_BYTES = 2_000_000
#: The most drafted medication orders one call may ask to screen.
MAX_DRAFTS = 50
#: Card summaries must be shorter than 140 characters (CDS Hooks 2.0, Card attributes).
MAX_SUMMARY = 139

INDICATOR = {Severity.HIGH: "critical", Severity.MODERATE: "warning", Severity.LOW: "info"}
_RANK = {Severity.HIGH: 0, Severity.MODERATE: 1, Severity.LOW: 2}


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
        }


SERVICES: tuple[Service, ...] = (
    Service(
        "kratomwatch-patient-view",
        PATIENT_VIEW,
        "KratomWatch: open safety findings",
        "When the chart of a patient linked to KratomWatch opens, one card lists the patient's "
        "open KratomWatch safety findings, most severe first, with a link to the patient's page.",
        {"patient": PATIENT_PREFETCH},
    ),
    Service(
        "kratomwatch-order-select",
        ORDER_SELECT,
        "KratomWatch: kratom interactions of selected orders",
        "Each newly selected medication order is screened against the patient's kratom use and "
        "KratomWatch record; one card per interaction or risk the order adds, with its reference.",
        {"patient": PATIENT_PREFETCH, "medications": MEDICATIONS_PREFETCH},
    ),
    Service(
        "kratomwatch-order-sign",
        ORDER_SIGN,
        "KratomWatch: kratom interactions of orders to sign",
        "Each medication order about to be signed is screened against the patient's kratom use "
        "and KratomWatch record; one card per interaction or risk the order adds, with its "
        "reference.",
        {"patient": PATIENT_PREFETCH, "medications": MEDICATIONS_PREFETCH},
    ),
)
SERVICES_BY_ID = {s.id: s for s in SERVICES}


def discovery() -> dict[str, Any]:
    return {"services": [s.to_dict() for s in SERVICES]}


class BadHookRequest(ValueError):
    """The request is not a CDS Hooks call this service can answer; the message says why."""


@dataclass(frozen=True)
class DraftMedication:
    """A drafted medication order: its reference (``MedicationRequest/<id>``, or ``""`` when it
    has no id), the name shown, and the medication as the engine reads it (``None`` when the
    order names no medication KratomWatch recognizes)."""

    reference: str
    shown: str
    medication: Medication | None


@dataclass(frozen=True)
class HookCall:
    hook: str
    hook_instance: str
    user_id: str
    patient_id: str
    drafts: tuple[DraftMedication, ...] = ()
    #: Active medications the EHR prefetched (``prefetch.medications``), as the engine reads
    #: them; empty when none were sent.
    prefetched: tuple[Medication, ...] = ()
    #: order-select: the drafted orders not selected (recognized ones), screened as part of
    #: what the patient takes; empty for the other hooks.
    others: tuple[Medication, ...] = ()


# --------------------------------------------------------------------------- requests


def parse_call(body: bytes, service: Service) -> HookCall:
    """The call in a request body for ``service``; :class:`BadHookRequest` if it is not one."""
    if len(body) > MAX_BODY_BYTES:
        raise BadHookRequest("The request body is too large.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadHookRequest("The request body is not JSON.") from None
    except RecursionError:
        raise BadHookRequest("The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise BadHookRequest("The request body must be a JSON object.")
    hook = data.get("hook")
    if not isinstance(hook, str) or not hook:
        raise BadHookRequest('The request has no "hook".')
    if hook != service.hook:
        raise BadHookRequest(
            f'The service {service.id} answers the "{service.hook}" hook, not "{hook}".'
        )
    instance = _text(data, "hookInstance", "the request")
    context = data.get("context")
    if not isinstance(context, dict):
        raise BadHookRequest('The request has no "context" object.')
    user_id = _text(context, "userId", "context")
    patient_id = _text(context, "patientId", "context")
    drafts: tuple[DraftMedication, ...] = ()
    others: tuple[Medication, ...] = ()
    if hook in (ORDER_SELECT, ORDER_SIGN):
        bundle = _bundle(context.get("draftOrders"), "context.draftOrders")
        if bundle is None:
            raise BadHookRequest("context.draftOrders must be a FHIR Bundle.")
        selections: set[str] | None = None
        if hook == ORDER_SELECT:
            chosen = context.get("selections")
            if not isinstance(chosen, list) or not all(isinstance(s, str) for s in chosen):
                raise BadHookRequest("context.selections must be a list of order references.")
            selections = set(chosen)
        every = tuple(_drafts(bundle))
        if len(every) > MAX_DRAFTS:
            raise BadHookRequest(
                f"context.draftOrders holds {len(every)} medication orders; at most "
                f"{MAX_DRAFTS} are screened in one call."
            )
        chosen_ones = [selections is None or d.reference in selections for d in every]
        drafts = tuple(d for d, on in zip(every, chosen_ones, strict=True) if on)
        others = tuple(
            d.medication
            for d, on in zip(every, chosen_ones, strict=True)
            if not on and d.medication is not None
        )
    prefetch = data.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise BadHookRequest('"prefetch" must be a JSON object.')
    prefetched: tuple[Medication, ...] = ()
    if prefetch and prefetch.get("medications") is not None:
        meds = _bundle(prefetch["medications"], "prefetch.medications")
        if meds is None:
            raise BadHookRequest("prefetch.medications must be a FHIR Bundle.")
        prefetched = tuple(_active_medications(meds))
    return HookCall(hook, instance, user_id, patient_id, drafts, prefetched, others)


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadHookRequest(f'{where} has no "{key}".')
    if len(value) > 255:
        raise BadHookRequest(f'{where}: "{key}" is too long.')
    return value


def _bundle(value: Any, where: str) -> dict[str, Any] | None:
    """The bundle's resources as a plain bundle (entries that are not resources dropped)."""
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return None
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        raise BadHookRequest(f"{where}.entry must be a list.")
    kept = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            if resource.get("id") is not None and not isinstance(resource.get("id"), str):
                continue
            if not isinstance(resource.get("medicationReference", {}), dict):
                continue
            kept.append({"resource": resource})
            if isinstance(entry.get("fullUrl"), str):
                kept[-1]["fullUrl"] = entry["fullUrl"]
    return {"resourceType": "Bundle", "entry": kept}


def _medication(
    bundle: Mapping[str, Any], resource: Mapping[str, Any]
) -> tuple[str, Medication | None]:
    concept, texts = medication_of(bundle, resource)
    shown = texts[0] if texts else ""
    match = match_medication(concept)
    if not match.ids:
        return shown, None
    dose = None
    dosage = resource.get("dosageInstruction")
    if isinstance(dosage, list) and dosage and isinstance(dosage[0], dict):
        text = dosage[0].get("text")
        dose = text[:200] if isinstance(text, str) and text.strip() else None
    return shown or match.matched, Medication(match.text or match.matched, dose)


def _drafts(bundle: Mapping[str, Any]) -> Iterable[DraftMedication]:
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "MedicationRequest":
            continue
        reference = f"MedicationRequest/{resource['id']}" if resource.get("id") else ""
        shown, medication = _medication(bundle, resource)
        yield DraftMedication(reference, shown, medication)


def _active_medications(bundle: Mapping[str, Any]) -> Iterable[Medication]:
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] not in ("MedicationRequest", "MedicationStatement"):
            continue
        if resource.get("status", "active") != "active":
            continue
        _shown, medication = _medication(bundle, resource)
        if medication is not None:
            yield medication


# --------------------------------------------------------------------------- cards


def new_findings(
    before: Sequence[Finding], after: Sequence[Finding], rules: set[str]
) -> list[Finding]:
    """The findings of ``after`` (screened with the draft) absent from ``before`` (without it),
    of the knowledge base's rules only (not the notice of a name not recognized)."""
    seen = {f.fingerprint() for f in before}
    return [f for f in after if f.code in rules and f.fingerprint() not in seen]


def order_card(
    finding: Finding,
    draft: DraftMedication,
    references: Mapping[str, Mapping[str, Any]],
    *,
    removable: bool,
) -> dict[str, Any]:
    """The card for one finding a drafted order adds."""
    reference = references.get(finding.references[0], {}) if finding.references else {}
    detail = f"{_md(finding.rationale)}\n\n**What to do:** {_md(finding.management)}"
    cited = [references[r] for r in finding.references if r in references]
    if cited:
        detail += "\n\n**References:**\n" + "\n".join(
            f"- {_md(str(r.get('citation') or r.get('id')))}"
            + (f" <{r['url']}>" if r.get("url") else "")
            for r in cited
        )
    source: dict[str, Any] = {"label": str(reference.get("citation") or "KratomWatch")}
    if reference.get("url"):
        source["url"] = str(reference["url"])
    source["topic"] = {
        "system": C.CS_FINDING,
        "code": finding.code,
        "display": finding.title,
    }
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(finding.title),
        "detail": detail,
        "indicator": INDICATOR[finding.severity],
        "source": source,
    }
    if removable and draft.reference:
        card["suggestions"] = [
            {
                "label": "Remove the order",
                "uuid": str(uuid.uuid4()),
                "actions": [
                    {
                        "type": "delete",
                        "description": f"Remove the order for {draft.shown}",
                        "resourceId": draft.reference,
                    }
                ],
            }
        ]
        card["selectionBehavior"] = "at-most-one"
    return card


def unscreened_card(draft: DraftMedication) -> dict[str, Any]:
    """The card for a drafted order naming no medication KratomWatch recognizes: silence
    would read as "no interaction", so it is said that the order was not screened."""
    name = " ".join(draft.shown.split()) or (draft.reference or "an order with no medication")
    return {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(f"KratomWatch could not screen {name}"),
        "detail": (
            f"KratomWatch does not recognize the medication {_md(name)}, so this order was not "
            "checked against the patient's kratom use. No KratomWatch finding for this order "
            "does not mean it carries no risk with kratom: check it in a drug-interaction "
            "reference."
        ),
        "indicator": "info",
        "source": {"label": "KratomWatch"},
    }


@dataclass(frozen=True)
class OpenFinding:
    severity: Severity
    title: str


def patient_view_card(findings: Sequence[OpenFinding], link: str) -> dict[str, Any] | None:
    """One card listing the patient's open findings, most severe first; ``None`` for none."""
    if not findings:
        return None
    ordered = sorted(findings, key=lambda f: _RANK[f.severity])
    worst = ordered[0].severity
    count = len(ordered)
    summary = (
        f"KratomWatch: 1 open safety finding: {ordered[0].title}"
        if count == 1
        else f"KratomWatch: {count} open safety findings, the most severe: {ordered[0].title}"
    )
    detail = "\n".join(f"- **{f.severity.value}**: {_md(f.title)}" for f in ordered)
    return {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(summary),
        "detail": detail,
        "indicator": INDICATOR[worst],
        "source": {"label": "KratomWatch", "url": link},
        "links": [{"label": "Open the patient in KratomWatch", "url": link, "type": "absolute"}],
    }


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"


def _md(text: str) -> str:
    """Text from records or the EHR, with Markdown's and HTML's special characters escaped."""
    out = []
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_{}[]()#+!<>|~" else ch)
    return "".join(out)
