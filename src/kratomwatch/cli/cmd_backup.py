"""``kratomwatch backup`` and ``kratomwatch restore``: the whole database to a file and back."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .db import SetupError, add_db_arguments, fail, migrate, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup",
        help="write a consistent backup of the database to a file (safe while serving)",
        description="Write a backup of the whole database to FILE: for SQLite an online copy "
        "made with SQLite's backup API, for PostgreSQL (DATABASE_URL) pg_dump's custom format; "
        "with a manifest holding the engine, app version, time, SHA-256 and row counts. "
        "The file is written under a temporary name and renamed when complete.",
    )
    add_db_arguments(backup)
    backup.add_argument("--out", required=True, metavar="FILE", help="backup file to write")
    backup.set_defaults(func=run_backup)

    restore = sub.add_parser(
        "restore",
        help="replace the database with a backup, then apply migrations",
        description="Check FILE (checksum, engine, integrity) and replace the database with "
        "it, then apply migrations. Stop the server first. A database that holds data is "
        "replaced only with --yes.",
    )
    add_db_arguments(restore)
    restore.add_argument("file", metavar="FILE", help="backup file made by `kratomwatch backup`")
    restore.add_argument(
        "--yes", action="store_true", help="replace the data the target database holds"
    )
    restore.add_argument(
        "--verify-only",
        action="store_true",
        help="check the backup completely and print its manifest; change nothing",
    )
    restore.set_defaults(func=run_restore)


def _database(args: argparse.Namespace) -> tuple[str, Path | None, str | None, str]:
    """Engine, SQLite path, PostgreSQL URL and description, resolved as ``setup_django`` does."""
    from kratomwatch import config

    if getattr(args, "data_dir", None):
        os.environ["KRATOMWATCH_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    try:
        choice = config.database_choice(config.env_dict())
    except config.ConfigError as exc:
        raise SetupError(str(exc)) from exc
    return choice.engine, choice.sqlite_path, choice.url, choice.describe()


def run_backup(args: argparse.Namespace) -> int:
    from kratomwatch.ops import backup

    try:
        engine, sqlite_path, url, where = _database(args)
    except SetupError as exc:
        return fail(str(exc))
    out = Path(args.out)
    try:
        if engine == "sqlite":
            assert sqlite_path is not None
            manifest = backup.backup_sqlite(sqlite_path, out)
        else:
            assert url is not None
            manifest = backup.backup_postgres(url, out)
    except backup.BackupError as exc:
        return fail(str(exc))
    print(f"Backed up {where} to {out}")
    print(f"  {manifest.describe()}; {manifest.size} bytes, sha256 {manifest.sha256}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from kratomwatch.ops import backup

    path = Path(args.file)
    if args.verify_only:
        try:
            manifest = backup.verify(path)
        except backup.BackupError as exc:
            return fail(str(exc))
        print(f"{path}: complete and intact. {manifest.describe()}")
        print(manifest.to_json().decode(), end="")
        return 0
    try:
        engine, sqlite_path, url, where = _database(args)
    except SetupError as exc:
        return fail(str(exc))
    try:
        if engine == "sqlite":
            assert sqlite_path is not None
            manifest = backup.restore_sqlite(path, sqlite_path, replace=args.yes)
        else:
            assert url is not None
            manifest = backup.restore_postgres(path, url, replace=args.yes)
    except backup.BackupError as exc:
        return fail(str(exc))
    print(f"Restored {where} from {path}")
    print(f"  {manifest.describe()}")
    try:
        setup_django(args)
    except SetupError as exc:
        return fail(f"restored, but the migrations could not run: {exc}")
    migrate()
    print("  Migrations applied.")
    return 0
