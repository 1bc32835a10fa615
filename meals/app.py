"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from meals.accounts.api import AuthController
from meals.accounts.sessions import RenewingCookieConfig
from meals.board.api import BoardApi
from meals.bookings.api import BookingController
from meals.bookings.writes import remember_every_senior
from meals.callbacks.api import CallbackApi
from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker
from meals.deliveries.api import DeliveryApi
from meals.deliveries.pages import DeliveryPages
from meals.errors import DomainError
from meals.menus.api import MenuController
from meals.pages.setup import csrf_config, pages_router, template_config
from meals.production.api import KitchenApi, KitchenPages
from meals.seniors.api import SeniorController
from meals.settings import Settings
from meals.settlement.api import SettlementApi
from meals.sites.api import SiteController
from meals.web import (
    data_error_handler,
    domain_error_handler,
    provide_actor,
    provide_now,
    provide_settings,
)

SESSION_SECRET_BYTES = 32
logger = logging.getLogger(__name__)


@get("/health", summary="Liveness and database reachability", tags=["ops"])
async def health(state: State) -> Response[dict[str, str]]:
    engine: AsyncEngine = state.engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # the point of this endpoint is to report any failure
        return Response(
            {"status": "degraded", "database": f"unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    return Response({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Litestar:
    """Build the service for `settings` (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    engine = create_engine(settings)
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler=None,
        create_all=False,
    )
    session_config = RenewingCookieConfig(
        secret=hashlib.sha256(settings.secret_key.encode()).digest()[:SESSION_SECRET_BYTES],
        max_age=int(settings.session_max_age.total_seconds()),
        renew_after=int(settings.session_renew_after.total_seconds()),
        remembered_sessions=settings.session_cache_entries,
        secure=settings.secure_cookies,
        samesite="lax",
        httponly=True,
    )

    async def start_remembering_seniors(app: Litestar) -> None:
        app.state.remembering_seniors = asyncio.create_task(_remember_seniors(engine))

    async def stop_and_dispose_engine(app: Litestar) -> None:
        preload: asyncio.Task | None = app.state.get("remembering_seniors")
        if preload is not None:
            preload.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await preload
        await engine.dispose()

    return Litestar(
        on_startup=[start_remembering_seniors],
        on_shutdown=[stop_and_dispose_engine],
        route_handlers=[
            health,
            AuthController,
            SiteController,
            SeniorController,
            MenuController,
            BookingController,
            KitchenApi,
            KitchenPages,
            DeliveryApi,
            DeliveryPages,
            SettlementApi,
            BoardApi,
            CallbackApi,
            pages_router(),
        ],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        middleware=[session_config.middleware],
        csrf_config=csrf_config(settings),
        template_config=template_config(settings),
        dependencies={
            "actor": Provide(provide_actor),
            "now": Provide(provide_now, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        exception_handlers={DomainError: domain_error_handler, DBAPIError: data_error_handler},
        openapi_config=OpenAPIConfig(
            title="WarmMeal API",
            version="1.0.0",
            path="/schema",
            components=Components(
                security_schemes={
                    "session": SecurityScheme(
                        type="apiKey", name="session", security_scheme_in="cookie"
                    )
                }
            ),
        ),
        state=State(
            {
                "settings": settings,
                "clock": clock or Clock(settings.frozen_now),
                "engine": engine,
                "sessionmaker": create_sessionmaker(engine),
            }
        ),
        debug=settings.debug,
    )


async def _remember_seniors(engine: AsyncEngine) -> None:
    """Preload seniors' booking profiles; a failure only means bookings read them one by one."""
    try:
        remembered = await remember_every_senior(engine)
    except (DBAPIError, OSError) as error:
        logger.warning("seniors' profiles not preloaded: %s", error)
        return
    if remembered:
        logger.info("remembered %d seniors' booking profiles", remembered)


def create_served_app() -> Litestar:
    """The service as `warmmeal serve` runs it (one per worker process).

    Once started, everything built so far (app, mappers, caches) is frozen out of the garbage
    collector's sight, so its full collections stay short and do not stall requests.
    """
    app = create_app()
    app.on_startup.append(_freeze_startup_objects)
    return app


def _freeze_startup_objects() -> None:
    gc.collect()
    gc.freeze()
