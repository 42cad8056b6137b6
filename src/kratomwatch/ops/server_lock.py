"""A running server's claim on its database, which ``kratomwatch restore`` respects.

Every process that serves the app (``kratomwatch serve``'s gunicorn workers, the demo's
server, any WSGI server loading :mod:`kratomwatch.wsgi`) takes a *shared* lock on its database
when it starts and holds it until it exits, busy or idle. A restore takes the same lock
*exclusively* and holds it until the new database is in place, so it refuses to run while any
server is up, and a server does not start while a restore runs.

- **SQLite**: an ``flock`` on the file ``<database>.lock`` beside the database (made
  owner-only). The kernel drops the lock when the process ends, however it ends.
- **PostgreSQL**: a session-level advisory lock (:data:`PG_LOCK_KEY`) held by one connection
  that each server process keeps open for its lifetime (``application_name`` "kratomwatch
  server"), so servers on other hosts count too. A restore also refuses while any other
  connection to the database is open (``pg_stat_activity``): a command or a tool using it.

This module imports nothing from Django.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .files import private_file

# pg_advisory_lock key: the first 8 bytes of sha256(b"kratomwatch.server"), signed.
PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"kratomwatch.server").digest()[:8], "big", signed=True)
APPLICATION_NAME = "kratomwatch server"
SETTLE_SECONDS = 2.0

_held: list[Any] = []  # what this process holds while it serves: never closed


class InUse(Exception):
    """The database is in use (by a server, or by a restore); the message says by what."""


def lock_path(db_path: Path) -> Path:
    return Path(f"{db_path}.lock")


def _flock(db_path: Path, mode: int) -> int:
    fd = private_file(lock_path(db_path))
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise
    return fd


def hold_sqlite(db_path: Path) -> None:
    """Claim the SQLite database at ``db_path`` for this serving process, until it exits."""
    try:
        _held.append(_flock(db_path, fcntl.LOCK_SH))
    except BlockingIOError:
        raise InUse(
            f"a restore is replacing the database at {db_path}; start the server when it ends"
        ) from None


@contextlib.contextmanager
def sqlite_exclusive(db_path: Path) -> Iterator[None]:
    """Hold the SQLite database at ``db_path`` against servers for the duration of a restore."""
    try:
        fd = _flock(db_path, fcntl.LOCK_EX)
    except BlockingIOError:
        raise InUse(
            f"a KratomWatch server is running on the database at {db_path} (it may be idle); "
            "stop the server and any other kratomwatch command using it, then restore again"
        ) from None
    try:
        yield
    finally:
        os.close(fd)


def hold_postgres(cursor: Any, keep: Any) -> None:
    """Claim the PostgreSQL database for this serving process with the connection behind
    ``cursor`` (in autocommit mode), kept open in ``keep`` until the process exits."""
    cursor.execute("SET application_name = %s", [APPLICATION_NAME])
    cursor.execute("SELECT pg_catalog.pg_try_advisory_lock_shared(%s)", [PG_LOCK_KEY])
    if not cursor.fetchone()[0]:
        raise InUse("a restore is replacing the database; start the server when it ends")
    _held.append(keep)


def _other_sessions(cursor: Any) -> int:
    cursor.execute(
        "SELECT count(*) FROM pg_catalog.pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_catalog.pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def postgres_exclusive(cursor: Any, where: str) -> None:
    """Take the servers' lock exclusively with the connection behind ``cursor`` (held until
    that connection closes) and check that no other connection uses the database."""
    cursor.execute("SELECT pg_catalog.pg_try_advisory_lock(%s)", [PG_LOCK_KEY])
    row = cursor.fetchone()
    if not (row and row[0]):
        raise InUse(
            f"a KratomWatch server is running on the {where} (it may be idle); stop every "
            "server using it, then restore again"
        )
    # A session that has just disconnected stays listed until its backend has exited.
    deadline = time.monotonic() + SETTLE_SECONDS
    while (others := _other_sessions(cursor)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if others:
        raise InUse(
            f"the {where} is in use by {others} other connection(s); stop the servers and "
            "any other command or tool using it, then restore again"
        )
