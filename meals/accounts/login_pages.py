"""Logging in by phone + PIN or meal-card QR, choosing the senior a family member acts for,
switching language."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select

from meals import cards
from meals.accounts import pin_help
from meals.accounts.models import Account
from meals.accounts.service import authenticate, normalise_login
from meals.accounts.sessions import SESSION_ACCOUNT, SESSION_ROLE
from meals.errors import Conflict, DomainError, Invalid, NotFound
from meals.pages.i18n import LOCALE_COOKIE, LOCALES, pick_locale
from meals.pages.web import ACTING_SENIOR, bind_csrf, language_of, render, safe_next, see_other
from meals.seniors.models import Senior
from meals.web import (
    ALL_ROLES,
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    RecordId,
    allow,
)
from meals.words import Role

LOGIN_MAX = 64
PASSWORD_MAX = 256
TOKEN_MAX = 64
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600
START_PAGE = {
    Role.SENIOR: "/menu",
    Role.FAMILY: "/family",
    Role.SITE_STAFF: "/staff",
    Role.ADMIN: "/staff",
    Role.KITCHEN: "/kitchen",
    Role.DRIVER: "/driver",
    Role.VIEWER: "/board",
}


class LoginForm(msgspec.Struct):
    login: Annotated[str, msgspec.Meta(max_length=LOGIN_MAX)] = ""
    password: Annotated[str, msgspec.Meta(max_length=PASSWORD_MAX)] = ""
    next: str = ""


class PhoneForm(msgspec.Struct):
    phone: Annotated[str, msgspec.Meta(max_length=LOGIN_MAX)] = ""


class CodeForm(msgspec.Struct):
    phone: Annotated[str, msgspec.Meta(max_length=LOGIN_MAX)] = ""
    code: Annotated[str, msgspec.Meta(max_length=LOGIN_MAX)] = ""


class ChooseSeniorForm(msgspec.Struct):
    senior_id: RecordId


def _start_page(role: Role, next_path: str | None = None) -> str:
    if next_path and safe_next(next_path) != "/":
        return safe_next(next_path)
    return START_PAGE.get(role, "/account")


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _begin_session(request: Request, account: Account) -> None:
    session = {SESSION_ACCOUNT: account.id, SESSION_ROLE: account.role.value}
    bind_csrf(request, session)
    request.set_session(session)


class AuthPages(Controller):
    include_in_schema = False

    @get("/", summary="Send each role to its start page")
    async def home(self, request: Request) -> Redirect:
        role = request.session.get(SESSION_ROLE) if request.session else None
        return see_other(_start_page(Role(role)) if role else "/login")

    @get("/login")
    async def login_page(
        self, request: Request, next: FromQuery[str] = "", by: FromQuery[str] = ""
    ) -> Template:
        """Seniors type a phone number and PIN (numeric keyboards); `?by=name` is the form
        with a login name and password, for family and staff."""
        return render(
            request,
            "login.html",
            form=LoginForm(next=safe_next(next)),
            error=None,
            by_name=by == "name",
        )

    @get("/login/forgot", summary="A senior who forgot the PIN: where to have it reset")
    async def forgot_page(self, request: Request, settings: AppSettings) -> Template:
        return render(
            request,
            "forgot_pin.html",
            point=None,
            phone="",
            error=None,
            sms=bool(settings.sms_webhook_url),
        )

    @post("/login/forgot")
    async def forgot(
        self,
        request: Request,
        data: URLEncodedBody[PhoneForm],
        db_session: DbSession,
        now: Now,
        settings: AppSettings,
    ) -> Template:
        sms = bool(settings.sms_webhook_url)
        try:
            point = await pin_help.meal_point_for(
                db_session, phone=data.phone, now=now, settings=settings, client_ip=_ip(request)
            )
        except DomainError as refusal:
            return render(
                request,
                "forgot_pin.html",
                status_code=refusal.status_code,
                point=None,
                phone=data.phone,
                error=language_of(request).error(refusal),
                sms=sms,
            )
        return render(
            request, "forgot_pin.html", point=point, phone=data.phone, error=None, sms=sms
        )

    @post("/login/code/send")
    async def send_code(
        self,
        request: Request,
        data: URLEncodedBody[PhoneForm],
        db_session: DbSession,
        now: Now,
        settings: AppSettings,
    ) -> Template:
        error, status_code = None, 200
        try:
            await pin_help.send_login_code(
                db_session, phone=data.phone, now=now, settings=settings, client_ip=_ip(request)
            )
        except DomainError as refusal:
            error, status_code = language_of(request).error(refusal), refusal.status_code
        return render(
            request,
            "login_code.html",
            status_code=status_code,
            phone=data.phone,
            error=error,
            sent=error is None,
        )

    @post("/login/code")
    async def code_login(
        self,
        request: Request,
        data: URLEncodedBody[CodeForm],
        db_session: DbSession,
        now: Now,
        settings: AppSettings,
    ) -> Response:
        try:
            account = await pin_help.login_with_code(
                db_session,
                phone=data.phone,
                code=data.code,
                now=now,
                settings=settings,
                client_ip=_ip(request),
            )
        except DomainError as refusal:
            return render(
                request,
                "login_code.html",
                status_code=refusal.status_code,
                phone=data.phone,
                error=language_of(request).error(refusal),
                sent=True,
            )
        _begin_session(request, account)
        return see_other(_start_page(account.role))

    @post("/login")
    async def login(
        self,
        request: Request,
        data: URLEncodedBody[LoginForm],
        db_session: DbSession,
        now: Now,
        settings: AppSettings,
    ) -> Response:
        form = LoginForm(login=data.login.strip(), password="", next=safe_next(data.next))
        by_name = not normalise_login(form.login).isdigit() and bool(form.login)
        try:
            if not form.login or not data.password:
                raise Invalid("Please enter your phone number and PIN.", code="missing_login")
            account = await authenticate(
                db_session,
                login=form.login,
                password=data.password,
                now=now,
                settings=settings,
                client_ip=_ip(request),
            )
        except DomainError as refusal:
            message = language_of(request).error(refusal)
            return render(
                request,
                "login.html",
                status_code=refusal.status_code,
                form=form,
                error=message,
                by_name=by_name,
            )
        _begin_session(request, account)
        return see_other(_start_page(account.role, data.next))

    @get("/card/{token:str}", summary="Log in with the QR code on a meal card")
    async def card_login(
        self,
        request: Request,
        token: FromPath[str],
        db_session: DbSession,
        settings: AppSettings,
        now: Now,
    ) -> Redirect:
        senior_id = cards.token_senior_id(token[:TOKEN_MAX])
        senior = await db_session.get(Senior, senior_id) if senior_id else None
        if senior is None or not cards.token_valid(
            settings.key_for(cards.CARD_KEY_PURPOSE), token, senior, settings.district_today(now)
        ):
            raise NotFound("This meal card is not valid; ask your meal point for a new one.")
        account = await db_session.scalar(
            select(Account).where(
                Account.senior_id == senior.id, Account.role == Role.SENIOR, Account.active
            )
        )
        if account is None:
            raise NotFound(
                "{name} has no online account yet; the meal point can book for you.",
                name=senior.name,
            )
        current = request.session.get(SESSION_ROLE) if request.session else None
        if current is not None and current != Role.SENIOR.value:
            raise Conflict(
                "You are logged in as staff on this device. Log out first to open a senior's "
                "meal card, or check the senior in at the counter instead.",
                code="staff_session",
            )
        _begin_session(request, account)
        return see_other("/menu")

    @post("/logout", guards=[allow(*ALL_ROLES)])
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return see_other("/login")

    @get("/lang/{locale:str}", summary="Switch the page language")
    async def switch_language(self, locale: FromPath[str], next: FromQuery[str] = "") -> Redirect:
        response = see_other(safe_next(next))
        if locale in LOCALES:
            response.set_cookie(
                LOCALE_COOKIE, pick_locale(locale), max_age=LOCALE_COOKIE_SECONDS, samesite="lax"
            )
        return response

    @get("/for", guards=[allow(Role.FAMILY)], summary="Family: whom am I booking for")
    async def choose_senior_page(
        self, request: Request, actor: CurrentActor, db_session: DbSession
    ) -> Template | Redirect:
        if len(actor.senior_ids) == 1:  # nobody to choose between
            request.session[ACTING_SENIOR] = next(iter(actor.senior_ids))
            return see_other("/menu")
        seniors = list(
            await db_session.scalars(
                select(Senior).where(Senior.id.in_(actor.senior_ids)).order_by(Senior.name)
            )
        )
        return render(request, "choose_senior.html", seniors=seniors)

    @post("/for", guards=[allow(Role.FAMILY)])
    async def choose_senior(
        self, request: Request, data: URLEncodedBody[ChooseSeniorForm], actor: CurrentActor
    ) -> Redirect:
        if data.senior_id not in actor.senior_ids:
            raise NotFound(
                "There is no senior {senior_id} that you can see.", senior_id=data.senior_id
            )
        request.session[ACTING_SENIOR] = data.senior_id
        return see_other("/menu")

    @get("/account", guards=[allow(*ALL_ROLES)], summary="Who is logged in")
    async def account(self, request: Request, actor: CurrentActor) -> Template:
        return render(request, "account.html", actor=actor)
