"""``kratomwatch purge-expired``: erase records kept only for the retention duty once it ends."""

from __future__ import annotations

import argparse

from .db import add_db_arguments, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "purge-expired",
        help="erase the clinical records of erased patients whose retention period has ended",
    )
    add_db_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from kratomwatch.clinic.actions.erasure import purge_expired

    print(f"Erased the records of {purge_expired()} patient(s) whose retention period ended.")
    return 0
