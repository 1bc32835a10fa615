"""The yardstick for booking throughput: a minimal Litestar + SQLAlchemy endpoint inserting one row.

Served by uvicorn exactly as `warmmeal serve` is (uvloop, httptools, same workers),
against the same database, so `bench/booking_load.py` can print both in one run. The bench
creates the table before starting it (workers creating it at once would race).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import msgspec
from litestar import Litestar, post
from litestar.datastructures import State
from litestar.params import JSONBody
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = MetaData()
rows = Table(
    "bench_baseline_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("senior_id", Integer, nullable=False),
    Column("menu_item_id", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class Row(msgspec.Struct):
    senior_id: int
    menu_item_id: int


@post("/insert")
async def insert_row(data: JSONBody[Row], state: State) -> dict[str, int]:
    engine: AsyncEngine = state.engine
    async with engine.begin() as connection:
        result = await connection.execute(
            insert(rows).returning(rows.c.id),
            {
                "senior_id": data.senior_id,
                "menu_item_id": data.menu_item_id,
                "created_at": datetime.now(UTC),
            },
        )
        return {"id": result.scalar_one()}


def create_app() -> Litestar:
    # The same pool as the service's (`db_pool_size` / `db_max_overflow`): a smaller one would
    # open and close a connection for some requests and handicap the yardstick.
    engine = create_async_engine(
        os.environ["BASELINE_DATABASE_URL"],
        pool_size=int(os.environ["BASELINE_POOL_SIZE"]),
        max_overflow=int(os.environ["BASELINE_MAX_OVERFLOW"]),
    )

    async def dispose() -> None:
        await engine.dispose()

    return Litestar(
        [insert_row],
        on_shutdown=[dispose],
        state=State({"engine": engine}),
    )
