"""Every table, imported in one place so Alembic and create-all see the whole schema."""

from meals.accounts.models import (
    Account,
    FamilyBinding,
    FamilyBindingRequest,
    LoginAttempt,
    LoginCode,
    StaffSite,
)
from meals.audit.models import AuditEntry
from meals.bookings.corrections import BookingCorrection
from meals.bookings.models import Booking
from meals.bookings.ratings import MealRating
from meals.callbacks.models import SatisfactionCallback
from meals.db import Base
from meals.deliveries.models import (
    DeliveryActionRecord,
    PlanningJob,
    RoutePlanRecord,
    RouteRun,
    RouteStop,
    WebhookAttempt,
    WelfareAlert,
)
from meals.jobs.models import JobRun
from meals.menus.models import (
    Dish,
    Menu,
    MenuCycle,
    MenuCycleItem,
    MenuCycleSite,
    MenuItem,
    MenuItemDish,
)
from meals.notifications.models import FamilyNotice, NoticeSend, PushSubscription
from meals.production.models import (
    Ingredient,
    ProductionRun,
    Recipe,
    RecipeLine,
    RecipeVariant,
    RecipeVariantLine,
    RecipeVariantStep,
)
from meals.seniors.models import EmergencyContact, Senior
from meals.settlement.models import SettlementItem, SettlementMonth
from meals.sites.models import DepartureWave, Site, SiteSlot, Van
from meals.standing_orders.models import StandingOrder, StandingOrderDate
from meals.subsidies.models import FundingSource, SubsidyPolicy, SubsidyTier

__all__ = [
    "Account",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingCorrection",
    "DeliveryActionRecord",
    "DepartureWave",
    "Dish",
    "EmergencyContact",
    "FamilyBinding",
    "FamilyBindingRequest",
    "FamilyNotice",
    "FundingSource",
    "Ingredient",
    "JobRun",
    "LoginAttempt",
    "LoginCode",
    "MealRating",
    "Menu",
    "MenuCycle",
    "MenuCycleItem",
    "MenuCycleSite",
    "MenuItem",
    "MenuItemDish",
    "NoticeSend",
    "PlanningJob",
    "ProductionRun",
    "PushSubscription",
    "Recipe",
    "RecipeLine",
    "RecipeVariant",
    "RecipeVariantLine",
    "RecipeVariantStep",
    "RoutePlanRecord",
    "RouteRun",
    "RouteStop",
    "SatisfactionCallback",
    "Senior",
    "SettlementItem",
    "SettlementMonth",
    "Site",
    "SiteSlot",
    "StaffSite",
    "StandingOrder",
    "StandingOrderDate",
    "SubsidyPolicy",
    "SubsidyTier",
    "Van",
    "WebhookAttempt",
    "WelfareAlert",
]
