"""``kratomwatch screen-worker``: screen patients waiting in the screening queue."""

from __future__ import annotations

import argparse
import threading

from .cmd_bulk_worker import stop_on_signals
from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "screen-worker",
        help="screen patients waiting in the screening queue (runs until stopped)",
        description="Screen every patient whose record changed without being screened yet "
        "(for example through the dose API), then keep doing so every --interval seconds. "
        "Each app server started by 'kratomwatch serve' does this already; a separate "
        "worker adds capacity. Several workers may run at once. It also runs queued FHIR bulk "
        "export jobs, in a thread of its own.",
    )
    add_db_arguments(parser)
    parser.add_argument(
        "--interval", type=float, default=3.0, help="seconds between rounds (default 3)"
    )
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        return fail(f"--interval must be positive (got {args.interval})")
    setup_django(args)
    from kratomwatch.clinic.bulk_queue import BulkExportWorker, stop_workers
    from kratomwatch.clinic.screening_queue import ScreeningWorker, backlog

    worker = ScreeningWorker(args.interval)
    stopping = threading.Event()
    if not args.once:
        bulk = BulkExportWorker()
        bulk.start()  # bulk exports run beside screening, in their own thread

        def stop() -> None:  # the bulk thread puts its running job back in the queue
            stopping.set()
            bulk.stop()

        stop_on_signals(stop)
    while True:
        screened = worker.round()
        waiting, oldest = backlog()
        print(
            f"screened {screened} patients; {waiting} waiting"
            + (f", oldest for {oldest.total_seconds():.0f} s" if waiting else ""),
            flush=True,
        )
        if args.once or stopping.wait(args.interval):
            stop_workers()
            return 0
