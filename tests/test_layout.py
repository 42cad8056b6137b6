"""The code's layout rules that a reader relies on (docs/architecture.md).

- SQL is written out only in the few places listed here, each for a reason the ORM cannot
  serve; everything else uses the ORM, so ``save()``, signals and transactions always run.
- A module longer than about 500 lines says at its top why it is one module.
- The web app is in layers: views, actions and forms are packages, not flat files.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "kratomwatch"

#: Where SQL is written out, and why the ORM does not serve there.
WRITTEN_SQL = {
    "api/__init__.py": "the health check's SELECT 1: reachability, not a query of records",
    "clinic/audit_chain.py": "PostgreSQL's advisory lock that serializes the audit chain",
    "ops/server_lock.py": "advisory locks that keep two servers off one database",
    "wsgi.py": "the connection that holds the server's advisory lock",
    "ops/backup.py": "backup and restore: SQLite's backup API, PostgreSQL snapshots",
    "synthetic/bulk.py": "bulk loading of synthetic clinics (COPY), id sequences, ANALYZE",
}
SQL = re.compile(r"\.cursor\(\)|\.execute\(|\bBEGIN\b|\bCOMMIT\b")


def modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]


def test_sql_is_written_out_only_where_listed() -> None:
    found = {
        str(p.relative_to(SRC))
        for p in modules()
        if any(SQL.search(line) for line in p.read_text().splitlines())
    }
    assert found == set(WRITTEN_SQL), (
        f"written-out SQL in unlisted modules: {sorted(found - set(WRITTEN_SQL))}; "
        f"listed but gone: {sorted(set(WRITTEN_SQL) - found)}"
    )


def test_long_modules_say_why_at_their_top() -> None:
    unexplained = []
    for path in modules():
        text = path.read_text()
        if text.count("\n") <= 520:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if not re.search(r"About \d+ lines:", doc):
            unexplained.append(f"{path.relative_to(SRC)} ({text.count(chr(10))} lines)")
    assert not unexplained, f"long modules without a reason at the top: {unexplained}"


def test_the_web_app_is_in_layers() -> None:
    clinic = SRC / "clinic"
    for layer in ("views", "actions", "forms"):
        assert (clinic / layer / "__init__.py").exists(), layer
        flat = sorted(p.name for p in clinic.glob(f"{layer}*.py"))
        assert not flat, f"{layer} modules outside clinic/{layer}/: {flat}"
