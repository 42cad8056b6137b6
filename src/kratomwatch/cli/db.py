"""Shared database options: every CLI command that touches the database uses these."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path


class SetupError(Exception):
    """The configuration is unusable; the message says why."""


def add_db_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="directory of the SQLite database (default: $KRATOMWATCH_DATA_DIR or "
        "./kratomwatch-data); ignored when DATABASE_URL is set",
    )


def ensure_demo_secret(data_dir: Path) -> None:
    """Give a demo a persistent random secret key unless one is configured."""
    if os.environ.get("KRATOMWATCH_SECRET_KEY"):
        return
    path = data_dir / "demo-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    os.environ["KRATOMWATCH_SECRET_KEY"] = path.read_text().strip()


def setup_django(
    args: argparse.Namespace,
    *,
    demo_secret: bool = False,
    serves_http: bool = False,
    creates_database: bool = False,
) -> str:
    """Configure and start Django from the environment and ``--data-dir``.

    Commands that do not serve HTTP sign nothing a browser keeps, so without a configured
    secret key they run with a random one for this process only. A server (``serve``) needs
    ``KRATOMWATCH_SECRET_KEY``; the demo keeps a generated key in its data directory.

    Only the commands that create the database (``creates_database``: migrate, demo, synth,
    serve) make a missing SQLite data directory and file. Every other command works on an
    existing database: given a directory that holds none (a mistyped ``--data-dir``), it
    stops with :class:`SetupError` naming the directory, and nothing is created there.
    Returns a one-line description of the database in use.
    """
    from kratomwatch import config

    if getattr(args, "data_dir", None):
        os.environ["KRATOMWATCH_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    env = config.env_dict()
    try:
        choice = config.database_choice(env)
        data_dir = config.data_dir(env)
    except config.ConfigError as exc:
        raise SetupError(str(exc)) from exc
    if (choice.engine == "sqlite" and creates_database) or demo_secret:
        data_dir.mkdir(parents=True, exist_ok=True)
    if demo_secret:
        ensure_demo_secret(data_dir)
    elif not serves_http and not os.environ.get("KRATOMWATCH_SECRET_KEY"):
        os.environ["KRATOMWATCH_SECRET_KEY"] = secrets.token_urlsafe(48)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratomwatch.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise SetupError(str(exc)) from exc
    if not creates_database:
        _require_existing_database()
    return choice.describe()


def default_base_url(address: str) -> str | None:
    """Unless ``KRATOMWATCH_BASE_URL`` is set, make links in e-mails (invitations, password
    resets, reminders) point where this server answers, ``http://<address>``, rather than to
    the built-in default. Returns the address used when it was not set, else ``None``."""
    if os.environ.get("KRATOMWATCH_BASE_URL"):
        return None
    url = f"http://{address}"
    os.environ["KRATOMWATCH_BASE_URL"] = url
    return url


def _require_existing_database() -> None:
    """Stop before SQLite creates an empty database file where none was expected.

    Checks the database this process will use (the one in ``--data-dir``, or the one Django
    was already given when it runs inside another program), before any connection opens it.
    """
    from django.db import connection

    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    path = Path(connection.settings_dict["NAME"])
    if path.is_file():
        return
    where = path.parent
    raise SetupError(
        f"there is no KratomWatch database in {where} "
        + ("(no such directory)" if not where.exists() else f"(no {path.name})")
        + ": check --data-dir or KRATOMWATCH_DATA_DIR; `kratomwatch migrate --data-dir "
        f"{where}` creates one"
    )


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def fail(message: str) -> int:
    print(f"kratomwatch: error: {message}", file=sys.stderr)
    return 2
