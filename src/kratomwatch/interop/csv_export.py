"""CSV export of a patient's or a clinic's records.

Export writes one file per kind (``EXPORT_COLUMNS``): times are ISO 8601 with their UTC
offset, every amount has its unit in a column of its own or in the column's name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    Finding,
    PatientProfile,
    ProductLot,
    QuestionnaireResponse,
    Severity,
    User,
)
from kratomwatch.domain.products import format_decimal
from kratomwatch.domain.questionnaires import (
    Instrument,
    InstrumentError,
    get_instrument,
    validate_answers,
)
from kratomwatch.interop.csv_results import RESULT_COLUMNS, result_rows
from kratomwatch.interop.csv_write import CsvWriter

#: Files written by an export and their columns, with what each column holds.
EXPORT_COLUMNS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "patients": (
        ("patient_id", "patient's public id (UUID)"),
        ("display_name", "name shown in KratomWatch"),
        ("year_of_birth", "year of birth (no full date is stored)"),
        ("sex", "female, male, intersex or unknown"),
        ("clinic", "clinic slug"),
        ("username", "patient's user name"),
        ("first_name", "first name of the patient's account"),
        ("last_name", "last name of the patient's account"),
        ("sud_treatment", "current substance-use-disorder treatment, as entered"),
    ),
    "doses": (
        ("patient_id", "patient's public id"),
        ("dose_id", "dose entry's public id"),
        ("taken_at", "when the dose was taken (ISO 8601 with UTC offset)"),
        ("product_id", "product's public id"),
        ("product_name", "product name as the patient entered it"),
        ("product_form", "product form code, e.g. leaf_powder"),
        ("amount", "amount as entered"),
        ("unit", "unit of amount: g, mg, capsule, tablet or ml"),
        ("leaf_equivalent_g", "leaf-equivalent in grams (empty when unknown)"),
        ("mitragynine_mg", "mitragynine in mg (empty when unknown)"),
        ("hydroxymitragynine_mg", "7-hydroxymitragynine in mg (empty when unknown)"),
        ("preparation", "how it was prepared, as entered"),
        ("route", "route, e.g. oral"),
        ("source", "web, api, import or seed"),
        ("confirmed_warnings", "codes of unusual-value warnings the person confirmed (;)"),
        ("recorded_at", "when the entry was stored (ISO 8601 with UTC offset)"),
        ("lot_id", "public id of the product lot the dose names (empty when none)"),
    ),
    "daily_ratings": (
        ("patient_id", "patient's public id"),
        ("response_id", "check-in's public id"),
        ("taken_at", "when the check-in was answered (ISO 8601 with UTC offset)"),
        ("pain_now", "pain right now"),
        ("pain_average", "average pain over the last 24 hours"),
        ("interference_activity", "interference with everyday activities"),
        ("interference_enjoyment", "interference with enjoying life"),
        ("sleep_quality", "sleep quality (higher is better)"),
        ("pain_score", "mean of pain_now and pain_average"),
        ("interference_score", "mean of the two interference items"),
        ("scale", "scale of every rating and score in the row: 0-10"),
        ("source", "web, api, import or seed"),
    ),
    "questionnaire_scores": (
        ("patient_id", "patient's public id"),
        ("response_id", "response's public id"),
        ("taken_at", "when it was answered (ISO 8601 with UTC offset)"),
        ("instrument_id", "instrument id, e.g. phq9"),
        ("instrument_version", "instrument version"),
        ("total", "total score (empty if none)"),
        ("total_unit", "unit of total: score points"),
        ("total_min", "lowest possible total"),
        ("total_max", "highest possible total"),
        ("band", "severity band of the total, if the instrument has bands"),
        ("flags", "safety flags raised (;)"),
        ("subscales", "subscale scores as id=value (;)"),
        ("source", "web, api, import or seed"),
        ("answers", "the answers as stored, in JSON"),
    ),
    "symptoms": (
        ("patient_id", "patient's public id"),
        ("symptom_id", "report's public id"),
        ("reported_at", "when it was reported (ISO 8601 with UTC offset)"),
        ("onset", "when it started, if given (ISO 8601 with UTC offset)"),
        ("term", "symptom as reported"),
        ("severity", "1 mild, 2 moderate, 3 severe"),
        ("severity_label", "mild, moderate or severe"),
        ("source", "web, api, import or seed"),
    ),
    "findings": (
        ("patient_id", "patient's public id"),
        ("finding_id", "finding's public id"),
        ("code", "rule code, e.g. interaction.benzodiazepine"),
        ("severity", "high, moderate or low"),
        ("category", "rule category"),
        ("title", "short title"),
        ("status", "open, acknowledged or resolved"),
        ("active", "true while its cause is present"),
        ("first_seen", "first found (ISO 8601 with UTC offset)"),
        ("last_seen", "last found (ISO 8601 with UTC offset)"),
        ("acknowledged_at", "when acknowledged (ISO 8601 with UTC offset)"),
        ("acknowledged_reason", "reason given when acknowledged"),
        ("resolved_at", "when resolved (ISO 8601 with UTC offset)"),
        ("resolved_reason", "reason given when resolved"),
        ("rationale", "why it was raised"),
        ("references", "evidence links, separated by spaces"),
    ),
    "products": (
        ("patient_id", "patient's public id"),
        ("product_id", "product's public id"),
        ("name", "product name as the patient entered it"),
        ("vendor", "vendor, as entered"),
        ("strain_label", "strain on the label, as entered"),
        ("form", "product form code, e.g. leaf_powder"),
        ("batch", "batch, as entered"),
        ("potency_source", "unknown, label or lab"),
        ("mitragynine_mg_per_g", "mitragynine in mg per g (empty when unknown)"),
        ("hydroxymitragynine_mg_per_g", "7-hydroxymitragynine in mg per g"),
        ("unit_material_mg", "material per capsule or tablet in mg"),
        ("mitragynine_mg_per_unit", "mitragynine in mg per capsule or tablet"),
        ("hydroxymitragynine_mg_per_unit", "7-hydroxymitragynine in mg per capsule or tablet"),
        ("leaf_g_per_ml", "leaf-equivalent in g per ml"),
        ("mitragynine_mg_per_ml", "mitragynine in mg per ml"),
        ("hydroxymitragynine_mg_per_ml", "7-hydroxymitragynine in mg per ml"),
        ("extract_ratio", "extract ratio, e.g. 10 for 10:1"),
        ("archived", "true once archived"),
    ),
    "product_lots": (
        ("patient_id", "patient's public id"),
        ("product_id", "product's public id"),
        ("lot_id", "lot's public id"),
        ("lot_number", "lot or batch number, as entered"),
        ("purchased_on", "date bought (ISO 8601)"),
        ("lab_name", "laboratory named on the certificate"),
        ("tested_on", "date of the lab test (ISO 8601)"),
        ("entered_unit", "unit the figures were entered in: mg/g or % (w/w)"),
        ("mitragynine_mg_per_g", "mitragynine in mg per g (empty when unknown)"),
        ("hydroxymitragynine_mg_per_g", "7-hydroxymitragynine in mg per g"),
        ("total_alkaloids_mg_per_g", "total alkaloids in mg per g"),
        ("has_certificate", "true when a certificate file is stored (the file is not exported)"),
    ),
    "conditions": (
        ("patient_id", "patient's public id"),
        ("condition_id", "condition's public id"),
        ("code", "KratomWatch condition code, e.g. low_back_pain"),
        ("note", "the clinician's note"),
        ("active", "true while the condition is current"),
    ),
    "medications": (
        ("patient_id", "patient's public id"),
        ("medication_id", "medication's public id"),
        ("name_entered", "medication name as entered"),
        ("ingredient", "recognised ingredient ids (,)"),
        ("dose_text", "dose as entered"),
        ("started_on", "date started (ISO 8601)"),
        ("stopped_on", "date stopped (ISO 8601)"),
    ),
    "care_team": (
        ("patient_id", "patient's public id"),
        ("clinician", "user name of a clinician on the patient's care team"),
    ),
    "results": RESULT_COLUMNS,
}


# --------------------------------------------------------------------------- export


DAILY = "kw-daily-pain"

DAILY_ITEMS: tuple[str, ...] = (
    "pain_now",
    "pain_average",
    "interference_activity",
    "interference_enjoyment",
    "sleep_quality",
)


def instrument_or_none(instrument_id: str) -> Instrument | None:
    try:
        return get_instrument(instrument_id)
    except InstrumentError:
        return None


def _time(value: datetime | None) -> str:
    return "" if value is None else timezone.localtime(value).isoformat(timespec="seconds")


def _num(value: Decimal | int | float | None) -> str:
    if value is None:
        return ""
    return format_decimal(Decimal(str(value)))


def _text(value: object) -> str:
    """Free text as a cell (made inert for spreadsheets by :class:`.csv_write.CsvWriter`)."""
    return "" if value is None else str(value)


def _patient_rows(patient: PatientProfile) -> dict[str, list[list[str]]]:
    pid = str(patient.uuid)
    rows: dict[str, list[list[str]]] = {kind: [] for kind in EXPORT_COLUMNS}
    rows["patients"].append(
        [
            pid,
            _text(patient.display_name),
            str(patient.year_of_birth or ""),
            patient.sex,
            patient.clinic.slug,
            patient.user.username,
            _text(patient.user.first_name),
            _text(patient.user.last_name),
            _text(patient.sud_treatment),
        ]
    )
    for dose in patient.doses.select_related("product", "lot").order_by("taken_at", "pk"):
        rows["doses"].append(
            [
                pid,
                str(dose.uuid),
                _time(dose.taken_at),
                str(dose.product.uuid),
                _text(dose.product.name),
                dose.product.form,
                _num(dose.amount),
                dose.unit,
                _num(dose.leaf_equivalent_g),
                _num(dose.mitragynine_mg),
                _num(dose.hydroxymitragynine_mg),
                _text(dose.preparation),
                _text(dose.route),
                dose.source,
                ";".join(str(c) for c in dose.confirmed_warnings or []),
                _time(dose.created),
                str(dose.lot.uuid) if dose.lot else "",
            ]
        )
    for response in patient.responses.order_by("taken_at", "pk"):
        scores = response.scores if isinstance(response.scores, dict) else {}
        if response.instrument_id == DAILY:
            rows["daily_ratings"].append(_daily_row(pid, response, scores))
        instrument = instrument_or_none(response.instrument_id)
        low, high = instrument.total_range if instrument is not None else (None, None)
        subscales = scores.get("subscales") or {}
        rows["questionnaire_scores"].append(
            [
                pid,
                str(response.uuid),
                _time(response.taken_at),
                response.instrument_id,
                response.instrument_version,
                _num(response.total),
                "score",
                _num(low),
                _num(high),
                _text(scores.get("band") or ""),
                ";".join(str(f) for f in scores.get("flags") or []),
                ";".join(f"{k}={_num(v)}" for k, v in subscales.items() if v is not None),
                response.source,
                json.dumps(response.answers, separators=(",", ":"), sort_keys=True),
            ]
        )
    for symptom in patient.symptoms.order_by("reported_at", "pk"):
        rows["symptoms"].append(
            [
                pid,
                str(symptom.uuid),
                _time(symptom.reported_at),
                _time(symptom.onset),
                _text(symptom.term),
                str(symptom.severity),
                Severity(symptom.severity).label.lower(),
                symptom.source,
            ]
        )
    for finding in patient.findings.order_by("first_seen", "pk"):
        rows["findings"].append(_finding_row(pid, finding))
    for product in patient.products.order_by("pk"):
        rows["products"].append(
            [
                pid,
                str(product.uuid),
                _text(product.name),
                _text(product.vendor),
                _text(product.strain_label),
                product.form,
                _text(product.batch),
                product.potency_source,
                *(_num(getattr(product, name)) for name in PRODUCT_POTENCY),
                "true" if product.archived else "false",
            ]
        )
    lots = ProductLot.objects.filter(product__patient=patient).select_related("product")
    for lot in lots.order_by("created", "pk"):
        rows["product_lots"].append(
            [
                pid,
                str(lot.product.uuid),
                str(lot.uuid),
                _text(lot.lot_number),
                _date(lot.purchased_on),
                _text(lot.lab_name),
                _date(lot.tested_on),
                lot.entered_unit,
                _num(lot.mitragynine_mg_per_g),
                _num(lot.hydroxymitragynine_mg_per_g),
                _num(lot.total_alkaloids_mg_per_g),
                "true" if lot.certificate_id else "false",
            ]
        )
    for condition in patient.conditions.order_by("code", "pk"):
        rows["conditions"].append(
            [
                pid,
                str(condition.uuid),
                condition.code,
                _text(condition.note),
                "true" if condition.active else "false",
            ]
        )
    for medication in patient.medications.order_by("name_entered", "pk"):
        rows["medications"].append(
            [
                pid,
                str(medication.uuid),
                _text(medication.name_entered),
                medication.ingredient,
                _text(medication.dose_text),
                _date(medication.started_on),
                _date(medication.stopped_on),
            ]
        )
    for username in sorted(patient.care_team.values_list("username", flat=True)):
        rows["care_team"].append([pid, username])
    rows["results"] = result_rows(patient, _time, _text)
    return rows


#: Potency fields of a product, in the order of their columns in ``products.csv``.
PRODUCT_POTENCY: tuple[str, ...] = (
    "mitragynine_mg_per_g",
    "hydroxymitragynine_mg_per_g",
    "unit_material_mg",
    "mitragynine_mg_per_unit",
    "hydroxymitragynine_mg_per_unit",
    "leaf_g_per_ml",
    "mitragynine_mg_per_ml",
    "hydroxymitragynine_mg_per_ml",
    "extract_ratio",
)


def _date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _daily_row(pid: str, response: QuestionnaireResponse, scores: dict[str, Any]) -> list[str]:
    instrument = instrument_or_none(DAILY)
    answers: dict[str, int | None] = {}
    if instrument is not None:
        try:
            answers = dict(validate_answers(instrument, response.answers))
        except InstrumentError:
            answers = {}
    subscales = scores.get("subscales") or {}
    return [
        pid,
        str(response.uuid),
        _time(response.taken_at),
        *(_num(answers.get(item)) for item in DAILY_ITEMS),
        _num(subscales.get("pain", response.total)),
        _num(subscales.get("interference")),
        "0-10",
        response.source,
    ]


def _finding_row(pid: str, finding: Finding) -> list[str]:
    links = [
        str(r["url"]) for r in finding.references or [] if isinstance(r, dict) and r.get("url")
    ]
    return [
        pid,
        str(finding.uuid),
        finding.code,
        finding.severity,
        finding.category,
        _text(finding.title),
        finding.status,
        "true" if finding.active else "false",
        _time(finding.first_seen),
        _time(finding.last_seen),
        _time(finding.acknowledged_at),
        _text(finding.acknowledged_reason),
        _time(finding.resolved_at),
        _text(finding.resolved_reason),
        _text(finding.rationale),
        " ".join(links),
    ]


def export_csv(
    patients: Iterable[PatientProfile],
    out_dir: Path,
    *,
    actor: User | None = None,
    on_patient: Callable[[PatientProfile], None] | None = None,
) -> dict[str, int]:
    """Write ``<kind>.csv`` for every kind in :data:`EXPORT_COLUMNS` into ``out_dir``.

    Returns the number of data rows per file. Writes an audit event ``csv.export`` per
    patient.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(EXPORT_COLUMNS, 0)
    handles: dict[str, IO[str]] = {}
    try:
        writers: dict[str, CsvWriter] = {}
        for kind, columns in EXPORT_COLUMNS.items():
            handles[kind] = (out_dir / f"{kind}.csv").open("w", encoding="utf-8", newline="")
            writers[kind] = CsvWriter(handles[kind])
            writers[kind].writerow([name for name, _ in columns])
        for patient in patients:
            for kind, rows in _patient_rows(patient).items():
                writers[kind].writerows(rows)
                counts[kind] += len(rows)
            audit_chain.append(
                actor,
                "csv.export",
                patient=patient,
                object_type="patient",
                object_uuid=patient.uuid,
            )
            if on_patient is not None:
                on_patient(patient)
    finally:
        for handle in handles.values():
            handle.close()
    return counts
