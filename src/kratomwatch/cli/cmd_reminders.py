"""``kratomwatch send-reminders``: send due check-in reminders; safe to run every few minutes."""

from __future__ import annotations

import argparse

from .db import add_db_arguments, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "send-reminders", help="send due daily check-in reminders (exactly once a day)"
    )
    add_db_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from kratomwatch.clinic.reminders import send_due_reminders

    print(f"Sent {send_due_reminders()} reminder(s).")
    return 0
