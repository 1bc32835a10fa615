"""Page plumbing: the language of a request, rendering, flash messages and friendly errors."""

from __future__ import annotations

from collections.abc import Collection
from hmac import compare_digest
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRF_SECRET_LENGTH
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from sqlalchemy.exc import DBAPIError

from meals.accounts.sessions import SESSION_ACCOUNT, SESSION_ROLE
from meals.errors import DomainError, Invalid
from meals.ops.requests import log_unhandled
from meals.pages import labels
from meals.pages.i18n import LOCALE_COOKIE, LOCALES, N_, Language, pick_locale
from meals.web import is_transient_conflict, is_unstorable_value

FLASH_KEY = "flash"
SESSION_CSRF = "csrf"  # the CSRF token secret a session's forms must carry
CSRF_FORM_FIELD = "_csrf_token"
CSRF_HEADER = "x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACTING_SENIOR = "acting_senior_id"
CSRF_FAILURE = "CSRF"
CSRF_COOKIE = "csrftoken"
LOGIN_PATH = "/login"
HOME_PATH = "/"

MESSAGE_BY_STATUS = {
    400: N_("Something in the form is missing or not valid. Please go back and check it."),
    403: N_("Your account cannot open this page."),
    404: N_("This page does not exist."),
    405: N_("This page cannot be used that way. Please go back and try again."),
}
CSRF_MESSAGE = N_("This form has expired. Please go back, reload the page and try again.")
FALLBACK_MESSAGE = N_("Something went wrong. Please go back and try again.")
SIMULTANEOUS_CHANGE_MESSAGE = N_(
    "Someone changed the same thing at the same moment, so nothing was saved. "
    "Please go back and try again."
)
UNSTORABLE_MESSAGE = N_(
    "Something in the form contains a character that cannot be saved (such as an invisible "
    "control character). Please go back, correct it and try again."
)


def language_of(request: Request) -> Language:
    return Language(pick_locale(request.cookies.get(LOCALE_COOKIE)))


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login or a language switch (no open redirect)."""
    if not target:
        return HOME_PATH
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return HOME_PATH
    return target


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """Keep a short, already translated message for the next page the user sees."""
    messages = list(request.session.get(FLASH_KEY, [])) if request.session else []
    messages.append([kind, message])
    request.session[FLASH_KEY] = messages


def _session_of(request: Request) -> dict[str, Any]:
    """The request's session, or none where no session was read (an unknown URL)."""
    return request.scope.get("session") or {}


def _take_flashes(request: Request) -> list[list[str]]:
    session = _session_of(request)
    if FLASH_KEY not in session:
        return []
    return list(session.pop(FLASH_KEY))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    """A page in the user's language, with the helpers every template uses."""
    language = language_of(request)
    return Template(
        template_name=template,
        status_code=status_code,
        context={
            "_": language.gettext,
            "lang": language,
            "locales": LOCALES,
            "role": _session_of(request).get(SESSION_ROLE),
            "flashes": _take_flashes(request),
            "here": request.url.path,
            "labels": labels.ALL,
            **context,
        },
    )


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=HTTP_303_SEE_OTHER)


def _back_link(request: Request) -> str:
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.url.netloc:
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    return HOME_PATH


def error_page(request: Request, message: str, status_code: int) -> Template:
    return render(
        request, "error.html", status_code=status_code, message=message, back=_back_link(request)
    )


API_PREFIXES = ("/api/", "/schema", "/health", "/metrics")


def unmatched_route_error(request: Request, exc: HTTPException) -> Response[Any]:
    """A URL no route answers (404, 405): JSON under /api/, a page in the user's language
    everywhere else."""
    if request.url.path.startswith(API_PREFIXES):
        return Response(
            {"status_code": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )
    return page_http_error(request, exc)


def page_domain_error(request: Request, exc: DomainError) -> Response[Any]:
    """A refusal from a service: the sentence in the user's language, with the HTTP status."""
    return error_page(request, language_of(request).error(exc), exc.status_code)


def page_http_error(request: Request, exc: HTTPException) -> Response[Any]:
    """Login redirects; every other HTTP error as a page with a plain sentence, never a code."""
    language = language_of(request)
    if isinstance(exc, NotAuthorizedException):
        if request.method == "GET":
            return see_other(f"{LOGIN_PATH}?next={quote(request.url.path)}")
        return see_other(LOGIN_PATH)
    if isinstance(exc, PermissionDeniedException) and CSRF_FAILURE in str(exc.detail):
        return error_page(request, language.gettext(CSRF_MESSAGE), exc.status_code)
    if isinstance(exc, ValidationException | NotFoundException | PermissionDeniedException):
        message = MESSAGE_BY_STATUS[exc.status_code]
    else:
        message = MESSAGE_BY_STATUS.get(exc.status_code, FALLBACK_MESSAGE)
    return error_page(request, language.gettext(message), exc.status_code)


def page_data_error(request: Request, exc: DBAPIError) -> Response[Any]:
    """A simultaneous change or a value the database cannot store, as a page; any other
    database failure stays a 500."""
    language = language_of(request)
    if is_transient_conflict(exc):
        return error_page(request, language.gettext(SIMULTANEOUS_CHANGE_MESSAGE), HTTP_409_CONFLICT)
    if is_unstorable_value(exc):
        return error_page(request, language.gettext(UNSTORABLE_MESSAGE), HTTP_400_BAD_REQUEST)
    request.logger.exception("database error")
    return error_page(request, language.gettext(FALLBACK_MESSAGE), HTTP_500_INTERNAL_SERVER_ERROR)


def page_internal_error(request: Request, exc: Exception) -> Response[Any]:
    """An unhandled error on a page: logged with its traceback, shown as a plain sentence."""
    log_unhandled(request, exc)
    language = language_of(request)
    return error_page(request, language.gettext(FALLBACK_MESSAGE), HTTP_500_INTERNAL_SERVER_ERROR)


def _token_secret(token: str | None) -> str | None:
    return token[:CSRF_SECRET_LENGTH] if token and len(token) > CSRF_SECRET_LENGTH else None


def bind_csrf(request: Request, session: dict[str, Any]) -> None:
    """Tie a new login's session to the CSRF token its browser holds now."""
    secret = _token_secret(request.cookies.get(CSRF_COOKIE))
    if secret is not None:
        session[SESSION_CSRF] = secret


async def csrf_bound_to_session(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """A logged-in form must carry the CSRF token of its own session.

    Litestar's CSRF check (double submit) only compares the form with the cookie, and a cookie
    can be planted from a sibling site; this ties the token to the session made at login. A
    session made without one (logged in through the API) is tied at its first form.
    """
    if connection.method in SAFE_METHODS or not connection.session:
        return
    if connection.session.get(SESSION_ACCOUNT) is None:
        return
    sent = connection.headers.get(CSRF_HEADER)
    if sent is None:
        form = await Request(connection.scope, connection.receive).form()
        sent = form.get(CSRF_FORM_FIELD)
    secret = _token_secret(sent if isinstance(sent, str) else None)
    bound = connection.session.get(SESSION_CSRF)
    if bound is None and secret is not None:
        connection.session[SESSION_CSRF] = secret
        return
    if secret is None or not compare_digest(secret, str(bound)):
        raise PermissionDeniedException(f"{CSRF_FAILURE} token is not this session's")


FormT = TypeVar("FormT")


async def read_form(
    request: Request,
    form_type: type[FormT],
    *,
    lists: Collection[str] = (),
    times: Collection[str] = (),
) -> FormT:
    """A submitted form as `form_type`: blank fields take their defaults, `lists` are fields
    that repeat (checkboxes), `times` are time inputs (browsers send HH:MM, without seconds).
    A value that does not fit is refused with the field's name."""
    form = await request.form()
    values: dict[str, Any] = {}
    for name in {key for key in form if key != CSRF_FORM_FIELD}:
        if name in lists:
            values[name] = [v for v in form.getall(name) if v != ""]
        elif (value := form.get(name)) not in ("", None):
            values[name] = value.strip() if isinstance(value, str) else value
    for name in lists:
        values.setdefault(name, [])
    for name in times:
        if isinstance(values.get(name), str) and len(values[name]) == len("HH:MM"):
            values[name] += ":00"
    try:
        return msgspec.convert(values, form_type, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("$.", 1)[-1].split("[")[0].strip("`") if "$." in str(exc) else ""
        raise Invalid(
            "The field “{field}” is missing or not valid ({reason}). Please correct it.",
            code="bad_form",
            field=field,
            reason=str(exc).split(" - at ")[0],
        ) from None
