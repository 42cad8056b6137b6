"""A fresh database of the engine under test, driven only through real processes.

When the suite runs on SQLite, each target is a new data directory; when it runs on
PostgreSQL (``DATABASE_URL``), each target is a new database on that server, dropped after the
test. The test run's own database is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "ops-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ON_POSTGRES = bool(os.environ.get("DATABASE_URL"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KRATOMWATCH_") and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@dataclass
class Target:
    """One database, as the environment that selects it for a ``kratomwatch`` process."""

    engine: str
    env: dict[str, str]
    where: str  # the data directory or the database URL

    def kw(
        self, *args: str, timeout: float = 120, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kratomwatch", *args],
            capture_output=True,
            text=True,
            env=self.env | extra,
            cwd=ROOT,
            timeout=timeout,
        )

    def probe(self, *args: str, timeout: float = 120) -> Any:
        out = subprocess.run(
            [sys.executable, "-m", "tests.ops.probe", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=timeout,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    def popen(
        self, *args: str, module: str = "kratomwatch", **kwargs: Any
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args], env=self.env, cwd=ROOT, text=True, **kwargs
        )


def _admin_connect() -> Any:
    import psycopg

    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)


class Databases:
    """Creates databases of the engine the suite runs on and drops the PostgreSQL ones."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.created: list[str] = []

    def make(self, template: Target | None = None) -> Target:
        """An empty database, or a copy of ``template`` (whose processes must have ended)."""
        if not ON_POSTGRES:
            data = self.base / f"data-{uuid.uuid4().hex[:8]}"
            if template is not None:
                shutil.copytree(template.where, data)
            env = clean_env(KRATOMWATCH_DATA_DIR=str(data), KRATOMWATCH_SECRET_KEY=SECRET)
            return Target("sqlite", env, str(data))
        name = f"kw_ops_{uuid.uuid4().hex[:12]}"
        with _admin_connect() as conn:
            if template is None:
                conn.execute(f'CREATE DATABASE "{name}"')
            else:
                source = urlsplit(template.where).path.lstrip("/")
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        self.created.append(name)
        url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
        return Target("postgresql", clean_env(DATABASE_URL=url, KRATOMWATCH_SECRET_KEY=SECRET), url)

    def drop_all(self) -> None:
        if self.created:
            with _admin_connect() as conn:
                for name in self.created:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.clear()


@pytest.fixture(scope="session")
def seeded_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, Any]]:
    """One small demo clinic, seeded once (3 patients, 7 days), to copy for each test."""
    databases = Databases(tmp_path_factory.mktemp("ops-template"))
    template = databases.make()
    info = template.probe("seed")
    yield template, info
    databases.drop_all()


@pytest.fixture
def new_target(tmp_path: Path) -> Iterator[Callable[[], Target]]:
    """Make empty databases for one test."""
    databases = Databases(tmp_path)
    yield databases.make
    databases.drop_all()


@pytest.fixture
def seeded(
    tmp_path: Path, seeded_clinic: tuple[Target, Any]
) -> Iterator[Callable[[], tuple[Target, Any]]]:
    """Make copies of the seeded demo clinic for one test, with the seed's logins and product."""
    databases = Databases(tmp_path)
    template, info = seeded_clinic

    def make() -> tuple[Target, Any]:
        return databases.make(template), info

    yield make
    databases.drop_all()
