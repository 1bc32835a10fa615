"""Subsidy policy over the API and on the operator's page: funding sources, and versions of
the tiers with the day each starts (civil affairs may read them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.errors import DomainError, Invalid
from meals.pages.i18n import FEN_PER_YUAN, N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.subsidies import policy
from meals.subsidies.models import FundingSource, SubsidyPolicy
from meals.subsidies.service import policy_in_force
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
from meals.words import Category, Role

TEXT = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
Code = Annotated[str, msgspec.Meta(min_length=2, max_length=32, pattern=r"^[a-z0-9_]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=TEXT)]
Age = Annotated[int, msgspec.Meta(ge=0, le=policy.MAX_AGE)]
READERS = (Role.ADMIN, Role.VIEWER)
TIER_ROWS_EXTRA = 3


class SourceBody(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    name_en: Name


class SourceView(msgspec.Struct):
    id: int
    code: str
    name: str
    name_en: str

    @classmethod
    def of(cls, s: FundingSource) -> SourceView:
        return cls(s.id, s.code, s.name, s.name_en)


class TierBody(msgspec.Struct, forbid_unknown_fields=True):
    source: Code
    min_age: Age
    amount_fen: Annotated[int, msgspec.Meta(ge=0, le=policy.MAX_AMOUNT_FEN)]
    max_age: Age | None = None
    category: Annotated[str, msgspec.Meta(max_length=32)] | None = None

    def tier(self) -> policy.Tier:
        return policy.Tier(self.source, self.min_age, self.max_age, self.category, self.amount_fen)


class VersionBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    effective_from: date
    tiers: Annotated[list[TierBody], msgspec.Meta(min_length=1, max_length=200)]
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


class TierView(msgspec.Struct):
    source: str
    min_age: int
    max_age: int | None
    category: str | None
    amount_fen: int


class VersionView(msgspec.Struct):
    id: int
    name: str
    effective_from: date
    note: str
    created_at: datetime
    created_by: str
    tiers: list[TierView]

    @classmethod
    def of(cls, p: SubsidyPolicy, tiers: list[TierView] | None = None) -> VersionView:
        return cls(
            p.id,
            p.name,
            p.effective_from,
            p.note,
            p.created_at,
            p.created_by,
            tiers
            if tiers is not None
            else [
                TierView(t.source.code, t.min_age, t.max_age, t.category, t.amount_fen)
                for t in p.tiers
            ],
        )


class Withdrawn(msgspec.Struct):
    id: int
    withdrawn: bool = True


class SubsidyApi(Controller):
    path = "/api/v1/subsidies"
    tags = ["subsidy policy"]  # noqa: RUF012

    @get("/sources", guards=[allow(*READERS)], summary="Funding sources")
    async def sources(self, db_session: DbSession) -> list[SourceView]:
        return [SourceView.of(s) for s in await policy.list_sources(db_session)]

    @post(
        "/sources", guards=[allow(Role.ADMIN)], status_code=HTTP_201_CREATED, summary="Add a source"
    )
    async def add_source(
        self, db_session: DbSession, actor: CurrentActor, now: Now, data: JSONBody[SourceBody]
    ) -> SourceView:
        source = await policy.create_source(
            db_session, actor=actor, code=data.code, name=data.name, name_en=data.name_en, now=now
        )
        return SourceView.of(source)

    @get("/policies", guards=[allow(*READERS)], summary="Policy versions, newest start first")
    async def versions(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> OffsetPagination[VersionView]:
        page = await policy.list_versions(db_session, actor=actor, limit=limit, offset=offset)
        return OffsetPagination(
            items=[VersionView.of(p) for p in page.items],
            limit=page.limit,
            offset=page.offset,
            total=page.total,
        )

    @post(
        "/policies",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_201_CREATED,
        summary="A new policy version, from a day after today",
    )
    async def add_version(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        data: JSONBody[VersionBody],
    ) -> VersionView:
        tiers = [t.tier() for t in data.tiers]
        created = await policy.create_version(
            db_session,
            actor=actor,
            name=data.name.strip(),
            effective_from=data.effective_from,
            tiers=tiers,
            note=data.note,
            today=settings.district_today(now),
            now=now,
        )
        return VersionView.of(
            created,
            [
                TierView(t.source_code, t.min_age, t.max_age, t.category, t.amount_fen)
                for t in tiers
            ],
        )

    @post(
        "/policies/{policy_id:int}/withdraw",
        guards=[allow(Role.ADMIN)],
        status_code=HTTP_200_OK,
        summary="Withdraw a version that has not started",
    )
    async def withdraw(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        policy_id: PathId,
    ) -> Withdrawn:
        await policy.withdraw_version(
            db_session,
            actor=actor,
            policy_id=policy_id,
            today=settings.district_today(now),
            now=now,
        )
        return Withdrawn(id=policy_id)


class VersionForm(msgspec.Struct):
    name: Name
    effective_from: date
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


def _yuan_to_fen(text: str) -> int:
    try:
        value = Decimal(text.strip()) * FEN_PER_YUAN
    except InvalidOperation:
        raise Invalid(
            "{amount} is not an amount in yuan (e.g. 3.50).", code="bad_amount", amount=text
        ) from None
    if value != value.to_integral_value():
        raise Invalid("{amount} has more than two decimals.", code="bad_amount", amount=text)
    return int(value)


def _age(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise Invalid("{age} is not an age in years.", code="bad_age_band", age=text)
    return int(text)


async def tier_rows(request: Request) -> list[policy.Tier]:
    """The tier table of the form: one row per index, blank rows skipped."""
    form = await request.form()
    columns = [form.getall(name, []) for name in TIER_FIELDS]
    tiers = []
    for source, low, high, category, amount in zip(*columns, strict=False):
        if not str(amount).strip():
            continue
        min_age = _age(str(low))
        tiers.append(
            policy.Tier(
                str(source),
                min_age if min_age is not None else 0,
                _age(str(high)),
                str(category) or None,
                _yuan_to_fen(str(amount)),
            )
        )
    return tiers


TIER_FIELDS = ("source", "min_age", "max_age", "category", "amount")


def _row_text(tier: policy.Tier) -> dict[str, str]:
    """A tier as the form's text fields (the form shows typed text, kept after a refusal)."""
    return {
        "source": tier.source_code,
        "min_age": str(tier.min_age),
        "max_age": "" if tier.max_age is None else str(tier.max_age),
        "category": tier.category or "",
        "amount": f"{tier.amount_fen / FEN_PER_YUAN:.2f}",
    }


async def _typed(request: Request) -> dict[str, object]:
    """What the operator typed into the new-version form, to show it again."""
    form = await request.form()
    columns = [[str(v)[:40] for v in form.getall(name, [])] for name in TIER_FIELDS]
    rows = [dict(zip(TIER_FIELDS, row, strict=False)) for row in zip(*columns, strict=False)]
    fields = {name: str(form.get(name) or "")[:300] for name in ("name", "effective_from", "note")}
    return {**fields, "rows": rows[:100]}


async def _policy_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    today: date,
    *,
    refusal: DomainError | None = None,
    typed: dict[str, object] | None = None,
) -> Template:
    page = await policy.list_versions(session, actor=actor, limit=100)
    if typed is None:
        rows = [_row_text(t) for t in await policy.tiers_in_force(session, today)]
        typed = {"rows": rows + [None] * TIER_ROWS_EXTRA}
    return render(
        request,
        "console/subsidies.html",
        status_code=refusal.status_code if refusal else 200,
        versions=page.items,
        in_force=await policy_in_force(session, today),
        today=today,
        sources=await policy.list_sources(session),
        typed=typed,
        rows=typed["rows"],
        error=language_of(request).error(refusal) if refusal else None,
        categories=[c.value for c in Category],
    )


class SubsidyPages(Controller):
    path = "/console/subsidies"
    include_in_schema = False

    @get("/", guards=[allow(*READERS)], summary="The policy's versions and a form for the next")
    async def index(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
    ) -> Template:
        return await _policy_page(request, db_session, actor, settings.district_today(now))

    @post("/", guards=[allow(Role.ADMIN)], summary="Add a policy version")
    async def add(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
    ) -> Response:
        today = settings.district_today(now)
        try:
            form = await read_form(request, VersionForm, lists=TIER_FIELDS)
            await policy.create_version(
                db_session,
                actor=actor,
                name=form.name,
                effective_from=form.effective_from,
                tiers=await tier_rows(request),
                note=form.note,
                today=today,
                now=now,
            )
        except DomainError as refusal:  # shown in the form, with what was typed kept
            await db_session.rollback()
            return await _policy_page(
                request, db_session, actor, today, refusal=refusal, typed=await _typed(request)
            )
        flash(
            request,
            language_of(request).gettext(
                "The new policy version starts on {day}; bookings made before then keep "
                "their price.",
                day=str(form.effective_from),
            ),
        )
        return see_other("/console/subsidies")

    @post("/sources", guards=[allow(Role.ADMIN)], summary="Add a funding source")
    async def add_source(
        self, request: Request, db_session: DbSession, actor: CurrentActor, now: Now
    ) -> Redirect:
        form = await read_form(request, SourceBody)
        source = await policy.create_source(
            db_session, actor=actor, code=form.code, name=form.name, name_en=form.name_en, now=now
        )
        flash(request, language_of(request).gettext("{name} is added.", name=source.name))
        return see_other("/console/subsidies#new")

    @post("/{policy_id:int}/withdraw", guards=[allow(Role.ADMIN)], summary="Withdraw a version")
    async def withdraw(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
        now: Now,
        policy_id: PathId,
    ) -> Redirect:
        await policy.withdraw_version(
            db_session,
            actor=actor,
            policy_id=policy_id,
            today=settings.district_today(now),
            now=now,
        )
        flash(request, language_of(request).gettext(N_("The policy version is withdrawn.")))
        return see_other("/console/subsidies")
