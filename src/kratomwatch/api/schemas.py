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


class PatientOut(Schema):
    uuid: UUID
    display_name: str
    created: datetime


class UrgentOut(Schema):
    """The urgent guidance of a red flag, to show the person at once."""

    title: str
    message: str


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldErrorOut] | None = None
    urgent: list[UrgentOut] | None = Field(
        None,
        description="Red flags saved although the rest of the request was refused: show now.",
    )


class ProductOut(Schema):
    uuid: UUID
    name: str
    vendor: str
    form: str
    strain_label: str
    batch: str
    potency_source: str
    mitragynine_mg_per_g: str | None
    hydroxymitragynine_mg_per_g: str | None
    unit_material_mg: str | None
    mitragynine_mg_per_unit: str | None
    hydroxymitragynine_mg_per_unit: str | None
    leaf_g_per_ml: str | None
    archived: bool
    created: datetime


Potency = Annotated[
    Decimal | None, Field(description="A number (a dot as decimal point), or null if unknown.")
]


class ProductIn(Schema):
    """A product as on its label or lab certificate; leave out what is not known."""

    name: Text = Field(max_length=200)
    form: Text = Field(
        max_length=20,
        description="leaf_powder, crushed_leaf, capsule, tablet, tea_liquid, extract, seven_oh, "
        "enhanced, topical or other.",
    )
    vendor: Text = Field("", max_length=200)
    strain_label: Text = Field("", max_length=100)
    batch: Text = Field("", max_length=100)
    potency_source: Text = Field("unknown", max_length=10, description="unknown, label or lab.")
    mitragynine_mg_per_g: Potency = None
    hydroxymitragynine_mg_per_g: Potency = None
    unit_material_mg: Potency = None
    mitragynine_mg_per_unit: Potency = None
    hydroxymitragynine_mg_per_unit: Potency = None
    leaf_g_per_ml: Potency = None


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


class SymptomTermOut(Schema):
    id: str
    label: str
    red_flag: bool


class SymptomIn(Schema):
    symptom: Text = Field(max_length=60, description="A symptom's id (GET /api/symptom-terms).")
    severity: int | None = Field(
        None,
        ge=1,
        le=3,
        description="1 mild, 2 moderate, 3 severe. Required but for a red flag (always 3).",
    )


class SymptomReplyOut(Schema):
    symptom: SymptomOut
    red_flag: bool
    urgent: list[UrgentOut] = Field(
        description="A red flag's urgent guidance, sent to the care team too: show it now."
    )


class CheckInIn(Schema):
    """A whole daily check-in, saved whole or not at all (red flags get through alone)."""

    ratings: dict[Text, int | None] = Field(
        max_length=60,
        description="The daily ratings: item id -> answer (GET the instrument kw-daily-pain).",
    )
    withdrawal: dict[Text, int | None] | None = Field(
        None,
        max_length=60,
        description="The withdrawal checklist's answers, where the care team asks it daily.",
    )
    doses: list[DoseIn] = Field(default_factory=list, max_length=20)
    side_effects: dict[Text, int] = Field(
        default_factory=dict,
        max_length=60,
        description="Symptom id -> severity (1 mild, 2 moderate, 3 severe).",
    )
    red_flags: list[Text] = Field(
        default_factory=list, max_length=20, description="Ids of red-flag symptoms."
    )
    note: Text = Field("", max_length=2000)
    entered_at: Text | None = Field(
        None,
        max_length=64,
        description="When it was entered, if sent later: ISO 8601 with a UTC offset.",
    )


class CheckInDetailOut(Schema):
    uuid: UUID
    day: str
    submitted_at: datetime
    received_at: datetime | None
    note: str
    responses: list[ResponseOut]
    doses: list[DoseOut]
    symptoms: list[SymptomOut]
    urgent: list[UrgentOut] = Field(
        description="The urgent guidance of the check-in's red flags: show it now."
    )
    created: datetime


class ResultValueIn(Schema):
    analyte: Text = Field(description="alt, ast, alp, bilirubin or qtc.", max_length=40)
    value: Decimal = Field(description="The value in `unit`; a dot as decimal point.")
    unit: Text = Field(
        description="One of the analyte's units (U/L or IU/L; mg/dL or µmol/L; ms); never assumed.",
        max_length=20,
    )
    upper_limit: Decimal | None = Field(
        None, description="The laboratory's upper limit of normal, in `unit` (optional)."
    )


class ResultScreenIn(Schema):
    item: Text = Field(description="A drug-screen item, e.g. benzodiazepines.", max_length=40)
    outcome: Text = Field(description="positive, negative or not_tested.", max_length=20)


class ResultsIn(Schema):
    taken_at: Text = Field(
        description="When the sample was taken: ISO 8601 with a UTC offset.", max_length=64
    )
    specimen: Text = Field(
        "urine", description="Drug screens: urine, blood or oral_fluid.", max_length=20
    )
    values: list[ResultValueIn] = Field(default_factory=list)
    screens: list[ResultScreenIn] = Field(default_factory=list)
    note: Text = Field("", max_length=500)


class ResultOut(Schema):
    uuid: UUID
    batch: UUID
    kind: str
    analyte: str
    label: str
    taken_at: datetime
    value: str | None
    unit: str
    value_entered: str | None
    unit_entered: str
    upper_limit: str | None
    outcome: str
    specimen: str
    source: str
    note: str
    created: datetime


class ResultsOut(Schema):
    items: list[ResultOut]


class ResultPage(Schema):
    items: list[ResultOut]
    next: str | None
