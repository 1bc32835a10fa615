"""Tunable search settings. Every default the solver uses lives here, named."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from routing.ruin_recreate import RuinRecreateParams


class FirstSolution(StrEnum):
    """OR-Tools first-solution strategies worth trying on delivery problems.

    Insertion heuristics build feasible plans on tight time windows where
    PATH_CHEAPEST_ARC fails outright (Solomon R101, R103, RC101).
    """

    PARALLEL_CHEAPEST_INSERTION = "PARALLEL_CHEAPEST_INSERTION"
    LOCAL_CHEAPEST_INSERTION = "LOCAL_CHEAPEST_INSERTION"
    SEQUENTIAL_CHEAPEST_INSERTION = "SEQUENTIAL_CHEAPEST_INSERTION"
    SAVINGS = "SAVINGS"
    PATH_CHEAPEST_ARC = "PATH_CHEAPEST_ARC"
    ALL_UNPERFORMED = "ALL_UNPERFORMED"


class Metaheuristic(StrEnum):
    GUIDED_LOCAL_SEARCH = "GUIDED_LOCAL_SEARCH"
    SIMULATED_ANNEALING = "SIMULATED_ANNEALING"
    TABU_SEARCH = "TABU_SEARCH"
    GREEDY_DESCENT = "GREEDY_DESCENT"


DEFAULT_RUIN_RECREATE = RuinRecreateParams()


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How hard and in which way to search.

    ``first_solutions``: each strategy builds a start plan; the cheapest one (most
    stops served first) is then improved by ``metaheuristic`` for the rest of the
    time limit. ``solution_limit`` caps the number of improving steps so a run is
    reproducible independent of machine speed.
    """

    first_solutions: tuple[FirstSolution, ...] = (
        FirstSolution.PARALLEL_CHEAPEST_INSERTION,
        FirstSolution.LOCAL_CHEAPEST_INSERTION,
    )
    metaheuristic: Metaheuristic = Metaheuristic.GUIDED_LOCAL_SEARCH
    guided_local_search_lambda: float = 0.1
    neighbors_ratio: float = 1.0
    min_neighbors: int = 1
    enabled_operators: tuple[str, ...] = ()
    disabled_operators: tuple[str, ...] = ()
    solution_limit: int | None = None
    require_all_stops: bool = False
    """Make every screened-in stop mandatory (faster search when all can be served);
    if no plan is found that way, the solver falls back to optional stops."""
    unserved_penalty: int | None = None
    """Cost of leaving a stop unserved; ``None`` derives one that outweighs any plan."""
    ruin_recreate: RuinRecreateParams | None = DEFAULT_RUIN_RECREATE
    """After a share of the time in OR-Tools' local search, run the ruin-and-recreate
    loop (``routing.ruin_recreate``); OR-Tools then checks and polishes its result.
    Used when every van makes one trip (one departure wave); ``None`` turns it off.
    With ``solution_limit`` set, the loop makes at most that many steps."""
    log_search: bool = False
    extra: tuple[tuple[str, float], ...] = ()
    """Other scalar RoutingSearchParameters fields as (name, value) pairs, for tuning."""
