"""CSV export columns and diary import: row errors, all or nothing, idempotent re-import."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from kratomwatch.clinic.models import (
    AuditEvent,
    Clinic,
    DoseEntry,
    EntrySource,
    PatientProfile,
    Product,
    QuestionnaireResponse,
)
from kratomwatch.domain.questionnaires import get_instrument
from kratomwatch.interop.csv_export import EXPORT_COLUMNS, export_csv
from kratomwatch.interop.csv_import import (
    DAILY_ITEMS,
    CsvImportError,
    do_import_diary,
    find_product,
    parse_mapping,
    plan_diary_import,
    read_rows,
    resolve_zone,
)

from .conftest import patient

DOCS = Path(__file__).resolve().parents[2] / "docs" / "interoperability.md"
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
MAP = [
    "taken_at=Date,dose_g=Dose (g),pain_now=Pain now,pain_average=Pain avg,"
    "interference_activity=Activity,interference_enjoyment=Enjoyment,sleep_quality=Sleep"
]
HEADER = "Date,Dose (g),Pain now,Pain avg,Activity,Enjoyment,Sleep,Notes\n"


def rows_of(text: str) -> list[list[str]]:
    return read_rows(io.StringIO(text))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_daily_items_are_those_of_the_instrument() -> None:
    assert get_instrument("kw-daily-pain").item_ids == DAILY_ITEMS


def test_the_docs_list_every_column() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for kind, columns in EXPORT_COLUMNS.items():
        assert f"`{kind}.csv`" in text, kind
        for name, _ in columns:
            assert f"`{name}`" in text, f"{kind}.csv: {name}"


def test_export_writes_one_file_per_kind_with_units_and_offsets(
    clinic: Clinic, tmp_path: Path
) -> None:
    p1 = patient(clinic, 1)
    Product.objects.filter(patient=p1).update(name="=HYPERLINK(1)")
    counts = export_csv([p1], tmp_path)
    for kind, columns in EXPORT_COLUMNS.items():
        with (tmp_path / f"{kind}.csv").open(newline="") as handle:
            assert next(csv.reader(handle)) == [name for name, _ in columns]
    doses = read_csv(tmp_path / "doses.csv")
    assert len(doses) == counts["doses"] == p1.doses.count()
    assert all(OFFSET.match(d["taken_at"]) for d in doses)
    assert {d["unit"] for d in doses} == {"g"}
    assert doses[0]["product_name"] == "'=HYPERLINK(1)"
    daily = read_csv(tmp_path / "daily_ratings.csv")
    assert len(daily) == p1.responses.filter(instrument_id="kw-daily-pain").count()
    assert {d["scale"] for d in daily} == {"0-10"}
    scores = read_csv(tmp_path / "questionnaire_scores.csv")
    assert {s["total_unit"] for s in scores} == {"score"}
    assert len(read_csv(tmp_path / "findings.csv")) == p1.findings.count()
    assert read_csv(tmp_path / "patients.csv")[0]["patient_id"] == str(p1.uuid)
    assert AuditEvent.objects.filter(patient=p1, action="csv.export").count() == 1


def test_a_bad_row_refuses_the_whole_file(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    product = find_product(p1, "  " + p1.products.get().name.upper())
    text = HEADER + (
        "2026-11-01T08:00+01:00,2.5,5,6,4,4,6,fine\n"
        '2026-11-01T14:00+01:00,"2,5",,,,,,comma\n'
        "2026-11-02T08:00,2,5,5,5,5,5,no offset\n"
        "2026-11-02T20:00+01:00,,11,5,5,5,,rating out of range\n"
        "2026-11-03T08:00+01:00,,,,,,,nothing\n"
    )
    before = (DoseEntry.objects.count(), QuestionnaireResponse.objects.count())
    with pytest.raises(CsvImportError) as caught:
        do_import_diary(p1, product, rows_of(text), mapping=parse_mapping(MAP))
    problems = caught.value.problems
    assert problems[0].startswith("row 3, column Dose (g): Amount '2,5' contains a comma")
    assert problems[1].startswith("row 4, column Date: '2026-11-02T08:00' has no UTC offset")
    assert problems[2].startswith("row 5, column Pain now: '11' is not an allowed answer")
    assert problems[3].startswith("row 5, column Sleep: missing")
    assert problems[4] == "row 6: no dose and no check-in on this row"
    assert len(problems) == 5
    assert (DoseEntry.objects.count(), QuestionnaireResponse.objects.count()) == before


def test_import_dry_run_apply_and_reimport(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    product = p1.products.get()
    text = HEADER + (
        "2026-11-01T08:00+01:00,2.5,5,6,4,4,6,first\n"
        "2026-11-01T14:00,2,,,,,,local time\n"
        "\n"
        "2026-11-02T08:00+01:00,,3,4,2,2,7,check-in only\n"
    )
    rows = rows_of(text)
    mapping = parse_mapping(MAP)
    zone = resolve_zone("Europe/Berlin")
    doses, responses = p1.doses.count(), p1.responses.count()

    dry = plan_diary_import(p1, product, rows, mapping=mapping, zone=zone)
    assert dry.summary() == {
        "rows": 3,
        "doses_new": 2,
        "doses_present": 0,
        "checkins_new": 2,
        "checkins_present": 0,
    }
    assert dry.ignored_columns == ["Notes"]
    assert (p1.doses.count(), p1.responses.count()) == (doses, responses)

    done = do_import_diary(p1, product, rows, mapping=mapping, zone=zone)
    assert done.applied
    assert p1.doses.count() == doses + 2
    imported = p1.doses.filter(source=EntrySource.IMPORT).order_by("taken_at")
    first, second = imported
    assert first.amount == 2.5 and first.unit == "g" and first.leaf_equivalent_g == 2.5
    assert first.mitragynine_mg == product.mitragynine_mg_per_g * Decimal("2.5")
    assert timezone.localtime(second.taken_at).isoformat().startswith("2026-11-01T13:00")
    checkins = p1.responses.filter(source=EntrySource.IMPORT).order_by("taken_at")
    assert [c.answers for c in checkins] == [[5, 6, 4, 4, 6], [3, 4, 2, 2, 7]]
    assert [float(c.total) for c in checkins] == [5.5, 3.5]
    assert AuditEvent.objects.filter(patient=p1, action="csv.import").count() == 1

    again = do_import_diary(p1, product, rows, mapping=mapping, zone=zone)
    assert again.summary()["doses_new"] == 0 and again.summary()["checkins_new"] == 0
    assert p1.doses.count() == doses + 2
    assert p1.responses.count() == responses + 2


def test_unusual_amounts_need_confirmation(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    product = p1.products.get()
    rows = rows_of("taken_at,dose_g\n2026-11-01T08:00+00:00,40\n")
    with pytest.raises(CsvImportError, match=r"row 2, column dose_g: .*--confirm"):
        plan_diary_import(p1, product, rows)
    plan = plan_diary_import(p1, product, rows, confirm=True)
    assert plan.summary()["doses_new"] == 1


@pytest.mark.parametrize(
    ("specs", "header", "message"),
    [
        (["pain=Pain"], None, "unknown field 'pain'"),
        (["dose_g"], None, "write it as field=Column name"),
        (["dose_g=A", "dose_g=B"], None, "mapped twice"),
        (["dose_g=Dose"], "taken_at,Amount\n", "column 'Dose' (for dose_g) is not in the file"),
        ([], "When,dose_g\n", "no taken_at column"),
        (["pain_now=P"], "taken_at,P\n", "missing: pain_average"),
        ([], "taken_at,amount\n", "amount and unit go together"),
        ([], "taken_at,notes\n", "nothing to import"),
        (["taken_at=When,dose_g=When"], "When\n", "column 'When' is used for taken_at and dose_g"),
    ],
)
def test_mapping_and_header_problems(
    clinic: Clinic, specs: list[str], header: str | None, message: str
) -> None:
    p1: PatientProfile = patient(clinic, 1)
    with pytest.raises(CsvImportError, match=re.escape(message)):
        mapping = parse_mapping(specs)
        assert header is not None
        plan_diary_import(p1, p1.products.get(), rows_of(header + "x,1\n"), mapping=mapping)


def test_a_comma_inside_a_column_name_is_kept() -> None:
    assert parse_mapping(["dose_g=Dose, grams,taken_at=When"]) == {
        "dose_g": "Dose, grams",
        "taken_at": "When",
    }


def test_the_product_must_be_the_patients(clinic: Clinic) -> None:
    with pytest.raises(CsvImportError, match="has no product named 'Nope'"):
        find_product(patient(clinic, 1), "Nope")


def test_a_control_character_in_any_cell_refuses_the_file(clinic: Clinic) -> None:
    p1 = patient(clinic, 1)
    product = p1.products.get()
    text = HEADER.replace("Notes", "preparation") + (
        "2026-11-01T08:00+01:00,2.5,5,6,4,4,6,tea\n"
        "2026-11-01T14:00+01:00,2.5,,,,,,brewed\x00 twice\n"
        "2026-11-02T08:00+01:00,2,5,5,5,5,5,\x1b[31m\n"
    )
    before = (DoseEntry.objects.count(), QuestionnaireResponse.objects.count())
    with pytest.raises(CsvImportError) as caught:
        do_import_diary(p1, product, rows_of(text), mapping=parse_mapping(MAP))
    assert caught.value.problems == [
        "row 3, column preparation: This text contains an invisible control character "
        "(U+0000) at position 7, which cannot be saved: remove it (tabs and line breaks are "
        "fine).",
        "row 4, column preparation: This text contains an invisible control character "
        "(U+001B) at position 1, which cannot be saved: remove it (tabs and line breaks are "
        "fine).",
    ]
    assert (DoseEntry.objects.count(), QuestionnaireResponse.objects.count()) == before
