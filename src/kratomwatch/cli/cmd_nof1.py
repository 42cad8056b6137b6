"""``kratomwatch nof1``: design and analyse an N-of-1 trial of two regimens.

``kratomwatch nof1 design --regimen-a TEXT --regimen-b TEXT --period-days N --pairs N
[--washout-days N] --start YYYY-MM-DD [--seed N] [--json]`` prints a randomized, balanced
schedule (the seed is always shown so the schedule can be reproduced).

``kratomwatch nof1 analyse SCHEDULE.json OBSERVATIONS.csv [--carryover-days K]
[--stopped-early [--stop-reason TEXT]] [--json]`` analyses a trial: SCHEDULE.json is the
output of ``design --json``; the CSV has ``date`` and ``pain`` columns and optionally
``taken`` (A, B or a regimen's description). Regimens are described by the clinician;
nothing here suggests a dose. Bad input exits with status 2 and a message on stderr.
Uses only the pure clinical core (no Django).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from kratomwatch.domain.analysis import (
    TrialObservation,
    TrialSchedule,
    analyse_trial,
    design_trial,
)

EXIT_INVALID = 2
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InputError(Exception):
    pass


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "nof1",
        help="design or analyse an N-of-1 trial of two regimens",
        description="Randomized, balanced N-of-1 trials: design a schedule, analyse the diary.",
    )
    sub = parser.add_subparsers(dest="nof1_command", metavar="ACTION", required=True)

    design = sub.add_parser("design", help="print a randomized, balanced schedule")
    design.add_argument("--regimen-a", required=True, metavar="TEXT")
    design.add_argument("--regimen-b", required=True, metavar="TEXT")
    design.add_argument("--period-days", required=True, type=int, metavar="N")
    design.add_argument("--pairs", required=True, type=int, metavar="N")
    design.add_argument("--washout-days", type=int, default=0, metavar="N")
    design.add_argument("--start", required=True, metavar="YYYY-MM-DD")
    design.add_argument("--seed", type=int, help="reproduce a schedule (default: random)")
    design.add_argument("--json", action="store_true", help="print the schedule as JSON")
    design.set_defaults(func=run_design)

    analyse = sub.add_parser("analyse", help="analyse a trial diary against its schedule")
    analyse.add_argument("schedule", metavar="SCHEDULE.json")
    analyse.add_argument("observations", metavar="OBSERVATIONS.csv")
    analyse.add_argument("--carryover-days", type=int, default=0, metavar="K")
    analyse.add_argument("--stopped-early", action="store_true")
    analyse.add_argument("--stop-reason", metavar="TEXT")
    analyse.add_argument("--json", action="store_true", help="print the result as JSON")
    analyse.set_defaults(func=run_analyse)


def _fail(message: str) -> int:
    print(f"kratomwatch nof1: {message}", file=sys.stderr)
    return EXIT_INVALID


def _parse_date(text: str) -> date:
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def run_design(args: argparse.Namespace) -> int:
    try:
        start = _parse_date(args.start.strip())
    except ValueError:
        return _fail(f"--start: {args.start!r} is not a date (YYYY-MM-DD)")
    try:
        schedule = design_trial(
            args.regimen_a,
            args.regimen_b,
            args.period_days,
            args.pairs,
            args.washout_days,
            start,
            seed=args.seed,
        )
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(schedule.to_dict(), ensure_ascii=False))
        return 0
    print(f"A: {schedule.regimen_a}")
    print(f"B: {schedule.regimen_b}")
    print(
        f"{schedule.pairs} pairs of {schedule.period_days}-day periods, "
        f"{schedule.washout_days} washout days between periods; "
        f"{schedule.start_date} to {schedule.end_date}; seed {schedule.seed}"
    )
    for p in schedule.periods:
        what = "washout" if p.arm is None else f"{p.arm.value} ({p.regimen})"
        print(f"  {p.start} to {p.end}  pair {p.pair}  {what}")
    print("\n  Mo Tu We Th Fr Sa Su")
    for week in schedule.calendar():
        cells = [
            "  ." if d is None else ("  -" if d.arm is None else f"  {d.arm.value}") for d in week
        ]
        print("".join(c.rjust(3) for c in cells))
    print("  (A/B: regimen; -: washout)")
    return 0


def read_observations(path: Path) -> list[TrialObservation]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        if not header:
            raise InputError(f"{path}: empty file (expected a header row: date,pain[,taken])")
        reader.fieldnames = [(name or "").strip().lower() for name in header]
        for column in ("date", "pain"):
            if column not in reader.fieldnames:
                raise InputError(f"header row: missing required column '{column}'")
        out: list[TrialObservation] = []
        first: dict[date, int] = {}
        for number, row in enumerate(reader, start=1):
            where = f"row {number} (line {reader.line_num})"
            text = (row.get("date") or "").strip()
            try:
                day = _parse_date(text)
            except ValueError:
                raise InputError(
                    f"{where}, column 'date': {text!r} is not a date (YYYY-MM-DD)"
                ) from None
            if day in first:
                raise InputError(
                    f"{where}, column 'date': {day} is a duplicate of row {first[day]}"
                )
            first[day] = number
            pain_text = (row.get("pain") or "").strip()
            pain: float | None = None
            if pain_text:
                try:
                    pain = float(pain_text)
                except ValueError:
                    raise InputError(
                        f"{where}, column 'pain': {pain_text!r} is not a number"
                    ) from None
                if not (math.isfinite(pain) and 0 <= pain <= 10):
                    raise InputError(f"{where}, column 'pain': {pain_text} is outside 0-10")
            taken = (row.get("taken") or "").strip() or None
            out.append(TrialObservation(day, pain, taken))
    return out


def run_analyse(args: argparse.Namespace) -> int:
    try:
        data = json.loads(Path(args.schedule).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a schedule object")
        schedule = TrialSchedule.from_dict(data)
    except OSError as exc:
        return _fail(f"cannot read {args.schedule}: {exc.strerror or exc}")
    except (ValueError, TypeError) as exc:
        return _fail(f"{args.schedule}: not a valid schedule ({exc})")
    try:
        observations = read_observations(Path(args.observations))
    except InputError as exc:
        return _fail(str(exc))
    if args.stop_reason and not args.stopped_early:
        return _fail("--stop-reason needs --stopped-early")
    try:
        result = analyse_trial(
            schedule,
            observations,
            carryover_days=args.carryover_days,
            stopped_early=args.stopped_early,
            stop_reason=args.stop_reason,
        )
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    print(result.summary)
    print()
    for note in result.notes:
        print(f"  - {note}")
    return 0
