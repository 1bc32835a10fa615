"""Run the real service (`warmmeal serve`) in a subprocess for tests that need real processes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx

STARTUP_SECONDS = 30
POLL_SECONDS = 0.2
STOP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_process(
    args: list[str],
    env: dict[str, str],
    log_path: Path,
    port: int,
    ready_path: str = "/health",
    startup_seconds: float = STARTUP_SECONDS,
) -> Iterator[str]:
    """Run an HTTP server process until `ready_path` answers below 500; yield its base URL."""
    log = log_path.open("w")
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(log_path.read_text())
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}{ready_path}", timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + log_path.read_text())
            time.sleep(POLL_SECONDS)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def running_server(
    database_url: str, var_dir: Path, *, now: datetime, secret: str, workers: int = 1
) -> Iterator[str]:
    """Start `warmmeal serve` on a free port with a frozen clock; yield its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "WARMMEAL_DATABASE_URL": database_url,
        "WARMMEAL_VAR_DIR": str(var_dir),
        "WARMMEAL_SECRET_KEY": secret,
        "WARMMEAL_SECURE_COOKIES": "0",  # the tests talk plain HTTP to 127.0.0.1
        "WARMMEAL_FROZEN_NOW": now.isoformat(),
    }
    args = [sys.executable, "-m", "meals.cli", "serve", "--port", str(port)]
    with running_process(
        [*args, "--workers", str(workers)], env, var_dir / "server.log", port
    ) as base:
        yield base
