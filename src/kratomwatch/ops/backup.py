"""Backups and restores of the KratomWatch database, for SQLite and PostgreSQL.

A backup is one uncompressed tar file with two members:

``manifest.json``
    format name and version, engine, app version, creation time (UTC), the payload's name,
    size and SHA-256, and the number of rows of every table at the moment of the copy.
``database.sqlite3`` (SQLite) or ``database.pgdump`` (PostgreSQL)
    SQLite: a copy made with SQLite's online backup API in one step, that is inside one read
    transaction, so it is a consistent snapshot even while the app writes (WAL lets writers
    go on beside the reader). The copy is switched to a rollback journal so that the file is
    complete on its own.
    PostgreSQL: ``pg_dump --format=custom``, run in a snapshot exported by the transaction
    that counted the rows, so the counts in the manifest describe exactly the dump.

Backups are written under a temporary name in the destination directory, flushed to disk and
renamed, so nobody ever sees half a backup under the final name. A restore first extracts and
checks the payload (checksum, engine, and for SQLite an integrity check and the row counts),
and only then touches the target database. Connection settings and passwords for the
PostgreSQL tools go through the environment (``PGPASSWORD``…), never the command line.

This module imports nothing from Django: the CLI runs the migrations after a restore.

About 750 lines: SQLite and PostgreSQL backups share the archive format, its manifest
and the checks of a restore; each engine's part is a few functions and reads best against
the other's.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from kratomwatch import __version__

from . import server_lock

if TYPE_CHECKING:
    import psycopg

FORMAT = "kratomwatch-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOADS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Tables that every migrated database fills by itself: rows there are not anybody's data.
BOOKKEEPING_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})
_CHUNK = 1 << 20
_MAX_MANIFEST = 1 << 20


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


class RestoreRefused(BackupError):
    """The target database holds data and replacing it was not confirmed."""


@dataclass(frozen=True)
class Manifest:
    engine: str
    sha256: str
    size: int
    tables: dict[str, int]
    created: str
    app_version: str = __version__
    format_version: int = FORMAT_VERSION

    @property
    def payload(self) -> str:
        return PAYLOADS[self.engine]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "format_version": self.format_version,
            "engine": self.engine,
            "app_version": self.app_version,
            "created": self.created,
            "payload": self.payload,
            "size": self.size,
            "sha256": self.sha256,
            "tables": self.tables,
        }
        return (json.dumps(data, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes, source: str) -> Manifest:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BackupError(f"{source} is damaged: its {MANIFEST} is not JSON ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError(f"{source} is not a KratomWatch backup (its {MANIFEST} is foreign)")
        version = data.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise BackupError(f"{source} is damaged: bad format_version {version!r}")
        if version > FORMAT_VERSION:
            raise BackupError(
                f"{source} was made by a newer KratomWatch (backup format {version}; this "
                f"version reads format {FORMAT_VERSION}); restore it with that version"
            )
        engine, sha, size = data.get("engine"), data.get("sha256"), data.get("size")
        tables, created, app = data.get("tables"), data.get("created"), data.get("app_version")
        problems = []
        if engine not in PAYLOADS:
            problems.append(f"unknown engine {engine!r}")
        if not (isinstance(sha, str) and len(sha) == 64):
            problems.append("no SHA-256")
        if not (isinstance(size, int) and size >= 0):
            problems.append("no size")
        if not (
            isinstance(tables, dict)
            and all(isinstance(k, str) and isinstance(v, int) for k, v in tables.items())
        ):
            problems.append("no table counts")
        if not isinstance(created, str) or not isinstance(app, str):
            problems.append("no creation time or app version")
        if problems:
            raise BackupError(f"{source} is damaged: its {MANIFEST} has " + ", ".join(problems))
        assert isinstance(engine, str) and isinstance(sha, str) and isinstance(size, int)
        assert isinstance(tables, dict) and isinstance(created, str) and isinstance(app, str)
        return cls(
            engine=engine,
            sha256=sha,
            size=size,
            tables=tables,
            created=created,
            app_version=app,
            format_version=version,
        )

    def describe(self) -> str:
        return (
            f"{ENGINE_NAMES[self.engine]} backup made {self.created} by KratomWatch "
            f"{self.app_version}: {self.rows} rows in {len(self.tables)} tables"
        )


# --- files --------------------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (the directory entry is data too)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextlib.contextmanager
def _atomic_output(out: Path) -> Iterator[Path]:
    """Yield a temporary file beside ``out``; when the block succeeds, it becomes ``out``."""
    if out.is_dir():
        raise BackupError(f"{out} is a directory; give the name of the backup file to write")
    parent = out.parent
    if not parent.is_dir():
        raise BackupError(f"the directory {parent} does not exist")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=parent)
    except OSError as exc:
        raise BackupError(f"cannot write in {parent}: {exc}") from exc
    os.close(fd)  # mkstemp made it readable by its owner only: backups hold health data
    tmp = Path(name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, out)
        _fsync_dir(parent)
    finally:
        tmp.unlink(missing_ok=True)


def _write_archive(dest: Path, manifest: Manifest, payload: Path) -> None:
    now = int(time.time())

    def add(tar: tarfile.TarFile, name: str, fileobj: IO[bytes], size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, now, 0o600
        tar.addfile(info, fileobj)

    raw = manifest.to_json()
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        add(tar, MANIFEST, io.BytesIO(raw), len(raw))
        with payload.open("rb") as fh:
            add(tar, manifest.payload, fh, manifest.size)


def _manifest(engine: str, payload: Path, tables: dict[str, int]) -> Manifest:
    sha, size = _sha256(payload)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return Manifest(engine=engine, sha256=sha, size=size, tables=tables, created=created)


@contextlib.contextmanager
def _archive(path: Path) -> Iterator[tuple[tarfile.TarFile, Manifest]]:
    """Open a backup and read its manifest; every way of failing is a :class:`BackupError`."""
    if not path.exists():
        raise BackupError(f"the backup file {path} does not exist")
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{path} is not a KratomWatch backup ({exc})") from exc
    with tar:
        try:
            member = tar.getmember(MANIFEST)
            if not member.isfile() or member.size > _MAX_MANIFEST:
                raise BackupError(f"{path} is damaged: {MANIFEST} is not a small file")
            fh = tar.extractfile(member)
            raw = fh.read() if fh is not None else b""
        except KeyError as exc:
            raise BackupError(f"{path} is not a KratomWatch backup (no {MANIFEST})") from exc
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"{path} is damaged: {exc}") from exc
        yield tar, Manifest.from_json(raw, str(path))


def _extract_payload(tar: tarfile.TarFile, manifest: Manifest, path: Path, dest: Path) -> None:
    """Copy the payload to ``dest`` (flushed to disk), checking its size and SHA-256."""
    try:
        member = tar.getmember(manifest.payload)
    except KeyError as exc:
        raise BackupError(f"{path} is damaged: it has no {manifest.payload}") from exc
    if not member.isfile() or member.size != manifest.size:
        raise BackupError(
            f"{path} is damaged: {manifest.payload} has {member.size} bytes, "
            f"the manifest says {manifest.size}"
        )
    digest = hashlib.sha256()
    src = tar.extractfile(member)
    if src is None:
        raise BackupError(f"{path} is damaged: {manifest.payload} is not a file")
    try:
        with src, dest.open("wb") as out:
            while True:
                try:
                    chunk = src.read(_CHUNK)
                except (tarfile.TarError, OSError) as exc:
                    raise BackupError(
                        f"{path} is damaged: {manifest.payload} cannot be read ({exc})"
                    ) from exc
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise BackupError(f"cannot write {dest}: {exc}") from exc
    if digest.hexdigest() != manifest.sha256:
        raise BackupError(
            f"{path} is damaged: the SHA-256 of {manifest.payload} does not match its manifest"
        )


def _require_engine(manifest: Manifest, engine: str, path: Path) -> None:
    if manifest.engine != engine:
        why = "DATABASE_URL is set" if engine == "postgresql" else "DATABASE_URL is not set"
        raise BackupError(
            f"{path} is a backup of a {ENGINE_NAMES[manifest.engine]} database, but this "
            f"installation uses {ENGINE_NAMES[engine]} ({why}); a backup restores only into "
            "the engine it was made from"
        )


def _compare_counts(expected: Mapping[str, int], found: Mapping[str, int], where: str) -> None:
    wrong = [
        f"{table}: {found.get(table, 'missing')} rows, the backup has {n}"
        for table, n in sorted(expected.items())
        if found.get(table) != n
    ]
    if wrong:
        raise BackupError(f"{where} does not match the backup's manifest: " + "; ".join(wrong))


def describe_data(counts: Mapping[str, int]) -> str | None:
    """What a database holds besides bookkeeping, as a phrase; ``None`` when it holds nothing."""
    rows = {t: n for t, n in counts.items() if n and t not in BOOKKEEPING_TABLES}
    if not rows:
        return None
    return f"{sum(rows.values())} rows in {len(rows)} tables"


def _refuse(held: str, where: str) -> RestoreRefused:
    return RestoreRefused(
        f"{where} holds data ({held}); restoring replaces all of it. "
        "Run again with --yes to replace it."
    )


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_open(path: Path, timeout: float = 20.0) -> sqlite3.Connection:
    """Open an existing database file; never creates one."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout)


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table (SQLite's own tables left out)."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]
    counts = {}
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]  # noqa: S608 - a quoted table name from sqlite_master
    return counts


def _sqlite_check(conn: sqlite3.Connection, what: str) -> None:
    result = [row[0] for row in conn.execute("PRAGMA quick_check")]
    if result != ["ok"]:
        raise BackupError(f"{what} fails SQLite's integrity check: {'; '.join(result[:5])}")


def backup_sqlite(db_path: Path, out: Path) -> Manifest:
    """Write a consistent copy of the SQLite database at ``db_path`` to the backup ``out``."""
    if not db_path.is_file():
        raise BackupError(f"there is no SQLite database at {db_path}")
    out = out.expanduser().absolute()
    live = {Path(f"{db_path.resolve()}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")}
    if out.resolve() in live:
        raise BackupError(f"{out} is the live database; write the backup somewhere else")
    with (
        _atomic_output(out) as tmp,
        tempfile.TemporaryDirectory(prefix=".kratomwatch-backup-", dir=out.parent) as stage,
    ):
        copy = Path(stage) / PAYLOADS["sqlite"]
        try:
            with (
                contextlib.closing(_sqlite_open(db_path)) as src,
                contextlib.closing(sqlite3.connect(copy)) as dst,
            ):
                # All pages in one step: one read transaction, so one consistent snapshot.
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=DELETE")  # the copy is complete on its own
                _sqlite_check(dst, f"the copy of {db_path}")
                tables = sqlite_counts(dst)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot copy the SQLite database at {db_path}: {exc}") from exc
        _fsync_file(copy)
        manifest = _manifest("sqlite", copy, tables)
        _write_archive(tmp, manifest, copy)
    return manifest


def sqlite_holds(db_path: Path) -> str | None:
    """What the SQLite database at ``db_path`` holds, or ``None`` if it is absent or empty."""
    if not db_path.exists():
        return None
    try:
        with contextlib.closing(_sqlite_open(db_path)) as conn:
            return describe_data(sqlite_counts(conn))
    except sqlite3.Error as exc:
        if _busy(exc):
            raise _in_use(db_path, exc) from exc
        return f"a file that is not a readable SQLite database: {exc}"


def _busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def _in_use(db_path: Path, exc: object) -> BackupError:
    return BackupError(
        f"the database at {db_path} is in use ({exc}); stop the server and any other "
        "kratomwatch command using it, then restore again"
    )


@contextlib.contextmanager
def _not_served(lock: contextlib.AbstractContextManager[None]) -> Iterator[None]:
    """Hold ``lock`` (one of :mod:`.server_lock`), its refusal becoming a :class:`BackupError`."""
    try:
        with lock:
            yield
    except server_lock.InUse as exc:
        raise BackupError(str(exc)) from None


def _swap_in(new: Path, db_path: Path) -> None:
    """Put ``new`` in place of ``db_path`` in one rename, leaving no old WAL to be replayed.

    The old database is first switched out of WAL mode, which SQLite allows only when no other
    connection has it open (so a running server is detected rather than corrupted), and then
    locked exclusively until the new file is in place.
    """
    old: sqlite3.Connection | None = None
    try:
        if db_path.exists():
            old = _sqlite_open(db_path, timeout=2)
            try:
                # Checkpoints and removes the WAL; refused while another connection is open.
                mode = old.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
                if mode != "delete":
                    raise _in_use(db_path, f"journal mode stays {mode}")
                old.execute("PRAGMA locking_mode=EXCLUSIVE")
                old.execute("BEGIN EXCLUSIVE")
            except sqlite3.Error as exc:
                if _busy(exc):
                    raise _in_use(db_path, exc) from exc
                # Not a readable database (a damaged one being replaced): nothing to lock.
                old.close()
                old = None
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(new, db_path)
        _fsync_dir(db_path.parent)
    finally:
        if old is not None:
            old.close()


def _prepare_sqlite_copy(tar: tarfile.TarFile, manifest: Manifest, path: Path, dest: Path) -> None:
    _extract_payload(tar, manifest, path, dest)
    try:
        with contextlib.closing(_sqlite_open(dest)) as conn:
            _sqlite_check(conn, f"the database in {path}")
            _compare_counts(manifest.tables, sqlite_counts(conn), f"the database in {path}")
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is damaged: its database cannot be read ({exc})") from exc


def restore_sqlite(path: Path, db_path: Path, *, replace: bool) -> Manifest:
    """Replace the SQLite database at ``db_path`` with the backup ``path``.

    Nothing is changed unless the backup is whole and of SQLite, and, when the target holds
    data, ``replace`` is true. The caller must have closed its own connections to ``db_path``.
    """
    path = path.expanduser()
    with _archive(path) as (tar, manifest):
        _require_engine(manifest, "sqlite", path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{db_path.name}.restore-", dir=db_path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            _prepare_sqlite_copy(tar, manifest, path, tmp)
            with _not_served(server_lock.sqlite_exclusive(db_path)):
                held = sqlite_holds(db_path)
                if held and not replace:
                    raise _refuse(held, f"the database at {db_path}")
                tmp.chmod(0o600)  # health data: owner only, whatever the old file's mode
                _swap_in(tmp, db_path)
        finally:
            tmp.unlink(missing_ok=True)
    return manifest


# --- PostgreSQL ---------------------------------------------------------------------------

# Connection parameters a DATABASE_URL may carry in its query string, with their libpq variable.
_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


@dataclass(frozen=True)
class PgTarget:
    """A PostgreSQL database named by a URL, as libpq parameters."""

    dbname: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_url(cls, url: str) -> PgTarget:
        parts = urlsplit(url)
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise BackupError("DATABASE_URL must name a database (postgres://host/NAME)")
        try:
            port = parts.port
        except ValueError as exc:
            raise BackupError(f"DATABASE_URL has a bad port: {exc}") from exc
        return cls(
            dbname=dbname,
            host=unquote(parts.hostname) if parts.hostname else None,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            params=tuple((k, v) for k, v in parse_qsl(parts.query) if k in _QUERY_ENV),
        )

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for pg_dump/pg_restore: the connection, password included."""
        env = dict(os.environ if base is None else base)
        pairs = {
            "PGHOST": self.host,
            "PGPORT": str(self.port) if self.port else None,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
        }
        env.update({k: v for k, v in pairs.items() if v is not None})
        env.update({_QUERY_ENV[k]: v for k, v in self.params})
        return env

    def dbname_arg(self) -> str:
        """``--dbname`` for the tools: only the name, quoted as a conninfo value."""
        escaped = self.dbname.replace("\\", "\\\\").replace("'", "\\'")
        return f"--dbname=dbname='{escaped}'"

    def connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"dbname": self.dbname, "connect_timeout": 10}
        for key in ("host", "port", "user", "password"):
            if getattr(self, key) is not None:
                kwargs[key] = getattr(self, key)
        kwargs.update(dict(self.params))
        return kwargs

    def describe(self) -> str:
        return (
            f"PostgreSQL database {self.dbname!r} on {self.host or 'localhost'}:{self.port or 5432}"
        )


def _pg_connect(target: PgTarget) -> psycopg.Connection[Any]:
    import psycopg

    try:
        return psycopg.connect(**target.connect_kwargs())
    except psycopg.Error as exc:
        raise BackupError(f"cannot connect to the {target.describe()}: {exc}") from exc


def pg_counts(cur: psycopg.Cursor[Any]) -> dict[str, int]:
    """Rows per table in every user schema (``public`` tables by their bare name)."""
    from psycopg import sql

    cur.execute(
        "SELECT schemaname, tablename FROM pg_catalog.pg_tables "
        "WHERE schemaname <> 'information_schema' AND schemaname NOT LIKE 'pg\\_%' "
        "ORDER BY 1, 2"
    )
    counts = {}
    for schema, table in cur.fetchall():
        cur.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
        row = cur.fetchone()
        counts[table if schema == "public" else f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL client tools "
            "(the server's major version or newer)"
        )
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        detail = " / ".join(lines[-5:]) or "no message"
        raise BackupError(f"{what} failed (exit status {proc.returncode}): {detail}")


def pg_dump_command(
    target: PgTarget, snapshot: str, dest: Path
) -> tuple[list[str], dict[str, str]]:
    argv = [
        _tool("pg_dump"),
        "--format=custom",
        "--no-password",
        f"--snapshot={snapshot}",
        f"--file={dest}",
        target.dbname_arg(),
    ]
    return argv, target.env()


def pg_restore_command(target: PgTarget, dump: Path) -> tuple[list[str], dict[str, str]]:
    argv = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",  # all or nothing: a failed restore leaves the old data
        "--exit-on-error",
        "--no-password",
        target.dbname_arg(),
        str(dump),
    ]
    return argv, target.env()


def backup_postgres(url: str, out: Path) -> Manifest:
    """``pg_dump --format=custom`` of the database at ``url`` into the backup ``out``."""
    import psycopg

    target = PgTarget.from_url(url)
    _tool("pg_dump")
    out = out.expanduser().absolute()
    with (
        _atomic_output(out) as tmp,
        tempfile.TemporaryDirectory(prefix=".kratomwatch-backup-", dir=out.parent) as stage,
    ):
        dump = Path(stage) / PAYLOADS["postgresql"]
        try:
            with contextlib.closing(_pg_connect(target)) as conn:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_catalog.pg_export_snapshot()")
                    row = cur.fetchone()
                    assert row is not None
                    tables = pg_counts(cur)
                    # pg_dump joins this transaction's snapshot, which stays open meanwhile.
                    argv, env = pg_dump_command(target, str(row[0]), dump)
                    _run(argv, env, "pg_dump")
                conn.rollback()
        except psycopg.Error as exc:
            raise BackupError(f"cannot back up the {target.describe()}: {exc}") from exc
        _fsync_file(dump)
        manifest = _manifest("postgresql", dump, tables)
        _write_archive(tmp, manifest, dump)
    return manifest


def postgres_holds(target: PgTarget) -> str | None:
    import psycopg

    try:
        with contextlib.closing(_pg_connect(target)) as conn, conn.cursor() as cur:
            return describe_data(pg_counts(cur))
    except psycopg.Error as exc:
        raise BackupError(f"cannot read the {target.describe()}: {exc}") from exc


def restore_postgres(path: Path, url: str, *, replace: bool) -> Manifest:
    """``pg_restore`` the backup ``path`` into the database at ``url``, in one transaction.

    Nothing is changed unless the backup is whole and of PostgreSQL, and, when the target
    holds data, ``replace`` is true.
    """
    import psycopg

    path = path.expanduser()
    target = PgTarget.from_url(url)
    _tool("pg_restore")
    with (
        _archive(path) as (tar, manifest),
        tempfile.TemporaryDirectory(prefix="kratomwatch-restore-") as stage,
    ):
        _require_engine(manifest, "postgresql", path)
        dump = Path(stage) / manifest.payload
        _extract_payload(tar, manifest, path, dump)
        # The servers' lock is held by this connection until the data are in place.
        with contextlib.closing(_pg_connect(target)) as guard:
            guard.autocommit = True
            try:
                with guard.cursor() as cur:
                    server_lock.postgres_exclusive(cur, target.describe())
            except server_lock.InUse as exc:
                raise BackupError(str(exc)) from None
            except psycopg.Error as exc:
                raise BackupError(f"cannot read the {target.describe()}: {exc}") from exc
            held = postgres_holds(target)
            if held and not replace:
                raise _refuse(held, f"the {target.describe()}")
            argv, env = pg_restore_command(target, dump)
            _run(argv, env, "pg_restore")
    try:
        with contextlib.closing(_pg_connect(target)) as conn, conn.cursor() as cur:
            found = pg_counts(cur)
    except psycopg.Error as exc:
        raise BackupError(f"cannot read the restored {target.describe()}: {exc}") from exc
    _compare_counts(manifest.tables, found, f"the restored {target.describe()}")
    return manifest


# --- verification without restoring ----------------------------------------------------------


def verify(path: Path) -> Manifest:
    """Check a backup fully without touching any database; return its manifest."""
    path = path.expanduser()
    with (
        _archive(path) as (tar, manifest),
        tempfile.TemporaryDirectory(prefix="kratomwatch-verify-") as stage,
    ):
        payload = Path(stage) / manifest.payload
        if manifest.engine == "sqlite":
            _prepare_sqlite_copy(tar, manifest, path, payload)
        else:
            _extract_payload(tar, manifest, path, payload)
            _run([_tool("pg_restore"), "--list", str(payload)], dict(os.environ), "pg_restore")
    return manifest
