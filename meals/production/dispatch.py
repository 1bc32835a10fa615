"""Which van and departure wave carries each stop, until the delivery-day routing lands.

A stand-in for the router: each stop takes the latest departure wave that leaves at least
its lead time before eating (the freshest food); within a wave, stops go to the least
loaded van, heaviest first (all home deliveries of one site ride together). The
delivery-day routing issue replaces this with the router's vans, order and travel times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from msgspec import Struct

from kitchen import DestinationKind


class StopDemand(Struct, frozen=True, kw_only=True, gc=False):
    """One stop to serve: a site drop or one home; ``group`` keeps a site's homes together."""

    stop_id: str
    kind: DestinationKind
    group: str
    name: str
    eating_at: datetime
    portions: int


class DispatchRules(Struct, frozen=True, kw_only=True, gc=False):
    departures: tuple[datetime, ...]
    vans: tuple[str, ...]
    site_drop_lead: timedelta
    home_delivery_lead: timedelta


class Trip(Struct, frozen=True, kw_only=True, gc=False):
    """One van leaving at one wave with its stops in delivery order."""

    departure_id: str
    van: str
    departs_at: datetime
    stops: tuple[StopDemand, ...]


def departure_label(van: str, departs_at: datetime) -> str:
    """Readable id of a trip, e.g. ``VAN-01 10:15``, as the kitchen says it."""
    return f"{van} {departs_at:%H:%M}"


def assign_trips(stops: Sequence[StopDemand], rules: DispatchRules) -> tuple[Trip, ...]:
    """Deterministic trips for ``stops``; every stop lands on exactly one trip."""
    if not stops:
        return ()
    if not rules.vans or not rules.departures:
        raise ValueError("dispatch needs at least one van and one departure wave")
    waves = sorted(rules.departures)
    groups: dict[tuple[datetime, str, DestinationKind], list[StopDemand]] = {}
    wave_of: dict[tuple[datetime, DestinationKind], datetime] = {}
    for stop in stops:
        kind = stop.kind
        wave = wave_of.get((stop.eating_at, kind))
        if wave is None:
            lead = (
                rules.home_delivery_lead if kind is DestinationKind.HOME else rules.site_drop_lead
            )
            wave = wave_of[(stop.eating_at, kind)] = _latest_wave(waves, stop.eating_at - lead)
        group = groups.get((wave, stop.group, kind))
        if group is None:
            groups[(wave, stop.group, kind)] = [stop]
        else:
            group.append(stop)

    loads: dict[tuple[datetime, str], int] = {}
    trip_stops: dict[tuple[datetime, str], list[StopDemand]] = {}
    heaviest_first = sorted(
        groups.items(),
        key=lambda item: (item[0][0], -sum(s.portions for s in item[1]), item[0][1], item[0][2]),
    )
    for (wave, _group, _kind), members in heaviest_first:
        van = min(rules.vans, key=lambda code: (loads.get((wave, code), 0), code))
        loads[(wave, van)] = loads.get((wave, van), 0) + sum(s.portions for s in members)
        trip_stops.setdefault((wave, van), []).extend(members)

    return tuple(
        Trip(
            departure_id=departure_label(van, wave),
            van=van,
            departs_at=wave,
            stops=tuple(
                sorted(
                    members,
                    key=lambda s: (s.group, s.kind is DestinationKind.HOME, s.name, s.stop_id),
                )
            ),
        )
        for (wave, van), members in sorted(trip_stops.items())
    )


def _latest_wave(waves: Sequence[datetime], deadline: datetime) -> datetime:
    """The latest wave leaving by ``deadline``; the first wave when none does."""
    suitable = [wave for wave in waves if wave <= deadline]
    return suitable[-1] if suitable else waves[0]
