"""Ruin-and-recreate search (SISR) around the OR-Tools plan.

OR-Tools' guided local search gets stuck on wide-window VRPTW instances within a
few seconds, and its own iterated local search does not run through the Python
API. This module is the outer loop the solver wraps around it: starting from the
OR-Tools plan, each step removes a few strings of nearby stops from a few trips
(slack induction by string removals, Christiaens and Vanden Berghe, Transportation
Science 2020), puts them back one by one at their cheapest feasible place (with
"blinks", skipped places), and keeps the result under a simulated-annealing rule.
The best plan goes back to OR-Tools, which checks it against the full model and
polishes it with its own local search.

It handles one trip per van (the case of every benchmark and of a single departure
wave); the solver does not call it when a van makes several trips. Every hard rule
of such a trip is checked on each insertion: capacity per dimension, service
windows, the food-safety limit per trip, the shift end and the trips allowed per
stop. Pure and deterministic for a given seed and iteration count.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import add, sub

DEPOT = 0


@dataclass(frozen=True, slots=True)
class RuinRecreateParams:
    """Settings of the ruin-and-recreate loop (defaults tuned on Solomon, 10 s)."""

    average_removed: float = 10.0
    """Mean number of stops removed per step (SISR's c-bar)."""
    max_string_length: int = 10
    """Longest string removed from one trip (SISR's L-max)."""
    split_rate: float = 0.5
    """Share of removals that keep a substring in place (split strings)."""
    split_depth: float = 0.01
    """Chance to stop growing the kept substring of a split string at each stop."""
    blink_rate: float = 0.01
    """Chance to skip a feasible place while re-inserting a stop."""
    insertion_routes_near: int = 20
    """A stop is re-inserted only into trips serving one of its nearest stops (or an
    empty trip)."""
    start_temperature: float = 5.0
    end_temperature: float = 0.02
    """Annealing temperatures as fractions of the mean arc cost of the start plan."""
    iterations: int | None = None
    """Number of steps, for a result independent of machine speed (the time limit still
    applies); ``None``: until the deadline. The solver sets it to
    ``SolveParams.solution_limit`` when that is given."""
    guided_share: float = 0.2
    """Share of the time limit for OR-Tools' first solution and guided local search."""
    polish_share: float = 0.05
    """Share of the time limit left for OR-Tools to check and polish the final plan."""


@dataclass(frozen=True, slots=True)
class TripSpec:
    """One trip slot as the search sees it."""

    wave: int
    shift_end: int
    capacity: tuple[int, int]
    unit_cost: int
    fixed_cost: int


@dataclass(frozen=True, slots=True)
class SearchProblem:
    """Node 0 is the depot, nodes 1..n the stops; matrices are node-indexed.

    ``latest[k][v]`` is the latest service start at node ``v`` on trip ``k``
    (window end, tightened by the food-safety limit after that trip's wave);
    ``allowed[v]`` is the set of trips that may serve ``v`` (None: all).
    """

    cost: Sequence[Sequence[int]]
    duration: Sequence[Sequence[int]]
    service: Sequence[int]
    ready: Sequence[int]
    latest: Sequence[Sequence[int]]
    demand: Sequence[tuple[int, int]]
    allowed: Sequence[frozenset[int] | None]
    trips: Sequence[TripSpec]
    unserved_penalty: int

    @property
    def node_count(self) -> int:
        return len(self.service)


class _Route:
    """A trip's stops and the caches that make an insertion test O(1).

    ``departure[p]`` is when the van leaves the p-th node of ``[depot, *stops]``;
    ``latest_arrival[p]`` is the latest arrival at the node after it that keeps the
    rest of the trip feasible.
    """

    __slots__ = ("after", "arc", "before", "cost", "departure", "latest_arrival", "load", "nodes")

    def __init__(self, nodes: list[int]) -> None:
        self.nodes = nodes
        self.before: list[int] = []
        self.after: list[int] = []
        self.arc: list[int] = []
        self.departure: list[int] = []
        self.latest_arrival: list[int] = []
        self.load = (0, 0)
        self.cost = 0


class RuinRecreate:
    def __init__(self, problem: SearchProblem, params: RuinRecreateParams, seed: int) -> None:
        self.p = problem
        self.params = params
        self.rng = random.Random(seed)
        n = problem.node_count
        self.cost_to = [[problem.cost[u][v] for u in range(n)] for v in range(n)]
        self.time_to = [[problem.duration[u][v] for u in range(n)] for v in range(n)]
        self.neighbours = [
            sorted(range(1, n), key=lambda v, u=u: (problem.cost[u][v] + problem.cost[v][u], v))
            for u in range(n)
        ]
        self.routes: list[_Route] = []
        self.route_of = [-1] * n
        self.position_of = [0] * n
        # A stop is only tried on the trips that serve one of these (or an empty trip).
        self.close = [self.neighbours[v][: params.insertion_routes_near] for v in range(n)]
        self.absent: set[int] = set()
        self.total = 0
        self.iterations_run = 0
        self._saved: dict[int, tuple] = {}
        signatures: dict[TripSpec, int] = {}
        self.trip_kind = [signatures.setdefault(trip, len(signatures)) for trip in problem.trips]

    # -- state -------------------------------------------------------------------------

    def load(self, trip_routes: Sequence[Sequence[int]]) -> None:
        """Start from one node list per trip; stops on no trip are absent."""
        self.routes = [_Route(list(nodes)) for nodes in trip_routes]
        self.route_of = [-1] * self.p.node_count
        for k, route in enumerate(self.routes):
            for v in route.nodes:
                self.route_of[v] = k
            self._refresh(k)
        self.absent = {v for v in range(1, self.p.node_count) if self.route_of[v] < 0}
        self.total = self._total()

    def _total(self) -> int:
        return sum(route.cost for route in self.routes) + self.p.unserved_penalty * len(self.absent)

    def snapshot(self) -> list[list[int]]:
        return [list(route.nodes) for route in self.routes]

    def _refresh(self, k: int) -> None:
        p, route, trip = self.p, self.routes[k], self.p.trips[k]
        nodes, latest = route.nodes, p.latest[k]
        duration, cost_matrix, ready, service = p.duration, p.cost, p.ready, p.service
        position_of = self.position_of
        clock = trip.wave
        departure = [clock]
        here, cost, boxes, cold = DEPOT, 0, 0, 0
        for position, v in enumerate(nodes):
            position_of[v] = position
            clock += duration[here][v]
            start = ready[v]
            if clock > start:
                start = clock
            clock = start + service[v]
            departure.append(clock)
            cost += cost_matrix[here][v]
            demand = p.demand[v]
            boxes += demand[0]
            cold += demand[1]
            here = v
        cost += cost_matrix[here][DEPOT]
        bound = trip.shift_end
        arrival = [bound] * (len(nodes) + 1)
        after = DEPOT
        for position in range(len(nodes) - 1, -1, -1):
            v = nodes[position]
            bound -= service[v] + duration[v][after]
            if latest[v] < bound:
                bound = latest[v]
            arrival[position] = bound
            after = v
        route.departure = departure
        route.latest_arrival = arrival
        route.before = [DEPOT, *nodes]
        route.after = [*nodes, DEPOT]
        route.arc = [cost_matrix[a][b] for a, b in zip(route.before, route.after, strict=True)]
        route.load = (boxes, cold)
        route.cost = cost * trip.unit_cost + trip.fixed_cost if nodes else 0

    def _insert(self, k: int, position: int, v: int) -> None:
        """Put ``v`` at ``position`` of trip ``k`` and update the caches in place of a
        full refresh: departures change only after the stop, latest arrivals only
        before it, each until the first unchanged value."""
        p, route, trip = self.p, self.routes[k], self.p.trips[k]
        duration, service, ready, latest = p.duration, p.service, p.ready, p.latest[k]
        cost = p.cost
        nodes = route.nodes
        nodes.insert(position, v)
        before, after = route.before[position], route.after[position]
        route.before = [*route.before[: position + 1], v, *route.before[position + 1 :]]
        route.after = [*route.after[:position], v, *route.after[position:]]
        route.arc = [
            *route.arc[:position],
            cost[before][v],
            cost[v][after],
            *route.arc[position + 1 :],
        ]
        added = (cost[before][v] + cost[v][after] - cost[before][after]) * trip.unit_cost
        route.cost += added + (trip.fixed_cost if len(nodes) == 1 else 0)
        demand = p.demand[v]
        route.load = (route.load[0] + demand[0], route.load[1] + demand[1])
        count = len(nodes)
        old = route.departure
        departure = old[: position + 1]
        clock, here = departure[-1], before
        for j in range(position, count):
            w = nodes[j]
            clock += duration[here][w]
            if clock < ready[w]:
                clock = ready[w]
            clock += service[w]
            departure.append(clock)
            if j > position and old[j] == clock:
                departure.extend(old[j + 1 :])
                break
            here = w
        route.departure = departure
        old = route.latest_arrival
        tail = old[position:]
        bound = tail[0] - service[v] - duration[v][after]
        if latest[v] < bound:
            bound = latest[v]
        changed = [bound]
        j = position - 1
        while j >= 0:
            w = nodes[j]
            value = bound - service[w] - duration[w][nodes[j + 1]]
            if latest[w] < value:
                value = latest[w]
            if value == old[j]:
                break
            changed.append(value)
            bound = value
            j -= 1
        changed.reverse()
        route.latest_arrival = [*old[: j + 1], *changed, *tail]
        position_of = self.position_of
        for j in range(position, count):
            position_of[nodes[j]] = j

    # -- ruin --------------------------------------------------------------------------

    def _ruin(self) -> list[int]:
        params, rng = self.params, self.rng
        used = [route for route in self.routes if route.nodes]
        if not used:
            return []
        served = sum(len(route.nodes) for route in used)
        string_max = min(float(params.max_string_length), served / len(used))
        strings_max = 4 * params.average_removed / (1 + string_max) - 1
        strings = int(rng.uniform(1, strings_max + 1))
        start = rng.randrange(1, self.p.node_count)
        while self.route_of[start] < 0:
            start = rng.randrange(1, self.p.node_count)
        removed: list[int] = []
        ruined: set[int] = set()
        for v in (start, *self.neighbours[start]):
            if len(ruined) >= strings:
                break
            k = self.route_of[v]
            if k < 0 or k in ruined:
                continue
            nodes = self.routes[k].nodes
            length = int(rng.uniform(1, min(len(nodes), string_max) + 1))
            if length < len(nodes) and rng.random() < params.split_rate:
                taken = self._split_string(nodes, v, length)
            else:
                taken = self._string(nodes, v, length)
            for w in taken:
                self.route_of[w] = -1
            self._save(k)
            kept = set(taken)
            self.routes[k].nodes = [w for w in nodes if w not in kept]
            self._refresh(k)
            ruined.add(k)
            removed.extend(taken)
        return removed

    def _string(self, nodes: list[int], v: int, length: int) -> list[int]:
        position = nodes.index(v)
        first = self.rng.randint(max(0, position - length + 1), min(position, len(nodes) - length))
        return nodes[first : first + length]

    def _split_string(self, nodes: list[int], v: int, length: int) -> list[int]:
        kept = 1
        while length + kept < len(nodes) and self.rng.random() > self.params.split_depth:
            kept += 1
        window = self._string(nodes, v, length + kept)
        skip = self.rng.randint(1, length) if length > 1 else 1
        skip = min(skip, len(window) - kept)
        return window[:skip] + window[skip + kept :]

    # -- recreate ----------------------------------------------------------------------

    def _order(self, removed: list[int]) -> list[int]:
        rng, p = self.rng, self.p
        choice = rng.choices(("random", "demand", "far", "close"), weights=(4, 4, 2, 1))[0]
        if choice == "random":
            rng.shuffle(removed)
        elif choice == "demand":
            removed.sort(key=lambda v: (-sum(p.demand[v]), rng.random()))
        elif choice == "far":
            removed.sort(key=lambda v: -p.cost[DEPOT][v])
        else:
            removed.sort(key=lambda v: p.cost[DEPOT][v])
        return removed

    def _recreate(self, removed: list[int]) -> None:
        for v in self._order(removed):
            k, position = self._best_place(v)
            if k < 0:
                self.absent.add(v)
                continue
            self.absent.discard(v)
            self._save(k)
            self._insert(k, position, v)
            self.route_of[v] = k

    def _trips_to_try(self, v: int) -> list[int]:
        """Trips serving the stop's nearest stops (nearest first), then one empty trip of
        each kind; every trip when none of its nearest stops is on a trip."""
        route_of, routes = self.route_of, self.routes
        order: list[int] = []
        for w in self.close[v]:
            k = route_of[w]
            if k >= 0 and k not in order:
                order.append(k)
        if not order:
            order = [k for k, route in enumerate(routes) if route.nodes]
        allowed = self.p.allowed[v]
        kinds: set[int] = set()
        for k, route in enumerate(routes):
            if allowed is not None and k not in allowed:
                continue
            if not route.nodes and self.trip_kind[k] not in kinds:
                kinds.add(self.trip_kind[k])
                order.append(k)
        return order

    def _best_place(self, v: int) -> tuple[int, int]:
        """Cheapest feasible (trip, position) for stop ``v``; (-1, 0) when none.

        Per trip, the insertion costs of all positions are computed at C speed
        (``map``); only the positions cheaper than the best so far are tested for
        feasibility, cheapest first, up to the first feasible one.
        """
        p, trips, routes = self.p, self.p.trips, self.routes
        ready, service, latest_by_trip = p.ready[v], p.service[v], p.latest
        boxes, cold = p.demand[v]
        cost_to_v, cost_from_v = self.cost_to[v].__getitem__, p.cost[v].__getitem__
        time_to_v, time_from_v = self.time_to[v], p.duration[v]
        allowed = p.allowed[v]
        blink, rand = self.params.blink_rate, self.rng.random
        best, best_k, best_position = math.inf, -1, 0
        for k in self._trips_to_try(v):
            route, trip = routes[k], trips[k]
            load = route.load
            if load[0] + boxes > trip.capacity[0] or load[1] + cold > trip.capacity[1]:
                continue
            if allowed is not None and k not in allowed:
                continue
            extra = 0 if route.nodes else trip.fixed_cost
            unit = trip.unit_cost
            limit = (best - extra) / unit
            deltas = list(
                map(
                    sub,
                    map(add, map(cost_to_v, route.before), map(cost_from_v, route.after)),
                    route.arc,
                )
            )
            low = min(deltas)
            if low >= limit:
                continue
            latest = latest_by_trip[k][v]
            before_of, after_of = route.before, route.after
            departure, latest_arrival = route.departure, route.latest_arrival
            for delta, position in _cheapest_first(deltas, low, limit):
                before = before_of[position]
                start = departure[position] + time_to_v[before]
                if start < ready:
                    start = ready
                if (
                    start <= latest
                    and start + service + time_from_v[after_of[position]]
                    <= latest_arrival[position]
                    and rand() >= blink
                ):
                    best, best_k, best_position = delta * unit + extra, k, position
                    break
        return best_k, best_position

    # -- loop --------------------------------------------------------------------------

    def _save(self, k: int) -> None:
        if k not in self._saved:
            route = self.routes[k]
            self._saved[k] = (
                list(route.nodes),
                route.departure,
                route.latest_arrival,
                route.load,
                route.cost,
                route.before,
                route.after,
                route.arc,
            )

    def _restore(self, absent: set[int]) -> None:
        for k, saved in self._saved.items():
            route = self.routes[k]
            nodes = saved[0]
            route.nodes, route.departure, route.latest_arrival, route.load, route.cost = saved[:5]
            route.before, route.after, route.arc = saved[5:]
            for position, w in enumerate(nodes):
                self.route_of[w] = k
                self.position_of[w] = position
        self.absent = absent
        for w in absent:
            self.route_of[w] = -1

    def step(self, temperature: float) -> bool:
        """One ruin-and-recreate step; True when it was accepted."""
        self._saved = {}
        absent = set(self.absent)
        removed = self._ruin()
        self._recreate(removed + sorted(absent))
        total = self._total()
        threshold = self.total - temperature * math.log(1.0 - self.rng.random())
        if total <= self.total or total < threshold:
            self.total = total
            return True
        self._restore(absent)
        return False

    def run(self, deadline: float) -> list[list[int]]:
        """Anneal until ``deadline`` (``time.monotonic()``) or the iteration count,
        whichever comes first; return the best trips found (node lists per trip).

        The temperature falls geometrically from the start to the end value over the
        iterations (or, without an iteration count, over the time to the deadline).
        """
        params = self.params
        best_total, best_routes = self.total, self.snapshot()
        used = [k for k, route in enumerate(self.routes) if route.nodes]
        travel = sum(self.routes[k].cost - self.p.trips[k].fixed_cost for k in used)
        arcs = sum(len(self.routes[k].nodes) + 1 for k in used)
        mean_arc = max(1.0, travel / max(1, arcs))
        hot = params.start_temperature * mean_arc
        cold = max(1e-9, params.end_temperature * mean_arc)
        started = time.monotonic()
        budget = max(1e-6, deadline - started)
        iteration = 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if params.iterations is None:
                progress = (now - started) / budget
            elif iteration >= params.iterations:
                break
            else:
                progress = iteration / params.iterations
            iteration += 1
            if self.step(hot * (cold / hot) ** progress) and self.total < best_total:
                best_total, best_routes = self.total, self.snapshot()
        self.iterations_run = iteration
        return best_routes


def _cheapest_first(deltas: list[int], low: int, limit: float) -> Iterator[tuple[int, int]]:
    """(delta, position) below ``limit``, cheapest first; sorts only if the cheapest
    position does not do."""
    first = deltas.index(low)
    yield low, first
    yield from sorted(
        (delta, position)
        for position, delta in enumerate(deltas)
        if delta < limit and position != first
    )
