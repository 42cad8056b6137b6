"""Import a clinic's CSV export (``csv_export.export_csv``) into an empty clinic.

Reads ``patients.csv``, ``products.csv``, ``product_lots.csv`` (optional: older exports
have none), ``doses.csv``, ``questionnaire_scores.csv``,
``symptoms.csv``, ``conditions.csv``, ``medications.csv`` and ``care_team.csv``. Every row
of every file is checked first; any problem ("doses.csv row 7, column amount: ...") refuses
the whole import. Then everything is written in one transaction.

The records get new public ids; references between the files (a dose's ``product_id``,
every ``patient_id``) are followed through the ids in the files. Patients get new user
accounts with the exported user names and no usable password. A care-team member is added
only when the target clinic has a clinician with that user name; otherwise the membership
is reported and left out. ``daily_ratings.csv`` repeats what ``questionnaire_scores.csv``
holds and ``findings.csv`` is the safety engine's output, so neither is read.

About 570 lines: one check function per exported file, then one writer; each check is
short and reads best beside the others and the writer that relies on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import (
    CareTeamMembership,
    Clinic,
    DoseEntry,
    EntrySource,
    MedicationStatement,
    PatientCondition,
    PatientProfile,
    PotencySource,
    Product,
    ProductLot,
    QuestionnaireResponse,
    Role,
    Severity,
    Sex,
    SymptomReport,
    User,
)
from kratomwatch.domain.conditions import ConditionCode
from kratomwatch.domain.doses import Unit
from kratomwatch.domain.lots import LotFigures
from kratomwatch.domain.products import ProductForm

from .csv_export import EXPORT_COLUMNS, PRODUCT_POTENCY
from .csv_import import CsvImportError, read_rows
from .csv_results import check_results, write_results
from .csv_write import restore

#: The files read, in the order they are checked.
IMPORTED_FILES: tuple[str, ...] = (
    "patients",
    "products",
    "product_lots",
    "doses",
    "questionnaire_scores",
    "symptoms",
    "conditions",
    "medications",
    "care_team",
)
#: Read when present (exports made before results were recorded have none).
OPTIONAL_FILES: tuple[str, ...] = ("results",)


def _digits(model: Any, name: str) -> tuple[int, int]:
    f = model._meta.get_field(name)
    return int(f.max_digits), int(f.decimal_places)


#: (max_digits, decimal_places) of the stored decimal fields.
_POTENCY_DIGITS: dict[str, tuple[int, int]] = {
    name: _digits(Product, name) for name in PRODUCT_POTENCY
}
_SOURCES = {s.value for s in EntrySource}
#: Added after the first exports: an export without them is still read (no lots).
_OPTIONAL_FILES = {"product_lots"}
_OPTIONAL_COLUMNS = {("doses", "lot_id")}
_LOT_DIGITS = _digits(ProductLot, "mitragynine_mg_per_g")


class ClinicNotEmptyError(CsvImportError):
    """The target clinic already has patients."""


@dataclass
class ClinicImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    #: Care-team memberships left out, one line each (no such clinician in the clinic).
    skipped: list[str] = field(default_factory=list)


class _Table:
    """One file's rows with its header, and the checks that note problems with file, row, column."""

    def __init__(self, directory: Path, kind: str, problems: list[str]) -> None:
        self.name = f"{kind}.csv"
        self.problems = problems
        self.rows: list[tuple[int, list[str]]] = []
        self.index: dict[str, int] = {}
        path = directory / self.name
        if not path.exists():
            if kind not in _OPTIONAL_FILES:
                problems.append(f"{self.name}: the file is missing")
            return
        try:
            rows = read_rows(path)
        except CsvImportError as exc:
            problems.extend(f"{self.name}: {p}" for p in exc.problems)
            return
        header = [h.strip() for h in rows[0]]
        wanted = [name for name, _ in EXPORT_COLUMNS[kind]]
        missing = [
            name for name in wanted if name not in header and (kind, name) not in _OPTIONAL_COLUMNS
        ]
        if missing:
            problems.append(f"{self.name}: missing column(s) {', '.join(missing)}")
            return
        self.index = {name: header.index(name) for name in wanted if name in header}
        self.rows = [
            (number, raw)
            for number, raw in enumerate(rows[1:], start=2)
            if any(cell.strip() for cell in raw)
        ]

    def where(self, number: int, column: str) -> str:
        return f"{self.name} row {number}, column {column}"

    def raw(self, row: list[str], column: str) -> str:
        """The cell as stored, without the export's guard against spreadsheet formulas."""
        i = self.index.get(column)
        return restore(row[i]) if i is not None and i < len(row) else ""

    def problem(self, number: int, column: str, message: str) -> None:
        self.problems.append(f"{self.where(number, column)}: {message}")

    def text(self, number: int, row: list[str], column: str, max_length: int) -> str:
        value = self.raw(row, column)
        if len(value) > max_length:
            self.problem(number, column, f"longer than {max_length} characters")
        return value

    def required(self, number: int, row: list[str], column: str, max_length: int) -> str:
        value = self.text(number, row, column, max_length)
        if not value.strip():
            self.problem(number, column, "missing")
        return value

    def choice(self, number: int, row: list[str], column: str, allowed: set[str]) -> str:
        value = self.raw(row, column).strip()
        if value not in allowed:
            self.problem(number, column, f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return value

    def decimal(
        self,
        number: int,
        row: list[str],
        column: str,
        digits: tuple[int, int],
        *,
        required: bool = False,
    ) -> Decimal | None:
        value = self.raw(row, column).strip()
        if not value:
            if required:
                self.problem(number, column, "missing")
            return None
        try:
            result = Decimal(value)
        except InvalidOperation:
            self.problem(number, column, f"{value!r} is not a number")
            return None
        max_digits, places = digits
        exponent = result.as_tuple().exponent
        if not result.is_finite() or not isinstance(exponent, int):
            self.problem(number, column, f"{value!r} is not a number")
            return None
        if -exponent > places:
            self.problem(number, column, f"{value!r} has more than {places} decimal places")
            return None
        if abs(result) >= Decimal(10) ** (max_digits - places):
            self.problem(number, column, f"{value!r} is too large")
            return None
        return result

    def time(
        self, number: int, row: list[str], column: str, *, required: bool = True
    ) -> datetime | None:
        value = self.raw(row, column).strip()
        if not value:
            if required:
                self.problem(number, column, "missing")
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            when = None
        if when is None or when.utcoffset() is None:
            self.problem(number, column, f"{value!r} is not an ISO 8601 time with UTC offset")
            return None
        return when

    def day(self, number: int, row: list[str], column: str) -> date | None:
        value = self.raw(row, column).strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(number, column, f"{value!r} is not an ISO 8601 date")
            return None

    def boolean(self, number: int, row: list[str], column: str) -> bool:
        value = self.raw(row, column).strip()
        if value not in ("true", "false"):
            self.problem(number, column, f"{value!r} is not true or false")
        return value == "true"

    def ref(self, number: int, row: list[str], column: str, known: dict[str, Any]) -> Any:
        value = self.raw(row, column).strip()
        if value not in known:
            self.problem(number, column, f"{value!r} is not an id listed in the export")
            return None
        return known[value]

    def new_id(self, number: int, row: list[str], column: str, seen: set[str]) -> str:
        value = self.raw(row, column).strip()
        if not value:
            self.problem(number, column, "missing")
        elif value in seen:
            self.problem(number, column, f"{value!r} appears twice")
        seen.add(value)
        return value


def import_clinic_csv(
    directory: Path,
    clinic: Clinic,
    *,
    actor: User | None = None,
    on_patient: Callable[[PatientProfile], None] | None = None,
) -> ClinicImportReport:
    """Recreate the patients of a clinic CSV export in ``clinic``, which must have none.

    Raises :class:`ClinicNotEmptyError` for a clinic with patients, and
    :class:`CsvImportError` listing every problem found in the files; in both cases nothing
    is written. Writes an audit event ``csv.import`` per patient.
    """
    count = PatientProfile.objects.filter(clinic=clinic).count()
    if count:
        raise ClinicNotEmptyError(
            [f"clinic {clinic.slug!r} has {count} patient(s): import only into an empty clinic"]
        )
    problems: list[str] = []
    tables = {kind: _Table(directory, kind, problems) for kind in IMPORTED_FILES}
    tables |= {
        kind: _Table(directory, kind, problems)
        for kind in OPTIONAL_FILES
        if (directory / f"{kind}.csv").exists()
    }
    if problems:
        raise CsvImportError(problems)
    plan = _Plan()
    _check_patients(tables["patients"], plan)
    _check_products(tables["products"], plan)
    _check_lots(tables["product_lots"], plan)
    _check_doses(tables["doses"], plan)
    _check_responses(tables["questionnaire_scores"], plan)
    _check_symptoms(tables["symptoms"], plan)
    _check_conditions(tables["conditions"], plan)
    _check_medications(tables["medications"], plan)
    if "results" in tables:
        plan.results = check_results(tables["results"], plan.patients)
    report = ClinicImportReport()
    _check_care_team(tables["care_team"], plan, clinic, report)
    if problems:
        raise CsvImportError(problems)
    with transaction.atomic():
        report.counts = _write(plan, clinic, actor, on_patient)
    return report


@dataclass
class _Plan:
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    lots: dict[str, dict[str, Any]] = field(default_factory=dict)
    doses: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    symptoms: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    medications: list[dict[str, Any]] = field(default_factory=list)
    care_team: list[tuple[str, User]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


def _check_patients(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    usernames: dict[str, int] = {}
    sexes = {s.value for s in Sex}
    for n, row in t.rows:
        pid = t.new_id(n, row, "patient_id", seen)
        username = t.required(n, row, "username", 150).strip()
        if username in usernames:
            t.problem(n, "username", f"{username!r} is also on row {usernames[username]}")
        elif username and User.objects.filter(username=username).exists():
            t.problem(n, "username", f"a user named {username!r} exists already")
        usernames.setdefault(username, n)
        year_text = t.raw(row, "year_of_birth").strip()
        year = None
        if year_text:
            if year_text.isdigit() and 1900 <= int(year_text) <= 2100:
                year = int(year_text)
            else:
                t.problem(n, "year_of_birth", f"{year_text!r} is not a year")
        plan.patients[pid] = {
            "username": username,
            "first_name": t.text(n, row, "first_name", 150),
            "last_name": t.text(n, row, "last_name", 150),
            "display_name": t.required(n, row, "display_name", 120),
            "year_of_birth": year,
            "sex": t.choice(n, row, "sex", sexes),
            "sud_treatment": t.text(n, row, "sud_treatment", 200),
        }


def _check_products(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    forms = {f.value for f in ProductForm}
    potency_sources = {s.value for s in PotencySource}
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        product_id = t.new_id(n, row, "product_id", seen)
        fields: dict[str, Any] = {
            "name": t.required(n, row, "name", 200),
            "vendor": t.text(n, row, "vendor", 200),
            "strain_label": t.text(n, row, "strain_label", 100),
            "form": t.choice(n, row, "form", forms),
            "batch": t.text(n, row, "batch", 100),
            "potency_source": t.choice(n, row, "potency_source", potency_sources),
            "archived": t.boolean(n, row, "archived"),
        }
        for name in PRODUCT_POTENCY:
            fields[name] = t.decimal(n, row, name, _POTENCY_DIGITS[name])
        plan.products[product_id] = {"patient": patient, "fields": fields}


def _check_lots(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        product = t.ref(n, row, "product_id", {k: k for k in plan.products})
        lot_id = t.new_id(n, row, "lot_id", seen)
        if product is not None and patient is not None:
            if plan.products[product]["patient"] != patient:
                t.problem(n, "product_id", "the product belongs to another patient")
        fields: dict[str, Any] = {
            "lot_number": t.required(n, row, "lot_number", 100),
            "purchased_on": t.day(n, row, "purchased_on"),
            "lab_name": t.text(n, row, "lab_name", 200),
            "tested_on": t.day(n, row, "tested_on"),
            "entered_unit": t.choice(n, row, "entered_unit", {"mg/g", "%"}),
        }
        for name in ("mitragynine", "hydroxymitragynine", "total_alkaloids"):
            fields[f"{name}_mg_per_g"] = t.decimal(n, row, f"{name}_mg_per_g", _LOT_DIGITS)
        try:
            LotFigures(
                fields["mitragynine_mg_per_g"],
                fields["hydroxymitragynine_mg_per_g"],
                fields["total_alkaloids_mg_per_g"],
            )
        except (ValueError, TypeError) as exc:
            t.problem(n, "total_alkaloids_mg_per_g", str(exc))
        plan.lots[lot_id] = {"product": product, "fields": fields}


def _check_doses(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    units = {u.value for u in Unit}
    exposure = _digits(DoseEntry, "leaf_equivalent_g")
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        dose_id = t.new_id(n, row, "dose_id", seen)
        product = t.ref(n, row, "product_id", {k: k for k in plan.products})
        if product is not None and patient is not None:
            if plan.products[product]["patient"] != patient:
                t.problem(n, "product_id", "the product belongs to another patient")
        lot = None
        if t.raw(row, "lot_id").strip():
            lot = t.ref(n, row, "lot_id", {k: k for k in plan.lots})
            if lot is not None and plan.lots[lot]["product"] != product:
                t.problem(n, "lot_id", "the lot is of another product")
        warnings = [w for w in t.raw(row, "confirmed_warnings").split(";") if w]
        plan.doses.append(
            {
                "patient": patient,
                "product": product,
                "lot": lot,
                "key": f"csv-clinic-{dose_id}",
                "taken_at": t.time(n, row, "taken_at"),
                "amount": t.decimal(n, row, "amount", _digits(DoseEntry, "amount"), required=True),
                "unit": t.choice(n, row, "unit", units),
                "leaf_equivalent_g": t.decimal(n, row, "leaf_equivalent_g", exposure),
                "mitragynine_mg": t.decimal(n, row, "mitragynine_mg", exposure),
                "hydroxymitragynine_mg": t.decimal(n, row, "hydroxymitragynine_mg", exposure),
                "preparation": t.text(n, row, "preparation", 100),
                "route": t.required(n, row, "route", 20),
                "source": t.choice(n, row, "source", _SOURCES),
                "confirmed_warnings": warnings,
            }
        )


def _check_responses(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        response_id = t.new_id(n, row, "response_id", seen)
        answers_text = t.raw(row, "answers")
        answers: Any = None
        try:
            answers = json.loads(answers_text)
        except ValueError:
            t.problem(n, "answers", "not JSON")
        else:
            if not isinstance(answers, list | dict):
                t.problem(n, "answers", "not a JSON list or object")
        subscales: dict[str, float] = {}
        for part in t.raw(row, "subscales").split(";"):
            if not part:
                continue
            key, sep, value = part.partition("=")
            try:
                subscales[key] = float(Decimal(value)) if sep else float("nan")
            except InvalidOperation:
                sep = ""
            if not sep or not key:
                t.problem(n, "subscales", f"{part!r} is not id=number")
        plan.responses.append(
            {
                "patient": patient,
                "key": f"csv-clinic-{response_id}",
                "instrument_id": t.required(n, row, "instrument_id", 60),
                "instrument_version": t.required(n, row, "instrument_version", 20),
                "answers": answers,
                "total": t.decimal(n, row, "total", _digits(QuestionnaireResponse, "total")),
                "scores": {
                    "subscales": subscales,
                    "band": t.text(n, row, "band", 200) or None,
                    "flags": [f for f in t.raw(row, "flags").split(";") if f],
                },
                "taken_at": t.time(n, row, "taken_at"),
                "source": t.choice(n, row, "source", _SOURCES),
            }
        )


def _check_symptoms(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    severities = {str(s.value) for s in Severity}
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        t.new_id(n, row, "symptom_id", seen)
        severity = t.choice(n, row, "severity", severities)
        plan.symptoms.append(
            {
                "patient": patient,
                "term": t.required(n, row, "term", 100),
                "severity": int(severity) if severity in severities else None,
                "onset": t.time(n, row, "onset", required=False),
                "reported_at": t.time(n, row, "reported_at"),
                "source": t.choice(n, row, "source", _SOURCES),
            }
        )


def _check_conditions(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    codes = {c.value for c in ConditionCode}
    pairs: set[tuple[str, str]] = set()
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        t.new_id(n, row, "condition_id", seen)
        code = t.choice(n, row, "code", codes)
        if (patient, code) in pairs:
            t.problem(n, "code", f"{code!r} is listed twice for this patient")
        pairs.add((patient, code))
        plan.conditions.append(
            {
                "patient": patient,
                "code": code,
                "note": t.text(n, row, "note", 300),
                "active": t.boolean(n, row, "active"),
            }
        )


def _check_medications(t: _Table, plan: _Plan) -> None:
    seen: set[str] = set()
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        t.new_id(n, row, "medication_id", seen)
        plan.medications.append(
            {
                "patient": patient,
                "name_entered": t.required(n, row, "name_entered", 200),
                "ingredient": t.text(n, row, "ingredient", 100),
                "dose_text": t.text(n, row, "dose_text", 200),
                "started_on": t.day(n, row, "started_on"),
                "stopped_on": t.day(n, row, "stopped_on"),
            }
        )


def _check_care_team(t: _Table, plan: _Plan, clinic: Clinic, report: ClinicImportReport) -> None:
    clinicians = {u.username: u for u in User.objects.filter(clinic=clinic, role=Role.CLINICIAN)}
    for n, row in t.rows:
        patient = t.ref(n, row, "patient_id", {k: k for k in plan.patients})
        username = t.raw(row, "clinician").strip()
        if not username:
            t.problem(n, "clinician", "missing")
        elif username not in clinicians:
            report.skipped.append(
                f"{t.name} row {n}: no clinician {username!r} in clinic {clinic.slug!r}; "
                "care-team membership left out"
            )
        elif patient is not None:
            plan.care_team.append((patient, clinicians[username]))


def _write(
    plan: _Plan,
    clinic: Clinic,
    actor: User | None,
    on_patient: Callable[[PatientProfile], None] | None,
) -> dict[str, int]:
    patients: dict[str, PatientProfile] = {}
    for pid, data in plan.patients.items():
        user = User(
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            clinic=clinic,
            role=Role.PATIENT,
        )
        user.set_unusable_password()
        user.save()
        patients[pid] = PatientProfile.objects.create(
            user=user,
            clinic=clinic,
            display_name=data["display_name"],
            year_of_birth=data["year_of_birth"],
            sex=data["sex"],
            sud_treatment=data["sud_treatment"],
        )
    products = {
        product_id: Product.objects.create(patient=patients[data["patient"]], **data["fields"])
        for product_id, data in plan.products.items()
    }
    lots = {
        lot_id: ProductLot.objects.create(product=products[data["product"]], **data["fields"])
        for lot_id, data in plan.lots.items()
    }
    DoseEntry.objects.bulk_create(
        [
            DoseEntry(
                patient=patients[d["patient"]],
                product=products[d["product"]],
                lot=lots[d["lot"]] if d["lot"] else None,
                entered_by=patients[d["patient"]].user,
                idempotency_key=d["key"],
                **{k: v for k, v in d.items() if k not in ("patient", "product", "lot", "key")},
            )
            for d in plan.doses
        ],
        batch_size=500,
    )
    QuestionnaireResponse.objects.bulk_create(
        [
            QuestionnaireResponse(
                patient=patients[r["patient"]],
                completed_by=patients[r["patient"]].user,
                idempotency_key=r["key"],
                **{k: v for k, v in r.items() if k not in ("patient", "key")},
            )
            for r in plan.responses
        ],
        batch_size=500,
    )
    SymptomReport.objects.bulk_create(
        [
            SymptomReport(
                patient=patients[s["patient"]], **{k: v for k, v in s.items() if k != "patient"}
            )
            for s in plan.symptoms
        ],
        batch_size=500,
    )
    for c in plan.conditions:
        PatientCondition.objects.create(
            patient=patients[c["patient"]], **{k: v for k, v in c.items() if k != "patient"}
        )
    for m in plan.medications:
        MedicationStatement.objects.create(
            patient=patients[m["patient"]], **{k: v for k, v in m.items() if k != "patient"}
        )
    for pid, clinician in plan.care_team:
        CareTeamMembership.objects.get_or_create(patient=patients[pid], clinician=clinician)
    results = write_results(plan.results, patients)
    for patient in patients.values():
        audit_chain.append(
            actor, "csv.import", patient=patient, object_type="patient", object_uuid=patient.uuid
        )
        if on_patient is not None:
            on_patient(patient)
    return {
        "patients": len(patients),
        "products": len(products),
        "product_lots": len(lots),
        "doses": len(plan.doses),
        "questionnaire_responses": len(plan.responses),
        "symptoms": len(plan.symptoms),
        "conditions": len(plan.conditions),
        "medications": len(plan.medications),
        "care_team": len(plan.care_team),
        "results": results,
    }
