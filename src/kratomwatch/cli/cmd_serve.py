"""``kratomwatch serve``: run the app with gunicorn for real use."""

from __future__ import annotations

import argparse
import os
import sys

from .db import add_db_arguments, default_base_url, fail, migrate, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="serve the app with gunicorn (production)")
    add_db_arguments(parser)
    parser.add_argument(
        "--bind", default="127.0.0.1:8000", help="address:port (default 127.0.0.1:8000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per worker (default 1); more let a worker go on while a request waits "
        "for the database",
    )
    parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        return fail(f"--workers must be at least 1 (got {args.workers})")
    if args.threads < 1:
        return fail(f"--threads must be at least 1 (got {args.threads})")
    guessed = default_base_url(args.bind)
    if guessed:
        print(
            f"kratomwatch: warning: KRATOMWATCH_BASE_URL is not set; links in e-mails will "
            f"point to {guessed}. Set it to the public address (https://…).",
            file=sys.stderr,
        )
    setup_django(args, serves_http=True, creates_database=not args.no_migrate)
    if not args.no_migrate:
        migrate()
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    os.execv(  # noqa: S606 - becomes gunicorn; the arguments are ours
        gunicorn,
        [
            gunicorn,
            "kratomwatch.wsgi:application",
            "--config",
            "python:kratomwatch.gunicorn_conf",
            "--bind",
            args.bind,
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--access-logfile",
            "-",
        ],
    )
