"""The ``kratomwatch`` command line.

Each sub-command lives in its own module named in ``COMMANDS``. A module exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the
parsed arguments and returning the process exit code. Commands that need the database call
``kratomwatch.cli.db.setup_django(args)`` themselves (a SetupError it raises is reported by
``main``, in one place), so commands that only use the pure
clinical core start fast and never touch Django.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kratomwatch import __version__
from kratomwatch.cli.db import SetupError, fail

COMMANDS: tuple[str, ...] = (
    "kratomwatch.cli.cmd_demo",
    "kratomwatch.cli.cmd_serve",
    "kratomwatch.cli.cmd_migrate",
    "kratomwatch.cli.cmd_instruments",
    "kratomwatch.cli.cmd_score",
    "kratomwatch.cli.cmd_screen",
    "kratomwatch.cli.cmd_knowledge",
    "kratomwatch.cli.cmd_reminders",
    "kratomwatch.cli.cmd_push",
    "kratomwatch.cli.cmd_purge",
    "kratomwatch.cli.cmd_token",
    "kratomwatch.cli.cmd_analyze",
    "kratomwatch.cli.cmd_nof1",
    "kratomwatch.cli.cmd_export_fhir",
    "kratomwatch.cli.cmd_import_fhir",
    "kratomwatch.cli.cmd_export_csv",
    "kratomwatch.cli.cmd_import_csv",
    "kratomwatch.cli.cmd_backup",
    "kratomwatch.cli.cmd_audit",
    "kratomwatch.cli.cmd_synth",
    "kratomwatch.cli.cmd_screen_worker",
    "kratomwatch.cli.cmd_bulk_worker",
    "kratomwatch.cli.cmd_cohort",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kratomwatch",
        description="KratomWatch: clinician-supervised monitoring for people who use kratom.",
    )
    parser.add_argument("--version", action="version", version=f"kratomwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SetupError as exc:  # the database or data directory cannot be used: say why
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
