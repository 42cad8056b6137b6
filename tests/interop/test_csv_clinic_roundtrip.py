"""A clinic's CSV export imported into an empty clinic and exported again gives the same files."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Value
from django.db.models.functions import Concat

from kratomwatch.clinic.actions.results import do_record_results
from kratomwatch.clinic.models import (
    Clinic,
    DoseEntry,
    PatientProfile,
    Product,
    ProductLot,
    Role,
    User,
)
from kratomwatch.domain.results import check_batch
from kratomwatch.interop.csv_clinic import ClinicNotEmptyError, import_clinic_csv
from kratomwatch.interop.csv_export import EXPORT_COLUMNS, export_csv
from kratomwatch.interop.csv_import import CsvImportError
from kratomwatch.interop.fhir_export import clinic_patients
from kratomwatch.synthetic.seed import seed_demo_clinic

from .conftest import TODAY

pytestmark = pytest.mark.django_db

#: Public ids: new records get new ones. They are replaced by their order of first
#: appearance, so that references between the files are still compared.
ID_COLUMNS = {
    "patient_id": "patient",
    "dose_id": "dose",
    "product_id": "product",
    "response_id": "response",
    "symptom_id": "symptom",
    "condition_id": "condition",
    "medication_id": "medication",
    "result_id": "result",
    "batch_id": "batch",
    "lot_id": "lot",
}
#: Columns different by nature: the clinic, and when the record was stored.
DROPPED = {("patients", "clinic"), ("doses", "recorded_at"), ("results", "recorded_at")}
#: Not imported: the safety engine's findings (the target clinic is not screened).
NOT_COMPARED = {"findings"}
#: Files read first, so that ids are numbered by the file that defines them.
ORDER = ["patients", "products"] + [k for k in EXPORT_COLUMNS if k not in ("patients", "products")]


def normalized(directory: Path) -> dict[str, list[list[str]]]:
    numbers: dict[str, dict[str, str]] = {kind: {} for kind in ID_COLUMNS.values()}
    files = {}
    for kind in ORDER:
        if kind in NOT_COMPARED:
            continue
        with (directory / f"{kind}.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        out = [[h for h in header if (kind, h) not in DROPPED]]
        for row in rows[1:]:
            cells = []
            for name, value in zip(header, row, strict=True):
                if (kind, name) in DROPPED:
                    continue
                if name in ID_COLUMNS:
                    ids = numbers[ID_COLUMNS[name]]
                    value = ids.setdefault(value, f"{ID_COLUMNS[name]}#{len(ids) + 1}")
                cells.append(value)
            out.append(cells)
        files[kind] = out
    return files


def record_results(patient: PatientProfile | None) -> None:
    """A liver panel (bilirubin entered in µmol/L) and a drug screen, for results.csv."""
    assert patient is not None
    batch = check_batch(
        taken_at=datetime(2026, 11, 18, 8, 30, tzinfo=UTC),
        values={
            "alt": {"value": "95", "unit": "IU/L", "upper_limit": "40"},
            "bilirubin": {"value": "25.65", "unit": "µmol/L"},
        },
        screens={"benzodiazepines": "positive", "cocaine": "not_tested"},
        specimen="urine",
        now=datetime(2026, 11, 20, tzinfo=UTC),
        note="sent by the laboratory",
    )
    do_record_results(patient=patient, user=None, batch=batch)


def add_lots(clinic: Clinic) -> None:
    """A lot with lab figures, and one without, of a patient's first product; the first
    dose of that product names the first lot."""
    product = Product.objects.filter(patient__clinic=clinic, doses__isnull=False).first()
    assert product is not None
    lot = ProductLot.objects.create(
        product=product,
        lot_number="B-11",
        purchased_on=date(2026, 11, 2),
        lab_name="Lab, Co.",
        tested_on=date(2026, 10, 20),
        entered_unit="%",
        mitragynine_mg_per_g=Decimal("15.25"),
        hydroxymitragynine_mg_per_g=Decimal("0.3"),
        total_alkaloids_mg_per_g=Decimal("21"),
    )
    ProductLot.objects.create(product=product, lot_number="=cmd|x")  # formula-like text
    DoseEntry.objects.filter(pk=product.doses.order_by("pk").first().pk).update(lot=lot)  # type: ignore[union-attr]


def rename_users(clinic: Clinic) -> None:
    """User names are unique in the database: free the exported ones for the import."""
    User.objects.filter(clinic=clinic).update(username=Concat(Value("old-"), "username"))


def make_target(slug: str, clinicians: list[str]) -> Clinic:
    target = Clinic.objects.create(name="Imported", slug=slug)
    for username in clinicians:
        User.objects.create(username=username, clinic=target, role=Role.CLINICIAN)
    return target


@pytest.fixture
def source(tmp_path: Path) -> tuple[Clinic, Path]:
    summary = seed_demo_clinic(patients=4, days=14, today=TODAY, slug="rt")
    record_results(PatientProfile.objects.filter(clinic=summary.clinic).first())
    add_lots(summary.clinic)
    out = tmp_path / "first"
    export_csv(clinic_patients(summary.clinic), out)
    return summary.clinic, out


def test_round_trip_gives_identical_files(source: tuple[Clinic, Path], tmp_path: Path) -> None:
    clinic, first = source
    clinicians = sorted(
        User.objects.filter(clinic=clinic, role=Role.CLINICIAN).values_list("username", flat=True)
    )
    rename_users(clinic)
    target = make_target("rt-copy", clinicians)

    report = import_clinic_csv(first, target)

    assert report.skipped == []
    assert report.counts["patients"] == 4
    assert report.counts["doses"] == DoseEntry.objects.filter(patient__clinic=clinic).count() > 0
    second = tmp_path / "second"
    export_csv(clinic_patients(target), second)
    a, b = normalized(first), normalized(second)
    assert a.keys() == b.keys()
    for kind in a:
        assert a[kind] == b[kind], kind
        assert len(a[kind]) > 1, f"{kind}.csv has no rows to compare"
    user = PatientProfile.objects.filter(clinic=target).first().user  # type: ignore[union-attr]
    assert not user.has_usable_password()


def test_missing_clinicians_are_reported_not_invented(
    source: tuple[Clinic, Path],
) -> None:
    clinic, first = source
    rename_users(clinic)
    target = make_target("rt-copy", [])
    report = import_clinic_csv(first, target)
    assert report.skipped and all("care_team.csv row" in s for s in report.skipped)
    assert report.counts["care_team"] == 0
    assert not User.objects.filter(clinic=target, role=Role.CLINICIAN).exists()


def test_refuses_a_clinic_with_patients(source: tuple[Clinic, Path]) -> None:
    clinic, first = source
    with pytest.raises(ClinicNotEmptyError, match="empty clinic"):
        import_clinic_csv(first, clinic)


def test_a_corrupted_row_imports_nothing(source: tuple[Clinic, Path]) -> None:
    clinic, first = source
    rename_users(clinic)
    target = make_target("rt-copy", [])
    path = first / "doses.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[3][rows[0].index("amount")] = "2,5"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)

    with pytest.raises(CsvImportError) as caught:
        import_clinic_csv(first, target)

    assert caught.value.problems == ["doses.csv row 4, column amount: '2,5' is not a number"]
    assert not PatientProfile.objects.filter(clinic=target).exists()
    assert not User.objects.filter(clinic=target).exists()


def test_a_dose_of_an_unknown_product_is_named(source: tuple[Clinic, Path]) -> None:
    clinic, first = source
    rename_users(clinic)
    target = make_target("rt-copy", [])
    path = first / "doses.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("product_id")] = "00000000-0000-0000-0000-000000000000"
    text[1] = ",".join(cells)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(CsvImportError, match=r"doses.csv row 2, column product_id"):
        import_clinic_csv(first, target)
    assert not PatientProfile.objects.filter(clinic=target).exists()


def test_text_guarded_against_formulas_comes_back_as_stored(tmp_path: Path) -> None:
    summary = seed_demo_clinic(patients=1, days=3, today=TODAY, slug="fx")
    fields = {
        "name": "'=already quoted",
        "vendor": "=HYPERLINK(1)",
        "strain_label": "-1",
        "batch": "@batch",
    }
    PatientProfile.objects.get(clinic=summary.clinic).products.update(**fields)
    out = tmp_path / "out"
    export_csv(clinic_patients(summary.clinic), out)
    clinicians = list(
        User.objects.filter(clinic=summary.clinic, role=Role.CLINICIAN).values_list(
            "username", flat=True
        )
    )
    rename_users(summary.clinic)
    target = make_target("fx-copy", clinicians)
    import_clinic_csv(out, target)
    copied = PatientProfile.objects.get(clinic=target).products.values(*fields)
    assert list(copied) == [fields]
