"""Typed errors, so the service can show kitchen staff exactly what is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kitchen.result import ProductionPlan, SafetyViolation


class PlanInputError(ValueError):
    """The inputs do not make a plan (unknown dish, missing variant, unknown stop...).

    ``problems`` lists every problem found, not just the first, so data can be fixed in
    one pass.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


class InfeasiblePlanError(Exception):
    """No cooking schedule meets the food-safety limit.

    ``violations`` say which batch misses by how much; ``draft`` is the plan that would
    break the limit, for display only — it must not be cooked.
    """

    def __init__(self, violations: tuple[SafetyViolation, ...], draft: ProductionPlan) -> None:
        self.violations = violations
        self.draft = draft
        summary = "; ".join(
            f"batch {violation.batch_id} ({violation.dish_name}, {violation.variant}) "
            f"exceeds the limit by {violation.excess} at stop {violation.stop_id}"
            for violation in violations
        )
        super().__init__(f"food-safety limit not met: {summary}")
