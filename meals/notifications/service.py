"""Telling a senior's family: notices other areas raise, the banner, and sending them.

`notify_family` adds a notice for every family member bound to the senior, in the caller's
transaction (so a notice exists exactly when what it tells of was saved). After that
transaction commits, the worker's notifier makes one send per push subscription and one to the
family webhook (an SMS gateway), and tries each until it gets through, with back-off; the sends
are rows, so a restart picks up where it stopped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

import httpx
from anyio import to_thread
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from meals.accounts.models import Account, FamilyBinding
from meals.accounts.service import Actor
from meals.db import begin_write
from meals.errors import Invalid, NotFound
from meals.notifications.models import FamilyNotice, NoticeSend, PushSubscription
from meals.pages import labels
from meals.pages.i18n import N_, Language
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.words import Role

logger = logging.getLogger("warmmeal.notifications")

PUSH = "push"
WEBHOOK = "webhook"
ERROR_TEXT_MAX = 255
PUSH_TTL_SECONDS = 24 * 3600
GONE_STATUSES = frozenset({404, 410})  # the browser dropped the subscription
PENDING_KEY = "family_notices_pending"
BATCH = 100


class NoticeKind(StrEnum):
    FAILED_DELIVERY = "failed_delivery"
    WELFARE_ALERT = "welfare_alert"
    MEAL_CANCELLED = "meal_cancelled"
    BOOKED_FOR_SENIOR = "booked_for_senior"
    MEAL_MOVED = "meal_moved"


# Reasons other areas may give for a cancelled meal (translated where shown).
CANCEL_REASONS = (N_("The menu was changed"), N_("The site is closed that day"))
TITLES = {
    NoticeKind.FAILED_DELIVERY: N_("A meal could not be delivered"),
    NoticeKind.WELFARE_ALERT: N_("Welfare alert"),
    NoticeKind.MEAL_CANCELLED: N_("A meal was cancelled"),
    NoticeKind.BOOKED_FOR_SENIOR: N_("A meal was booked"),
    NoticeKind.MEAL_MOVED: N_("A booked set meal was changed"),
}
TEXTS = {
    NoticeKind.FAILED_DELIVERY: N_(
        "{senior}'s {slot} on {day} could not be delivered ({reason}). Please check on them."
    ),
    NoticeKind.WELFARE_ALERT: N_(
        "Welfare alert for {senior}: the meal on {day} could not be handed over ({reason}). "
        "The meal point has been told and will check on them."
    ),
    NoticeKind.MEAL_CANCELLED: N_("{senior}'s {slot} on {day} was cancelled: {reason}."),
    NoticeKind.BOOKED_FOR_SENIOR: N_("{who} booked {slot} on {day} for {senior}: {meal}."),
    NoticeKind.MEAL_MOVED: N_(
        "{senior}'s {slot} on {day} is now {meal}: {reason}. The price stays as booked."
    ),
}


async def notify_family(
    session: AsyncSession,
    senior_id: int,
    kind: NoticeKind | str,
    *,
    now: datetime,
    params: dict[str, Any] | None = None,
    except_account_id: int | None = None,
) -> list[FamilyNotice]:
    """Tell every family member bound to the senior (but `except_account_id`, who did it).

    Call it inside the transaction of what happened; the caller commits. `params` may hold
    `day` (ISO date), `slot`, `reason` (a failure reason or a plain sentence), `meal`, `who`.
    Sends go out after the commit.
    """
    kind = NoticeKind(kind)
    senior = await session.get(Senior, senior_id)
    if senior is None:
        raise NotFound("There is no senior {senior_id}.", senior_id=senior_id)
    accounts = await session.scalars(
        select(FamilyBinding.account_id)
        .join(Account, Account.id == FamilyBinding.account_id)
        .where(FamilyBinding.senior_id == senior_id, Account.active)
    )
    notices = []
    for account_id in accounts:
        if account_id == except_account_id:
            continue
        notice = FamilyNotice(
            account_id=account_id,
            senior_id=senior_id,
            kind=kind.value,
            params={"senior": senior.name, **(params or {})},
            created_at=now,
            read_at=None,
            dispatched=False,
        )
        session.add(notice)
        notices.append(notice)
    if notices:
        session.sync_session.info[PENDING_KEY] = True
    return notices


def notice_title(language: Language, notice: FamilyNotice) -> str:
    return language.gettext(TITLES[NoticeKind(notice.kind)])


def notice_text(language: Language, notice: FamilyNotice) -> str:
    """The notice as a sentence in `language`; dates, meals and reasons in its words."""
    params = dict(notice.params)
    shown: dict[str, str] = {key: str(value) for key, value in params.items()}
    if "day" in params:
        shown["day"] = language.day(date.fromisoformat(params["day"]))
    if "slot" in params:
        shown["slot"] = language.gettext(params["slot"])  # "lunch" / "午餐", inside a sentence
    if "reason" in params:
        reason = labels.FAILURE_REASON.get(params["reason"], params["reason"])
        shown["reason"] = language.gettext(reason)
    if "meal" in params and "meal_en" in params:
        shown["meal"] = language.pick(params["meal"], params["meal_en"])
    if "who" in params:
        shown["who"] = language.gettext(labels.BOOKED_BY_WHO.get(params["who"], params["who"]))
    for key in TEXTS[NoticeKind(notice.kind)].replace("}", "{").split("{")[1::2]:
        shown.setdefault(key, "")
    return language.gettext(TEXTS[NoticeKind(notice.kind)], **shown)


@dataclass(frozen=True)
class ShownNotice:
    notice: FamilyNotice
    title: str
    text: str


def shown_notices(language: Language, notices: list[FamilyNotice]) -> list[ShownNotice]:
    return [ShownNotice(n, notice_title(language, n), notice_text(language, n)) for n in notices]


async def unread_notices(session: AsyncSession, *, actor: Actor) -> list[FamilyNotice]:
    """A family member's notices not yet read, newest first: the page's banners."""
    if actor.role is not Role.FAMILY:
        return []
    return list(
        await session.scalars(
            select(FamilyNotice)
            .where(FamilyNotice.account_id == actor.account_id, FamilyNotice.read_at.is_(None))
            .order_by(FamilyNotice.created_at.desc(), FamilyNotice.id.desc())
        )
    )


async def mark_read(session: AsyncSession, *, actor: Actor, notice_id: int, now: datetime) -> None:
    await begin_write(session)
    result = await session.execute(
        update(FamilyNotice)
        .where(FamilyNotice.id == notice_id, FamilyNotice.account_id == actor.account_id)
        .values(read_at=now)
    )
    if result.rowcount == 0:
        raise NotFound("There is no notice {notice_id} for you.", notice_id=notice_id)
    await session.commit()


# Web Push -------------------------------------------------------------------------------


def vapid_key(settings: Settings) -> Vapid02:
    """The service's VAPID key pair, made once into var/ (kept across restarts and workers)."""
    path = settings.vapid_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = Vapid02()
        fresh.generate_keys()
        partial_path = path.with_suffix(".tmp")
        fresh.save_key(str(partial_path))
        partial_path.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            partial_path.rename(path)
    return Vapid02.from_file(str(path))


def vapid_public_key(settings: Settings) -> str:
    """The public key browsers subscribe with (applicationServerKey), base64url."""
    raw = vapid_key(settings).public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def subscribe(
    session: AsyncSession, *, actor: Actor, endpoint: str, p256dh: str, auth: str, now: datetime
) -> PushSubscription:
    """Remember a browser's push subscription for this family member (one row per endpoint)."""
    if not endpoint.startswith(("https://", "http://")) or not p256dh or not auth:
        raise Invalid("This browser's push subscription is not complete; please try again.")
    await begin_write(session)
    existing = await session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    if existing is None:
        existing = PushSubscription(endpoint=endpoint, created_at=now)
        session.add(existing)
    existing.account_id = actor.account_id
    existing.p256dh = p256dh
    existing.auth = auth
    await session.commit()
    return existing


# Sending after commit ---------------------------------------------------------------------


class Notifier:
    """Sends notices for one worker: woken when a transaction with notices commits, and every
    `notify_poll_seconds` for sends that are due again or were left by a restart."""

    running: ClassVar[weakref.WeakSet[Notifier]] = weakref.WeakSet()

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run())
        Notifier.running.add(self)

    async def stop(self) -> None:
        Notifier.running.discard(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.notify_poll_seconds)
            self._wake.clear()
            try:
                again = await send_due(self.sessions, self.settings, self.clock)
            except Exception:  # keep the loop alive; the sends stay due and are retried
                logger.exception("sending family notices failed")
                again = self.settings.notify_backoff_seconds
            if again is not None:
                self._wake_later(again)

    def _wake_later(self, seconds: float) -> None:
        asyncio.get_running_loop().call_later(max(seconds, 0.05), self._wake.set)


@event.listens_for(Session, "after_commit")
def _wake_notifiers(session: Session) -> None:
    """A transaction that added notices has committed: their sends may start now."""
    if session.info.pop(PENDING_KEY, False):
        for notifier in list(Notifier.running):
            notifier.wake()


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


async def _dispatch(session: AsyncSession, settings: Settings, now: datetime) -> None:
    """Turn notices not yet dispatched into one send per channel (claimed once across workers)."""
    ids = list(
        await session.scalars(
            select(FamilyNotice.id).where(FamilyNotice.dispatched.is_(False)).limit(BATCH)
        )
    )
    for notice_id in ids:
        await begin_write(session)
        claimed = await session.execute(
            update(FamilyNotice)
            .where(FamilyNotice.id == notice_id, FamilyNotice.dispatched.is_(False))
            .values(dispatched=True)
        )
        if claimed.rowcount:
            notice = await session.get(FamilyNotice, notice_id)
            subscriptions = await session.scalars(
                select(PushSubscription.id).where(PushSubscription.account_id == notice.account_id)
            )
            for subscription_id in subscriptions:
                session.add(_send(notice_id, PUSH, now, subscription_id))
            if settings.family_webhook_url:
                session.add(_send(notice_id, WEBHOOK, now))
        await session.commit()


def _send(notice_id: int, channel: str, now: datetime, subscription_id: int | None = None):
    return NoticeSend(
        notice_id=notice_id,
        channel=channel,
        subscription_id=subscription_id,
        attempts=0,
        next_attempt_at=now,
        gave_up=False,
    )


async def send_due(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Callable[[], datetime],
) -> float | None:
    """Make and try every send that is due; returns seconds until the next retry, if any."""
    now = clock()
    async with sessions() as session:
        await _dispatch(session, settings, now)
        due = list(
            await session.scalars(
                select(NoticeSend.id)
                .where(
                    NoticeSend.sent_at.is_(None),
                    NoticeSend.gave_up.is_(False),
                    NoticeSend.next_attempt_at <= now,
                )
                .order_by(NoticeSend.id)
                .limit(BATCH)
            )
        )
        await session.commit()
    for send_id in due:
        await _try_send(sessions, settings, clock, send_id)
    async with sessions() as session:
        upcoming = await session.scalar(
            select(NoticeSend.next_attempt_at)
            .where(NoticeSend.sent_at.is_(None), NoticeSend.gave_up.is_(False))
            .order_by(NoticeSend.next_attempt_at)
            .limit(1)
        )
    if upcoming is None:
        return None
    return max((upcoming - clock()).total_seconds(), 0.0)


async def _try_send(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Callable[[], datetime],
    send_id: int,
) -> None:
    lease = timedelta(seconds=settings.notify_timeout_seconds * 2)
    async with sessions() as session:
        await begin_write(session)
        now = clock()
        claimed = await session.execute(
            update(NoticeSend)
            .where(
                NoticeSend.id == send_id,
                NoticeSend.sent_at.is_(None),
                NoticeSend.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + lease, attempts=NoticeSend.attempts + 1)
        )
        await session.commit()
        if not claimed.rowcount:
            return  # another worker has it
        send = await session.get(NoticeSend, send_id)
        notice = await session.get(FamilyNotice, send.notice_id)
        account = await session.get(Account, notice.account_id)
        subscription = (
            await session.get(PushSubscription, send.subscription_id)
            if send.subscription_id
            else None
        )
        language = Language(account.locale if account.locale in ("zh_CN", "en") else "zh_CN")
        title, text = notice_title(language, notice), notice_text(language, notice)
        error, gone = None, False
        try:
            if send.channel == PUSH and subscription is not None:
                await _push(settings, subscription, notice, title, text)
            elif send.channel == WEBHOOK and settings.family_webhook_url:
                await _webhook(settings, send, notice, account, text)
        except WebPushGone as exc:
            error, gone = f"gone: {exc}"[:ERROR_TEXT_MAX], True
        except (httpx.HTTPError, WebPushException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_MAX]
        await begin_write(session)
        send.last_error = error
        if error is None:
            send.sent_at = clock()
        elif gone:
            send.gave_up = True
            await session.delete(subscription)
        elif send.attempts >= settings.notify_attempts:
            send.gave_up = True
        else:
            backoff = settings.notify_backoff_seconds * 2 ** (send.attempts - 1)
            send.next_attempt_at = clock() + timedelta(seconds=backoff)
        await session.commit()


async def _push(
    settings: Settings, subscription: PushSubscription, notice: FamilyNotice, title: str, text: str
) -> None:
    """Send one Web Push message (encrypted for the browser, signed with the VAPID key)."""
    payload = json.dumps(
        {"title": title, "body": text, "url": "/family", "notice_id": notice.id},
        ensure_ascii=False,
    )
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    key = vapid_key(settings)

    def send() -> None:
        webpush(
            info,
            data=payload,
            vapid_private_key=key,
            vapid_claims={"sub": settings.vapid_subject},
            ttl=PUSH_TTL_SECONDS,
            timeout=settings.notify_timeout_seconds,
        )

    try:
        await to_thread.run_sync(send)
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in GONE_STATUSES:
            raise WebPushGone(str(exc)) from exc
        raise


class WebPushGone(WebPushException):
    """The push service no longer knows this subscription."""


async def _webhook(
    settings: Settings, send: NoticeSend, notice: FamilyNotice, account: Account, text: str
) -> None:
    body = {
        "event": "family_notice",
        "notice_id": notice.id,
        "kind": notice.kind,
        "account": {"id": account.id, "login": account.login, "name": account.display_name},
        "senior_id": notice.senior_id,
        "text": text,
        "params": notice.params,
        "created_at": notice.created_at.isoformat(),
    }
    async with httpx.AsyncClient(timeout=settings.notify_timeout_seconds) as client:
        response = await client.post(
            settings.family_webhook_url,
            json=body,
            headers={"Idempotency-Key": f"family-notice-{notice.id}"},
        )
        response.raise_for_status()


@dataclass(frozen=True)
class SeniorMeals:
    senior: Senior
    meals: list[tuple[Any, Any]]  # (Booking, MenuItem), in day and serving order


async def coming_meals(session: AsyncSession, *, actor: Actor, today: date) -> list[SeniorMeals]:
    """Every bound senior's booked meals from today on, for the family's one page."""
    from meals.bookings.models import Booking
    from meals.bookings.page_views import failed_deliveries
    from meals.menus.models import MenuItem
    from meals.sites.models import SiteSlot
    from meals.words import BookingStatus

    seniors = list(
        await session.scalars(
            select(Senior).where(Senior.id.in_(actor.senior_ids)).order_by(Senior.name)
        )
    )
    rows = (
        await session.execute(
            select(Booking, MenuItem, SiteSlot.serve_start)
            .join(MenuItem, MenuItem.id == Booking.menu_item_id)
            .join(SiteSlot, (SiteSlot.site_id == Booking.site_id) & (SiteSlot.slot == Booking.slot))
            .where(
                Booking.senior_id.in_(actor.senior_ids),
                Booking.service_date >= today,
                Booking.status == BookingStatus.BOOKED,
            )
            .order_by(Booking.service_date, SiteSlot.serve_start, Booking.id)
        )
    ).all()
    failed = await failed_deliveries(session, [s.id for s in seniors])
    by_senior: dict[int, list[tuple[Any, Any]]] = {s.id: [] for s in seniors}
    for booking, item, _start in rows:
        if booking.id not in failed:  # told in a banner, no longer coming
            by_senior[booking.senior_id].append((booking, item))
    return [SeniorMeals(s, by_senior[s.id]) for s in seniors]
