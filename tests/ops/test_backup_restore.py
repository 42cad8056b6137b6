"""``kratomwatch backup`` and ``restore`` on the engine the suite runs on, from real processes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kratomwatch import __version__, cli
from kratomwatch.ops import backup

from .conftest import ON_POSTGRES, Target, clean_env


def make_backup(target: Target, out: Path) -> dict[str, object]:
    done = target.kw("backup", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with tarfile.open(out) as tar:
        raw = tar.extractfile(backup.MANIFEST).read()  # type: ignore[union-attr]
    manifest: dict[str, object] = json.loads(raw)
    return manifest


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    return code, capsys.readouterr().err


def rewrite(
    src: Path,
    dst: Path,
    *,
    manifest: Callable[[dict[str, object]], None] | None = None,
    payload: Callable[[bytes], bytes] | None = None,
) -> None:
    """Copy a backup, editing its manifest or its payload on the way."""
    with tarfile.open(src) as old, tarfile.open(dst, "w") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == backup.MANIFEST and manifest is not None:
                edited = json.loads(data)
                manifest(edited)
                data = json.dumps(edited).encode()
            elif member.name != backup.MANIFEST and payload is not None:
                data = payload(data)
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


def test_round_trip_restores_exactly_the_backed_up_state(
    seeded: Callable[[], tuple[Target, Any]], new_target: Callable[[], Target], tmp_path: Path
) -> None:
    live, _ = seeded()
    before = live.probe("snapshot")
    assert before["counts"]["clinic_doseentry"] > 0 and before["symptoms"]
    file = tmp_path / "clinic.kwbak"
    manifest = make_backup(live, file)

    # What the manifest says about the file.
    assert manifest["engine"] == live.engine
    assert manifest["app_version"] == __version__
    assert manifest["format_version"] == backup.FORMAT_VERSION
    assert datetime.fromisoformat(str(manifest["created"])).tzinfo is not None
    assert manifest["tables"] == before["counts"]
    with tarfile.open(file) as tar:
        payload = tar.extractfile(str(manifest["payload"])).read()  # type: ignore[union-attr]
    assert hashlib.sha256(payload).hexdigest() == manifest["sha256"]
    assert len(payload) == manifest["size"]
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # health data: owner only
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files

    changed = live.probe("mutate")
    after_change = live.probe("snapshot")
    assert after_change["counts"]["clinic_doseentry"] == before["counts"]["clinic_doseentry"] + 1
    assert (
        after_change["counts"]["clinic_symptomreport"]
        == before["counts"]["clinic_symptomreport"] - 1
    )
    assert changed["deleted_symptom"] not in {s[0] for s in after_change["symptoms"]}

    # The target holds data: nothing happens without --yes.
    refused = live.kw("restore", str(file))
    assert refused.returncode == 2
    assert "--yes" in refused.stderr and "holds data" in refused.stderr
    assert live.probe("snapshot") == after_change

    restored = live.kw("restore", str(file), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "Migrations applied" in restored.stdout
    again = live.probe("snapshot")
    assert again == before  # row counts of every table and the exact records
    assert changed["added_dose"] not in {d[0] for d in again["doses"]}
    assert changed["deleted_symptom"] in {s[0] for s in again["symptoms"]}
    assert ["demo", "Riverside Pain Clinic (demo)"] in again["clinics"]

    # The restored database takes new records (ids and sequences came back too).
    live.probe("mutate")
    assert (
        live.probe("snapshot")["counts"]["clinic_doseentry"]
        == before["counts"]["clinic_doseentry"] + 1
    )

    # An empty database needs no --yes.
    fresh = new_target()
    into_empty = fresh.kw("restore", str(file))
    assert into_empty.returncode == 0, into_empty.stderr
    assert fresh.probe("snapshot") == before


def test_a_backup_is_checked_before_anything_is_touched(
    seeded: Callable[[], tuple[Target, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live, _ = seeded()
    good = tmp_path / "good.kwbak"
    make_backup(live, good)
    live.probe("mutate")
    state = live.probe("snapshot")["counts"]
    other_engine = "postgresql" if live.engine == "sqlite" else "sqlite"

    def flip_a_byte(data: bytes) -> bytes:
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]

    bad: dict[str, tuple[Path, str]] = {}

    def case(name: str, expected: str) -> Path:
        path = tmp_path / f"{name}.kwbak"
        bad[name] = (path, expected)
        return path

    rewrite(good, case("tampered", "SHA-256"), payload=flip_a_byte)
    rewrite(
        good,
        case("wrong-engine", f"backup of a {backup.ENGINE_NAMES[other_engine]} database"),
        manifest=lambda m: m.update(engine=other_engine),
    )
    rewrite(
        good, case("newer", "newer KratomWatch"), manifest=lambda m: m.update(format_version=99)
    )
    rewrite(
        good, case("foreign", "not a KratomWatch backup"), manifest=lambda m: m.update(format="x")
    )
    rewrite(good, case("bad-size", "damaged"), manifest=lambda m: m.update(size=1))
    case("garbage", "not a KratomWatch backup").write_bytes(os.urandom(4096))
    case("empty", "not a KratomWatch backup").write_bytes(b"")
    case("truncated", "damaged").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with tarfile.open(case("no-manifest", f"no {backup.MANIFEST}"), "w") as tar:
        tar.addfile(tarfile.TarInfo("something"), io.BytesIO(b""))
    bad["missing"] = (tmp_path / "missing.kwbak", "does not exist")
    bad["directory"] = (tmp_path, "is not a file")

    # Two from a real process: exit status 2 and one line on stderr.
    for name in ("tampered", "wrong-engine"):
        path, expected = bad[name]
        done = live.kw("restore", str(path), "--yes", timeout=60)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert done.stderr.startswith("kratomwatch: error: ") and expected in done.stderr
        assert "Traceback" not in done.stderr
    # All of them in this process (they fail before any database is opened), to be quick.
    with pytest.MonkeyPatch.context() as mp:
        for key in ("DATABASE_URL", "KRATOMWATCH_DATA_DIR"):
            if key in live.env:
                mp.setenv(key, live.env[key])
            else:
                mp.delenv(key, raising=False)
        for name, (path, expected) in bad.items():
            for args in (["--yes"], ["--verify-only"]):
                if name == "wrong-engine" and args == ["--verify-only"]:
                    continue  # checking a file does not depend on the engine in use
                code, err = in_process(capsys, "restore", str(path), *args)
                assert code == 2, (name, args, err)
                assert err.startswith("kratomwatch: error: ") and expected in err, (name, err)
    assert live.probe("snapshot")["counts"] == state  # none of them changed anything

    verified = live.kw("restore", "--verify-only", str(good))
    assert verified.returncode == 0, verified.stderr
    assert "complete and intact" in verified.stdout


def test_backup_errors_are_clear_and_leave_no_partial_file(
    seeded: Callable[[], tuple[Target, Any]], new_target: Callable[[], Target], tmp_path: Path
) -> None:
    target = new_target()
    out = tmp_path / "out.kwbak"
    out.write_bytes(b"an older backup")
    if target.engine == "sqlite":
        missing = target.kw("backup", "--out", str(out))
        assert missing.returncode == 2 and "no SQLite database" in missing.stderr
        Path(target.where).mkdir(parents=True)
        (Path(target.where) / "kratomwatch.sqlite3").write_bytes(b"not a database" * 100)
        broken = target.kw("backup", "--out", str(out))
        assert broken.returncode == 2 and "cannot copy the SQLite database" in broken.stderr
    else:
        unreachable = target.kw(
            "backup", "--out", str(out), DATABASE_URL="postgres://postgres@127.0.0.1:1/nope"
        )
        assert unreachable.returncode == 2 and "cannot connect" in unreachable.stderr
    assert out.read_bytes() == b"an older backup"  # a failed backup replaces nothing
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    target, _ = seeded()
    nowhere = target.kw("backup", "--out", str(tmp_path / "no" / "such" / "dir.kwbak"))
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    into_dir = target.kw("backup", "--out", str(tmp_path))
    assert into_dir.returncode == 2 and "is a directory" in into_dir.stderr
    assert target.kw("backup", "--out", str(out)).returncode == 0
    assert backup.verify(out).engine == target.engine


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file handling; the suite runs on PostgreSQL")
def test_sqlite_restore_refuses_a_database_in_use_and_replaces_a_damaged_one(
    seeded: Callable[[], tuple[Target, Any]], tmp_path: Path
) -> None:
    live, _ = seeded()
    file = tmp_path / "b.kwbak"
    make_backup(live, file)
    before = live.probe("snapshot")
    live.probe("mutate")
    db = Path(live.where) / "kratomwatch.sqlite3"

    holder = sqlite3.connect(db)  # e.g. a server still running
    try:
        holder.execute("SELECT count(*) FROM clinic_doseentry").fetchone()
        busy = live.kw("restore", str(file), "--yes")
    finally:
        holder.close()
    assert busy.returncode == 2 and "in use" in busy.stderr and "stop the server" in busy.stderr
    assert live.probe("snapshot") != before

    # The restore leaves a single database file behind: no stale WAL to replay.
    assert live.kw("restore", str(file), "--yes").returncode == 0
    assert live.probe("snapshot") == before
    assert not Path(f"{db}-journal").exists()

    # A damaged database (the reason to restore) is replaced, but only with --yes.
    db.write_bytes(b"\0" * 8192)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    refused = live.kw("restore", str(file))
    assert refused.returncode == 2 and "not a readable SQLite database" in refused.stderr
    assert live.kw("restore", str(file), "--yes").returncode == 0
    assert live.probe("snapshot") == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's tools; the suite runs on SQLite")
def test_pg_tools_get_the_password_from_the_environment_only(
    seeded: Callable[[], tuple[Target, Any]], tmp_path: Path
) -> None:
    target, _ = seeded()
    secret = "pw-that-must-not-leak"
    url = target.where.replace("://postgres@", f"://postgres:{secret}@", 1)
    assert secret in url, "the test expects DATABASE_URL to use the user postgres"
    # Shims on PATH record how pg_dump and pg_restore were called, then run the real ones.
    shims = tmp_path / "bin"
    shims.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        real = shutil.which(tool)
        shim = shims / tool
        shim.write_text(
            "#!/bin/sh\n"
            f'printf "%s\\n" "$@" > "{tmp_path}/{tool}.argv"\n'
            f'printf "%s" "$PGPASSWORD" > "{tmp_path}/{tool}.pw"\n'
            f'exec "{real}" "$@"\n'
        )
        shim.chmod(0o755)
    path = f"{shims}{os.pathsep}{os.environ['PATH']}"
    file = tmp_path / "b.kwbak"
    done = target.kw("backup", "--out", str(file), DATABASE_URL=url, PATH=path)
    assert done.returncode == 0, done.stderr
    restored = target.kw("restore", str(file), "--yes", DATABASE_URL=url, PATH=path)
    assert restored.returncode == 0, restored.stderr
    for tool in ("pg_dump", "pg_restore"):
        argv = (tmp_path / f"{tool}.argv").read_text()
        assert secret not in argv
        assert (tmp_path / f"{tool}.pw").read_text() == secret
    restore_argv = (tmp_path / "pg_restore.argv").read_text().split("\n")
    for flag in ("--clean", "--if-exists", "--no-owner", "--single-transaction"):
        assert flag in restore_argv
    assert "--format=custom" in (tmp_path / "pg_dump.argv").read_text().split("\n")
    assert secret not in done.stdout + done.stderr + restored.stdout + restored.stderr


def test_the_url_becomes_libpq_environment_without_the_password_in_arguments() -> None:
    target = backup.PgTarget.from_url(
        "postgres://kw%40user:p%40ss%20word@db.internal:6543/kw%20prod?sslmode=require&x=1"
    )
    assert (target.user, target.password, target.host, target.port, target.dbname) == (
        "kw@user",
        "p@ss word",
        "db.internal",
        6543,
        "kw prod",
    )
    assert "p@ss" not in repr(target)
    env = target.env({})
    assert env == {
        "PGHOST": "db.internal",
        "PGPORT": "6543",
        "PGUSER": "kw@user",
        "PGPASSWORD": "p@ss word",
        "PGDATABASE": "kw prod",
        "PGSSLMODE": "require",
    }
    assert target.dbname_arg() == "--dbname=dbname='kw prod'"
    assert backup.PgTarget.from_url("postgres://h/it's").dbname_arg() == "--dbname=dbname='it\\'s'"
    with pytest.raises(backup.BackupError, match="must name a database"):
        backup.PgTarget.from_url("postgres://host/")


def test_the_commands_are_listed() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "kratomwatch", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert out.returncode == 0
    assert " backup " in out.stdout and " restore " in out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(server: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server did not answer /api/health")


def test_restore_refuses_while_a_server_runs_even_idle(
    seeded: Callable[[], tuple[Target, Any]], tmp_path: Path
) -> None:
    live, _ = seeded()
    file = tmp_path / "b.kwbak"
    make_backup(live, file)
    live.probe("mutate")
    changed = live.probe("snapshot")
    port = free_port()
    server = live.popen(
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--no-migrate",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(server, f"http://127.0.0.1:{port}")
        time.sleep(1)  # idle: no request running
        busy = live.kw("restore", str(file), "--yes")
        assert busy.returncode == 2, busy.stdout
        assert "server is running" in busy.stderr and "restore again" in busy.stderr
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert live.probe("snapshot") == changed  # nothing was touched
    assert live.kw("restore", str(file), "--yes").returncode == 0


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's files; the suite runs on PostgreSQL")
def test_database_files_and_backups_are_owner_only_whatever_the_umask(
    new_target: Callable[[], Target], tmp_path: Path
) -> None:
    target = new_target()
    old = os.umask(0o022)
    try:
        assert target.kw("migrate").returncode == 0
        file = tmp_path / "b.kwbak"
        make_backup(target, file)
        Path(target.where, "kratomwatch.sqlite3").chmod(0o644)  # e.g. copied by hand
        assert target.kw("restore", str(file), "--yes").returncode == 0
    finally:
        os.umask(old)
    modes = {
        p.name: stat.S_IMODE(p.stat().st_mode)
        for p in [file, *Path(target.where).iterdir()]
        if p.is_file()
    }
    assert "kratomwatch.sqlite3" in modes
    assert modes == dict.fromkeys(modes, 0o600), modes
