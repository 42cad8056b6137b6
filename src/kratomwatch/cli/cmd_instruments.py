"""``kratomwatch instruments``: list the questionnaires the engine can score;
``kratomwatch instruments fhir [--out DIR]``: the same as FHIR R4 Questionnaires.

Uses no Django and no database: the clinical core and the Questionnaire builder of
:mod:`kratomwatch.interop.fhir_instruments`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kratomwatch.domain.questionnaires import (
    Instrument,
    InstrumentDefinitionError,
    load_instruments,
)
from kratomwatch.domain.questionnaires.model import number_to_json


def add_instrument_dir_option(parser: argparse.ArgumentParser, *, subcommand: bool = False) -> None:
    """``--instruments-dir``; on a subcommand its default is left unset, so that one given
    before the subcommand's name is not overwritten by the subcommand's empty default."""
    parser.add_argument(
        "--instruments-dir",
        action="append",
        default=argparse.SUPPRESS if subcommand else [],
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
    actions = parser.add_subparsers(dest="action", metavar="{fhir}")
    fhir = actions.add_parser(
        "fhir",
        help="every instrument as a FHIR R4 Questionnaire",
        description="Write every loaded instrument as a FHIR R4 Questionnaire (validated "
        "with the R4B models, licence notice in copyright): a collection Bundle on standard "
        "output, or with --out, DIR/Questionnaire.ndjson and DIR/questionnaires.json.",
    )
    fhir.add_argument("--out", metavar="DIR", help="directory to write the files to")
    add_instrument_dir_option(fhir, subcommand=True)
    fhir.set_defaults(func=run_fhir)


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


def run_fhir(args: argparse.Namespace) -> int:
    """Every instrument as a Questionnaire: a Bundle on stdout, or NDJSON and a Bundle."""
    from kratomwatch.interop.fhir_instruments import (
        instrument_questionnaires,
        questionnaire_bundle,
    )

    try:
        catalogue = load_instruments(args.instruments_dir)
    except InstrumentDefinitionError as exc:
        print(f"kratomwatch instruments fhir: {exc}", file=sys.stderr)
        return 2
    questionnaires = instrument_questionnaires(catalogue.values())
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    bundle = json.dumps(questionnaire_bundle(questionnaires, stamp), indent=2, ensure_ascii=False)
    if not args.out:
        print(bundle)
        return 0
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "questionnaires.json").write_text(bundle + "\n", encoding="utf-8")
        (out / "Questionnaire.ndjson").write_text(
            "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questionnaires),
            encoding="utf-8",
        )
    except OSError as exc:
        problem = f"cannot write to {out}: {exc.strerror}"
        print(f"kratomwatch instruments fhir: {problem}", file=sys.stderr)
        return 2
    print(f"{len(questionnaires)} Questionnaires written to {out}.")
    return 0
