"""Django's SQLite backend, creating the database file owner-only (see ``base``)."""
