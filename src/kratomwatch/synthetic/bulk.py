"""Fast bulk loading of many rows, for synthetic clinics and benchmarks.

``bulk_create`` builds a model instance per row, which is too slow for millions of rows.
:class:`BulkLoader` writes plain tuples instead: ``COPY`` on PostgreSQL and ``executemany``
on SQLite. Values must already be in the database's own form (see the ``*_value`` helpers),
and primary keys are assigned here, so rows of one table can refer to rows of another
before anything is written. A load must be the only writer of the tables it fills.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Model


class BulkLoader:
    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        if self.vendor not in ("sqlite", "postgresql"):
            raise ValueError(f"bulk loading supports SQLite and PostgreSQL, not {self.vendor}")
        self._next: dict[str, int] = {}
        self.now = self.datetime_value(datetime.now(UTC))

    # -- values in the database's form -------------------------------------------------
    def datetimes(self, epoch_seconds: np.ndarray) -> list[str]:
        """UTC timestamps (seconds since the epoch) as this database stores them."""
        text = np.datetime_as_string(epoch_seconds.astype("datetime64[s]"), unit="s")
        suffix = "+00" if self.vendor == "postgresql" else ""
        return [s.replace("T", " ") + suffix for s in text.tolist()]

    def datetime_value(self, value: datetime) -> str:
        value = value.astimezone(UTC).replace(tzinfo=None)
        return f"{value.isoformat(' ')}+00" if self.vendor == "postgresql" else str(value)

    @staticmethod
    def uuids(rng: np.random.Generator, n: int) -> list[str]:
        """``n`` version-4 UUIDs drawn from ``rng`` (reproducible), as 32 hex digits."""
        raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        return [row.tobytes().hex() for row in raw]

    @staticmethod
    def uuid_of(hex32: str) -> uuid.UUID:
        return uuid.UUID(hex=hex32)

    @staticmethod
    def json_value(value: object) -> str:
        return json.dumps(value, separators=(", ", ": "))

    # -- keys and writing ----------------------------------------------------------------
    def allocate(self, model: type[Model], n: int) -> int:
        """Reserve ``n`` consecutive primary keys of ``model``; returns the first."""
        table = model._meta.db_table
        if table not in self._next:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
                self._next[table] = int(cursor.fetchone()[0]) + 1
        first = self._next[table]
        self._next[table] += n
        return first

    def write(
        self, model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        table = model._meta.db_table
        names = ", ".join(f'"{c}"' for c in columns)
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            raw = connection.connection
            raw.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)  # noqa: S608

    def finish(self) -> None:
        """Move PostgreSQL's identity sequences past the keys assigned here, and refresh the
        planner's statistics of the tables filled (autovacuum may be slow to, or off)."""
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in self._next:
                highest = f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"'  # noqa: S608
                sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({highest}), false)"
                cursor.execute(sql, [f'"{table}"'])
            cursor.execute("ANALYZE")
