"""Files that hold health data, or guard them, are created readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE = 0o600


def private_file(path: Path) -> int:
    """Open ``path`` for reading and writing, creating it owner-only (0600) whatever the
    umask; an existing file that others could read is made owner-only. Returns the file
    descriptor (the caller closes it)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE)
    if os.fstat(fd).st_mode & 0o077 and os.fstat(fd).st_uid == os.geteuid():
        os.fchmod(fd, PRIVATE)
    return fd


def ensure_private_database(name: str) -> None:
    """Create the SQLite database file ``name`` owner-only before SQLite opens it (SQLite gives
    its WAL and shared-memory files the same permissions as the database file); tighten an
    existing one.

    An existing database file is never opened here: closing any descriptor of a file drops
    every POSIX lock this process holds on it, the locks of SQLite's open connections
    included. Only a file made here, which no connection can have locked yet, is closed.
    """
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    except FileExistsError:
        pass
    except OSError:
        # No such folder, or not writable: SQLite's own open reports it as it always has.
        return
    for candidate in (path, *(Path(f"{name}{s}") for s in ("-wal", "-shm", "-journal"))):
        try:
            info = candidate.stat()
            if info.st_mode & 0o077 and info.st_uid == os.geteuid():
                candidate.chmod(PRIVATE)  # by name: no descriptor is opened
        except FileNotFoundError:
            continue
