"""What every request passes: security headers, and the JSON API's limits.

The headers are added by an app-wide `before_send` hook, so even a 404 for an unknown path
carries them; the limits by a plain ASGI middleware in front of every route, booking included.
The JSON API takes only `application/json` bodies on writes, from no other site's page
(`Origin` / `Sec-Fetch-Site`), at most `json_max_bytes` long and `json_max_depth` deep: refused
with a 4xx sentence before a parser ever sees the body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from meals.settings import Settings

API_PREFIX = "/api/"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_TYPES = frozenset({b"application/json"})
SCHEMA_PREFIX = "/schema"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    # The driver's page still carries one inline script (templates/deliveries/_stop.html).
    "script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = b"max-age=31536000; includeSubDomains"


def security_headers(settings: Settings, path: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (the API docs page loads its viewer, so no CSP)."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if not path.startswith(SCHEMA_PREFIX):
        headers.append((b"content-security-policy", CSP.encode()))
    if settings.secure_cookies:
        headers.append((b"strict-transport-security", HSTS))
    return headers


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, counted without parsing it
    (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def header_hook(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """The `before_send` hook adding the security headers to every response."""
    everywhere = security_headers(settings, "/")
    docs = security_headers(settings, SCHEMA_PREFIX)

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            added = docs if scope["path"].startswith(SCHEMA_PREFIX) else everywhere
            message["headers"] = [*message.get("headers", ()), *added]

    return add_headers


class EdgeMiddleware:
    """Enforces the JSON API's limits on writes (see the module)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in WRITES
            and scope["path"].startswith(API_PREFIX)
        ):
            refusal = self._refuse_origin(scope)
            if refusal is None:
                body, refusal = await self._read_body(scope, receive)
            if refusal is not None:
                await _answer(send, *refusal)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _refuse_origin(self, scope: Scope) -> tuple[int, str, str] | None:
        headers = scope["headers"]
        if _header(headers, b"sec-fetch-site") == b"cross-site":
            return 403, "cross_site", "Requests from another site's pages are not accepted."
        origin = _header(headers, b"origin")
        if origin is None:
            return None
        host = _header(headers, b"host") or b""
        if urlsplit(origin.decode("latin-1")).netloc.encode("latin-1") != host:
            return 403, "cross_site", "Requests from another site's pages are not accepted."
        return None

    async def _read_body(
        self, scope: Scope, receive: Receive
    ) -> tuple[bytes, tuple[int, str, str] | None]:
        limit = self.settings.json_max_bytes
        length = _header(scope["headers"], b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return b"", _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not body:
            return body, None
        content_type = (_header(scope["headers"], b"content-type") or b"").split(b";")[0]
        if content_type.strip().lower() not in JSON_TYPES:
            return body, (
                415,
                "unsupported_media_type",
                "Send the request body as JSON, with the header Content-Type: application/json.",
            )
        depth_limit = self.settings.json_max_depth
        if body.count(b"[") + body.count(b"{") > depth_limit and json_depth(body) > depth_limit:
            return body, (
                400,
                "too_deep",
                f"The JSON body is nested more than {depth_limit} levels deep; "
                "send a flatter document.",
            )
        return body, None


def _too_large(limit: int) -> tuple[int, str, str]:
    return 413, "too_large", f"The request body is larger than {limit} bytes; send less."


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then the server's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, code: str, detail: str) -> None:
    body = msgspec.json.encode({"status_code": status, "code": code, "detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
