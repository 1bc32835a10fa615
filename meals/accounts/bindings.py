"""Family bindings with consent: a family member asks, the senior (or staff with the senior
present) consents, and either side can end it. Every step is kept (the request row, with who
consented and when) and written to the audit log; the family account's scope changes at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import Account, FamilyBinding, FamilyBindingRequest
from meals.accounts.service import Actor, ensure_role, hash_password
from meals.audit.service import record_change
from meals.db import begin_write
from meals.errors import Conflict, Forbidden, Invalid, NotFound
from meals.seniors.models import Senior
from meals.words import Role

PENDING, BOUND, DECLINED, ENDED = "pending", "bound", "declined", "ended"
CONSENT_SENIOR, CONSENT_STAFF = "senior", "staff"
DECIDERS = (Role.SENIOR, Role.SITE_STAFF, Role.ADMIN)


@dataclass(frozen=True)
class BindingRow:
    """A request or binding with the names a reader needs."""

    request: FamilyBindingRequest
    family_login: str
    family_name: str
    senior_name: str


async def _refresh_scope(session: AsyncSession, account_id: int) -> None:
    """Raise the family account's stamp so its remembered scope is read afresh at once."""
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(security_stamp=Account.security_stamp + 1)
    )


async def _senior_for(session: AsyncSession, actor: Actor, senior_id: int) -> Senior:
    senior = await session.get(Senior, senior_id)
    if senior is None or not actor.may_see_senior(senior.id, senior.home_site_id):
        raise NotFound("There is no senior {senior_id} that you can see.", senior_id=senior_id)
    return senior


def _audit(
    session: AsyncSession,
    actor: Actor,
    request: FamilyBindingRequest,
    action: str,
    at: datetime,
    senior: Senior,
    summary: str,
) -> None:
    record_change(
        session,
        actor,
        action=action,
        entity="family_binding",
        entity_id=request.id,
        at=at,
        after={
            "family_account_id": request.family_account_id,
            "senior_id": request.senior_id,
            "relation": request.relation,
            "status": request.status,
            "consent_by": request.consent_by,
        },
        site_id=senior.home_site_id,
        summary=summary,
    )


async def ask(
    session: AsyncSession, *, actor: Actor, senior_login: str, relation: str, now: datetime
) -> FamilyBindingRequest:
    """A family member asks to act for the senior with that phone or meal-card number.

    Nothing about the senior is shown to the asker until the senior consents."""
    ensure_role(actor, Role.FAMILY)
    await begin_write(session)
    senior = await session.scalar(
        select(Senior).where(
            or_(Senior.phone == senior_login, Senior.card_number == senior_login), Senior.active
        )
    )
    if senior is None:
        raise NotFound(
            "No senior has the phone or meal-card number {number}; please check it.",
            code="no_such_senior",
            number=senior_login,
        )
    await _refuse_duplicate(session, actor.account_id, senior.id)
    request = FamilyBindingRequest(
        family_account_id=actor.account_id,
        senior_id=senior.id,
        relation=relation,
        status=PENDING,
        requested_at=now,
    )
    session.add(request)
    await session.flush()
    _audit(session, actor, request, "ask", now, senior, f"{actor.display_name} → {senior.name}")
    await session.commit()
    return request


async def _refuse_duplicate(session: AsyncSession, account_id: int, senior_id: int) -> None:
    bound = await session.get(FamilyBinding, (account_id, senior_id))
    if bound is not None:
        raise Conflict("This family member is already bound to the senior.", code="already_bound")
    pending = await session.scalar(
        select(FamilyBindingRequest.id).where(
            FamilyBindingRequest.family_account_id == account_id,
            FamilyBindingRequest.senior_id == senior_id,
            FamilyBindingRequest.status == PENDING,
        )
    )
    if pending is not None:
        raise Conflict(
            "A request to bind to this senior is already waiting for consent.", code="pending"
        )


def _consent_by(actor: Actor, senior_present: bool) -> str:
    if actor.role is Role.SENIOR:
        return CONSENT_SENIOR
    if not senior_present:
        raise Invalid(
            "Staff confirm a binding only with the senior present and agreeing; tick that box "
            "once they have said yes.",
            code="senior_not_present",
        )
    return CONSENT_STAFF


async def decide(
    session: AsyncSession,
    *,
    actor: Actor,
    request_id: int,
    consent: bool,
    senior_present: bool = False,
    now: datetime,
) -> FamilyBindingRequest:
    """The senior (or staff with the senior present) consents to or declines a request."""
    ensure_role(actor, *DECIDERS)
    await begin_write(session)
    request = await session.get(FamilyBindingRequest, request_id)
    senior = await _senior_for(session, actor, request.senior_id) if request else None
    if request is None or senior is None:
        raise NotFound("There is no binding request {request_id}.", request_id=request_id)
    if request.status != PENDING:
        raise Conflict(
            "This request was already answered ({status}).", code="answered", status=request.status
        )
    request.decided_at = now
    request.decided_by_account_id = actor.account_id
    if consent:
        request.consent_by = _consent_by(actor, senior_present)
        request.status = BOUND
        session.add(
            FamilyBinding(
                account_id=request.family_account_id,
                senior_id=request.senior_id,
                relation=request.relation,
                consented_at=now,
            )
        )
        await _refresh_scope(session, request.family_account_id)
    else:
        request.status = DECLINED
    _audit(session, actor, request, "consent" if consent else "decline", now, senior, senior.name)
    await session.commit()
    return request


async def bind_at_counter(
    session: AsyncSession,
    *,
    actor: Actor,
    senior_id: int,
    relation: str,
    family_login: str,
    family_name: str | None,
    family_password: str | None,
    senior_present: bool,
    now: datetime,
) -> FamilyBindingRequest:
    """Staff (or the operator) bind a family member with the senior present and agreeing; the
    family member's login is made here if they have none yet."""
    ensure_role(actor, Role.SITE_STAFF, Role.ADMIN)
    consent_by = _consent_by(actor, senior_present)
    password_hash = (
        await asyncio.to_thread(hash_password, family_password) if family_password else None
    )
    await begin_write(session)
    senior = await _senior_for(session, actor, senior_id)
    family = await session.scalar(select(Account).where(Account.login == family_login))
    if family is None:
        if not (password_hash and family_name):
            raise Invalid(
                "There is no account {login}; give the family member's name and a password to "
                "make one.",
                code="no_family_account",
                login=family_login,
            )
        family = Account(
            login=family_login,
            display_name=family_name,
            role=Role.FAMILY,
            password_hash=password_hash,
        )
        session.add(family)
        await session.flush()
        record_change(
            session,
            actor,
            action="create",
            entity="account",
            entity_id=family.id,
            at=now,
            after={"login": family_login, "display_name": family_name, "role": "family"},
            summary=f"{family_name} ({family_login}, family)",
        )
    elif family.role is not Role.FAMILY or not family.active:
        raise Invalid(
            "The account {login} is not an active family member's account.",
            code="not_family",
            login=family_login,
        )
    await _refuse_duplicate(session, family.id, senior.id)
    request = FamilyBindingRequest(
        family_account_id=family.id,
        senior_id=senior.id,
        relation=relation,
        status=BOUND,
        requested_at=now,
        decided_at=now,
        consent_by=consent_by,
        decided_by_account_id=actor.account_id,
    )
    session.add(request)
    session.add(
        FamilyBinding(
            account_id=family.id, senior_id=senior.id, relation=relation, consented_at=now
        )
    )
    await session.flush()
    await _refresh_scope(session, family.id)
    _audit(
        session, actor, request, "consent", now, senior, f"{family.display_name} → {senior.name}"
    )
    await session.commit()
    return request


async def end(
    session: AsyncSession, *, actor: Actor, senior_id: int, family_account_id: int, now: datetime
) -> None:
    """Either side ends a binding (the family member, the senior, their staff, the operator);
    the family member can no longer act for the senior from the next request on."""
    await begin_write(session)
    if actor.role is Role.FAMILY and actor.account_id != family_account_id:
        raise Forbidden("You can end only your own bindings.", code="out_of_scope")
    if actor.role not in (Role.FAMILY, *DECIDERS):
        raise Forbidden("Your account ({role}) may not do this.", role=actor.role.value)
    senior = await session.get(Senior, senior_id)
    binding = await session.get(FamilyBinding, (family_account_id, senior_id))
    if (
        senior is None
        or binding is None
        or (
            actor.role is not Role.FAMILY
            and not actor.may_see_senior(senior.id, senior.home_site_id)
        )
    ):
        raise NotFound("There is no such binding that you can see.", code="no_binding")
    await session.execute(
        delete(FamilyBinding).where(
            FamilyBinding.account_id == family_account_id, FamilyBinding.senior_id == senior_id
        )
    )
    request = await session.scalar(
        select(FamilyBindingRequest)
        .where(
            FamilyBindingRequest.family_account_id == family_account_id,
            FamilyBindingRequest.senior_id == senior_id,
            FamilyBindingRequest.status == BOUND,
        )
        .order_by(FamilyBindingRequest.id.desc())
    )
    if request is None:  # a binding made before requests were kept (the demo's seed rows)
        request = FamilyBindingRequest(
            family_account_id=family_account_id,
            senior_id=senior_id,
            relation=binding.relation,
            status=BOUND,
            requested_at=binding.consented_at,
            decided_at=binding.consented_at,
        )
        session.add(request)
    request.status = ENDED
    request.ended_at = now
    request.ended_by_account_id = actor.account_id
    await session.flush()
    await _refresh_scope(session, family_account_id)
    _audit(session, actor, request, "end", now, senior, senior.name)
    await session.commit()


async def requests_for(
    session: AsyncSession,
    *,
    actor: Actor,
    status: str | None = PENDING,
    senior_id: int | None = None,
) -> list[BindingRow]:
    """Requests the actor may see: their own (family), for them (senior), at their sites
    (staff), or all (operator)."""
    family = Account.__table__.alias("family")
    query = (
        select(FamilyBindingRequest, family.c.login, family.c.display_name, Senior.name)
        .join(family, family.c.id == FamilyBindingRequest.family_account_id)
        .join(Senior, Senior.id == FamilyBindingRequest.senior_id)
        .order_by(FamilyBindingRequest.id.desc())
    )
    match actor.role:
        case Role.FAMILY:
            query = query.where(FamilyBindingRequest.family_account_id == actor.account_id)
        case Role.SENIOR:
            query = query.where(FamilyBindingRequest.senior_id == actor.senior_id)
        case Role.SITE_STAFF:
            query = query.where(Senior.home_site_id.in_(actor.site_ids))
        case Role.ADMIN:
            pass
        case _:
            raise Forbidden("Your account ({role}) may not see this.", role=actor.role.value)
    if status:
        query = query.where(FamilyBindingRequest.status == status)
    if senior_id is not None:
        query = query.where(FamilyBindingRequest.senior_id == senior_id)
    rows = await session.execute(query.limit(200))
    return [BindingRow(r, login, name, senior) for r, login, name, senior in rows]
