"""Tunable search settings. Every default the solver uses lives here, named."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How hard and in which way to search.

    ``solution_limit`` caps the search's steps (PyVRP iterations; OR-Tools solutions
    in the fallback) so a run is reproducible independent of machine speed. The
    OR-Tools fields only steer the fallback search, used should OR-Tools refuse the
    plan PyVRP found: ``first_solutions`` each build a start plan, the best is
    improved by ``metaheuristic``.
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
    check_share: float = 0.05
    """Share of the time limit kept for checking the plan against the OR-Tools model
    (and, should it refuse the plan, for OR-Tools' own search)."""
    log_search: bool = False
    extra: tuple[tuple[str, float], ...] = ()
    """Other scalar RoutingSearchParameters fields as (name, value) pairs, for tuning."""
