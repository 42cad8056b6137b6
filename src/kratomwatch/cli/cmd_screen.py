"""``kratomwatch screen SNAPSHOT.json``: screen one patient snapshot, without a database."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from .db import fail


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "screen",
        help="screen a patient snapshot (JSON) for interactions and risks",
        description="Screen a patient snapshot with the safety engine. The snapshot format is "
        "documented in docs/screening.md. Use - to read standard input.",
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT.json")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kratomwatch.domain.safety import SnapshotError, screen, snapshot_from_json

    try:
        raw = sys.stdin.buffer.read() if args.snapshot == "-" else Path(args.snapshot).read_bytes()
    except OSError as exc:
        return fail(f"cannot read {args.snapshot}: {exc.strerror}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return fail(
            f"{args.snapshot} is not UTF-8 text (byte {exc.start + 1} cannot be read): "
            "save the snapshot as UTF-8"
        )
    try:
        data = json.loads(text)
    except RecursionError:
        return fail(f"{args.snapshot} is not valid JSON: it is nested too deeply")
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        return fail(f"{args.snapshot} is not valid JSON: {exc}")
    try:
        snapshot = snapshot_from_json(data, now=datetime.now(UTC))
    except SnapshotError as exc:
        return fail("invalid snapshot:\n" + "\n".join(f"  {p}: {m}" for p, m in exc.errors))
    result = screen(snapshot).to_dict()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    _print_table(result)
    return 0


def _print_table(result: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Findings (knowledge {result['knowledge_version']})", show_lines=True)
    for column in ("severity", "finding", "why"):
        table.add_column(column)
    for finding in result["findings"]:  # type: ignore[attr-defined]
        table.add_row(finding["severity"], finding["title"], finding["rationale"])
    console.print(table)
    for note in result["notes"]:  # type: ignore[attr-defined]
        console.print(
            f"[bold]Note[/] (nothing to act on now): {note['title']}. {note['rationale']}"
        )
    for kind, items in result["not_recognized"].items():  # type: ignore[attr-defined]
        for item in items:
            console.print(
                f"[bold]{kind}: {item['text']}[/] not recognized — not screened"
                + (
                    f" (did you mean {', '.join(item['suggestions'])}?)"
                    if item["suggestions"]
                    else ""
                )
            )
    for items in result["recognized_without_concern"].values():  # type: ignore[attr-defined]
        for item in items:
            console.print(
                f"[bold]{item['text']}[/]: {item['icd10']} {item['title']} — recognized, "
                "no kratom-specific concern"
            )
