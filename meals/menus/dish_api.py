"""Dishes and recipes over the API and on the operator's pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from meals.errors import DomainError, Invalid
from meals.menus import dishes
from meals.menus.models import Dish
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.settings import Settings
from meals.web import (
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    PageLimit,
    PageOffset,
    PathId,
    allow,
)
from meals.words import ALLERGENS, Role, Variant

TEXT = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=TEXT)]
NameEn = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=TEXT)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Grams = Annotated[float, msgspec.Meta(gt=0, le=100_000)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=600)]
Word = Annotated[str, msgspec.Meta(max_length=32)]


class LineBody(msgspec.Struct, forbid_unknown_fields=True):
    ingredient: Code
    grams: Grams

    def line(self) -> dishes.Line:
        return dishes.Line(self.ingredient, Decimal(str(self.grams)).quantize(Decimal("0.001")))


class StepBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    minutes: Minutes


class VariantBody(msgspec.Struct, forbid_unknown_fields=True):
    variant: Variant
    removed: Annotated[list[Code], msgspec.Meta(max_length=30)] = msgspec.field(
        default_factory=list
    )
    lines: Annotated[list[LineBody], msgspec.Meta(max_length=30)] = msgspec.field(
        default_factory=list
    )
    steps: Annotated[list[StepBody], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )


class RecipeBody(msgspec.Struct, forbid_unknown_fields=True):
    cook_minutes: Annotated[int, msgspec.Meta(ge=1, le=600)]
    equipment_kind: Word
    lines: Annotated[list[LineBody], msgspec.Meta(min_length=1, max_length=30)]
    yield_portions: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    served_hot: bool = True
    variants: Annotated[list[VariantBody], msgspec.Meta(max_length=len(Variant))] = msgspec.field(
        default_factory=list
    )

    def spec(self) -> dishes.RecipeSpec:
        return dishes.RecipeSpec(
            cook_minutes=self.cook_minutes,
            equipment_kind=self.equipment_kind,
            lines=tuple(line.line() for line in self.lines),
            yield_portions=self.yield_portions,
            served_hot=self.served_hot,
            variants=tuple(
                dishes.VariantSpec(
                    v.variant,
                    tuple(v.removed),
                    tuple(line.line() for line in v.lines),
                    tuple((s.name, s.minutes) for s in v.steps),
                )
                for v in self.variants
            ),
        )


class DishBody(msgspec.Struct, forbid_unknown_fields=True):
    """A dish with its nutrition per portion; a recipe given replaces the one it had."""

    name: Name
    name_en: NameEn
    kind: Word
    energy_kcal: Annotated[int, msgspec.Meta(ge=0, le=5000)]
    protein_g: Annotated[float, msgspec.Meta(ge=0, le=500)]
    fat_g: Annotated[float, msgspec.Meta(ge=0, le=500)]
    carbohydrate_g: Annotated[float, msgspec.Meta(ge=0, le=1000)]
    sodium_mg: Annotated[int, msgspec.Meta(ge=0, le=20_000)]
    diet_tags: Annotated[list[Word], msgspec.Meta(max_length=3)] = msgspec.field(
        default_factory=list
    )
    allergens: Annotated[list[Word], msgspec.Meta(max_length=len(ALLERGENS))] = msgspec.field(
        default_factory=list
    )
    recipe: RecipeBody | None = None

    def spec(self) -> dishes.DishSpec:
        return dishes.DishSpec(
            name=self.name.strip(),
            name_en=self.name_en.strip(),
            kind=self.kind,
            energy_kcal=self.energy_kcal,
            protein_g=self.protein_g,
            fat_g=self.fat_g,
            carbohydrate_g=self.carbohydrate_g,
            sodium_mg=self.sodium_mg,
            diet_tags=tuple(self.diet_tags),
            allergens=tuple(self.allergens),
            recipe=self.recipe.spec() if self.recipe else None,
        )


class IngredientBody(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=40, pattern=r"^[a-z0-9_]+$")]
    name: Name
    allergens: Annotated[list[Word], msgspec.Meta(max_length=len(ALLERGENS))] = msgspec.field(
        default_factory=list
    )
    halal: bool = False


class IngredientView(msgspec.Struct):
    id: int
    code: str
    name: str
    allergens: list[str]
    halal: bool


class DishView(msgspec.Struct):
    id: int
    name: str
    name_en: str
    kind: str
    diet_tags: list[str]
    allergens: list[str]
    energy_kcal: int | None
    protein_g: float | None
    fat_g: float | None
    carbohydrate_g: float | None
    sodium_mg: int | None
    active: bool
    variants: list[str] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, d: Dish, variants: list[str] | None = None) -> DishView:
        return cls(
            d.id,
            d.name,
            d.name_en,
            d.kind,
            list(d.diet_tags),
            list(d.allergens),
            d.energy_kcal,
            d.protein_g,
            d.fat_g,
            d.carbohydrate_g,
            d.sodium_mg,
            d.active,
            variants or [],
        )


class DishApi(Controller):
    path = "/api/v1/dishes"
    tags = ["dishes"]  # noqa: RUF012

    @get(
        "/",
        guards=[allow(Role.ADMIN, Role.KITCHEN, Role.VIEWER)],
        summary="Dishes, filtered and paged",
    )
    async def index(
        self,
        db_session: DbSession,
        kind: Annotated[str | None, QueryParameter(max_length=20)] = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        active: FromQuery[bool | None] = True,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> OffsetPagination[DishView]:
        page = await dishes.page_dishes(
            db_session, kind=kind, search=q, active=active, limit=limit, offset=offset
        )
        recipes = await dishes.recipes_of(db_session, [d.id for d in page.items])
        return OffsetPagination(
            items=[
                DishView.of(
                    d,
                    sorted(v.variant.value for v in recipes[d.id].variants)
                    if d.id in recipes
                    else [],
                )
                for d in page.items
            ],
            limit=page.limit,
            offset=page.offset,
            total=page.total,
        )

    @post(
        "/",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Add a dish with its recipe",
    )
    async def create(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        data: JSONBody[DishBody],
    ) -> DishView:
        dish = await dishes.create_dish(
            db_session, actor=actor, spec=data.spec(), settings=settings, now=now
        )
        return DishView.of(
            dish, sorted(v.variant.value for v in data.recipe.variants) if data.recipe else []
        )

    @put(
        "/{dish_id:int}",
        guards=[allow(Role.ADMIN)],
        summary="Change a dish (and replace its recipe)",
    )
    async def update(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        dish_id: PathId,
        data: JSONBody[DishBody],
    ) -> DishView:
        dish = await dishes.update_dish(
            db_session, actor=actor, dish_id=dish_id, spec=data.spec(), settings=settings, now=now
        )
        return DishView.of(dish)

    @post(
        "/ingredients",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="Add an ingredient recipes can use",
    )
    async def add_ingredient(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[IngredientBody]
    ) -> IngredientView:
        i = await dishes.create_ingredient(
            db_session,
            actor=actor,
            code=data.code,
            name=data.name.strip(),
            allergens=tuple(data.allergens),
            halal=data.halal,
            now=now,
        )
        return IngredientView(i.id, i.code, i.name, list(i.allergens), i.halal)

    @post(
        "/{dish_id:int}/deactivate",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_200_OK,
        summary="Stop offering a dish",
    )
    async def deactivate(
        self, db_session: DbSession, actor: CurrentActor, now: Now, dish_id: PathId
    ) -> DishView:
        return DishView.of(
            await dishes.deactivate_dish(db_session, actor=actor, dish_id=dish_id, now=now)
        )


class DishForm(msgspec.Struct):
    name: Name
    name_en: NameEn
    kind: Word
    energy_kcal: Annotated[int, msgspec.Meta(ge=0, le=5000)]
    protein_g: Annotated[float, msgspec.Meta(ge=0, le=500)]
    fat_g: Annotated[float, msgspec.Meta(ge=0, le=500)]
    carbohydrate_g: Annotated[float, msgspec.Meta(ge=0, le=1000)]
    sodium_mg: Annotated[int, msgspec.Meta(ge=0, le=20_000)]
    cook_minutes: Annotated[int, msgspec.Meta(ge=1, le=600)]
    equipment_kind: Word
    yield_portions: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    served_hot: bool = False
    diet_tags: list[str] = msgspec.field(default_factory=list)
    allergens: list[str] = msgspec.field(default_factory=list)
    variants: list[Variant] = msgspec.field(default_factory=list)


async def _lines(request: Request) -> tuple[dishes.Line, ...]:
    """The ingredient rows of the form (ingredient, grams), blank rows skipped."""
    form = await request.form()
    lines = []
    for code, grams in zip(form.getall("ingredient"), form.getall("grams"), strict=False):
        if not str(code) or not str(grams).strip():
            continue
        try:
            amount = Decimal(str(grams).strip())
        except InvalidOperation:
            raise Invalid(
                "{grams} is not a weight in grams.", code="bad_grams", grams=grams
            ) from None
        if not 0 < amount <= 100_000:
            raise Invalid("{grams} is not a weight in grams.", code="bad_grams", grams=grams)
        lines.append(dishes.Line(str(code), amount))
    return tuple(lines)


DISH_LISTS = ("diet_tags", "allergens", "variants", "ingredient", "grams")
KeptVariants = Callable[[tuple[Variant, ...]], Awaitable[tuple[dishes.VariantSpec, ...]]]


async def _dish_spec(request: Request, variants: KeptVariants | None = None) -> dishes.DishSpec:
    """The dish form as a spec; `variants` turns the ticked diet variants into theirs."""
    form = await read_form(request, DishForm, lists=DISH_LISTS)
    ticked = tuple(dict.fromkeys(form.variants))
    recipe = dishes.RecipeSpec(
        cook_minutes=form.cook_minutes,
        equipment_kind=form.equipment_kind,
        lines=await _lines(request),
        yield_portions=form.yield_portions,
        served_hot=form.served_hot,
        variants=await variants(ticked) if variants else tuple(map(dishes.VariantSpec, ticked)),
    )
    return dishes.DishSpec(
        name=form.name,
        name_en=form.name_en,
        kind=form.kind,
        energy_kcal=form.energy_kcal,
        protein_g=form.protein_g,
        fat_g=form.fat_g,
        carbohydrate_g=form.carbohydrate_g,
        sodium_mg=form.sodium_mg,
        diet_tags=tuple(form.diet_tags),
        allergens=tuple(form.allergens),
        recipe=recipe,
    )


async def _typed(request: Request) -> dict[str, Any]:
    """What was typed into the dish form, to show it again beside a refusal."""
    form = await request.form()
    values: dict[str, Any] = {k: form.get(k) for k in form if k not in DISH_LISTS}
    for name in ("diet_tags", "allergens", "variants"):
        values[name] = form.getall(name, [])
    values["served_hot"] = form.get("served_hot") == "true"
    values["lines"] = list(
        zip(form.getall("ingredient", []), form.getall("grams", []), strict=False)
    )
    return values


class IngredientForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=40, pattern=r"^[a-z0-9_]+$")]
    name: Name
    allergens: list[str] = msgspec.field(default_factory=list)
    halal: bool = False


class DishPages(Controller):
    path = "/console/dishes"
    include_in_schema = False
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Dishes and a form to add one with its recipe")
    async def index(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        offset: PageOffset = 0,
    ) -> Template:
        page = await dishes.page_dishes(db_session, search=q, limit=50, offset=offset)
        recipes = await dishes.recipes_of(db_session, [d.id for d in page.items])
        return render(
            request,
            "console/dishes.html",
            page=page,
            kept=f"q={q}" if q else "",
            q=q or "",
            recipes=recipes,
            kinds=dishes.DISH_KINDS,
            diet_tags=dishes.DIET_TAGS,
            allergens=ALLERGENS,
            variants=list(Variant),
            equipment=[e.kind for e in settings.kitchen_equipment],
            ingredients=await dishes.ingredients(db_session),
            line_rows=range(6),
        )

    @post("/", summary="Add a dish with its recipe")
    async def create(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
    ) -> Redirect:
        spec = await _dish_spec(request)
        dish = await dishes.create_dish(
            db_session, actor=actor, spec=spec, settings=settings, now=now
        )
        flash(
            request,
            language_of(request).gettext("{name} is added with its recipe.", name=dish.name),
        )
        return see_other("/console/dishes")

    @post("/ingredients", summary="Add an ingredient")
    async def add_ingredient(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, IngredientForm, lists=("allergens",))
        ingredient = await dishes.create_ingredient(
            db_session,
            actor=actor,
            code=form.code,
            name=form.name,
            allergens=tuple(form.allergens),
            halal=form.halal,
            now=now,
        )
        flash(
            request,
            language_of(request).gettext("Ingredient {name} is added.", name=ingredient.name),
        )
        return see_other("/console/dishes#new")

    @get("/{dish_id:int}", summary="A dish's form: name, kind, nutrition, allergens, recipe")
    async def show(
        self, request: Request, db_session: DbSession, settings: AppSettings, dish_id: PathId
    ) -> Template:
        dish = await dishes.get_dish(db_session, dish_id)
        values = await dishes.dish_form(db_session, dish)
        return await _dish_page(request, db_session, settings, dish, values, error=None)

    @post("/{dish_id:int}", summary="Save a dish and its recipe", status_code=HTTP_200_OK)
    async def save(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
        dish_id: PathId,
    ) -> Redirect | Template:
        try:
            spec = await _dish_spec(request, partial(dishes.kept_variants, db_session, dish_id))
            await dishes.update_dish(
                db_session, actor=actor, dish_id=dish_id, spec=spec, settings=settings, now=now
            )
        except DomainError as refusal:  # shown in the form, with what was typed kept
            await db_session.rollback()
            return await _dish_page(
                request,
                db_session,
                settings,
                await dishes.get_dish(db_session, dish_id),
                await _typed(request),
                error=language_of(request).error(refusal),
                status_code=refusal.status_code,
            )
        flash(request, language_of(request).gettext(N_("The dish is saved.")))
        return see_other("/console/dishes")

    @post("/{dish_id:int}/deactivate", summary="Stop offering a dish")
    async def deactivate(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        dish_id: PathId,
    ) -> Redirect:
        await dishes.deactivate_dish(db_session, actor=actor, dish_id=dish_id, now=now)
        flash(
            request,
            language_of(request).gettext(N_("The dish is no longer offered for new menus.")),
        )
        return see_other("/console/dishes")


async def _dish_page(
    request: Request,
    db_session: DbSession,
    settings: Settings,
    dish: Dish,
    values: dict[str, Any],
    *,
    error: str | None,
    status_code: int = HTTP_200_OK,
) -> Template:
    rows = list(values.get("lines", []))
    return render(
        request,
        "console/dish.html",
        status_code=status_code,
        dish=dish,
        values=values,
        lines=rows + [("", "")] * max(2, 6 - len(rows)),
        kinds=dishes.DISH_KINDS,
        diet_tags=dishes.DIET_TAGS,
        allergens=ALLERGENS,
        variants=list(Variant),
        equipment=[e.kind for e in settings.kitchen_equipment],
        ingredients=await dishes.ingredients(db_session),
        error=error,
    )
