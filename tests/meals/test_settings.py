"""Settings come from WARMMEAL_* variables, read when asked, with defaults that run the demo."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from meals.app import create_app
from meals.settings import InsecureSecret, Settings, derive_key
from tests.conftest import TEST_SECRET

STRONG_SECRET = "9f1c4e7a2b8d03f6e5a1c9b7d2e4f6a8c0b3d5e7f9a1c3e5b7d9f1a3c5e7b9d1"
PLACEHOLDER = "change-me-to-a-long-random-string"  # what docker/compose.yaml used to ship


def test_settings_from_the_environment(tmp_path: Path):
    settings = Settings.from_env(
        {
            "WARMMEAL_VAR_DIR": str(tmp_path),
            "WARMMEAL_DATABASE_URL": "postgresql+asyncpg://u@db:5432/warmmeal",
            "WARMMEAL_SECRET_KEY": STRONG_SECRET,
            "WARMMEAL_DB_POOL_SIZE": "32",
            "WARMMEAL_DB_MAX_OVERFLOW": "0",
            "WARMMEAL_PROFILE_CACHE_ENTRIES": "0",
            "WARMMEAL_SESSION_IDLE_TIMEOUT_SECONDS": "600",
            "WARMMEAL_SESSION_ABSOLUTE_LIFETIME_SECONDS": "86400",
            "WARMMEAL_BOOKING_BATCH_WRITERS": "0",
            "WARMMEAL_BOOKING_BATCH_ROWS": "16",
        }
    )

    assert settings.database_url == "postgresql+asyncpg://u@db:5432/warmmeal"
    assert (settings.db_pool_size, settings.db_max_overflow) == (32, 0)
    assert settings.profile_cache_entries == 0
    assert settings.session_idle_timeout == timedelta(minutes=10)
    assert settings.session_absolute_lifetime == timedelta(days=1)
    assert settings.secure_cookies and not settings.demo
    assert (settings.booking_batch_writers, settings.booking_batch_rows) == (0, 16)
    assert settings.secret_key == STRONG_SECRET


def test_defaults_run_the_embedded_demo(tmp_path: Path):
    demo = {"WARMMEAL_VAR_DIR": str(tmp_path), "WARMMEAL_DEMO": "1"}
    settings = Settings.from_env(demo)

    assert settings.is_sqlite and str(tmp_path) in settings.database_url
    assert settings.db_pool_size > 0
    # The secret is made once and kept, so every worker and restart reads the same one.
    assert Settings.from_env(demo).secret_key == settings.secret_key
    assert not settings.secure_cookies  # the demo is served over plain HTTP on 127.0.0.1


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("", "at least 32 bytes"),
        ("too-short-secret", "at least 32 bytes"),
        (PLACEHOLDER, "placeholder"),
        ("ab" * 32, "too predictable"),
        ("0123456789" * 4, "too predictable"),
    ],
)
def test_a_guessable_secret_is_refused(tmp_path: Path, secret: str, reason: str):
    env = {"WARMMEAL_VAR_DIR": str(tmp_path), "WARMMEAL_SECRET_KEY": secret}
    with pytest.raises(InsecureSecret, match=reason):
        Settings.from_env(env)
    # The demo makes its own secret, but does not take a guessable one either.
    with pytest.raises(InsecureSecret, match=reason):
        Settings.from_env({**env, "WARMMEAL_DEMO": "1"})
    with pytest.raises(InsecureSecret):
        create_app(Settings(database_url="sqlite+aiosqlite://", secret_key=secret))


def test_outside_the_demo_a_missing_secret_is_refused(tmp_path: Path):
    with pytest.raises(InsecureSecret, match="not set"):
        Settings.from_env({"WARMMEAL_VAR_DIR": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_the_service_does_not_start_with_the_placeholder_secret(tmp_path: Path):
    env = {"WARMMEAL_VAR_DIR": str(tmp_path), "WARMMEAL_SECRET_KEY": PLACEHOLDER, "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "meals.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "placeholder" in result.stderr


def test_each_purpose_has_its_own_key():
    keys = {derive_key(TEST_SECRET, purpose) for purpose in ("csrf", "meal-card", "session")}
    assert len(keys) == 3
    assert all(len(key) == 32 and TEST_SECRET.encode() not in key for key in keys)
