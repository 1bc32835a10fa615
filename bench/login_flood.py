"""Login flood benchmark: `GET /health` latency while wrong logins arrive at a steady rate.

Issue 17's yardstick: 20 wrong logins a second must leave `/health` p99 under 50 ms (argon2 runs
in a bounded thread pool, off the event loop). The throttle would refuse most of a flood from
one address before any password check, so this run lifts it (WARMMEAL_LOGIN_*_FREE_FAILURES and
WARMMEAL_LOGIN_IP_MAX_ACCOUNTS set high): every attempt costs a full argon2 check, the worst
case. Serves one worker on a fresh SQLite demo district.

    .venv/bin/python bench/login_flood.py --rate 20 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.booking_load import SECRET  # noqa: E402
from meals import migrate  # noqa: E402
from meals.settings import Settings  # noqa: E402
from tests.conftest import NOW, _seed  # noqa: E402
from tests.server import free_port, running_process  # noqa: E402

HEALTH_INTERVAL_SECONDS = 0.02
UNTHROTTLED = "1000000"


async def _flood(client: httpx.AsyncClient, rate: float, until: float) -> int:
    sent = 0
    tasks = []
    while time.monotonic() < until:
        tasks.append(
            asyncio.create_task(
                client.post(
                    "/api/v1/auth/login",
                    json={"login": f"1390000{sent % 10_000:04d}", "password": "000000"},
                )
            )
        )
        sent += 1
        await asyncio.sleep(1 / rate)
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    return sum(1 for a in answers if isinstance(a, httpx.Response) and a.status_code == 401)


async def _health(client: httpx.AsyncClient, until: float) -> list[float]:
    latencies = []
    while time.monotonic() < until:
        started = time.perf_counter()
        response = await client.get("/health")
        assert response.status_code == 200
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(HEALTH_INTERVAL_SECONDS)
    return latencies


async def _measure(base: str, rate: float, seconds: float) -> None:
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as flooder,
        httpx.AsyncClient(base_url=base, timeout=30) as prober,
    ):
        quiet = await _health(prober, time.monotonic() + 3)
        until = time.monotonic() + seconds
        checked, loaded = await asyncio.gather(_flood(flooder, rate, until), _health(prober, until))
    for name, figures in (("quiet", quiet), (f"{rate:g} logins/s", loaded)):
        cuts = statistics.quantiles(figures, n=100)
        print(
            f"/health {name}: p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms ({len(figures)} probes)"
        )
    print(f"wrong logins checked by argon2: {checked}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/flood.sqlite3"
        settings = Settings(database_url=url, secret_key=SECRET, var_dir=Path(folder))
        migrate.upgrade(settings)
        asyncio.run(_seed(settings))
        port = free_port()
        env = {
            **os.environ,
            "WARMMEAL_DATABASE_URL": url,
            "WARMMEAL_VAR_DIR": folder,
            "WARMMEAL_SECRET_KEY": SECRET,
            "WARMMEAL_SECURE_COOKIES": "0",
            "WARMMEAL_FROZEN_NOW": NOW.isoformat(),
            "WARMMEAL_LOGIN_FREE_FAILURES": UNTHROTTLED,
            "WARMMEAL_LOGIN_ACCOUNT_FREE_FAILURES": UNTHROTTLED,
            "WARMMEAL_LOGIN_IP_FREE_FAILURES": UNTHROTTLED,
            "WARMMEAL_LOGIN_IP_MAX_ACCOUNTS": UNTHROTTLED,
        }
        command = [sys.executable, "-m", "meals.cli", "serve", "--port", str(port)]
        with running_process(command, env, Path(folder) / "server.log", port) as base:
            asyncio.run(_measure(base, args.rate, args.seconds))


if __name__ == "__main__":
    main()
