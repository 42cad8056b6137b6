"""``kratomwatch instruments``: list the questionnaires the engine can score.

Uses only the pure clinical core (no Django).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kratomwatch.domain.questionnaires import (
    Instrument,
    InstrumentDefinitionError,
    load_instruments,
)
from kratomwatch.domain.questionnaires.model import number_to_json


def add_instrument_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--instruments-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="extra directory of instrument YAML files (repeatable); "
        "KRATOMWATCH_INSTRUMENT_DIRS is also read",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "instruments",
        help="list the questionnaires and rating scales",
        description="List every loaded instrument with its version, item count, total "
        "range and licence status.",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    add_instrument_dir_option(parser)
    parser.set_defaults(func=run)


def summary(instrument: Instrument) -> dict[str, Any]:
    low, high = instrument.total_range
    return {
        "id": instrument.id,
        "version": instrument.version,
        "title": instrument.title,
        "items": len(instrument.items),
        "range": [number_to_json(low), number_to_json(high)],
        "licence": instrument.licence.status,
        "completed_by": instrument.completed_by,
        "validated": instrument.validated,
        "wording": instrument.wording,
    }


def run(args: argparse.Namespace) -> int:
    try:
        catalogue = load_instruments(args.instruments_dir)
    except InstrumentDefinitionError as exc:
        print(f"kratomwatch instruments: {exc}", file=sys.stderr)
        return 2
    rows = [summary(catalogue[key]) for key in sorted(catalogue)]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0

    from rich.console import Console
    from rich.table import Table

    table = Table(title="Instruments")
    for column in ("id", "version", "items", "range", "by", "validated"):
        table.add_column(column, no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("licence", overflow="fold")
    for key in sorted(catalogue):
        instrument = catalogue[key]
        low, high = instrument.total_range
        table.add_row(
            instrument.id,
            instrument.version,
            str(len(instrument.items)),
            f"{low}-{high}",
            instrument.completed_by,
            "yes" if instrument.validated else "NO",
            instrument.short_title or instrument.title,
            short_licence(instrument.licence.status),
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    console.print(table)
    print("Full licence text and references: docs/instruments.md or --json.")
    return 0


def short_licence(status: str) -> str:
    """The first clause of a licence status, for the table."""
    for separator in (";", " — ", ". "):
        status = status.split(separator)[0]
    return status.strip()
