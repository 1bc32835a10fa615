"""The image's entrypoint on an empty database: it migrates and serves, and adds no demo
accounts unless WARMMEAL_DEMO=1 (a production database never gets them)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import func, select

from meals.accounts.models import Account
from meals.db import create_engine, create_sessionmaker
from meals.settings import Settings
from tests.conftest import TEST_SECRET
from tests.server import free_port, running_process

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "entrypoint.sh"


async def _accounts(url: str) -> int:
    engine = create_engine(Settings(database_url=url, secret_key=TEST_SECRET))
    try:
        async with create_sessionmaker(engine)() as s:
            return int(await s.scalar(select(func.count()).select_from(Account)) or 0)
    finally:
        await engine.dispose()


def test_entrypoint_migrates_and_serves_without_demo_data(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'prod.sqlite3'}"
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "WARMMEAL_DATABASE_URL": url,
        "WARMMEAL_VAR_DIR": str(tmp_path),
        "WARMMEAL_SECRET_KEY": TEST_SECRET,
        "WARMMEAL_PORT": str(port),
        "WARMMEAL_WORKERS": "1",
        "WARMMEAL_DEMO": "0",
    }
    # Migrating an empty database comes first, so allow it more than a bare start.
    with running_process(
        ["sh", str(ENTRYPOINT), "serve"], env, tmp_path / "entry.log", port, startup_seconds=120
    ):
        pass
    assert asyncio.run(_accounts(url)) == 0
