"""A real local Web Push endpoint: it stands in for a browser's push service, keeps what it
received, and holds the subscriber's keys, so a test can decrypt the message as a phone would."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class PushEndpoint:
    url: str = ""
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answer: int = 201

    def subscription(self) -> dict:
        """What a browser's PushSubscription.toJSON() gives the page."""
        public = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.url, "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)}}

    def messages(self) -> list[dict]:
        """Every message received, decrypted with the subscriber's keys."""
        return [
            json.loads(
                http_ece.decrypt(
                    body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
                )
            )
            for _headers, body in self.received
        ]


@contextlib.contextmanager
def push_endpoint() -> Iterator[PushEndpoint]:
    endpoint = PushEndpoint()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                endpoint.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(endpoint.answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/push/phone-1"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
