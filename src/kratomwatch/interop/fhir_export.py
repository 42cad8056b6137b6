"""FHIR R4 export of a patient's record, validated with the ``fhir.resources`` R4B models.

One patient gives a Bundle of type ``collection`` (references are ``urn:uuid:`` full URLs of
the entries); a clinic gives one NDJSON file per resource type in the style of FHIR Bulk
Data (references are relative, ``Patient/<id>``). Resource ids are the records' public
UUIDs; resources derived from a record (the Observation of a questionnaire total) get a
name-based UUID derived from it, so a second export gives the same ids.

Every resource is validated by its ``fhir.resources`` model before it is written; numbers
are plain JSON numbers and times carry their UTC offset. The mapping is documented in
docs/interoperability.md.

About 820 lines: one builder per FHIR resource type, each a short mapping from a record
to its resource with the codes it needs; they share the bundle's references and codes.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from statistics import median
from typing import IO, Any, Literal

from django.utils import timezone

from kratomwatch import __version__
from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    Clinic,
    DoseEntry,
    Finding,
    FindingStatus,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    Plan,
    PlanKind,
    Product,
    ProductLot,
    QuestionnaireResponse,
    Sex,
    User,
)
from kratomwatch.domain.conditions import CONDITION_LABELS, ConditionCode
from kratomwatch.domain.products import FORM_LABELS, ProductForm, format_decimal
from kratomwatch.domain.questionnaires import (
    Instrument,
    InstrumentError,
    get_instrument,
    validate_answers,
)
from kratomwatch.domain.substances import load_knowledge as load_substances
from kratomwatch.interop.fhir_lots import lot_resource

from . import codes as C
from .fhir_instruments import (
    Resource,
    questionnaire_id,
    questionnaire_resource,
    questionnaire_url,
    validated,
)
from .fhir_results import result_observation

RefStyle = Literal["urn", "relative"]

#: The resource types written by a clinic export, one NDJSON file each, in this order.
NDJSON_TYPES = (
    "Patient",
    "Condition",
    "MedicationStatement",
    "Questionnaire",
    "QuestionnaireResponse",
    "Observation",
    "DetectedIssue",
    "CarePlan",
    "Provenance",
)

_GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.INTERSEX: "other", Sex.UNKNOWN: "unknown"}
_PLAN_LIMITS = (
    ("max_single_dose_g", "Maximum single dose", "g leaf-equivalent per dose"),
    ("max_daily_dose_g", "Maximum daily dose", "g leaf-equivalent per day"),
    ("max_doses_per_day", "Maximum doses per day", "doses per day"),
    ("min_hours_between", "Minimum interval between doses", "hours"),
    ("max_weekly_increase_pct", "Maximum weekly increase", "% per week"),
)
_POTENCY = (
    ("mitragynine_mg_per_g", "mitragynine {} mg/g"),
    ("hydroxymitragynine_mg_per_g", "7-hydroxymitragynine {} mg/g"),
    ("unit_material_mg", "{} mg of material per capsule or tablet"),
    ("mitragynine_mg_per_unit", "mitragynine {} mg per capsule or tablet"),
    ("hydroxymitragynine_mg_per_unit", "7-hydroxymitragynine {} mg per capsule or tablet"),
    ("leaf_g_per_ml", "{} g of leaf per ml"),
    ("mitragynine_mg_per_ml", "mitragynine {} mg/ml"),
    ("hydroxymitragynine_mg_per_ml", "7-hydroxymitragynine {} mg/ml"),
    ("extract_ratio", "extract ratio {}:1"),
)


class ExportError(Exception):
    """The export cannot be written; the message says why."""


def number(value: Decimal | int | float | str) -> int | float:
    """A JSON number for a FHIR decimal: an int when whole, else a float."""
    exact = Decimal(str(value))
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def fhir_time(value: datetime) -> str:
    """An aware datetime in the server's time zone, to the second, with its UTC offset."""
    return timezone.localtime(value).isoformat(timespec="seconds")


def observation_id(response_uuid: uuid.UUID) -> str:
    return str(uuid.uuid5(response_uuid, "observation.total"))


def _fmt(value: Decimal | int) -> str:
    return format_decimal(Decimal(value))


@dataclass
class Exporter:
    """Shared settings of one export: reference style, time of export, who asked."""

    style: RefStyle
    now: datetime
    generated_by: User | None = None

    def ref(self, resource_type: str, resource_id: object, display: str | None = None) -> Resource:
        literal = (
            f"urn:uuid:{resource_id}" if self.style == "urn" else f"{resource_type}/{resource_id}"
        )
        out: Resource = {"reference": literal, "type": resource_type}
        if display:
            out["display"] = display
        return out

    def ref_to(self, resource: Resource) -> Resource:
        return self.ref(resource["resourceType"], resource["id"])


def user_ref(ex: Exporter, user: User | None, patient: PatientProfile) -> Resource | None:
    """The patient as a literal reference; anyone else as a logical Practitioner reference."""
    if user is None:
        return None
    if user.pk == patient.user_id:
        return ex.ref("Patient", patient.uuid)
    return {
        "type": "Practitioner",
        "identifier": {"system": C.SID_USER, "value": str(user.uuid)},
        "display": user.get_full_name() or user.username,
    }


def device_ref(what: str) -> Resource:
    return {
        "type": "Device",
        "identifier": {"system": C.SID_DEVICE, "value": "kratomwatch"},
        "display": f"KratomWatch {__version__} {what}",
    }


def _meta(modified: datetime) -> Resource:
    return {"lastUpdated": fhir_time(modified)}


# --------------------------------------------------------------------------- resources


def patient_resource(ex: Exporter, patient: PatientProfile) -> Resource:
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.uuid),
        "meta": _meta(patient.modified),
        "identifier": [{"system": C.SID_PATIENT, "value": str(patient.uuid)}],
        "active": patient.user.is_active,
        "name": [{"text": patient.display_name}] if patient.display_name else None,
        "gender": _GENDER.get(Sex(patient.sex), "unknown"),
        "managingOrganization": {
            "type": "Organization",
            "identifier": {"system": C.SID_CLINIC, "value": str(patient.clinic.uuid)},
            "display": patient.clinic.name,
        },
    }
    if patient.year_of_birth:
        resource["birthDate"] = f"{patient.year_of_birth:04d}"
    return {k: v for k, v in resource.items() if v is not None}


def condition_resource(ex: Exporter, patient: PatientProfile, row: PatientCondition) -> Resource:
    label = CONDITION_LABELS.get(ConditionCode(row.code), row.code)
    codings = [C.coding(C.CS_CONDITION, row.code, label)]
    if row.code in C.ICD10CM_EXACT:
        icd, icd_display = C.ICD10CM_EXACT[row.code]
        codings.append(C.coding(C.ICD10CM, icd, icd_display))
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(row.uuid),
        "meta": _meta(row.modified),
        "clinicalStatus": C.concept(
            None, C.coding(C.CONDITION_CLINICAL, "active" if row.active else "inactive")
        ),
        "category": [
            C.concept(
                None, C.coding(C.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
            )
        ],
        "code": C.concept(label, *codings),
        "subject": ex.ref("Patient", patient.uuid),
        "recordedDate": fhir_time(row.created),
    }
    if row.note:
        resource["note"] = [{"text": row.note}]
    return resource


def _substance_codings(ingredient: str) -> list[Resource]:
    """KratomWatch substance and ATC codings, only for a single recognised ingredient."""
    ids = [i for i in ingredient.split(",") if i]
    if len(ids) != 1:
        return []
    substance = load_substances().substances.get(ids[0])
    if substance is None:
        return []
    return [C.coding(C.CS_SUBSTANCE, substance.id, substance.name)] + [
        C.coding(C.ATC, code) for code in substance.atc
    ]


def medication_resource(
    ex: Exporter, patient: PatientProfile, row: MedicationStatement
) -> Resource:
    today = timezone.localdate(ex.now)
    current = row.stopped_on is None or row.stopped_on >= today
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": str(row.uuid),
        "meta": _meta(row.modified),
        "status": "active" if current else "completed",
        "medicationCodeableConcept": C.concept(
            row.name_entered, *_substance_codings(row.ingredient)
        ),
        "subject": ex.ref("Patient", patient.uuid),
        "dateAsserted": fhir_time(row.created),
    }
    period = {}
    if row.started_on:
        period["start"] = row.started_on.isoformat()
    if row.stopped_on:
        period["end"] = row.stopped_on.isoformat()
    if period:
        resource["effectivePeriod"] = period
    if row.dose_text:
        resource["dosage"] = [{"text": row.dose_text}]
    return resource


def _product_details(product: Product) -> str:
    form = FORM_LABELS[ProductForm(product.form)]
    parts = [f"Kratom product, form: {form.lower()}"]
    for label, value in (
        ("vendor", product.vendor),
        ("strain label", product.strain_label),
        ("batch", product.batch),
    ):
        if value:
            parts.append(f"{label}: {value}")
    potency = [
        template.format(_fmt(getattr(product, name)))
        for name, template in _POTENCY
        if getattr(product, name) is not None
    ]
    parts.append(
        f"potency ({product.get_potency_source_display().lower()}): "
        + (", ".join(potency) if potency else "unknown")
    )
    return "; ".join(parts) + "."


def _dose_summary(doses: list[DoseEntry]) -> tuple[str, Resource | None, str]:
    """Text, typical dose quantity and route of a product's dose entries."""
    if not doses:
        return "No doses recorded.", None, "oral"
    days = sorted({timezone.localdate(d.taken_at) for d in doses})
    unit = Counter(d.unit for d in doses).most_common(1)[0][0]
    typical = Decimal(median(d.amount for d in doses if d.unit == unit))
    route = Counter(d.route for d in doses).most_common(1)[0][0] or "oral"
    text = (
        f"{len(doses)} doses on {len(days)} days from {days[0].isoformat()} to "
        f"{days[-1].isoformat()}; median dose {_fmt(typical)} {unit}; "
        f"{len(doses) / len(days):.1f} doses per day on days with use."
    )
    for name, label, unit_label in (
        ("leaf_equivalent_g", "leaf-equivalent", "g"),
        ("mitragynine_mg", "mitragynine", "mg"),
        ("hydroxymitragynine_mg", "7-hydroxymitragynine", "mg"),
    ):
        known = [getattr(d, name) for d in doses if getattr(d, name) is not None]
        if known:
            unknown = len(doses) - len(known)
            text += f" Total {label}: {_fmt(sum(known, Decimal(0)))} {unit_label}" + (
                f" (unknown for {unknown} doses)." if unknown else "."
            )
    quantity = {
        "value": number(typical),
        "unit": unit,
        "system": C.UCUM,
        "code": C.UCUM_UNITS[unit],
    }
    return text, quantity, route


def product_resource(
    ex: Exporter, patient: PatientProfile, product: Product, doses: list[DoseEntry]
) -> Resource:
    form = ProductForm(product.form)
    text, quantity, route = _dose_summary(doses)
    dosage: Resource = {"text": text, "route": {"text": route}}
    if quantity is not None:
        dosage["doseAndRate"] = [{"doseQuantity": quantity}]
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": str(product.uuid),
        "meta": _meta(product.modified),
        "status": "completed" if product.archived else "active",
        "category": C.concept(
            None,
            C.coding(C.MEDICATION_STATEMENT_CATEGORY, "patientspecified", "Patient Specified"),
        ),
        "medicationCodeableConcept": C.concept(
            product.name,
            C.coding(C.CS_KRATOM_PRODUCT, form.value, f"Kratom: {FORM_LABELS[form].lower()}"),
        ),
        "subject": ex.ref("Patient", patient.uuid),
        "informationSource": ex.ref("Patient", patient.uuid),
        "dateAsserted": fhir_time(product.created),
        "dosage": [dosage],
        "note": [{"text": _product_details(product)}],
    }
    if doses:
        resource["effectivePeriod"] = {
            "start": fhir_time(doses[0].taken_at),
            "end": fhir_time(doses[-1].taken_at),
        }
    return resource


def _instrument(instrument_id: str, version: str) -> Instrument | None:
    """The loaded instrument if it is the version the response was given with."""
    try:
        instrument = get_instrument(instrument_id)
    except InstrumentError:
        return None
    return instrument if instrument.version == version else None


def _answers(instrument: Instrument | None, raw: Any) -> list[tuple[str, int | None]]:
    if instrument is not None:
        try:
            return list(validate_answers(instrument, raw).items())
        except InstrumentError:
            pass
    if isinstance(raw, Mapping):
        return [(str(k), v if isinstance(v, int) else None) for k, v in raw.items()]
    if isinstance(raw, list):
        return [(str(i + 1), v if isinstance(v, int) else None) for i, v in enumerate(raw)]
    return []


def response_resource(
    ex: Exporter, patient: PatientProfile, row: QuestionnaireResponse, instrument: Instrument | None
) -> Resource:
    free = instrument is not None and instrument.licence.redistributable
    items = []
    for item_id, value in _answers(instrument, row.answers):
        if value is None:
            continue
        entry: Resource = {"linkId": item_id}
        definition = None
        if instrument is not None and item_id in instrument.item_ids:
            definition = instrument.item(item_id)
            if free:
                entry["text"] = definition.text
        if definition is not None and definition.options:
            label = next((o.label for o in definition.options if o.value == value), None)
            entry["answer"] = [
                {"valueCoding": C.coding(C.CS_ANSWER, str(value), label if free else None)}
            ]
        else:
            entry["answer"] = [{"valueInteger": value}]
        items.append(entry)
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.uuid),
        "meta": _meta(row.modified),
        "questionnaire": f"{questionnaire_url(row.instrument_id)}|{row.instrument_version}",
        "status": "completed",
        "subject": ex.ref("Patient", patient.uuid),
        "authored": fhir_time(row.taken_at),
        "source": ex.ref("Patient", patient.uuid),
        "item": items,
    }
    author = user_ref(ex, row.completed_by, patient)
    if author is not None:
        resource["author"] = author
    if not items:
        del resource["item"]
    return resource


def _score_quantity(value: Any) -> Resource:
    return {"value": number(value), "unit": "{score}", "system": C.UCUM, "code": "{score}"}


def observation_resource(
    ex: Exporter, patient: PatientProfile, row: QuestionnaireResponse, instrument: Instrument | None
) -> Resource | None:
    """The total of a questionnaire response (for the daily check-in: the pain score)."""
    if row.total is None:
        return None
    iid = row.instrument_id
    title = instrument.title if instrument else iid
    label = (instrument.scoring.total_label if instrument else None) or f"{title} total score"
    codings = []
    if iid in C.LOINC_TOTALS:
        code, display = C.LOINC_TOTALS[iid]
        codings.append(C.coding(C.LOINC, code, display))
    codings.append(C.coding(C.CS_OBSERVATION, f"{iid}.total", label))
    resource: Resource = {
        "resourceType": "Observation",
        "id": observation_id(row.uuid),
        "meta": _meta(row.modified),
        "status": "final",
        "category": [C.concept(None, C.coding(C.OBSERVATION_CATEGORY, "survey", "Survey"))],
        "code": C.concept(label, *codings),
        "subject": ex.ref("Patient", patient.uuid),
        "effectiveDateTime": fhir_time(row.taken_at),
        "issued": fhir_time(row.created),
        "valueQuantity": _score_quantity(row.total),
        "derivedFrom": [ex.ref("QuestionnaireResponse", row.uuid)],
    }
    scores = row.scores if isinstance(row.scores, dict) else {}
    components = []
    for sub_id, value in (scores.get("subscales") or {}).items():
        if value is None:
            continue
        sub_label = sub_id
        if instrument is not None:
            try:
                sub_label = instrument.subscale(sub_id).label
            except KeyError:
                pass
        components.append(
            {
                "code": C.concept(
                    sub_label, C.coding(C.CS_OBSERVATION, f"{iid}.{sub_id}", sub_label)
                ),
                "valueQuantity": _score_quantity(value),
            }
        )
    if components:
        resource["component"] = components
    if scores.get("band"):
        resource["interpretation"] = [{"text": str(scores["band"])}]
    if scores.get("flags"):
        resource["note"] = [{"text": "Flags: " + ", ".join(str(f) for f in scores["flags"])}]
    return resource


_DETECTED_ISSUE_STATUS = {
    FindingStatus.OPEN: "preliminary",
    FindingStatus.ACKNOWLEDGED: "final",
    FindingStatus.RESOLVED: "final",
}


def detected_issue_resource(ex: Exporter, patient: PatientProfile, row: Finding) -> Resource:
    evidence = []
    links = []
    for ref in row.references if isinstance(row.references, list) else []:
        if not isinstance(ref, dict):
            continue
        ref_id = str(ref.get("id") or "")
        citation = str(ref.get("citation") or ref_id)
        url = ref.get("url")
        codings = [C.coding(C.CS_REFERENCE, ref_id)] if ref_id else []
        item: Resource = {"code": [C.concept(citation, *codings)]}
        if url:
            links.append(str(url))
            item["detail"] = [
                {"identifier": {"system": C.URI_IDENTIFIER, "value": str(url)}, "display": citation}
            ]
        evidence.append(item)
    mitigation = []
    for action, display, at, by, reason in (
        (
            "acknowledged",
            "Acknowledged",
            row.acknowledged_at,
            row.acknowledged_by,
            row.acknowledged_reason,
        ),
        ("resolved", "Resolved", row.resolved_at, row.resolved_by, row.resolved_reason),
    ):
        if at is None:
            continue
        entry: Resource = {
            "action": C.concept(reason or display, C.coding(C.CS_FINDING_ACTION, action, display)),
            "date": fhir_time(at),
        }
        author = user_ref(ex, by, patient)
        if author is not None:
            entry["author"] = author
        mitigation.append(entry)
    extension: list[Resource] = [
        {"url": C.EXT_FINDING_STATUS, "valueCode": row.status},
        {"url": C.EXT_FINDING_ACTIVE, "valueBoolean": row.active},
    ]
    if row.management:
        extension.append({"url": C.EXT_FINDING_MANAGEMENT, "valueString": row.management})
    resource: Resource = {
        "resourceType": "DetectedIssue",
        "id": str(row.uuid),
        "meta": _meta(row.modified),
        "extension": extension,
        "status": _DETECTED_ISSUE_STATUS.get(FindingStatus(row.status), "preliminary"),
        "code": C.concept(row.title, C.coding(C.CS_FINDING, row.code, row.title)),
        "severity": row.severity,
        "patient": ex.ref("Patient", patient.uuid),
        "identifiedDateTime": fhir_time(row.first_seen),
        "author": device_ref("safety screening"),
    }
    if row.rationale:
        resource["detail"] = row.rationale
    if links:
        resource["reference"] = links[0]
    if evidence:
        resource["evidence"] = evidence
    if mitigation:
        resource["mitigation"] = mitigation
    return resource


def care_plan_resource(
    ex: Exporter, patient: PatientProfile, plan: Plan, previous: Plan | None
) -> Resource:
    kind = PlanKind(plan.kind).label
    detail_status = "in-progress" if plan.active else "stopped"
    activities = []
    lines = []
    for name, label, unit in _PLAN_LIMITS:
        value = getattr(plan, name)
        if value is None:
            continue
        sentence = f"{label}: {_fmt(value)} {unit}"
        lines.append(sentence)
        detail: Resource = {
            "code": C.concept(label, C.coding(C.CS_PLAN_LIMIT, name, label)),
            "status": detail_status,
            "description": sentence,
        }
        if name == "max_single_dose_g":
            detail["quantity"] = {
                "value": number(value),
                "unit": "g",
                "system": C.UCUM,
                "code": "g",
            }
        elif name == "max_daily_dose_g":
            detail["dailyAmount"] = {
                "value": number(value),
                "unit": "g",
                "system": C.UCUM,
                "code": "g",
            }
        activities.append({"detail": detail})
    if plan.benefit_review_days:
        lines.append(f"Benefit review after {plan.benefit_review_days} days at a stable dose")
    if plan.review_on:
        lines.append(f"Review on {plan.review_on.isoformat()}")
    if plan.stop_rules:
        lines.append(f"Stop rules: {plan.stop_rules}")
    description = f"{kind} plan, version {plan.version}. " + (
        "; ".join(lines) + "." if lines else "No limits set."
    )
    resource: Resource = {
        "resourceType": "CarePlan",
        "id": str(plan.uuid),
        "meta": _meta(plan.modified),
        "extension": [{"url": C.EXT_PLAN_VERSION, "valueInteger": plan.version}],
        "status": "active" if plan.active else "revoked",
        "intent": "plan",
        "title": f"{kind} plan, version {plan.version}",
        "description": description,
        "subject": ex.ref("Patient", patient.uuid),
        "created": fhir_time(plan.created),
        "note": [{"text": f"Reason: {plan.reason}"}],
    }
    author = user_ref(ex, plan.author, patient)
    if author is not None:
        resource["author"] = author
    if previous is not None:
        resource["replaces"] = [ex.ref("CarePlan", previous.uuid)]
    if activities:
        resource["activity"] = activities
    if plan.details:
        resource["note"].append(
            {"text": "Details: " + json.dumps(plan.details, sort_keys=True, default=str)}
        )
    return resource


def provenance_resource(ex: Exporter, targets: Iterable[Resource]) -> Resource:
    agents: list[Resource] = [
        {
            "type": C.concept(None, C.coding(C.PROVENANCE_PARTICIPANT, "assembler", "Assembler")),
            "who": device_ref("FHIR export"),
        }
    ]
    if ex.generated_by is not None:
        agents.append(
            {
                "type": C.concept(None, C.coding(C.PROVENANCE_PARTICIPANT, "author", "Author")),
                "who": {
                    "type": "Practitioner",
                    "identifier": {"system": C.SID_USER, "value": str(ex.generated_by.uuid)},
                    "display": ex.generated_by.get_full_name() or ex.generated_by.username,
                },
            }
        )
    return {
        "resourceType": "Provenance",
        "id": str(uuid.uuid4()),
        "target": [ex.ref_to(r) for r in targets],
        "recorded": fhir_time(ex.now),
        "activity": {"text": "Export of the KratomWatch record as FHIR R4"},
        "agent": agents,
    }


# --------------------------------------------------------------------------- assembly


def patient_resources(
    ex: Exporter, patient: PatientProfile
) -> tuple[list[Resource], list[Resource]]:
    """A patient's resources (without Provenance) and the Questionnaires their answers use.

    Every resource returned has been validated against its R4B model.
    """
    out: list[Resource] = [patient_resource(ex, patient)]
    out += [condition_resource(ex, patient, c) for c in patient.conditions.order_by("code")]
    out += [medication_resource(ex, patient, m) for m in patient.medications.all()]
    doses: dict[int, list[DoseEntry]] = defaultdict(list)
    for dose in patient.doses.order_by("taken_at", "pk"):
        doses[dose.product_id].append(dose)
    out += [
        product_resource(ex, patient, p, doses.get(p.pk, []))
        for p in patient.products.order_by("name", "pk")
    ]
    out += [
        lot_resource(lot)
        for lot in ProductLot.objects.filter(product__patient=patient)
        .select_related("product")
        .order_by("created", "pk")
    ]
    questionnaires: dict[str, Resource] = {}
    observations = []
    for row in patient.responses.select_related("completed_by").order_by("taken_at", "pk"):
        instrument = _instrument(row.instrument_id, row.instrument_version)
        if instrument is not None:
            qid = questionnaire_id(instrument.id, instrument.version)
            if qid not in questionnaires:
                questionnaires[qid] = questionnaire_resource(instrument)
        out.append(response_resource(ex, patient, row, instrument))
        observation = observation_resource(ex, patient, row, instrument)
        if observation is not None:
            observations.append(observation)
    out += observations
    out += [
        result_observation(ex.ref, fhir_time, _meta, patient, r)
        for r in patient.results.order_by("taken_at", "pk")
    ]
    out += [
        detected_issue_resource(ex, patient, f)
        for f in patient.findings.select_related("acknowledged_by", "resolved_by").order_by(
            "first_seen", "pk"
        )
    ]
    previous = None
    for plan in patient.plans.select_related("author").order_by("version"):
        out.append(care_plan_resource(ex, patient, plan, previous))
        previous = plan
    return [validated(r) for r in out], [validated(q) for q in questionnaires.values()]


def patient_bundle(
    patient: PatientProfile, *, generated_by: User | None = None, now: datetime | None = None
) -> Resource:
    """A ``collection`` Bundle of the patient's record, with a Provenance of the export.

    Writes an audit event ``fhir.export`` for the patient.
    """
    ex = Exporter("urn", now or timezone.now(), generated_by)
    resources, questionnaires = patient_resources(ex, patient)
    everything = questionnaires + resources
    everything.append(validated(provenance_resource(ex, everything)))
    bundle: Resource = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": fhir_time(ex.now),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in everything],
    }
    audit_chain.append(
        generated_by,
        "fhir.export",
        patient=patient,
        object_type="patient",
        object_uuid=patient.uuid,
    )
    return bundle


def write_patient_bundle(
    patient: PatientProfile, path: Path | IO[str], *, generated_by: User | None = None
) -> int:
    """Write the patient's Bundle as JSON; returns the number of entries."""
    bundle = patient_bundle(patient, generated_by=generated_by)
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    else:
        path.write(text)
    return len(bundle["entry"])


def clinic_patients(clinic: Clinic) -> list[PatientProfile]:
    return list(
        PatientProfile.objects.filter(clinic=clinic)
        .select_related("user", "clinic")
        .order_by("display_name", "pk")
    )


def export_clinic_ndjson(
    clinic: Clinic,
    out_dir: Path,
    *,
    generated_by: User | None = None,
    now: datetime | None = None,
    on_patient: Callable[[PatientProfile], None] | None = None,
) -> dict[str, int]:
    """Write ``<Type>.ndjson`` per resource type and a ``manifest.json`` into ``out_dir``.

    Each patient has one Provenance targeting their resources and the Questionnaires their
    answers use; each Questionnaire is written once. Returns the count per resource type.
    Writes an audit event ``fhir.export`` per patient.
    """
    ex = Exporter("relative", now or timezone.now(), generated_by)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out_dir}: {exc.strerror}") from exc
    counts: Counter[str] = Counter()
    seen_questionnaires: set[str] = set()
    files: dict[str, IO[str]] = {}
    try:
        for name in NDJSON_TYPES:
            files[name] = (out_dir / f"{name}.ndjson").open("w", encoding="utf-8")

        def write(resource: Resource) -> None:
            kind = resource["resourceType"]
            files[kind].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
            files[kind].write("\n")
            counts[kind] += 1

        for patient in clinic_patients(clinic):
            resources, questionnaires = patient_resources(ex, patient)
            for questionnaire in questionnaires:
                if questionnaire["id"] not in seen_questionnaires:
                    seen_questionnaires.add(questionnaire["id"])
                    write(questionnaire)
            for resource in resources:
                write(resource)
            write(validated(provenance_resource(ex, questionnaires + resources)))
            audit_chain.append(
                generated_by,
                "fhir.export",
                patient=patient,
                object_type="patient",
                object_uuid=patient.uuid,
            )
            if on_patient is not None:
                on_patient(patient)
    except OSError as exc:
        raise ExportError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    finally:
        for handle in files.values():
            handle.close()
    manifest = {
        "transactionTime": fhir_time(ex.now),
        "request": f"kratomwatch export-fhir --clinic {clinic.slug}",
        "requiresAccessToken": False,
        "output": [
            {"type": name, "url": f"{name}.ndjson", "count": counts[name]} for name in NDJSON_TYPES
        ],
        "error": [],
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return {name: counts[name] for name in NDJSON_TYPES}
