"""Settings come from WARMMEAL_* variables, read when asked, with defaults that run the demo."""

from __future__ import annotations

from pathlib import Path

from meals.settings import Settings


def test_settings_from_the_environment(tmp_path: Path):
    settings = Settings.from_env(
        {
            "WARMMEAL_VAR_DIR": str(tmp_path),
            "WARMMEAL_DATABASE_URL": "postgresql+asyncpg://u@db:5432/warmmeal",
            "WARMMEAL_SECRET_KEY": "s" * 64,
            "WARMMEAL_DB_POOL_SIZE": "32",
            "WARMMEAL_DB_MAX_OVERFLOW": "0",
            "WARMMEAL_PROFILE_CACHE_ENTRIES": "0",
            "WARMMEAL_SESSION_CACHE_ENTRIES": "0",
            "WARMMEAL_BOOKING_BATCH_WRITERS": "0",
            "WARMMEAL_BOOKING_BATCH_ROWS": "16",
        }
    )

    assert settings.database_url == "postgresql+asyncpg://u@db:5432/warmmeal"
    assert (settings.db_pool_size, settings.db_max_overflow) == (32, 0)
    assert settings.profile_cache_entries == 0
    assert settings.session_cache_entries == 0
    assert (settings.booking_batch_writers, settings.booking_batch_rows) == (0, 16)
    assert settings.secret_key == "s" * 64


def test_defaults_run_the_embedded_demo(tmp_path: Path):
    settings = Settings.from_env({"WARMMEAL_VAR_DIR": str(tmp_path)})

    assert settings.is_sqlite and str(tmp_path) in settings.database_url
    assert settings.db_pool_size > 0
    # The secret is made once and kept, so every worker and restart reads the same one.
    assert Settings.from_env({"WARMMEAL_VAR_DIR": str(tmp_path)}).secret_key == settings.secret_key
