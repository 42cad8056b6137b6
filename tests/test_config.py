"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kratomwatch import config


def test_sqlite_in_the_data_dir_by_default(tmp_path: Path) -> None:
    choice = config.database_choice({"KRATOMWATCH_DATA_DIR": str(tmp_path)})
    assert choice.engine == "sqlite"
    assert choice.sqlite_path == tmp_path / "kratomwatch.sqlite3"


def test_postgres_from_database_url() -> None:
    choice = config.database_choice({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/kw"})
    assert choice.engine == "postgresql"
    assert "kw" in choice.describe()


@pytest.mark.parametrize(
    "url,message",
    [
        ("mysql://x/y", "postgres://"),
        ("sqlite:///x.db", "KRATOMWATCH_DATA_DIR"),
        ("postgres://127.0.0.1:5432/", "must name a database"),
    ],
)
def test_bad_database_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(config.ConfigError, match=message):
        config.database_choice({"DATABASE_URL": url})


def test_booleans_must_be_booleans() -> None:
    assert config.env_bool({"X": "TRUE"}, "X") is True
    assert config.env_bool({"X": "0"}, "X") is False
    with pytest.raises(config.ConfigError, match="X must be true or false"):
        config.env_bool({"X": "maybe"}, "X")


def test_the_development_key_is_refused_outside_debug() -> None:
    assert config.secret_key({}, debug=True) == config.DEV_SECRET_KEY
    with pytest.raises(config.ConfigError, match="must be set"):
        config.secret_key({}, debug=False)
    with pytest.raises(config.ConfigError, match="refused"):
        config.secret_key({"KRATOMWATCH_SECRET_KEY": config.DEV_SECRET_KEY}, debug=False)
    with pytest.raises(config.ConfigError, match="at least 32"):
        config.secret_key({"KRATOMWATCH_SECRET_KEY": "short"}, debug=False)


def test_django_refuses_to_start_without_a_secret_outside_debug(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRATOMWATCH_")}
    env.update(
        KRATOMWATCH_DEBUG="false",
        KRATOMWATCH_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="kratomwatch.settings",
    )
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "KRATOMWATCH_SECRET_KEY must be set" in out.stderr


def test_every_setting_is_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in config.SETTINGS_DOC:
        assert f"`{name}`" in readme, name


def test_the_api_rate_limit_is_a_positive_whole_number() -> None:
    from kratomwatch import config

    assert config.env_int({}, "KRATOMWATCH_API_RATE_LIMIT", 120) == 120
    assert (
        config.env_int({"KRATOMWATCH_API_RATE_LIMIT": " 600 "}, "KRATOMWATCH_API_RATE_LIMIT", 120)
        == 600
    )
    for bad in ("many", "0", "-5", "1.5"):
        with pytest.raises(config.ConfigError, match="KRATOMWATCH_API_RATE_LIMIT"):
            config.env_int({"KRATOMWATCH_API_RATE_LIMIT": bad}, "KRATOMWATCH_API_RATE_LIMIT", 120)


def test_vapid_keys_come_together_and_well_formed() -> None:
    from kratomwatch.clinic.push import new_key_pair

    private, public = new_key_pair()
    env = {"KRATOMWATCH_VAPID_PRIVATE_KEY": private, "KRATOMWATCH_VAPID_PUBLIC_KEY": public}
    assert config.vapid_keys(env) == (private, public)
    assert config.vapid_keys({}) is None
    with pytest.raises(config.ConfigError, match="together"):
        config.vapid_keys({"KRATOMWATCH_VAPID_PRIVATE_KEY": private})
    with pytest.raises(config.ConfigError, match="KRATOMWATCH_VAPID_PRIVATE_KEY"):
        config.vapid_keys({**env, "KRATOMWATCH_VAPID_PRIVATE_KEY": "not a key"})
    with pytest.raises(config.ConfigError, match="KRATOMWATCH_VAPID_PUBLIC_KEY"):
        config.vapid_keys({**env, "KRATOMWATCH_VAPID_PUBLIC_KEY": private})
    with pytest.raises(config.ConfigError, match="not the public key of"):
        config.vapid_keys({**env, "KRATOMWATCH_VAPID_PUBLIC_KEY": new_key_pair()[1]})


def test_the_push_keys_command_prints_a_pair_the_settings_take(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kratomwatch.cli import main

    assert main(["push-keys"]) == 0
    env = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert set(env) == {"KRATOMWATCH_VAPID_PRIVATE_KEY", "KRATOMWATCH_VAPID_PUBLIC_KEY"}
    assert config.vapid_keys(env) == (
        env["KRATOMWATCH_VAPID_PRIVATE_KEY"],
        env["KRATOMWATCH_VAPID_PUBLIC_KEY"],
    )
