"""The export-fhir, import-fhir, export-csv and import-csv commands.

Most run in-process on the test database (the demo clinic is made by ``demo --seed-only``);
one runs as a real process against its own ``--data-dir``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from kratomwatch.cli import main
from kratomwatch.clinic.models import EntrySource, PatientProfile


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The commands set KRATOMWATCH_DATA_DIR; make sure it is restored afterwards."""
    monkeypatch.setenv("KRATOMWATCH_DATA_DIR", os.environ["KRATOMWATCH_DATA_DIR"])
    return str(tmp_path / "data")


def test_the_commands_end_to_end(
    db: None, data_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "demo", "--seed-only", "--data-dir", data_dir)
    assert code == 0, err
    source = PatientProfile.objects.get(user__username="patient03")
    target = PatientProfile.objects.get(user__username="patient01")
    dd = ("--data-dir", data_dir)

    bundle_path = tmp_path / "patient03.json"
    code, out, err = run(
        capsys, "export-fhir", *dd, "--patient", str(source.uuid), "--out", str(bundle_path)
    )
    assert code == 0, err
    assert "Wrote a Bundle of" in out
    Bundle.model_validate(json.loads(bundle_path.read_text()))

    # patient03's bundle into patient01: the dry run says it would be refused, --apply
    # refuses it, and only --override-patient-check imports it.
    fhir = ["import-fhir", *dd, "--patient", str(target.uuid), str(bundle_path)]
    code, out, err = run(capsys, *fhir)
    out = " ".join(out.split())  # the table and its notes are wrapped to the terminal
    assert code == 2
    assert "would add" in out and "Dry run: nothing was written" in out
    assert " response " in out  # questionnaire responses are listed like the rest
    assert "--apply will refuse this bundle unless --override-patient-check" in out
    assert "The bundle's patient is not this patient" in err
    assert f"name {source.display_name!r} in the bundle" in err
    code, out, err = run(capsys, *fhir, "--apply")
    assert code == 2 and out == ""
    assert "Nothing was imported" in err and "--override-patient-check" in err
    assert not target.medications.exists()
    code, out, err = run(capsys, *fhir, "--apply", "--override-patient-check")
    assert code == 0 and "added" in out
    assert "the patient check was overridden" in " ".join(out.split())
    assert target.medications.count() == 2
    imported = target.responses.filter(source=EntrySource.IMPORT)
    assert source.responses.exists() and imported.count() == source.responses.count()
    code, out, err = run(capsys, *fhir, "--json", "--override-patient-check")
    report = json.loads(out)
    assert report["summary"]["add"] == 0
    assert report["patient_check"]["matches"] is False
    assert "KratomWatch id" in report["patient_check"]["differences"][0]

    own = tmp_path / "patient01.json"
    code, out, err = run(
        capsys, "export-fhir", *dd, "--patient", str(target.uuid), "--out", str(own)
    )
    code, out, err = run(capsys, "import-fhir", *dd, "--patient", str(target.uuid), str(own))
    assert code == 0, err
    assert "The bundle's patient matches this patient (KratomWatch id, name" in " ".join(
        out.split()
    )

    csv_dir = tmp_path / "csv"
    code, out, err = run(capsys, "export-csv", *dd, "--clinic", "demo", "--out", str(csv_dir))
    assert code == 0, err
    assert "doses.csv" in out and (csv_dir / "findings.csv").exists()

    diary = tmp_path / "diary.csv"
    diary.write_text("When,Dose (g)\n2026-11-01T08:00:00+00:00,2\n2026-11-01T15:00:00+00:00,2.5\n")
    product = target.products.get().name
    args = ["import-csv", *dd, "--patient", str(target.uuid), "--product", product, str(diary)]
    args += ["--map", "taken_at=When,dose_g=Dose (g)"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "Would import 2 doses" in out
    assert not target.doses.filter(source=EntrySource.IMPORT).exists()
    code, out, err = run(capsys, *args, "--apply")
    assert code == 0 and "Imported 2 doses" in out
    assert target.doses.filter(source=EntrySource.IMPORT).count() == 2


def test_a_clinic_export_writes_ndjson(
    db: None, data_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date

    from kratomwatch.synthetic.seed import seed_demo_clinic

    seed_demo_clinic(patients=2, days=7, today=date(2026, 11, 20), slug="small")
    out_dir = tmp_path / "ndjson"
    code, out, err = run(
        capsys, "export-fhir", "--data-dir", data_dir, "--clinic", "small", "--out", str(out_dir)
    )
    assert code == 0, err
    assert "Patient.ndjson  2" in out
    assert len((out_dir / "Patient.ndjson").read_text().splitlines()) == 2
    assert json.loads((out_dir / "manifest.json").read_text())["output"][0]["type"] == "Patient"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export-fhir", "--patient", "not-a-uuid", "--out", "x.json"], "is not a patient id"),
        (
            ["export-fhir", "--patient", "00000000-0000-0000-0000-000000000000", "--out", "x"],
            "no patient with id",
        ),
        (["export-csv", "--clinic", "nowhere", "--out", "x"], "no clinic 'nowhere'"),
        (["import-csv", "--patient", "x", "--product", "p", "f.csv", "--map", "pain=P"], "pain"),
        (["import-csv", "--patient", "x", "--product", "p", "f.csv", "--delimiter", ";;"], "one"),
    ],
)
def test_errors_exit_2_with_the_message_on_stderr(
    db: None,
    data_dir: str,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, *argv, "--data-dir", data_dir)
    assert code == 2
    assert out == ""
    assert err.startswith("kratomwatch: error: ") and message in err


def test_invalid_input_files_exit_2(
    db: None, data_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date

    from kratomwatch.synthetic.seed import seed_demo_clinic

    seed_demo_clinic(patients=1, days=3, today=date(2026, 11, 20), slug="tiny")
    p = PatientProfile.objects.get(clinic__slug="tiny")
    bundle = tmp_path / "bad.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "nope"}))
    code, out, err = run(capsys, "import-fhir", "--patient", str(p.uuid), str(bundle))
    assert code == 2 and "invalid FHIR bundle" in err and "type" in err
    diary = tmp_path / "diary.csv"
    diary.write_text("taken_at,dose_g\n2026-11-01T08:00:00+00:00,two\n")
    product = p.products.get().name
    code, out, err = run(
        capsys, "import-csv", "--patient", str(p.uuid), "--product", product, str(diary)
    )
    assert code == 2 and "row 2, column dose_g: Amount 'two' is not a number" in err


def test_a_real_process_uses_its_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRATOMWATCH_")}
    env["KRATOMWATCH_SECRET_KEY"] = "s" * 40
    data = str(tmp_path / "data")
    python = [sys.executable, "-m", "kratomwatch"]
    done = subprocess.run(
        [*python, "migrate", "--data-dir", data], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [*python, "export-csv", "--clinic", "demo", "--out", str(tmp_path), "--data-dir", data],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "no clinic 'demo' (clinics: none)" in done.stderr


def test_a_clinic_export_is_imported_into_an_empty_clinic_by_command(
    db: None, data_dir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date

    from django.db.models import Value
    from django.db.models.functions import Concat

    from kratomwatch.clinic.models import Clinic, User
    from kratomwatch.synthetic.seed import seed_demo_clinic

    seed_demo_clinic(patients=2, days=7, today=date(2026, 11, 20), slug="from")
    out_dir = tmp_path / "csv"
    dd = ("--data-dir", data_dir)
    code, out, err = run(capsys, "export-csv", *dd, "--clinic", "from", "--out", str(out_dir))
    assert code == 0, err
    # User names are unique: free the exported ones, as moving to a new server would.
    User.objects.filter(clinic__slug="from").update(username=Concat(Value("old-"), "username"))
    target = Clinic.objects.create(name="Copy", slug="copy")

    args = ["import-csv", *dd, "--clinic", "copy", str(out_dir)]
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["applied"] is False and summary["counts"]["patients"] == 2
    assert PatientProfile.objects.filter(clinic=target).count() == 0  # the dry run kept nothing

    code, out, err = run(capsys, *args, "--apply")
    assert code == 0, err
    assert "Imported into clinic copy: 2 patients" in out
    assert PatientProfile.objects.filter(clinic=target).count() == 2

    # The clinic now has patients: a second import is refused, with the reason.
    code, out, err = run(capsys, *args, "--apply")
    assert code == 2 and "import only into an empty clinic" in err
    code, out, err = run(capsys, "import-csv", *dd, "--clinic", "copy", str(out_dir / "none"))
    assert code == 2 and "not a directory" in err
    code, out, err = run(capsys, "import-csv", *dd, "--patient", "x", str(out_dir))
    assert code == 2 and "--product is required" in err
