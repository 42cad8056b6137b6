"""Request and response documents of the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator

from kratomwatch.domain.text import text_problem


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


#: Every text a request document carries: the same rule as the web forms'
#: (kratomwatch.domain.text), answered 422 with the field's name.
Text = Annotated[str, AfterValidator(_storable)]


class FieldErrorOut(Schema):
    field: str
    message: str
    code: str


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldErrorOut] | None = None


class PatientOut(Schema):
    uuid: UUID
    display_name: str
    created: datetime


class ProductOut(Schema):
    uuid: UUID
    name: str
    vendor: str
    form: str
    archived: bool
    created: datetime


class DoseOut(Schema):
    uuid: UUID
    product: UUID
    lot: UUID | None = None
    taken_at: datetime
    amount: str
    unit: str
    leaf_equivalent_g: str | None
    mitragynine_mg: str | None
    hydroxymitragynine_mg: str | None
    confirmed_warnings: list[str]
    source: str
    created: datetime


class DoseIn(Schema):
    product: UUID
    lot: UUID | None = Field(
        default=None,
        description="The product's lot the dose was taken from, if known; its lab figures, "
        "when it has them, are used for the dose's mitragynine and 7-OH.",
    )
    amount: Decimal = Field(description="Amount of product, in `unit`; a dot as decimal point.")
    unit: Text = Field(description="g, mg, capsule, tablet or ml.", max_length=20)
    taken_at: Text = Field(
        description="When it was taken: ISO 8601 with a UTC offset, e.g. 2026-01-05T08:30+01:00.",
        max_length=64,
    )
    confirm: list[Text] = Field(
        default_factory=list,
        description="Codes of the confirmations given for unusual but possible values.",
    )


class LotOut(Schema):
    uuid: UUID
    product: UUID
    lot_number: str
    purchased_on: date | None
    lab_name: str
    tested_on: date | None
    mitragynine_mg_per_g: str | None
    hydroxymitragynine_mg_per_g: str | None
    total_alkaloids_mg_per_g: str | None
    entered_unit: str
    has_certificate: bool
    created: datetime


class LotPage(Schema):
    items: list[LotOut]
    next: str | None


class LotIn(Schema):
    lot_number: Text = Field(min_length=1, max_length=100)
    purchased_on: date | None = None
    lab_name: Text = Field(default="", max_length=200)
    tested_on: date | None = None
    unit: Text = Field(
        default="mg/g",
        max_length=10,
        description="The unit of the figures, as on the certificate: 'mg/g' (per gram of "
        "product) or '%' (w/w). Figures are stored in mg/g.",
    )
    mitragynine: Text | None = Field(default=None, max_length=20)
    hydroxymitragynine: Text | None = Field(default=None, max_length=20)
    total_alkaloids: Text | None = Field(default=None, max_length=20)


class FindingOut(Schema):
    uuid: UUID
    code: str
    severity: str
    category: str
    title: str
    rationale: str
    management: str
    status: str
    active: bool
    first_seen: datetime
    last_seen: datetime
    acknowledged_at: datetime | None
    acknowledged_reason: str
    created: datetime


class NoteAbout(Schema):
    type: str  # medication or product
    name: str  # as entered
    dose: str | None = None  # a medication's dose as entered


class NoteOut(Schema):
    code: str
    title: str
    rationale: str
    management: str
    patient_message: str | None
    evidence_level: str | None
    references: list[dict[str, Any]]
    about: list[NoteAbout]


class NotesOut(Schema):
    knowledge_version: str
    items: list[NoteOut]


class AcknowledgeIn(Schema):
    reason: Text = Field(min_length=1, max_length=300)


class PatientPage(Schema):
    items: list[PatientOut]
    next: str | None


class ProductPage(Schema):
    items: list[ProductOut]
    next: str | None


class DosePage(Schema):
    items: list[DoseOut]
    next: str | None


class FindingPage(Schema):
    items: list[FindingOut]
    next: str | None


class ResponseOut(Schema):
    uuid: UUID
    instrument_id: str
    instrument_version: str
    answers: list[int | None]
    total: str | None
    band: str | None
    flags: list[str]
    taken_at: datetime
    created: datetime


class ResponseIn(Schema):
    instrument_id: Text = Field(max_length=60)
    answers: list[int | None] = Field(
        max_length=60, description="Answers in item order; null for an optional item left out."
    )


class SymptomOut(Schema):
    uuid: UUID
    term: str
    severity: int
    reported_at: datetime
    created: datetime


class CheckInOut(Schema):
    uuid: UUID
    day: str
    submitted_at: datetime
    note: str
    created: datetime


class PlanOut(Schema):
    uuid: UUID
    version: int
    kind: str
    active: bool
    starting_dose_g: str | None
    max_single_dose_g: str | None
    max_daily_dose_g: str | None
    max_doses_per_day: int | None
    min_hours_between: str | None
    max_weekly_increase_pct: str | None
    review_on: str | None
    stop_rules: str
    steps: list[dict[str, str]]
    reason: str
    approved_at: datetime
    created: datetime


class ResponsePage(Schema):
    items: list[ResponseOut]
    next: str | None


class SymptomPage(Schema):
    items: list[SymptomOut]
    next: str | None


class CheckInPage(Schema):
    items: list[CheckInOut]
    next: str | None


class PlanPage(Schema):
    items: list[PlanOut]
    next: str | None
