"""The login session cookie: Litestar's encrypted cookie, re-sent only when there is a reason.

Litestar's cookie backend encrypts the session and sends it again with every response, to
slide its expiry forward. On a booking that costs more than the booking rules, so this one
sends it when the session changed (login, logout, language) or when it is due for renewal
(`session_renew_after`, a setting): an active user's session still never expires.
"""

from __future__ import annotations

import time
from base64 import b64decode
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from litestar.connection import ASGIConnection
from litestar.middleware.session.client_side import (
    AAD,
    ClientSideSessionBackend,
    CookieBackendConfig,
)
from litestar.serialization import decode_json
from litestar.types import Empty, Message, ScopeSession

RENEW_AT = "renew_at"
_LOADED = "warmmeal.session_loaded"


class RenewingCookieBackend(ClientSideSessionBackend):
    config: RenewingCookieConfig

    def __init__(self, config: RenewingCookieConfig) -> None:
        super().__init__(config)
        self._opened: LRUCache[bytes, tuple[int, dict[str, Any]]] | None = (
            LRUCache(maxsize=config.remembered_sessions) if config.remembered_sessions else None
        )

    def load_data(self, data: list[bytes]) -> dict[str, Any]:
        """The session in a cookie: decrypted, or recalled from when the same cookie was.

        A cookie is sent unchanged with every request until it is renewed, and decrypting it
        cost more than a booking's rules. It is recalled only until the expiry sealed into it.
        """
        cookie = b"".join(data)
        if self._opened is not None:
            recalled = self._opened.get(cookie)
            if recalled is not None and recalled[0] > time.time():
                return dict(recalled[1])
        session = super().load_data(data)
        if session and self._opened is not None:
            decoded = b64decode(cookie)
            sealed = decode_json(decoded[decoded.find(AAD) :].replace(AAD, b""))
            self._opened[cookie] = (int(sealed["expires_at"]), dict(session))
        return session

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        if data:
            connection.scope[_LOADED] = dict(data)  # type: ignore[literal-required]
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        loaded = connection.scope.get(_LOADED)
        now = time.time()
        if loaded is not None and scope_session == loaded and now < loaded.get(RENEW_AT, 0):
            return
        if scope_session and scope_session is not Empty:
            scope_session[RENEW_AT] = int(now) + self.config.renew_after
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RenewingCookieConfig(CookieBackendConfig):
    _backend_class = RenewingCookieBackend  # type: ignore[assignment]

    renew_after: int = 0
    """Seconds after it was sent that an unchanged session cookie is sent again."""
    remembered_sessions: int = 0
    """Decrypted session cookies each worker remembers (0: decrypt every one)."""
