"""The board's page and the JSON it refreshes itself from; read-only for both roles."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from meals.board import service
from meals.pages.web import render
from meals.web import AppSettings, CurrentActor, DbSession, Now, allow

SPARK_WIDTH = 120
SPARK_HEIGHT = 24


def sparkline(values: list[int], width: int = SPARK_WIDTH, height: int = SPARK_HEIGHT) -> str:
    """SVG polyline points for a row of daily counts (the highest day touches the top)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{round(n * step, 1)},{round(height - value / top * height, 1)}"
        for n, value in enumerate(values)
    )


class BoardApi(Controller):
    path = "/api/v1/board"
    tags = ["board"]  # noqa: RUF012
    guards = [allow(*service.BOARD_READERS)]  # noqa: RUF012

    @get("/", summary="Today per site, vans' progress and late stops, open welfare alerts")
    async def snapshot(
        self, db_session: DbSession, actor: CurrentActor, now: Now, settings: AppSettings
    ) -> dict[str, Any]:
        return await service.board_snapshot(db_session, actor=actor, now=now, settings=settings)

    @get("/trends", summary="Meals served per site and day, this month to date")
    async def trends(
        self, db_session: DbSession, actor: CurrentActor, now: Now, settings: AppSettings
    ) -> dict[str, Any]:
        return await service.month_trends(db_session, actor=actor, now=now, settings=settings)


class BoardPages(Controller):
    path = "/board"
    include_in_schema = False
    guards = [allow(*service.BOARD_READERS)]  # noqa: RUF012

    @get("/", summary="The supervision board: every site on the district's map")
    async def board(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
    ) -> Template:
        snapshot = await service.board_snapshot(db_session, actor=actor, now=now, settings=settings)
        trends = await service.month_trends(db_session, actor=actor, now=now, settings=settings)
        layout = service.map_layout(
            await service.serving_sites(db_session), settings.board_tile_url
        )
        return render(
            request,
            "board.html",
            snapshot=snapshot,
            layout=layout,
            trends=trends,
            sparks={
                site_id: (sparkline(values), sum(values))
                for site_id, values in trends["sites"].items()
            },
            refresh_seconds=settings.board_refresh_seconds,
        )
