"""``kratomwatch migrate``: create or update the database schema."""

from __future__ import annotations

import argparse

from .db import add_db_arguments, migrate, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("migrate", help="create or update the database schema")
    add_db_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    where = setup_django(args, creates_database=True)
    migrate(verbosity=1)
    print(f"Database ready: {where}")
    return 0
