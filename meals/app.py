"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from functools import partial

from advanced_alchemy.exceptions import RepositoryError
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from advanced_alchemy.extensions.litestar._utils import get_aa_scope_state
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Response
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Scope
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from meals.accounts.api import AccountAdminController, AuthController
from meals.accounts.binding_api import BindingApi
from meals.accounts.sessions import STORE_NAME, DatabaseSessionConfig, DatabaseSessionStore
from meals.audit.api import AuditApi
from meals.board.api import BoardApi
from meals.bookings.api import BookingController
from meals.bookings.writes import remember_every_senior
from meals.callbacks.api import CallbackApi
from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker
from meals.deliveries.api import DeliveryApi
from meals.deliveries.pages import DeliveryPages
from meals.edge import EdgeMiddleware, header_hook
from meals.errors import DomainError
from meals.jobs.queue import WebQueue
from meals.menus.api import MenuController
from meals.menus.cycles_api import MenuCycleController, MenuEditController
from meals.menus.dish_api import DishApi
from meals.notifications.service import Notifier
from meals.ops.logs import configure_logging, install_request_ids
from meals.ops.metrics import metrics
from meals.ops.openapi import TimeOfDaySchema, document_refusals
from meals.ops.requests import ObservedLitestar, internal_error
from meals.pages.setup import csrf_config, pages_router, template_config
from meals.pages.web import unmatched_route_error
from meals.production.api import KitchenApi
from meals.seniors.api import SeniorController
from meals.settings import Settings
from meals.settlement.api import SettlementApi
from meals.sites.api import SiteController
from meals.sites.fleet_api import FleetApi
from meals.subsidies.api import SubsidyApi
from meals.web import (
    data_error_handler,
    domain_error_handler,
    provide_actor,
    provide_now,
    provide_settings,
    repository_error_handler,
)

logger = logging.getLogger(__name__)
SESSIONLESS_PATHS = ["^/health$", "^/static/", "^/metrics$"]


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
    clock = clock or Clock(settings.frozen_now)
    session_store = DatabaseSessionStore(
        engine,
        Clock(),  # sessions age in real time, even when the service's clock is pinned
        idle_timeout=settings.session_idle_timeout,
        absolute_lifetime=settings.session_absolute_lifetime,
        touch_interval=settings.session_touch_interval,
    )
    session_config = DatabaseSessionConfig(
        max_age=int(settings.session_absolute_lifetime.total_seconds()),
        secure=settings.secure_cookies,
        samesite="lax",
        httponly=True,
        exclude=SESSIONLESS_PATHS,
        release_request_connection=partial(_close_request_session, db_config),
    )

    async def start_remembering_seniors(app: Litestar) -> None:
        app.state.remembering_seniors = asyncio.create_task(_remember_seniors(engine))

    sessionmaker = create_sessionmaker(engine)
    planner = WebQueue(settings, sessionmaker, clock)
    # Sends are retried in real time, even with the service's clock pinned for a demo.
    notifier = Notifier(sessionmaker, settings, Clock().now)

    def start_notifier(_app: Litestar) -> None:
        notifier.start()

    async def stop_and_dispose_engine(app: Litestar) -> None:
        await notifier.stop()
        await planner.close()
        preload: asyncio.Task | None = app.state.get("remembering_seniors")
        if preload is not None:
            preload.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await preload
        await engine.dispose()

    install_request_ids()
    return ObservedLitestar(
        on_startup=[document_refusals, start_remembering_seniors, start_notifier],
        on_shutdown=[stop_and_dispose_engine],
        route_handlers=[
            health,
            metrics,
            AuthController,
            AccountAdminController,
            SiteController,
            SeniorController,
            MenuController,
            MenuCycleController,
            MenuEditController,
            BookingController,
            KitchenApi,
            DeliveryApi,
            DeliveryPages,
            SettlementApi,
            BoardApi,
            CallbackApi,
            AuditApi,
            BindingApi,
            SubsidyApi,
            FleetApi,
            DishApi,
            pages_router(),
        ],
        plugins=[SQLAlchemyPlugin(config=db_config), TimeOfDaySchema()],
        middleware=[DefineMiddleware(EdgeMiddleware, settings=settings), session_config.middleware],
        stores={STORE_NAME: session_store},
        before_send=[header_hook(settings)],
        csrf_config=csrf_config(settings),
        template_config=template_config(settings),
        dependencies={
            "actor": Provide(provide_actor),
            "now": Provide(provide_now, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        exception_handlers={
            DomainError: domain_error_handler,
            DBAPIError: data_error_handler,
            RepositoryError: repository_error_handler,
            NotFoundException: unmatched_route_error,
            MethodNotAllowedException: unmatched_route_error,
            HTTP_500_INTERNAL_SERVER_ERROR: internal_error,
        },
        # Unhandled errors are logged once, by `internal_error`, as JSON with the request id.
        logging_config=LoggingConfig(
            configure_root_logger=False,
            log_exceptions="never",
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
        ),
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
                "clock": clock,
                "engine": engine,
                "sessionmaker": sessionmaker,
                "planner": planner,
                "notifier": notifier,
            }
        ),
        debug=settings.debug,
    )


async def _close_request_session(db_config: SQLAlchemyAsyncConfig, scope: Scope) -> None:
    """Close the request's ORM session (its handler is done), giving its connection back."""
    session = get_aa_scope_state(scope, db_config.session_scope_key)
    if session is not None:
        await session.close()


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
    configure_logging()
    app = create_app()
    app.on_startup.append(_freeze_startup_objects)
    return app


def _freeze_startup_objects() -> None:
    gc.collect()
    gc.freeze()
