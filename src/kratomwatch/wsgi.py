import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratomwatch.settings")
application = get_wsgi_application()


def _claim_database() -> None:
    """Hold the database against ``kratomwatch restore`` while this process serves
    (:mod:`kratomwatch.ops.server_lock`)."""
    from pathlib import Path

    from django.db import connections

    from kratomwatch.ops import server_lock

    if connections["default"].vendor == "sqlite":
        server_lock.hold_sqlite(Path(connections["default"].settings_dict["NAME"]))
        return
    keeper = connections.create_connection("default")  # not closed after requests
    keeper.ensure_connection()
    with keeper.cursor() as cursor:
        server_lock.hold_postgres(cursor, keeper)


_claim_database()
