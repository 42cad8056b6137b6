"""``kratomwatch knowledge import-unii FILE``: refresh the substances' official names from the
FDA's UNII Names list. Uses only the pure clinical core (no Django)."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from .db import fail

DEFAULT_OUT = "data/knowledge/substances/unii_names.yaml"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "knowledge",
        help="maintain the knowledge base's generated data",
        description="Maintain generated parts of the knowledge base.",
    )
    actions = parser.add_subparsers(dest="knowledge_action", required=True)
    unii = actions.add_parser(
        "import-unii",
        help="write the substances' names from the FDA's UNII Names list",
        description="Read the FDA's UNII Names file (UNII_Names_*.txt from "
        "https://precision.fda.gov/uniisearch/archive, public domain) and write the official, "
        "common and brand names of the knowledge base's substances to unii_names.yaml.",
    )
    unii.add_argument("file", metavar="UNII_NAMES.txt")
    unii.add_argument(
        "--out", metavar="FILE", help=f"where to write (default: the package's {DEFAULT_OUT})"
    )
    unii.add_argument(
        "--source",
        help="how the file is named in the output's header (default: the file's name)",
    )
    unii.set_defaults(func=run_import_unii)


def run_import_unii(args: argparse.Namespace) -> int:
    from kratomwatch.domain.substances import KnowledgeBaseError, load_knowledge
    from kratomwatch.domain.unii_names import official_names, read_unii_names, render_yaml

    path = Path(args.file)
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as lines:
            rows = list(read_unii_names(lines))
    except OSError as exc:
        return fail(f"cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        return fail(f"{path}: {exc}")
    try:
        kb = load_knowledge()
    except KnowledgeBaseError as exc:
        return fail(str(exc))
    names = official_names(rows, kb)
    out = Path(args.out) if args.out else Path(str(resources.files("kratomwatch") / DEFAULT_OUT))
    source = args.source or f"FDA UNII Names list, file {path.name}"
    out.write_text(render_yaml(names, source), encoding="utf-8")
    total = sum(len(v) for v in names.values())
    print(f"wrote {total} names for {len(names)} substances to {out}")
    return 0
