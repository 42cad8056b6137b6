"""``kratomwatch demo``: create or reuse a synthetic demo clinic and serve it locally."""

from __future__ import annotations

import argparse

from .db import add_db_arguments, default_base_url, fail, migrate, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="seed a synthetic demo clinic and serve it on 127.0.0.1",
        description="Create (or reuse) a demo database with a synthetic clinic, print the demo "
        "logins and serve the app on 127.0.0.1. All data are invented.",
    )
    add_db_arguments(parser)
    parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    parser.add_argument(
        "--seed-only", action="store_true", help="create the demo database and exit without serving"
    )
    parser.add_argument("--seed", type=int, default=20261124, help="random seed of the demo data")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        return fail(f"--port must be between 1 and 65535 (got {args.port})")
    default_base_url(f"127.0.0.1:{args.port}")  # links in e-mails point at this demo
    where = setup_django(args, demo_secret=True, creates_database=True)
    from rich.console import Console
    from rich.table import Table

    from kratomwatch.synthetic.seed import seed_demo_clinic

    console = Console()
    console.print(f"Database: {where}")
    migrate()
    with console.status("Seeding the demo clinic…"):
        summary = seed_demo_clinic(seed=args.seed)
    console.print(
        ("Created" if summary.created else "Reusing") + f" demo clinic: {summary.clinic.name}"
    )
    table = Table(title=f"Demo logins (password for all: {summary.password})")
    for column in ("username", "role", "story"):
        table.add_column(column)
    for login in summary.logins:
        table.add_row(login.username, login.role, login.story)
    console.print(table)
    if args.seed_only:
        return 0
    from django.core.management import call_command

    from kratomwatch.clinic.bulk_queue import BulkExportWorker
    from kratomwatch.clinic.screening_queue import ScreeningWorker

    ScreeningWorker().start()
    BulkExportWorker().start()
    console.print(f"Serving on http://127.0.0.1:{args.port}/  (Ctrl-C to stop)")
    call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False, use_threading=True)
    return 0
