"""``kratomwatch score ID --answers 1,0,2,...``: score one set of answers.

Answers are given in item order, separated by commas; an empty answer (``1,,2``) means
"not answered". Any problem (unknown instrument, bad answers, unknown context flag) exits
with status 2, prints the reasons on stderr and nothing on stdout. Uses only the pure
clinical core (no Django).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kratomwatch.cli.cmd_instruments import add_instrument_dir_option
from kratomwatch.domain.questionnaires import (
    InstrumentDefinitionError,
    ScoringError,
    UnknownInstrumentError,
    get_instrument,
    safety_messages,
    score,
)

EXIT_INVALID = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score answers to an instrument",
        description="Score answers given in item order. Example: "
        "kratomwatch score phq9 --answers 1,0,2,1,0,0,1,0,0 --json",
    )
    parser.add_argument("instrument", metavar="ID", help="instrument id (see `instruments`)")
    parser.add_argument(
        "--answers",
        required=True,
        metavar="A,B,...",
        help="comma-separated integers in item order; leave an answer empty for missing",
    )
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="FLAG[=true|false]",
        help="switch on a context flag, e.g. under_medical_supervision (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the score as JSON")
    add_instrument_dir_option(parser)
    parser.set_defaults(func=run)


def parse_answers(text: str) -> list[Any]:
    """``"1,,2"`` -> ``[1, None, 2]``. Tokens that are not integers are passed on as text so
    the engine reports them against the right item."""
    answers: list[Any] = []
    for token in text.split(","):
        token = token.strip()
        if token == "":
            answers.append(None)
            continue
        try:
            answers.append(int(token, 10))
        except ValueError:
            answers.append(token)
    return answers


def parse_context(flags: list[str]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for flag in flags:
        name, sep, value = flag.partition("=")
        name = name.strip()
        if not sep:
            context[name] = True
        elif value.strip().lower() in ("1", "true", "yes", "on"):
            context[name] = True
        elif value.strip().lower() in ("0", "false", "no", "off"):
            context[name] = False
        else:
            context[name] = value  # the engine rejects a non-boolean value
    return context


def _fail(message: str) -> int:
    print(f"kratomwatch score: {message}", file=sys.stderr)
    return EXIT_INVALID


def run(args: argparse.Namespace) -> int:
    try:
        instrument = get_instrument(args.instrument, args.instruments_dir)
    except UnknownInstrumentError as exc:
        return _fail(str(exc))
    except InstrumentDefinitionError as exc:
        return _fail(str(exc))
    try:
        result = score(instrument, parse_answers(args.answers), parse_context(args.context))
    except ScoringError as exc:
        lines = [f"cannot score {instrument.id}:"]
        lines.extend(f"  {item}: {message}" for item, message in exc.errors)
        return _fail("\n".join(lines))

    data = result.to_dict()
    if args.json:
        keys = ("instrument", "version", "total", "subscales", "band", "flags")
        print(json.dumps({key: data[key] for key in keys}, ensure_ascii=False))
        return 0

    print(f"{instrument.title} (version {instrument.version})")
    print(f"  total: {data['total']}")
    for key, value in data["subscales"].items():
        print(f"  {key}: {'not computed' if value is None else value}")
    print(f"  band: {data['band'] if data['band'] is not None else '-'}")
    if result.excluded_items:
        print(f"  not counted (context): {', '.join(result.excluded_items)}")
    for message in safety_messages(instrument, result):
        print(f"  SAFETY FLAG: {message}")
    if not instrument.validated:
        print("  note: this instrument is not validated")
    return 0
