"""Read KratomWatch's configuration from the environment, failing loudly on bad values.

Every setting is documented in ``SETTINGS_DOC`` (rendered into the README's configuration
table; a test fails when the two disagree). This module imports nothing from Django so the
CLI can resolve the database location before Django starts.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEV_SECRET_KEY = "kratomwatch-development-key-not-for-production"  # noqa: S105
DEFAULT_DATA_DIR = "kratomwatch-data"

SETTINGS_DOC: dict[str, str] = {
    "DATABASE_URL": "PostgreSQL connection URL (`postgres://user@host:5432/name`). "
    "When unset, SQLite in the data directory is used.",
    "KRATOMWATCH_DATA_DIR": f"Directory for the SQLite database and the generated demo secret "
    f"(default `./{DEFAULT_DATA_DIR}`). Same as the CLI's `--data-dir`.",
    "KRATOMWATCH_DEBUG": "`true` or `false` (default `false`). Debug mode; never in production.",
    "KRATOMWATCH_SECRET_KEY": "Secret for sessions and signing. Required unless debug is on; "
    "the development key is refused outside debug mode.",
    "KRATOMWATCH_ALLOWED_HOSTS": "Comma-separated host names served (default "
    "`localhost,127.0.0.1`).",
    "KRATOMWATCH_TIME_ZONE": "Clinic time zone used for display and daily totals (default `UTC`).",
    "KRATOMWATCH_BASE_URL": "Public address of the app, used in the links of e-mails "
    "(reminders, invitations, password resets) (default `http://127.0.0.1:8000`; `serve` "
    "and `demo` default to the address they answer on).",
    "KRATOMWATCH_EMAIL_BACKEND": "`console` (default: print e-mails), `smtp`, or `locmem` (tests).",
    "KRATOMWATCH_SMTP_HOST": "SMTP server for `smtp` (with `KRATOMWATCH_SMTP_PORT`, "
    "`KRATOMWATCH_SMTP_USER`, `KRATOMWATCH_SMTP_PASSWORD`; STARTTLS is used).",
    "KRATOMWATCH_FROM_EMAIL": "Sender address of e-mails (default `kratomwatch@localhost`).",
    "KRATOMWATCH_SECURE_COOKIES": "`true` to mark cookies Secure and send HSTS (behind HTTPS). "
    "Default `false`.",
    "KRATOMWATCH_API_RATE_LIMIT": "API requests per minute per token (default `120`), counted in "
    "the database so that it holds across app servers.",
    "KRATOMWATCH_VAPID_PRIVATE_KEY": "Web Push (VAPID) private key: the raw P-256 key, base64url "
    "(43 characters). Give it with `KRATOMWATCH_VAPID_PUBLIC_KEY` (the uncompressed public "
    "point, base64url, 87 characters). When unset, a key pair is made on first use and kept in "
    "the database.",
    "KRATOMWATCH_VAPID_PUBLIC_KEY": "Web Push (VAPID) public key, given with "
    "`KRATOMWATCH_VAPID_PRIVATE_KEY`.",
    "KRATOMWATCH_VAPID_SUBJECT": "Contact the push services may write to about this server's "
    "pushes, `mailto:` or `https:` (default `mailto:` and `KRATOMWATCH_FROM_EMAIL`).",
}


class ConfigError(Exception):
    """A setting in the environment has a bad value; the message names it."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (got {raw!r})")


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {raw!r})") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum} (got {value})")
    return value


def b64url_bytes(text: str) -> bytes | None:
    """The bytes of a base64url text (padding optional); ``None`` if it is not one."""
    text = text.strip()
    if not text or any(c not in _B64URL for c in text) or len(text) % 4 == 1:
        return None
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: the raw P-256 private key and its uncompressed public point, both
    base64url, as ``KRATOMWATCH_VAPID_PRIVATE_KEY`` and ``..._PUBLIC_KEY`` take them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(private), _b64url(public)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_keys(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The VAPID key pair (private, public) given by the environment, or ``None``."""
    private = env.get("KRATOMWATCH_VAPID_PRIVATE_KEY", "").strip()
    public = env.get("KRATOMWATCH_VAPID_PUBLIC_KEY", "").strip()
    if not private and not public:
        return None
    if not private or not public:
        raise ConfigError(
            "KRATOMWATCH_VAPID_PRIVATE_KEY and KRATOMWATCH_VAPID_PUBLIC_KEY must be given together"
        )
    raw = b64url_bytes(private)
    if raw is None or len(raw) != 32:
        raise ConfigError("KRATOMWATCH_VAPID_PRIVATE_KEY must be a raw P-256 key in base64url")
    point = b64url_bytes(public)
    if point is None or len(point) != 65 or point[0] != 4:
        raise ConfigError(
            "KRATOMWATCH_VAPID_PUBLIC_KEY must be an uncompressed P-256 point in base64url"
        )
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError:
        raise ConfigError("KRATOMWATCH_VAPID_PRIVATE_KEY is not a valid P-256 key") from None
    derived = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    if derived != point:
        raise ConfigError(
            "KRATOMWATCH_VAPID_PUBLIC_KEY is not the public key of KRATOMWATCH_VAPID_PRIVATE_KEY"
        )
    return private, public


def env_list(env: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    raw = env.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ConfigError(f"{name} must list at least one value (got {raw!r})")
    return items


def data_dir(env: Mapping[str, str]) -> Path:
    raw = env.get("KRATOMWATCH_DATA_DIR", DEFAULT_DATA_DIR)
    if not raw.strip():
        raise ConfigError("KRATOMWATCH_DATA_DIR must not be empty")
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class DatabaseChoice:
    engine: str  # "sqlite" or "postgresql"
    url: str | None
    sqlite_path: Path | None

    def describe(self) -> str:
        if self.engine == "sqlite":
            return f"SQLite at {self.sqlite_path}"
        parts = urlsplit(self.url or "")
        name = parts.path.lstrip("/")
        return f"PostgreSQL database {name!r} on {parts.hostname}:{parts.port or 5432}"


def database_choice(env: Mapping[str, str]) -> DatabaseChoice:
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return DatabaseChoice("sqlite", None, data_dir(env) / "kratomwatch.sqlite3")
    scheme = urlsplit(url).scheme
    if scheme in {"postgres", "postgresql", "pgsql"}:
        if not urlsplit(url).path.strip("/"):
            raise ConfigError("DATABASE_URL must name a database (postgres://host/NAME)")
        return DatabaseChoice("postgresql", url, None)
    if scheme == "sqlite":
        raise ConfigError(
            "DATABASE_URL is for PostgreSQL; for SQLite leave it unset and use "
            "KRATOMWATCH_DATA_DIR or --data-dir"
        )
    raise ConfigError(f"DATABASE_URL must be a postgres:// URL (got scheme {scheme!r})")


def secret_key(env: Mapping[str, str], debug: bool) -> str:
    key = env.get("KRATOMWATCH_SECRET_KEY", "")
    if not key:
        if debug:
            return DEV_SECRET_KEY
        raise ConfigError("KRATOMWATCH_SECRET_KEY must be set when KRATOMWATCH_DEBUG is off")
    if key == DEV_SECRET_KEY and not debug:
        raise ConfigError("the development secret key is refused when KRATOMWATCH_DEBUG is off")
    if len(key) < 32:
        raise ConfigError("KRATOMWATCH_SECRET_KEY must be at least 32 characters")
    return key


def env_dict() -> dict[str, str]:
    return dict(os.environ)
