"""Every request: an id (kept from a proxy's X-Request-ID, else new), one JSON log line, its
latency in the metrics; and every unhandled error logged once with its traceback.

Hooked in by subclassing the app's ASGI entry point, the one place every request passes, 404s
and errors raised before routing included (route middleware sees only matched routes).
"""

from __future__ import annotations

import logging
import re
import uuid
from time import perf_counter
from typing import Any

from litestar import Litestar, Request, Response
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Message, Receive, Scope, Send

from meals.ops.logs import REQUEST_ID
from meals.ops.metrics import REQUEST_SECONDS

REQUEST_ID_HEADER = b"x-request-id"
INCOMING_ID = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")
UNMATCHED_ROUTE = "unmatched"
access_log = logging.getLogger("meals.access")
error_log = logging.getLogger("meals.errors")


def _incoming_id(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == REQUEST_ID_HEADER and INCOMING_ID.match(value):
            return value.decode()
    return None


class ObservedLitestar(Litestar):
    """Litestar, with each HTTP request given an id, logged and timed (see the module)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = perf_counter()
        status = HTTP_500_INTERNAL_SERVER_ERROR

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await super().__call__(scope, receive, send_with_id)
        finally:
            seconds = perf_counter() - started
            route = scope.get("path_template") or UNMATCHED_ROUTE
            REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(seconds)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            REQUEST_ID.reset(token)


def log_unhandled(request: Request, exc: Exception) -> None:
    """One log record for an error nobody handled: its traceback and the request's id."""
    error_log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )


def internal_error(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    """An unhandled error: logged with its traceback, answered with the request id to quote."""
    log_unhandled(request, exc)
    return Response(
        {
            "status_code": HTTP_500_INTERNAL_SERVER_ERROR,
            "code": "internal_error",
            "detail": "Something went wrong on our side and nothing more was done. Please try "
            "again; if it happens again, tell the operator this request id.",
            "request_id": REQUEST_ID.get(),
        },
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )
