"""The demo district, migrations, health and the CLI, as an operator would use them."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from meals import migrate
from meals.app import create_app
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.menus.models import Menu
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site
from meals.subsidies.service import age_on, effective_categories, load_tiers, quote_price
from meals.words import SiteKind
from seed import demo
from tests.conftest import NOW, TEST_SECRET, TODAY, _admin, _pg_url, settings_for

TYPICAL_LIST_PRICE_FEN = 1200


async def test_demo_district_shape(db):
    async with db() as s:
        kinds = Counter((await s.scalars(select(Site.kind))).all())
        seniors = (await s.scalars(select(Senior))).all()
        menus = await s.scalar(select(func.count()).select_from(Menu))
        tiers = await load_tiers(s, TODAY)
    assert kinds == {SiteKind.KITCHEN: 1, SiteKind.CANTEEN: 10, SiteKind.MEAL_POINT: 15}
    assert len(seniors) == 150
    assert menus > 0
    for senior in seniors:
        assert 45.3 < senior.latitude < 45.8 and 84.6 < senior.longitude < 85.1
        assert senior.id_card_masked is None or "*" in senior.id_card_masked
    prices = [
        quote_price(
            TYPICAL_LIST_PRICE_FEN,
            age := age_on(s.birth_date, TODAY),
            effective_categories(s.categories, age, 80),
            tiers,
        ).price_fen
        for s in seniors
    ]
    share_paying_7_to_8 = sum(700 <= p <= 800 for p in prices) / len(prices)
    assert share_paying_7_to_8 > 0.5, sorted(prices)
    assert min(prices) >= 0


async def _seed_into(path, seed, migrated):
    """Seed a copy of the `migrated` empty database (migrations run once, not per seed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated, path)
    settings = settings_for(f"sqlite+aiosqlite:///{path}", path.parent)
    engine = create_engine(settings)
    async with session_scope(create_sessionmaker(engine)) as session:
        await demo.seed_demo(session, seed=seed, seniors=40, today=TODAY, now=NOW, menu_days=1)
    async with create_sessionmaker(engine)() as session:
        rows = (
            await session.execute(
                select(Senior.name, Senior.birth_date, Senior.latitude).order_by(Senior.id)
            )
        ).all()
    await engine.dispose()
    return rows


async def test_seed_is_deterministic_for_a_seed(tmp_path):
    migrated = tmp_path / "empty.sqlite3"
    settings = settings_for(f"sqlite+aiosqlite:///{migrated}", tmp_path)
    await asyncio.to_thread(migrate.upgrade, settings)
    with sqlite3.connect(migrated) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    first = await _seed_into(tmp_path / "a" / "one.sqlite3", 3, migrated)
    again = await _seed_into(tmp_path / "b" / "two.sqlite3", 3, migrated)
    other = await _seed_into(tmp_path / "c" / "three.sqlite3", 4, migrated)
    assert first == again
    assert first != other


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migrations_go_down_and_up_again(request, tmp_path, backend):
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        migrate_down_and_up(settings_for(url, tmp_path))
        return
    base = _pg_url()
    # a name of its own: other runs (xdist workers, other checkouts) share the server
    name = f"warmmeal_migrations_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(base).set(database=name).render_as_string(False)
        migrate_down_and_up(settings_for(url, tmp_path))
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate_down_and_up(settings: Settings) -> None:
    migrate.upgrade(settings)
    migrate.downgrade(settings, "base")
    migrate.upgrade(settings)


async def test_health_reports_the_database(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_the_database_is_unreachable(tmp_path):
    settings = Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
        secret_key=TEST_SECRET,
        var_dir=tmp_path,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/health")
    assert response.status_code == 503, response.text
    assert response.json()["database"].startswith("unreachable")


def test_cli_upgrades_seeds_once_and_tops_up_menus(tmp_path):
    env = {**os.environ, "WARMMEAL_VAR_DIR": str(tmp_path), "WARMMEAL_SECRET_KEY": TEST_SECRET}
    env.pop("WARMMEAL_DATABASE_URL", None)

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "meals.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert cli("db", "upgrade").returncode == 0
    first = cli("seed", "demo", "--seniors", "200", "--if-empty")
    second = cli("seed", "demo", "--seniors", "200", "--if-empty")
    refused = cli("seed", "demo", "--seniors", "200")
    assert first.returncode == 0, first.stderr
    assert "seeded 26 sites, 200 seniors" in first.stderr
    assert "demo login admin / warmmeal-admin" in first.stderr
    assert second.returncode == 0 and "already seeded" in second.stderr
    assert refused.returncode != 0 and "already holds a district" in refused.stderr
    assert (tmp_path / "warmmeal.sqlite3").exists()


async def test_a_later_demo_start_tops_up_a_day_of_bookings_once(db):
    """`make run` on a day with no bookings adds that day's lunches, and only once."""
    from meals.bookings.models import Booking

    async with db() as s:
        made = await demo.top_up_bookings(s, seed=7, start=TODAY, days=1, now=NOW)
        await s.commit()
        again = await demo.top_up_bookings(s, seed=7, start=TODAY, days=1, now=NOW)
        booked = await s.scalar(
            select(func.count()).select_from(Booking).where(Booking.service_date == TODAY)
        )
    assert made > 0 and again == 0
    assert booked == made
