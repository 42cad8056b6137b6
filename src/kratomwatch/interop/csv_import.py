"""Diary import from CSV (the export is in :mod:`.csv_export`).

Diary import reads a patient's own spreadsheet: each row may hold one dose of a named
product and/or one daily pain check-in (instrument ``kw-daily-pain``). Columns are found by
name or by an explicit mapping (``dose_g=Dose (g)``). Every row is checked first -- doses
with :func:`kratomwatch.domain.doses.check_dose`, check-ins with the instrument's scoring
rules -- and any error ("row 7, column Dose (g): ...") refuses the whole file: nothing is
written unless every row is valid, and then everything is written in one transaction.
Each row's idempotency key is derived from its content, so importing the same file again
adds nothing.

About 550 lines: reading a spreadsheet as people keep it (column mapping, time zones,
amounts with their units, ratings) and checking every row before anything is written are one
procedure; split, the row checks would be apart from the columns they check.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.checkins import do_submit_questionnaire
from kratomwatch.clinic.actions.doses import do_record_dose
from kratomwatch.clinic.models import (
    DoseEntry,
    EntrySource,
    PatientProfile,
    Product,
    QuestionnaireResponse,
    User,
)
from kratomwatch.clinic.screening_input import product_spec
from kratomwatch.domain.doses import CheckedDose, DoseRejected, Unit, check_dose
from kratomwatch.domain.products import format_decimal
from kratomwatch.domain.questionnaires import (
    Instrument,
    ScoringError,
    get_instrument,
    score,
)
from kratomwatch.domain.text import text_problem
from kratomwatch.interop.csv_export import DAILY, DAILY_ITEMS

MAX_ERRORS = 50
FUTURE_TOLERANCE = timedelta(minutes=5)


class CsvImportError(ValueError):
    """The file cannot be imported; ``problems`` lists every problem found (nothing written)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_ERRORS]
        more = len(self.problems) - len(shown)
        text = "\n".join(f"  {p}" for p in shown)
        if more:
            text += f"\n  … and {more} more"
        super().__init__(f"nothing was imported:\n{text}")


# --------------------------------------------------------------------------- import


#: The items of the daily check-in, in the instrument's order (checked by a test).
DOSE_COLUMNS: tuple[str, ...] = tuple(f"dose_{u.value}" for u in Unit)
#: The fields a diary column can be mapped to.
IMPORT_FIELDS: tuple[str, ...] = (
    "taken_at",
    "amount",
    "unit",
    *DOSE_COLUMNS,
    "preparation",
    *DAILY_ITEMS,
)
_MAP_SPLIT = re.compile(r",(?=\s*[A-Za-z_]+\s*=)")
_INTEGER = re.compile(r"[+-]?\d+")


def parse_mapping(specs: Iterable[str]) -> dict[str, str]:
    """``["pain_now=Pain now,dose_g=Dose (g)"]`` -> ``{"pain_now": "Pain now", ...}``.

    Pairs are separated by commas (a comma inside a column name is kept when what follows
    it does not look like ``field=``); ``--map`` may also be given several times.
    """
    mapping: dict[str, str] = {}
    problems = []
    for spec in specs:
        for pair in _MAP_SPLIT.split(spec):
            if not pair.strip():
                continue
            name, sep, column = pair.partition("=")
            name = name.strip().lower()
            if not sep or not column.strip():
                problems.append(f"--map {pair.strip()!r}: write it as field=Column name")
            elif name not in IMPORT_FIELDS:
                hint = (
                    " (a daily check-in has five answers: map pain_now and pain_average, "
                    "and the other items, separately)"
                    if name == "pain"
                    else ""
                )
                problems.append(
                    f"--map: unknown field {name!r}{hint}; fields: {', '.join(IMPORT_FIELDS)}"
                )
            elif name in mapping:
                problems.append(f"--map: field {name!r} is mapped twice")
            else:
                mapping[name] = column.strip()
    if problems:
        raise CsvImportError(problems)
    return mapping


@dataclass(frozen=True)
class PlannedDose:
    row: int
    checked: CheckedDose
    key: str
    preparation: str
    present: bool


@dataclass(frozen=True)
class PlannedCheckin:
    row: int
    taken_at: datetime
    answers: tuple[int, ...]
    key: str
    present: bool


@dataclass
class DiaryPlan:
    product: Product
    doses: list[PlannedDose] = field(default_factory=list)
    checkins: list[PlannedCheckin] = field(default_factory=list)
    rows: int = 0
    applied: bool = False
    ignored_columns: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "doses_new": sum(not d.present for d in self.doses),
            "doses_present": sum(d.present for d in self.doses),
            "checkins_new": sum(not c.present for c in self.checkins),
            "checkins_present": sum(c.present for c in self.checkins),
        }


def find_product(patient: PatientProfile, name: str) -> Product:
    """The patient's product with this name (case-insensitive), preferring unarchived ones."""
    wanted = name.strip().casefold()
    products = list(patient.products.order_by("archived", "pk"))
    found = [p for p in products if p.name.strip().casefold() == wanted]
    if not found:
        names = ", ".join(repr(p.name) for p in products) or "none"
        raise CsvImportError([f"--product: this patient has no product named {name!r} ({names})"])
    active = [p for p in found if not p.archived] or found
    if len(active) > 1:
        raise CsvImportError([f"--product: {len(active)} products are named {name!r}"])
    return active[0]


def _columns(header: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    """Field -> column index; raises :class:`CsvImportError` for a bad header or mapping."""
    problems = []
    clean = [h.strip() for h in header]
    listed = ", ".join(repr(h) for h in clean)

    def find(name: str) -> list[int]:
        exact = [i for i, h in enumerate(clean) if h == name]
        return exact or [i for i, h in enumerate(clean) if h.casefold() == name.casefold()]

    columns: dict[str, int] = {}
    for name in IMPORT_FIELDS:
        wanted = mapping.get(name)
        hits = find(wanted if wanted is not None else name)
        if wanted is not None and not hits:
            problems.append(
                f"column {wanted!r} (for {name}) is not in the file; its columns: {listed}"
            )
        elif len(hits) > 1:
            problems.append(f"column {clean[hits[0]]!r} (for {name}) appears {len(hits)} times")
        elif hits:
            columns[name] = hits[0]
    by_column: dict[int, list[str]] = {}
    for name, index in columns.items():
        by_column.setdefault(index, []).append(name)
    for index, names in by_column.items():
        if len(names) > 1:
            problems.append(f"column {clean[index]!r} is used for {' and '.join(names)}")
    if "taken_at" not in columns and "taken_at" not in mapping:
        problems.append(
            f"no taken_at column: map the column with the date and time, e.g. "
            f"--map 'taken_at=Date and time' (columns: {listed})"
        )
    if ("amount" in columns) != ("unit" in columns):
        problems.append("amount and unit go together: map both, or use a dose_<unit> column")
    daily = [i for i in DAILY_ITEMS if i in columns]
    if daily and len(daily) != len(DAILY_ITEMS):
        missing = ", ".join(i for i in DAILY_ITEMS if i not in columns)
        problems.append(
            f"a daily check-in ({DAILY}) needs all of {', '.join(DAILY_ITEMS)}; missing: {missing}"
        )
    has_dose = "amount" in columns or any(c in columns for c in DOSE_COLUMNS)
    if not problems and not has_dose and not daily:
        problems.append(
            "nothing to import: map dose columns (amount and unit, or "
            f"{', '.join(DOSE_COLUMNS)}) or the daily check-in columns ({', '.join(DAILY_ITEMS)})"
        )
    if problems:
        raise CsvImportError(problems)
    return columns


def _key(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"{prefix}-{digest}"


def _parse_time(text: str, zone: tzinfo | None) -> datetime | str:
    """An aware datetime, or the problem with ``text``."""
    value = text.strip()
    if not value:
        return "missing: every row needs the date and time"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date and time in ISO 8601, e.g. 2026-11-03T08:30+01:00"
    if len(value) <= 10:
        return f"{value!r} has no time of day: give the time, e.g. {value}T08:30"
    if when.utcoffset() is None:
        if zone is None:
            return (
                f"{value!r} has no UTC offset, so the day it belongs to is ambiguous: add "
                "one (e.g. +01:00) or give the diary's time zone with --timezone"
            )
        when = when.replace(tzinfo=zone)
    return when


def resolve_zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CsvImportError([f"--timezone: unknown time zone {name!r}"]) from exc


def read_rows(source: Path | IO[str], delimiter: str = ",") -> list[list[str]]:
    """All rows of the file (header first); :class:`CsvImportError` if it cannot be read."""
    try:
        if isinstance(source, Path):
            text = source.read_text(encoding="utf-8-sig")
        else:
            text = source.read()
            text = text.removeprefix("\ufeff")
    except OSError as exc:
        raise CsvImportError([f"cannot read {source}: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise CsvImportError([f"the file is not UTF-8 text: {exc.reason}"]) from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise CsvImportError([f"the file is not valid CSV: {exc}"]) from exc
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise CsvImportError(["the file is empty: the first row must name the columns"])
    # Every cell follows the rule for typed text (kratomwatch.domain.text): a file with a
    # control character anywhere is refused whole, before anything is planned or stored.
    header = [h.strip() for h in rows[0]]
    unstorable = [
        f"row {number}, column {header[i] if i < len(header) and header[i] else i + 1}: {problem}"
        for number, row in enumerate(rows, start=1)
        for i, cell in enumerate(row)
        if (problem := text_problem(cell)) is not None
    ]
    if unstorable:
        raise CsvImportError(unstorable)
    return rows


def plan_diary_import(
    patient: PatientProfile,
    product: Product,
    rows: list[list[str]],
    *,
    mapping: Mapping[str, str] | None = None,
    zone: tzinfo | None = None,
    confirm: bool = False,
    now: datetime | None = None,
    on_row: Callable[[int], None] | None = None,
) -> DiaryPlan:
    """Check every row; the dry run. Raises :class:`CsvImportError` listing all problems."""
    if product.patient_id != patient.pk:
        raise CsvImportError(["--product: the product belongs to another patient"])
    now = now or timezone.now()
    columns = _columns(rows[0], mapping or {})
    header = [h.strip() for h in rows[0]]
    spec = product_spec(product)
    daily = get_instrument(DAILY) if all(i in columns for i in DAILY_ITEMS) else None
    dose_sources = [("amount", "unit")] + [(c, c) for c in DOSE_COLUMNS]
    plan = DiaryPlan(product)
    used = set(columns.values())
    plan.ignored_columns = [h for i, h in enumerate(header) if i not in used and h]
    problems: list[str] = []
    dose_keys: dict[str, int] = {}
    checkin_keys: dict[str, int] = {}

    for number, raw in enumerate(rows[1:], start=2):
        if on_row is not None:
            on_row(number)
        if not any(cell.strip() for cell in raw):
            continue
        plan.rows += 1

        def cell(name: str, raw: list[str] = raw) -> str:
            index = columns.get(name)
            return raw[index].strip() if index is not None and index < len(raw) else ""

        def where(name: str, number: int = number) -> str:
            return f"row {number}, column {header[columns[name]]}"

        parsed = _parse_time(cell("taken_at"), zone)
        time_ok = not isinstance(parsed, str)
        if isinstance(parsed, str):
            problems.append(f"{where('taken_at')}: {parsed}")
        # With a bad time, the other cells are still checked (against the current time).
        when = parsed if isinstance(parsed, datetime) else now
        found_any = False
        given = [(a, u) for a, u in dose_sources if a in columns and cell(a)]
        if len(given) > 1:
            names = " and ".join(header[columns[a]] for a, _ in given)
            problems.append(f"row {number}: two doses on one row ({names}): one per row")
        elif given:
            found_any = True
            amount_field, unit_field = given[0]
            unit = cell("unit") if amount_field == "amount" else amount_field.removeprefix("dose_")
            fields = {"amount": amount_field, "unit": unit_field}

            def dose_where(name: str, fields: dict[str, str] = fields) -> str:
                return where(fields.get(name, "taken_at"))

            dose = _check_row_dose(
                cell(amount_field), unit, when, spec, now, confirm, problems, dose_where
            )
            if dose is not None and time_ok:
                key = _key(
                    "csv",
                    product.uuid,
                    dose.taken_at.astimezone(UTC).isoformat(),
                    format_decimal(dose.quantity.amount),
                    dose.quantity.unit.value,
                )
                plan.doses.append(
                    PlannedDose(number, dose, key, cell("preparation")[:100], key in dose_keys)
                )
                dose_keys.setdefault(key, number)
        if daily is not None:
            values = [cell(i) for i in DAILY_ITEMS]
            if any(values):
                found_any = True
                answers = _check_row_checkin(daily, values, when, now, number, problems, where)
                if answers is not None and time_ok:
                    key = _key("csv-daily", when.astimezone(UTC).isoformat(), *answers)
                    plan.checkins.append(
                        PlannedCheckin(number, when, answers, key, key in checkin_keys)
                    )
                    checkin_keys.setdefault(key, number)
        if not found_any and time_ok:
            problems.append(f"row {number}: no dose and no check-in on this row")
    if problems:
        raise CsvImportError(problems)
    stored_doses = set(
        DoseEntry.objects.filter(patient=patient, idempotency_key__in=list(dose_keys)).values_list(
            "idempotency_key", flat=True
        )
    )
    stored_checkins = set(
        QuestionnaireResponse.objects.filter(
            patient=patient, idempotency_key__in=list(checkin_keys)
        ).values_list("idempotency_key", flat=True)
    )
    plan.doses = [
        PlannedDose(d.row, d.checked, d.key, d.preparation, d.present or d.key in stored_doses)
        for d in plan.doses
    ]
    plan.checkins = [
        PlannedCheckin(c.row, c.taken_at, c.answers, c.key, c.present or c.key in stored_checkins)
        for c in plan.checkins
    ]
    return plan


def _check_row_dose(
    amount: str,
    unit: str,
    when: datetime,
    spec: Any,
    now: datetime,
    confirm: bool,
    problems: list[str],
    where: Callable[[str], str],
) -> CheckedDose | None:
    try:
        checked = check_dose(amount=amount, unit=unit, taken_at=when, product=spec, now=now)
    except DoseRejected as exc:
        problems.extend(f"{where(e.field)}: {e.message}" for e in exc.errors)
        return None
    pending = checked.needs_confirmation()
    if pending and not confirm:
        problems.extend(
            f"{where(c.field)}: {c.message} (pass --confirm to import such values as entered)"
            for c in pending
        )
        return None
    return checked


def _check_row_checkin(
    instrument: Instrument,
    values: list[str],
    when: datetime,
    now: datetime,
    number: int,
    problems: list[str],
    where: Callable[[str], str],
) -> tuple[int, ...] | None:
    start = len(problems)
    if when - now > FUTURE_TOLERANCE:
        problems.append(f"{where('taken_at')}: the check-in time is in the future")
    answers: list[int | None] = []
    for item, value in zip(DAILY_ITEMS, values, strict=True):
        if not value:
            problems.append(f"{where(item)}: missing (a daily check-in needs all five answers)")
            answers.append(None)
        elif not _INTEGER.fullmatch(value) or int(value) not in instrument.item(item).allowed:
            problems.append(
                f"{where(item)}: {value!r} is not an allowed answer (allowed: whole numbers "
                f"{instrument.item(item).describe_allowed()})"
            )
            answers.append(None)
        else:
            answers.append(int(value))
    if len(problems) > start:
        return None
    try:
        score(instrument, answers)
    except ScoringError as exc:
        for item, message in exc.errors:
            place = where(item) if item in DAILY_ITEMS else f"row {number}"
            problems.append(f"{place}: {message}")
        return None
    return tuple(a for a in answers if a is not None)


def do_import_diary(
    patient: PatientProfile,
    product: Product,
    rows: list[list[str]],
    *,
    mapping: Mapping[str, str] | None = None,
    zone: tzinfo | None = None,
    confirm: bool = False,
    actor: User | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    on_row: Callable[[int], None] | None = None,
) -> DiaryPlan:
    """Check every row, then store the new doses and check-ins in one transaction.

    Raises :class:`CsvImportError` (nothing written) if any row is invalid. Rows already
    imported (same idempotency key) are left alone.
    """
    plan = plan_diary_import(
        patient, product, rows, mapping=mapping, zone=zone, confirm=confirm, now=now
    )
    daily = get_instrument(DAILY) if plan.checkins else None
    with transaction.atomic():
        for dose in plan.doses:
            if not dose.present:
                do_record_dose(
                    patient=patient,
                    entered_by=actor,
                    product=product,
                    checked=dose.checked,
                    idempotency_key=dose.key,
                    preparation=dose.preparation,
                    source=EntrySource.IMPORT,
                    ip=ip,
                )
            if on_row is not None:
                on_row(dose.row)
        for checkin in plan.checkins:
            if not checkin.present and daily is not None:
                _store_checkin(patient, daily, checkin, actor, ip)
            if on_row is not None:
                on_row(checkin.row)
        audit_chain.append(
            actor,
            "csv.import",
            patient=patient,
            object_type="product",
            object_uuid=product.uuid,
            ip=ip,
        )
    plan.applied = True
    return plan


def _store_checkin(
    patient: PatientProfile,
    instrument: Instrument,
    checkin: PlannedCheckin,
    actor: User | None,
    ip: str | None,
) -> None:
    """Record the check-in's answers as the web form does (once per key, scored, audited)."""
    answers: dict[str, int | None] = dict.fromkeys(instrument.item_ids)
    answers.update(zip(DAILY_ITEMS, checkin.answers, strict=True))
    do_submit_questionnaire(
        patient=patient,
        user=actor,
        instrument=instrument,
        answers=answers,
        key=checkin.key,
        ip=ip,
        taken_at=checkin.taken_at,
        source=EntrySource.IMPORT,
        completed_by=patient.user,
    )
