"""Helpers for small hand-made routing problems, and a real local OSRM server.

The OSRM fixture builds the Monaco OpenStreetMap extract (© OpenStreetMap
contributors, ODbL) with the binaries named by ``WARMMEAL_OSRM_BIN``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
MONACO_PBF = REPO.parent / "shared" / "osm" / "monaco.osm.pbf"
OSRM_TOOLS = ("osrm-extract", "osrm-partition", "osrm-customize", "osrm-routed")
OSRM_START_TIMEOUT_SECONDS = 30.0
OSRM_POLL_SECONDS = 0.1
OSRM_MAX_TABLE_SIZE = 1000


@dataclass(frozen=True)
class OsrmServer:
    base_url: str
    max_table_size: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _osrm_bin_or_skip() -> Path:
    configured = os.environ.get("WARMMEAL_OSRM_BIN")
    if not configured:
        pytest.skip("WARMMEAL_OSRM_BIN is not set: no OSRM binaries to run (see Makefile)")
    directory = Path(configured)
    missing = [tool for tool in OSRM_TOOLS if not (directory / tool).is_file()]
    if missing:
        pytest.skip(f"OSRM binaries missing in {directory}: {', '.join(missing)}")
    if not MONACO_PBF.is_file():
        pytest.skip(f"OSM extract not found: {MONACO_PBF}")
    return directory


@pytest.fixture(scope="session")
def osrm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OsrmServer]:
    """A real osrm-routed on 127.0.0.1 over the Monaco extract, for the whole session."""
    binaries = _osrm_bin_or_skip()
    profile = binaries.parent / "share" / "profiles" / "car.lua"
    work = tmp_path_factory.mktemp("osrm")
    pbf = Path(shutil.copy(MONACO_PBF, work / MONACO_PBF.name))
    graph = work / "monaco.osrm"
    for command in (
        [binaries / "osrm-extract", "-p", profile, pbf],
        [binaries / "osrm-partition", graph],
        [binaries / "osrm-customize", graph],
    ):
        subprocess.run(command, cwd=work, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [
            binaries / "osrm-routed",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--algorithm",
            "mld",
            "--max-table-size",
            str(OSRM_MAX_TABLE_SIZE),
            graph,
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(base_url, process)
        yield OsrmServer(base_url=base_url, max_table_size=OSRM_MAX_TABLE_SIZE)
    finally:
        process.terminate()
        process.wait(timeout=OSRM_START_TIMEOUT_SECONDS)


def _wait_until_answering(base_url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + OSRM_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"osrm-routed exited with code {process.returncode}")
        try:
            httpx.get(f"{base_url}/nearest/v1/driving/7.42,43.73", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(OSRM_POLL_SECONDS)
    raise RuntimeError("osrm-routed did not answer in time")
