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
    its WAL and shared-memory files the same permissions as the database file)."""
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    os.close(private_file(Path(name)))
    for suffix in ("-wal", "-shm", "-journal"):
        companion = Path(f"{name}{suffix}")
        if companion.exists():
            os.close(private_file(companion))
