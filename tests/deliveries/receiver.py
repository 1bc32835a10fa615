"""A real local HTTP server standing in for the welfare webhook receiver."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    """What the receiver got; it answers ``failures_first`` requests with 503 before 200s."""

    url: str = ""
    failures_first: int = 0
    received: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)

    def events(self, event: str) -> list[dict]:
        return [
            body
            for body, code in zip(self.received, self.answered, strict=True)
            if code == 200 and body["event"] == event
        ]


@contextlib.contextmanager
def webhook_receiver(failures_first: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(failures_first=failures_first)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                code = 503 if len(receiver.received) < receiver.failures_first else 200
                receiver.received.append(body)
                receiver.keys.append(self.headers.get("Idempotency-Key", ""))
                receiver.answered.append(code)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/welfare"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
