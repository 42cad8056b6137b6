"""Django's SQLite backend, except that the database file is created owner-only (0600)
whatever the umask, before SQLite opens it: it holds health data."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base

from kratomwatch.ops.files import ensure_private_database


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        ensure_private_database(str(conn_params["database"]))
        return super().get_new_connection(conn_params)
