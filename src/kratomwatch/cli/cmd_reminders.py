"""``kratomwatch send-reminders``: send due check-in reminders; safe to run every few minutes."""

from __future__ import annotations

import argparse

from .db import SetupError, add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "send-reminders", help="send due daily check-in reminders (exactly once a day)"
    )
    add_db_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        setup_django(args)
    except SetupError as exc:
        return fail(str(exc))
    from kratomwatch.clinic.reminders import send_due_reminders

    print(f"Sent {send_due_reminders()} reminder(s).")
    return 0
