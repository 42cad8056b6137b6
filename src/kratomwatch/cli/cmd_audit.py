"""``kratomwatch audit verify``: check that the audit trail's hash chain is intact.

Exit status 0 when every event is where it was written and as it was written, 1 when the
chain is broken (the first problem is printed with its seq number), 2 when the database
cannot be used.
"""

from __future__ import annotations

import argparse

from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "audit",
        help="check the audit trail",
        description="The audit trail records who viewed or changed patient data. Its events "
        "are chained by SHA-256 hashes, so that editing, deleting or inserting an event "
        "outside the application can be detected.",
    )
    actions = parser.add_subparsers(dest="audit_command", metavar="{verify}", required=True)
    verify = actions.add_parser(
        "verify",
        help="check that no audit event was edited, deleted or inserted",
        description="Walk every audit event in order, recompute its hash and check its link "
        "to the event before. Prints 'OK: N events, chain intact' and the last event's seq "
        "and hash (exit 0), or the first problem found (exit 1). Removing the most recent "
        "events leaves an intact but shorter chain: compare the last seq and hash with a "
        "copy kept elsewhere to detect that.",
    )
    add_db_arguments(verify)
    verify.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    setup_django(args)
    from django.db import DatabaseError

    from kratomwatch.clinic.audit_chain import verify_chain
    from kratomwatch.interop.cli_support import database_problem

    try:
        report = verify_chain()
    except DatabaseError as exc:
        return fail(database_problem(exc))
    if report.problem is not None:
        print(f"BROKEN at seq {report.problem.seq}: {report.problem.message}")
        intact = report.events - 1
        print(
            "1 event before it is intact."
            if intact == 1
            else f"{intact} events before it are intact."
        )
        return 1
    print(f"OK: {report.events} events, chain intact")
    if report.last_seq is not None:
        print(f"Last event: seq {report.last_seq}, hash {report.last_hash}")
    return 0
