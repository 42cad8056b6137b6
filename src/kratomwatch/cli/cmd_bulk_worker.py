"""``kratomwatch bulk-worker``: run queued FHIR Bulk Data export jobs."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable

from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "bulk-worker",
        help="run queued FHIR bulk export jobs (runs until stopped)",
        description="Run the FHIR Bulk Data export jobs that EHR clients started, one at a "
        "time, and delete expired exports, every --interval seconds. Each app server started "
        "by 'kratomwatch serve' and each 'kratomwatch screen-worker' does this already; a "
        "separate worker adds capacity. Several workers may run at once.",
    )
    add_db_arguments(parser)
    parser.add_argument(
        "--interval", type=float, default=5.0, help="seconds between rounds (default 5)"
    )
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        return fail(f"--interval must be positive (got {args.interval})")
    setup_django(args)
    from kratomwatch.clinic.bulk_queue import BulkExportWorker

    worker = BulkExportWorker(args.interval)
    stop_on_signals(worker.stop)  # the running job goes back in the queue between patients
    while True:
        ran = worker.round()
        print(f"ran {ran} bulk export jobs", flush=True)
        if args.once or worker.stopped.wait(args.interval):
            return 0


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGTERM or SIGINT (Ctrl-C) instead of dying mid-job."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _signum, _frame: stop())
