"""`kratomwatch audit verify`: in-process on the test database, and as a real process on a
fresh SQLite data directory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from kratomwatch.cli import main
from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import AuditEvent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The command sets KRATOMWATCH_DATA_DIR; make sure it is restored afterwards."""
    monkeypatch.setenv("KRATOMWATCH_DATA_DIR", os.environ["KRATOMWATCH_DATA_DIR"])
    return str(tmp_path / "data")


def tamper(statement: str, *params: object) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement.replace("{t}", table), list(params))


def test_an_intact_chain(db: None, data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "verify", "--data-dir", data_dir)
    assert (code, out, err) == (0, "OK: 0 events, chain intact\n", "")
    for action in ("patient.view", "dose.create", "report.pdf"):
        audit_chain.append(None, action, object_type="patient")
    last = AuditEvent.objects.get(seq=3).hash
    code, out, err = run(capsys, "audit", "verify", "--data-dir", data_dir)
    assert code == 0, err
    assert out.splitlines() == ["OK: 3 events, chain intact", f"Last event: seq 3, hash {last}"]


@pytest.mark.parametrize(
    ("statement", "params", "expected"),
    [
        (
            "UPDATE {t} SET action = %s WHERE seq = %s",
            ("csv.import", 2),
            "BROKEN at seq 2: event seq 2 was altered",
        ),
        ("DELETE FROM {t} WHERE seq = %s", (2,), "BROKEN at seq 3: 1 event missing after seq 1"),
        (
            "UPDATE {t} SET prev_hash = hash WHERE seq = %s",
            (3,),
            "BROKEN at seq 3: event seq 3 does not follow event seq 2",
        ),
    ],
)
def test_a_broken_chain_exits_1_with_the_first_problem(
    db: None,
    data_dir: str,
    capsys: pytest.CaptureFixture[str],
    statement: str,
    params: tuple[object, ...],
    expected: str,
) -> None:
    for action in ("patient.view", "dose.create", "report.pdf", "note.create"):
        audit_chain.append(None, action, object_type="patient")
    tamper(statement, *params)
    code, out, err = run(capsys, "audit", "verify", "--data-dir", data_dir)
    assert code == 1, err
    assert out.startswith(expected)
    assert "chain intact" not in out


def test_audit_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit"])
    assert exit_.value.code == 2
    assert "verify" in capsys.readouterr().err


def kratomwatch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kratomwatch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_verify_from_a_real_process(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KRATOMWATCH_") and k != "DATABASE_URL"
    }
    data = str(tmp_path / "data")

    out = kratomwatch("audit", "verify", "--data-dir", data, env=env)
    assert out.returncode == 2 and "kratomwatch migrate" in out.stderr  # no schema yet

    assert kratomwatch("demo", "--seed-only", "--data-dir", data, env=env).returncode == 0
    out = kratomwatch(
        "export-csv",
        "--data-dir",
        data,
        "--clinic",
        "demo",
        "--out",
        str(tmp_path / "csv"),
        env=env,
    )
    assert out.returncode == 0, out.stderr  # one audit event per exported patient
    out = kratomwatch("audit", "verify", "--data-dir", data, env=env)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("OK: ") and first.endswith(" events, chain intact")
    assert int(first.split()[1]) >= 3

    with sqlite3.connect(Path(data) / "kratomwatch.sqlite3") as db:
        db.execute("DELETE FROM clinic_auditevent WHERE seq = 2")
    db.close()
    out = kratomwatch("audit", "verify", "--data-dir", data, env=env)
    assert out.returncode == 1
    assert out.stdout.startswith("BROKEN at seq 3: 1 event missing after seq 1")
