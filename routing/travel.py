"""Travel-time providers: coordinates in, a :class:`TravelMatrix` (seconds, metres) out.

Two providers share one interface, :class:`TravelTimeProvider`:

- :class:`StraightLineProvider` (default, needs nothing): haversine distance times a
  detour factor, driven at a configured speed.
- :class:`OsrmProvider`: the ``/table`` service of an OSRM server over HTTP, with
  time-outs, retries, chunking for large matrices and a cache keyed by coordinates.
  Road data used by OSRM is typically OpenStreetMap: "© OpenStreetMap
  contributors", available under the ODbL (https://www.openstreetmap.org/copyright).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from routing.model import Coordinates, TravelMatrix

EARTH_RADIUS_METRES = 6_371_008.8
"""Mean Earth radius (IUGG)."""
OSRM_OK = "Ok"


class TravelTimeProvider(Protocol):
    """Anything that turns a list of points into duration and distance matrices."""

    def matrix(self, points: Sequence[Coordinates]) -> TravelMatrix: ...


def haversine_metres(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance on a spherical Earth."""
    lat_a, lat_b = math.radians(a.lat), math.radians(b.lat)
    d_lat = lat_b - lat_a
    d_lon = math.radians(b.lon - a.lon)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(d_lon / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(h))


@dataclass(frozen=True, slots=True)
class StraightLineParams:
    """Roads are longer than the crow flies; vans in a district are slow."""

    detour_factor: float = 1.3
    speed_metres_per_second: float = 25_000 / 3_600


@dataclass(frozen=True, slots=True)
class StraightLineProvider:
    params: StraightLineParams = StraightLineParams()

    def matrix(self, points: Sequence[Coordinates]) -> TravelMatrix:
        distances = tuple(
            tuple(round(haversine_metres(a, b) * self.params.detour_factor) for b in points)
            for a in points
        )
        durations = tuple(
            tuple(round(metres / self.params.speed_metres_per_second) for metres in row)
            for row in distances
        )
        return TravelMatrix(durations=durations, distances=distances)


class OsrmError(RuntimeError):
    """The OSRM server could not give a usable answer."""


class OsrmUnavailableError(OsrmError):
    """The server is down, unreachable, or kept failing after the retries."""


class OsrmNoRouteError(OsrmError):
    """The server answered, but has no route between some points (a null cell)."""


@dataclass(frozen=True, slots=True)
class OsrmParams:
    """``max_locations`` must not exceed the server's ``--max-table-size``."""

    base_url: str
    profile: str = "driving"
    timeout_seconds: float = 10.0
    retries: int = 2
    retry_backoff_seconds: float = 0.2
    max_locations: int = 100
    exclude: str | None = None
    """Road classes to avoid, as the server's profile names them (e.g. ``"motorway"``)."""


Pair = tuple[tuple[float, float], tuple[float, float]]


class OsrmProvider:
    """Duration/distance matrices from OSRM ``/table``; results are cached per point pair."""

    def __init__(self, params: OsrmParams, client: httpx.Client | None = None) -> None:
        if params.max_locations < 2:
            raise ValueError("max_locations must be at least 2")
        self.params = params
        self._client = client or httpx.Client(timeout=params.timeout_seconds)
        self._cache: dict[Pair, tuple[int, int]] = {}
        self.requests_made = 0

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OsrmProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def matrix(self, points: Sequence[Coordinates]) -> TravelMatrix:
        keys = [(point.lat, point.lon) for point in points]
        unique = list(dict.fromkeys(keys))
        missing = [k for k in unique if any((k, o) not in self._cache for o in unique)]
        if missing:
            self._fetch(missing, unique)
        durations = tuple(tuple(self._cache[(a, b)][0] for b in keys) for a in keys)
        distances = tuple(tuple(self._cache[(a, b)][1] for b in keys) for a in keys)
        return TravelMatrix(durations=durations, distances=distances)

    def _fetch(
        self, sources: list[tuple[float, float]], targets: list[tuple[float, float]]
    ) -> None:
        """Fill the cache for sources x targets (and back), in chunks the server accepts."""
        block = self.params.max_locations // 2
        for s in range(0, len(sources), block):
            for t in range(0, len(targets), block):
                self._fetch_block(sources[s : s + block], targets[t : t + block])
                self._fetch_block(targets[t : t + block], sources[s : s + block])

    def _fetch_block(
        self, sources: list[tuple[float, float]], targets: list[tuple[float, float]]
    ) -> None:
        points = list(dict.fromkeys([*sources, *targets]))
        if len(points) == 1:
            self._cache[(points[0], points[0])] = (0, 0)
            return
        position = {point: index for index, point in enumerate(points)}
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        url = f"{self.params.base_url.rstrip('/')}/table/v1/{self.params.profile}/{coordinates}"
        query = {
            "annotations": "duration,distance",
            "sources": ";".join(str(position[p]) for p in sources),
            "destinations": ";".join(str(position[p]) for p in targets),
        }
        if self.params.exclude:
            query["exclude"] = self.params.exclude
        body = self._get(url, query)
        for row, source in zip(body["durations"], sources, strict=True):
            for cell, target in zip(row, targets, strict=True):
                if cell is None:
                    raise OsrmNoRouteError(
                        f"OSRM has no route from {source} to {target} (null cell in /table)"
                    )
        for i, source in enumerate(sources):
            for j, target in enumerate(targets):
                distance = body["distances"][i][j]
                if distance is None:
                    raise OsrmNoRouteError(f"OSRM has no distance from {source} to {target}")
                self._cache[(source, target)] = (round(body["durations"][i][j]), round(distance))

    def _get(self, url: str, query: dict[str, str]) -> dict:
        last_error: Exception | None = None
        for attempt in range(self.params.retries + 1):
            if attempt:
                time.sleep(self.params.retry_backoff_seconds * attempt)
            try:
                response = self._client.get(url, params=query)
                self.requests_made += 1
            except httpx.TransportError as error:
                last_error = error
                continue
            if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
                last_error = OsrmError(f"HTTP {response.status_code}")
                continue
            body = response.json()
            if body.get("code") != OSRM_OK:
                raise OsrmError(f"OSRM /table failed: {body.get('code')}: {body.get('message')}")
            return body
        raise OsrmUnavailableError(
            f"OSRM at {self.params.base_url} did not answer after "
            f"{self.params.retries + 1} attempts: {last_error}"
        ) from last_error


def travel_matrix(
    depot: Coordinates, stops: Sequence[Coordinates], provider: TravelTimeProvider | None = None
) -> TravelMatrix:
    """Matrix in the solver's order (kitchen first, then stops); straight line by default."""
    return (provider or StraightLineProvider()).matrix([depot, *stops])
