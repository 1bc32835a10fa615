"""The printable route sheet and its map: an SVG drawn from coordinates, no map tiles needed.

The map projects latitude/longitude onto the page (equirectangular, scaled by the cosine of
the latitude, which is exact enough across a district) and draws the route as numbered
points joined in delivery order, starting and ending at the kitchen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAP_WIDTH = 640
MAP_HEIGHT = 420
MAP_MARGIN = 28


@dataclass(frozen=True, slots=True)
class MapPoint:
    label: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class PlacedPoint:
    label: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class RouteMap:
    width: int
    height: int
    kitchen: PlacedPoint
    stops: tuple[PlacedPoint, ...]

    @property
    def path(self) -> str:
        """SVG polyline points: kitchen, every stop in order, kitchen again."""
        points = [self.kitchen, *self.stops, self.kitchen]
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


def route_map(kitchen: MapPoint, stops: Sequence[MapPoint]) -> RouteMap:
    """Fit the kitchen and the stops into the map box, keeping distances true to scale."""
    everything = [kitchen, *stops]
    mid_latitude = math.radians(sum(p.latitude for p in everything) / len(everything))
    xs = [p.longitude * math.cos(mid_latitude) for p in everything]
    ys = [p.latitude for p in everything]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    scale = min(MAP_WIDTH - 2 * MAP_MARGIN, MAP_HEIGHT - 2 * MAP_MARGIN) / span
    width_used = (max(xs) - min(xs)) * scale
    height_used = (max(ys) - min(ys)) * scale
    left = (MAP_WIDTH - width_used) / 2
    top = (MAP_HEIGHT - height_used) / 2

    def place(point: MapPoint, x: float, y: float) -> PlacedPoint:
        return PlacedPoint(
            point.label,
            left + (x - min(xs)) * scale,
            top + (max(ys) - y) * scale,
        )

    placed = [place(p, x, y) for p, x, y in zip(everything, xs, ys, strict=True)]
    return RouteMap(MAP_WIDTH, MAP_HEIGHT, placed[0], tuple(placed[1:]))
