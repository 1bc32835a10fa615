"""Wiring the pages into the app: router, templates, CSRF and static files."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError

from meals.accounts.binding_api import BindingPages
from meals.accounts.console_pages import AccountConsolePages
from meals.accounts.login_pages import AuthPages
from meals.accounts.pages import AccountSessionPages
from meals.audit.api import AuditPages
from meals.board.api import BoardPages
from meals.bookings.counter_pages import StaffPages
from meals.bookings.senior_pages import SeniorPages
from meals.callbacks.api import CallbackPages
from meals.errors import DomainError
from meals.menus.dish_api import DishPages
from meals.menus.pages import MenuCyclePages, PublishedMenuPages
from meals.notifications.pages import FamilyPages
from meals.pages.jinja import template_config
from meals.pages.web import (
    CSRF_COOKIE,
    csrf_bound_to_session,
    page_data_error,
    page_domain_error,
    page_http_error,
    page_internal_error,
)
from meals.production.pages import KitchenPages
from meals.seniors.pages import SeniorConsolePages
from meals.settings import Settings
from meals.settlement.api import SettlementPages
from meals.sites.fleet_api import FleetPages
from meals.sites.pages import SitePages
from meals.subsidies.api import SubsidyPages

STATIC_DIR = Path(__file__).resolve().parent / "static"
NOT_FOR_FORMS = ["^/api/"]  # JSON clients rely on SameSite=Lax session cookies instead


def pages_router() -> Router:
    """Every page, with errors shown as pages in the user's language rather than JSON."""
    return Router(
        path="/",
        route_handlers=[
            AuthPages,
            AccountSessionPages,
            SeniorPages,
            FamilyPages,
            StaffPages,
            SettlementPages,
            BoardPages,
            CallbackPages,
            MenuCyclePages,
            PublishedMenuPages,
            AuditPages,
            AccountConsolePages,
            SeniorConsolePages,
            BindingPages,
            SubsidyPages,
            SitePages,
            FleetPages,
            DishPages,
            KitchenPages,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        exception_handlers={
            DomainError: page_domain_error,
            HTTPException: page_http_error,
            DBAPIError: page_data_error,
            HTTP_500_INTERNAL_SERVER_ERROR: page_internal_error,
        },
        guards=[csrf_bound_to_session],
        include_in_schema=False,
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.key_for("csrf").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        exclude=NOT_FOR_FORMS,
    )


__all__ = ["csrf_config", "pages_router", "template_config"]
