"""``kratomwatch send-reminders``: send due check-in reminders; safe to run every few minutes.
``kratomwatch send-digests``: send clinicians' daily digests of new findings; safe to run
every few minutes too (once per clinician per day)."""

from __future__ import annotations

import argparse

from .db import add_db_arguments, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "send-reminders", help="send due daily check-in reminders (exactly once a day)"
    )
    add_db_arguments(parser)
    parser.set_defaults(func=run)
    digests = sub.add_parser(
        "send-digests", help="send clinicians' daily digests of new findings (once a day)"
    )
    add_db_arguments(digests)
    digests.set_defaults(func=run_digests)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from kratomwatch.clinic.reminders import send_due_reminders

    print(f"Sent {send_due_reminders()} reminder(s).")
    return 0


def run_digests(args: argparse.Namespace) -> int:
    setup_django(args)
    from kratomwatch.clinic.alerts import send_daily_digests

    print(f"Sent {send_daily_digests()} digest(s).")
    return 0
