"""A mistyped ``--data-dir``: commands that work on an existing database create nothing.

Only the commands that create the database (migrate, demo, synth, serve) make a data
directory and its SQLite file; the others stop with status 2 and a message naming the
directory, before SQLite could leave an empty database file behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_cli_demo import clean_env, kratomwatch

PATIENT = "00000000-0000-0000-0000-000000000000"
WORKING_ON_AN_EXISTING_DATABASE = [
    ["cohort", "--clinic", "demo"],
    ["export-csv", "--clinic", "demo", "--out", "{tmp}/csv"],
    ["export-fhir", "--clinic", "demo", "--out", "{tmp}/fhir"],
    ["audit", "verify"],
    ["token", "list", "--user", "dr.lee"],
    ["screen-worker", "--once"],
    ["bulk-worker", "--once"],
    ["import-csv", "--patient", PATIENT, "--product", "P", "{tmp}/diary.csv"],
    ["import-fhir", "--patient", PATIENT, "{tmp}/bundle.json"],
    ["send-reminders"],
    ["send-digests"],
    ["purge-expired"],
    ["backup", "--out", "{tmp}/backup.kwbak"],
]


@pytest.mark.parametrize("argv", WORKING_ON_AN_EXISTING_DATABASE, ids=lambda a: " ".join(a[:2]))
def test_a_mistyped_data_dir_creates_nothing(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "diary.csv").write_text("taken_at,dose_g\n")
    (tmp_path / "bundle.json").write_text('{"resourceType": "Bundle", "type": "collection"}')
    before = sorted(tmp_path.iterdir())
    typo = tmp_path / "kratomwatch-dta"
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    out = kratomwatch(*args, "--data-dir", str(typo), env=clean_env(), timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith("kratomwatch: error: ") and "Traceback" not in out.stderr
    assert str(typo) in out.stderr
    assert sorted(tmp_path.iterdir()) == before  # no directory, no database, no output


def test_a_data_dir_without_a_database_stays_empty(tmp_path: Path) -> None:
    env = clean_env(KRATOMWATCH_DATA_DIR=str(tmp_path))
    out = kratomwatch("cohort", "--clinic", "demo", env=env, timeout=120)
    assert out.returncode == 2
    assert f"there is no KratomWatch database in {tmp_path} (no kratomwatch.sqlite3)" in out.stderr
    assert "`kratomwatch migrate --data-dir" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_migrate_creates_the_data_dir_and_then_the_others_use_it(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    env = clean_env()
    assert kratomwatch("migrate", "--data-dir", str(data), env=env).returncode == 0
    assert (data / "kratomwatch.sqlite3").is_file()
    out = kratomwatch("cohort", "--clinic", "demo", "--data-dir", str(data), env=env)
    assert out.returncode == 2 and "no clinic 'demo' (clinics: none)" in out.stderr
