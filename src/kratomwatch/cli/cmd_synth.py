"""``kratomwatch synth``: generate a large synthetic clinic in bulk, for benchmarks."""

from __future__ import annotations

import argparse
import time
from datetime import date

from .db import add_db_arguments, fail, migrate, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "synth",
        help="generate a large synthetic clinic (bulk inserts) for benchmarks and load tests",
        description="Create a new clinic of invented patients with a record of --days days each: "
        "check-ins, doses, questionnaires, side effects, plans and the findings of screening. "
        "The same --seed, size and --today give the same clinic. All data are invented.",
    )
    add_db_arguments(parser)
    parser.add_argument("--patients", type=int, default=1000, help="number of patients")
    parser.add_argument("--days", type=int, default=365, help="days of records per patient")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        help="last day of the records (YYYY-MM-DD; default today)",
    )
    parser.add_argument("--slug", default="synth", help="slug of the new clinic (default synth)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.patients < 1 or args.days < 1:
        return fail("--patients and --days must be at least 1")
    where = setup_django(args, creates_database=True)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from kratomwatch.synthetic.synth import SynthError, synthesize

    console = Console(stderr=True)
    console.print(f"Database: {where}")
    migrate()
    started = time.perf_counter()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("patients", total=args.patients)
        try:
            summary = synthesize(
                patients=args.patients,
                days=args.days,
                seed=args.seed,
                today=args.today,
                slug=args.slug,
                progress=lambda done: bar.update(task, completed=done),
            )
        except SynthError as exc:
            return fail(str(exc))
    elapsed = time.perf_counter() - started
    rows = ", ".join(f"{n} {table}s" for table, n in summary.rows.items())
    console.print(f"Created clinic {args.slug!r} in {elapsed:.1f} s: {rows}")
    console.print(
        f"Clinicians ({len(summary.clinicians)}): {summary.clinicians[0]} … "
        f"{summary.clinicians[-1]}; password for all accounts: {summary.password}"
    )
    return 0
