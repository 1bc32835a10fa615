"""Kitchen production planning: pure Python, plain data in, plans out.

``plan_production(order_lines, recipes, departures, params)`` turns pre-aggregated order
lines into portions, ingredient totals, cooking waves, 留样 entries, packing lists and
labels. It never imports the service and does no I/O, so it can be tested and
benchmarked on its own. Its records are immutable ``msgspec.Struct``s (the only library
it uses), cheap enough to build one per home delivery.
"""

from kitchen.errors import InfeasiblePlanError, PlanInputError
from kitchen.export import Sheet, sheet_csv, sheet_rows
from kitchen.model import (
    BoxKind,
    Departure,
    Destination,
    DestinationKind,
    DietVariant,
    Equipment,
    HomeRecipient,
    Ingredient,
    KitchenParams,
    OrderLine,
    ProcessingStep,
    Recipe,
    RecipeLine,
    StopTiming,
    VariantChange,
)
from kitchen.plan import (
    boxes_per_stop,
    plan_production,
    preparation_per_stop,
    scale_ingredients,
)
from kitchen.recipes import ResolvedRecipe, resolve_recipe
from kitchen.result import (
    Batch,
    BatchAllocation,
    Box,
    BoxItem,
    CookingWave,
    DestinationPortions,
    DishPortions,
    DishUse,
    HomeDeliveryLabel,
    IngredientTotal,
    LabelItem,
    ProductionDestination,
    ProductionPlan,
    SafetyViolation,
    SampleEntry,
    StopPacking,
    VanPacking,
    stop_number,
)

__all__ = [
    "Batch",
    "BatchAllocation",
    "Box",
    "BoxItem",
    "BoxKind",
    "CookingWave",
    "Departure",
    "Destination",
    "DestinationKind",
    "DestinationPortions",
    "DietVariant",
    "DishPortions",
    "DishUse",
    "Equipment",
    "HomeDeliveryLabel",
    "HomeRecipient",
    "InfeasiblePlanError",
    "Ingredient",
    "IngredientTotal",
    "KitchenParams",
    "LabelItem",
    "OrderLine",
    "PlanInputError",
    "ProcessingStep",
    "ProductionDestination",
    "ProductionPlan",
    "Recipe",
    "RecipeLine",
    "ResolvedRecipe",
    "SafetyViolation",
    "SampleEntry",
    "Sheet",
    "StopPacking",
    "StopTiming",
    "VanPacking",
    "VariantChange",
    "boxes_per_stop",
    "plan_production",
    "preparation_per_stop",
    "resolve_recipe",
    "scale_ingredients",
    "sheet_csv",
    "sheet_rows",
    "stop_number",
]
